import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseDuration } from '../../src/cli/collector.js';
import { enroll } from '../../src/collector/auth.js';
import { openStore } from '../../src/collector/store/index.js';
import { repoRoot, tempDir } from '../helpers.js';

/*
 * `outpost collector`: token create prints the token and nothing else on stdout (scripts
 * capture it), sensor list and revoke, and the server starts, says where, and stops on SIGTERM.
 * The lead wires the command into main.ts; until then runCollector is driven in a child node.
 */

const cliModule = join(repoRoot, 'dist', 'src', 'cli', 'collector.js');

function collector(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const script = `import(${JSON.stringify(cliModule)}).then(async (m) => { process.exitCode = await m.runCollector(${JSON.stringify(args)}); });`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('token create prints only the token, and the token enrols once', async (t) => {
  const data = tempDir(t);
  const r = collector(['token', 'create', '--data', data, '--expires', '30m', '--uses', '1']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^[A-Za-z0-9_-]{43}\n$/, 'stdout is the token and a newline');
  const store = await openStore({ data });
  t.after(() => store.close());
  const first = await enroll(store, { token: r.stdout.trim(), name: 'cli' });
  assert.ok(!('status' in first), JSON.stringify(first));
  const second = await enroll(store, { token: r.stdout.trim() });
  assert.ok('status' in second && second.error === 'bad_token');
});

test('sensor list and revoke', async (t) => {
  const data = tempDir(t);
  const token = collector(['token', 'create', '--data', data, '--uses', '2']).stdout.trim();
  const store = await openStore({ data });
  const a = await enroll(store, { token, name: 'alpha' });
  await store.close();
  assert.ok(!('status' in a));
  const list = collector(['sensor', 'list', '--data', data, '--json']);
  assert.equal(list.status, 0, list.stderr);
  const sensors = JSON.parse(list.stdout) as Array<{ id: string; name: string; revoked: string | null }>;
  assert.deepEqual(sensors.map((s) => [s.id, s.name, s.revoked]), [[a.sensor_id, 'alpha', null]]);
  const revoke = collector(['sensor', 'revoke', a.sensor_id, '--data', data]);
  assert.equal(revoke.status, 0, revoke.stderr);
  assert.equal(revoke.stdout, '');
  const after = JSON.parse(collector(['sensor', 'list', '--data', data, '--json']).stdout) as Array<{ revoked: string | null }>;
  assert.equal(typeof after[0]!.revoked, 'string');
  const table = collector(['sensor', 'list', '--data', data]);
  assert.match(table.stdout, /^ID\s+NAME\s+LAST SEEN\s+ACKED\s+VERSION\s+REVOKED\n/);
  assert.equal(collector(['sensor', 'revoke', 's-nosuchsens', '--data', data]).status, 1);
});

test('usage mistakes are refused', () => {
  assert.throws(() => parseDuration('soon'), /duration/);
  assert.equal(parseDuration('7d'), 7 * 86_400_000);
  assert.equal(parseDuration('never'), null);
  const r = collector(['token', 'create', '--uses', '0', '--data', '/nonexistent']);
  assert.notEqual(r.status, 0);
});

test('the server starts on --listen, prints its URL and CA fingerprint, and stops on SIGTERM', async (t) => {
  const data = tempDir(t);
  const script = `import(${JSON.stringify(cliModule)}).then(async (m) => { process.exitCode = await m.runCollector(['--data', ${JSON.stringify(data)}, '--listen', '127.0.0.1:0']); });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/fingerprint: [0-9a-f]{64}/.test(stderr)) resolve();
    });
    child.on('exit', () => reject(new Error(`exited early: ${stderr}`)));
  });
  assert.match(stderr, /collector listening on https:\/\/127\.0\.0\.1:\d+\n/);
  const code = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  child.kill('SIGTERM');
  assert.equal(await code, 0, stderr);
  assert.equal(stdout, '');
});
