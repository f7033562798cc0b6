/*
 * Each decoder here reads [off, end), the IP payload that is present. `cut` says the snaplen cut
 * the datagram short of its length field: a header past `end` is then the capture's doing, not
 * the sender's, and raises nothing. A frame cut only in its link-layer trailer is not cut here.
 */
import { u16be, u32be } from '../wire/bytes.js';
import { DecodeEvent } from './events.js';
import { Layer, type Packet } from './packet.js';

const TCP_OPT_EOL = 0;
const TCP_OPT_NOP = 1;
const TCP_OPT_MSS = 2;
const TCP_OPT_WS = 3;
const TCP_OPT_SACKOK = 4;
const TCP_OPT_SACK = 5;
const TCP_OPT_TS = 8;

/**
 * TCP header and options (RFC 9293, 7323, 2018). A header that does not fit raises an event and
 * leaves the packet at the network layer.
 */
export function decodeTcp(p: Packet, b: Uint8Array, off: number, end: number, cut: boolean): void {
  const avail = end - off;
  if (avail < 20) {
    if (!cut) p.raise(DecodeEvent['tcp.pkt_too_small']);
    return;
  }
  const hlen = (b[off + 12]! >>> 4) * 4;
  if (hlen < 20) {
    p.raise(DecodeEvent['tcp.hlen_too_small']);
    return;
  }
  if (hlen > avail) {
    if (!cut) p.raise(DecodeEvent['tcp.invalid_optlen']);
    return;
  }
  p.l4Off = off;
  p.srcPort = u16be(b, off);
  p.dstPort = u16be(b, off + 2);
  p.seq = u32be(b, off + 4);
  p.ack = u32be(b, off + 8);
  p.tcpFlags = b[off + 13]!;
  p.window = u16be(b, off + 14);
  if (hlen > 20) decodeTcpOptions(p, b, off + 20, off + hlen);
  p.payloadOff = off + hlen;
  p.payloadLen = end - off - hlen;
  p.layer = Layer.TRANSPORT;
}

function decodeTcpOptions(p: Packet, b: Uint8Array, o: number, end: number): void {
  let seen = 0; // bit per option kind < 32, for duplicates
  while (o < end) {
    const kind = b[o]!;
    if (kind === TCP_OPT_EOL) return;
    if (kind === TCP_OPT_NOP) {
      o++;
      continue;
    }
    if (o + 1 >= end) {
      p.raise(DecodeEvent['tcp.opt_invalid_len']);
      return;
    }
    const len = b[o + 1]!;
    if (len < 2 || o + len > end) {
      p.raise(DecodeEvent['tcp.opt_invalid_len']);
      return;
    }
    if (kind < 32) {
      const bit = 1 << kind;
      if (seen & bit) p.raise(DecodeEvent['tcp.opt_duplicate']);
      seen |= bit;
    }
    switch (kind) {
      case TCP_OPT_MSS:
        if (len === 4) p.mss = u16be(b, o + 2);
        else p.raise(DecodeEvent['tcp.opt_invalid_len']);
        break;
      case TCP_OPT_WS:
        if (len === 3) p.wscale = b[o + 2]!;
        else p.raise(DecodeEvent['tcp.opt_invalid_len']);
        break;
      case TCP_OPT_SACKOK:
        if (len === 2) p.sackPermitted = true;
        else p.raise(DecodeEvent['tcp.opt_invalid_len']);
        break;
      case TCP_OPT_SACK:
        if (len < 10 || (len - 2) % 8 !== 0) p.raise(DecodeEvent['tcp.opt_invalid_len']);
        else {
          p.sackOff = o + 2;
          p.sackBlocks = (len - 2) / 8;
        }
        break;
      case TCP_OPT_TS:
        if (len === 10) {
          p.tsVal = u32be(b, o + 2);
          p.tsEcr = u32be(b, o + 6);
        } else p.raise(DecodeEvent['tcp.opt_invalid_len']);
        break;
    }
    o += len;
  }
}

/** UDP (RFC 768). The length field bounds the payload; Ethernet padding past it is not payload. */
export function decodeUdp(p: Packet, b: Uint8Array, off: number, end: number, cut: boolean): void {
  const avail = end - off;
  if (avail < 8) {
    if (!cut) p.raise(DecodeEvent['udp.pkt_too_small']);
    return;
  }
  const ulen = u16be(b, off + 4);
  if (ulen < 8) {
    p.raise(DecodeEvent['udp.hlen_too_small']);
    return;
  }
  let payloadEnd = off + ulen;
  if (ulen > avail) {
    if (!cut) {
      p.raise(DecodeEvent['udp.hlen_invalid']);
      return;
    }
    payloadEnd = end;
  }
  p.l4Off = off;
  p.srcPort = u16be(b, off);
  p.dstPort = u16be(b, off + 2);
  p.payloadOff = off + 8;
  p.payloadLen = payloadEnd - off - 8;
  p.layer = Layer.TRANSPORT;
}

/** The highest code each ICMPv4 type defines (RFC 792, 1812, 950); types missing here are unknown. */
const ICMP4_MAX_CODE: ReadonlyMap<number, number> = new Map([
  [0, 0], [3, 15], [4, 0], [5, 3], [8, 0], [9, 16], [10, 0], [11, 1], [12, 2], [13, 0], [14, 0], [15, 0], [16, 0], [17, 0], [18, 0],
]);
const ICMP4_ERRORS = new Set([3, 4, 5, 11, 12]);
/** Types carrying an identifier and sequence number (echo, timestamp, information, address mask). */
const ICMP4_WITH_ID = new Set([0, 8, 13, 14, 15, 16, 17, 18]);

/** ICMPv4 (RFC 792). Error messages must quote an IPv4 header of the offending datagram. */
export function decodeIcmpv4(p: Packet, b: Uint8Array, off: number, end: number, cut: boolean): void {
  if (end - off < 8) {
    if (!cut) p.raise(DecodeEvent['icmpv4.pkt_too_small']);
    return;
  }
  const type = b[off]!;
  const code = b[off + 1]!;
  p.icmpType = type;
  p.icmpCode = code;
  const maxCode = ICMP4_MAX_CODE.get(type);
  if (maxCode === undefined) p.raise(DecodeEvent['icmpv4.unknown_type']);
  else if (code > maxCode) p.raise(DecodeEvent['icmpv4.unknown_code']);
  if (ICMP4_WITH_ID.has(type)) {
    p.icmpId = u16be(b, off + 4);
    p.icmpSeq = u16be(b, off + 6);
  } else if (ICMP4_ERRORS.has(type) && !cut) {
    const inner = off + 8;
    if (end - inner < 20) p.raise(DecodeEvent['icmpv4.ipv4_trunc_pkt']);
    else if (b[inner]! >>> 4 !== 4) p.raise(DecodeEvent['icmpv4.ipv4_unknown_ver']);
  }
  p.l4Off = off;
  p.payloadOff = off + 8;
  p.payloadLen = end - off - 8;
  p.layer = Layer.TRANSPORT;
}

/** ICMPv6 error messages (RFC 4443) and the highest code each defines. */
const ICMP6_ERRORS_MAX_CODE: ReadonlyMap<number, number> = new Map([
  [1, 7], [2, 0], [3, 1], [4, 3],
]);

/**
 * ICMPv6 informational types in the IANA registry with the highest code each defines (255:
 * the code is a subtype or unconstrained). Suricata's list: a type outside it is unknown.
 */
const ICMP6_INFO_MAX_CODE: ReadonlyMap<number, number> = new Map([
  [100, 255], [101, 255], [128, 0], [129, 0], [130, 0], [131, 0], [132, 0], [133, 0], [134, 0], [135, 0], [136, 0], [137, 0],
  [138, 255], [139, 2], [140, 2], [141, 0], [142, 0], [143, 0], [144, 0], [145, 0], [146, 0], [147, 0], [148, 0], [149, 0], [150, 255],
  [151, 0], [152, 0], [153, 0], [154, 255], [155, 255], [156, 255], [157, 255], [158, 255], [159, 0], [160, 0], [161, 4],
  [200, 255], [201, 255], [255, 255],
]);

/** ICMPv6 (RFC 4443). Error messages must quote an IPv6 header. */
export function decodeIcmpv6(p: Packet, b: Uint8Array, off: number, end: number, cut: boolean): void {
  if (end - off < 4) {
    if (!cut) p.raise(DecodeEvent['icmpv6.pkt_too_small']);
    return;
  }
  const type = b[off]!;
  const code = b[off + 1]!;
  p.icmpType = type;
  p.icmpCode = code;
  const maxCode = ICMP6_ERRORS_MAX_CODE.get(type);
  if (maxCode !== undefined) {
    if (code > maxCode) p.raise(DecodeEvent['icmpv6.unknown_code']);
    if (!cut) {
      const inner = off + 8;
      if (end - inner < 40) p.raise(DecodeEvent['icmpv6.ipv6_trunc_pkt']);
      else if (b[inner]! >>> 4 !== 6) p.raise(DecodeEvent['icmpv6.ipv6_unknown_version']);
    }
  } else {
    const infoMax = ICMP6_INFO_MAX_CODE.get(type);
    if (infoMax === undefined) p.raise(DecodeEvent['icmpv6.unknown_type']);
    else if (code > infoMax) p.raise(DecodeEvent['icmpv6.unknown_code']);
  }
  if ((type === 128 || type === 129) && end - off >= 8) {
    p.icmpId = u16be(b, off + 4);
    p.icmpSeq = u16be(b, off + 6);
  }
  p.l4Off = off;
  p.payloadOff = Math.min(off + 8, end);
  p.payloadLen = end - p.payloadOff;
  p.layer = Layer.TRANSPORT;
}
