import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { listenAddress } from '../../src/cli/honeypot.js';
import { pctExploitFixture } from '../../src/synth/pct.js';
import { outpostBin, tempDir } from '../helpers.js';

test('outpost honeypot: the exploit fixture sent to its PCT service comes out as an exploit-attempt record; SIGTERM stops it cleanly', async (t) => {
  const child = spawn(process.execPath, [outpostBin, 'honeypot', '--pct', '127.0.0.1:0', '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening" line: ${stderr}`)), 10_000);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      // Both lines, which may come in separate writes.
      const m = /pct listening on 127\.0\.0\.1:(\d+)/.exec(stderr);
      if (m !== null && /listener listening on/.test(stderr)) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
  assert.match(stderr, /listener listening on 127\.0\.0\.1:\d+/);
  const reply = await new Promise<Buffer>((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(pctExploitFixture()));
    const got: Buffer[] = [];
    const timer = setTimeout(() => s.destroy(), 2_000);
    s.on('data', (d) => {
      got.push(d);
      clearTimeout(timer);
      s.end();
    });
    s.on('close', () => resolve(Buffer.concat(got)));
    s.on('error', reject);
  });
  assert.equal(reply[2], 0x02, 'a PCT SERVER_HELLO');
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise((r) => setTimeout(r, 300));
  child.kill('SIGTERM');
  assert.equal(await exit, 0);
  const events = stdout.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { event_type: string; honeypot: { service: string; pct?: { classification?: string }; sha256: string } });
  const pct = events.filter((e) => e.event_type === 'honeypot' && e.honeypot.service === 'pct');
  assert.equal(pct.length, 1, stdout);
  assert.equal(pct[0]!.honeypot.pct?.classification, 'exploit_attempt');
  assert.match(pct[0]!.honeypot.sha256, /^[0-9a-f]{64}$/);
});

test('listen addresses: HOST:PORT, [v6]:PORT, a bare port; anything else is a usage error', () => {
  assert.deepEqual(listenAddress('127.0.0.1:443'), { host: '127.0.0.1', port: 443 });
  assert.deepEqual(listenAddress('[::1]:8443'), { host: '::1', port: 8443 });
  assert.deepEqual(listenAddress('2222'), { host: '0.0.0.0', port: 2222 });
  assert.throws(() => listenAddress('localhost'), /not HOST:PORT/);
  assert.throws(() => listenAddress('1.2.3.4:70000'), /0 to 65535/);
});

test('outpost honeypot --config: the listeners and "pct: off" come from the file', async (t) => {
  const dir = tempDir(t);
  const config = join(dir, 'hp.yaml');
  writeFileSync(config, 'honeypot:\n  pct: off\n  listen: ["127.0.0.1:0"]\n');
  const child = spawn(process.execPath, [outpostBin, 'honeypot', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening" line: ${stderr}`)), 10_000);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /listener listening on 127\.0\.0\.1:(\d+)/.exec(stderr);
      if (m !== null) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
  assert.doesNotMatch(stderr, /pct listening/);
  await new Promise<void>((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.end('hello'));
    s.on('close', () => resolve());
    s.on('error', reject);
  });
  await new Promise((r) => setTimeout(r, 300));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  assert.equal(await exit, 0);
  const ev = JSON.parse(stdout.trim().split('\n')[0]!) as { honeypot: { service: string; first_bytes: string } };
  assert.deepEqual([ev.honeypot.service, ev.honeypot.first_bytes], ['listener', Buffer.from('hello').toString('hex')]);
});
