import type { Frame } from '../capture/frame.js';

/**
 * The frame batch the reader thread hands a worker thread: many frames copied into one
 * ArrayBuffer that is transferred (not copied) with postMessage, then transferred back for
 * reuse. One message per batch, not per frame: a message costs microseconds, a frame's copy
 * nanoseconds.
 *
 * Layout: frames one after another, each a header of {@link HEADER_WORDS} 32-bit words (caplen,
 * wire length, seconds, nanoseconds, link type, frame number, input group, pcapng interface)
 * followed by its bytes, padded to 4 so the next header is aligned.
 */

/**
 * A batch's size: 256 KiB holds about 400 frames of the mean 600-byte packet, so a busy input
 * sends a few thousand messages a second, and a worker's in-flight batches (BATCH_POOL of them)
 * stay a few MiB.
 */
export const BATCH_BYTES = 256 * 1024;

/** Words of a frame's header. */
export const HEADER_WORDS = 8;
const HEADER_BYTES = HEADER_WORDS * 4;

/** Bytes a frame of `caplen` bytes takes in a batch. */
export function frameSpace(caplen: number): number {
  return HEADER_BYTES + ((caplen + 3) & ~3);
}

/** A batch being filled by the reader. */
export class BatchWriter {
  readonly u8: Uint8Array;
  private readonly u32: Uint32Array;
  /** Bytes used. */
  used = 0;
  /** Frames held. */
  count = 0;
  /** When the first frame went in (performance.now()), for the reader's 50 ms flush. */
  firstAt = 0;

  constructor(readonly buf: ArrayBuffer) {
    this.u8 = new Uint8Array(buf);
    this.u32 = new Uint32Array(buf, 0, buf.byteLength >>> 2);
  }

  /** Whether a frame of `caplen` bytes fits. */
  fits(caplen: number): boolean {
    return this.used + frameSpace(caplen) <= this.u8.length;
  }

  /** Copies the frame in (the caller checked {@link fits}). */
  put(f: Frame, group: number, now: number): void {
    if (this.count === 0) this.firstAt = now;
    const w = this.used >>> 2;
    const u = this.u32;
    u[w] = f.caplen;
    u[w + 1] = f.wirelen;
    u[w + 2] = f.tsSec;
    u[w + 3] = f.tsNsec;
    u[w + 4] = f.linktype;
    u[w + 5] = f.number;
    u[w + 6] = group;
    u[w + 7] = f.iface;
    this.u8.set(f.data.subarray(f.offset, f.offset + f.caplen), this.used + HEADER_BYTES);
    this.used += frameSpace(f.caplen);
    this.count++;
  }
}

/**
 * Calls `sink` for each frame of a received batch, with `frame` (reused) viewing the batch's
 * bytes and `group` the input group it came from. A header that does not fit the batch ends the
 * walk (it cannot happen with the reader's batches; a bad one must not read out of bounds).
 */
export function forEachFrame(buf: ArrayBuffer, used: number, frame: Frame, sink: (frame: Frame, group: number) => void): number {
  const u8 = new Uint8Array(buf);
  const u32 = new Uint32Array(buf, 0, buf.byteLength >>> 2);
  const end = Math.min(used, u8.length);
  let off = 0;
  let n = 0;
  frame.data = u8;
  while (off + HEADER_BYTES <= end) {
    const w = off >>> 2;
    const caplen = u32[w]!;
    if (off + HEADER_BYTES + caplen > end) break;
    frame.offset = off + HEADER_BYTES;
    frame.caplen = caplen;
    frame.wirelen = u32[w + 1]!;
    frame.tsSec = u32[w + 2]!;
    frame.tsNsec = u32[w + 3]!;
    frame.linktype = u32[w + 4]!;
    frame.number = u32[w + 5]!;
    frame.iface = u32[w + 7]!;
    sink(frame, u32[w + 6]!);
    off += frameSpace(caplen);
    n++;
  }
  return n;
}
