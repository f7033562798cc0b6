/** IP protocol numbers the decoders know. */
export const IpProto = {
  HOPOPTS: 0,
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  IPV6: 41,
  ROUTING: 43,
  FRAGMENT: 44,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  NONE: 59,
  DSTOPTS: 60,
  MOBILITY: 135,
} as const;

/** TCP flag bits, as in the header's flags byte (plus ECE/CWR). */
export const TcpFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const;

/** Why a packet could not be followed into a flow. */
export const Layer = { NONE: 0, LINK: 1, NETWORK: 2, TRANSPORT: 3 } as const;

/** At most this many decoder events are kept per packet; past it they are still counted. */
const MAX_EVENTS_PER_PACKET = 8;

/**
 * A decoded packet: offsets into the frame's buffer plus the header fields the later stages read.
 * One Packet is reused for every frame (no per-packet allocation); nothing may keep it past the
 * call that received it. `data` is the frame buffer, or a reassembled datagram's own buffer.
 */
export class Packet {
  // --- the frame ---
  data: Uint8Array = new Uint8Array(0);
  /** Where the frame (link header first) starts in `data`, and its captured length; the frame's own for a reassembled datagram's last fragment. */
  frameOffset = 0;
  frameLength = 0;
  tsSec = 0;
  tsNsec = 0;
  /** Bytes on the wire for this frame (or for all fragments of a reassembled datagram). */
  wirelen = 0;
  /** Frames this packet stands for: 1, or the fragment count of a reassembled datagram. */
  frames = 1;
  /** Captured fewer bytes than were on the wire (snaplen): decoded as far as the bytes go. */
  truncated = false;
  linktype = 1;
  iface = 0;
  /** Frame number in its capture (the last fragment's, for a reassembled datagram). */
  number = 0;

  // --- link ---
  /** VLAN ids, outermost first; 0 where absent. */
  vlan0 = 0;
  vlan1 = 0;
  vlanCount = 0;
  /** EtherType (or equivalent) of the network layer; 0 when unknown. */
  etherType = 0;

  // --- network ---
  /** 4 or 6 once an IP header was found (its addresses are then valid, even if the rest is malformed); 0 otherwise. */
  ipVersion = 0;
  l3Off = 0;
  /** Source address words 0..3 and destination words 4..7 (IPv4 held IPv4-mapped). */
  readonly addr = new Uint32Array(8);
  ttl = 0;
  tos = 0;
  ipId = 0;
  /** IPv4 flags and fragment offset field (host order), 0 for IPv6. */
  ipFlagsFrag = 0;
  ipTotalLen = 0;
  /** IPv4 options present: bit n set for option number n (the type's low 5 bits). */
  ipOptions = 0;
  /** Transport protocol (after IPv6 extension headers); -1 when none. */
  proto = -1;
  /** The datagram was rebuilt from fragments. */
  reassembled = false;
  /** This frame is a fragment held for reassembly: it has no transport header of its own. */
  fragmentHeld = false;

  // --- transport ---
  l4Off = 0;
  srcPort = 0;
  dstPort = 0;
  tcpFlags = 0;
  seq = 0;
  ack = 0;
  window = 0;
  /** TCP options: -1 when absent. */
  mss = -1;
  wscale = -1;
  sackPermitted = false;
  /** SACK option: offset in `data` of its first (left, right) edge pair, and how many pairs; 0 blocks when absent. */
  sackOff = 0;
  sackBlocks = 0;
  tsVal = -1;
  tsEcr = -1;
  icmpType = -1;
  icmpCode = -1;
  /** Echo identifier and sequence, -1 when the ICMP type has none. */
  icmpId = -1;
  icmpSeq = -1;
  payloadOff = 0;
  payloadLen = 0;

  /** The deepest layer decoded without error. */
  layer = 0;
  /** Decoder event codes raised by this packet (see DECODE_EVENT_NAMES). */
  readonly events = new Uint8Array(MAX_EVENTS_PER_PACKET);
  eventCount = 0;

  reset(): void {
    this.frames = 1;
    this.truncated = false;
    this.vlan0 = 0;
    this.vlan1 = 0;
    this.vlanCount = 0;
    this.etherType = 0;
    this.ipVersion = 0;
    this.ipOptions = 0;
    this.l3Off = 0;
    this.addr.fill(0);
    this.ttl = 0;
    this.tos = 0;
    this.ipId = 0;
    this.ipFlagsFrag = 0;
    this.ipTotalLen = 0;
    this.proto = -1;
    this.reassembled = false;
    this.fragmentHeld = false;
    this.l4Off = 0;
    this.srcPort = 0;
    this.dstPort = 0;
    this.tcpFlags = 0;
    this.seq = 0;
    this.ack = 0;
    this.window = 0;
    this.mss = -1;
    this.wscale = -1;
    this.sackPermitted = false;
    this.sackOff = 0;
    this.sackBlocks = 0;
    this.tsVal = -1;
    this.tsEcr = -1;
    this.icmpType = -1;
    this.icmpCode = -1;
    this.icmpId = -1;
    this.icmpSeq = -1;
    this.payloadOff = 0;
    this.payloadLen = 0;
    this.layer = 0;
    this.eventCount = 0;
  }

  raise(code: number): void {
    if (this.eventCount < MAX_EVENTS_PER_PACKET) this.events[this.eventCount] = code;
    this.eventCount++;
  }

  /** The payload bytes as a view (allocates a view: for tests and cold paths). */
  payload(): Uint8Array {
    return this.data.subarray(this.payloadOff, this.payloadOff + this.payloadLen);
  }
}
