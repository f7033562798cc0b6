import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { STREAM_POLICIES } from '../../src/flow/reassembly.js';
import { PieceList, type NewDataWins } from '../../src/wire/pieces.js';

const never: NewDataWins = () => false;
const always: NewDataWins = () => true;

function bytes(text: string): Uint8Array {
  return Buffer.from(text, 'latin1');
}

/** The list as [start, end, text] triples. */
function dump(list: PieceList): Array<[number, number, string]> {
  return list.pieces.map((p) => [p.start, p.end, Buffer.from(p.data).toString('latin1')]);
}

describe('PieceList basics', () => {
  test('pieces are kept sorted by start whatever the insertion order, and bytes counts them', () => {
    const list = new PieceList();
    assert.equal(list.first, undefined);
    assert.deepEqual(list.insert(20, bytes('cc'), 0, 2, never), { overlapped: false, different: false });
    list.insert(0, bytes('aaa'), 0, 3, never);
    list.insert(10, bytes('bbbb'), 0, 4, never);
    assert.deepEqual(dump(list), [[0, 3, 'aaa'], [10, 14, 'bbbb'], [20, 22, 'cc']]);
    assert.equal(list.bytes, 9);
    assert.equal(list.pieces[0]?.start, 0);
  });

  test('insert copies only src[srcOff, srcOff+len) and keeps no view of the caller’s buffer, even a Node Buffer', () => {
    const list = new PieceList();
    const src = bytes('xxHELLOyy');
    list.insert(5, src, 2, 5, never);
    src.fill(0);
    assert.deepEqual(dump(list), [[5, 10, 'HELLO']]);
    assert.deepEqual([list.pieces[0]!.segStart, list.pieces[0]!.segEnd], [5, 10]);
  });

  test('an empty insert changes nothing', () => {
    const list = new PieceList();
    list.insert(0, bytes('ab'), 0, 2, never);
    assert.deepEqual(list.insert(1, bytes(''), 0, 0, always), { overlapped: false, different: false });
    assert.deepEqual(dump(list), [[0, 2, 'ab']]);
  });

  test('adjacent pieces do not count as overlapping', () => {
    const list = new PieceList();
    list.insert(0, bytes('ab'), 0, 2, always);
    assert.deepEqual(list.insert(2, bytes('cd'), 0, 2, always), { overlapped: false, different: false });
    assert.deepEqual(list.insert(-2, bytes('yz'), 0, 2, always), { overlapped: false, different: false });
    assert.deepEqual(dump(list), [[-2, 0, 'yz'], [0, 2, 'ab'], [2, 4, 'cd']]);
  });

  test('shift removes the first piece and its bytes; clear empties the list', () => {
    const list = new PieceList();
    list.insert(10, bytes('later'), 0, 5, never);
    list.insert(0, bytes('first'), 0, 5, never);
    const p = list.shift();
    assert.deepEqual([p?.start, p?.end, Buffer.from(p!.data).toString()], [0, 5, 'first']);
    assert.equal(list.bytes, 5);
    assert.equal(list.first?.start, 10);
    list.clear();
    assert.deepEqual([list.pieces.length, list.bytes, list.shift()], [0, 0, undefined]);
  });

  test('covers is true only for ranges held with no hole', () => {
    const list = new PieceList();
    list.insert(0, bytes('aaaa'), 0, 4, never);
    list.insert(4, bytes('bbbb'), 0, 4, never);
    list.insert(10, bytes('cc'), 0, 2, never);
    assert.equal(list.covers(0, 8), true, 'two adjacent pieces');
    assert.equal(list.covers(2, 6), true);
    assert.equal(list.covers(0, 9), false, 'hole at 8');
    assert.equal(list.covers(10, 12), true);
    assert.equal(list.covers(9, 12), false, 'hole at 9');
    assert.equal(list.covers(11, 13), false, 'past the end');
    assert.equal(list.covers(5, 5), true, 'an empty range');
    assert.equal(new PieceList().covers(0, 1), false);
  });
});

describe('PieceList overlaps', () => {
  test('old data kept: the new segment fills only the holes around and between old pieces', () => {
    const list = new PieceList();
    list.insert(2, bytes('AA'), 0, 2, never);
    list.insert(6, bytes('BB'), 0, 2, never);
    const r = list.insert(0, bytes('xxxxxxxxxx'), 0, 10, never);
    assert.deepEqual(r, { overlapped: true, different: true });
    assert.deepEqual(dump(list), [[0, 2, 'xx'], [2, 4, 'AA'], [4, 6, 'xx'], [6, 8, 'BB'], [8, 10, 'xx']]);
    assert.equal(list.bytes, 10);
    for (const p of list.pieces.filter((q) => q.data[0] === 0x78)) assert.deepEqual([p.segStart, p.segEnd], [0, 10]);
  });

  test('new data wins: old pieces are cut back to what lies outside the new segment', () => {
    const list = new PieceList();
    list.insert(0, bytes('AAAAAAAAAA'), 0, 10, never);
    const r = list.insert(3, bytes('xyz'), 0, 3, always);
    assert.deepEqual(r, { overlapped: true, different: true });
    assert.deepEqual(dump(list), [[0, 3, 'AAA'], [3, 6, 'xyz'], [6, 10, 'AAAA']]);
    assert.deepEqual(list.pieces.map((p) => [p.segStart, p.segEnd]), [[0, 10], [3, 6], [0, 10]], 'cut pieces remember their segment');
    assert.equal(list.bytes, 10);
  });

  test('identical bytes overlap without being different', () => {
    const list = new PieceList();
    list.insert(0, bytes('abcdef'), 0, 6, never);
    assert.deepEqual(list.insert(2, bytes('cdefgh'), 0, 6, never), { overlapped: true, different: false });
    assert.deepEqual(dump(list), [[0, 6, 'abcdef'], [6, 8, 'gh']]);
  });

  test('the policy sees the whole original segments, not the overlapping parts', () => {
    const seen: Array<[number, number, number, number]> = [];
    const list = new PieceList();
    list.insert(10, bytes('0123456789'), 0, 10, never);
    list.insert(0, bytes('abcdefghijklmno'), 0, 15, (ns, ne, os, oe) => {
      seen.push([ns, ne, os, oe]);
      return true;
    });
    list.insert(12, bytes('XY'), 0, 2, (ns, ne, os, oe) => {
      seen.push([ns, ne, os, oe]);
      return false;
    });
    assert.deepEqual(seen, [[0, 15, 10, 20], [12, 14, 0, 15]]);
  });
});

/** Deterministic random numbers (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The reference: one cell per byte, painted in arrival order. A new segment paints every empty
 * cell, and a held cell when the policy prefers it to the segment that painted that cell.
 */
class PaintedBytes {
  readonly value: Array<number | undefined> = [];
  readonly owner: Array<[number, number] | undefined> = [];

  insert(start: number, data: Uint8Array, policy: NewDataWins): { overlapped: boolean; different: boolean } {
    let overlapped = false;
    let different = false;
    const end = start + data.length;
    for (let k = start; k < end; k++) {
      const old = this.owner[k];
      const v = data[k - start]!;
      if (old === undefined) {
        this.value[k] = v;
        this.owner[k] = [start, end];
        continue;
      }
      overlapped = true;
      if (this.value[k] !== v) different = true;
      if (policy(start, end, old[0], old[1])) {
        this.value[k] = v;
        this.owner[k] = [start, end];
      }
    }
    return { overlapped, different };
  }
}

describe('PieceList against a painted-bytes model', () => {
  for (const [name, policy] of Object.entries(STREAM_POLICIES)) {
    test(`${name}: random overlapping insertions hold exactly the model's bytes`, () => {
      for (let seed = 1; seed <= 40; seed++) {
        const rnd = random(seed * 7919 + name.length);
        const list = new PieceList();
        const model = new PaintedBytes();
        for (let i = 0; i < 30; i++) {
          const start = Math.floor(rnd() * 120);
          const len = 1 + Math.floor(rnd() * 30);
          // Few distinct byte values, so overlaps are sometimes identical and sometimes not.
          const data = Uint8Array.from({ length: len }, () => 97 + Math.floor(rnd() * 3));
          const src = new Uint8Array(len + 4);
          src.set(data, 2);
          const want = model.insert(start, data, policy);
          const got = list.insert(start, src, 2, len, policy);
          const where = `seed ${seed} insert ${i} [${start}, ${start + len})`;
          assert.deepEqual(got, want, where);

          let held = 0;
          let prevEnd = -Infinity;
          for (const p of list.pieces) {
            assert.ok(p.start < p.end && p.start >= prevEnd, `${where}: pieces sorted, non-empty, non-overlapping`);
            assert.equal(p.data.length, p.end - p.start, where);
            for (let k = p.start; k < p.end; k++) {
              assert.equal(p.data[k - p.start], model.value[k], `${where}: byte ${k}`);
              assert.deepEqual([p.segStart, p.segEnd], model.owner[k], `${where}: owner of byte ${k}`);
            }
            held += p.end - p.start;
            prevEnd = p.end;
          }
          const painted = model.value.filter((v) => v !== undefined).length;
          assert.equal(held, painted, `${where}: every painted byte is held`);
          assert.equal(list.bytes, painted, `${where}: bytes accounting`);
          const a = Math.floor(rnd() * 150);
          const b = a + Math.floor(rnd() * 20);
          let covered = true;
          for (let k = a; k < b; k++) if (model.value[k] === undefined) covered = false;
          assert.equal(list.covers(a, b), covered, `${where}: covers(${a}, ${b})`);
        }
        // Draining from the front leaves the model's bytes in order.
        let out = '';
        let at = list.first?.start ?? 0;
        for (let p = list.shift(); p !== undefined; p = list.shift()) {
          if (p.start > at) out += '.'.repeat(p.start - at);
          out += Buffer.from(p.data).toString('latin1');
          at = p.end;
        }
        const first = model.value.findIndex((v) => v !== undefined);
        const expected = Array.from(model.value.slice(first), (v) => (v === undefined ? '.' : String.fromCharCode(v))).join('');
        assert.equal(out, expected, `seed ${seed}: drained bytes`);
        assert.equal(list.bytes, 0);
      }
    });
  }
});
