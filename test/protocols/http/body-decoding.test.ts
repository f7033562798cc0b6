import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deflateRawSync, deflateSync, gunzipSync, gzipSync } from 'node:zlib';
import { contentCodings } from '../../../src/protocols/http/body.js';
import { DEFAULT_HTTP_LIMITS } from '../../../src/protocols/http/limits.js';
import { HttpParser } from '../../../src/protocols/http/parse.js';
import type { HttpTransaction } from '../../../src/protocols/http/transaction.js';
import { bytes, CUTTINGS, run, snapshots, text, type Segment } from './craft.js';

const GET: Segment = [0, 'GET /f HTTP/1.1\r\nHost: a\r\n\r\n'];

/** A response carrying `body` with the given Content-Encoding, framed by Content-Length or chunked. */
function response(body: Uint8Array, encoding: string | null, chunked = false): Segment {
  const ce = encoding === null ? '' : `Content-Encoding: ${encoding}\r\n`;
  if (!chunked) return [1, Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\n${ce}Content-Length: ${body.length}\r\n\r\n`), body])];
  const parts: Buffer[] = [Buffer.from(`HTTP/1.1 200 OK\r\n${ce}Transfer-Encoding: chunked\r\n\r\n`)];
  for (let i = 0; i < body.length; i += 1000) {
    const piece = body.subarray(i, i + 1000);
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), Buffer.from(piece), Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return [1, Buffer.concat(parts)];
}

const PAGE = Buffer.from('<html>' + 'decoded body text '.repeat(300) + '</html>');

describe('response and request bodies: dechunked, decompressed, capped', () => {
  const forms: Array<[string, Uint8Array, string]> = [
    ['gzip', gzipSync(PAGE), 'gzip'],
    ['x-gzip', gzipSync(PAGE), 'x-gzip'],
    ['deflate, zlib-wrapped', deflateSync(PAGE), 'deflate'],
    ['deflate, raw (as libhtp accepts)', deflateRawSync(PAGE), 'deflate'],
    ['gzip labelled deflate', gzipSync(PAGE), 'deflate'],
    ['two layers', deflateSync(gzipSync(PAGE)), 'gzip, deflate'],
  ];
  for (const [name, comp, ce] of forms) {
    test(`${name}: the body is the decompressed page, the same for every cutting and framing`, () => {
      for (const chunked of [false, true]) {
        const segs = [GET, response(comp, ce, chunked)];
        const expected = snapshots(run(segs));
        const res = run(segs).txs[0]!.response;
        assert.ok(Buffer.from(res.body.bytes).equals(PAGE), `${name} chunked=${chunked}`);
        assert.equal(res.length, comp.length);
        assert.equal(res.decodedLength, PAGE.length);
        assert.ok(res.complete);
        for (const how of CUTTINGS) assert.deepEqual(snapshots(run(segs, how)), expected);
      }
    });
  }

  test('Content-Encoding values are read as libhtp reads them', () => {
    const ce = (v: string) => contentCodings(bytes(v), 2);
    assert.deepEqual(ce('GZIP'), { layers: ['gzip'], events: [] });
    assert.deepEqual(ce('gzip, deflate'), { layers: ['deflate', 'gzip'], events: [] }, 'the last applied comes off first');
    assert.deepEqual(ce('identity'), { layers: [], events: [] }, 'identity means no coding (suricata-verify http-encoding-identity)');
    assert.deepEqual(ce('identity, gzip'), { layers: ['gzip'], events: [] });
    assert.deepEqual(ce('br'), { layers: [], events: ['ABNORMAL_CE_HEADER'] });
    assert.deepEqual(ce('lzma'), { layers: [], events: [] }, "lzma stays encoded (Suricata's lzma-layers: 0)");
    assert.deepEqual(ce('x-gzip-ish, deflate'), { layers: ['deflate', 'gzip'], events: ['ABNORMAL_CE_HEADER'] });
    assert.deepEqual(ce('gzip, gzip, gzip'), { layers: ['gzip', 'gzip'], events: ['TOO_MANY_ENCODING_LAYERS'] });
  });

  test('three layers: two are decoded (the layer limit), the event is raised', () => {
    const r = run([GET, response(gzipSync(gzipSync(gzipSync(PAGE))), 'gzip, gzip, gzip')]);
    assert.ok(r.txs[0]!.hasEvent('TOO_MANY_ENCODING_LAYERS'));
    const body = Buffer.from(r.txs[0]!.response.body.bytes);
    assert.ok(gunzipSync(body).equals(PAGE), 'what is left is the innermost gzip member');
  });

  test('a body labelled gzip that is not compressed passes through undecoded (libhtp), with the event', () => {
    const plain = Buffer.from('plain text, not gzip at all: <script>alert(1)</script>');
    for (const how of CUTTINGS) {
      const r = run([GET, response(plain, 'gzip')], how);
      assert.ok(r.txs[0]!.hasEvent('GZIP_DECOMPRESSION_FAILED'));
      assert.equal(text(r.txs[0]!.response.body.bytes), plain.toString('latin1'));
    }
  });

  test('a stream corrupted midway keeps what decoded, then passes the rest through', () => {
    const comp = Buffer.from(deflateRawSync(Buffer.from('A'.repeat(100) + 'B'.repeat(100)), { level: 0 }));
    comp[0] = 0x00; // a stored, non-final block...
    const broken = Buffer.concat([comp.subarray(0, 60), Buffer.from([0xff, 0xff, 0xff])]);
    const r = run([GET, response(broken, 'deflate')]);
    assert.ok(r.txs[0]!.hasEvent('GZIP_DECOMPRESSION_FAILED') || r.txs[0]!.response.complete);
    assert.equal(r.parser.internalErrors, 0);
  });

  test('a request body is decompressed as well (Suricata enables request decompression)', () => {
    const comp = gzipSync(Buffer.from('user=admin&pass=x'));
    const r = run([[0, Buffer.concat([Buffer.from(`POST /login HTTP/1.1\r\nHost: a\r\nContent-Encoding: gzip\r\nContent-Length: ${comp.length}\r\n\r\n`), comp])]]);
    assert.equal(text(r.txs[0]!.request.body.bytes), 'user=admin&pass=x');
  });

  test('bodies are kept up to 100 KiB; the rest is counted', () => {
    const big = Buffer.alloc(300 * 1024, 0x61);
    const r = run([GET, response(big, null)], 65536);
    const res = r.txs[0]!.response;
    assert.equal(res.body.bytes.length, DEFAULT_HTTP_LIMITS.responseBodyLimit);
    assert.ok(res.body.truncated);
    assert.equal(res.length, big.length);
    assert.equal(res.decodedLength, big.length);
    const small = run([GET, response(big, null)], 65536, { responseBodyLimit: 10 }).txs[0]!.response;
    assert.equal(text(small.body.bytes), 'aaaaaaaaaa');
  });

  test('every decoded byte reaches onBodyData, kept or not (for files)', () => {
    const data = Buffer.alloc(500 * 1024, 0x62);
    const comp = gzipSync(data);
    let seen = 0;
    const p = new HttpParser({ onBodyData: (_tx, dir, d) => (seen += dir === 1 ? d.length : 0) });
    p.data(0, bytes(GET[1]));
    p.data(1, bytes(response(comp, 'gzip')[1]));
    p.close();
    assert.equal(seen, data.length);
  });

  test('a decompression bomb (two gzip layers, ratio past 2048) is stopped at about 1 MiB', () => {
    const inner = gzipSync(Buffer.alloc(64 << 20));
    const bomb = gzipSync(inner);
    assert.ok(bomb.length < 70 * 1024, `the bomb is ${bomb.length} bytes`);
    let delivered = 0;
    const events: string[] = [];
    const done: HttpTransaction[] = [];
    const p = new HttpParser({ onBodyData: (_t, _d, d) => (delivered += d.length), onEvent: (e) => events.push(e), onTransactionDone: (t) => done.push(t) });
    const heap0 = process.memoryUsage().heapUsed;
    p.data(0, bytes(GET[1]));
    const seg = response(bomb, 'gzip, gzip')[1];
    p.data(1, bytes(seg));
    const res = done[0]!.response;
    const heap1 = process.memoryUsage().heapUsed;
    assert.ok(events.includes('COMPRESSION_BOMB'));
    assert.ok(res.decodedLength > DEFAULT_HTTP_LIMITS.compressionBombLimit);
    assert.ok(res.decodedLength < DEFAULT_HTTP_LIMITS.compressionBombLimit + 64 * 1024, `stopped at ${res.decodedLength}`);
    assert.equal(delivered, res.decodedLength);
    assert.equal(res.body.bytes.length, DEFAULT_HTTP_LIMITS.responseBodyLimit);
    assert.ok(res.complete, 'the message still completes: only decoding stopped');
    assert.equal(res.length, bomb.length);
    assert.ok(heap1 - heap0 < 32 << 20, `heap grew ${(heap1 - heap0) >> 20} MiB`);
  });

  test('the bomb stops at the same point however the bytes are cut', () => {
    const bomb = gzipSync(gzipSync(Buffer.alloc(8 << 20)));
    const segs = [GET, response(bomb, 'gzip, gzip')];
    const lengths = CUTTINGS.map((how) => run(segs, how).txs[0]!.response.decodedLength);
    assert.ok(lengths.every((n) => n === lengths[0]), lengths.join(' '));
  });

  test('one layer cannot pass the ratio, so decompressMaxBytes bounds the work', () => {
    const comp = gzipSync(Buffer.alloc(64 << 20));
    const r = run([GET, response(comp, 'gzip')], 'whole', { decompressMaxBytes: 4 << 20 });
    const res = r.txs[0]!.response;
    assert.ok(r.txs[0]!.hasEvent('COMPRESSION_BOMB'));
    assert.ok(res.decodedLength > 4 << 20 && res.decodedLength <= (4 << 20) + 8192);
    const ok = run([GET, response(gzipSync(Buffer.alloc(2 << 20)), 'gzip')], 'whole', { decompressMaxBytes: 4 << 20 });
    assert.ok(!ok.txs[0]!.hasEvent('COMPRESSION_BOMB'), 'a 2 MiB page at ratio ~1000 is not a bomb');
    assert.equal(ok.txs[0]!.response.decodedLength, 2 << 20);
  });
});
