/**
 * A resumable DEFLATE decoder (RFC 1951) behind the zlib (RFC 1950) and gzip (RFC 1952) wrappers,
 * fed compressed bytes in any pieces. node:zlib has no synchronous incremental API (its sync
 * calls end the stream), and a parser fed stream data must not wait on callbacks.
 *
 * Every decoding step (a block header, one literal, one length/distance pair) either completes
 * or is rolled back to wait for more input, so the output, where it is flushed, and the input
 * consumed at each flush are the same however the input is cut. Output leaves in pieces of at
 * most 8 KiB, only when a piece is full or the stream ends (or `finish`), and the sink may stop
 * the decoder at any piece: that is how the body's caps bound the work.
 */

/** 'more': wants input; 'end': the stream ended; 'error': not valid DEFLATE; 'stopped': the sink said stop. */
export type InflateStatus = 'more' | 'end' | 'error' | 'stopped';

/** Receives decompressed bytes (a view, valid during the call); false stops the decoder. */
export type InflateSink = (data: Uint8Array) => boolean;

/** 'auto' sniffs gzip (1f 8b) or a zlib header, else raw DEFLATE: libhtp accepts all three whatever the label. */
export type InflateFormat = 'auto' | 'raw';

const enum Mode {
  Detect,
  GzipFixed,
  GzipExtraLen,
  GzipExtra,
  GzipName,
  GzipComment,
  GzipCrc,
  Block,
  Stored,
  Codes,
  Done,
  Error,
}

/** Lengths up to this many bits decode with one table look-up; longer ones bit by bit. */
const FAST_BITS = 9;
/** Pieces handed to the sink: big enough to amortise the call, small enough to stop a bomb early. */
const OUT_PIECE = 8192;
/** The longest output of one step (a length/distance pair). */
const MAX_STEP_OUT = 258;

const LEN_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LEN_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
/** The order code-length code lengths are sent in (RFC 1951 3.2.7). */
const CL_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/** A canonical Huffman code: counts per length and symbols in code order (as zlib's puff.c), plus a fast table. */
class Huffman {
  readonly count = new Uint16Array(16);
  readonly symbol: Uint16Array;
  /** Indexed by the next FAST_BITS input bits: symbol << 4 | length, or -1 when the code is longer. */
  readonly fast = new Int32Array(1 << FAST_BITS);

  constructor(size: number) {
    this.symbol = new Uint16Array(size);
  }

  /** Builds the code from per-symbol lengths: 0 complete, > 0 incomplete, < 0 over-subscribed. */
  build(lengths: Uint8Array, n: number): number {
    const count = this.count;
    count.fill(0);
    for (let i = 0; i < n; i++) count[lengths[i]!]!++;
    if (count[0] === n) {
      this.fast.fill(-1);
      return 0;
    }
    let left = 1;
    for (let len = 1; len < 16; len++) {
      left = left * 2 - count[len]!;
      if (left < 0) return left;
    }
    const offs = new Uint16Array(16);
    for (let len = 1; len < 15; len++) offs[len + 1] = offs[len]! + count[len]!;
    for (let sym = 0; sym < n; sym++) {
      const len = lengths[sym]!;
      if (len !== 0) this.symbol[offs[len]!++] = sym;
    }
    // Canonical codes (RFC 1951 3.2.2), bit-reversed because DEFLATE sends them first bit first.
    this.fast.fill(-1);
    const next = new Uint16Array(16);
    let code = 0;
    for (let len = 1; len < 16; len++) {
      code = (code + (len === 1 ? 0 : count[len - 1]!)) << 1;
      next[len] = code;
    }
    for (let sym = 0; sym < n; sym++) {
      const len = lengths[sym]!;
      if (len === 0 || len > FAST_BITS) {
        if (len !== 0) next[len]!++;
        continue;
      }
      const c = next[len]!++;
      let rev = 0;
      for (let b = 0; b < len; b++) rev |= ((c >>> b) & 1) << (len - 1 - b);
      for (let k = rev; k < 1 << FAST_BITS; k += 1 << len) this.fast[k] = (sym << 4) | len;
    }
    return left;
  }
}

let fixedLit: Huffman | null = null;
let fixedDist: Huffman | null = null;

function fixedTables(): [Huffman, Huffman] {
  if (fixedLit === null || fixedDist === null) {
    const l = new Uint8Array(288);
    l.fill(8, 0, 144);
    l.fill(9, 144, 256);
    l.fill(7, 256, 280);
    l.fill(8, 280, 288);
    fixedLit = new Huffman(288);
    fixedLit.build(l, 288);
    const d = new Uint8Array(30).fill(5);
    fixedDist = new Huffman(30);
    fixedDist.build(d, 30);
  }
  return [fixedLit, fixedDist];
}

/** Thrown inside a step when the input runs out; the step is rolled back. Never leaves this module. */
const NEED = -1;
/** A step found the data invalid. */
const BAD = -2;

export class Inflater {
  private mode: Mode;
  private src: Uint8Array = new Uint8Array(0);
  private pos = 0;
  /** Input bytes before `src[0]`, so consumed bits are (base + pos) * 8 - bitcnt. */
  private base = 0;
  private bitbuf = 0;
  private bitcnt = 0;
  private last = false;
  private gzFlags = 0;
  private gzSkip = 0;
  private storedLeft = 0;
  private lit = new Huffman(288);
  private dist = new Huffman(30);
  private curLit: Huffman;
  private curDist: Huffman;
  private readonly lengths = new Uint8Array(320);
  private readonly window = new Uint8Array(32768);
  private wpos = 0;
  /** Bytes produced so far (the window holds the last 32 KiB of them). */
  private produced = 0;
  private readonly out = new Uint8Array(OUT_PIECE);
  private outLen = 0;
  private sink: InflateSink | null = null;
  private stopped = false;

  constructor(format: InflateFormat = 'auto') {
    this.mode = format === 'auto' ? Mode.Detect : Mode.Block;
    const [l, d] = fixedTables();
    this.curLit = l;
    this.curDist = d;
  }

  get status(): InflateStatus {
    if (this.stopped) return 'stopped';
    if (this.mode === Mode.Done) return 'end';
    if (this.mode === Mode.Error) return 'error';
    return 'more';
  }

  /** Compressed bytes consumed so far (whole bytes; a partly read byte does not count yet). */
  get consumed(): number {
    return Math.floor(((this.base + this.pos) * 8 - this.bitcnt) / 8);
  }

  /** Decompressed bytes produced so far. */
  get total(): number {
    return this.produced;
  }

  /** Decodes what it can of `input` (a view: it is copied only when a step needs more than it holds). */
  write(input: Uint8Array, sink: InflateSink): InflateStatus {
    if (this.status !== 'more') return this.status;
    this.sink = sink;
    if (this.pos < this.src.length) {
      const rest = this.src.subarray(this.pos);
      const joined = new Uint8Array(rest.length + input.length);
      joined.set(rest, 0);
      joined.set(input, rest.length);
      this.base += this.pos;
      this.src = joined;
    } else {
      this.base += this.src.length;
      this.src = input;
    }
    this.pos = 0;
    this.run();
    if (this.mode === Mode.Done || this.mode === Mode.Error) this.flush();
    // Keep only what is unread, copied, so the caller's buffer can be reused.
    if (this.status === 'more') {
      const rest = this.src.subarray(this.pos);
      this.base += this.pos;
      this.src = rest.length > 0 ? new Uint8Array(rest) : new Uint8Array(0);
      this.pos = 0;
    }
    this.sink = null;
    return this.status;
  }

  /** The input ended: hands out what is decoded but not yet flushed. */
  finish(sink: InflateSink): void {
    this.sink = sink;
    if (!this.stopped) this.flush();
    this.sink = null;
  }

  /**
   * After an error: the input from the first whole byte of the step that failed, so a caller can
   * pass it through undecoded (libhtp hands the raw data on when inflate fails).
   */
  remainder(): Uint8Array {
    const whole = this.bitcnt >> 3;
    const bytes = new Uint8Array(whole + (this.src.length - this.pos));
    for (let i = 0; i < whole; i++) bytes[i] = (this.bitbuf >>> ((this.bitcnt & 7) + 8 * i)) & 0xff;
    bytes.set(this.src.subarray(this.pos), whole);
    return bytes;
  }

  private run(): void {
    for (;;) {
      if (this.stopped) return;
      const pos0 = this.pos;
      const buf0 = this.bitbuf;
      const cnt0 = this.bitcnt;
      const r = this.step();
      if (r === NEED) {
        this.pos = pos0;
        this.bitbuf = buf0;
        this.bitcnt = cnt0;
        return;
      }
      if (r === BAD) {
        this.pos = pos0;
        this.bitbuf = buf0;
        this.bitcnt = cnt0;
        this.mode = Mode.Error;
        return;
      }
      if (this.mode === Mode.Done) return;
      if (this.outLen > OUT_PIECE - MAX_STEP_OUT) this.flush();
    }
  }

  private flush(): void {
    if (this.outLen === 0 || this.sink === null || this.stopped) return;
    const piece = this.out.subarray(0, this.outLen);
    this.outLen = 0;
    if (!this.sink(piece)) this.stopped = true;
  }

  /** Loads input until `n` (<= 16) bits are buffered; false when the input runs out. */
  private need(n: number): boolean {
    while (this.bitcnt < n) {
      if (this.pos >= this.src.length) return false;
      this.bitbuf |= this.src[this.pos++]! << this.bitcnt;
      this.bitcnt += 8;
    }
    return true;
  }

  private bits(n: number): number {
    if (!this.need(n)) return NEED;
    const v = this.bitbuf & ((1 << n) - 1);
    this.bitbuf >>>= n;
    this.bitcnt -= n;
    return v;
  }

  private decode(h: Huffman): number {
    this.need(FAST_BITS);
    const e = h.fast[this.bitbuf & ((1 << FAST_BITS) - 1)]!;
    if (e >= 0 && (e & 15) <= this.bitcnt) {
      this.bitbuf >>>= e & 15;
      this.bitcnt -= e & 15;
      return e >>> 4;
    }
    // Bit by bit (puff.c's decode): codes longer than the table, or too few bits left.
    let code = 0;
    let first = 0;
    let index = 0;
    for (let len = 1; len < 16; len++) {
      const b = this.bits(1);
      if (b < 0) return NEED;
      code |= b;
      const count = h.count[len]!;
      if (code - count < first) return h.symbol[index + (code - first)]!;
      index += count;
      first = (first + count) << 1;
      code <<= 1;
    }
    return BAD;
  }

  private emit(byte: number): void {
    this.out[this.outLen++] = byte;
    this.window[this.wpos] = byte;
    this.wpos = (this.wpos + 1) & 32767;
    this.produced++;
  }

  private step(): number {
    switch (this.mode) {
      case Mode.Detect: {
        if (!this.need(16)) return NEED;
        const b0 = this.bitbuf & 0xff;
        const b1 = (this.bitbuf >>> 8) & 0xff;
        if (b0 === 0x1f && b1 === 0x8b) {
          this.mode = Mode.GzipFixed;
        } else if ((b0 & 0x0f) === 8 && b0 >> 4 <= 7 && ((b0 << 8) | b1) % 31 === 0) {
          // zlib header; a preset dictionary cannot be known to a passive decoder.
          if (b1 & 0x20) return BAD;
          this.bitbuf = 0;
          this.bitcnt = 0;
          this.mode = Mode.Block;
        } else {
          this.mode = Mode.Block;
        }
        return 0;
      }
      case Mode.GzipFixed: {
        // 1f 8b CM FLG MTIME(4) XFL OS: the magic is still in the bit buffer.
        if (this.bits(16) < 0) return NEED;
        const cm = this.bits(8);
        const flg = this.bits(8);
        if (cm < 0 || flg < 0) return NEED;
        for (let i = 0; i < 3; i++) if (this.bits(16) < 0) return NEED;
        if (cm !== 8) return BAD;
        this.gzFlags = flg;
        this.mode = Mode.GzipExtraLen;
        return 0;
      }
      case Mode.GzipExtraLen: {
        if (this.gzFlags & 4) {
          const n = this.bits(16);
          if (n < 0) return NEED;
          this.gzSkip = n;
          this.mode = Mode.GzipExtra;
        } else {
          this.mode = Mode.GzipName;
        }
        return 0;
      }
      case Mode.GzipExtra: {
        if (this.gzSkip === 0) {
          this.mode = Mode.GzipName;
          return 0;
        }
        if (this.bits(8) < 0) return NEED;
        this.gzSkip--;
        return 0;
      }
      case Mode.GzipName:
      case Mode.GzipComment: {
        const flag = this.mode === Mode.GzipName ? 8 : 16;
        if (this.gzFlags & flag) {
          const b = this.bits(8);
          if (b < 0) return NEED;
          if (b !== 0) return 0;
        }
        this.mode = this.mode === Mode.GzipName ? Mode.GzipComment : Mode.GzipCrc;
        this.gzSkip = 2;
        return 0;
      }
      case Mode.GzipCrc: {
        if (this.gzFlags & 2 && this.gzSkip > 0) {
          if (this.bits(8) < 0) return NEED;
          this.gzSkip--;
          return 0;
        }
        this.mode = Mode.Block;
        return 0;
      }
      case Mode.Block:
        return this.blockHeader();
      case Mode.Stored: {
        if (this.storedLeft === 0) {
          this.mode = this.last ? Mode.Done : Mode.Block;
          return 0;
        }
        // Byte by byte, each its own step; at most a piece's worth before the caller flushes.
        let n = Math.min(this.storedLeft, MAX_STEP_OUT);
        let done = 0;
        while (n > 0) {
          let byte: number;
          if (this.bitcnt >= 8) {
            byte = this.bitbuf & 0xff;
            this.bitbuf >>>= 8;
            this.bitcnt -= 8;
          } else if (this.pos < this.src.length) {
            byte = this.src[this.pos++]!;
          } else {
            break;
          }
          this.emit(byte);
          n--;
          done++;
        }
        this.storedLeft -= done;
        return done === 0 ? NEED : 0;
      }
      case Mode.Codes:
        return this.codesStep();
      case Mode.Done:
      case Mode.Error:
        return 0;
    }
  }

  private blockHeader(): number {
    const hdr = this.bits(3);
    if (hdr < 0) return NEED;
    this.last = (hdr & 1) === 1;
    const type = hdr >>> 1;
    if (type === 0) {
      // Stored: skip to a byte boundary, then LEN and its complement.
      this.bitbuf >>>= this.bitcnt & 7;
      this.bitcnt -= this.bitcnt & 7;
      const len = this.bits(16);
      const nlen = this.bits(16);
      if (len < 0 || nlen < 0) return NEED;
      if (len !== (~nlen & 0xffff)) return BAD;
      this.storedLeft = len;
      this.mode = Mode.Stored;
      return 0;
    }
    if (type === 1) {
      [this.curLit, this.curDist] = fixedTables();
      this.mode = Mode.Codes;
      return 0;
    }
    if (type === 3) return BAD;
    // Dynamic: the whole header is one step (at most ~2.4 KiB of input held while it arrives).
    const nlen = this.bits(5);
    const ndist = this.bits(5);
    const ncode = this.bits(4);
    if (nlen < 0 || ndist < 0 || ncode < 0) return NEED;
    const hlit = nlen + 257;
    const hdist = ndist + 1;
    if (hlit > 286 || hdist > 30) return BAD;
    const lengths = this.lengths;
    lengths.fill(0, 0, 19);
    for (let i = 0; i < ncode + 4; i++) {
      const v = this.bits(3);
      if (v < 0) return NEED;
      lengths[CL_ORDER[i]!] = v;
    }
    const clcode = new Huffman(19);
    if (clcode.build(lengths, 19) !== 0) return BAD;
    let i = 0;
    const total = hlit + hdist;
    while (i < total) {
      const sym = this.decode(clcode);
      if (sym === NEED) return NEED;
      if (sym < 0) return BAD;
      if (sym < 16) {
        lengths[i++] = sym;
        continue;
      }
      let rep: number;
      let val = 0;
      if (sym === 16) {
        if (i === 0) return BAD;
        val = lengths[i - 1]!;
        const x = this.bits(2);
        if (x < 0) return NEED;
        rep = 3 + x;
      } else if (sym === 17) {
        const x = this.bits(3);
        if (x < 0) return NEED;
        rep = 3 + x;
      } else {
        const x = this.bits(7);
        if (x < 0) return NEED;
        rep = 11 + x;
      }
      if (i + rep > total) return BAD;
      while (rep-- > 0) lengths[i++] = val;
    }
    if (lengths[256] === 0) return BAD;
    // As zlib: a code may be incomplete only when it is a single one-bit code.
    const litLeft = this.lit.build(lengths.subarray(0, hlit), hlit);
    if (litLeft < 0 || (litLeft > 0 && hlit - this.lit.count[0]! !== 1)) return BAD;
    const distLengths = lengths.slice(hlit, total);
    const distLeft = this.dist.build(distLengths, hdist);
    if (distLeft < 0 || (distLeft > 0 && hdist - this.dist.count[0]! !== 1)) return BAD;
    this.curLit = this.lit;
    this.curDist = this.dist;
    this.mode = Mode.Codes;
    return 0;
  }

  private codesStep(): number {
    const sym = this.decode(this.curLit);
    if (sym === NEED) return NEED;
    if (sym < 0) return BAD;
    if (sym < 256) {
      this.emit(sym);
      return 0;
    }
    if (sym === 256) {
      this.mode = this.last ? Mode.Done : Mode.Block;
      return 0;
    }
    const li = sym - 257;
    if (li >= 29) return BAD;
    const lx = this.bits(LEN_EXTRA[li]!);
    if (lx < 0) return NEED;
    const len = LEN_BASE[li]! + lx;
    const dsym = this.decode(this.curDist);
    if (dsym === NEED) return NEED;
    if (dsym < 0 || dsym >= 30) return BAD;
    const dx = this.bits(DIST_EXTRA[dsym]!);
    if (dx < 0) return NEED;
    const d = DIST_BASE[dsym]! + dx;
    if (d > this.produced || d > 32768) return BAD;
    const win = this.window;
    const out = this.out;
    let from = (this.wpos - d) & 32767;
    let w = this.wpos;
    let o = this.outLen;
    for (let k = 0; k < len; k++) {
      const byte = win[from]!;
      out[o++] = byte;
      win[w] = byte;
      w = (w + 1) & 32767;
      from = (from + 1) & 32767;
    }
    this.wpos = w;
    this.outLen = o;
    this.produced += len;
    return 0;
  }
}
