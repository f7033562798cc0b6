import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { certFingerprint, loadOrCreatePki } from '../../src/collector/pki.js';
import { openStore } from '../../src/collector/store/index.js';
import { tempDir } from '../helpers.js';
import { call, startTest } from './server-kit.js';

/*
 * The collector's own CA: made once (ECDSA P-256, a CA for ten years), kept with private keys
 * readable by the owner only, reused on later starts; the server certificate is re-issued from
 * it when the listen host changes, so a sensor's pin survives.
 */

test('first start makes a CA and a server certificate; later starts reuse them', async (t) => {
  const data = tempDir(t);
  const first = await loadOrCreatePki({ data, listenHost: '127.0.0.1' });
  assert.equal(first.created, true);
  const ca = new X509Certificate(first.ca);
  const server = new X509Certificate(first.cert);
  assert.equal(ca.ca, true, 'basicConstraints CA');
  assert.equal(ca.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.ok(Date.parse(ca.validTo) - Date.now() > 9.9 * 365 * 86_400_000, 'ten years');
  assert.equal(server.ca, false);
  assert.ok(server.checkIssued(ca) && server.verify(ca.publicKey), 'signed by the CA');
  for (const host of ['localhost']) assert.equal(server.checkHost(host), host);
  for (const ip of ['127.0.0.1', '::1']) assert.equal(server.checkIP(ip), ip);
  for (const f of ['ca.key', 'server.key']) assert.equal(statSync(join(data, 'pki', f)).mode & 0o777, 0o600, f);
  assert.equal(first.caFingerprint, certFingerprint(first.ca));
  assert.match(first.caFingerprint, /^[0-9a-f]{64}$/);

  const again = await loadOrCreatePki({ data, listenHost: '127.0.0.1' });
  assert.equal(again.created, false);
  assert.equal(again.ca, first.ca);
  assert.equal(again.cert, first.cert);
  assert.equal(again.key, first.key);

  const moved = await loadOrCreatePki({ data, listenHost: 'collector.example.test' });
  assert.equal(moved.ca, first.ca, 'the CA (the pin) stays');
  assert.notEqual(moved.cert, first.cert, 'the server certificate is re-issued for the new host');
  assert.equal(new X509Certificate(moved.cert).checkHost('collector.example.test'), 'collector.example.test');
});

test('a server certificate that does not match its key is re-issued', async (t) => {
  const data = tempDir(t);
  const first = await loadOrCreatePki({ data, listenHost: '127.0.0.1' });
  const other = await loadOrCreatePki({ data: tempDir(t), listenHost: '127.0.0.1' });
  writeFileSync(join(data, 'pki', 'server.key'), other.key); // as a crash between the two writes could leave it
  const again = await loadOrCreatePki({ data, listenHost: '127.0.0.1' });
  assert.equal(again.ca, first.ca);
  assert.notEqual(again.cert, first.cert);
});

test('a damaged CA file is an error naming the file, not a new CA', async (t) => {
  const data = tempDir(t);
  await loadOrCreatePki({ data, listenHost: '127.0.0.1' });
  writeFileSync(join(data, 'pki', 'ca.pem'), 'not a certificate');
  await assert.rejects(loadOrCreatePki({ data, listenHost: '127.0.0.1' }), /ca\.pem: not a PEM certificate/);
});

test("collector.tls: the operator's certificate is served and its CA is what sensors pin", async (t) => {
  const made = tempDir(t);
  await loadOrCreatePki({ data: made, listenHost: '127.0.0.1' });
  const store = await openStore({ data: tempDir(t) });
  t.after(() => store.close());
  const pki = join(made, 'pki');
  const c = await startTest(t, store, { tls: { cert: join(pki, 'server.pem'), key: join(pki, 'server.key'), ca: join(pki, 'ca.pem') } });
  assert.equal(c.caCreated, false);
  assert.equal(c.caFingerprint, certFingerprint(c.caPem));
  const r = await call(c, 'GET', '/healthz');
  assert.equal(r.status, 200, 'the served certificate verifies against the pinned CA');
  await assert.rejects(startTest(t, store, { tls: { cert: join(pki, 'server.pem'), key: null } }), /both cert and key/);
});
