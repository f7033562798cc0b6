import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPctDetector, PCT_DEFAULTS } from '../../src/detect/pct.js';
import type { EveEvent } from '../../src/events/types.js';
import type { TlsEvent } from '../../src/events/tls.js';
import { classifyPct, decidePct, pctServerHello, DECOY_CERTIFICATE, SSLV2_ERROR_NO_CIPHER } from '../../src/honeypot/index.js';
import { parseLegacyFlight } from '../../src/protocols/tls/parse.js';
import { pctClientHello, pctExploitFixture, sslv2ClientHello } from '../../src/synth/pct.js';

test('the SERVER_HELLO parses back well-formed: type 02, version 80 01, lengths adding up, the certificate', () => {
  const id = Buffer.alloc(32, 7);
  const rec = pctServerHello({ cipher: 0x00048080, hash: 1, cert: 1, exchange: 1, certificate: DECOY_CERTIFICATE, connectionId: id });
  assert.equal(rec[0]! & 0x80, 0x80);
  assert.equal(((rec[0]! & 0x7f) << 8) | rec[1]!, rec.length - 2);
  assert.equal(rec[2], 0x02);
  assert.deepEqual([...rec.subarray(4, 6)], [0x80, 0x01]);
  const parsed = parseLegacyFlight(rec);
  assert.ok(parsed !== null);
  assert.equal(parsed.format, 'pct');
  assert.equal(parsed.message.type, 'server_hello');
  assert.deepEqual(parsed.anomalies, []);
  if (parsed.message.type !== 'server_hello' || !('connectionId' in parsed.message)) throw new Error('not a PCT SERVER_HELLO');
  assert.equal(parsed.message.version, 0x8001);
  assert.deepEqual(Buffer.from(parsed.message.connectionId), id);
  assert.deepEqual(Buffer.from(parsed.message.certificate), DECOY_CERTIFICATE);
});

test('a zero-length certificate is still a well-formed SERVER_HELLO, and connection ids are random', () => {
  const a = pctServerHello({ cipher: 1, hash: 1, cert: 1, exchange: 1, certificate: new Uint8Array(0) });
  const b = pctServerHello({ cipher: 1, hash: 1, cert: 1, exchange: 1, certificate: new Uint8Array(0) });
  assert.equal(a.length, 58);
  assert.deepEqual(parseLegacyFlight(a)?.anomalies, []);
  assert.notDeepEqual(a.subarray(18, 50), b.subarray(18, 50));
});

test('a native PCT CLIENT_HELLO is a probe answered with a SERVER_HELLO choosing its first specs', () => {
  const d = decidePct(pctClientHello({ ciphers: [0x00048003, 0x00048001], hashes: [3, 1] }), false);
  assert.ok(d !== 'more');
  assert.equal(d.record.answered, 'pct_server_hello');
  assert.equal(d.record.classification, 'probe');
  assert.equal(d.record.format, 'pct');
  const reply = parseLegacyFlight(d.reply);
  if (reply === null || reply.message.type !== 'server_hello' || !('cipherSpec' in reply.message)) throw new Error('no SERVER_HELLO');
  assert.equal(reply.message.cipherSpec, 0x00048003);
  assert.equal(reply.message.hashSpec, 3);
});

test('an SSLv2 hello offering PCT (8F 80 01 first) gets the SERVER_HELLO; a plain one the SSLv2 ERROR', () => {
  const offer = decidePct(sslv2ClientHello({ offerPct: true }), false);
  assert.ok(offer !== 'more');
  assert.equal(offer.record.answered, 'pct_server_hello');
  assert.equal(offer.record.classification, 'probe');
  const plain = decidePct(sslv2ClientHello(), false);
  assert.ok(plain !== 'more');
  assert.equal(plain.record.answered, 'sslv2_error');
  assert.deepEqual(plain.reply, SSLV2_ERROR_NO_CIPHER);
  assert.equal(plain.record.classification, undefined);
});

test('the harmless exploit fixture is an exploit attempt, and is answered so the flight follows', () => {
  const d = decidePct(pctExploitFixture(), false);
  assert.ok(d !== 'more');
  assert.equal(d.record.classification, 'exploit_attempt');
  assert.equal(d.record.answered, 'pct_server_hello');
  assert.ok(d.record.anomalies.includes('session_id_length_invalid'));
});

test('an incomplete record waits; TLS, garbage and a cut record are closed', () => {
  const hello = pctClientHello();
  assert.equal(decidePct(hello.subarray(0, 1), false), 'more');
  assert.equal(decidePct(hello.subarray(0, 40), false), 'more');
  const cut = decidePct(hello.subarray(0, 40), true);
  assert.ok(cut !== 'more');
  assert.equal(cut.record.answered, 'closed');
  for (const bytes of [Buffer.from('GET / HTTP/1.0\r\n\r\n'), Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0, 0, 1, 0])]) {
    const d = decidePct(bytes, false);
    assert.ok(d !== 'more');
    assert.equal(d.record.answered, 'closed');
    assert.equal(d.reply.length, 0);
  }
});

test('hostile bytes never throw', () => {
  let seed = 1;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  for (let i = 0; i < 2000; i++) {
    const b = Buffer.from(Array.from({ length: 1 + (rnd() % 120) }, rnd));
    if (i % 2 === 0) b[0] = 0x80;
    decidePct(b, i % 3 === 0);
  }
});

test('the classification agrees with the MS04-011 detector on the same hellos', () => {
  for (const bytes of [pctClientHello(), sslv2ClientHello({ offerPct: true }), sslv2ClientHello(), pctExploitFixture(), Buffer.concat([pctClientHello(), Buffer.alloc(600)])]) {
    const parsed = parseLegacyFlight(bytes);
    assert.ok(parsed !== null);
    const out: EveEvent[] = [];
    const det = createPctDetector({ emit: (e) => out.push(e), home: { match: () => true } as never }, PCT_DEFAULTS);
    const tls = { timestamp: '2004-04-21T10:00:00.000000+0000', event_type: 'tls', tx_id: 0, tls: { version: 'UNDETERMINED', pct: { offered: parsed.pct.offered, routed: parsed.pct.routed, native: parsed.format === 'pct', version: null, server_answer: 'none' }, anomalies: parsed.anomalies } } as TlsEvent;
    det.record?.(tls as EveEvent);
    const verdict = (out[0] as { pct?: { verdict: string } } | undefined)?.pct?.verdict;
    const expected = verdict === 'exploit' ? 'exploit_attempt' : verdict === 'offered' ? 'probe' : undefined;
    assert.equal(classifyPct(parsed.pct, parsed.anomalies), expected);
  }
});
