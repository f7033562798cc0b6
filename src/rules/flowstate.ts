import type { Flow } from '../flow/flow.js';

/** Reassembled bytes of one direction waiting to be inspected by stream rules. */
export class RawStream {
  buf: Uint8Array = new Uint8Array(0);
  len = 0;
  /** A hole came before the pending bytes: they start a new block. */
  gapBefore = false;

  append(data: Uint8Array, off: number, n: number, cap: number): boolean {
    if (this.len + n > this.buf.length) {
      const size = Math.min(cap, Math.max(this.buf.length * 2, this.len + n, 4096));
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
    this.gapBefore = false;
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
}

export function flowDetect(flow: Flow): FlowDetect {
  let d = flow.detect as FlowDetect | null;
  if (d === null) {
    d = new FlowDetect();
    flow.detect = d;
  }
  return d;
}
