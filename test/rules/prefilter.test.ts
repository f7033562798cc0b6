import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MIN_PATTERN, PatternSet } from '../../src/rules/prefilter.js';
import { prng } from '../helpers.js';

/** The patterns present in buf, found the slow way: every position, every pattern, ASCII case folded. */
function naive(patterns: Uint8Array[], buf: Uint8Array, start: number, end: number): number[] {
  const low = (c: number): number => (c >= 0x41 && c <= 0x5a ? c | 0x20 : c);
  const found: number[] = [];
  patterns.forEach((p, id) => {
    for (let s = start; s + p.length <= end; s++) {
      let j = 0;
      while (j < p.length && low(buf[s + j]!) === low(p[j]!)) j++;
      if (j === p.length) {
        found.push(id);
        return;
      }
    }
  });
  return found;
}

test('the prefilter finds exactly the patterns a naive search finds, at any alignment, in any letter case', () => {
  const rand = prng(7);
  const alphabet = Buffer.from('abcABC01\x00\xff');
  for (let round = 0; round < 300; round++) {
    const patterns = Array.from({ length: 1 + Math.floor(rand() * 40) }, () =>
      Uint8Array.from({ length: MIN_PATTERN + Math.floor(rand() * 6) }, () => alphabet[Math.floor(rand() * alphabet.length)]!),
    );
    const set = new PatternSet();
    patterns.forEach((p, id) => set.add(id, p));
    set.build();
    const buf = Uint8Array.from({ length: Math.floor(rand() * 300) }, () => alphabet[Math.floor(rand() * alphabet.length)]!);
    const start = Math.floor(rand() * 10);
    const end = Math.max(start, buf.length - Math.floor(rand() * 10));
    const out: number[] = [];
    set.scan(buf, start, end, new Uint32Array(patterns.length), round + 1, out);
    assert.deepEqual(out.sort((a, b) => a - b), naive(patterns, buf, start, end), `round ${round}`);
  }
});

test('patterns shorter than the prefilter takes are refused (the engine finds those rules another way)', () => {
  assert.throws(() => new PatternSet().add(0, Uint8Array.from([1, 2, 3])), /4 bytes or more/);
});
