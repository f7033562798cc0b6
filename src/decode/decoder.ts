import type { Frame } from '../capture/frame.js';
import { Defragmenter, type DefragOptions } from './defrag.js';
import { DECODE_EVENT_NAMES } from './events.js';
import { decodeLink, EtherType } from './link.js';
import { Layer, type Packet } from './packet.js';

/** Counters the decoder keeps; every anomaly and every packet it could not follow lands in one. */
export interface DecodeCounters {
  frames: number;
  bytes: number;
  /** Frames cut short by the capture's snaplen (caplen < len). */
  truncated: number;
  ipv4: number;
  ipv6: number;
  tcp: number;
  udp: number;
  icmp: number;
  otherIp: number;
  /** Frames with no IP in them (ARP, LLC, unsupported link types). */
  nonIp: number;
  /** Frames whose link type the decoder does not know. */
  unknownLinkType: number;
  /** Decoder events by index in DECODE_EVENT_NAMES. */
  readonly events: Float64Array;
}

/**
 * Turns frames into packet views: link, network and transport headers, with IP fragments
 * reassembled. It keeps no per-flow state; the only state it holds is the fragment table.
 */
export class Decoder {
  readonly defrag: Defragmenter;
  readonly counters: DecodeCounters = {
    frames: 0,
    bytes: 0,
    truncated: 0,
    ipv4: 0,
    ipv6: 0,
    tcp: 0,
    udp: 0,
    icmp: 0,
    otherIp: 0,
    nonIp: 0,
    unknownLinkType: 0,
    events: new Float64Array(DECODE_EVENT_NAMES.length),
  };

  constructor(options: DefragOptions = {}) {
    this.defrag = new Defragmenter(options);
  }

  /** Decodes one frame into `p` (which is reset first). Never throws on the frame's bytes. */
  decode(frame: Frame, p: Packet): void {
    const c = this.counters;
    c.frames++;
    c.bytes += frame.wirelen;
    p.reset();
    p.data = frame.data;
    p.frameOffset = frame.offset;
    p.frameLength = frame.caplen;
    p.tsSec = frame.tsSec;
    p.tsNsec = frame.tsNsec;
    p.wirelen = frame.wirelen;
    p.linktype = frame.linktype;
    p.iface = frame.iface;
    p.number = frame.number;
    if (frame.caplen < frame.wirelen) {
      p.truncated = true;
      c.truncated++;
    }
    this.defrag.advance(frame.tsSec + frame.tsNsec / 1e9);
    // A caplen past the buffer is the reader's fault; the decoder still reads only bytes that exist.
    const end = Math.min(frame.offset + frame.caplen, frame.data.length);
    decodeLink(p, frame.data, frame.offset, end, frame.linktype, this.defrag);
    for (let i = 0, n = Math.min(p.eventCount, p.events.length); i < n; i++) c.events[p.events[i]!]!++;
    if (p.layer < Layer.NETWORK) {
      if (p.layer === Layer.NONE && p.eventCount === 0) c.unknownLinkType++;
      // An IP frame cut by the snaplen before its header ends is still IP.
      else if (p.eventCount === 0 && p.etherType !== EtherType.IPV4 && p.etherType !== EtherType.IPV6) c.nonIp++;
      return;
    }
    if (p.fragmentHeld) return;
    if (p.ipVersion === 4) c.ipv4++;
    else c.ipv6++;
    if (p.layer !== Layer.TRANSPORT) return;
    switch (p.proto) {
      case 6: c.tcp++; break;
      case 17: c.udp++; break;
      case 1: case 58: c.icmp++; break;
      default: c.otherIp++;
    }
  }
}
