import type { EveFlowVars, EveTraffic } from '../events/types.js';
import type { Flow } from '../flow/flow.js';

/**
 * Reassembled bytes of one direction waiting to be inspected by stream rules. A hole in the
 * stream splits them into blocks: rules inspect each block on its own (a pattern cannot match
 * across missing bytes), and a logged payload shows the hole as "[N bytes missing]", as Suricata's.
 */
export class RawStream {
  buf: Uint8Array = new Uint8Array(0);
  len = 0;
  /** Offsets in buf where a block after a hole starts, and the size of each hole. */
  readonly breaks: number[] = [];
  readonly missing: number[] = [];

  /** Marks a hole of `n` bytes at the current end (at 0 for a stream that starts with one). */
  gap(n: number): void {
    this.breaks.push(this.len);
    this.missing.push(n);
  }

  /** The blocks as [start, end) pairs. */
  blocks(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    let at = 0;
    for (const b of this.breaks) {
      if (b > at) out.push([at, b]);
      at = b;
    }
    if (this.len > at) out.push([at, this.len]);
    return out;
  }

  /** The pending bytes for an alert's payload, holes shown as "[N bytes missing]". */
  logged(): Uint8Array {
    if (this.breaks.length === 0) return this.buf.slice(0, this.len);
    const parts: Uint8Array[] = [];
    let at = 0;
    this.breaks.forEach((b, i) => {
      parts.push(this.buf.subarray(at, b), Buffer.from(`[${this.missing[i]} bytes missing]`));
      at = b;
    });
    parts.push(this.buf.subarray(at, this.len));
    return Buffer.concat(parts);
  }

  append(data: Uint8Array, off: number, n: number, cap: number): boolean {
    if (this.len + n > this.buf.length) {
      // Grown to fit, doubling: most streams carry a few hundred bytes, so none starts big.
      const size = Math.min(cap, Math.max(this.buf.length * 2, this.len + n));
      if (this.len + n > size) return false;
      const next = new Uint8Array(size);
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
    }
    this.buf.set(data.subarray(off, off + n), this.len);
    this.len += n;
    return true;
  }

  clear(): void {
    this.len = 0;
    this.breaks.length = 0;
    this.missing.length = 0;
    // A large buffer is released rather than kept for the flow's life.
    if (this.buf.length > 65536) this.buf = new Uint8Array(0);
  }
}

/** What detection keeps per flow: its flowbits and its streams' pending bytes. */
export class FlowDetect {
  bits: Set<string> | null = null;
  readonly raw: [RawStream, RawStream] = [new RawStream(), new RawStream()];
  /** IP-only rules have been matched on the first packet of direction 0 / 1 (bits 1 and 2). */
  ipOnlyDone = 0;
  /**
   * Packet-and-stream rules that alerted on a packet whose payload went into the stream, per
   * direction, since that direction's last stream inspection: the stream chunk holds the same
   * bytes, so those rules do not alert on it again.
   */
  readonly alertedOnPacket: [Set<object> | null, Set<object> | null] = [null, null];
  /** Application-layer events ("http.request_field_too_long", lowercase) raised while the frame numbered `appEventsFrame` was processed. */
  appEvents: string[] | null = null;
  appEventsFrame = -1;
}

export function flowDetect(flow: Flow): FlowDetect {
  let d = flow.detect as FlowDetect | null;
  if (d === null) {
    d = new FlowDetect();
    flow.detect = d;
  }
  return d;
}

const TRAFFIC_ID = 'traffic/id/';
const TRAFFIC_LABEL = 'traffic/label/';

/**
 * The flow's flowbits as Suricata writes them on every record of the flow: `metadata.flowbits`,
 * with bits named `traffic/id/NAME` and `traffic/label/NAME` lifted out into `traffic.id` and
 * `traffic.label`. Null when the flow has no bits set.
 */
export function flowVarsRecord(flow: Flow): { metadata?: EveFlowVars; traffic?: EveTraffic } | null {
  const bits = (flow.detect as FlowDetect | null)?.bits;
  if (bits === undefined || bits === null || bits.size === 0) return null;
  const flowbits: string[] = [];
  const id: string[] = [];
  const label: string[] = [];
  for (const b of bits) {
    if (b.startsWith(TRAFFIC_ID)) id.push(b.slice(TRAFFIC_ID.length));
    else if (b.startsWith(TRAFFIC_LABEL)) label.push(b.slice(TRAFFIC_LABEL.length));
    else flowbits.push(b);
  }
  const out: { metadata?: EveFlowVars; traffic?: EveTraffic } = {};
  if (flowbits.length > 0) out.metadata = { flowbits };
  if (id.length > 0 || label.length > 0) out.traffic = { ...(id.length > 0 ? { id } : {}), ...(label.length > 0 ? { label } : {}) };
  return out;
}
