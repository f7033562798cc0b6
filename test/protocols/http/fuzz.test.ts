import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deflateSync, gzipSync } from 'node:zlib';
import { DEFAULT_HTTP_LIMITS } from '../../../src/protocols/http/limits.js';
import type { HttpMessage, HttpTransaction } from '../../../src/protocols/http/transaction.js';
import { prng } from '../../helpers.js';
import { bytes, run, snapshots, type Cutting, type Segment } from './craft.js';

/** Bytes a transaction holds on to (lines, headers, kept bodies). */
function retained(tx: HttpTransaction): { raw: number; body: number } {
  const m = (x: HttpMessage): number => {
    let n = (x.line?.length ?? 0) + (x.protocol?.length ?? 0) + x.headersRaw.bytes.length;
    for (const h of x.headers.list) n += h.name.length + h.value.length;
    for (const f of x.headers.fields()) n += f.value.length;
    return n;
  };
  const q = tx.request;
  const raw = m(q) + m(tx.response) + (q.method?.length ?? 0) + 2 * (q.uri?.length ?? 0) + (q.host?.length ?? 0) + (tx.response.message?.length ?? 0);
  return { raw, body: q.body.bytes.length + tx.response.body.bytes.length };
}

function checkBounded(segments: readonly Segment[], how: Cutting): void {
  const r = run(segments, how);
  assert.equal(r.parser.internalErrors, 0);
  let input = 0;
  for (const [, d] of segments) input += bytes(d).length;
  let raw = 0;
  for (const tx of r.txs) {
    const k = retained(tx);
    raw += k.raw;
    assert.ok(tx.request.body.bytes.length <= DEFAULT_HTTP_LIMITS.requestBodyLimit);
    assert.ok(tx.response.body.bytes.length <= DEFAULT_HTTP_LIMITS.responseBodyLimit);
    // Undecoded bodies are never more than what came; decoded ones stay under the inspection limit.
    if (tx.request.codings.length === 0) assert.ok(tx.request.body.bytes.length <= input);
    if (tx.response.codings.length === 0) assert.ok(tx.response.body.bytes.length <= input);
    for (const m of [tx.request, tx.response]) if (m.line !== null) assert.ok(m.line.length <= DEFAULT_HTTP_LIMITS.fieldLimit);
  }
  // Header bytes are kept about three times (raw block, split lines, combined table) plus the URI twice.
  assert.ok(raw <= 5 * input + 64, `kept ${raw} raw bytes from ${input}`);
}

const gz = gzipSync(Buffer.from('compressed '.repeat(200)));
const zl = deflateSync(Buffer.from('zlib '.repeat(100)));

const CORPUS: Segment[][] = [
  [
    [0, 'GET /a/../b?x=%41 HTTP/1.1\r\nHost: h:80\r\nUser-Agent: u\r\nCookie: c=1\r\n\r\nPOST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello'],
    [1, 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n'],
  ],
  [
    [0, 'POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n4;e=1\r\nabcd\r\n0\r\nT: v\r\n\r\n'],
    [1, Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n${gz.length.toString(16)}\r\n`), gz, Buffer.from('\r\n0\r\n\r\n')])],
  ],
  [
    [0, 'HEAD / HTTP/1.1\r\nHost: h\r\n\r\nGET /z HTTP/1.1\r\nHost: h\r\n\r\n'],
    [1, Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nHTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nContent-Length: ${zl.length}\r\n\r\n`), zl])],
  ],
  [
    [0, 'PUT /u HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n'],
    [1, 'HTTP/1.1 100 Continue\r\n\r\n'],
    [0, 'okGET /0.9\r\n'],
    [1, 'HTTP/1.1 204 No Content\r\n\r\nno status line here'],
  ],
  [
    [0, 'CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n\x16\x03\x01'],
    [1, 'HTTP/1.1 200 OK\r\n\r\n\x16\x03\x03'],
  ],
];

const FRAGMENTS = ['\r\n', '\n', ' ', '\t', ':', '0', 'chunked', 'Content-Length: 7\r\n', 'Transfer-Encoding: chunked\r\n', 'HTTP/1.1 ', 'GET ', '%', '%u', '\x00', '\x1f\x8b', '\r\n\r\n', 'ffffffff\r\n'];

function mutate(rnd: () => number, data: Uint8Array): Uint8Array {
  const b = Array.from(data);
  const edits = 1 + Math.floor(rnd() * 6);
  for (let k = 0; k < edits; k++) {
    const at = Math.floor(rnd() * (b.length + 1));
    switch (Math.floor(rnd() * 6)) {
      case 0:
        if (b.length > 0) b[Math.min(at, b.length - 1)] = Math.floor(rnd() * 256);
        break;
      case 1:
        b.splice(at, Math.floor(rnd() * 16));
        break;
      case 2:
        b.splice(at, 0, ...Array.from({ length: 1 + Math.floor(rnd() * 16) }, () => Math.floor(rnd() * 256)));
        break;
      case 3: {
        const f = FRAGMENTS[Math.floor(rnd() * FRAGMENTS.length)]!;
        b.splice(at, 0, ...Array.from(Buffer.from(f, 'latin1')));
        break;
      }
      case 4: {
        const from = Math.floor(rnd() * b.length);
        b.splice(at, 0, ...b.slice(from, from + Math.floor(rnd() * 64)));
        break;
      }
      default:
        if (b.length > 0) b[Math.min(at, b.length - 1)] = 0x30 + Math.floor(rnd() * 10);
    }
  }
  return Uint8Array.from(b);
}

describe('fuzzing: hostile bytes never throw and never make the parser hold more than it was given', () => {
  test('random bytes in both directions (3000 connections)', () => {
    const rnd = prng(2024);
    for (let t = 0; t < 3000; t++) {
      const segments: Segment[] = [];
      const n = 1 + Math.floor(rnd() * 6);
      for (let i = 0; i < n; i++) {
        const len = Math.floor(rnd() * 600);
        const printable = rnd() < 0.5;
        const data = Uint8Array.from({ length: len }, () => (printable ? [0x0d, 0x0a, 0x20, 0x3a][Math.floor(rnd() * 4)]! * Number(rnd() < 0.2) || 0x21 + Math.floor(rnd() * 94) : Math.floor(rnd() * 256)));
        segments.push([rnd() < 0.5 ? 0 : 1, data]);
      }
      checkBounded(segments, rnd() < 0.5 ? 'whole' : { seed: t });
    }
  });

  test('random bytes after a valid start (2000 connections)', () => {
    const rnd = prng(77);
    for (let t = 0; t < 2000; t++) {
      const base = CORPUS[t % CORPUS.length]!;
      const segments: Segment[] = base.map(([dir, d]) => [dir, Buffer.concat([bytes(d), Buffer.from(Array.from({ length: Math.floor(rnd() * 300) }, () => Math.floor(rnd() * 256)))])]);
      checkBounded(segments, { seed: t });
    }
  });

  test('mutated valid connections (4000), and a sample cut three ways gives the same transactions', () => {
    const rnd = prng(99);
    let compared = 0;
    const seen = new Set<string>();
    for (let t = 0; t < 4000; t++) {
      const base = CORPUS[t % CORPUS.length]!;
      const segments: Segment[] = base.map(([dir, d]) => [dir, rnd() < 0.6 ? mutate(rnd, bytes(d)) : bytes(d)]);
      checkBounded(segments, 'whole');
      for (const e of run(segments).events) seen.add(e.event);
      if (t % 8 === 0) {
        const whole = snapshots(run(segments, 'whole'));
        assert.deepEqual(snapshots(run(segments, 1)), whole, `mutation ${t}: 1-byte pieces differ`);
        assert.deepEqual(snapshots(run(segments, { seed: t })), whole, `mutation ${t}: random pieces differ`);
        compared++;
      }
    }
    assert.equal(compared, 500);
    // The mutations reach the parser's anomaly paths, not just its happy one.
    console.log(`fuzz: ${seen.size} distinct events: ${[...seen].sort().join(" ")}`);
    assert.ok(seen.size >= 20, `events seen: ${[...seen].join(' ')}`);
  });

  test('long hostile streams stay bounded: endless headers, endless chunks, endless pipelining', () => {
    const headers: Segment[] = [[0, 'GET / HTTP/1.1\r\n' + 'X-A: b\r\n'.repeat(20000)]];
    checkBounded(headers, { seed: 1 });
    const chunks: Segment[] = [[0, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'], [1, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' + '1;ext\r\nx\r\n'.repeat(50000)]];
    checkBounded(chunks, 4096);
    // 5000 requests in bursts of 100, each burst answered before the next: all matched, all let go.
    const pipeline: Segment[] = [];
    for (let i = 0; i < 50; i++) pipeline.push([0, 'GET /x HTTP/1.1\r\nHost: a\r\n\r\n'.repeat(100)], [1, 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx'.repeat(100)]);
    const r = run(pipeline, 8192, {}, { close: false });
    assert.equal(r.txs.length, 5000);
    assert.ok(r.txs.every((tx) => tx.complete && tx.requestSeen));
    assert.equal(r.parser.open.length, 0, 'nothing is held once answered');
  });
});
