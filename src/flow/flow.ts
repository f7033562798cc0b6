import type { TcpSession } from './tcp.js';

/** Flow states as Suricata's flow record names them. */
export const FlowState = { NEW: 0, ESTABLISHED: 1, CLOSED: 2 } as const;
export type FlowStateValue = (typeof FlowState)[keyof typeof FlowState];
export const FLOW_STATE_NAMES = ['new', 'established', 'closed'] as const;

/**
 * Why a flow's record was written:
 * - timeout: idle past its state's timeout;
 * - shutdown: the input ended (end of capture, or a stopped live capture);
 * - forced: evicted early because the flow table was full (the memory cap);
 * - tcp_reuse: a new SYN, with another initial sequence number, reused the 5-tuple of a TCP connection.
 */
export const EndReason = { TIMEOUT: 0, SHUTDOWN: 1, FORCED: 2, TCP_REUSE: 3 } as const;
export type EndReasonValue = (typeof EndReason)[keyof typeof EndReason];
export const END_REASON_NAMES = ['timeout', 'shutdown', 'forced', 'tcp_reuse'] as const;

/** Direction of a packet within its flow. */
export const TO_SERVER = 0;
export const TO_CLIENT = 1;

/**
 * One bidirectional flow, keyed by IP version, protocol, VLANs, addresses and ports. The client is the side
 * that sent the first packet (for TCP, the side that sent the SYN when one was seen).
 */
export class Flow {
  /** Unique within a run, below 2^53 so it survives JSON (Suricata's flow_id). */
  id = 0;
  /** Symmetric hash of the key: the same in both directions (also used to pick a worker). */
  hash = 0;
  /** Next flow in the same hash bucket. */
  bucketNext: Flow | null = null;

  ipVersion = 4;
  proto = 0;
  vlan0 = 0;
  vlan1 = 0;
  /** Client address words 0..3, server address words 4..7. */
  readonly addr = new Uint32Array(8);
  clientPort = 0;
  serverPort = 0;
  iface = 0;

  startSec = 0;
  startNsec = 0;
  lastSec = 0;
  lastNsec = 0;
  /** Last activity in seconds (fractional), for timeouts. */
  lastTime = 0;

  pktsToServer = 0;
  pktsToClient = 0;
  bytesToServer = 0;
  bytesToClient = 0;

  state: FlowStateValue = FlowState.NEW;
  /** TCP state and streams; null for other protocols. */
  tcp: TcpSession | null = null;
  /** For ICMP flows: the first type and code seen. */
  icmpType = -1;
  icmpCode = -1;
  /** For ICMP flows: the first type and code seen to the client. */
  respIcmpType = -1;
  respIcmpCode = -1;
  /** Application protocol, once a later stage names it (e.g. "http"); "" while unknown. */
  appProto = '';
  alerted = false;
  /** State the detection engine keeps for the flow (flowbits, stream inspection progress); owned by rules/. */
  detect: unknown = null;
  /** The application layer's state for the flow (the protocol's session); owned by protocols/. */
  app: unknown = null;

  /** Position in the timeout list it belongs to. */
  lruPrev: Flow | null = null;
  lruNext: Flow | null = null;
  lruList = -1;
  /** lastTime when the flow was last moved to the tail of its list. */
  queuedAt = 0;
}
