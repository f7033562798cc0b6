/**
 * Hostile bytes: random buffers and mutated real records (seeded, so failures replay) through
 * every parser. Nothing may throw, outputs stay proportional to inputs, and held bytes stay
 * under their caps.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { certificateInfo } from '../../../src/protocols/tls/cert.js';
import { ja3, ja3s } from '../../../src/protocols/tls/ja3.js';
import {
  HandshakeType,
  MAX_HANDSHAKE_MESSAGE,
  parseCertificateMessage,
  parseClientHello,
  parseLegacyFlight,
  parseServerHello,
  recordFormat,
  splitTlsRecords,
  TLS_MAX_RECORD,
  TlsDirection,
} from '../../../src/protocols/tls/parse.js';
import { parsePctMessage } from '../../../src/protocols/tls/pct.js';
import { parseSslv2Message, splitLegacyRecords } from '../../../src/protocols/tls/sslv2.js';
import { pctClientHello, pctExploitFixture, sslv2ClientHello } from '../../../src/synth/pct.js';
import { prng, shared } from '../../helpers.js';
import { clientHelloBody, extension, handshake, modernClientHello, record, streamOf, tcpConversations, tls13ServerHello } from './build.js';

const int = (rand: () => number, n: number): number => Math.floor(rand() * n);

/** Every parser on one buffer, with the proportionality checks that bound their work. */
function everything(b: Uint8Array, rand: () => number): void {
  recordFormat(b);
  splitTlsRecords(b);
  splitLegacyRecords(b);
  const legacy = parseLegacyFlight(b);
  if (legacy !== null && legacy.message.type === 'client_hello' && 'cipherKinds' in legacy.message) assert.ok(legacy.message.cipherKinds.length <= b.length / 3);
  for (const m of [parseSslv2Message(b), parsePctMessage(b)]) assert.ok(Array.isArray(m.anomalies));
  const ch = parseClientHello(b);
  assert.ok(ch.cipherSuites.length <= b.length / 2 && ch.extensions.length <= b.length / 4);
  ja3(ch);
  ja3s(parseServerHello(b));
  assert.ok(parseCertificateMessage(b).certificates.length <= b.length / 3);
  parseCertificateMessage(b, { tls13: true });
  const dir = new TlsDirection();
  for (let at = 0; at < b.length; ) {
    const n = 1 + int(rand, 700);
    dir.push(b.subarray(at, at + n));
    assert.ok(dir.records.pending < 5 + TLS_MAX_RECORD && dir.handshake.pending < 4 + MAX_HANDSHAKE_MESSAGE);
    at += n;
  }
}

test('5000 random buffers (some with TLS or SSLv2 headers in front) never make a parser throw', () => {
  const rand = prng(20040413);
  for (let i = 0; i < 5000; i++) {
    const b = Buffer.alloc(int(rand, 700));
    for (let k = 0; k < b.length; k++) b[k] = int(rand, 256);
    if (b.length > 5 && rand() < 0.5) {
      b[0] = [0x16, 0x15, 0x17, 0x14, 0x80, 0x81][int(rand, 6)]!;
      if (b[0]! < 0x80) b[1] = 3;
    }
    everything(b, rand);
  }
});

test('2000 random certificates-to-be never throw', () => {
  const rand = prng(835732);
  for (let i = 0; i < 2000; i++) {
    const b = Buffer.alloc(int(rand, 400));
    for (let k = 0; k < b.length; k++) b[k] = int(rand, 256);
    if (b.length > 4 && rand() < 0.7) b[0] = 0x30;
    const info = certificateInfo(b);
    assert.ok(info.problem !== null || info.subject !== null);
  }
});

/** Mutations a hostile peer or a damaged capture can make; each returns a new buffer. */
const MUTATIONS: Array<(src: Buffer, rand: () => number) => Buffer> = [
  (src, rand) => {
    const b = Buffer.from(src);
    for (let k = 1 + int(rand, 8); k > 0 && b.length > 0; k--) {
      const at = int(rand, b.length);
      b[at] = b[at]! ^ (1 << int(rand, 8));
    }
    return b;
  },
  (src, rand) => {
    // length-looking bytes set to extremes
    const b = Buffer.from(src);
    for (let k = 1 + int(rand, 3); k > 0 && b.length > 1; k--) b.writeUInt16BE([0, 1, 0xffff, 0x7fff, 0x4801, int(rand, 0x10000)][int(rand, 6)]!, int(rand, b.length - 1));
    return b;
  },
  (src, rand) => Buffer.from(src.subarray(0, int(rand, src.length + 1))),
  (src, rand) => {
    const at = int(rand, src.length + 1);
    const noise = Buffer.alloc(int(rand, 64));
    for (let k = 0; k < noise.length; k++) noise[k] = int(rand, 256);
    return Buffer.concat([src.subarray(0, at), noise, src.subarray(at)]);
  },
  (src, rand) => {
    const at = int(rand, src.length + 1);
    const n = int(rand, Math.min(200, src.length - at + 1));
    return Buffer.concat([src.subarray(0, at + n), src.subarray(at, at + n), src.subarray(at + n)]);
  },
];

test('thousands of mutated corpus streams, crafted hellos and PCT records never throw', async (t) => {
  const seeds: Buffer[] = [pctExploitFixture(), pctClientHello(), sslv2ClientHello(), sslv2ClientHello({ offerPct: true })];
  const hellos = [modernClientHello().body, tls13ServerHello().body, clientHelloBody({ ciphers: [0x2f], extensions: [extension(0, Buffer.from([0, 3, 0, 0, 0]))] })];
  for (const h of hellos) seeds.push(record(22, handshake(HandshakeType.CLIENT_HELLO, h)), h);
  const dir = shared(t, 'corpus', 'tls');
  if (dir !== null) {
    for (const name of ['ssl-v2.pcap', 'ssl.v3.pcap', 'tls1.2.pcap']) {
      for (const conv of await tcpConversations(`${dir}/${name}`)) {
        // The first 6 KB of each direction: hellos, certificates, the switch to encrypted records.
        for (const d of [0, 1]) seeds.push(streamOf(conv, d).subarray(0, 6000));
      }
    }
  }
  const rand = prng(2515);
  let runs = 0;
  for (let round = 0; round < 150; round++) {
    for (const seed of seeds) {
      let b = seed;
      for (let k = 1 + int(rand, 3); k > 0; k--) b = MUTATIONS[int(rand, MUTATIONS.length)]!(b, rand);
      everything(b, rand);
      // The same bytes as a handshake body inside a record stream, and as a certificate.
      everything(record(22, handshake(int(rand, 3) === 0 ? HandshakeType.CERTIFICATE : HandshakeType.CLIENT_HELLO, b.subarray(0, 16000))), rand);
      if (rand() < 0.1) certificateInfo(b.subarray(int(rand, 64)));
      runs++;
    }
  }
  assert.ok(runs >= (dir === null ? 400 : 2000), `${runs} mutated inputs`);
});

test('large inputs cost time in proportion to their size: a megabyte of empty records, a hello of 16K empty extensions', () => {
  const empty = Buffer.from([0x16, 3, 3, 0, 0]);
  const mb = Buffer.concat(Array.from({ length: 200000 }, () => empty));
  const dir = new TlsDirection();
  const out = dir.push(mb);
  assert.equal(out.records.length, 200000);
  assert.equal(out.error, null);
  const many = Buffer.concat(Array.from({ length: 16000 }, (_, i) => extension(1000 + i, Buffer.alloc(0))));
  const body = Buffer.concat([clientHelloBody({ ciphers: [0x2f], extensions: null }), Buffer.from([many.length >> 8, many.length & 0xff]), many]);
  const h = parseClientHello(body);
  assert.equal(h.extensions.length, 16000);
  // Types 1000-16999 include four GREASE values (0x0a0a, 0x1a1a, 0x2a2a, 0x3a3a), which JA3 drops.
  assert.equal(ja3(h)!.string.split(',')[2]!.split('-').length, 16000 - 4);
});
