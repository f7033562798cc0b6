/**
 * The multi-pattern prefilter: one pass over a buffer finds which of many fast patterns occur,
 * so only the rules whose pattern is present are inspected in full. Matching is ASCII
 * case-insensitive (rules verify case afterwards).
 *
 * The pass reads the buffer two bytes at a time against a 64 KiB table of every pattern's first
 * two bytes in every letter case: most positions cost two loads and a table test. Where the
 * table says a pattern may start, its first four bytes (lowercased) pick a bucket of candidates
 * to compare; shorter patterns sit in a small map by their first two bytes. Memory per set is
 * the 64 KiB table plus buckets sized to the number of patterns.
 */

const LOWER = new Uint8Array(256).map((_, c) => (c >= 0x41 && c <= 0x5a ? c | 0x20 : c));

interface Entry {
  id: number;
  bytes: Uint8Array;
}

export class PatternSet {
  private readonly entries: Entry[] = [];
  /** Pairs of bytes that can start a pattern of two bytes or more, in every case variant. */
  private readonly pairs = new Uint8Array(65536);
  /** Pairs that can be bytes 3-4 of a pattern of four bytes or more, and pairs that start a two- or three-byte one. */
  private readonly second = new Uint8Array(65536);
  private readonly shortPairs = new Uint8Array(65536);
  /** Buckets of patterns of four bytes or more, by a hash of their first four bytes (lowercase), as offsets into `long`. */
  private bucketStart = new Int32Array(1);
  private long: Entry[] = [];
  private bucketShift = 32;
  /** Patterns of two or three bytes, by their first two bytes (lowercase), as offsets into `shortList`. */
  private shortStart = new Int32Array(1);
  private shortList: Entry[] = [];
  /** Patterns of one byte, by the byte (both cases). */
  private readonly single: Entry[][] = [];

  get size(): number {
    return this.entries.length;
  }

  add(id: number, bytes: Uint8Array): void {
    this.entries.push({ id, bytes: bytes.map((c) => LOWER[c]!) });
  }

  build(): void {
    const long = this.entries.filter((e) => e.bytes.length >= 4);
    // About two patterns per bucket, at least 2^8 buckets.
    let bits = 8;
    while (1 << bits < long.length / 2 && bits < 20) bits++;
    this.bucketShift = 32 - bits;
    const counts = new Int32Array((1 << bits) + 1);
    const hashes = long.map((e) => this.hash4(e.bytes, 0));
    for (const h of hashes) counts[h + 1]!++;
    for (let i = 1; i < counts.length; i++) counts[i]! += counts[i - 1]!;
    this.bucketStart = counts.slice();
    const placed = new Array<Entry>(long.length);
    const fill = counts.slice();
    long.forEach((e, i) => {
      placed[fill[hashes[i]!]!++] = e;
    });
    this.long = placed;
    for (const e of this.entries) {
      const b = e.bytes;
      if (b.length === 1) {
        for (const c of variants(b[0]!)) (this.single[c] ??= []).push(e);
        continue;
      }
      for (const c0 of variants(b[0]!)) for (const c1 of variants(b[1]!)) this.pairs[c0 | (c1 << 8)] = 1;
      if (b.length >= 4) for (const c2 of variants(b[2]!)) for (const c3 of variants(b[3]!)) this.second[c2 | (c3 << 8)] = 1;
      else for (const c0 of variants(b[0]!)) for (const c1 of variants(b[1]!)) this.shortPairs[c0 | (c1 << 8)] = 1;
    }
    const short = this.entries.filter((e) => e.bytes.length === 2 || e.bytes.length === 3);
    if (short.length > 0) {
      const start = new Int32Array(65537);
      for (const e of short) start[(e.bytes[0]! | (e.bytes[1]! << 8)) + 1]!++;
      for (let i = 1; i < start.length; i++) start[i]! += start[i - 1]!;
      const fill = start.slice();
      const list = new Array<Entry>(short.length);
      for (const e of short) list[fill[e.bytes[0]! | (e.bytes[1]! << 8)]!++] = e;
      this.shortStart = start;
      this.shortList = list;
    }
  }

  private hash4(b: Uint8Array, at: number): number {
    const w = b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24);
    return Math.imul(w, 0x9e3779b1) >>> this.bucketShift;
  }

  /**
   * Finds the patterns present in buf[start, end). `seen` (indexed by id) is set to `mark` for each
   * one found and its id pushed to `out` once; the caller picks a new mark per scan instead of clearing.
   */
  scan(buf: Uint8Array, start: number, end: number, seen: Uint32Array, mark: number, out: number[]): void {
    if (this.entries.length === 0) return;
    const pairs = this.pairs;
    const second = this.second;
    const shortPairs = this.shortPairs;
    const long = this.long;
    const bucketStart = this.bucketStart;
    const shift = this.bucketShift;
    const shortList = this.shortList;
    const shortStart = this.shortStart;
    const hasShort = shortList.length > 0;
    const hasLong = long.length > 0;
    const last = end - 1;
    for (let i = start; i < last; i++) {
      const k = buf[i]! | (buf[i + 1]! << 8);
      if (pairs[k] === 0) continue;
      if (hasLong && i + 4 <= end && second[buf[i + 2]! | (buf[i + 3]! << 8)] !== 0) {
        const w = LOWER[buf[i]!]! | (LOWER[buf[i + 1]!]! << 8) | (LOWER[buf[i + 2]!]! << 16) | (LOWER[buf[i + 3]!]! << 24);
        const h = Math.imul(w, 0x9e3779b1) >>> shift;
        for (let k = bucketStart[h]!, stop = bucketStart[h + 1]!; k < stop; k++) {
          const e = long[k]!;
          if (seen[e.id] === mark) continue;
          const p = e.bytes;
          if (i + p.length > end) continue;
          let j = 0;
          while (j < p.length && LOWER[buf[i + j]!] === p[j]) j++;
          if (j === p.length) {
            seen[e.id] = mark;
            out.push(e.id);
          }
        }
      }
      if (hasShort && shortPairs[k] !== 0) {
        const lo = LOWER[buf[i]!]! | (LOWER[buf[i + 1]!]! << 8);
        for (let q = shortStart[lo]!, stop = shortStart[lo + 1]!; q < stop; q++) {
          const e = shortList[q]!;
          if (seen[e.id] === mark || i + e.bytes.length > end) continue;
          if (e.bytes.length === 3 && LOWER[buf[i + 2]!] !== e.bytes[2]) continue;
          seen[e.id] = mark;
          out.push(e.id);
        }
      }
    }
    if (this.single.length > 0) {
      for (let i = start; i < end; i++) {
        const list = this.single[buf[i]!];
        if (list === undefined) continue;
        for (const e of list) {
          if (seen[e.id] === mark) continue;
          seen[e.id] = mark;
          out.push(e.id);
        }
      }
    }
  }
}

/** A byte and its other ASCII case, if it has one. */
function variants(c: number): number[] {
  if (c >= 0x61 && c <= 0x7a) return [c, c - 0x20];
  return [c];
}
