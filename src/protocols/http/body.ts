import type { HttpEvent } from './events.js';
import { Inflater, type InflateSink } from './inflate.js';

/** A Content-Encoding this parser decodes. */
export type ContentCoding = 'gzip' | 'deflate';

/** Lowercase ASCII of a header value with NUL bytes dropped (libhtp's "nocasenorzero" compare). */
function folded(value: Uint8Array): string {
  let s = '';
  for (const b of value) if (b !== 0) s += String.fromCharCode(b >= 0x41 && b <= 0x5a ? b + 32 : b);
  return s;
}

/**
 * The layers to decode for a Content-Encoding value, in decoding order (the last coding listed
 * was applied last, so it comes off first, as libhtp-rs prepends each decompressor), and the
 * events the value raises. libhtp's rules (htp_tx_state_response_headers): "gzip"/"x-gzip" and
 * "deflate"/"x-deflate" alone take the fast path; otherwise the value is split on commas and
 * spaces, a token *containing* gzip or deflate counts (ABNORMAL_CE_HEADER unless exact), lzma
 * stays encoded (Suricata's default lzma-layers is 0), "inflate", "none" and "identity" (accepted
 * since Suricata ticket 7843) mean nothing, anything else is ABNORMAL_CE_HEADER, and layers past
 * the limit are TOO_MANY_ENCODING_LAYERS.
 */
export function contentCodings(value: Uint8Array | null, layerLimit: number): { layers: ContentCoding[]; events: HttpEvent[] } {
  const layers: ContentCoding[] = [];
  const events: HttpEvent[] = [];
  if (value === null) return { layers, events };
  const whole = folded(value).trim();
  if (whole === 'gzip' || whole === 'x-gzip') return { layers: ['gzip'], events };
  if (whole === 'deflate' || whole === 'x-deflate') return { layers: ['deflate'], events };
  if (whole === 'lzma' || whole === 'inflate' || whole === 'none' || whole === 'identity' || whole === '') return { layers, events };
  const raw = String.fromCharCode(...value.subarray(0, 4096));
  let count = 0;
  for (const token of raw.split(/[, ]/)) {
    if (token === '') continue;
    count++;
    if (count > layerLimit) {
      events.push('TOO_MANY_ENCODING_LAYERS');
      break;
    }
    const lower = token.toLowerCase();
    if (lower.includes('gzip')) {
      if (token !== 'gzip' && token !== 'x-gzip') events.push('ABNORMAL_CE_HEADER');
      layers.unshift('gzip');
    } else if (lower.includes('deflate')) {
      if (token !== 'deflate' && token !== 'x-deflate') events.push('ABNORMAL_CE_HEADER');
      layers.unshift('deflate');
    } else if (token !== 'lzma' && token !== 'inflate' && token !== 'none' && token !== 'identity') {
      events.push('ABNORMAL_CE_HEADER');
    }
  }
  return { layers, events };
}

/** The first bytes of a stream (a body, a header block) up to a limit; the rest is only counted. */
export class CappedBuffer {
  private buf: Uint8Array = new Uint8Array(0);
  private used = 0;
  /** Bytes offered, kept or not. */
  length = 0;

  constructor(readonly limit: number) {}

  /**
   * Makes room for `n` more bytes at once (up to the limit): a body whose length is announced
   * is copied into one buffer of its size instead of one grown by doubling.
   */
  reserve(n: number): void {
    const want = Math.min(this.limit, this.used + n);
    if (want <= this.buf.length) return;
    // Not zeroed: only the bytes below `used` are ever read.
    const grown = Buffer.allocUnsafe(want);
    grown.set(this.buf.subarray(0, this.used));
    this.buf = grown;
  }

  append(data: Uint8Array): void {
    this.length += data.length;
    const room = this.limit - this.used;
    if (room <= 0 || data.length === 0) return;
    const n = Math.min(room, data.length);
    if (this.used + n > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.limit, Math.max(this.used + n, this.buf.length * 2, 256)));
      grown.set(this.buf.subarray(0, this.used));
      this.buf = grown;
    }
    this.buf.set(data.subarray(0, n), this.used);
    this.used += n;
  }

  /** The kept bytes (a view). */
  get bytes(): Uint8Array {
    return this.buf.subarray(0, this.used);
  }

  /** More was offered than kept. */
  get truncated(): boolean {
    return this.length > this.used;
  }
}

export interface DecoderLimits {
  compressionBombLimit: number;
  compressionBombRatio: number;
  decompressMaxBytes: number;
}

/**
 * Input kept while a layer has produced nothing yet, to hand on undecoded if it turns out not to
 * be compressed: a DEFLATE stream yields output within its first block header (2.4 KiB at most),
 * so 4 KiB covers all but gzip headers with long optional fields.
 */
const PROBE_KEEP = 4096;

/** One Content-Encoding layer: an inflater that falls back to passing bytes through when the data is not DEFLATE. */
class Layer {
  private readonly inflater = new Inflater('auto');
  private probe: Uint8Array | null = new Uint8Array(0);
  /** Bytes handed on undecoded (after a failure), for the bomb ratio. */
  private passed = 0;
  passthrough = false;

  constructor(private readonly failed: () => void) {}

  /** Compressed bytes this layer has used. */
  get consumed(): number {
    return this.passthrough ? this.inflater.consumed + this.passed : this.inflater.consumed;
  }

  write(data: Uint8Array, next: InflateSink): boolean {
    if (this.passthrough) {
      this.passed += data.length;
      return next(data);
    }
    if (this.inflater.status !== 'more') return this.inflater.status !== 'stopped';
    if (this.probe !== null) {
      if (this.inflater.total === 0 && this.probe.length + data.length <= PROBE_KEEP) {
        const p = new Uint8Array(this.probe.length + data.length);
        p.set(this.probe);
        p.set(data, this.probe.length);
        this.probe = p;
      } else {
        this.probe = null;
      }
    }
    const status = this.inflater.write(data, next);
    if (status === 'error') {
      // libhtp: "all our inflate attempts have failed, simply pass the raw data on".
      this.failed();
      this.passthrough = true;
      const raw = this.inflater.total === 0 && this.probe !== null ? this.probe : this.inflater.remainder();
      this.probe = null;
      if (raw.length > 0) {
        this.passed += raw.length;
        return next(raw);
      }
      return true;
    }
    if (this.inflater.total > 0) this.probe = null;
    return status !== 'stopped';
  }

  finish(next: InflateSink): void {
    if (!this.passthrough) this.inflater.finish(next);
  }
}

/**
 * Decodes a body's Content-Encoding layers into `out`, bounded: past the bomb limit and ratio
 * (libhtp: decompressed > 1 MiB and > 2048 x compressed) or past `decompressMaxBytes`, it raises
 * COMPRESSION_BOMB and stops decoding; what comes after is only counted by the caller.
 */
export class ContentDecoder {
  private readonly layers: Layer[];
  private readonly sinks: InflateSink[] = [];
  /** Decoded bytes handed to `out`. */
  decoded = 0;
  stopped = false;

  constructor(
    codings: readonly ContentCoding[],
    private readonly limits: DecoderLimits,
    private readonly out: (data: Uint8Array) => void,
    private readonly event: (e: HttpEvent) => void,
  ) {
    this.layers = codings.map(() => new Layer(() => event('GZIP_DECOMPRESSION_FAILED')));
    // sinks[i] receives layer i's output: the next layer's input, or the body.
    for (let i = 0; i < this.layers.length; i++) {
      const nextLayer = this.layers[i + 1];
      this.sinks.push(nextLayer === undefined ? (d) => this.deliver(d) : (d) => nextLayer.write(d, this.sinks[i + 1]!));
    }
  }

  /** Bytes as they came off the wire (dechunked). */
  write(data: Uint8Array): void {
    if (this.stopped || data.length === 0) return;
    const first = this.layers[0];
    if (first === undefined) {
      this.decoded += data.length;
      this.out(data);
      return;
    }
    if (!first.write(data, this.sinks[0]!)) this.stopped = true;
  }

  /** The body ended: flush what the layers hold. */
  end(): void {
    if (this.stopped) return;
    for (let i = 0; i < this.layers.length && !this.stopped; i++) this.layers[i]!.finish(this.sinks[i]!);
  }

  private deliver(data: Uint8Array): boolean {
    if (this.stopped) return false;
    this.decoded += data.length;
    this.out(data);
    const compressed = this.layers[0]!.consumed;
    const l = this.limits;
    const bomb = this.decoded > l.compressionBombLimit && this.decoded > l.compressionBombRatio * compressed;
    if (bomb || this.decoded > l.decompressMaxBytes) {
      this.event('COMPRESSION_BOMB');
      this.stopped = true;
      return false;
    }
    return true;
  }
}
