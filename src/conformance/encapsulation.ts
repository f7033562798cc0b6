import { LinkType, linkTypeName, normalizeLinkType, openByteSource, readCapture, type Frame } from '../capture/index.js';

/**
 * Finds, in a capture, packets that Outpost's decoder would stop short of: tunnels it does not
 * open (GRE, VXLAN, Geneve, Teredo, IP-in-IP, MPLS, PPPoE, NSH, ...) and link types it does not
 * read. Suricata decodes the inner packets of all of these, so a test over such a capture is
 * about something Outpost cannot see yet. The list follows src/decode/link.ts and network.ts:
 * when the decoder learns a tunnel, it leaves this list.
 */

/** Link types the decoder reads (src/decode/link.ts). */
const DECODED_LINKTYPES = new Set<number>([LinkType.NULL, LinkType.ETHERNET, LinkType.RAW, LinkType.LOOP, LinkType.LINUX_SLL, LinkType.IPV4, LinkType.IPV6, LinkType.LINUX_SLL2]);

/** EtherTypes of encapsulations Suricata decodes and Outpost does not. */
const TUNNEL_ETHERTYPES: ReadonlyMap<number, string> = new Map([
  [0x8847, 'MPLS'], [0x8848, 'MPLS'], [0x8863, 'PPPoE'], [0x8864, 'PPPoE'], [0x894f, 'NSH'], [0x8926, 'VN-Tag'],
  [0x893f, 'E-Tag'], [0x88e7, 'IEEE 802.1ah'], [0x88be, 'ERSPAN'], [0x22eb, 'ERSPAN'], [0x6558, 'Ethernet over GRE'],
]);

/** IP protocols that carry another packet. */
const TUNNEL_PROTOS: ReadonlyMap<number, string> = new Map([[47, 'GRE'], [4, 'IPv4-in-IP'], [41, 'IPv6-in-IP'], [97, 'EtherIP']]);

/** Names of link types Suricata reads and Outpost does not, for messages. */
const LINKTYPE_NAMES: ReadonlyMap<number, string> = new Map([[9, 'PPP'], [104, 'Cisco HDLC'], [105, 'IEEE 802.11'], [127, 'radiotap'], [239, 'NFLOG'], [197, 'ERF'], [192, 'PPI'], [50, 'PPP-HDLC']]);

/** Whatever Outpost would not decode, by name, with the number of frames. */
export type Encapsulations = Map<string, number>;

export async function scanEncapsulations(path: string): Promise<Encapsulations> {
  const found: Encapsulations = new Map();
  const add = (what: string): void => {
    found.set(what, (found.get(what) ?? 0) + 1);
  };
  await readCapture(await openByteSource(path), (f: Frame) => {
    const what = frameEncapsulation(f);
    if (what !== null) add(what);
  });
  return found;
}

/** The encapsulation in one frame that Outpost would not decode, or null. */
export function frameEncapsulation(f: Frame): string | null {
  const b = f.data;
  const end = Math.min(f.offset + f.caplen, b.length);
  const lt = normalizeLinkType(f.linktype);
  if (!DECODED_LINKTYPES.has(lt)) return `link type ${LINKTYPE_NAMES.get(lt) ?? linkTypeName(lt)} (${lt})`;
  let off = f.offset;
  let etherType: number;
  const u16 = (o: number): number => (o + 2 <= end ? (b[o]! << 8) | b[o + 1]! : -1);
  switch (lt) {
    case LinkType.ETHERNET:
      etherType = u16(off + 12);
      off += 14;
      break;
    case LinkType.LINUX_SLL:
      etherType = u16(off + 14);
      off += 16;
      break;
    case LinkType.LINUX_SLL2:
      etherType = u16(off);
      off += 20;
      break;
    case LinkType.NULL:
    case LinkType.LOOP:
      off += 4;
      etherType = off < end ? ((b[off]! >>> 4) === 6 ? 0x86dd : 0x0800) : -1;
      break;
    default:
      etherType = off < end ? ((b[off]! >>> 4) === 6 ? 0x86dd : 0x0800) : -1;
  }
  for (let tags = 0; (etherType === 0x8100 || etherType === 0x88a8 || etherType === 0x9100) && tags < 4; tags++) {
    etherType = u16(off + 2);
    off += 4;
  }
  const tunnel = TUNNEL_ETHERTYPES.get(etherType);
  if (tunnel !== undefined) return tunnel;
  let proto: number;
  let l4: number;
  if (etherType === 0x0800) {
    if (off + 20 > end) return null;
    const ihl = (b[off]! & 0x0f) * 4;
    const fragOffset = u16(off + 6) & 0x1fff;
    if (fragOffset !== 0) return null;
    proto = b[off + 9]!;
    l4 = off + ihl;
  } else if (etherType === 0x86dd) {
    if (off + 40 > end) return null;
    proto = b[off + 6]!;
    l4 = off + 40;
    // Hop-by-hop, routing, fragment, destination options and AH headers, to the upper protocol.
    for (let n = 0; n < 8 && (proto === 0 || proto === 43 || proto === 44 || proto === 60 || proto === 51); n++) {
      if (l4 + 8 > end) return null;
      const next = b[l4]!;
      if (proto === 44) {
        if ((u16(l4 + 2) & 0xfff8) !== 0) return null;
        l4 += 8;
      } else l4 += proto === 51 ? (b[l4 + 1]! + 2) * 4 : (b[l4 + 1]! + 1) * 8;
      proto = next;
    }
  } else return null;
  const t = TUNNEL_PROTOS.get(proto);
  if (t !== undefined) return t;
  if (proto !== 17 || l4 + 8 > end) return null;
  const sport = u16(l4);
  const dport = u16(l4 + 2);
  const payload = l4 + 8;
  const has = (port: number): boolean => sport === port || dport === port;
  if (dport === 4789 && payload + 8 <= end && (b[payload]! & 0x08) !== 0) return 'VXLAN';
  if (dport === 6081 && payload + 8 <= end && (b[payload]! >>> 6) === 0) return 'Geneve';
  if (has(3544) && payload < end) {
    const first = b[payload]!;
    // Teredo: an IPv6 packet, or one behind an origin (0x0000) or authentication (0x0001) indicator.
    if (first >>> 4 === 6 || (first === 0 && payload + 1 < end && b[payload + 1]! <= 1)) return 'Teredo';
  }
  return null;
}
