import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseClientHello, parseLegacyFlight } from '../../src/protocols/tls/parse.js';
import { PROBE_KINDS, probeHello, tlsClientHello } from '../../src/scanner/hellos.js';
import { pctExploitFixture } from '../../src/synth/pct.js';

/** The ClientHello body inside a one-record TLS hello, after checking that the lengths add up. */
function helloBody(record: Buffer): Buffer {
  assert.equal(record[0], 0x16);
  assert.equal(record.readUInt16BE(3), record.length - 5, 'record length adds up');
  assert.equal(record[5], 0x01);
  const len = (record[6]! << 16) | record.readUInt16BE(7);
  assert.equal(len, record.length - 9, 'handshake length adds up');
  return record.subarray(9);
}

test('each TLS probe is a well-formed ClientHello pinned to its version', () => {
  for (const [version, recordVersion] of [
    [0x0300, 0x0300],
    [0x0301, 0x0301],
    [0x0302, 0x0301],
    [0x0303, 0x0301],
  ] as const) {
    const record = tlsClientHello(version);
    assert.equal(record.readUInt16BE(1), recordVersion);
    const hello = parseClientHello(helloBody(record));
    assert.equal(hello.malformed, false);
    assert.deepEqual(hello.anomalies, []);
    assert.equal(hello.version, version);
    assert.deepEqual(hello.supportedVersions, [], 'no supported_versions below 1.3: the server cannot pick higher');
    assert.ok(hello.cipherSuites.includes(0x002f), 'TLS_RSA_WITH_AES_128_CBC_SHA, which every SSLv3+ server knows');
  }
});

test('the TLS 1.3 probe offers 1.3 alone with an x25519 key share, groups and signature algorithms', () => {
  const hello = parseClientHello(helloBody(tlsClientHello(0x0304)));
  assert.deepEqual(hello.anomalies, []);
  assert.equal(hello.version, 0x0303);
  assert.deepEqual(hello.supportedVersions, [0x0304]);
  assert.ok(hello.supportedGroups.includes(0x001d));
  assert.ok(hello.signatureAlgorithms.includes(0x0804));
  const keyShare = hello.extensions.find((e) => e.type === 51);
  assert.ok(keyShare);
  assert.equal(keyShare.data.length, 2 + 2 + 2 + 32, 'one x25519 share of 32 bytes');
  assert.deepEqual([...hello.cipherSuites], [0x1301, 0x1302, 0x1303]);
  // A fresh key each time.
  const again = parseClientHello(helloBody(tlsClientHello(0x0304))).extensions.find((e) => e.type === 51);
  assert.notDeepEqual(Buffer.from(again!.data), Buffer.from(keyShare.data));
});

test('the PCT probes are well-formed and offer PCT 1.0; the plain SSLv2 probe does not', () => {
  const pct = parseLegacyFlight(probeHello('pct'));
  assert.ok(pct);
  assert.equal(pct.format, 'pct');
  assert.deepEqual(pct.anomalies, []);
  assert.equal(pct.pct.offered, true);
  const v2pct = parseLegacyFlight(probeHello('sslv2_pct'));
  assert.ok(v2pct);
  assert.equal(v2pct.format, 'sslv2');
  assert.deepEqual(v2pct.anomalies, []);
  assert.equal(v2pct.pct.offered, true);
  assert.deepEqual([...probeHello('sslv2_pct').subarray(11, 14)], [0x8f, 0x80, 0x01], 'kind 8F 80 01 first');
  const v2 = parseLegacyFlight(probeHello('sslv2'));
  assert.ok(v2);
  assert.deepEqual(v2.anomalies, []);
  assert.equal(v2.pct.offered, false);
});

test('no probe has the exploit shape (DOMAIN §3): no structural anomaly, never the fixture header', () => {
  const fixture = pctExploitFixture().subarray(0, 11);
  for (const kind of PROBE_KINDS) {
    const bytes = probeHello(kind);
    assert.ok(!bytes.subarray(0, 11).equals(fixture), kind);
    if (bytes[0]! & 0x80) {
      const parsed = parseLegacyFlight(bytes);
      assert.ok(parsed, kind);
      assert.deepEqual(parsed.anomalies, [], kind);
      assert.equal(parsed.recordLength, bytes.length, `${kind}: one record, the whole flight`);
      if (parsed.message.type === 'client_hello' && 'sessionIdLength' in parsed.message) {
        assert.ok(parsed.message.sessionIdLength === 0 || parsed.message.sessionIdLength === 16, kind);
        assert.equal(parsed.message.cipherSpecLength % 3, 0, kind);
        assert.equal(parsed.message.version, 0x0002, kind);
      }
    }
  }
});
