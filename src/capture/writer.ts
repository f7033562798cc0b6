import { closeSync, openSync, writeSync } from 'node:fs';
import { putU16le, putU32le } from '../wire/bytes.js';
import { LinkType } from './linktype.js';

export interface PcapWriterOptions {
  linktype?: number;
  snaplen?: number;
  /** Write nanosecond timestamps (magic a1b23c4d) instead of microseconds. */
  nanoseconds?: boolean;
}

/**
 * Writes classic little-endian pcap. Records are gathered in a buffer and written in large
 * blocks, so crafting a gigabyte of traffic costs little more than the bytes themselves.
 */
export class PcapWriter {
  private readonly fd: number;
  private buf = Buffer.allocUnsafe(1 << 20);
  private used = 0;
  private readonly nanos: boolean;
  private readonly snaplen: number;
  /** Bytes written so far, header included. */
  written = 0;
  frames = 0;

  constructor(path: string, options: PcapWriterOptions = {}) {
    this.fd = openSync(path, 'w');
    this.nanos = options.nanoseconds ?? false;
    this.snaplen = options.snaplen ?? 262144;
    const h = Buffer.alloc(24);
    putU32le(h, 0, this.nanos ? 0xa1b23c4d : 0xa1b2c3d4);
    putU16le(h, 4, 2);
    putU16le(h, 6, 4);
    putU32le(h, 16, this.snaplen);
    putU32le(h, 20, options.linktype ?? LinkType.ETHERNET);
    this.append(h, 0, 24);
  }

  /**
   * Appends one frame. `time` is seconds since the epoch (fractions allowed); the frame is cut to the
   * snaplen, and `wirelen` may claim more bytes than were captured.
   */
  write(time: number, frame: Uint8Array, wirelen = frame.length): void {
    const caplen = Math.min(frame.length, this.snaplen);
    let sec = Math.floor(time);
    let frac = Math.round((time - sec) * (this.nanos ? 1e9 : 1e6));
    if (frac >= (this.nanos ? 1e9 : 1e6)) {
      sec += 1;
      frac = 0;
    }
    this.writeRecord(sec, frac, frame, caplen, Math.max(wirelen, caplen));
  }

  /** Appends one frame with an exact timestamp (the fraction in the file's unit). */
  writeRecord(sec: number, frac: number, frame: Uint8Array, caplen: number, wirelen: number): void {
    if (this.buf.length - this.used < 16 + caplen) this.flush(16 + caplen);
    const b = this.buf;
    const o = this.used;
    putU32le(b, o, sec);
    putU32le(b, o + 4, frac);
    putU32le(b, o + 8, caplen);
    putU32le(b, o + 12, wirelen);
    b.set(frame.subarray(0, caplen), o + 16);
    this.used += 16 + caplen;
    this.written += 16 + caplen;
    this.frames++;
  }

  close(): void {
    this.flush(0);
    closeSync(this.fd);
  }

  private append(data: Uint8Array, off: number, len: number): void {
    if (this.buf.length - this.used < len) this.flush(len);
    this.buf.set(data.subarray(off, off + len), this.used);
    this.used += len;
    this.written += len;
  }

  private flush(room: number): void {
    if (this.used > 0) writeSync(this.fd, this.buf, 0, this.used);
    this.used = 0;
    if (room > this.buf.length) this.buf = Buffer.allocUnsafe(room);
  }
}
