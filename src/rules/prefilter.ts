/**
 * The multi-pattern prefilter: one pass over a buffer finds which of many fast patterns occur,
 * so only the rules whose pattern is present are inspected in full. Matching is ASCII
 * case-insensitive (rules verify case afterwards). Patterns are four bytes or longer (rules with
 * shorter fast patterns are found another way, see engine.ts).
 *
 * Each pattern is keyed on four of its bytes: the window least likely to occur in traffic. The
 * pass reads two bytes at every third position against a 64 KiB table holding, for each pair of
 * bytes in every letter case, at which of offsets 0, 1 and 2 of some pattern's key it occurs.
 * Every key has a pair lined up with a read position, so a third of the positions suffice. Where
 * the table (and a second table for the key's last two bytes) says a key may sit, its four bytes
 * (lowercased) pick a bucket of candidates, each compared in full from where it would start.
 */

const LOWER = new Uint8Array(256).map((_, c) => (c >= 0x41 && c <= 0x5a ? c | 0x20 : c));
const EMPTY = new Uint8Array(0);

/** Positions read per pass: every STRIDE-th. Needs patterns of at least STRIDE + 1 bytes. */
const STRIDE = 3;
export const MIN_PATTERN = STRIDE + 1;

interface Entry {
  id: number;
  bytes: Uint8Array;
  /** Where in the pattern its four-byte key starts: the window least likely to occur in traffic. */
  key: number;
  /** The key's four bytes (lowercase) as one little-endian word: compared before the pattern's bytes. */
  word: number;
}

/**
 * How common each byte is in network payloads, roughly (higher is commoner): text letters,
 * space, digits and HTTP punctuation, then 0x00 and 0xff, then the rest. Keying each pattern on
 * its rarest four bytes instead of its first four keeps the scan from stopping at every "GET "
 * or "<scr" in ordinary traffic.
 */
const COMMON = new Uint8Array(256).map((_, c) => {
  if (c === 0x20 || (c >= 0x61 && c <= 0x7a)) return 10;
  if (c >= 0x41 && c <= 0x5a) return 7;
  if (c >= 0x30 && c <= 0x39) return 7;
  if ('\r\n\t.,/:=-_"\'<>?&;()%+*#@!'.includes(String.fromCharCode(c))) return 7;
  if (c === 0x00 || c === 0xff) return 6;
  return 2;
});

function rarestWindow(b: Uint8Array): number {
  let best = 0;
  let bestScore = Infinity;
  for (let k = 0; k + 4 <= b.length; k++) {
    const score = COMMON[b[k]!]! + COMMON[b[k + 1]!]! + COMMON[b[k + 2]!]! + COMMON[b[k + 3]!]!;
    if (score < bestScore) {
      bestScore = score;
      best = k;
    }
  }
  return best;
}

export class PatternSet {
  private readonly entries: Entry[] = [];
  /** For each byte pair, a bit per offset (0-2) at which some pattern has it, in every case variant (64 KiB). */
  private offsets = EMPTY;
  /** Byte pairs that are some pattern's bytes 2-3, in every case variant: a second test before hashing. */
  private third = EMPTY;
  /** Buckets of patterns by a hash of their first four bytes (lowercase), as offsets into `long`. */
  private bucketStart = new Int32Array(1);
  private long: Entry[] = [];
  private bucketShift = 32;

  get size(): number {
    return this.entries.length;
  }

  add(id: number, bytes: Uint8Array): void {
    if (bytes.length < MIN_PATTERN) throw new Error(`prefilter patterns need ${MIN_PATTERN} bytes or more`);
    const lower = bytes.map((c) => LOWER[c]!);
    const key = rarestWindow(lower);
    this.entries.push({ id, bytes: lower, key, word: lower[key]! | (lower[key + 1]! << 8) | (lower[key + 2]! << 16) | (lower[key + 3]! << 24) });
  }

  build(): void {
    if (this.entries.length === 0) return;
    this.offsets = new Uint8Array(65536);
    this.third = new Uint8Array(65536);
    const all = this.entries;
    // Sixteen buckets per pattern (2^8 to 2^16): in text, nearly every position passes the byte-pair
    // tables of a large set, so the bucket's emptiness is the test that counts; a random window then
    // finds a pattern's bucket about one time in sixteen.
    let bits = 8;
    while (1 << bits < all.length * 16 && bits < 16) bits++;
    this.bucketShift = 32 - bits;
    const counts = new Int32Array((1 << bits) + 1);
    const hashes = all.map((e) => this.hash4(e.bytes, e.key));
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
      const k = e.key;
      for (const c2 of variants(b[k + 2]!)) for (const c3 of variants(b[k + 3]!)) this.third[c2 | (c3 << 8)] = 1;
      for (let o = 0; o < STRIDE; o++) {
        for (const c0 of variants(b[k + o]!)) for (const c1 of variants(b[k + o + 1]!)) this.offsets[c0 | (c1 << 8)]! |= 1 << o;
      }
    }
  }

  private hash4(b: Uint8Array, k: number): number {
    const w = b[k]! | (b[k + 1]! << 8) | (b[k + 2]! << 16) | (b[k + 3]! << 24);
    return Math.imul(w, 0x9e3779b1) >>> this.bucketShift;
  }

  /**
   * Finds the patterns present in buf[start, end). `seen` (indexed by id) is set to `mark` for each
   * one found and its id pushed to `out` once; the caller picks a new mark per scan instead of clearing.
   */
  scan(buf: Uint8Array, start: number, end: number, seen: Uint32Array, mark: number, out: number[]): void {
    if (this.entries.length === 0) return;
    const offsets = this.offsets;
    const third = this.third;
    const long = this.long;
    const bucketStart = this.bucketStart;
    const shift = this.bucketShift;
    for (let i = start; i + 1 < end; i += STRIDE) {
      let m = offsets[buf[i]! | (buf[i + 1]! << 8)]!;
      while (m !== 0) {
        const o = 31 - Math.clz32(m);
        m &= ~(1 << o);
        const s = i - o;
        if (s < start || s + 4 > end || third[buf[s + 2]! | (buf[s + 3]! << 8)] === 0) continue;
        const w = LOWER[buf[s]!]! | (LOWER[buf[s + 1]!]! << 8) | (LOWER[buf[s + 2]!]! << 16) | (LOWER[buf[s + 3]!]! << 24);
        const h = Math.imul(w, 0x9e3779b1) >>> shift;
        for (let k = bucketStart[h]!, stop = bucketStart[h + 1]!; k < stop; k++) {
          const e = long[k]!;
          if (e.word !== w || seen[e.id] === mark) continue;
          const p = e.bytes;
          // s is where the pattern's key window sits; the pattern itself starts e.key bytes before.
          const at = s - e.key;
          if (at < start || at + p.length > end) continue;
          let j = 0;
          while (j < p.length && LOWER[buf[at + j]!] === p[j]) j++;
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
