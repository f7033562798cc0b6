import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseLegacyFlight, parseLegacyRecord, recordFormat, type LegacyParsed } from '../../../src/protocols/tls/parse.js';
import { parsePctMessage, type PctClientHello, type PctError, type PctServerHello } from '../../../src/protocols/tls/pct.js';
import { splitLegacyRecords, type Sslv2ClientHello, type Sslv2Error } from '../../../src/protocols/tls/sslv2.js';
import { pctClientHello, pctExploitFixture, sslv2ClientHello } from '../../../src/synth/pct.js';

function parsed(flight: Uint8Array): LegacyParsed {
  const p = parseLegacyFlight(flight);
  assert.ok(p !== null, 'a complete record');
  return p;
}

/** The public exploits' first 17 bytes (DOMAIN.md §3), padded with zero filler to the declared length. */
function exploitHeaderRecord(): Buffer {
  const head = Buffer.from('80620102bd0001000100168f8201000000', 'hex');
  return Buffer.concat([head, Buffer.alloc(2 + 0x62 - head.length)]);
}

test('the harmless MS04-011 fixture is an SSLv2-format CLIENT-HELLO that routes to PCT, with a session-id length anomaly', () => {
  const fixture = pctExploitFixture();
  assert.equal(recordFormat(fixture), 'sslv2');
  const p = parsed(fixture);
  assert.equal(p.format, 'sslv2');
  assert.equal(p.recordLength, 37);
  const m = p.message as Sslv2ClientHello;
  assert.equal(m.type, 'client_hello');
  assert.equal(m.version, 0x0002);
  assert.deepEqual(m.cipherKinds, [0x8f8001]);
  assert.equal(m.sessionIdLength, 1);
  assert.equal(m.challengeLength, 22);
  assert.equal(p.pct.offered, true);
  assert.equal(p.pct.routed, true, 'first kind 8F with version bytes above 0x8000');
  assert.equal(p.pct.version, 0x8001);
  assert.deepEqual(p.anomalies, ['session_id_length_invalid']);
});

test('the exploit header itself (02 bd version, cipher-spec length 1, 1.8 KB flight) shows every anomaly DOMAIN.md lists', () => {
  const rec = exploitHeaderRecord();
  const flight = Buffer.concat([rec, Buffer.alloc(1800 - rec.length, 0x90)]);
  const p = parsed(flight);
  assert.equal(p.format, 'sslv2', 'version 02 bd has the top bit clear: SSLv2 layout');
  const m = p.message as Sslv2ClientHello;
  assert.equal(m.version, 0x02bd);
  assert.equal(m.cipherSpecLength, 1);
  assert.deepEqual(m.cipherKinds, [], 'no whole 3-byte kind in a 1-byte list');
  assert.equal(p.pct.routed, true, 'Schannel reads 8F 82 01 where the first kind sits, whatever the length says');
  assert.equal(p.pct.offered, true);
  assert.equal(p.pct.version, 0x8201);
  assert.deepEqual(p.anomalies.sort(), ['cipher_spec_length_not_multiple_of_3', 'flight_longer_than_record', 'lengths_short_of_record', 'session_id_length_invalid', 'version_invalid']);
  // The same record alone, without the long flight: only the structural faults remain.
  assert.ok(!parsed(rec).anomalies.includes('flight_longer_than_record'));
});

test('a native PCT 1.0 CLIENT_HELLO parses with its spec lists and no anomalies', () => {
  const hello = pctClientHello();
  assert.equal(recordFormat(hello), 'pct');
  const p = parsed(hello);
  assert.equal(p.format, 'pct');
  const m = p.message as PctClientHello;
  assert.equal(m.type, 'client_hello');
  assert.equal(m.version, 0x8001);
  assert.equal(m.offset, 0x000a);
  assert.ok(m.sessionId.every((b) => b === 0) && m.sessionId.length === 32);
  assert.ok(m.challenge.every((b) => b === 0x5a) && m.challenge.length === 32);
  assert.deepEqual(m.cipherSpecs, [0x00048003, 0x00048001]);
  assert.deepEqual(m.hashSpecs, [1, 3]);
  assert.deepEqual(m.certSpecs, [1]);
  assert.deepEqual(m.exchangeSpecs, [1]);
  assert.equal(m.keyArg.length, 0);
  assert.deepEqual(p.anomalies, []);
  assert.deepEqual({ offered: p.pct.offered, routed: p.pct.routed, version: p.pct.version }, { offered: true, routed: true, version: 0x8001 });
});

test('an SSLv2 CLIENT-HELLO is plain SSLv2 without PCT, and offering 8F 80 01 first makes it route to PCT, both without anomalies', () => {
  const plain = parsed(sslv2ClientHello());
  assert.equal(plain.format, 'sslv2');
  const m = plain.message as Sslv2ClientHello;
  assert.equal(m.version, 2);
  assert.deepEqual(m.cipherKinds, [0x010080, 0x020080, 0x030080, 0x040080, 0x060040, 0x0700c0]);
  assert.equal(m.sessionId.length, 0);
  assert.equal(m.challenge.length, 16);
  assert.equal(plain.pct.offered, false);
  assert.equal(plain.pct.routed, false);
  assert.deepEqual(plain.anomalies, []);

  const pct = parsed(sslv2ClientHello({ offerPct: true }));
  assert.equal(pct.format, 'sslv2');
  assert.equal((pct.message as Sslv2ClientHello).cipherKinds[0], 0x8f8001);
  assert.deepEqual({ offered: pct.pct.offered, routed: pct.pct.routed, version: pct.pct.version }, { offered: true, routed: true, version: 0x8001 });
  assert.deepEqual(pct.anomalies, []);
});

test('PCT offered later in the kinds is offered but does not route; 80-84 kinds are read as PCT spec halves', () => {
  const p = parsed(sslv2ClientHello({ kinds: [0x010080, 0x8f8001, 0x800001, 0x810003, 0x820001, 0x830004, 0x848040] }));
  assert.equal(p.pct.offered, true);
  assert.equal(p.pct.routed, false);
  assert.deepEqual(p.pct.certSpecs, [1]);
  assert.deepEqual(p.pct.hashSpecs, [3]);
  assert.deepEqual(p.pct.exchangeSpecs, [1]);
  assert.deepEqual(p.pct.cipherFirstHalves, [4]);
  assert.deepEqual(p.pct.cipherSecondHalves, [0x8040]);
  // 8F with "version" bytes below 0x8001 is not what Schannel routes on.
  assert.equal(parsed(sslv2ClientHello({ kinds: [0x8f0002, 0x010080] })).pct.routed, false);
});

test('an SSLv3/TLS client\'s SSLv2-compatible hello (version 03 01) is well formed SSLv2', () => {
  const body = Buffer.concat([Buffer.from('01030100060000' + '0010', 'hex'), Buffer.from('000035000004', 'hex'), Buffer.alloc(16, 7)]);
  const rec = Buffer.concat([Buffer.from([0x80, body.length]), body]);
  const p = parsed(rec);
  assert.equal(p.format, 'sslv2');
  assert.equal((p.message as Sslv2ClientHello).version, 0x0301);
  assert.deepEqual((p.message as Sslv2ClientHello).cipherKinds, [0x000035, 0x000004]);
  assert.deepEqual(p.anomalies, []);
});

test('server answers from DOMAIN.md §2 are told apart: PCT ERROR, SSLv2 ERROR, PCT SERVER_HELLO, TLS alert', () => {
  const pctError = Buffer.from('80050500030000', 'hex');
  assert.equal(recordFormat(pctError), 'pct');
  const e = parsed(pctError);
  assert.equal(e.format, 'pct');
  assert.deepEqual({ code: (e.message as PctError).code, name: (e.message as PctError).codeName }, { code: 3, name: 'ILLEGAL_MESSAGE' });
  assert.deepEqual(e.anomalies, []);

  const ssl2Error = Buffer.from('8003000001', 'hex');
  assert.equal(recordFormat(ssl2Error), 'sslv2');
  const s = parsed(ssl2Error);
  assert.equal(s.message.type, 'error');
  assert.equal((s.message as Sslv2Error).code, 1);
  assert.equal(s.pct.offered, false);

  assert.equal(recordFormat(Buffer.from('150301000202', 'hex')), 'tls');
  assert.equal(recordFormat(Buffer.from('16030100', 'hex')), 'tls');
  assert.equal(recordFormat(Buffer.from('474554202f', 'hex')), 'unknown', 'GET /');
  assert.equal(recordFormat(Buffer.from('160205', 'hex')), 'unknown', 'handshake byte with a wrong major version');
  assert.equal(recordFormat(Buffer.from('8000', 'hex')), 'more');
  assert.equal(recordFormat(Buffer.from('800001', 'hex')), 'unknown', 'a zero-length record');
  assert.equal(recordFormat(Buffer.from('802301', 'hex')), 'more', 'a client hello whose version has not arrived');
  assert.equal(recordFormat(new Uint8Array(0)), 'more');
});

/** A PCT SERVER_HELLO (body offsets: type, pad, version, restart, auth, cipher, hash, cert, exch, conn id, four lengths, data). */
function pctServerHello(options: { certLen?: number; clientCert?: number[]; extra?: number } = {}): Buffer {
  const cert = Buffer.alloc(options.certLen ?? 40, 0x30);
  const clientCert = Buffer.concat((options.clientCert ?? [1]).map((v) => Buffer.from([v >> 8, v & 0xff])));
  const fixed = Buffer.alloc(56);
  fixed[0] = 0x02;
  fixed.writeUInt16BE(0x8001, 2);
  fixed[4] = 0;
  fixed[5] = 1;
  fixed.writeUInt32BE(0x00048003, 6);
  fixed.writeUInt16BE(1, 10);
  fixed.writeUInt16BE(1, 12);
  fixed.writeUInt16BE(1, 14);
  Buffer.alloc(32, 0xc1).copy(fixed, 16);
  fixed.writeUInt16BE(cert.length, 48);
  fixed.writeUInt16BE(clientCert.length + (options.extra ?? 0), 50);
  fixed.writeUInt16BE(0, 52);
  fixed.writeUInt16BE(0, 54);
  const body = Buffer.concat([fixed, cert, clientCert]);
  return Buffer.concat([Buffer.from([0x80 | (body.length >> 8), body.length & 0xff]), body]);
}

test('a PCT SERVER_HELLO ("PCT enabled") parses field by field', () => {
  const rec = pctServerHello();
  assert.equal(recordFormat(rec), 'pct');
  const p = parsed(rec);
  const m = p.message as PctServerHello;
  assert.equal(m.type, 'server_hello');
  assert.equal(m.version, 0x8001);
  assert.equal(m.restartOk, false);
  assert.equal(m.clientAuthRequested, true);
  assert.equal(m.cipherSpec, 0x00048003);
  assert.deepEqual([m.hashSpec, m.certSpec, m.exchangeSpec], [1, 1, 1]);
  assert.equal(m.connectionId.length, 32);
  assert.equal(m.certificate.length, 40);
  assert.deepEqual(m.clientCertSpecs, [1]);
  assert.deepEqual(p.anomalies, []);
  assert.equal(p.pct.offered, false, 'a server does not offer');
  const bad = parsed(pctServerHello({ extra: 1 }));
  assert.deepEqual(bad.anomalies.sort(), ['client_cert_spec_length_not_multiple_of_2', 'lengths_exceed_record']);
});

test('native PCT CLIENT_HELLO anomalies: version, offset, spec sizes, lengths against the record, flight', () => {
  const good = pctClientHello();
  const body = (b: Buffer): Buffer => b.subarray(2);
  const withBody = (f: (b: Buffer) => void): Buffer => {
    const copy = Buffer.from(good);
    f(copy.subarray(2));
    return copy;
  };
  const anomalies = (rec: Buffer, flightBytes?: number): string[] =>
    [...parsePctMessage(body(rec), flightBytes === undefined ? {} : { flightBytes }).anomalies].sort();
  assert.deepEqual(anomalies(good), []);
  assert.deepEqual(anomalies(withBody((b) => b.writeUInt16BE(0x8002, 1))), ['version_invalid']);
  assert.deepEqual(anomalies(withBody((b) => b.writeUInt16BE(0x000b, 68))), ['offset_invalid']);
  // Cipher list 8 -> 7 bytes: not a multiple of 4, and one byte now unaccounted for.
  assert.deepEqual(anomalies(withBody((b) => b.writeUInt16BE(7, 70))), ['cipher_spec_length_not_multiple_of_4', 'lengths_short_of_record']);
  assert.deepEqual(anomalies(withBody((b) => b.writeUInt16BE(5, 72))), ['hash_spec_length_not_multiple_of_2', 'lengths_exceed_record']);
  assert.deepEqual(anomalies(withBody((b) => b.writeUInt16BE(3, 74))), ['cert_spec_length_not_multiple_of_2', 'lengths_exceed_record']);
  assert.deepEqual(anomalies(withBody((b) => b.writeUInt16BE(1, 76))), ['exchange_spec_length_not_multiple_of_2', 'lengths_short_of_record']);
  assert.deepEqual(anomalies(withBody((b) => b.writeUInt16BE(600, 78))), ['lengths_exceed_record']);
  assert.deepEqual(anomalies(good, good.length * 3), ['flight_longer_than_record']);
  assert.deepEqual(anomalies(good, 10), [], 'a little more in the flight is tolerated');
  assert.deepEqual(anomalies(good.subarray(0, 40)), ['record_too_short']);
});

test('SSLv2 CLIENT-HELLO anomalies one by one, each on an otherwise well-formed hello', () => {
  const good = sslv2ClientHello();
  const variant = (f: (b: Buffer) => void): string[] => {
    const copy = Buffer.from(good);
    f(copy.subarray(2));
    return [...parsed(copy).anomalies].sort();
  };
  assert.deepEqual(variant(() => {}), []);
  assert.deepEqual(variant((b) => b.writeUInt16BE(0x0200, 1)), ['version_invalid']);
  assert.deepEqual(variant((b) => b.writeUInt16BE(16, 3)), ['cipher_spec_length_not_multiple_of_3', 'lengths_short_of_record']);
  assert.deepEqual(variant((b) => b.writeUInt16BE(0, 3)), ['cipher_spec_length_zero', 'lengths_short_of_record']);
  assert.deepEqual(variant((b) => b.writeUInt16BE(8, 5)), ['lengths_exceed_record', 'session_id_length_invalid']);
  assert.deepEqual(variant((b) => b.writeUInt16BE(8, 7)), ['challenge_length_invalid', 'lengths_short_of_record']);
  assert.deepEqual(variant((b) => b.writeUInt16BE(40, 7)), ['challenge_length_invalid', 'lengths_exceed_record']);
  assert.deepEqual(parsed(Buffer.from([0x80, 5, 1, 0, 2, 0, 3])).anomalies, ['record_too_short']);
});

test('SSLv2 records: 2- and 3-byte headers, padding, incomplete records wait, impossible headers stop the split', () => {
  const two = sslv2ClientHello();
  const three = Buffer.from([0x00, 0x13, 0x03, ...Buffer.alloc(0x13, 0xab)]); // 16 data bytes + 3 padding
  const stream = Buffer.concat([two, three, two.subarray(0, 10)]);
  const split = splitLegacyRecords(stream);
  assert.equal(split.error, null);
  assert.equal(split.records.length, 2);
  assert.equal(split.consumed, two.length + three.length, 'the incomplete third record is left for later');
  assert.deepEqual(split.records[1]!.header, { headerLength: 3, length: 0x13, padding: 3, escape: false });
  const enc = parseLegacyRecord(split.records[1]!);
  assert.equal(enc.format, 'sslv2');
  assert.equal(enc.message.type, 'other');
  assert.equal(splitLegacyRecords(Buffer.from([0x80, 0x00])).error, 'record_empty');
  assert.equal(splitLegacyRecords(Buffer.from([0x00, 0x02, 0x05, 1, 2])).error, 'padding_exceeds_record');
  assert.equal(parseLegacyFlight(two.subarray(0, two.length - 1)), null, 'one byte short: not parsed yet');
});
