/**
 * A read position over untrusted bytes. Reads past the end never throw: they return zeros (or an
 * empty view) and set `short`, which stays set, so a parser reads its fields straight through and
 * checks once at the end whether the message held them all.
 */
export class Cursor {
  /** A read went past `end`: everything read since is zero or empty. */
  short = false;

  constructor(
    readonly buf: Uint8Array,
    public pos = 0,
    readonly end = buf.length,
  ) {}

  get left(): number {
    return this.end - this.pos;
  }

  private take(n: number): number {
    if (this.short || n > this.end - this.pos) {
      this.short = true;
      this.pos = this.end;
      return -1;
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8(): number {
    const at = this.take(1);
    return at < 0 ? 0 : this.buf[at]!;
  }

  u16(): number {
    const at = this.take(2);
    return at < 0 ? 0 : (this.buf[at]! << 8) | this.buf[at + 1]!;
  }

  u24(): number {
    const at = this.take(3);
    return at < 0 ? 0 : (this.buf[at]! << 16) | (this.buf[at + 1]! << 8) | this.buf[at + 2]!;
  }

  u32(): number {
    const at = this.take(4);
    return at < 0 ? 0 : ((this.buf[at]! << 24) | (this.buf[at + 1]! << 16) | (this.buf[at + 2]! << 8) | this.buf[at + 3]!) >>> 0;
  }

  /** The next `n` bytes as a view (empty when they are not all there). */
  bytes(n: number): Uint8Array {
    const at = this.take(n);
    return at < 0 ? this.buf.subarray(0, 0) : this.buf.subarray(at, at + n);
  }

  skip(n: number): void {
    this.take(n);
  }

  /** A cursor over the next `n` bytes, which this one steps over (a length-prefixed field). */
  sub(n: number): Cursor {
    const at = this.take(n);
    if (at < 0) {
      const c = new Cursor(this.buf, this.end, this.end);
      c.short = true;
      return c;
    }
    return new Cursor(this.buf, at, at + n);
  }
}

/** Big-endian unsigned integers of `width` bytes from a list of `width`-byte items (a whole number of them). */
export function readList(c: Cursor, width: 1 | 2 | 3 | 4): number[] {
  const out: number[] = [];
  while (c.left >= width) {
    if (width === 1) out.push(c.u8());
    else if (width === 2) out.push(c.u16());
    else if (width === 3) out.push(c.u24());
    else out.push(c.u32());
  }
  return out;
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
