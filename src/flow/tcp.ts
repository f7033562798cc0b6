import { TcpFlag } from '../decode/packet.js';
import type { NewDataWins } from '../wire/pieces.js';
import { FlowState, TO_SERVER, type FlowStateValue } from './flow.js';
import { Insert, Stream, type StreamLimits, type StreamSink } from './reassembly.js';

/** TCP connection states, named as Suricata's flow records name them. */
export const TcpState = {
  NONE: 0, SYN_SENT: 1, SYN_RECV: 2, ESTABLISHED: 3, FIN_WAIT1: 4, FIN_WAIT2: 5,
  TIME_WAIT: 6, LAST_ACK: 7, CLOSE_WAIT: 8, CLOSING: 9, CLOSED: 10,
} as const;
export type TcpStateValue = (typeof TcpState)[keyof typeof TcpState];
export const TCP_STATE_NAMES = [
  'none', 'syn_sent', 'syn_recv', 'established', 'fin_wait1', 'fin_wait2',
  'time_wait', 'last_ack', 'close_wait', 'closing', 'closed',
] as const;

/** The flow state a TCP state counts as, for timeouts and flow records (Suricata's mapping). */
export function flowStateOf(s: TcpStateValue): FlowStateValue {
  if (s <= TcpState.SYN_RECV) return FlowState.NEW;
  if (s === TcpState.TIME_WAIT || s === TcpState.LAST_ACK || s === TcpState.CLOSED) return FlowState.CLOSED;
  return FlowState.ESTABLISHED;
}

/**
 * A passive view of one TCP connection: the state both hosts are in as far as the packets
 * show, and a reassembled stream per direction. It follows connections picked up mid-way
 * (no handshake seen) as established.
 */
export class TcpSession {
  state: TcpStateValue = TcpState.NONE;
  /** OR of the flags seen to server and to client. */
  flagsToServer = 0;
  flagsToClient = 0;
  /** Picked up without seeing the handshake. */
  midstream = false;
  /** The sequence number of the first packet seen in each direction (-1 until one is), for port-reuse checks. */
  readonly firstSeq = [-1, -1];
  /** Stream offset just past each side's FIN, -1 until sent. */
  readonly finAt = [-1, -1];
  /** The direction of the second FIN, whose acknowledgment ends the closing handshake. */
  private lastFinDir = -1;
  readonly streams: [Stream, Stream] = [new Stream(), new Stream()];

  /**
   * Follows one packet. Returns an Insert code for its payload (or -1 when it had none),
   * so the flow table can count retransmissions and overlaps.
   */
  packet<F>(flow: F, dir: number, flags: number, seq: number, ack: number, buf: Uint8Array, off: number, len: number, policy: NewDataWins, limits: StreamLimits, sink: StreamSink<F>): number {
    if (dir === TO_SERVER) this.flagsToServer |= flags;
    else this.flagsToClient |= flags;
    if (this.firstSeq[dir] === -1) this.firstSeq[dir] = seq;
    const own = this.streams[dir]!;
    const peer = this.streams[1 - dir]!;
    const syn = (flags & TcpFlag.SYN) !== 0;
    const ackFlag = (flags & TcpFlag.ACK) !== 0;

    if (syn) {
      // Data on a SYN (TCP Fast Open) starts one past the SYN's sequence number.
      if (!own.started) own.start(seq + 1);
      if (!ackFlag) {
        if (this.state === TcpState.NONE) this.state = TcpState.SYN_SENT;
      } else if (this.state === TcpState.NONE || this.state === TcpState.SYN_SENT) {
        this.state = TcpState.SYN_RECV;
      }
    } else {
      if (!own.started) own.start(seq);
      if (this.state === TcpState.NONE) {
        this.midstream = true;
        this.state = TcpState.ESTABLISHED;
      } else if ((this.state === TcpState.SYN_RECV || this.state === TcpState.SYN_SENT) && ackFlag && dir === TO_SERVER) {
        this.state = TcpState.ESTABLISHED;
      }
    }

    let result = -1;
    if (len > 0) result = own.insert(flow, dir, syn ? seq + 1 : seq, buf, off, len, policy, limits, sink);
    if (ackFlag) {
      peer.acknowledge(flow, 1 - dir, ack, sink);
      this.noteFinAcked(1 - dir, ack);
    }
    if ((flags & TcpFlag.FIN) !== 0) this.fin(dir, own.offsetOf(seq) + len);
    if ((flags & TcpFlag.RST) !== 0) this.state = TcpState.CLOSED;
    return result;
  }

  private fin(dir: number, at: number): void {
    if (this.finAt[dir] !== -1) return;
    this.finAt[dir] = at;
    this.lastFinDir = dir;
    const s = this.state;
    if (this.finAt[1 - dir] === -1) {
      // The first FIN: the client closing first goes to FIN_WAIT1, the server closing first to CLOSE_WAIT.
      if (s <= TcpState.ESTABLISHED) this.state = dir === TO_SERVER ? TcpState.FIN_WAIT1 : TcpState.CLOSE_WAIT;
    } else if (s === TcpState.FIN_WAIT1) this.state = TcpState.CLOSING;
    else if (s === TcpState.FIN_WAIT2) this.state = TcpState.TIME_WAIT;
    else if (s === TcpState.CLOSE_WAIT) this.state = TcpState.LAST_ACK;
  }

  /** An ACK covering a FIN moves the closing handshake on. */
  private noteFinAcked(finDir: number, ack: number): void {
    const at = this.finAt[finDir]!;
    if (at === -1) return;
    const stream = this.streams[finDir]!;
    if (stream.offsetOf(ack) < at + 1) return;
    if (this.state === TcpState.FIN_WAIT1 && finDir === TO_SERVER) this.state = TcpState.FIN_WAIT2;
    else if (finDir === this.lastFinDir && this.state === TcpState.CLOSING) this.state = TcpState.TIME_WAIT;
    else if (finDir === this.lastFinDir && this.state === TcpState.TIME_WAIT) this.state = TcpState.CLOSED;
    else if (finDir === this.lastFinDir && this.state === TcpState.LAST_ACK) this.state = TcpState.CLOSED;
  }

  /** Delivers what both streams still hold, across holes: the connection has ended. */
  flush<F>(flow: F, sink: StreamSink<F>): void {
    this.streams[0].flush(flow, 0, sink);
    this.streams[1].flush(flow, 1, sink);
  }

  get hasGap(): boolean {
    return this.streams[0].gaps > 0 || this.streams[1].gaps > 0;
  }
}

export { Insert };
