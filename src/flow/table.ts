import { IpProto, Layer, type Packet } from '../decode/packet.js';
import type { NewDataWins } from '../wire/pieces.js';
import { StreamEvent, STREAM_EVENTS } from './events.js';
import { EndReason, Flow, FlowState, TO_CLIENT, TO_SERVER, type EndReasonValue } from './flow.js';
import { Insert, streamPolicy, type StreamLimits, type StreamSink } from './reassembly.js';
import { flowStateOf, TcpSession } from './tcp.js';
import { TcpFlag } from '../decode/packet.js';

/** Idle timeouts in seconds for one protocol, per flow state. */
export interface StateTimeouts {
  new: number;
  established: number;
  closed: number;
}

export interface FlowTableOptions {
  /** Flows held at once; a new flow past it evicts the one nearest its timeout. */
  maxFlows?: number;
  /** Per-protocol timeouts; Suricata's stock suricata.yaml values by default. */
  timeouts?: Partial<Record<'tcp' | 'udp' | 'icmp' | 'other', Partial<StateTimeouts>>>;
  /** TCP overlap policy (see STREAM_POLICIES); "bsd" by default, as Suricata's. */
  streamPolicy?: string;
  /**
   * Per-host overlap policies (Suricata's host-os-policy): the policy name for the host a TCP
   * packet goes to, or null for `streamPolicy`. Asked for every TCP packet that carries data.
   */
  hostPolicy?: (p: Packet) => string | null;
  /** Out-of-order bytes one stream direction may hold. */
  maxBufferedBytes?: number;
  /** Out-of-order pieces one stream direction may hold. */
  maxBufferedPieces?: number;
  /** Out-of-order bytes all streams together may hold. */
  reassemblyMemcap?: number;
  /** Fixes the high bits of flow ids (tests); random by default, so ids differ between runs. */
  idSalt?: number;
}

/** What the flow table tells the stages after it. */
export interface FlowSink {
  /** A flow ended; its record can be written. */
  flowEnd(flow: Flow, reason: EndReasonValue): void;
  /** A stream event on a flow (index into STREAM_EVENTS); `gapBytes` is the hole's length for reassembly_seq_gap, 0 otherwise. */
  streamEvent(flow: Flow, dir: number, event: number, gapBytes: number): void;
  /** Reassembled stream data, for the application layer. */
  stream: StreamSink<Flow>;
}

export interface FlowCounters {
  created: number;
  /** Flows ended, by reason (EndReason index). */
  ended: number[];
  /** Flows by protocol name ("tcp", "udp", "icmp", or the IP protocol number). */
  byProto: Map<string, number>;
  /** Stream events by index into STREAM_EVENTS. */
  streamEvents: number[];
  /** Packets that could not be given to a flow (no usable transport header). */
  noFlow: number;
}

/**
 * Suricata's stock suricata.yaml timeouts (seconds). A closed TCP flow lingers 60 s so its last
 * packets (retransmitted FINs, late ACKs) still land in it.
 */
const DEFAULT_TIMEOUTS: Record<'tcp' | 'udp' | 'icmp' | 'other', StateTimeouts> = {
  tcp: { new: 60, established: 600, closed: 60 },
  udp: { new: 30, established: 300, closed: 0 },
  icmp: { new: 30, established: 300, closed: 0 },
  other: { new: 30, established: 300, closed: 0 },
};

/** 256 Ki flows: a busy campus link's worth, at a few hundred bytes each plus stream state. */
const DEFAULT_MAX_FLOWS = 262144;
/** Suricata's default stream.reassembly depth is 1 MiB; holding more out of order than that for one direction is no longer reassembly. */
const DEFAULT_MAX_BUFFERED_BYTES = 1024 * 1024;
/** Real losses leave a few holes per window; hundreds of pieces in one direction is an evasion attempt. */
const DEFAULT_MAX_BUFFERED_PIECES = 512;
/** Out-of-order bytes across all streams (Suricata's stock stream.reassembly.memcap is 256 MiB). */
const DEFAULT_REASSEMBLY_MEMCAP = 256 * 1024 * 1024;

const PROTO_CLASSES = ['tcp', 'udp', 'icmp', 'other'] as const;
const LISTS = PROTO_CLASSES.length * 3;

/** ICMP query types and their replies: both directions of an exchange share one flow, as in Zeek. */
const ICMP4_COUNTERPART: ReadonlyMap<number, number> = new Map([
  [8, 0], [0, 8], [13, 14], [14, 13], [15, 16], [16, 15], [17, 18], [18, 17], [10, 9], [9, 10],
]);
const ICMP6_COUNTERPART: ReadonlyMap<number, number> = new Map([
  [128, 129], [129, 128], [133, 134], [134, 133], [135, 136], [136, 135], [130, 131], [131, 130],
]);
/** The request side of each ICMP pair: a packet of this type is sent by the flow's client. */
const ICMP_REQUESTS = new Set([8, 13, 15, 17, 10, 128, 133, 135, 130]);

/**
 * The flow table: every packet with a transport header joins a bidirectional flow. It tracks
 * TCP state, reassembles TCP streams, times flows out by state, and holds at most `maxFlows`.
 * Time is packet time: a capture replays exactly as it happened, whatever the read speed.
 */
export class FlowTable {
  readonly counters: FlowCounters = {
    created: 0,
    ended: [0, 0, 0, 0],
    byProto: new Map(),
    streamEvents: STREAM_EVENTS.map(() => 0),
    noFlow: 0,
  };
  /** Direction of the last packet given to `process`: TO_SERVER or TO_CLIENT. */
  dir = TO_SERVER;
  /** What happened to the last packet's TCP payload (an Insert code), -1 when it had none or was not followed. */
  lastInsert = -1;
  private buckets: Array<Flow | null>;
  private mask: number;
  /** Bucket count the table may grow to: the power of two at or above maxFlows (at most 4 Mi). */
  private readonly maxBuckets: number;
  private count = 0;
  private pressurePeak = 0;
  private readonly maxFlows: number;
  private readonly timeouts: number[] = new Array<number>(LISTS).fill(0);
  private readonly heads: Array<Flow | null> = new Array<Flow | null>(LISTS).fill(null);
  private readonly tails: Array<Flow | null> = new Array<Flow | null>(LISTS).fill(null);
  private readonly policy: NewDataWins;
  private readonly hostPolicy: ((p: Packet) => string | null) | null;
  private readonly hostPolicies = new Map<string, NewDataWins>();
  private readonly limits: StreamLimits;
  private readonly reassemblyMemcap: number;
  private readonly idBase: number;
  private nextId = 0;
  private now = 0;
  private lastSweep = 0;
  private readonly stream: StreamSink<Flow>;

  constructor(
    private readonly sink: FlowSink,
    options: FlowTableOptions = {},
  ) {
    this.maxFlows = options.maxFlows ?? DEFAULT_MAX_FLOWS;
    let max = 1024;
    while (max < this.maxFlows && max < 1 << 22) max <<= 1;
    this.maxBuckets = max;
    // Start small and double as flows arrive: a table for a small capture costs little to make.
    this.buckets = new Array<Flow | null>(1024).fill(null);
    this.mask = 1023;
    PROTO_CLASSES.forEach((proto, i) => {
      const t = { ...DEFAULT_TIMEOUTS[proto], ...options.timeouts?.[proto] };
      this.timeouts[i * 3 + FlowState.NEW] = t.new;
      this.timeouts[i * 3 + FlowState.ESTABLISHED] = t.established;
      this.timeouts[i * 3 + FlowState.CLOSED] = t.closed;
    });
    this.policy = streamPolicy(options.streamPolicy ?? 'bsd');
    this.hostPolicy = options.hostPolicy ?? null;
    this.limits = {
      maxBufferedBytes: options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES,
      maxBufferedPieces: options.maxBufferedPieces ?? DEFAULT_MAX_BUFFERED_PIECES,
    };
    this.reassemblyMemcap = options.reassemblyMemcap ?? DEFAULT_REASSEMBLY_MEMCAP;
    // 51-bit ids, as Suricata's: 19 bits of salt over a 32-bit counter.
    const salt = options.idSalt ?? 1 + Math.floor(Math.random() * 0x7fffe);
    this.idBase = (salt & 0x7ffff) * 0x100000000;
    const outer = sink.stream;
    this.stream = {
      data: (flow, dir, buf, off, len) => outer.data(flow, dir, buf, off, len),
      gap: (flow, dir, len) => {
        this.streamEvent(flow, dir, StreamEvent.reassembly_seq_gap, len);
        outer.gap(flow, dir, len);
      },
    };
  }

  /** Flows held now. */
  get size(): number {
    return this.count;
  }

  /** Out-of-order bytes held by all streams now. */
  heldBytes = 0;

  /**
   * Puts a decoded packet into its flow and returns the flow (null when the packet has no
   * transport header to key it). `dir` then says which way the packet went.
   */
  process(p: Packet): Flow | null {
    if (p.layer !== Layer.TRANSPORT || p.fragmentHeld) {
      this.counters.noFlow++;
      return null;
    }
    const time = p.tsSec + p.tsNsec / 1e9;
    if (time > this.now) this.now = time;
    if (this.now - this.lastSweep >= 1) this.sweep();

    let sport = p.srcPort;
    let dport = p.dstPort;
    const proto = p.proto;
    if (proto === IpProto.ICMP || proto === IpProto.ICMPV6) {
      const pair = (proto === IpProto.ICMP ? ICMP4_COUNTERPART : ICMP6_COUNTERPART).get(p.icmpType);
      sport = p.icmpType;
      dport = pair ?? p.icmpCode;
    }
    const a = p.addr;
    // The IP version is part of the key: an IPv6 packet with IPv4-mapped addresses is not the IPv4 flow.
    const hash = endpointHash(a[0]!, a[1]!, a[2]!, a[3]!, sport) + endpointHash(a[4]!, a[5]!, a[6]!, a[7]!, dport) + Math.imul(proto + 1 + p.ipVersion * 256, 0x27d4eb2d) + Math.imul(p.vlan0 * 4096 + p.vlan1 + 1, 0x165667b1);
    const h = fmix(hash | 0);

    let flow = this.buckets[h & this.mask] ?? null;
    let dir = TO_SERVER;
    for (; flow !== null; flow = flow.bucketNext) {
      if (flow.hash !== h || flow.proto !== proto || flow.ipVersion !== p.ipVersion || flow.vlan0 !== p.vlan0 || flow.vlan1 !== p.vlan1) continue;
      const f = flow.addr;
      if (flow.clientPort === sport && flow.serverPort === dport && f[3] === a[3] && f[7] === a[7] && f[2] === a[2] && f[6] === a[6] && f[1] === a[1] && f[5] === a[5] && f[0] === a[0] && f[4] === a[4]) {
        dir = TO_SERVER;
        break;
      }
      if (flow.clientPort === dport && flow.serverPort === sport && f[3] === a[7] && f[7] === a[3] && f[2] === a[6] && f[6] === a[2] && f[1] === a[5] && f[5] === a[1] && f[0] === a[4] && f[4] === a[0]) {
        dir = TO_CLIENT;
        break;
      }
    }

    const tcpFlags = p.tcpFlags;
    if (flow !== null && flow.tcp !== null && (tcpFlags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN) {
      // A new SYN with another ISN on a known tuple is a new connection reusing the ports (as tshark splits tcp.stream).
      const first = flow.tcp.streams[dir]!.firstSeq;
      if (first !== -1 && first !== p.seq) {
        this.end(flow, EndReason.TCP_REUSE);
        flow = null;
      }
    }
    if (flow === null) {
      flow = this.create(p, h, sport, dport);
      dir = this.dir;
    }
    this.dir = dir;

    if (dir === TO_SERVER) {
      flow.pktsToServer += p.frames;
      flow.bytesToServer += p.wirelen;
    } else {
      flow.pktsToClient += p.frames;
      flow.bytesToClient += p.wirelen;
      if (flow.state === FlowState.NEW && flow.tcp === null) flow.state = FlowState.ESTABLISHED;
    }
    flow.lastSec = p.tsSec;
    flow.lastNsec = p.tsNsec;
    flow.lastTime = time;
    if (p.icmpType !== -1) {
      // The first message each way, whichever came first (a flow may start with the reply).
      if (dir === TO_SERVER && flow.icmpType === -1) {
        flow.icmpType = p.icmpType;
        flow.icmpCode = p.icmpCode;
      } else if (dir === TO_CLIENT && flow.respIcmpType === -1) {
        flow.respIcmpType = p.icmpType;
        flow.respIcmpCode = p.icmpCode;
      }
    }

    const tcp = flow.tcp;
    this.lastInsert = -1;
    if (tcp !== null) {
      const held = tcp.streams[0].heldBytes + tcp.streams[1].heldBytes;
      const policy = this.hostPolicy === null || p.payloadLen === 0 ? this.policy : this.policyOf(this.hostPolicy(p));
      const r = tcp.packet(flow, dir, tcpFlags, p.seq, p.ack, p.data, p.payloadOff, p.payloadLen, policy, this.limits, this.stream);
      this.lastInsert = r;
      const grew = tcp.streams[0].heldBytes + tcp.streams[1].heldBytes - held;
      this.heldBytes += grew;
      if (grew > 0) this.notePressure();
      if (r === Insert.RETRANSMISSION) this.streamEvent(flow, dir, StreamEvent.pkt_retransmission);
      else if (r === Insert.OVERLAP) this.streamEvent(flow, dir, StreamEvent.reassembly_overlap);
      else if (r === Insert.OVERLAP_DIFFERENT) this.streamEvent(flow, dir, StreamEvent.reassembly_overlap_different_data);
      if (this.heldBytes > this.reassemblyMemcap) {
        // All streams together hold too much out of order: this one gives up its holes now.
        this.streamEvent(flow, dir, StreamEvent.reassembly_memcap);
        const before = tcp.streams[dir]!.heldBytes;
        tcp.streams[dir]!.flush(flow, dir, this.stream);
        this.heldBytes -= before;
      }
      flow.state = flowStateOf(tcp.state);
    }
    this.touch(flow);
    return flow;
  }

  /**
   * How near the table is to its limits, in whole percent: the fuller of the flow cap and the
   * reassembly memcap (Suricata's memcap.pressure).
   */
  get pressure(): number {
    return Math.floor(Math.max((this.count * 100) / this.maxFlows, (this.heldBytes * 100) / this.reassemblyMemcap));
  }

  /** The highest `pressure` seen so far (Suricata's memcap.pressure_max). */
  get pressureMax(): number {
    return Math.max(this.pressurePeak, this.pressure);
  }

  private notePressure(): void {
    const now = this.pressure;
    if (now > this.pressurePeak) this.pressurePeak = now;
  }

  /** Ends every flow (reason "shutdown"): the input is over. */
  flush(): void {
    for (let i = 0; i < LISTS; i++) {
      while (this.heads[i] !== null) this.end(this.heads[i]!, EndReason.SHUTDOWN);
    }
  }

  /** Moves packet time forward without a packet (a live capture gone quiet), timing flows out. */
  advance(time: number): void {
    if (time > this.now) this.now = time;
    this.sweep();
  }

  private create(p: Packet, h: number, sport: number, dport: number): Flow {
    if (this.count >= this.maxFlows) this.evict();
    const flow = new Flow();
    flow.id = this.idBase + (this.nextId = (this.nextId + 1) >>> 0);
    flow.hash = h;
    flow.ipVersion = p.ipVersion;
    flow.proto = p.proto;
    flow.vlan0 = p.vlan0;
    flow.vlan1 = p.vlan1;
    flow.iface = p.iface;
    const a = p.addr;
    // The sender is the client, except a SYN-ACK (we missed the SYN) and an ICMP reply (we missed the query).
    const reversed =
      (p.proto === IpProto.TCP && (p.tcpFlags & (TcpFlag.SYN | TcpFlag.ACK)) === (TcpFlag.SYN | TcpFlag.ACK)) ||
      ((p.proto === IpProto.ICMP || p.proto === IpProto.ICMPV6) && sport !== dport && !ICMP_REQUESTS.has(p.icmpType) && (p.proto === IpProto.ICMP ? ICMP4_COUNTERPART : ICMP6_COUNTERPART).has(p.icmpType));
    if (reversed) {
      for (let i = 0; i < 4; i++) {
        flow.addr[i] = a[4 + i]!;
        flow.addr[4 + i] = a[i]!;
      }
      flow.clientPort = dport;
      flow.serverPort = sport;
      this.dir = TO_CLIENT;
    } else {
      flow.addr.set(a);
      flow.clientPort = sport;
      flow.serverPort = dport;
      this.dir = TO_SERVER;
    }
    flow.startSec = p.tsSec;
    flow.startNsec = p.tsNsec;
    if (p.proto === IpProto.TCP) flow.tcp = new TcpSession();
    if (this.count >= this.buckets.length && this.buckets.length < this.maxBuckets) this.grow();
    flow.bucketNext = this.buckets[h & this.mask] ?? null;
    this.buckets[h & this.mask] = flow;
    this.count++;
    this.notePressure();
    this.counters.created++;
    const name = protoName(p.proto);
    this.counters.byProto.set(name, (this.counters.byProto.get(name) ?? 0) + 1);
    return flow;
  }

  /** A host's policy by name (null: the table's), resolved once. */
  private policyOf(name: string | null): NewDataWins {
    if (name === null) return this.policy;
    let p = this.hostPolicies.get(name);
    if (p === undefined) {
      p = streamPolicy(name);
      this.hostPolicies.set(name, p);
    }
    return p;
  }

  /** Doubles the bucket array and rehashes every flow into it. */
  private grow(): void {
    const old = this.buckets;
    const size = old.length * 2;
    this.buckets = new Array<Flow | null>(size).fill(null);
    this.mask = size - 1;
    for (let i = 0; i < old.length; i++) {
      for (let f = old[i] ?? null; f !== null; ) {
        const next: Flow | null = f.bucketNext;
        const slot = f.hash & this.mask;
        f.bucketNext = this.buckets[slot] ?? null;
        this.buckets[slot] = f;
        f = next;
      }
    }
  }

  /** Table full: end the flow closest to its own timeout (Suricata's emergency eviction, one at a time). */
  private evict(): void {
    let victim: Flow | null = null;
    let best = Infinity;
    for (let i = 0; i < LISTS; i++) {
      const head = this.heads[i];
      if (head === null || head === undefined) continue;
      const deadline = head.lastTime + this.timeouts[i]!;
      if (deadline < best) {
        best = deadline;
        victim = head;
      }
    }
    if (victim !== null) this.end(victim, EndReason.FORCED);
  }

  private sweep(): void {
    this.lastSweep = this.now;
    for (let i = 0; i < LISTS; i++) {
      const timeout = this.timeouts[i]!;
      for (let f = this.heads[i] ?? null; f !== null && f.lastTime + timeout < this.now; f = this.heads[i] ?? null) {
        this.end(f, EndReason.TIMEOUT);
      }
    }
  }

  private end(flow: Flow, reason: EndReasonValue): void {
    this.unlink(flow);
    const slot = flow.hash & this.mask;
    let prev: Flow | null = null;
    for (let f = this.buckets[slot] ?? null; f !== null; prev = f, f = f.bucketNext) {
      if (f !== flow) continue;
      if (prev === null) this.buckets[slot] = f.bucketNext;
      else prev.bucketNext = f.bucketNext;
      break;
    }
    flow.bucketNext = null;
    this.count--;
    if (flow.tcp !== null) {
      this.heldBytes -= flow.tcp.streams[0].heldBytes + flow.tcp.streams[1].heldBytes;
      flow.tcp.flush(flow, this.stream);
    }
    this.counters.ended[reason]!++;
    this.sink.flowEnd(flow, reason);
  }

  private streamEvent(flow: Flow, dir: number, event: number, gapBytes = 0): void {
    this.counters.streamEvents[event]!++;
    this.sink.streamEvent(flow, dir, event, gapBytes);
  }

  /**
   * Moves the flow to the tail of the timeout list for its protocol and state: when its list
   * changes, or when it was last moved a second or more ago. The lists stay ordered by last
   * activity to within a second (so a flow may time out up to a second late), and most packets
   * move nothing: relinking on every packet touched three flows' memory per packet.
   */
  private touch(flow: Flow): void {
    const list = protoClass(flow.proto) * 3 + flow.state;
    if (flow.lruList === list && flow.lastTime - flow.queuedAt < 1) return;
    this.unlink(flow);
    flow.lruList = list;
    flow.queuedAt = flow.lastTime;
    flow.lruPrev = this.tails[list] ?? null;
    flow.lruNext = null;
    if (flow.lruPrev !== null) flow.lruPrev.lruNext = flow;
    else this.heads[list] = flow;
    this.tails[list] = flow;
  }

  private unlink(flow: Flow): void {
    const list = flow.lruList;
    if (list < 0) return;
    if (flow.lruPrev !== null) flow.lruPrev.lruNext = flow.lruNext;
    else this.heads[list] = flow.lruNext;
    if (flow.lruNext !== null) flow.lruNext.lruPrev = flow.lruPrev;
    else this.tails[list] = flow.lruPrev;
    flow.lruPrev = null;
    flow.lruNext = null;
    flow.lruList = -1;
  }
}

function protoClass(proto: number): number {
  if (proto === IpProto.TCP) return 0;
  if (proto === IpProto.UDP) return 1;
  if (proto === IpProto.ICMP || proto === IpProto.ICMPV6) return 2;
  return 3;
}

export function protoName(proto: number): string {
  switch (proto) {
    case IpProto.TCP: return 'tcp';
    case IpProto.UDP: return 'udp';
    case IpProto.ICMP: return 'icmp';
    case IpProto.ICMPV6: return 'ipv6-icmp';
    default: return String(proto);
  }
}

/** Hash of one endpoint; the flow hash adds both endpoints' hashes, so it is the same either way round. */
function endpointHash(w0: number, w1: number, w2: number, w3: number, port: number): number {
  let h = Math.imul(w3 ^ 0x85ebca6b, 0xcc9e2d51);
  h = Math.imul(h ^ (h >>> 15) ^ w2, 0x1b873593);
  h = Math.imul(h ^ (h >>> 13) ^ w1, 0xcc9e2d51);
  h = Math.imul(h ^ (h >>> 16) ^ w0, 0x1b873593);
  h = Math.imul(h ^ (h >>> 15) ^ (port + 0x9e37), 0x85ebca6b);
  return h ^ (h >>> 13);
}

/**
 * MurmurHash3's finaliser: spreads the summed endpoint hashes over the bits. Kept to 30 bits so
 * V8 holds it as a small integer, never a boxed number.
 */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h & 0x3fffffff;
}
