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
 * (no handshake seen, from the first packet with an ACK) as established.
 *
 * There is one state for the connection, named as Suricata names it, which is the server's
 * view of the close: a FIN from the client makes it close_wait (then last_ack when the server
 * sends its FIN, closed when the client acknowledges that); a FIN from the server first makes
 * it fin_wait1 (fin_wait2 once the client acknowledges it, time_wait on the client's FIN,
 * closed once both FINs are acknowledged).
 */
export class TcpSession {
  state: TcpStateValue = TcpState.NONE;
  /** OR of the flags seen to server and to client. */
  flagsToServer = 0;
  flagsToClient = 0;
  /** Picked up without seeing the client's SYN. */
  midstream = false;
  /** The handshake had completed before the packet being processed (what the flow:established rule option tests). */
  establishedBefore = false;
  readonly streams: [Stream, Stream] = [new Stream(), new Stream()];

  /**
   * Follows one packet. Returns an Insert code for its payload (or -1 when it had none),
   * so the flow table can count retransmissions and overlaps.
   */
  packet<F>(flow: F, dir: number, flags: number, seq: number, ack: number, buf: Uint8Array, off: number, len: number, policy: NewDataWins, limits: StreamLimits, sink: StreamSink<F>): number {
    this.establishedBefore = this.state >= TcpState.ESTABLISHED;
    if (dir === TO_SERVER) this.flagsToServer |= flags;
    else this.flagsToClient |= flags;
    const syn = (flags & TcpFlag.SYN) !== 0;
    const ackFlag = (flags & TcpFlag.ACK) !== 0;
    const finFlag = (flags & TcpFlag.FIN) !== 0;
    const rstFlag = (flags & TcpFlag.RST) !== 0;

    if (syn) {
      if (!ackFlag) {
        if (this.state === TcpState.NONE) this.state = TcpState.SYN_SENT;
      } else if (this.state === TcpState.NONE) {
        // Picked up at the SYN-ACK: the client's SYN was missed (Suricata flags this midstream too).
        this.midstream = true;
        this.state = TcpState.SYN_RECV;
      } else if (this.state === TcpState.SYN_SENT && dir !== TO_SERVER) {
        this.state = TcpState.SYN_RECV;
      }
    } else if (this.state === TcpState.NONE) {
      // As Suricata: a first packet without ACK, a RST or a bare FIN starts no session (scans,
      // backscatter), and nothing of it is followed; the next packet with an ACK may start one.
      if (!ackFlag || rstFlag || (finFlag && len === 0)) return -1;
      this.midstream = true;
      this.state = TcpState.ESTABLISHED;
    } else if ((this.state === TcpState.SYN_RECV || this.state === TcpState.SYN_SENT) && ackFlag && (dir === TO_SERVER || len > 0)) {
      // The client's ACK completes the handshake; server data acknowledging the SYN shows
      // the same when that ACK was lost to the capture; a client ACK without a SYN-ACK seen
      // is taken as a missed SYN-ACK.
      this.state = TcpState.ESTABLISHED;
    }

    const own = this.streams[dir]!;
    if (own.firstSeq === -1) own.firstSeq = seq;
    const peer = this.streams[1 - dir]!;
    // Data on a SYN (TCP Fast Open) starts one past the SYN's sequence number.
    const dataSeq = syn ? seq + 1 : seq;
    if (!own.started) own.start(dataSeq);
    let result = -1;
    if (len > 0) result = own.insert(flow, dir, dataSeq, buf, off, len, policy, limits, sink);
    if (ackFlag) {
      peer.acknowledge(flow, 1 - dir, ack, sink);
      this.finAcknowledged(1 - dir, ack);
    }
    if (finFlag) this.fin(dir, own.offsetOf(dataSeq) + len, ackFlag);
    if (rstFlag) this.state = TcpState.CLOSED;
    // A FIN is the end of its side once the bytes before it are delivered (they may come after it, out of order).
    if (own.finAt !== -1 && !own.ended && own.base >= own.finAt) {
      own.ended = true;
      sink.end?.(flow, dir);
    }
    return result;
  }

  /** A side's first FIN (a retransmitted FIN changes nothing). */
  private fin(dir: number, at: number, ackFlag: boolean): void {
    const stream = this.streams[dir]!;
    if (stream.finAt !== -1) return;
    stream.finAt = at;
    switch (this.state) {
      case TcpState.SYN_RECV:
      case TcpState.ESTABLISHED:
        this.state = dir === TO_SERVER ? TcpState.CLOSE_WAIT : TcpState.FIN_WAIT1;
        break;
      case TcpState.CLOSE_WAIT:
        if (dir !== TO_SERVER) this.state = TcpState.LAST_ACK;
        break;
      case TcpState.FIN_WAIT1:
        // Both closing at once: Suricata takes a FIN that carries an ACK as the final step.
        this.state = ackFlag ? TcpState.TIME_WAIT : TcpState.CLOSING;
        break;
      case TcpState.FIN_WAIT2:
        this.state = TcpState.TIME_WAIT;
        break;
    }
  }

  /** An acknowledgment that covers a side's FIN moves the close on. */
  private finAcknowledged(finDir: number, ack: number): void {
    const stream = this.streams[finDir]!;
    const at = stream.finAt;
    if (at === -1 || stream.finAcked) return;
    if (stream.offsetOf(ack) < at + 1) return;
    stream.finAcked = true;
    switch (this.state) {
      case TcpState.FIN_WAIT1:
        if (finDir !== TO_SERVER) this.state = TcpState.FIN_WAIT2;
        break;
      case TcpState.CLOSING:
        this.state = TcpState.TIME_WAIT;
        break;
      case TcpState.TIME_WAIT:
        if (this.streams[0].finAcked && this.streams[1].finAcked) this.state = TcpState.CLOSED;
        break;
      case TcpState.LAST_ACK:
        if (finDir !== TO_SERVER) this.state = TcpState.CLOSED;
        break;
    }
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
