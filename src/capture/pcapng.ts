import { u16be, u16le, u32be, u32le } from '../wire/bytes.js';
import type { Frame, FrameSink } from './frame.js';
import { normalizeLinkType } from './linktype.js';
import { MAX_RECORD_BYTES, type CaptureParser } from './parser.js';

const SHB = 0x0a0d0d0a;
const IDB = 0x00000001;
const OPB = 0x00000002; // obsolete Packet Block, still written by old tools
const SPB = 0x00000003;
const EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

interface Interface {
  linktype: number;
  snaplen: number;
  /** Timestamp units per second (if_tsresol); 1e6 when the option is absent. */
  unitsPerSecond: number;
  /** Seconds added to every timestamp (if_tsoffset). */
  offsetSeconds: number;
}

/**
 * pcapng (draft-ietf-opsawg-pcapng): SHB in either byte order, IDB with if_tsresol and if_tsoffset,
 * EPB, SPB and the obsolete PB. Other block types are skipped by their length.
 */
export class PcapngParser implements CaptureParser {
  readonly format = 'pcapng';
  needed = 12;
  damage: { offset: number; reason: string } | null = null;
  readonly linktypes = new Set<number>();
  private littleEndian = true;
  private sectionSeen = false;
  private interfaces: Interface[] = [];
  private frameNumber = 0;

  static sniff(b: Uint8Array): boolean {
    return b.length >= 4 && u32le(b, 0) === SHB;
  }

  parse(buf: Uint8Array, start: number, end: number, fileOffset: number, frame: Frame, sink: FrameSink): number {
    let p = start;
    for (;;) {
      if (end - p < 12) {
        this.needed = 12;
        break;
      }
      const at = fileOffset + (p - start);
      let type = u32le(buf, p);
      if (type === SHB) {
        // The byte-order magic decides how to read this section, including the SHB's own length.
        const bom = u32le(buf, p + 8);
        if (bom === BYTE_ORDER_MAGIC) this.littleEndian = true;
        else if (bom === 0x4d3c2b1a) this.littleEndian = false;
        else {
          this.damage = { offset: at + 8, reason: `section header has an unknown byte-order magic 0x${bom.toString(16)}` };
          break;
        }
      } else if (!this.sectionSeen) {
        this.damage = { offset: at, reason: 'pcapng file does not start with a section header block' };
        break;
      }
      const le = this.littleEndian;
      if (!le) type = u32be(buf, p);
      const len = le ? u32le(buf, p + 4) : u32be(buf, p + 4);
      if (len < 12 || len % 4 !== 0 || len > MAX_RECORD_BYTES) {
        this.damage = { offset: at + 4, reason: `block length ${len} is invalid (must be a multiple of 4 between 12 and ${MAX_RECORD_BYTES})` };
        break;
      }
      if (end - p < len) {
        this.needed = len;
        break;
      }
      const trailer = le ? u32le(buf, p + len - 4) : u32be(buf, p + len - 4);
      if (trailer !== len) {
        this.damage = { offset: at + len - 4, reason: `block trailer length ${trailer} does not match header length ${len}` };
        break;
      }
      const ok =
        type === SHB ? this.readSection(buf, p, len, at)
        : type === IDB ? this.readInterface(buf, p, len, at)
        : type === EPB || type === OPB ? this.readPacket(buf, p, len, at, type, frame, sink)
        : type === SPB ? this.readSimplePacket(buf, p, len, at, frame, sink)
        : true;
      if (!ok) break;
      p += len;
    }
    return p - start;
  }

  private u16(b: Uint8Array, o: number): number {
    return this.littleEndian ? u16le(b, o) : u16be(b, o);
  }

  private u32(b: Uint8Array, o: number): number {
    return this.littleEndian ? u32le(b, o) : u32be(b, o);
  }

  private readSection(buf: Uint8Array, p: number, len: number, at: number): boolean {
    if (len < 28) {
      this.damage = { offset: at, reason: `section header block of ${len} bytes is shorter than 28` };
      return false;
    }
    const major = this.u16(buf, p + 12);
    if (major !== 1) {
      this.damage = { offset: at + 12, reason: `unsupported pcapng major version ${major}` };
      return false;
    }
    this.sectionSeen = true;
    this.interfaces = []; // interface ids are per section
    return true;
  }

  private readInterface(buf: Uint8Array, p: number, len: number, at: number): boolean {
    if (len < 20) {
      this.damage = { offset: at, reason: `interface description block of ${len} bytes is shorter than 20` };
      return false;
    }
    const iface: Interface = {
      linktype: normalizeLinkType(this.u16(buf, p + 8)),
      snaplen: this.u32(buf, p + 12),
      unitsPerSecond: 1e6,
      offsetSeconds: 0,
    };
    // Options: code(2) length(2) value padded to 4, ending with opt_endofopt or the block's end.
    let o = p + 16;
    const optEnd = p + len - 4;
    while (o + 4 <= optEnd) {
      const code = this.u16(buf, o);
      const olen = this.u16(buf, o + 2);
      if (code === 0) break;
      if (o + 4 + olen > optEnd) break; // a malformed option list ends the options, not the file
      if (code === 9 && olen >= 1) {
        const r = buf[o + 4]!;
        // High bit set: a negative power of 2; otherwise a negative power of 10.
        const units = r & 0x80 ? 2 ** (r & 0x7f) : 10 ** r;
        if (Number.isFinite(units) && units >= 1) iface.unitsPerSecond = units;
      } else if (code === 14 && olen >= 8) {
        // A signed 64-bit count of seconds, in the section's byte order.
        const first = this.u32(buf, o + 4);
        const second = this.u32(buf, o + 8);
        iface.offsetSeconds = this.littleEndian ? (second | 0) * 0x100000000 + first : (first | 0) * 0x100000000 + second;
      }
      o += 4 + ((olen + 3) & ~3);
    }
    this.interfaces.push(iface);
    this.linktypes.add(iface.linktype);
    return true;
  }

  private readPacket(buf: Uint8Array, p: number, len: number, at: number, type: number, frame: Frame, sink: FrameSink): boolean {
    if (len < 32) {
      this.damage = { offset: at, reason: `packet block of ${len} bytes is shorter than 32` };
      return false;
    }
    const ifid = type === EPB ? this.u32(buf, p + 8) : this.u16(buf, p + 8);
    const iface = this.interfaces[ifid];
    if (iface === undefined) {
      this.damage = { offset: at + 8, reason: `packet names interface ${ifid}, but only ${this.interfaces.length} are described` };
      return false;
    }
    const caplen = this.u32(buf, p + 20);
    if (caplen > len - 32) {
      this.damage = { offset: at + 20, reason: `captured length ${caplen} overruns its ${len}-byte block` };
      return false;
    }
    const wirelen = this.u32(buf, p + 24);
    this.setTime(frame, iface, this.u32(buf, p + 12), this.u32(buf, p + 16));
    this.emit(frame, sink, buf, p + 28, caplen, wirelen, iface, ifid, at);
    return true;
  }

  private readSimplePacket(buf: Uint8Array, p: number, len: number, at: number, frame: Frame, sink: FrameSink): boolean {
    if (len < 16) {
      this.damage = { offset: at, reason: `simple packet block of ${len} bytes is shorter than 16` };
      return false;
    }
    const iface = this.interfaces[0];
    if (iface === undefined) {
      this.damage = { offset: at, reason: 'simple packet block before any interface description block' };
      return false;
    }
    const wirelen = this.u32(buf, p + 8);
    let caplen = Math.min(wirelen, len - 16);
    if (iface.snaplen > 0) caplen = Math.min(caplen, iface.snaplen);
    // A simple packet block carries no timestamp.
    frame.tsSec = 0;
    frame.tsNsec = 0;
    this.emit(frame, sink, buf, p + 12, caplen, wirelen, iface, 0, at);
    return true;
  }

  private emit(frame: Frame, sink: FrameSink, buf: Uint8Array, off: number, caplen: number, wirelen: number, iface: Interface, ifid: number, at: number): void {
    frame.data = buf;
    frame.offset = off;
    frame.caplen = caplen;
    frame.wirelen = wirelen < caplen ? caplen : wirelen;
    frame.linktype = iface.linktype;
    frame.iface = ifid;
    frame.number = ++this.frameNumber;
    frame.fileOffset = at;
    sink(frame);
  }

  private setTime(frame: Frame, iface: Interface, hi: number, lo: number): void {
    const units = iface.unitsPerSecond;
    let sec: number;
    let nsec: number;
    if (units <= 1e6) {
      // Below 2^53 for any date before the year 2255 at microsecond resolution: exact in a double.
      const v = hi * 0x100000000 + lo;
      sec = Math.floor(v / units);
      nsec = Math.round(((v - sec * units) * 1e9) / units);
    } else {
      const v = (BigInt(hi) << 32n) | BigInt(lo);
      const u = BigInt(units);
      sec = Number(v / u);
      nsec = Number(((v % u) * 1_000_000_000n) / u);
    }
    sec += iface.offsetSeconds;
    frame.tsSec = sec;
    frame.tsNsec = nsec > 999_999_999 ? 999_999_999 : nsec;
  }
}
