import { putU16be, u16be } from '../wire/bytes.js';
import { internetChecksum } from '../wire/checksum.js';
import { PieceList, type NewDataWins } from '../wire/pieces.js';
import { DecodeEvent } from './events.js';
import type { Packet } from './packet.js';

/**
 * Fragment overlap policies, as Suricata's defrag engine applies them (the names of its
 * host-os-policy). Each says when a later fragment's bytes replace earlier ones:
 * - bsd (default): the fragment starting lower wins; on a tie, the earlier one;
 * - bsd-right: the fragment starting higher wins; on a tie, the later one;
 * - linux: the fragment starting lower wins; on a tie, the later one;
 * - windows: a later fragment wins only where it starts before and ends after the earlier one;
 * - solaris: a later fragment wins only where it starts before and ends at or after the earlier one;
 * - first: earlier bytes always win; last: later bytes always win.
 */
export const DEFRAG_POLICIES: Readonly<Record<string, NewDataWins>> = {
  bsd: (ns, _ne, os) => ns < os,
  'bsd-right': (ns, _ne, os) => ns >= os,
  linux: (ns, _ne, os) => ns <= os,
  windows: (ns, ne, os, oe) => ns < os && ne > oe,
  solaris: (ns, ne, os, oe) => ns < os && ne >= oe,
  first: () => false,
  last: () => true,
};

export interface DefragOptions {
  /** Overlap policy name (see DEFRAG_POLICIES); "bsd" by default, as Suricata's. */
  policy?: string;
  /** Seconds a datagram may wait for its missing fragments after the latest one (Suricata: 60); dropped once more have passed. */
  timeout?: number;
  /** Datagrams in reassembly at once (Suricata's defrag.trackers: 65535). */
  maxTrackers?: number;
  /** Bytes of fragments held in total (Suricata's stock defrag.memcap: 32 MiB). */
  memcap?: number;
}

export interface DefragCounters {
  fragments: number;
  reassembled: number;
  timeouts: number;
  /** Fragments dropped because the tracker table or the memory cap was full. */
  ignored: number;
  /** Datagrams abandoned because they came in more pieces than MAX_FRAGMENTS_PER_DATAGRAM. */
  tooManyFragments: number;
}

/**
 * A 64 KiB datagram in 64-byte pieces needs 1024 fragments; a datagram sent in more is an
 * attack on the reassembler, not traffic.
 */
const MAX_FRAGMENTS_PER_DATAGRAM = 1024;
/** Largest datagram IP can describe; reassembly past it is an attack (the "ping of death"). */
const MAX_DATAGRAM = 65535;

interface Tracker {
  key: string;
  v6: boolean;
  pieces: PieceList;
  /** Copy of the network header of the offset-0 fragment, once seen. */
  header: Uint8Array | null;
  /** The offset-0 fragment's link header, put back in front of the rebuilt datagram (as Suricata logs it). */
  link: Uint8Array;
  /** Upper-layer protocol (IPv6: from the fragment header). */
  proto: number;
  /** Payload length, once the last fragment (more-fragments clear) has been seen. */
  total: number;
  fragments: number;
  frames: number;
  wireBytes: number;
  deadline: number;
}

/**
 * Reassembles IPv4 and IPv6 datagrams from fragments (RFC 791, RFC 8200 §4.5), keyed by
 * addresses, identification, protocol and VLANs, with a timeout and memory caps.
 */
export class Defragmenter {
  readonly counters: DefragCounters = { fragments: 0, reassembled: 0, timeouts: 0, ignored: 0, tooManyFragments: 0 };
  private readonly trackers = new Map<string, Tracker>();
  private readonly policy: NewDataWins;
  private readonly timeout: number;
  private readonly maxTrackers: number;
  private readonly memcap: number;
  private held = 0;
  private now = 0;
  /** Bytes of link header in front of the datagram the last completing `add` returned. */
  lastLinkLength = 0;

  constructor(options: DefragOptions = {}) {
    const name = options.policy ?? 'bsd';
    const policy = DEFRAG_POLICIES[name];
    if (policy === undefined) throw new Error(`unknown defrag policy "${name}" (allowed: ${Object.keys(DEFRAG_POLICIES).join(', ')})`);
    this.policy = policy;
    this.timeout = options.timeout ?? 60;
    this.maxTrackers = options.maxTrackers ?? 65535;
    this.memcap = options.memcap ?? 32 * 1024 * 1024;
  }

  /** Bytes of fragment payload held now. */
  get heldBytes(): number {
    return this.held;
  }

  get trackerCount(): number {
    return this.trackers.size;
  }

  /** Moves the clock to packet time (seconds, fractions included) and drops datagrams that waited too long. */
  advance(now: number): void {
    if (now <= this.now) return;
    this.now = now;
    // Trackers are kept in order of their latest fragment, so expired ones are at the front.
    for (const t of this.trackers.values()) {
      if (t.deadline >= now) break;
      this.drop(t);
      this.counters.timeouts++;
    }
  }

  /** Adds an IPv4 fragment; returns the whole datagram (header + payload) when this completes it. */
  addIpv4(p: Packet, b: Uint8Array, off: number, hlen: number, end: number): Uint8Array | null {
    const ff = p.ipFlagsFrag;
    const fragOff = (ff & 0x1fff) * 8;
    const more = (ff & 0x2000) !== 0;
    const a = p.addr;
    const key = `4:${a[3]}:${a[7]}:${p.ipId}:${p.proto}:${p.vlan0}:${p.vlan1}`;
    const hdr = fragOff === 0 ? b.subarray(off, off + hlen) : null;
    return this.add(p, key, false, fragOff, more, b, off + hlen, end, hdr, off, p.proto, DecodeEvent['ipv4.frag_overlap'], DecodeEvent['ipv4.frag_pkt_too_large'], DecodeEvent['ipv4.frag_ignored'], hlen);
  }

  /** Adds an IPv6 fragment (`fh` is the offset of its fragment header); returns the whole datagram when complete. */
  addIpv6(p: Packet, b: Uint8Array, off: number, fh: number, end: number): Uint8Array | null {
    const offFlags = u16be(b, fh + 2);
    const fragOff = offFlags & 0xfff8;
    const more = (offFlags & 1) !== 0;
    const a = p.addr;
    const key = `6:${a.join(':')}:${p.ipId}:${p.vlan0}:${p.vlan1}`;
    const hdr = fragOff === 0 ? b.subarray(off, off + 40) : null;
    return this.add(p, key, true, fragOff, more, b, fh + 8, end, hdr, off, b[fh]!, DecodeEvent['ipv6.frag_overlap'], DecodeEvent['ipv6.frag_pkt_too_large'], DecodeEvent['ipv6.frag_ignored'], 0);
  }

  private add(
    p: Packet, key: string, v6: boolean, fragOff: number, more: boolean, b: Uint8Array, dataOff: number, end: number,
    hdr: Uint8Array | null, hdrAt: number, proto: number, overlapEvent: number, tooLargeEvent: number, ignoredEvent: number, hlen: number,
  ): Uint8Array | null {
    this.counters.fragments++;
    const len = end - dataOff;
    if (hlen + fragOff + len > MAX_DATAGRAM) {
      p.raise(tooLargeEvent);
      return null;
    }
    let t = this.trackers.get(key);
    if (t === undefined) {
      if (this.trackers.size >= this.maxTrackers || this.held + len > this.memcap) {
        p.raise(ignoredEvent);
        this.counters.ignored++;
        return null;
      }
      t = { key, v6, pieces: new PieceList(), header: null, link: new Uint8Array(0), proto, total: -1, fragments: 0, frames: 0, wireBytes: 0, deadline: 0 };
    } else {
      this.trackers.delete(key); // re-inserted below, to keep the map ordered by latest fragment
      if (this.held + len > this.memcap) {
        this.trackers.set(key, t);
        p.raise(ignoredEvent);
        this.counters.ignored++;
        return null;
      }
    }
    t.deadline = this.now + this.timeout;
    this.trackers.set(key, t);
    t.fragments++;
    t.frames++;
    t.wireBytes += p.wirelen;
    if (t.fragments > MAX_FRAGMENTS_PER_DATAGRAM) {
      this.drop(t);
      this.counters.tooManyFragments++;
      p.raise(ignoredEvent);
      return null;
    }
    if (hdr !== null && t.header === null) {
      t.header = hdr.slice();
      t.proto = proto;
      t.link = b.slice(Math.min(p.frameOffset, hdrAt), hdrAt);
    }
    if (!more && t.total < 0) t.total = fragOff + len;
    // Past the end named by the last fragment there is nothing to keep.
    const keep = t.total >= 0 ? Math.min(len, t.total - fragOff) : len;
    if (keep > 0) {
      const before = t.pieces.bytes;
      const r = t.pieces.insert(fragOff, b, dataOff, keep, this.policy);
      this.held += t.pieces.bytes - before;
      if (r.overlapped) p.raise(overlapEvent);
    }
    if (t.total < 0 || t.header === null || !t.pieces.covers(0, t.total)) return null;
    // Each fragment fit on its own, but the offset-0 fragment's options may make the whole too long.
    if (!v6 && t.header.length + t.total > MAX_DATAGRAM) {
      p.raise(tooLargeEvent);
      this.drop(t);
      return null;
    }
    const whole = this.assemble(t);
    p.frames = t.frames;
    p.wirelen = t.wireBytes;
    this.drop(t);
    this.counters.reassembled++;
    return whole;
  }

  private assemble(t: Tracker): Uint8Array {
    const header = t.header!;
    const hlen = t.v6 ? 40 : header.length;
    const linkLen = t.link.length;
    this.lastLinkLength = linkLen;
    const whole = new Uint8Array(linkLen + hlen + t.total);
    whole.set(t.link, 0);
    const out = whole.subarray(linkLen);
    out.set(header.subarray(0, hlen), 0);
    for (const piece of t.pieces.pieces) {
      if (piece.start >= t.total) break;
      const n = Math.min(piece.end, t.total) - piece.start;
      out.set(piece.data.subarray(0, n), hlen + piece.start);
    }
    if (t.v6) {
      // The rebuilt datagram carries the upper layer right after the fixed header.
      out[4] = t.total >>> 8;
      out[5] = t.total & 0xff;
      out[6] = t.proto;
    } else {
      putU16be(out, 2, hlen + t.total);
      out[6] = 0; // clear more-fragments and offset
      out[7] = 0;
      // A header that checks out, as the host that reassembled it would see it.
      putU16be(out, 10, 0);
      putU16be(out, 10, internetChecksum(out, 0, hlen));
    }
    return whole;
  }

  private drop(t: Tracker): void {
    this.held -= t.pieces.bytes;
    t.pieces.clear();
    this.trackers.delete(t.key);
  }
}
