/**
 * The multi-pattern prefilter: one pass over a buffer finds which of many fast patterns occur,
 * so only the rules whose pattern is present are inspected in full. Matching is ASCII
 * case-insensitive (rules verify case afterwards). Patterns of four bytes or more are found by
 * hashing every four-byte window into a bucket table with a one-bit-per-bucket filter in front;
 * shorter ones by direct tables. A group with only a few patterns searches each with the
 * native indexOf instead, which is faster for few.
 */

const LOWER = new Uint8Array(256).map((_, c) => (c >= 0x41 && c <= 0x5a ? c | 0x20 : c));

/** 2^16 buckets for four-byte prefixes: small enough to stay in cache, large enough that buckets hold few. */
const BUCKET_BITS = 16;

interface Entry {
  id: number;
  bytes: Uint8Array;
}

export class PatternSet {
  private readonly entries: Entry[] = [];
  private long: Entry[][] | null = null;
  private longFilter: Uint8Array | null = null;
  private one: Entry[][] | null = null;
  private two: Map<number, Entry[]> | null = null;
  private twoFilter: Uint8Array | null = null;
  private few: Entry[] = [];
  private hasOne = false;

  get size(): number {
    return this.entries.length;
  }

  add(id: number, bytes: Uint8Array): void {
    this.entries.push({ id, bytes: bytes.map((c) => LOWER[c]!) });
  }

  build(): void {
    if (this.entries.length <= 4) {
      this.few = this.entries;
      return;
    }
    this.long = Array.from({ length: 1 << BUCKET_BITS }, () => []);
    this.longFilter = new Uint8Array(1 << BUCKET_BITS);
    this.one = Array.from({ length: 256 }, () => []);
    this.two = new Map();
    this.twoFilter = new Uint8Array(65536);
    for (const e of this.entries) {
      const b = e.bytes;
      if (b.length >= 4) {
        const h = bucket(b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24));
        this.long[h]!.push(e);
        this.longFilter[h] = 1;
      } else if (b.length >= 2) {
        const k = b[0]! | (b[1]! << 8);
        const list = this.two.get(k) ?? [];
        list.push(e);
        this.two.set(k, list);
        this.twoFilter[k] = 1;
      } else {
        this.one[b[0]!]!.push(e);
        this.hasOne = true;
      }
    }
  }

  /**
   * Finds the patterns present in buf[start, end). `seen` (indexed by id) is set to `mark` for each
   * one found and its id pushed to `out` once; the caller picks a new mark per scan instead of clearing.
   */
  scan(buf: Uint8Array, start: number, end: number, seen: Uint32Array, mark: number, out: number[]): void {
    if (this.long === null) {
      for (const e of this.few) if (seen[e.id] !== mark && indexOfNocase(buf, start, end, e.bytes) >= 0) {
        seen[e.id] = mark;
        out.push(e.id);
      }
      return;
    }
    const long = this.long;
    const filter = this.longFilter!;
    const one = this.one!;
    const two = this.two!;
    const twoFilter = this.twoFilter!;
    const hasOne = this.hasOne;
    let w = 0;
    for (let i = start; i < end; i++) {
      const c = LOWER[buf[i]!]!;
      w = (w >>> 8) | (c << 24);
      if (hasOne) {
        const l1 = one[c]!;
        for (let k = 0; k < l1.length; k++) {
          const e = l1[k]!;
          if (seen[e.id] !== mark) {
            seen[e.id] = mark;
            out.push(e.id);
          }
        }
      }
      // w holds the last four bytes: w's low byte is buf[i-3].
      if (i >= start + 1) {
        const k2 = (w >>> 16) & 0xffff; // bytes i-1, i
        if (twoFilter[k2] === 1) this.checkShort(two.get(k2)!, buf, i - 1, end, seen, mark, out);
      }
      if (i >= start + 3) {
        const h = bucket(w);
        if (filter[h] === 1) {
          const list = long[h]!;
          for (let k = 0; k < list.length; k++) {
            const e = list[k]!;
            if (seen[e.id] === mark) continue;
            const p = e.bytes;
            if (i - 3 + p.length > end) continue;
            let j = 0;
            while (j < p.length && LOWER[buf[i - 3 + j]!] === p[j]) j++;
            if (j === p.length) {
              seen[e.id] = mark;
              out.push(e.id);
            }
          }
        }
      }
    }
  }

  private checkShort(list: Entry[], buf: Uint8Array, at: number, end: number, seen: Uint32Array, mark: number, out: number[]): void {
    for (const e of list) {
      if (seen[e.id] === mark) continue;
      const p = e.bytes;
      if (at + p.length > end) continue;
      let j = 2;
      while (j < p.length && LOWER[buf[at + j]!] === p[j]) j++;
      if (j === p.length) {
        seen[e.id] = mark;
        out.push(e.id);
      }
    }
  }
}

function bucket(w: number): number {
  return Math.imul(w, 0x9e3779b1) >>> (32 - BUCKET_BITS);
}

/** Case-insensitive search for a lowercase pattern. */
function indexOfNocase(buf: Uint8Array, start: number, end: number, pat: Uint8Array): number {
  const n = pat.length;
  const first = pat[0]!;
  const upper = first >= 0x61 && first <= 0x7a ? first - 0x20 : first;
  for (let i = start; i + n <= end; i++) {
    const c = buf[i]!;
    if (c !== first && c !== upper) continue;
    let j = 1;
    while (j < n && LOWER[buf[i + j]!] === pat[j]) j++;
    if (j === n) return i;
  }
  return -1;
}
