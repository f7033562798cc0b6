/**
 * Hostile input through the whole HTTP session (parser, inspections, buffers, files, records):
 * mutated crafted exchanges, cut at random, with gaps and half-closes, never let an exception
 * out, and what the session holds and hands out stays bounded. Seeded: a failure replays.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { HTTP_BUFFERS } from '../../../src/protocols/http/buffers.js';
import { DEFAULT_HTTP_LIMITS } from '../../../src/protocols/http/limits.js';
import { HttpSession } from '../../../src/protocols/http/session.js';
import { prng } from '../../helpers.js';
import { bytes, FakeOutput, fakePeHeader, type Segment } from './craft.js';

type Rand = () => number;

const gz = gzipSync(Buffer.from('<html>'.padEnd(5000, 'fuzzed body ')));
const MULTIPART = '--B\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n\r\nfile bytes\r\n--B\r\nContent-Disposition: form-data; name="x"\r\n\r\nfield\r\n--B--\r\n';

/** Well-formed exchanges that reach the session's paths: bodies, files, multipart, gzip, pipelining, CONNECT, 0.9. */
const CORPUS: Segment[][] = [
  [
    [0, 'GET /a/../b?x=%41 HTTP/1.1\r\nHost: h:8080\r\nUser-Agent: u\r\nCookie: c=1\r\n\r\nPOST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello'],
    [1, 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nSet-Cookie: s\r\n\r\nabcHTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n'],
  ],
  [
    [0, `POST /up HTTP/1.1\r\nHost: h\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: ${MULTIPART.length}\r\n\r\n${MULTIPART}`],
    [1, Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n${gz.length.toString(16)}\r\n`), gz, Buffer.from('\r\n0\r\nX-T: 1\r\n\r\n')])],
  ],
  [
    [0, 'GET /dl.exe HTTP/1.0\r\n\r\n'],
    [1, Buffer.concat([Buffer.from('HTTP/1.0 200 OK\r\nContent-Disposition: attachment; filename="x.exe"\r\nContent-Range: bytes 0-99/4096\r\n\r\n'), fakePeHeader(4096)])],
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

const FRAGMENTS = ['\r\n', '\n', ' ', ':', '0', 'chunked', 'Content-Length: 7\r\n', 'Transfer-Encoding: chunked\r\n', 'HTTP/1.1 ', 'POST ', '%', '\x00', '\x1f\x8b', '\r\n\r\n', 'ffffffff\r\n', '--B\r\n', 'filename="', ';'];

function mutate(rnd: Rand, data: Uint8Array): Uint8Array {
  const b = Array.from(data);
  const edits = 1 + Math.floor(rnd() * 6);
  for (let k = 0; k < edits; k++) {
    const at = Math.floor(rnd() * (b.length + 1));
    const r = rnd();
    if (r < 0.2 && b.length > 0) b[Math.min(at, b.length - 1)] = Math.floor(rnd() * 256);
    else if (r < 0.4) b.splice(at, Math.floor(rnd() * 16));
    else if (r < 0.6) b.splice(at, 0, ...Array.from({ length: 1 + Math.floor(rnd() * 16) }, () => Math.floor(rnd() * 256)));
    else if (r < 0.85) b.splice(at, 0, ...Array.from(Buffer.from(FRAGMENTS[Math.floor(rnd() * FRAGMENTS.length)]!, 'latin1')));
    else {
      const from = Math.floor(rnd() * b.length);
      b.splice(at, 0, ...b.slice(from, from + Math.floor(rnd() * 64)));
    }
  }
  return Uint8Array.from(b);
}

/** Runs one connection through a session, checking every inspection; returns what came out. */
function exercise(rnd: Rand, segments: readonly Segment[]): FakeOutput {
  let input = 0;
  for (const [, d] of segments) input += bytes(d).length;
  const bodyMax = Math.max(DEFAULT_HTTP_LIMITS.requestBodyLimit, DEFAULT_HTTP_LIMITS.responseBodyLimit);
  const out = new FakeOutput();
  out.onInspect = (tx, dir) => {
    for (const name of HTTP_BUFFERS) {
      for (const side of [0, 1]) {
        const b = tx.buffer(name, side);
        if (b === null) continue;
        assert.ok(b instanceof Uint8Array, name);
        // Normalised headers add at most ": " and "\r\n" per line to what came; bodies stay under the limit.
        const cap = name.endsWith('body') || name === 'file.data' ? bodyMax : 3 * input + 16;
        assert.ok(b.length <= cap, `${name}[${side}] is ${b.length} bytes from ${input}`);
      }
    }
    JSON.stringify(tx.alertMetadata?.());
    assert.ok(dir === 0 || dir === 1);
  };
  const s = new HttpSession(out);
  let scratch = Buffer.alloc(0);
  for (const [dir, data] of segments) {
    const d = bytes(data);
    for (let i = 0; i < d.length; ) {
      const n = Math.min(d.length - i, 1 + Math.floor(rnd() * (rnd() < 0.1 ? 2000 : 48)));
      if (scratch.length < n) scratch = Buffer.alloc(2 * n);
      scratch.set(d.subarray(i, i + n));
      s.data(dir, scratch, 0, n);
      scratch.fill(0xee, 0, n);
      i += n;
      const r = rnd();
      if (r < 0.01) s.gap(dir, 1 + Math.floor(rnd() * 100));
      else if (r < 0.015) s.end(dir);
      assert.ok(s.openTransactions <= DEFAULT_HTTP_LIMITS.maxTransactions);
    }
  }
  s.close();
  assert.equal(s.parser.internalErrors, 0, 'the parser never caught an exception of its own');
  assert.equal(s.openTransactions, 0, 'everything is let go at the close');
  // Each transaction is logged once (in the order they finish, as Suricata's logger also may), ids from 0 up without holes.
  const ids = out.log.flatMap((e) => (e.kind === 'record' ? [e.txId!] : []));
  assert.deepEqual([...ids].sort((a, b) => a - b), ids.map((_, i) => i));
  for (const f of out.files) {
    assert.ok(ids.includes(f.tx_id), `file of transaction ${f.tx_id}`);
    assert.ok(f.size <= bodyMax);
    assert.match(f.sha256, /^[0-9a-f]{64}$/);
  }
  for (const r of out.records) JSON.stringify(r);
  return out;
}

describe('fuzzing the HTTP session', () => {
  test('mutated exchanges (3000), cut at random with gaps and half-closes: nothing thrown, everything bounded and logged once', () => {
    const rnd = prng(4242);
    const kinds = new Set<string>();
    let files = 0;
    for (let t = 0; t < 3000; t++) {
      const base = CORPUS[t % CORPUS.length]!;
      const segments: Segment[] = base.map(([dir, d]) => [dir, rnd() < 0.7 ? mutate(rnd, bytes(d)) : bytes(d)]);
      const out = exercise(rnd, segments);
      for (const e of out.log) kinds.add(e.kind === 'anomaly' ? e.event : e.kind);
      files += out.files.length;
    }
    // The mutations reach inspections, records, files and the anomaly paths, not just the happy one.
    for (const k of ['inspect', 'record', 'file']) assert.ok(kinds.has(k), k);
    assert.ok(kinds.size >= 20, `kinds seen: ${[...kinds].join(' ')}`);
    assert.ok(files > 2000, `${files} files`);
  });

  test('random bytes on both sides (2000 connections)', () => {
    const rnd = prng(7);
    for (let t = 0; t < 2000; t++) {
      const segments: Segment[] = [];
      for (let i = 0, n = 1 + Math.floor(rnd() * 5); i < n; i++) {
        const prefix = rnd() < 0.5 ? (rnd() < 0.5 ? 'GET / HTTP/1.1\r\n' : 'HTTP/1.1 200 OK\r\n') : '';
        segments.push([rnd() < 0.5 ? 0 : 1, Buffer.concat([Buffer.from(prefix), Buffer.from(Array.from({ length: Math.floor(rnd() * 500) }, () => Math.floor(rnd() * 256)))])]);
      }
      exercise(rnd, segments);
    }
  });

  test('a client pipelining without end while the server stays silent holds at most max-tx transactions', () => {
    const out = new FakeOutput();
    const s = new HttpSession(out);
    const burst = Buffer.from('POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx'.repeat(100));
    for (let i = 0; i < 20; i++) {
      s.data(0, burst, 0, burst.length);
      assert.ok(s.openTransactions <= DEFAULT_HTTP_LIMITS.maxTransactions);
    }
    assert.ok(out.anomalies.includes('0:TOO_MANY_TRANSACTIONS'));
    s.close();
    assert.equal(s.openTransactions, 0);
    assert.equal(out.records.length, DEFAULT_HTTP_LIMITS.maxTransactions);
  });
});
