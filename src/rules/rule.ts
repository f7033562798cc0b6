import type { AddressMatcher, AddressSet } from './addresses.js';
import type { PayloadStep } from './inspect.js';
import type { PortMatcher } from './ports.js';
import type { Transform } from './transforms.js';
import type { Location } from './syntax.js';

/** A check on packet or flow headers (ttl, flags, dsize, itype, flow, ...). */
export interface HeaderCheck {
  readonly keyword: string;
  /**
   * A canonical text of the check (e.g. "ttl:<5"): equal checks across rules share one entry, so
   * the engine evaluates each distinct check once per packet.
   */
  readonly key: string;
  test(p: import('../decode/packet.js').Packet, flow: import('../flow/flow.js').Flow | null, dir: number): boolean;
  /** For a check on the flow alone (app-layer-protocol): judges it without a packet, at the flow's end. */
  flowTest?(flow: import('../flow/flow.js').Flow): boolean;
}

/** The payload steps that inspect one buffer. */
export interface Inspection {
  /** "payload" (packet or stream data), or an application buffer ("http.uri", ...). */
  buffer: string;
  /** The buffer and its transforms' keys ("dns.query|dotprefix"): equal keys inspect equal bytes. */
  key: string;
  /** Applied in order before the steps run. */
  transforms: Transform[];
  steps: PayloadStep[];
}

/** The content the prefilter searches for to pick this rule. */
export interface FastPattern {
  /** The inspection key of the buffer it is in (transforms included). */
  buffer: string;
  bytes: Uint8Array;
  nocase: boolean;
  /** The rule matches whenever this pattern is present (fast_pattern:only, or a lone plain content): no need to inspect it again. */
  only: boolean;
}

export interface FlowbitCheck {
  /** isset: all of `names` set (`&`) or any (`|`); isnotset: the opposite. */
  op: 'isset' | 'isnotset';
  names: string[];
  any: boolean;
}

export interface FlowbitAction {
  op: 'set' | 'unset' | 'toggle';
  names: string[];
}

export interface Threshold {
  type: 'limit' | 'threshold' | 'both' | 'backoff';
  track: 'by_src' | 'by_dst' | 'by_rule' | 'by_both' | 'by_flow';
  count: number;
  seconds: number;
  /** backoff: the multiplier. */
  multiplier?: number;
}

export interface DetectionFilter {
  track: 'by_src' | 'by_dst' | 'by_rule' | 'by_both' | 'by_flow';
  count: number;
  seconds: number;
  /** Suricata 8: count distinct values of these instead of matches. */
  uniqueOn?: 'src_port' | 'dst_port';
}

/** Which packets and data a rule may see, from its protocol and flow keyword. */
export interface FlowConstraint {
  toServer: boolean;
  toClient: boolean;
  established: boolean;
  notEstablished: boolean;
  /** Only reassembled stream data (flow:only_stream, proto tcp-stream). */
  onlyStream: boolean;
  /** Only packet payloads (flow:no_stream, proto tcp-pkt). */
  noStream: boolean;
}

/** A loaded, compiled rule. */
export interface Rule {
  gid: number;
  sid: number;
  rev: number;
  msg: string;
  action: string;
  classtype: string | null;
  /** 1 (highest) to 255; from priority, else the classtype's, else 3. */
  priority: number;
  metadata: Record<string, string[]>;
  references: Array<{ type: string; value: string }>;
  /** target:src_ip / dest_ip: which side is the target, for alert.source/alert.target. */
  target: 'src_ip' | 'dest_ip' | null;
  noalert: boolean;

  /** Header protocol as written: tcp, udp, icmp, ip, tcp-pkt, tcp-stream, or an application protocol. */
  proto: string;
  /** IP protocol number the rule needs, or -1 for any (ip rules). */
  ipProto: number;
  /** Application protocol the flow must have (http, dns, ...), or null. */
  appProto: string | null;
  /**
   * Whether the rule inspects application transactions, and on which side's completion: 1 the
   * request (to_server), 2 the response (to_client), 3 either; 0 for packet and stream rules.
   */
  txDirs: number;
  src: AddressMatcher | null;
  srcPorts: PortMatcher | null;
  dst: AddressMatcher | null;
  /** The address groups compiled, for indexing by address; null for any. */
  srcSet: AddressSet | null;
  dstSet: AddressSet | null;
  dstPorts: PortMatcher | null;
  /** The header texts, for messages. */
  srcPortText: string;
  dstPortText: string;
  /** The port groups as ranges, for the engine's grouping; null for any. */
  srcPortRanges: Array<[number, number]> | null;
  dstPortRanges: Array<[number, number]> | null;
  bidirectional: boolean;
  /**
   * `=>` (Suricata 8): a transactional rule. Its request and response buffers match the same
   * transaction, and its addresses and ports name the client and the server whichever side is
   * inspected.
   */
  transactional: boolean;
  flow: FlowConstraint;

  headerChecks: HeaderCheck[];
  inspections: Inspection[];
  fastPattern: FastPattern | null;
  flowbitChecks: FlowbitCheck[];
  flowbitActions: FlowbitAction[];
  threshold: Threshold | null;
  detectionFilter: DetectionFilter | null;

  /** No options beyond metadata and any ports: matched on the first packet of each direction of a flow (Suricata's IP-only rules). */
  ipOnly: boolean;
  /** Where TCP payload steps look: packets, reassembled stream chunks, or both (Suricata's rule types). */
  payloadMode: 'packet' | 'stream' | 'both';
  /** Evaluation order: load order until a DetectEngine renumbers it in Suricata's order (action, flowbits, priority, sid). */
  order: number;
  location: Location;
  /** The rule text, for messages and `rules check`. */
  text: string;
}
