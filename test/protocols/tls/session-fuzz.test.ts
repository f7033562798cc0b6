/**
 * Hostile streams through the TLS session (seeded, so a failure replays): mutated corpus and
 * crafted conversations, random bytes behind TLS, SSLv2 and PCT headers, random chunking, gaps
 * and early ends. Nothing may throw, the bytes a flow holds stay under their caps after every
 * call, a flow writes at most one record, and each event at most once per side.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_HANDSHAKE_MESSAGE, TLS_MAX_RECORD, TLS_RECORD_HEADER } from '../../../src/protocols/tls/parse.js';
import { TlsSession } from '../../../src/protocols/tls/session.js';
import { pctClientHello, pctExploitFixture, sslv2ClientHello } from '../../../src/synth/pct.js';
import { TcpConnection } from '../../../src/synth/traffic.js';
import { prng, sharedDir } from '../../helpers.js';
import { handshake, record, u24 } from './build.js';
import { applicationData, changeCipherSpec, clientHelloRecord, heartbeat, hostCertificate, pctError, pctServerHello, serverFlight, sslv2NoCipher, sslv2ServerHello } from './flights.js';
import { FakeOutput, runCrafted } from './harness.js';
import { tcpConversations, type Conversation } from './build.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The largest SSLv2/PCT record (2-byte header, 15 length bits). */
const LEGACY_RECORD = 2 + 0x7fff;
/**
 * What one flow may hold at most: per side, the format's first bytes, one TLS record, one
 * handshake message and one SSLv2 record; the client's first SSLv2 record until its flight is
 * measured; and each side's certificate message until the record is written.
 */
const FLOW_CAP = 2 * (5 + TLS_RECORD_HEADER + TLS_MAX_RECORD + MAX_HANDSHAKE_MESSAGE + 3 + LEGACY_RECORD) + LEGACY_RECORD + 2 * MAX_HANDSHAKE_MESSAGE;

type Chunk = { dir: number; data: Buffer };

const crafted = (): Chunk[][] => [
  [
    { dir: 0, data: clientHelloRecord({ host: 'fuzz.example', alpns: ['h2'] }) },
    { dir: 1, data: serverFlight({ certs: [hostCertificate('fuzz.example'), hostCertificate('Example CA')], certificateRequest: true }) },
    { dir: 0, data: Buffer.concat([changeCipherSpec(), applicationData(64)]) },
    { dir: 1, data: Buffer.concat([changeCipherSpec(), heartbeat(3, 20), applicationData(300)]) },
  ],
  [{ dir: 0, data: Buffer.concat([pctExploitFixture(), Buffer.alloc(300, 0x41)]) }, { dir: 1, data: pctError(3) }],
  [{ dir: 0, data: pctClientHello() }, { dir: 1, data: pctServerHello(hostCertificate('pct.example')) }],
  [{ dir: 0, data: sslv2ClientHello({ offerPct: true }) }, { dir: 1, data: sslv2ServerHello(hostCertificate('v2.example')) }, { dir: 0, data: Buffer.alloc(90, 0x82) }],
  [{ dir: 0, data: sslv2ClientHello() }, { dir: 1, data: sslv2NoCipher() }],
];

async function corpus(): Promise<Chunk[][]> {
  const out: Chunk[][] = [];
  for (const name of ['ssl-v2.pcap', 'ssl.v3.pcap', 'tls1.2.pcap']) {
    const file = join(sharedDir, 'corpus', 'tls', name);
    if (!existsSync(file)) continue;
    for (const c of await tcpConversations(file)) out.push((c as Conversation).chunks);
  }
  return out;
}

const int = (rand: () => number, n: number): number => Math.floor(rand() * n);
const SPECIAL = [0x00, 0xff, 0x80, 0x7f, 0x16, 0x14, 0x17, 0x18, 0x01, 0x02, 0x03, 0x04, 0x05, 0x8f];

function mutate(chunks: Chunk[], rand: () => number): Chunk[] {
  const out = chunks.map((c) => ({ dir: c.dir, data: Buffer.from(c.data) }));
  const edits = 1 + int(rand, 6);
  for (let e = 0; e < edits && out.length > 0; e++) {
    const c = out[int(rand, out.length)]!;
    switch (int(rand, 7)) {
      case 0: // flip bytes
        for (let k = 0; k < 1 + int(rand, 4) && c.data.length > 0; k++) c.data[int(rand, c.data.length)] = int(rand, 256);
        break;
      case 1: // a byte a parser branches on
        if (c.data.length > 0) c.data[int(rand, Math.min(c.data.length, 64))] = SPECIAL[int(rand, SPECIAL.length)]!;
        break;
      case 2: // cut short
        c.data = c.data.subarray(0, int(rand, c.data.length + 1));
        break;
      case 3: // the same bytes again
        out.splice(int(rand, out.length + 1), 0, { dir: c.dir, data: Buffer.from(c.data) });
        break;
      case 4: // random bytes inserted
        c.data = Buffer.concat([c.data.subarray(0, int(rand, c.data.length + 1)), Buffer.from(Array.from({ length: int(rand, 40) }, () => int(rand, 256))), c.data]);
        break;
      case 5: // the other side sends it
        c.dir = 1 - c.dir;
        break;
      default: // a length field blown up
        if (c.data.length > 5) c.data.writeUInt16BE(0xffff, int(rand, c.data.length - 2));
    }
  }
  return out;
}

/** Feeds chunks in random pieces with occasional gaps and ends; checks the caps after every call. */
function feed(chunks: Chunk[], rand: () => number): { out: FakeOutput; session: TlsSession } {
  const out = new FakeOutput();
  const s = new TlsSession(out);
  const check = (): void => assert.ok(s.buffered <= FLOW_CAP, `held ${s.buffered} > ${FLOW_CAP}`);
  for (const { dir, data } of chunks) {
    for (let at = 0; at < data.length; ) {
      const n = 1 + int(rand, rand() < 0.3 ? 8 : 2000);
      s.data(dir, data, at, Math.min(n, data.length - at));
      check();
      at += n;
    }
    const r = rand();
    if (r < 0.02) s.gap(dir, 1 + int(rand, 3000));
    else if (r < 0.04) s.end(dir);
    check();
  }
  s.close();
  check();
  return { out, session: s };
}

function invariants(out: FakeOutput): void {
  assert.ok(out.records.length <= 1, 'one record per flow at most');
  const seen = new Set<string>();
  for (const c of out.calls) {
    if (c.kind !== 'anomaly') continue;
    const key = `${c.dir}:${c.event}`;
    assert.ok(!seen.has(key), `${key} raised twice`);
    seen.add(key);
  }
  const inspections = out.calls.filter((c) => c.kind === 'inspect').map((c) => (c.kind === 'inspect' ? c.dir : -1));
  assert.ok(inspections.filter((d) => d === 0).length <= 1 && inspections.filter((d) => d === 1).length <= 1, 'each side inspected once at most');
  // Records are JSON: the EVE writer must be able to write them.
  for (const r of out.records) JSON.stringify(r);
}

test('3000 mutated corpus and crafted conversations, fed in random pieces with gaps and ends: no throw, bounded, one record', async () => {
  const base = [...(await corpus()), ...crafted()];
  const rand = prng(20040430);
  for (let i = 0; i < 3000; i++) {
    const conv = base[int(rand, base.length)]!;
    const { out } = feed(mutate(conv, rand), rand);
    invariants(out);
  }
});

test('2000 random streams behind TLS, SSLv2 and PCT headers: no throw, bounded', () => {
  const rand = prng(835732);
  const heads = [[0x16, 0x03, 0x01], [0x15, 0x03, 0x03], [0x18, 0x03, 0x02], [0x80], [0x81], [0x80, 0x62, 0x01, 0x02, 0xbd], [0x80, 0x23, 0x01, 0x80, 0x01], [0x80, 0x05, 0x05], [0x80, 0x03, 0x00]];
  for (let i = 0; i < 2000; i++) {
    const chunks: Chunk[] = [];
    for (let k = 0; k < 1 + int(rand, 5); k++) {
      const body = Buffer.from(Array.from({ length: int(rand, 3000) }, () => int(rand, 256)));
      const head = heads[int(rand, heads.length)]!;
      chunks.push({ dir: int(rand, 2), data: Buffer.concat([Buffer.from(head), body]) });
    }
    invariants(feed(chunks, rand).out);
  }
});

test('bulk application data is passed over without being held; a huge handshake message claim is refused, not buffered', () => {
  const out = new FakeOutput();
  const s = new TlsSession(out);
  const flights = [clientHelloRecord(), serverFlight({ certs: [hostCertificate('bulk.example')] })];
  s.data(0, flights[0]!, 0, flights[0]!.length);
  s.data(1, flights[1]!, 0, flights[1]!.length);
  const ccs = changeCipherSpec();
  s.data(1, ccs, 0, ccs.length);
  const app = applicationData(16000);
  let max = 0;
  for (let i = 0; i < 700; i++) {
    // ~11 MB in uneven pieces
    for (let at = 0; at < app.length; at += 1337) {
      s.data(1, app, at, Math.min(1337, app.length - at));
      max = Math.max(max, s.buffered);
    }
  }
  assert.ok(max <= TLS_RECORD_HEADER, `held at most a header (${max})`);
  const huge = record(22, Buffer.concat([Buffer.from([11]), u24(0xffffff), Buffer.alloc(100)]));
  const out2 = new FakeOutput();
  const s2 = new TlsSession(out2);
  s2.data(0, flights[0]!, 0, flights[0]!.length);
  s2.data(1, huge, 0, huge.length);
  assert.deepEqual(out2.anomalies, ['handshake_invalid_length']);
  assert.ok(s2.buffered < 1024);
  // A handshake record held whole while it arrives byte by byte: one record at most.
  const big = record(22, handshake(11, Buffer.alloc(16000, 1)));
  const s3 = new TlsSession(new FakeOutput());
  for (let at = 0; at < big.length; at++) {
    s3.data(1, big, at, 1);
    assert.ok(s3.buffered <= TLS_RECORD_HEADER + TLS_MAX_RECORD);
  }
});

test('mutated conversations through the pipeline in random segment sizes: no parser error, at most one record per flow', () => {
  const rand = prng(12204);
  const base = crafted();
  for (let i = 0; i < 60; i++) {
    const conv = mutate(base[int(rand, base.length)]!, rand);
    const r = runCrafted((cap) => {
      const c = new TcpConnection(cap, '192.0.2.10:1047', `198.51.100.5:${[443, 4444, 8443][i % 3]}`, { mss: 1 + int(rand, 1460) });
      c.handshake();
      for (const { dir, data } of conv) if (data.length > 0) c.send(dir === 0 ? 'client' : 'server', data);
      c.close();
    });
    assert.equal(r.pipeline.app?.counters.parserErrors ?? 0, 0);
    assert.ok(r.tls.length <= 1);
  }
});
