import { closeSync, openSync, writeSync } from 'node:fs';

export interface PcapngInterface {
  linktype: number;
  snaplen?: number;
  /** if_tsresol byte: 6 = microseconds (the default), 9 = nanoseconds, 0x80|n = 2^-n. */
  tsresol?: number;
  /** if_tsoffset in seconds. */
  tsoffset?: number;
}

/**
 * Writes pcapng in either byte order with any number of interfaces: enough to make every
 * shape the reader must accept (EPB, SPB, custom blocks) without shipping binary fixtures.
 */
export class PcapngWriter {
  private readonly fd: number;
  private readonly le: boolean;
  private readonly interfaces: PcapngInterface[] = [];

  constructor(path: string, options: { bigEndian?: boolean } = {}) {
    this.fd = openSync(path, 'w');
    this.le = options.bigEndian !== true;
    this.section();
  }

  /** Starts a new section; interface ids restart at 0. */
  section(): void {
    const body = Buffer.alloc(16);
    this.u32(body, 0, 0x1a2b3c4d);
    this.u16(body, 4, 1);
    this.u16(body, 6, 0);
    body.writeInt32LE(-1, 8); // section length unknown (-1 is the same in both byte orders)
    body.writeInt32LE(-1, 12);
    this.interfaces.length = 0;
    this.block(0x0a0d0d0a, body);
  }

  /** Describes an interface and returns its id. */
  addInterface(iface: PcapngInterface): number {
    const opts: Buffer[] = [];
    if (iface.tsresol !== undefined) opts.push(this.option(9, Buffer.from([iface.tsresol])));
    if (iface.tsoffset !== undefined) {
      const v = Buffer.alloc(8);
      if (this.le) v.writeBigInt64LE(BigInt(iface.tsoffset));
      else v.writeBigInt64BE(BigInt(iface.tsoffset));
      opts.push(this.option(14, v));
    }
    if (opts.length > 0) opts.push(Buffer.alloc(4)); // opt_endofopt
    const head = Buffer.alloc(8);
    this.u16(head, 0, iface.linktype);
    this.u32(head, 4, iface.snaplen ?? 262144);
    this.block(1, Buffer.concat([head, ...opts]));
    this.interfaces.push(iface);
    return this.interfaces.length - 1;
  }

  /** Writes an Enhanced Packet Block; `time` is seconds since the epoch. */
  packet(ifid: number, time: number, frame: Uint8Array, wirelen = frame.length): void {
    const iface = this.interfaces[ifid];
    const r = iface?.tsresol ?? 6;
    const unitsPerSecond = r & 0x80 ? 2n ** BigInt(r & 0x7f) : 10n ** BigInt(r);
    const sec = Math.floor(time - (iface?.tsoffset ?? 0));
    const frac = BigInt(Math.round((time - Math.floor(time)) * 1e9));
    const ts = BigInt(sec) * unitsPerSecond + (frac * unitsPerSecond) / 1_000_000_000n;
    const head = Buffer.alloc(20);
    this.u32(head, 0, ifid);
    this.u32(head, 4, Number(ts >> 32n));
    this.u32(head, 8, Number(ts & 0xffffffffn));
    this.u32(head, 12, frame.length);
    this.u32(head, 16, wirelen);
    this.block(6, Buffer.concat([head, pad(frame)]));
  }

  /** Writes a Simple Packet Block (no timestamp, interface 0). */
  simplePacket(frame: Uint8Array, wirelen = frame.length): void {
    const head = Buffer.alloc(4);
    this.u32(head, 0, wirelen);
    this.block(3, Buffer.concat([head, pad(frame)]));
  }

  /** Writes a block of any type, for example one the reader must skip. */
  block(type: number, body: Uint8Array): void {
    const len = 12 + body.length;
    const head = Buffer.alloc(8);
    this.u32(head, 0, type);
    this.u32(head, 4, len);
    const tail = Buffer.alloc(4);
    this.u32(tail, 0, len);
    writeSync(this.fd, Buffer.concat([head, body, tail]));
  }

  close(): void {
    closeSync(this.fd);
  }

  private option(code: number, value: Buffer): Buffer {
    const h = Buffer.alloc(4);
    this.u16(h, 0, code);
    this.u16(h, 2, value.length);
    return Buffer.concat([h, pad(value)]);
  }

  private u16(b: Buffer, o: number, v: number): void {
    if (this.le) b.writeUInt16LE(v, o);
    else b.writeUInt16BE(v, o);
  }

  private u32(b: Buffer, o: number, v: number): void {
    if (this.le) b.writeUInt32LE(v >>> 0, o);
    else b.writeUInt32BE(v >>> 0, o);
  }
}

function pad(b: Uint8Array): Buffer {
  const n = (4 - (b.length % 4)) % 4;
  return Buffer.concat([b, Buffer.alloc(n)]);
}
