import { LinkType } from '../capture/linktype.js';
import { u16be, u32be, u32le } from '../wire/bytes.js';
import type { Defragmenter } from './defrag.js';
import { DecodeEvent } from './events.js';
import { decodeIpv4, decodeIpv6 } from './network.js';
import { Layer, type Packet } from './packet.js';

export const EtherType = { IPV4: 0x0800, ARP: 0x0806, VLAN: 0x8100, QINQ: 0x88a8, QINQ_OLD: 0x9100, IPV6: 0x86dd } as const;

/**
 * EtherTypes Suricata knows (IPv4, ARP, IPv6, VLAN tags, PPPoE, MPLS, 802.1ah, DCE, VNTag, NSH,
 * transparent bridging, ERSPAN): any other above 0x05ff is an unknown EtherType, an event and a
 * counter. Values up to 0x05ff are 802.3 lengths (LLC frames), not EtherTypes.
 */
const KNOWN_ETHERTYPES = new Set([0x0800, 0x0806, 0x86dd, 0x8100, 0x88a8, 0x9100, 0x8863, 0x8864, 0x8847, 0x8848, 0x8903, 0x88e7, 0x8926, 0x894f, 0x6558, 0x88be]);

/** Suricata's limit: more stacked VLAN tags than this is an evasion attempt, not a network. */
const MAX_VLAN_LAYERS = 3;

/** BSD loopback address families: AF_INET is 2 everywhere; AF_INET6 differs by OS. */
const AF_INET = 2;
const AF_INET6 = new Set([10, 23, 24, 28, 30]);

/** Decodes the link layer named by `linktype` and everything above it. */
export function decodeLink(p: Packet, b: Uint8Array, off: number, end: number, linktype: number, defrag: Defragmenter): void {
  switch (linktype) {
    case LinkType.ETHERNET:
      return decodeEthernet(p, b, off, end, defrag);
    case LinkType.LINUX_SLL:
      if (end - off < 16) return p.raise(DecodeEvent['sll.pkt_too_small']);
      return decodeEtherType(p, b, off + 16, end, u16be(b, off + 14), defrag);
    case LinkType.LINUX_SLL2:
      if (end - off < 20) return p.raise(DecodeEvent['sll.pkt_too_small']);
      return decodeEtherType(p, b, off + 20, end, u16be(b, off), defrag);
    case LinkType.NULL:
    case LinkType.LOOP: {
      if (end - off < 4) return p.raise(DecodeEvent['ltnull.pkt_too_small']);
      // DLT_NULL stores the family in the capturing host's byte order; DLT_LOOP in network order.
      const le = u32le(b, off);
      const family = linktype === LinkType.LOOP ? u32be(b, off) : le < 0x10000 ? le : u32be(b, off);
      if (family === AF_INET) return decodeEtherType(p, b, off + 4, end, EtherType.IPV4, defrag);
      if (AF_INET6.has(family)) return decodeEtherType(p, b, off + 4, end, EtherType.IPV6, defrag);
      return p.raise(DecodeEvent['ltnull.unsupported_type']);
    }
    case LinkType.RAW: {
      if (end - off < 1) return p.raise(DecodeEvent['ipraw.invalid_ip_version']);
      const v = b[off]! >>> 4;
      if (v === 4) return decodeEtherType(p, b, off, end, EtherType.IPV4, defrag);
      if (v === 6) return decodeEtherType(p, b, off, end, EtherType.IPV6, defrag);
      return p.raise(DecodeEvent['ipraw.invalid_ip_version']);
    }
    case LinkType.IPV4:
      return decodeEtherType(p, b, off, end, EtherType.IPV4, defrag);
    case LinkType.IPV6:
      return decodeEtherType(p, b, off, end, EtherType.IPV6, defrag);
    default:
      // An unsupported link type: counted by the decoder, not an anomaly of the packet.
      return;
  }
}

function decodeEthernet(p: Packet, b: Uint8Array, off: number, end: number, defrag: Defragmenter): void {
  if (end - off < 14) return p.raise(DecodeEvent['ethernet.pkt_too_small']);
  p.layer = Layer.LINK;
  decodeEtherType(p, b, off + 14, end, u16be(b, off + 12), defrag);
}

function decodeEtherType(p: Packet, b: Uint8Array, off: number, end: number, etherType: number, defrag: Defragmenter): void {
  // 802.1Q and 802.1ad (QinQ) tags: TCI(2) then the next EtherType.
  while (etherType === EtherType.VLAN || etherType === EtherType.QINQ || etherType === EtherType.QINQ_OLD) {
    if (end - off < 4) return p.raise(DecodeEvent['vlan.header_too_small']);
    if (p.vlanCount >= MAX_VLAN_LAYERS) return p.raise(DecodeEvent['vlan.too_many_layers']);
    const id = u16be(b, off) & 0x0fff;
    if (p.vlanCount === 0) p.vlan0 = id;
    else if (p.vlanCount === 1) p.vlan1 = id;
    p.vlanCount++;
    etherType = u16be(b, off + 2);
    off += 4;
  }
  p.etherType = etherType;
  p.layer = Layer.LINK;
  if (etherType === EtherType.IPV4) decodeIpv4(p, b, off, end, defrag);
  else if (etherType === EtherType.IPV6) decodeIpv6(p, b, off, end, defrag);
  else if (etherType >= 0x0600 && !KNOWN_ETHERTYPES.has(etherType)) p.raise(DecodeEvent['ethernet.unknown_ethertype']);
}
