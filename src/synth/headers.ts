import { finishChecksum, internetChecksum, sumWords } from '../wire/checksum.js';
import { parseIpv4, parseIpv6 } from '../wire/address.js';

/**
 * Header builders for crafted traffic. Every builder returns a new Buffer with correct lengths
 * and checksums unless a field is overridden on purpose, which is how tests make malformed packets.
 */

export function addressBytes(ip: string): Buffer {
  const v4 = parseIpv4(ip);
  if (v4 !== null) {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v4);
    return b;
  }
  const v6 = parseIpv6(ip);
  if (v6 === null) throw new Error(`not an IP address: ${ip}`);
  return Buffer.from(v6);
}

export function isIpv6(ip: string): boolean {
  return ip.includes(':');
}

export interface EthernetSpec {
  src?: string;
  dst?: string;
  /** EtherType of the payload; 0x0800 by default. */
  type?: number;
  /** VLAN ids, outermost first; the first tag uses 0x88a8 when there are two or more (QinQ). */
  vlans?: number[];
}

function mac(text: string): Buffer {
  return Buffer.from(text.split(':').map((h) => parseInt(h, 16)));
}

export function ethernet(payload: Uint8Array, spec: EthernetSpec = {}): Buffer {
  const vlans = spec.vlans ?? [];
  const h = Buffer.alloc(14 + vlans.length * 4);
  mac(spec.dst ?? '02:00:00:00:00:02').copy(h, 0);
  mac(spec.src ?? '02:00:00:00:00:01').copy(h, 6);
  let o = 12;
  vlans.forEach((id, i) => {
    h.writeUInt16BE(i === 0 && vlans.length > 1 ? 0x88a8 : 0x8100, o);
    h.writeUInt16BE(id & 0x0fff, o + 2);
    o += 4;
  });
  h.writeUInt16BE(spec.type ?? 0x0800, o);
  return Buffer.concat([h, payload]);
}

/** Linux cooked capture v1 (LINKTYPE_LINUX_SLL): 16 bytes, protocol last. */
export function linuxSll(payload: Uint8Array, protocol = 0x0800): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(0, 0); // sent to us
  h.writeUInt16BE(1, 2); // ARPHRD_ETHER
  h.writeUInt16BE(6, 4);
  mac('02:00:00:00:00:01').copy(h, 6);
  h.writeUInt16BE(protocol, 14);
  return Buffer.concat([h, payload]);
}

/** Linux cooked capture v2 (LINKTYPE_LINUX_SLL2): 20 bytes, protocol first. */
export function linuxSll2(payload: Uint8Array, protocol = 0x0800): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(protocol, 0);
  h.writeUInt32BE(2, 4); // interface index
  h.writeUInt16BE(1, 8); // ARPHRD_ETHER
  h[10] = 0;
  h[11] = 6;
  mac('02:00:00:00:00:01').copy(h, 12);
  return Buffer.concat([h, payload]);
}

/** BSD loopback (LINKTYPE_NULL): a 4-byte address family in the capturing host's byte order. */
export function bsdNull(payload: Uint8Array, family: number, bigEndian = false): Buffer {
  const h = Buffer.alloc(4);
  if (bigEndian) h.writeUInt32BE(family);
  else h.writeUInt32LE(family);
  return Buffer.concat([h, payload]);
}

export interface Ipv4Spec {
  src: string;
  dst: string;
  proto: number;
  ttl?: number;
  id?: number;
  tos?: number;
  dontFragment?: boolean;
  moreFragments?: boolean;
  /** Fragment offset in bytes (a multiple of 8). */
  fragmentOffset?: number;
  /** Option bytes; padded to a multiple of 4 with EOL. */
  options?: Uint8Array;
  /** Overrides the total-length field (to craft a lying header). */
  totalLength?: number;
  /** Overrides the header-length field, in bytes. */
  headerLength?: number;
}

export function ipv4(spec: Ipv4Spec, payload: Uint8Array): Buffer {
  const opts = spec.options ?? new Uint8Array(0);
  const optLen = (opts.length + 3) & ~3;
  const hlen = 20 + optLen;
  const h = Buffer.alloc(hlen);
  // Masked: an override past 60 bytes must not spill into the version nibble.
  h[0] = 0x40 | (((spec.headerLength ?? hlen) >>> 2) & 0x0f);
  h[1] = spec.tos ?? 0;
  h.writeUInt16BE(spec.totalLength ?? hlen + payload.length, 2);
  h.writeUInt16BE(spec.id ?? 0, 4);
  const frag = ((spec.fragmentOffset ?? 0) / 8) | (spec.dontFragment ? 0x4000 : 0) | (spec.moreFragments ? 0x2000 : 0);
  h.writeUInt16BE(frag, 6);
  h[8] = spec.ttl ?? 64;
  h[9] = spec.proto;
  addressBytes(spec.src).copy(h, 12);
  addressBytes(spec.dst).copy(h, 16);
  Buffer.from(opts).copy(h, 20);
  h.writeUInt16BE(internetChecksum(h, 0, hlen), 10);
  return Buffer.concat([h, payload]);
}

export interface Ipv6Spec {
  src: string;
  dst: string;
  nextHeader: number;
  hopLimit?: number;
  /** Overrides the payload-length field. */
  payloadLength?: number;
}

export function ipv6(spec: Ipv6Spec, payload: Uint8Array): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(spec.payloadLength ?? payload.length, 4);
  h[6] = spec.nextHeader;
  h[7] = spec.hopLimit ?? 64;
  addressBytes(spec.src).copy(h, 8);
  addressBytes(spec.dst).copy(h, 24);
  return Buffer.concat([h, payload]);
}

/** An IPv6 extension header (hop-by-hop, routing, destination options): padded to 8 bytes. */
export function ipv6ExtensionHeader(nextHeader: number, body: Uint8Array): Buffer {
  const len = Math.ceil((body.length + 2) / 8) * 8;
  const h = Buffer.alloc(len);
  h[0] = nextHeader;
  h[1] = len / 8 - 1;
  Buffer.from(body).copy(h, 2);
  if (body.length + 2 < len) {
    // PadN over the rest keeps the options valid.
    const pad = len - 2 - body.length;
    if (pad === 1) h[2 + body.length] = 0;
    else {
      h[2 + body.length] = 1;
      h[3 + body.length] = pad - 2;
    }
  }
  return h;
}

function pseudoSum(src: string, dst: string, proto: number, length: number): number {
  const s = addressBytes(src);
  const d = addressBytes(dst);
  let sum = sumWords(s, 0, s.length) + sumWords(d, 0, d.length);
  sum += proto + (length >>> 16) + (length & 0xffff);
  return sum;
}

function transportChecksum(src: string, dst: string, proto: number, segment: Buffer, at: number): void {
  const sum = sumWords(segment, 0, segment.length, pseudoSum(src, dst, proto, segment.length));
  let c = finishChecksum(sum);
  if (proto === 17 && c === 0) c = 0xffff;
  segment.writeUInt16BE(c, at);
}

export interface TcpOptionsSpec {
  mss?: number;
  wscale?: number;
  sackPermitted?: boolean;
  timestamps?: [number, number];
  sack?: Array<[number, number]>;
}

export function tcpOptions(o: TcpOptionsSpec): Buffer {
  const parts: number[] = [];
  if (o.mss !== undefined) parts.push(2, 4, o.mss >>> 8, o.mss & 0xff);
  if (o.sackPermitted) parts.push(4, 2);
  if (o.timestamps !== undefined) {
    const t = Buffer.alloc(8);
    t.writeUInt32BE(o.timestamps[0] >>> 0, 0);
    t.writeUInt32BE(o.timestamps[1] >>> 0, 4);
    parts.push(8, 10, ...t);
  }
  if (o.sack !== undefined) {
    parts.push(5, 2 + o.sack.length * 8);
    for (const [l, r] of o.sack) {
      const t = Buffer.alloc(8);
      t.writeUInt32BE(l >>> 0, 0);
      t.writeUInt32BE(r >>> 0, 4);
      parts.push(...t);
    }
  }
  if (o.wscale !== undefined) parts.push(1, 3, 3, o.wscale);
  while (parts.length % 4 !== 0) parts.push(0);
  return Buffer.from(parts);
}

export interface TcpSpec {
  sport: number;
  dport: number;
  seq: number;
  ack?: number;
  /** Flag letters: S, A, F, R, P, U, E, C (e.g. "SA", "PA"). */
  flags: string;
  window?: number;
  /** Option bytes; padded to a multiple of 4 with EOL. */
  options?: Uint8Array;
  /** Overrides the data-offset field, in bytes. */
  headerLength?: number;
}

export const TCP_FLAG_BITS: Readonly<Record<string, number>> = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, A: 0x10, U: 0x20, E: 0x40, C: 0x80 };

export function tcpFlags(letters: string): number {
  let f = 0;
  for (const ch of letters) {
    const bit = TCP_FLAG_BITS[ch];
    if (bit === undefined) throw new Error(`unknown TCP flag letter "${ch}"`);
    f |= bit;
  }
  return f;
}

export function tcp(spec: TcpSpec, payload: Uint8Array, src: string, dst: string): Buffer {
  const opts = spec.options ?? new Uint8Array(0);
  const hlen = 20 + ((opts.length + 3) & ~3);
  const h = Buffer.alloc(hlen);
  h.writeUInt16BE(spec.sport, 0);
  h.writeUInt16BE(spec.dport, 2);
  h.writeUInt32BE(spec.seq >>> 0, 4);
  h.writeUInt32BE((spec.ack ?? 0) >>> 0, 8);
  h[12] = (((spec.headerLength ?? hlen) >>> 2) & 0x0f) << 4;
  h[13] = tcpFlags(spec.flags);
  h.writeUInt16BE(spec.window ?? 65535, 14);
  Buffer.from(opts).copy(h, 20);
  const seg = Buffer.concat([h, payload]);
  transportChecksum(src, dst, 6, seg, 16);
  return seg;
}

export function udp(sport: number, dport: number, payload: Uint8Array, src: string, dst: string, lengthOverride?: number): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(lengthOverride ?? 8 + payload.length, 4);
  const seg = Buffer.concat([h, payload]);
  transportChecksum(src, dst, 17, seg, 6);
  return seg;
}

/** ICMPv4: type, code, the 4-byte rest of header (id and sequence for echo), then data. */
export function icmpv4(type: number, code: number, rest: number, payload: Uint8Array): Buffer {
  const h = Buffer.alloc(8);
  h[0] = type;
  h[1] = code;
  h.writeUInt32BE(rest >>> 0, 4);
  const msg = Buffer.concat([h, payload]);
  msg.writeUInt16BE(internetChecksum(msg, 0, msg.length), 2);
  return msg;
}

export function icmpv6(type: number, code: number, rest: number, payload: Uint8Array, src: string, dst: string): Buffer {
  const h = Buffer.alloc(8);
  h[0] = type;
  h[1] = code;
  h.writeUInt32BE(rest >>> 0, 4);
  const msg = Buffer.concat([h, payload]);
  transportChecksum(src, dst, 58, msg, 2);
  return msg;
}

/**
 * Splits an IPv4 datagram into fragments. `pieces` are [offset, length] ranges of the payload
 * (offsets multiples of 8), in the order they are to be sent; they may overlap or leave holes.
 * The piece that reaches the end of the payload has more-fragments clear. As RFC 791 says, the
 * offset-0 fragment carries all of the datagram's options, the others only those marked copied.
 */
export function fragmentIpv4(datagram: Buffer, pieces: Array<[number, number]>, data?: (offset: number, length: number) => Uint8Array): Buffer[] {
  const hlen = (datagram[0]! & 0x0f) * 4;
  const payload = datagram.subarray(hlen);
  const options = datagram.subarray(20, hlen);
  const spec: Ipv4Spec = {
    src: `${datagram[12]}.${datagram[13]}.${datagram[14]}.${datagram[15]}`,
    dst: `${datagram[16]}.${datagram[17]}.${datagram[18]}.${datagram[19]}`,
    proto: datagram[9]!,
    id: datagram.readUInt16BE(4),
    ttl: datagram[8]!,
    tos: datagram[1]!,
  };
  const copied = copiedOptions(options);
  return pieces.map(([offset, length]) => {
    const bytes = data?.(offset, length) ?? payload.subarray(offset, offset + length);
    return ipv4({ ...spec, options: offset === 0 ? options : copied, fragmentOffset: offset, moreFragments: offset + length < payload.length }, bytes);
  });
}

/** The options with the copied flag (0x80) set: those every fragment repeats. */
function copiedOptions(options: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let o = 0; o < options.length; ) {
    const type = options[o]!;
    if (type === 0) break;
    if (type === 1) {
      o++;
      continue;
    }
    const len = options[o + 1] ?? 0;
    if (len < 2) break;
    if (type & 0x80) out.push(...options.subarray(o, o + len));
    o += len;
  }
  return Uint8Array.from(out);
}

/** Splits an IPv6 datagram (fixed header + upper layer) into fragments with a Fragment header each. */
export function fragmentIpv6(datagram: Buffer, id: number, pieces: Array<[number, number]>, data?: (offset: number, length: number) => Uint8Array): Buffer[] {
  const payload = datagram.subarray(40);
  const nextHeader = datagram[6]!;
  return pieces.map(([offset, length]) => {
    const bytes = data?.(offset, length) ?? payload.subarray(offset, offset + length);
    const fh = Buffer.alloc(8);
    fh[0] = nextHeader;
    fh.writeUInt16BE(offset | (offset + length < payload.length ? 1 : 0), 2);
    fh.writeUInt32BE(id >>> 0, 4);
    const h = Buffer.from(datagram.subarray(0, 40));
    h[6] = 44;
    h.writeUInt16BE(8 + bytes.length, 4);
    return Buffer.concat([h, fh, bytes]);
  });
}
