import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { API } from '../../src/api/contract.js';
import { createToken } from '../../src/collector/auth.js';
import { collectorOptions, startCollector } from '../../src/collector/server.js';
import { openStore } from '../../src/collector/store/index.js';
import { defaultConfig } from '../../src/config/config.js';
import { enroll, fingerprintOf, readCredentials, writeCredentials } from '../../src/sensor/enroll.js';
import { outpostBin, tempDir } from '../helpers.js';
import { makePki, testPki, type TestPki } from './fake-collector.js';

const run = promisify(execFile);

/** A stand-in collector answering POST /api/v1/enroll as the contract says, with `replyCa` as the CA it names. */
async function fakeEnroller(t: TestContext, pki: TestPki, o: { replyCa?: string; serveChain?: boolean } = {}): Promise<{ url: string; requests: Array<{ token: string; name?: string }> }> {
  const requests: Array<{ token: string; name?: string }> = [];
  const server: Server = createServer({ cert: o.serveChain === true ? `${pki.cert.trim()}\n${pki.ca}` : pki.cert, key: pki.key }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const parsed = JSON.parse(body) as { token: string; name?: string };
      requests.push(parsed);
      if (req.method !== 'POST' || req.url !== API.enroll || parsed.token !== 'good-token') {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'unauthenticated', reason: 'unknown or used token' }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sensor_id: 's-abcdefghij', secret: 'ab'.repeat(32), ca: o.replyCa ?? pki.ca }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const a = server.address();
  return { url: `https://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`, requests };
}

test('trust on first use: enrols, returns the CA fingerprint, and the credentials pin that CA', async (t) => {
  const pki = await testPki();
  const fake = await fakeEnroller(t, pki);
  const r = await enroll({ collector: fake.url, token: 'good-token', name: 'edge-1', caFingerprint: null });
  assert.equal(r.trust, 'first-use');
  assert.equal(r.fingerprint, fingerprintOf(new X509Certificate(pki.ca)));
  assert.deepEqual(r.credentials, { collector: fake.url, sensor_id: 's-abcdefghij', secret: 'ab'.repeat(32), ca: pki.ca, name: 'edge-1' });
  assert.deepEqual(fake.requests, [{ token: 'good-token', name: 'edge-1' }]);
});

test('--ca-fingerprint is checked before the token is sent when the CA is served, after when it is not', async (t) => {
  const pki = await testPki();
  const fp = fingerprintOf(new X509Certificate(pki.ca));
  const colons = fp.toUpperCase().match(/../g)!.join(':');

  const chain = await fakeEnroller(t, pki, { serveChain: true });
  assert.equal((await enroll({ collector: chain.url, token: 'good-token', name: 'a', caFingerprint: colons })).trust, 'fingerprint-before');
  // A wrong fingerprint against a served CA: refused, and the token never left.
  await assert.rejects(enroll({ collector: chain.url, token: 'good-token', name: 'a', caFingerprint: 'ff'.repeat(32) }), /not the collector you named.*token was not sent/);
  assert.equal(chain.requests.length, 1);

  const leafOnly = await fakeEnroller(t, pki);
  assert.equal((await enroll({ collector: leafOnly.url, token: 'good-token', name: 'a', caFingerprint: fp })).trust, 'fingerprint-after');
  await assert.rejects(enroll({ collector: leafOnly.url, token: 'good-token', name: 'a', caFingerprint: 'ee'.repeat(32) }), /not e{64}: refusing to pin it/);
  await assert.rejects(enroll({ collector: leafOnly.url, token: 'good-token', name: 'a', caFingerprint: 'xyz' }), /not a SHA-256 fingerprint/);
});

test('a reply naming a CA that did not sign the served certificate is refused', async (t) => {
  const pki = await testPki();
  const other = await makePki();
  const fake = await fakeEnroller(t, pki, { replyCa: other.ca });
  await assert.rejects(enroll({ collector: fake.url, token: 'good-token', name: 'a', caFingerprint: null }), /did not sign the certificate it serves/);
  const refused = await fakeEnroller(t, pki);
  await assert.rejects(enroll({ collector: refused.url, token: 'bad', name: 'a', caFingerprint: null }), /refused the enrolment \(HTTP 401, unauthenticated: unknown or used token\)/);
  await assert.rejects(enroll({ collector: 'http://127.0.0.1:1', token: 'x', name: 'a', caFingerprint: null }), /must be https/);
});

test('credentials are written 0600 in a new directory, and not replaced without force', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'deep', 'er', 'creds.json');
  const creds = { collector: 'https://127.0.0.1:8443', sensor_id: 's-1', secret: 'ab'.repeat(32), ca: 'PEM', name: 'n' };
  writeCredentials(path, creds, false);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(statSync(join(dir, 'deep', 'er')).mode & 0o777, 0o700);
  assert.deepEqual(readCredentials(path), creds);
  assert.throws(() => writeCredentials(path, { ...creds, sensor_id: 's-2' }, false), /exists.*--force/);
  writeCredentials(path, { ...creds, sensor_id: 's-2' }, true);
  assert.equal(readCredentials(path)!.sensor_id, 's-2');
  assert.equal(readCredentials(join(dir, 'none.json')), null);
  writeFileSync(join(dir, 'bad.json'), '{"collector":"x"}');
  assert.throws(() => readCredentials(join(dir, 'bad.json')), /lack "sensor_id"/);
});

test('outpost sensor enroll against the real collector, then ships to it', async (t) => {
  const dir = tempDir(t);
  const store = await openStore({ data: dir, database: null });
  t.after(() => store.close());
  const config = defaultConfig(dir);
  const collector = await startCollector({ ...collectorOptions({ ...config.collector, data: dir, listen: '127.0.0.1:0' }, store), log: () => undefined });
  t.after(() => collector.close());
  const token = await createToken(store, { expires: Date.now() + 600_000, uses: 1 });
  const creds = join(dir, 'sensor', 'creds.json');
  const { stderr } = await run(process.execPath, [outpostBin, 'sensor', 'enroll', '--collector', collector.url, '--token', token, '--name', 'e2e', '--credentials', creds, '--ca-fingerprint', collector.caFingerprint]);
  assert.match(stderr, /matches/);
  assert.match(stderr, /enrolled as s-/);
  assert.equal(statSync(creds).mode & 0o777, 0o600);
  const c = readCredentials(creds)!;
  assert.equal(c.ca, collector.caPem);
  // The token was for one use: a second enrolment is refused, and the existing file is kept either way.
  const again = await run(process.execPath, [outpostBin, 'sensor', 'enroll', '--collector', collector.url, '--token', token, '--credentials', creds]).catch((e: { code: number; stderr: string }) => e);
  assert.equal((again as { code: number }).code, 3);
  assert.match((again as { stderr: string }).stderr, /exists.*--force/);
  assert.ok(existsSync(creds));

  // A sensor run with those credentials ships its records; the collector stores them under its id.
  const yaml = join(dir, 'sensor.yaml');
  const capture = join(dir, 'demo.pcap');
  const { writeDemoCapture } = await import('../../src/synth/demo.js');
  writeDemoCapture(capture);
  writeFileSync(yaml, `sensor:\n  credentials: ${creds}\n  workers: 2\n  healthz: 'off'\n  spool: {dir: ${join(dir, 'spool')}}\n  eve: {path: ${join(dir, 'eve.json')}}\n`);
  const sensorRun = await run(process.execPath, [outpostBin, 'sensor', '--config', yaml, '--read', capture]);
  assert.match(sensorRun.stderr, new RegExp(`sensor running: 2 workers, inputs 1 file, 0 rules, shipping to ${collector.url.replace(/[.]/g, '\\.')} as ${c.sensor_id}`));
  const eve = readFileSync(join(dir, 'eve.json'), 'utf8').trim().split('\n');
  const counts = await store.counts();
  assert.equal(counts.events, eve.length);
});
