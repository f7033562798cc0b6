/**
 * The multi-pattern prefilter: one pass over a buffer finds which of many fast patterns occur,
 * so only the rules whose pattern is present are inspected in full. Matching is ASCII
 * case-insensitive (rules verify case afterwards). Patterns are four bytes or longer (rules with
 * shorter fast patterns are found another way, see engine.ts).
 *
 * The pass reads two bytes at every third position against a 64 KiB table holding, for each
 * pair of bytes in every letter case, which of offsets 0, 1 and 2 of some pattern it occurs at.
 * Every pattern of four bytes or more has a pair at one of those offsets lined up with a read
 * position, so a third of the positions suffice. Where the table says a pattern may start, its
 * first four bytes (lowercased) pick a bucket of candidates to compare.
 */

const LOWER = new Uint8Array(256).map((_, c) => (c >= 0x41 && c <= 0x5a ? c | 0x20 : c));
const EMPTY = new Uint8Array(0);

/** Positions read per pass: every STRIDE-th. Needs patterns of at least STRIDE + 1 bytes. */
const STRIDE = 3;
export const MIN_PATTERN = STRIDE + 1;

interface Entry {
  id: number;
  bytes: Uint8Array;
}

export class PatternSet {
  private readonly entries: Entry[] = [];
  /** For each byte pair, a bit per offset (0-2) at which some pattern has it, in every case variant (64 KiB). */
  private offsets = EMPTY;
  /** Buckets of patterns by a hash of their first four bytes (lowercase), as offsets into `long`. */
  private bucketStart = new Int32Array(1);
  private long: Entry[] = [];
  private bucketShift = 32;

  get size(): number {
    return this.entries.length;
  }

  add(id: number, bytes: Uint8Array): void {
    if (bytes.length < MIN_PATTERN) throw new Error(`prefilter patterns need ${MIN_PATTERN} bytes or more`);
    this.entries.push({ id, bytes: bytes.map((c) => LOWER[c]!) });
  }

  build(): void {
    if (this.entries.length === 0) return;
    this.offsets = new Uint8Array(65536);
    const all = this.entries;
    // About two patterns per bucket, at least 2^8 buckets.
    let bits = 8;
    while (1 << bits < all.length / 2 && bits < 20) bits++;
    this.bucketShift = 32 - bits;
    const counts = new Int32Array((1 << bits) + 1);
    const hashes = all.map((e) => this.hash4(e.bytes));
    for (const h of hashes) counts[h + 1]!++;
    for (let i = 1; i < counts.length; i++) counts[i]! += counts[i - 1]!;
    this.bucketStart = counts.slice();
    const placed = new Array<Entry>(all.length);
    const fill = counts.slice();
    all.forEach((e, i) => {
      placed[fill[hashes[i]!]!++] = e;
    });
    this.long = placed;
    for (const e of all) {
      const b = e.bytes;
      for (let o = 0; o < STRIDE; o++) {
        for (const c0 of variants(b[o]!)) for (const c1 of variants(b[o + 1]!)) this.offsets[c0 | (c1 << 8)]! |= 1 << o;
      }
    }
  }

  private hash4(b: Uint8Array): number {
    const w = b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24);
    return Math.imul(w, 0x9e3779b1) >>> this.bucketShift;
  }

  /**
   * Finds the patterns present in buf[start, end). `seen` (indexed by id) is set to `mark` for each
   * one found and its id pushed to `out` once; the caller picks a new mark per scan instead of clearing.
   */
  scan(buf: Uint8Array, start: number, end: number, seen: Uint32Array, mark: number, out: number[]): void {
    if (this.entries.length === 0) return;
    const offsets = this.offsets;
    const long = this.long;
    const bucketStart = this.bucketStart;
    const shift = this.bucketShift;
    for (let i = start; i + 1 < end; i += STRIDE) {
      let m = offsets[buf[i]! | (buf[i + 1]! << 8)]!;
      while (m !== 0) {
        const o = 31 - Math.clz32(m);
        m &= ~(1 << o);
        const s = i - o;
        if (s < start || s + 4 > end) continue;
        const w = LOWER[buf[s]!]! | (LOWER[buf[s + 1]!]! << 8) | (LOWER[buf[s + 2]!]! << 16) | (LOWER[buf[s + 3]!]! << 24);
        const h = Math.imul(w, 0x9e3779b1) >>> shift;
        for (let k = bucketStart[h]!, stop = bucketStart[h + 1]!; k < stop; k++) {
          const e = long[k]!;
          if (seen[e.id] === mark) continue;
          const p = e.bytes;
          if (s + p.length > end) continue;
          let j = 0;
          while (j < p.length && LOWER[buf[s + j]!] === p[j]) j++;
          if (j === p.length) {
            seen[e.id] = mark;
            out.push(e.id);
          }
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
