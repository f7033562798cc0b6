/**
 * Hostile input for the session: random and mutated datagrams, random and mutated streams cut
 * into random chunks with random gaps. Nothing may throw, what the session reports must be well
 * formed, and what it holds stays within its bound. Seeded: a failure replays.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_HELD_BYTES, probeDns } from '../../../src/protocols/dns/index.js';
import { prng } from '../../helpers.js';
import { everyTypeResponse, labels, message, ptr, rd, u16 } from './build.js';
import { session, type Reported } from './harness.js';

type Rand = () => number;
const int = (rand: Rand, n: number): number => Math.floor(rand() * n);

const EVENTS = new Set(['malformed_data', 'not_request', 'not_response', 'z_flag_set', 'invalid_opcode', 'name_too_long', 'infinite_loop', 'too_many_labels', 'invalid_authorities', 'invalid_additionals']);

function seeds(): Buffer[] {
  const long = Array.from({ length: 18 }, () => 'q'.repeat(63)).join('.');
  return [
    everyTypeResponse(),
    message({ id: 1, questions: [{ name: labels('www.example.com'), type: 1 }], additionals: [{ name: labels(''), type: 41, class: 4096, rdata: rd.opt([8, Buffer.from('0001180ac0a801', 'hex')]) }] }),
    message({ id: 2, flags: 0x8183, questions: [{ name: labels(long), type: 28 }], authorities: [{ name: ptr(12), type: 6, rdata: rd.soa(ptr(12), labels('h.example'), 1, 2, 3, 4, 5) }] }),
    message({ id: 3, flags: 0x8180, questions: [{ name: labels('a'), type: 1 }], answers: [{ name: ptr(12), type: 5, rdata: ptr(12) }, { name: ptr(12), type: 16, rdata: rd.txt('x', 'y') }] }),
    message({ id: 4, flags: 0x0140 | (9 << 11), questions: [{ name: Buffer.concat([Buffer.from([1, 0x61]), ptr(12)]), type: 255 }] }),
  ];
}

function mutate(rand: Rand, b: Buffer): Buffer {
  const out = Buffer.from(b);
  switch (int(rand, 5)) {
    case 0:
      for (let i = 0, n = 1 + int(rand, 6); i < n && out.length > 0; i++) {
        const at = int(rand, out.length);
        out[at] = out[at]! ^ (1 << int(rand, 8));
      }
      return out;
    case 1:
      return out.subarray(0, int(rand, out.length + 1));
    case 2: {
      const at = int(rand, out.length + 1);
      return Buffer.concat([out.subarray(0, at), Buffer.from(Array.from({ length: int(rand, 20) }, () => int(rand, 256))), out.subarray(at)]);
    }
    case 3:
      // A header count made large: the parser must not trust it.
      if (out.length >= 12) out.writeUInt16BE(int(rand, 0x10000), 4 + 2 * int(rand, 4));
      return out;
    default:
      // A pointer aimed anywhere.
      if (out.length >= 14) ptr(int(rand, out.length + 4)).copy(out, 12 + int(rand, out.length - 13));
      return out;
  }
}

function randomBytes(rand: Rand, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = int(rand, 256);
  return b;
}

/** What the session reported must be well formed: JSON-able records, known events, transactions that answer. */
function checkReported(got: Reported): void {
  for (const r of got.records) {
    assert.equal(r.eventType, 'dns');
    assert.equal(typeof JSON.stringify(r.body), 'string');
  }
  for (const a of got.anomalies) assert.ok(EVENTS.has(a.event), a.event);
  let last = -1;
  for (const { tx, dir } of got.inspections) {
    assert.ok(tx.id > last, 'transaction ids grow');
    last = tx.id;
    assert.ok(dir === 0 || dir === 1);
    for (const name of ['dns.query', 'dns.queries.rrname', 'dns.answer.name']) for (const side of [0, 1]) tx.buffers(name, side);
    assert.equal(typeof JSON.stringify(tx.alertMetadata()), 'string');
  }
  got.records.length = 0;
  got.inspections.length = 0;
  got.anomalies.length = 0;
  got.order.length = 0;
}

test('UDP: random and mutated datagrams never throw; reports stay well formed', () => {
  const rand = prng(0xdead);
  const base = seeds();
  let txs = 0;
  for (let flow = 0; flow < 300; flow++) {
    const { s, got } = session('udp', flow % 2 === 0 ? 2 : 3);
    for (let i = 0; i < 40; i++) {
      const b = rand() < 0.2 ? randomBytes(rand, int(rand, 80)) : mutate(rand, base[int(rand, base.length)]!);
      s.data(int(rand, 2), b, 0, b.length);
      txs += got.inspections.length;
      checkReported(got);
    }
    s.close();
  }
  assert.ok(txs > 1000, `many mutants still parse: ${txs} transactions`);
});

/** A side's stream: its messages framed, a few mutated or lying about their length, some random junk. */
function stream(rand: Rand, messages: Buffer[], hostile: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < 30; i++) {
    const m = rand() < hostile ? (rand() < 0.8 ? mutate(rand, messages[int(rand, messages.length)]!) : randomBytes(rand, int(rand, 60))) : messages[int(rand, messages.length)]!;
    parts.push(rand() < 1 - hostile / 10 ? u16(m.length) : u16(int(rand, 0x10000)), m);
  }
  return Buffer.concat(parts);
}

test('TCP: random and mutated streams, cut anywhere, both sides interleaved, with gaps: never throw, never hold more than one message per side', () => {
  const rand = prng(0xbeef);
  const base = seeds();
  const queries = [base[1]!, base[4]!, message({ id: 9, questions: [{ name: labels('q.example'), type: 16 }] })];
  const responses = [base[0]!, base[2]!, base[3]!];
  let txs = 0;
  let stopped = 0;
  let most = 0;
  for (let flow = 0; flow < 300; flow++) {
    const { s, got } = session('tcp', flow % 2 === 0 ? 2 : 3);
    const hostile = [0.02, 0.1, 0.5][flow % 3]!;
    const sides = [stream(rand, queries, hostile), stream(rand, responses, hostile)];
    const at = [0, 0];
    let flowTxs = 0;
    while (at[0]! < sides[0]!.length || at[1]! < sides[1]!.length) {
      const dir = at[0]! >= sides[0]!.length ? 1 : at[1]! >= sides[1]!.length ? 0 : int(rand, 2);
      const n = Math.min(1 + int(rand, 300), sides[dir]!.length - at[dir]!);
      if (rand() < 0.01) {
        s.gap(dir, n);
      } else {
        s.data(dir, sides[dir]!, at[dir]!, n);
      }
      at[dir]! += n;
      most = Math.max(most, s.buffered);
      assert.ok(s.buffered <= 2 * MAX_HELD_BYTES);
      flowTxs += got.inspections.length;
      checkReported(got);
    }
    txs += flowTxs;
    if (flowTxs < 60) stopped++;
    s.close();
    assert.equal(s.buffered, 0);
  }
  assert.ok(txs > 3000, `the streams made transactions: ${txs}`);
  assert.ok(stopped > 50, `hostile streams stop the flow's parsing, as Suricata's parser error does: ${stopped} of 300`);
  assert.ok(most <= 2 * MAX_HELD_BYTES, `held at most ${most} bytes`);
});

test('TCP: a stream of lengths announcing 65535 bytes, fed slowly, holds at most one message per side', () => {
  const { s } = session('tcp');
  const chunk = Buffer.alloc(4096, 0xff);
  for (let i = 0; i < 64; i++) {
    s.data(i & 1, chunk, 0, chunk.length);
    assert.ok(s.buffered <= 2 * MAX_HELD_BYTES);
  }
});

test('the probe never throws and answers yes, no or more on anything', () => {
  const rand = prng(0xf00d);
  const base = seeds();
  for (let i = 0; i < 50_000; i++) {
    const b = rand() < 0.5 ? mutate(rand, base[int(rand, base.length)]!) : randomBytes(rand, int(rand, 100));
    const framed = rand() < 0.5 ? Buffer.concat([u16(b.length), b]) : b;
    assert.ok(['yes', 'no', 'more'].includes(probeDns(int(rand, 2), framed, rand() < 0.5 ? 53 : int(rand, 0x10000))));
  }
});
