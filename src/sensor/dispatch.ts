import { LinkType } from '../capture/linktype.js';

/**
 * The reader's dispatch: which worker thread a frame goes to. Every packet of a flow, in both
 * directions, must reach the same worker (its flow table holds the flow), and so must every IP
 * fragment of a datagram (its defragmenter holds the pieces). Only the addresses are in every
 * fragment: ports are in the first one alone. So the hash is over the unordered address pair,
 * never the ports (src/sensor/NOTES.md, "Runtime"). It parses just enough of the link layer to
 * find the IP header, allocates nothing, and never throws on the bytes.
 */

/** What {@link flowHash} returns for a frame without an IP header it can read: such frames go to worker 0. */
export const NOT_IP = -1;

/** Suricata's limit on stacked VLAN tags, as the decoder's: more is an evasion attempt, and the decoder rejects it. */
const MAX_VLAN_LAYERS = 3;

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;

/** BSD loopback address families: AF_INET is 2 everywhere; AF_INET6 differs by OS (as src/decode/link.ts). */
function isAfInet6(f: number): boolean {
  return f === 10 || f === 23 || f === 24 || f === 28 || f === 30;
}

/**
 * A symmetric 32-bit hash of the frame's IP address pair (swapping source and destination gives the
 * same value), or {@link NOT_IP}. `linktype` is the frame's LINKTYPE_ value.
 */
export function flowHash(b: Uint8Array, off: number, len: number, linktype: number): number {
  const end = off + len;
  let p: number;
  let etherType: number;
  switch (linktype) {
    case LinkType.ETHERNET:
      if (len < 14) return NOT_IP;
      p = off + 14;
      etherType = (b[off + 12]! << 8) | b[off + 13]!;
      break;
    case LinkType.LINUX_SLL:
      if (len < 16) return NOT_IP;
      p = off + 16;
      etherType = (b[off + 14]! << 8) | b[off + 15]!;
      break;
    case LinkType.LINUX_SLL2:
      if (len < 20) return NOT_IP;
      p = off + 20;
      etherType = (b[off]! << 8) | b[off + 1]!;
      break;
    case LinkType.NULL:
    case LinkType.LOOP: {
      if (len < 4) return NOT_IP;
      // DLT_NULL holds the family in the capturing host's byte order; DLT_LOOP in network order.
      const be = ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
      const le = ((b[off + 3]! << 24) | (b[off + 2]! << 16) | (b[off + 1]! << 8) | b[off]!) >>> 0;
      const family = linktype === LinkType.LOOP ? be : le < 0x10000 ? le : be;
      p = off + 4;
      if (family === 2) etherType = ETH_IPV4;
      else if (isAfInet6(family)) etherType = ETH_IPV6;
      else return NOT_IP;
      break;
    }
    case LinkType.RAW:
    case LinkType.IPV4:
    case LinkType.IPV6: {
      if (len < 1) return NOT_IP;
      const v = b[off]! >>> 4;
      p = off;
      etherType = v === 4 ? ETH_IPV4 : v === 6 ? ETH_IPV6 : 0;
      break;
    }
    default:
      return NOT_IP;
  }
  for (let tags = 0; etherType === 0x8100 || etherType === 0x88a8 || etherType === 0x9100; tags++) {
    if (tags >= MAX_VLAN_LAYERS || end - p < 4) return NOT_IP;
    etherType = (b[p + 2]! << 8) | b[p + 3]!;
    p += 4;
  }
  if (etherType === ETH_IPV4) {
    if (end - p < 20 || b[p]! >>> 4 !== 4) return NOT_IP;
    return mix(addressHash4(b, p + 12) + addressHash4(b, p + 16));
  }
  if (etherType === ETH_IPV6) {
    if (end - p < 40 || b[p]! >>> 4 !== 6) return NOT_IP;
    return mix(addressHash16(b, p + 8) + addressHash16(b, p + 24));
  }
  return NOT_IP;
}

/** The worker (0 … workers-1) for a frame: by {@link flowHash}, and worker 0 for frames that are not IP. */
export function workerFor(b: Uint8Array, off: number, len: number, linktype: number, workers: number): number {
  if (workers <= 1) return 0;
  const h = flowHash(b, off, len, linktype);
  return h === NOT_IP ? 0 : h % workers;
}

function word(b: Uint8Array, i: number): number {
  return (b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!;
}

/**
 * One address's hash. The pair's hash is the sum of its addresses' (addition commutes, so the
 * direction does not matter), mixed again so that the low bits the modulo uses depend on every bit.
 */
function addressHash4(b: Uint8Array, i: number): number {
  return mix(word(b, i) ^ 0x2545f491);
}

function addressHash16(b: Uint8Array, i: number): number {
  let h = 0x6b43a9b5;
  for (let k = 0; k < 16; k += 4) h = Math.imul((h ^ word(b, i + k)) | 0, 0x9e3779b1) ^ (h >>> 15);
  return mix(h);
}

/** MurmurHash3's finaliser: every input bit affects every output bit. Unsigned 32-bit result. */
function mix(x: number): number {
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
