import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { constants, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { Inflater } from '../../../src/protocols/http/inflate.js';
import { prng } from '../../helpers.js';

/** Inflates `comp` fed in pieces of `piece` bytes; returns the status and everything produced. */
function inflate(comp: Uint8Array, piece: number): { status: string; out: Buffer; consumed: number } {
  const inf = new Inflater('auto');
  const parts: Buffer[] = [];
  const sink = (d: Uint8Array): boolean => {
    parts.push(Buffer.from(d));
    return true;
  };
  for (let i = 0; i < comp.length; i += piece) inf.write(comp.subarray(i, i + piece), sink);
  inf.finish(sink);
  return { status: inf.status, out: Buffer.concat(parts), consumed: inf.consumed };
}

/** Data that compresses somewhat: runs, repeats and noise. */
function sample(rnd: () => number, n: number): Buffer {
  const data = Buffer.alloc(n);
  const alphabet = 1 + Math.floor(rnd() * 255);
  for (let i = 0; i < n; i++) {
    data[i] = i > 16 && rnd() < 0.4 ? data[i - 1 - Math.floor(rnd() * 16)]! : Math.floor(rnd() * alphabet);
  }
  return data;
}

describe('Inflater', () => {
  test('decodes what node:zlib encodes, in gzip, zlib and raw form, however the input is cut', () => {
    const rnd = prng(42);
    for (let t = 0; t < 120; t++) {
      const data = sample(rnd, Math.floor(rnd() * 40000));
      const level = Math.floor(rnd() * 10);
      const strategy = t % 4 === 0 ? constants.Z_FIXED : t % 4 === 1 ? constants.Z_HUFFMAN_ONLY : constants.Z_DEFAULT_STRATEGY;
      const forms = [gzipSync(data, { level, strategy }), deflateSync(data, { level, strategy }), deflateRawSync(data, { level, strategy })];
      for (const comp of forms) {
        for (const piece of [1, 5, 333, comp.length || 1]) {
          if (piece === 1 && comp.length > 3000) continue;
          const r = inflate(comp, piece);
          assert.equal(r.status, 'end', `case ${t} piece ${piece}`);
          assert.ok(r.out.equals(data), `case ${t} piece ${piece}: output differs`);
        }
      }
    }
  });

  test('stored blocks, empty input, and gzip header fields (name, comment, extra, header CRC)', () => {
    const data = Buffer.from('stored '.repeat(5000));
    assert.ok(inflate(deflateRawSync(data, { level: 0 }), 7).out.equals(data));
    assert.equal(inflate(gzipSync(Buffer.alloc(0)), 1).out.length, 0);
    // A gzip member with FEXTRA, FNAME, FCOMMENT and FHCRC set, around a raw deflate stream.
    const body = deflateRawSync(Buffer.from('with header fields'));
    const header = Buffer.concat([
      Buffer.from([0x1f, 0x8b, 8, 2 | 4 | 8 | 16, 0, 0, 0, 0, 0, 3]),
      Buffer.from([3, 0, 1, 2, 3]),
      Buffer.from('name.txt\0'),
      Buffer.from('a comment\0'),
      Buffer.from([0xaa, 0xbb]),
    ]);
    const r = inflate(Buffer.concat([header, body, Buffer.alloc(8)]), 1);
    assert.equal(r.status, 'end');
    assert.equal(r.out.toString(), 'with header fields');
  });

  test('what follows the end of the stream is ignored', () => {
    const r = inflate(Buffer.concat([gzipSync('abc'), Buffer.from('trailing garbage')]), 3);
    assert.equal(r.status, 'end');
    assert.equal(r.out.toString(), 'abc');
  });

  test('garbage is an error, never an exception, and the remainder is what was not decoded', () => {
    const rnd = prng(7);
    for (let t = 0; t < 2000; t++) {
      const junk = Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 200) }, () => Math.floor(rnd() * 256)));
      const inf = new Inflater('auto');
      const st = inf.write(junk, () => true);
      assert.ok(['more', 'end', 'error'].includes(st));
      if (st === 'error') assert.ok(inf.remainder().length <= junk.length);
    }
    const plain = new Inflater('auto');
    assert.equal(plain.write(Buffer.from('this is not compressed at all'), () => true), 'error');
  });

  test('corrupting a valid stream is caught or decodes to something, never throws', () => {
    const rnd = prng(9);
    const base = gzipSync(sample(rnd, 20000));
    for (let t = 0; t < 500; t++) {
      const bad = Buffer.from(base);
      for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++) bad[Math.floor(rnd() * bad.length)] = Math.floor(rnd() * 256);
      const r = inflate(bad, 1 + Math.floor(rnd() * 100));
      assert.ok(r.out.length <= 20000 + 258 * 40000);
    }
  });

  test('the sink can stop it mid-stream, and output comes in pieces of at most 8 KiB', () => {
    const comp = gzipSync(Buffer.alloc(1 << 20));
    const inf = new Inflater('auto');
    let got = 0;
    let biggest = 0;
    inf.write(comp, (d) => {
      got += d.length;
      biggest = Math.max(biggest, d.length);
      return got < 100000;
    });
    assert.equal(inf.status, 'stopped');
    assert.ok(got >= 100000 && got < 100000 + 8192);
    assert.ok(biggest <= 8192);
    assert.ok(inf.consumed < comp.length);
  });

  test('consumed input at each flush does not depend on how the input was cut', () => {
    const comp = gzipSync(sample(prng(3), 200000));
    const trace = (piece: number): string => {
      const inf = new Inflater('auto');
      const seen: string[] = [];
      const sink = (d: Uint8Array): boolean => {
        seen.push(`${inf.total}@${inf.consumed}:${d.length}`);
        return true;
      };
      for (let i = 0; i < comp.length; i += piece) inf.write(comp.subarray(i, i + piece), sink);
      inf.finish(sink);
      return seen.join(',');
    };
    const whole = trace(comp.length);
    assert.equal(trace(1), whole);
    assert.equal(trace(97), whole);
  });

  test('throughput on its worst case (runs of one byte), the basis of decompressMaxBytes', () => {
    const comp = gzipSync(Buffer.alloc(16 << 20));
    const t0 = performance.now();
    const r = inflate(comp, 65536);
    const ms = performance.now() - t0;
    assert.equal(r.out.length, 16 << 20);
    console.log(`inflate: ${((16 << 20) / 1e6 / (ms / 1000)).toFixed(0)} MB/s on runs of zeros`);
    assert.ok(ms < 10000);
  });
});
