import { u32be, u32le, u16be, u16le } from '../wire/bytes.js';
import type { Frame, FrameSink } from './frame.js';
import { normalizeLinkType } from './linktype.js';
import { MAX_RECORD_BYTES, MAX_SNAPLEN, type CaptureParser } from './parser.js';

const FILE_HEADER = 24;
const RECORD_HEADER = 16;

/** Classic libpcap files: both byte orders, microsecond (a1b2c3d4) and nanosecond (a1b23c4d) magic. */
export class PcapParser implements CaptureParser {
  readonly format = 'pcap';
  needed = FILE_HEADER;
  damage: { offset: number; reason: string } | null = null;
  readonly linktypes = new Set<number>();
  private headerDone = false;
  private littleEndian = true;
  private nanos = false;
  private linktype = 1;
  private maxCaplen = MAX_SNAPLEN;
  private frameNumber = 0;

  /** True when the four bytes look like a pcap magic number in either byte order. */
  static sniff(b: Uint8Array): boolean {
    if (b.length < 4) return false;
    const le = u32le(b, 0);
    return le === 0xa1b2c3d4 || le === 0xa1b23c4d || le === 0xd4c3b2a1 || le === 0x4d3cb2a1;
  }

  parse(buf: Uint8Array, start: number, end: number, fileOffset: number, frame: Frame, sink: FrameSink): number {
    let p = start;
    if (!this.headerDone) {
      if (end - p < FILE_HEADER) return 0;
      if (!this.readHeader(buf, p, fileOffset)) return 0;
      p += FILE_HEADER;
    }
    const le = this.littleEndian;
    const nsMul = this.nanos ? 1 : 1000;
    const maxCaplen = this.maxCaplen;
    frame.linktype = this.linktype;
    frame.iface = 0;
    for (;;) {
      if (end - p < RECORD_HEADER) {
        this.needed = RECORD_HEADER;
        break;
      }
      const caplen = le ? u32le(buf, p + 8) : u32be(buf, p + 8);
      if (caplen > maxCaplen) {
        this.damage = { offset: fileOffset + (p - start), reason: `record claims ${caplen} captured bytes, more than the ${maxCaplen}-byte limit (corrupt length field)` };
        break;
      }
      if (end - p < RECORD_HEADER + caplen) {
        this.needed = RECORD_HEADER + caplen;
        break;
      }
      const frac = le ? u32le(buf, p + 4) : u32be(buf, p + 4);
      frame.tsSec = le ? u32le(buf, p) : u32be(buf, p);
      // A fraction past one second is corrupt; keep the record but clamp the fraction.
      frame.tsNsec = Math.min(frac * nsMul, 999_999_999);
      const wirelen = le ? u32le(buf, p + 12) : u32be(buf, p + 12);
      frame.wirelen = wirelen < caplen ? caplen : wirelen;
      frame.caplen = caplen;
      frame.data = buf;
      frame.offset = p + RECORD_HEADER;
      frame.number = ++this.frameNumber;
      frame.fileOffset = fileOffset + (p - start);
      p += RECORD_HEADER + caplen;
      sink(frame);
    }
    return p - start;
  }

  private readHeader(buf: Uint8Array, p: number, fileOffset: number): boolean {
    const magic = u32le(buf, p);
    if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) this.littleEndian = true;
    else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) this.littleEndian = false;
    else {
      this.damage = { offset: fileOffset, reason: `not a pcap file (magic 0x${magic.toString(16)})` };
      return false;
    }
    this.nanos = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
    const le = this.littleEndian;
    const major = le ? u16le(buf, p + 4) : u16be(buf, p + 4);
    if (major !== 2) {
      this.damage = { offset: fileOffset + 4, reason: `unsupported pcap version ${major} (expected 2)` };
      return false;
    }
    const snaplen = le ? u32le(buf, p + 16) : u32be(buf, p + 16);
    // The link type is the low 16 bits; above it sit the FCS length (top 4 bits) and the
    // bit that says it is present (0x04000000), as libpcap's LT_LINKTYPE() reads it.
    const network = (le ? u32le(buf, p + 20) : u32be(buf, p + 20)) & 0xffff;
    this.linktype = normalizeLinkType(network);
    this.linktypes.add(this.linktype);
    this.maxCaplen = Math.min(MAX_RECORD_BYTES, Math.max(MAX_SNAPLEN, snaplen));
    this.headerDone = true;
    this.needed = RECORD_HEADER;
    return true;
  }
}
