import { writeFileSync } from 'node:fs';
import { openByteSource, readCapture, type CaptureSummary, type Frame } from '../../src/capture/index.js';
import { LinkType } from '../../src/capture/linktype.js';
import { SynthCapture, TcpConnection, UdpFlow } from '../../src/synth/index.js';

/**
 * Capture bytes crafted by hand, for the shapes the writers in src/capture do not make
 * (big-endian pcap, FCS bits, obsolete packet blocks, exact pcapng timestamps).
 */

/** One pcap record: seconds, the fraction in the file's unit (µs or ns), bytes, and the length on the wire. */
export interface PcapRecord {
  sec: number;
  frac: number;
  data: Uint8Array;
  wirelen?: number;
}

export interface PcapFileSpec {
  bigEndian?: boolean;
  nanoseconds?: boolean;
  /** The whole 32-bit link type field, FCS bits included. */
  linktypeField?: number;
  snaplen?: number;
}

function u32(b: Buffer, o: number, v: number, le: boolean): void {
  if (le) b.writeUInt32LE(v >>> 0, o);
  else b.writeUInt32BE(v >>> 0, o);
}

function u16(b: Buffer, o: number, v: number, le: boolean): void {
  if (le) b.writeUInt16LE(v, o);
  else b.writeUInt16BE(v, o);
}

/** A whole pcap file in either byte order. */
export function pcapBytes(records: PcapRecord[], spec: PcapFileSpec = {}): Buffer {
  const le = spec.bigEndian !== true;
  const h = Buffer.alloc(24);
  u32(h, 0, spec.nanoseconds === true ? 0xa1b23c4d : 0xa1b2c3d4, le);
  u16(h, 4, 2, le);
  u16(h, 6, 4, le);
  u32(h, 16, spec.snaplen ?? 262144, le);
  u32(h, 20, spec.linktypeField ?? LinkType.ETHERNET, le);
  const parts = [h];
  for (const r of records) {
    const rh = Buffer.alloc(16);
    u32(rh, 0, r.sec, le);
    u32(rh, 4, r.frac, le);
    u32(rh, 8, r.data.length, le);
    u32(rh, 12, r.wirelen ?? r.data.length, le);
    parts.push(rh, Buffer.from(r.data));
  }
  return Buffer.concat(parts);
}

export function writePcap(path: string, records: PcapRecord[], spec: PcapFileSpec = {}): void {
  writeFileSync(path, pcapBytes(records, spec));
}

function pad4(b: Uint8Array): Buffer {
  return Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
}

/** One pcapng block of any type, with its length in front and behind. */
export function pcapngBlock(type: number, body: Uint8Array, le = true): Buffer {
  const len = 12 + body.length;
  const head = Buffer.alloc(8);
  u32(head, 0, type, le);
  u32(head, 4, len, le);
  const tail = Buffer.alloc(4);
  u32(tail, 0, len, le);
  return Buffer.concat([head, body, tail]);
}

/** The body of an Enhanced Packet Block with a raw 64-bit timestamp in the interface's units. */
export function epbBody(ifid: number, ts: bigint, data: Uint8Array, wirelen = data.length, le = true): Buffer {
  const h = Buffer.alloc(20);
  u32(h, 0, ifid, le);
  u32(h, 4, Number(ts >> 32n), le);
  u32(h, 8, Number(ts & 0xffffffffn), le);
  u32(h, 12, data.length, le);
  u32(h, 16, wirelen, le);
  return Buffer.concat([h, pad4(data)]);
}

/** The body of the obsolete Packet Block (type 2): a 16-bit interface id and a drop count. */
export function obsoletePacketBody(ifid: number, ts: bigint, data: Uint8Array, wirelen = data.length, le = true): Buffer {
  const h = Buffer.alloc(20);
  u16(h, 0, ifid, le);
  u16(h, 2, 0, le);
  u32(h, 4, Number(ts >> 32n), le);
  u32(h, 8, Number(ts & 0xffffffffn), le);
  u32(h, 12, data.length, le);
  u32(h, 16, wirelen, le);
  return Buffer.concat([h, pad4(data)]);
}

/** A frame as the reader delivered it, copied out of the reader's shared buffer. */
export interface ReadFrame {
  bytes: Buffer;
  caplen: number;
  wirelen: number;
  truncated: boolean;
  tsSec: number;
  tsNsec: number;
  linktype: number;
  iface: number;
  number: number;
  fileOffset: number;
}

export function copyFrame(f: Frame): ReadFrame {
  return {
    bytes: Buffer.from(f.data.subarray(f.offset, f.offset + f.caplen)),
    caplen: f.caplen,
    wirelen: f.wirelen,
    truncated: f.truncated,
    tsSec: f.tsSec,
    tsNsec: f.tsNsec,
    linktype: f.linktype,
    iface: f.iface,
    number: f.number,
    fileOffset: f.fileOffset,
  };
}

/** Reads a capture file (or "-") to the end and returns every frame with the summary. */
export async function readAll(path: string): Promise<{ frames: ReadFrame[]; summary: CaptureSummary }> {
  const frames: ReadFrame[] = [];
  const source = await openByteSource(path);
  const summary = await readCapture(source, (f) => frames.push(copyFrame(f)));
  return { frames, summary };
}

/** Frames of a little conversation (a TCP connection, a UDP exchange), made by synth in memory. */
export function conversationFrames(linktype: number = LinkType.ETHERNET): Buffer[] {
  const cap = new SynthCapture(null, linktype);
  new TcpConnection(cap, '10.0.0.1:40000', '10.0.0.2:80').handshake().send('client', 'GET / HTTP/1.0\r\n\r\n').send('server', 'HTTP/1.0 200 OK\r\n\r\nhi').close();
  new UdpFlow(cap, '10.0.0.1:5353', '10.0.0.3:53').send('client', 'query').send('server', 'answer');
  return cap.frames!.map((f) => f.frame);
}
