import { PieceList, type NewDataWins } from '../wire/pieces.js';

/**
 * TCP overlap policies, from Suricata's stream engine (its host-os-policy names). Each says
 * when a new segment's bytes replace bytes already held from an older segment:
 * - bsd (default; also hpux10, irix, macos, windows, windows2k3): only when the new segment starts before the old;
 * - linux: when it starts before, or starts at the same place and ends after;
 * - old-linux: when it starts before, or starts at the same place and ends at or after;
 * - solaris (also hpux11): when it ends after the old one, or ends at the same place having started at or before it;
 * - first (also vista): never; last: always.
 * Bytes already delivered in order are never replaced: the receiving host has already accepted them.
 */
export const STREAM_POLICIES: Readonly<Record<string, NewDataWins>> = {
  bsd: (ns, _ne, os) => ns < os,
  linux: (ns, ne, os, oe) => ns < os || (ns === os && ne > oe),
  'old-linux': (ns, ne, os, oe) => ns < os || (ns === os && ne >= oe),
  solaris: (ns, ne, os, oe) => ne > oe || (ne === oe && ns <= os),
  first: () => false,
  last: () => true,
};
const ALIASES: Readonly<Record<string, string>> = {
  'bsd-right': 'bsd', hpux10: 'bsd', irix: 'bsd', macos: 'bsd', windows: 'bsd', windows2k3: 'bsd',
  'old-solaris': 'solaris', hpux11: 'solaris', vista: 'first',
};

export function streamPolicy(name: string): NewDataWins {
  const p = STREAM_POLICIES[ALIASES[name] ?? name];
  if (p === undefined) {
    throw new Error(`unknown stream overlap policy "${name}" (allowed: ${[...Object.keys(STREAM_POLICIES), ...Object.keys(ALIASES)].join(', ')})`);
  }
  return p;
}

/** Receives reassembled stream data, in order, for one direction of a flow. */
export interface StreamSink<F> {
  /** In-order bytes: a view valid only during the call. */
  data(flow: F, dir: number, buf: Uint8Array, off: number, len: number): void;
  /** `len` bytes are missing and will never come: the next data follows a hole. */
  gap(flow: F, dir: number, len: number): void;
  /** The side sent FIN and everything before it was delivered: no more data will come this way. */
  end?(flow: F, dir: number): void;
}

/** What happened to one inserted segment, for the flow layer's counters and events. */
export const Insert = { IN_ORDER: 0, BUFFERED: 1, RETRANSMISSION: 2, OVERLAP: 3, OVERLAP_DIFFERENT: 4, DROPPED: 5 } as const;

export interface StreamLimits {
  /** Out-of-order bytes one direction may hold before the oldest hole is given up as a gap. */
  maxBufferedBytes: number;
  /** Out-of-order pieces one direction may hold (many tiny segments cost more than their bytes). */
  maxBufferedPieces: number;
}

/**
 * One direction of a TCP connection. Sequence numbers are unwrapped to a 53-bit stream
 * offset (bytes since the ISN), so comparisons are plain arithmetic even past 4 GiB.
 */
export class Stream {
  /** The first sequence number that carries data (ISN + 1 after a SYN; the first seen otherwise). */
  isn = 0;
  started = false;
  /** Stream offset of the next byte to deliver. */
  base = 0;
  /** Sequence number at `base` (32-bit). */
  baseSeq = 0;
  /** The sequence number of the first packet seen this way (-1 until one is), for port-reuse checks. */
  firstSeq = -1;
  /** Stream offset of this side's FIN (just past its data), -1 until sent. */
  finAt = -1;
  /** The peer has acknowledged this side's FIN. */
  finAcked = false;
  /** The sink was told this side ended (its data delivered up to the FIN). */
  ended = false;
  /** Highest acknowledgment the peer sent for this direction, as a stream offset; -1 until one is seen. */
  ackedUpTo = -1;
  /** Out-of-order data held, made on first need: most streams never hold any. */
  private list: PieceList | null = null;
  delivered = 0;
  gaps = 0;
  gapBytes = 0;
  retransmissions = 0;
  overlaps = 0;

  get held(): PieceList {
    return (this.list ??= new PieceList());
  }

  /** Out-of-order bytes held now. */
  get heldBytes(): number {
    return this.list === null ? 0 : this.list.bytes;
  }

  /** Starts the stream at `seq`, the sequence number of its first data byte. */
  start(seq: number): void {
    this.isn = seq >>> 0;
    this.baseSeq = seq >>> 0;
    this.base = 0;
    this.started = true;
  }

  /** Stream offset of a sequence number, taken as the nearest one to `base` (±2 GiB). */
  offsetOf(seq: number): number {
    return this.base + ((seq - this.baseSeq) | 0);
  }

  /**
   * Adds a segment's payload. In-order data goes straight to the sink without a copy;
   * out-of-order data is copied and held, with overlaps resolved by `policy`. A segment that
   * repeats delivered bytes is a retransmission, even when a new tail of it is delivered.
   */
  insert<F>(flow: F, dir: number, seq: number, buf: Uint8Array, off: number, len: number, policy: NewDataWins, limits: StreamLimits, sink: StreamSink<F>): number {
    let start = this.offsetOf(seq);
    const end = start + len;
    if (end <= this.base) {
      this.retransmissions++;
      return Insert.RETRANSMISSION;
    }
    let result: number = Insert.IN_ORDER;
    if (start < this.base) {
      // The front was delivered already: the host accepted those bytes, so they stand.
      this.retransmissions++;
      result = Insert.RETRANSMISSION;
      off += this.base - start;
      start = this.base;
    }
    const list = this.list;
    if (start === this.base && (list === null || list.first === undefined || list.first.start >= end)) {
      this.advance(flow, dir, buf, off, end - start, sink);
      if (list !== null && list.first !== undefined) this.drain(flow, dir, sink);
      return result;
    }
    const held = this.held;
    const r = held.insert(start, buf, off, end - start, policy);
    if (r.overlapped) {
      this.overlaps++;
      result = r.different ? Insert.OVERLAP_DIFFERENT : Insert.OVERLAP;
    } else if (result === Insert.IN_ORDER) {
      result = Insert.BUFFERED;
    }
    if (held.first!.start <= this.base) this.drain(flow, dir, sink);
    // Past either cap the oldest hole is given up as a gap, so memory never grows past them.
    while (held.first !== undefined && (held.bytes > limits.maxBufferedBytes || held.pieces.length > limits.maxBufferedPieces)) this.skipGap(flow, dir, sink);
    this.skipAcked(flow, dir, sink);
    return result;
  }

  /** Records the peer's acknowledgment; a hole below it is a capture loss and is skipped. */
  acknowledge<F>(flow: F, dir: number, ack: number, sink: StreamSink<F>): boolean {
    if (!this.started) return false;
    const at = this.offsetOf(ack);
    if (at > this.ackedUpTo) this.ackedUpTo = at;
    const gaps = this.gaps;
    this.skipAcked(flow, dir, sink);
    return this.gaps !== gaps;
  }

  /** The peer acknowledged bytes we never saw: they were lost to the capture, not the host, so the holes below the acknowledgment are skipped. */
  private skipAcked<F>(flow: F, dir: number, sink: StreamSink<F>): void {
    const held = this.list;
    if (held === null) return;
    while (held.first !== undefined && this.ackedUpTo > this.base && held.first.start <= this.ackedUpTo) this.skipGap(flow, dir, sink);
  }

  /** Delivers everything held, across holes: the connection is over and nothing more will come. */
  flush<F>(flow: F, dir: number, sink: StreamSink<F>): void {
    while (this.list !== null && this.list.first !== undefined) this.skipGap(flow, dir, sink);
  }

  /** Skips the hole before the first held piece, reports it, and delivers what follows. */
  private skipGap<F>(flow: F, dir: number, sink: StreamSink<F>): void {
    const first = this.list?.first;
    if (first === undefined) return;
    if (first.start > this.base) {
      const missing = first.start - this.base;
      this.gaps++;
      this.gapBytes += missing;
      sink.gap(flow, dir, missing);
      this.moveBase(missing);
    }
    this.drain(flow, dir, sink);
  }

  private drain<F>(flow: F, dir: number, sink: StreamSink<F>): void {
    const held = this.list;
    if (held === null) return;
    for (let p = held.first; p !== undefined && p.start <= this.base; p = held.first) {
      held.shift();
      if (p.end > this.base) {
        const skip = this.base - p.start;
        this.advance(flow, dir, p.data, skip, p.end - p.start - skip, sink);
      }
    }
  }

  private advance<F>(flow: F, dir: number, buf: Uint8Array, off: number, len: number, sink: StreamSink<F>): void {
    this.moveBase(len);
    this.delivered += len;
    sink.data(flow, dir, buf, off, len);
  }

  private moveBase(n: number): void {
    this.base += n;
    this.baseSeq = (this.baseSeq + n) >>> 0;
  }
}
