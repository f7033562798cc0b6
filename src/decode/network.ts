import { loadIpv4, loadIpv6 } from '../wire/address.js';
import { u16be, u32be } from '../wire/bytes.js';
import type { Defragmenter } from './defrag.js';
import { DecodeEvent } from './events.js';
import { IpProto, Layer, type Packet } from './packet.js';
import { decodeIcmpv4, decodeIcmpv6, decodeTcp, decodeUdp } from './transport.js';

const IPOPT_EOL = 0;
const IPOPT_NOP = 1;
const IPOPT_RR = 0x07;
const IPOPT_TS = 0x44;
const IPOPT_LSRR = 0x83;
const IPOPT_SSRR = 0x89;

/**
 * IPv4 (RFC 791). `end` is the end of the captured bytes. The total-length field bounds the
 * datagram, so link-layer padding is dropped; a frame cut by the snaplen is decoded as far as it goes.
 */
export function decodeIpv4(p: Packet, b: Uint8Array, off: number, end: number, defrag: Defragmenter): void {
  const avail = end - off;
  if (avail < 20) {
    if (!p.truncated) p.raise(DecodeEvent['ipv4.pkt_too_small']);
    return;
  }
  if (b[off]! >>> 4 !== 4) {
    p.raise(DecodeEvent['ipv4.wrong_ip_version']);
    return;
  }
  // Addresses and protocol first, so an anomaly about the rest of the header can say who sent what.
  p.ipVersion = 4;
  p.l3Off = off;
  p.proto = b[off + 9]!;
  loadIpv4(b, off + 12, p.addr, 0);
  loadIpv4(b, off + 16, p.addr, 4);
  const hlen = (b[off]! & 0x0f) * 4;
  if (hlen < 20) {
    p.raise(DecodeEvent['ipv4.hlen_too_small']);
    return;
  }
  const totalLen = u16be(b, off + 2);
  if (totalLen < hlen) {
    p.raise(DecodeEvent['ipv4.iplen_smaller_than_hlen']);
    return;
  }
  if (hlen > avail) {
    // The total length (at least hlen) runs past the bytes too: Suricata calls this trunc_pkt.
    if (!p.truncated) p.raise(DecodeEvent['ipv4.trunc_pkt']);
    return;
  }
  let dgramEnd = off + totalLen;
  const cut = totalLen > avail;
  if (cut) {
    // Cut by the snaplen: decode what is here. Otherwise the header lies about the length.
    if (!p.truncated) {
      p.raise(DecodeEvent['ipv4.trunc_pkt']);
      return;
    }
    dgramEnd = end;
  }
  p.tos = b[off + 1]!;
  p.ipTotalLen = totalLen;
  p.ipId = u16be(b, off + 4);
  p.ipFlagsFrag = u16be(b, off + 6);
  p.ttl = b[off + 8]!;
  if (hlen > 20) decodeIpv4Options(p, b, off + 20, off + hlen);
  p.layer = Layer.NETWORK;
  const proto = b[off + 9]!;
  p.proto = proto;

  // More-fragments set or a non-zero offset: hold it until the datagram is whole.
  if ((p.ipFlagsFrag & 0x3fff) !== 0 && !p.reassembled) {
    // A fragment cut by the snaplen lacks bytes: reassembling it would make up the rest.
    if (cut) return;
    const whole = defrag.addIpv4(p, b, off, hlen, dgramEnd);
    if (whole === null) {
      p.fragmentHeld = true;
      return;
    }
    p.reassembled = true;
    p.data = whole;
    p.frameOffset = 0;
    p.frameLength = whole.length;
    decodeIpv4(p, whole, defrag.lastLinkLength, whole.length, defrag);
    return;
  }
  decodeTransport(p, b, off + hlen, dgramEnd, proto, 4, cut);
}

/** IPv4 options (RFC 791 §3.1): walked for well-formedness only; no option changes decoding. */
function decodeIpv4Options(p: Packet, b: Uint8Array, o: number, end: number): void {
  let seen = 0;
  while (o < end) {
    const type = b[o]!;
    // Options present, by number (the low 5 bits of the type), for the ipopts rule keyword.
    p.ipOptions |= 1 << (type & 0x1f);
    if (type === IPOPT_EOL) return;
    if (type === IPOPT_NOP) {
      o++;
      continue;
    }
    if (o + 1 >= end) {
      p.raise(DecodeEvent['ipv4.opt_malformed']);
      return;
    }
    const len = b[o + 1]!;
    if (len < 2 || o + len > end) {
      p.raise(DecodeEvent['ipv4.opt_invalid_len']);
      return;
    }
    const number = type & 0x1f;
    const bit = 1 << number;
    if (seen & bit) p.raise(DecodeEvent['ipv4.opt_duplicate']);
    seen |= bit;
    if (type === IPOPT_RR || type === IPOPT_LSRR || type === IPOPT_SSRR) {
      // A pointer (1-based, at least 4) to the next 4-byte address slot, at most one past the end.
      const ptr = len > 2 ? b[o + 2]! : 0;
      if (len < 3) p.raise(DecodeEvent['ipv4.opt_invalid_len']);
      else if (ptr < 4 || ptr % 4 !== 0 || ptr > len + 1) p.raise(DecodeEvent['ipv4.opt_malformed']);
    } else if (type === IPOPT_TS) {
      // A pointer (at least 5) to the next slot: 4-byte timestamps (flag 0) or 8-byte address + timestamp.
      if (len < 5) p.raise(DecodeEvent['ipv4.opt_invalid_len']);
      else {
        const ptr = b[o + 2]!;
        const slot = (b[o + 3]! & 0x0f) === 0 ? 4 : 8;
        if (ptr < 5 || ptr > len + 1 || (ptr - 5) % slot !== 0) p.raise(DecodeEvent['ipv4.opt_malformed']);
      }
    }
    o += len;
  }
}

/** Upper bound on IPv6 extension headers walked per packet: real stacks send a handful; this stops a loop of them. */
const MAX_IPV6_EXT_HEADERS = 16;

/** IPv6 (RFC 8200) and its extension header chain. */
export function decodeIpv6(p: Packet, b: Uint8Array, off: number, end: number, defrag: Defragmenter): void {
  const avail = end - off;
  if (avail < 40) {
    if (!p.truncated) p.raise(DecodeEvent['ipv6.pkt_too_small']);
    return;
  }
  if (b[off]! >>> 4 !== 6) {
    p.raise(DecodeEvent['ipv6.wrong_ip_version']);
    return;
  }
  p.ipVersion = 6;
  p.l3Off = off;
  loadIpv6(b, off + 8, p.addr, 0);
  loadIpv6(b, off + 24, p.addr, 4);
  const plen = u16be(b, off + 4);
  let dgramEnd = off + 40 + plen;
  const cut = 40 + plen > avail;
  if (cut) {
    if (!p.truncated) {
      p.raise(DecodeEvent['ipv6.trunc_pkt']);
      return;
    }
    dgramEnd = end;
  }
  p.tos = (u16be(b, off) >>> 4) & 0xff;
  p.ipTotalLen = 40 + plen;
  // A reassembled datagram keeps the identification its fragment headers carried.
  if (!p.reassembled) p.ipId = 0;
  p.ipFlagsFrag = 0;
  p.ttl = b[off + 7]!;
  p.layer = Layer.NETWORK;

  let nh = b[off + 6]!;
  let o = off + 40;
  let seen = 0; // bits: 1 hop, 2 routing, 4 dst before routing, 8 frag, 16 ah, 32 dst after routing
  for (let count = 0; count < MAX_IPV6_EXT_HEADERS; count++) {
    if (nh === IpProto.NONE) {
      if (o < dgramEnd) p.raise(DecodeEvent['ipv6.data_after_none_header']);
      p.proto = nh;
      return;
    }
    if (!isExtensionHeader(nh)) break;
    if (dgramEnd - o < 8) {
      if (!cut) p.raise(DecodeEvent['ipv6.trunc_exthdr']);
      p.proto = nh;
      return;
    }
    if (nh === IpProto.FRAGMENT) {
      if (seen & 8) p.raise(DecodeEvent['ipv6.exthdr_dupl_fh']);
      seen |= 8;
      if (b[o + 1]! !== 0) p.raise(DecodeEvent['ipv6.fh_non_zero_reserved_field']);
      const offFlags = u16be(b, o + 2);
      const fragOffset = offFlags & 0xfff8;
      const more = (offFlags & 1) === 1;
      if (fragOffset === 0 && !more) {
        // An atomic fragment (RFC 6946): the header is useless but the packet is whole.
        p.raise(DecodeEvent['ipv6.exthdr_useless_fh']);
        nh = b[o]!;
        o += 8;
        continue;
      }
      if (p.reassembled) {
        nh = b[o]!;
        o += 8;
        continue;
      }
      p.proto = b[o]!;
      p.ipId = u32be(b, o + 4);
      // A fragment cut by the snaplen lacks bytes: reassembling it would make up the rest.
      if (cut) return;
      const whole = defrag.addIpv6(p, b, off, o, dgramEnd);
      if (whole === null) {
        p.fragmentHeld = true;
        return;
      }
      p.reassembled = true;
      p.data = whole;
      p.frameOffset = 0;
      p.frameLength = whole.length;
      decodeIpv6(p, whole, defrag.lastLinkLength, whole.length, defrag);
      return;
    }
    const hlen = nh === IpProto.AH ? (b[o + 1]! + 2) * 4 : (b[o + 1]! + 1) * 8;
    if (nh === IpProto.AH) {
      if (seen & 16) p.raise(DecodeEvent['ipv6.exthdr_dupl_ah']);
      seen |= 16;
    } else if (nh === IpProto.HOPOPTS) {
      if (seen & 1) p.raise(DecodeEvent['ipv6.exthdr_dupl_hh']);
      seen |= 1;
    } else if (nh === IpProto.ROUTING) {
      if (seen & 2) p.raise(DecodeEvent['ipv6.exthdr_dupl_rh']);
      seen |= 2;
      if (b[o + 2]! === 0) p.raise(DecodeEvent['ipv6.rh_type_0']);
    } else if (nh === IpProto.DSTOPTS) {
      // One destination-options header may come before the routing header and one after it (RFC 8200 §4.1).
      const bit = seen & 2 ? 32 : 4;
      if (seen & bit) p.raise(DecodeEvent['ipv6.exthdr_dupl_dh']);
      seen |= bit;
    }
    if (o + hlen > dgramEnd) {
      if (!cut) p.raise(DecodeEvent['ipv6.trunc_exthdr']);
      p.proto = nh;
      return;
    }
    if ((nh === IpProto.HOPOPTS || nh === IpProto.DSTOPTS) && !validTlvOptions(b, o + 2, o + hlen)) {
      p.raise(DecodeEvent['ipv6.exthdr_invalid_optlen']);
    }
    nh = b[o]!;
    o += hlen;
  }
  p.proto = nh;
  // Past the cap the chain was not followed to its end: there is no transport header to trust.
  if (isExtensionHeader(nh) || nh === IpProto.NONE) return;
  decodeTransport(p, b, o, dgramEnd, nh, 6, cut);
}

function isExtensionHeader(nh: number): boolean {
  return nh === IpProto.HOPOPTS || nh === IpProto.ROUTING || nh === IpProto.DSTOPTS || nh === IpProto.FRAGMENT || nh === IpProto.AH || nh === IpProto.MOBILITY;
}

/** Hop-by-hop and destination options are TLVs (RFC 8200 §4.2); each must fit its header. */
function validTlvOptions(b: Uint8Array, o: number, end: number): boolean {
  while (o < end) {
    if (b[o] === 0) {
      o++; // Pad1
      continue;
    }
    if (o + 1 >= end) return false;
    o += 2 + b[o + 1]!;
  }
  return o === end;
}

export function decodeTransport(p: Packet, b: Uint8Array, off: number, end: number, proto: number, ipVersion: 4 | 6, cut: boolean): void {
  p.proto = proto;
  switch (proto) {
    case IpProto.TCP:
      decodeTcp(p, b, off, end, cut);
      break;
    case IpProto.UDP:
      decodeUdp(p, b, off, end, cut);
      break;
    case IpProto.ICMP:
      if (ipVersion === 6) p.raise(DecodeEvent['ipv6.icmpv4']);
      decodeIcmpv4(p, b, off, end, cut);
      break;
    case IpProto.ICMPV6:
      if (ipVersion === 4) p.raise(DecodeEvent['ipv4.icmpv6']);
      decodeIcmpv6(p, b, off, end, cut);
      break;
    default:
      // Another protocol (GRE, ESP, SCTP, ...): followed as a flow by addresses and protocol only.
      p.payloadOff = off;
      p.payloadLen = end - off;
      p.layer = Layer.TRANSPORT;
  }
}
