/**
 * The honeypot (issue 8): an emulated PCT-enabled SSL service and generic DShield-style
 * listeners. Every connection becomes one `honeypot` event (src/events/honeypot.ts) handed to
 * the sink, carrying the captured payload's SHA-256, size and first bytes, and for the PCT
 * service the MS04-011 classification; the payload itself goes to the store.
 */
import type { HoneypotEvent, HoneypotRecord } from '../events/honeypot.js';
import { formatTimestamp } from '../events/time.js';
import { DECOY_CERTIFICATE } from './pct.js';
import { ServiceListener, SERVICE_DEFAULTS, type ConnectionReport, type ListenAddress, type ServiceLimits } from './service.js';
import { PayloadStore, sha256Hex, type PayloadStoreLimits } from './store.js';

export { classifyPct, decidePct, pctServerHello, DECOY_CERTIFICATE, SSLV2_ERROR_NO_CIPHER } from './pct.js';
export { PayloadStore, payloadPath, sha256Hex, PAYLOAD_STORE_DEFAULTS } from './store.js';
export { SERVICE_DEFAULTS } from './service.js';
export type { ListenAddress, ServiceLimits } from './service.js';
export type { PayloadStoreLimits } from './store.js';

/** Where the PCT service listens by default: 443, where IIS served SSL. */
export const DEFAULT_PCT_ADDRESS: ListenAddress = { host: '0.0.0.0', port: 443 };

/** First bytes written into an event as hex: 64 covers any hello's fixed fields and the exploit's 17-byte signature. */
export const FIRST_BYTES = 64;

/** How the honeypot is set up; every field has a default. */
export interface HoneypotOptions {
  /** The PCT service's address (443 on every interface by default); null: no PCT service. */
  pct?: ListenAddress | null;
  /** Generic listeners (none by default). */
  listeners?: ListenAddress[];
  /** Payload store directory and caps; absent: payloads are hashed but not kept. */
  store?: ({ dir: string } & Partial<PayloadStoreLimits>) | null;
  /** Per-connection limits (SERVICE_DEFAULTS otherwise). */
  limits?: Partial<ServiceLimits>;
  /** The PCT SERVER_HELLO's certificate (the decoy by default). */
  certificate?: Uint8Array;
}

/** A bound listener, as start() reports it. */
export interface HoneypotAddress {
  service: 'pct' | 'listener';
  host: string;
  port: number;
}

/** Receives each event; a sink that throws is counted, never fatal. */
export type HoneypotSink = (ev: HoneypotEvent) => void;

/** The running honeypot. */
export class Honeypot {
  private readonly services: ServiceListener[] = [];
  private readonly store: PayloadStore | null;
  private readonly pending = new Set<Promise<void>>();
  private readonly own = { events: 0, probes: 0, exploit_attempts: 0, truncated: 0, sink_errors: 0 };

  constructor(
    options: HoneypotOptions,
    private readonly sink: HoneypotSink,
  ) {
    const limits: ServiceLimits = { ...SERVICE_DEFAULTS, ...options.limits };
    const onReport = (r: ConnectionReport): void => this.report(r);
    const pct = options.pct === undefined ? DEFAULT_PCT_ADDRESS : options.pct;
    if (pct !== null) this.services.push(new ServiceListener('pct', pct, limits, onReport, options.certificate ?? DECOY_CERTIFICATE));
    for (const l of options.listeners ?? []) this.services.push(new ServiceListener('listener', l, limits, onReport));
    const s = options.store ?? null;
    this.store = s === null ? null : new PayloadStore(s.dir, s);
  }

  /** Opens the store and starts every listener; resolves with the bound addresses (in option order: PCT first). */
  async start(): Promise<HoneypotAddress[]> {
    if (this.store !== null) await this.store.open();
    const out: HoneypotAddress[] = [];
    try {
      for (const s of this.services) {
        const a = await s.listen();
        out.push({ service: s.kind, host: a.address, port: a.port });
      }
    } catch (err) {
      await Promise.all(this.services.map((s) => s.close()));
      throw err;
    }
    return out;
  }

  /** Closes every listener and connection, and waits until their events are written. */
  async stop(): Promise<void> {
    await Promise.all(this.services.map((s) => s.close()));
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** Connections open now, across listeners. */
  get openConnections(): number {
    return this.services.reduce((n, s) => n + s.openConnections, 0);
  }

  /** Events, classifications, per-listener and store counters. */
  get counters(): Record<string, number> {
    const out: Record<string, number> = { ...this.own };
    for (const s of this.services) {
      for (const [k, v] of Object.entries(s.counters)) out[k] = k === 'peak_held_bytes' ? Math.max(out[k] ?? 0, v) : (out[k] ?? 0) + v;
    }
    if (this.store !== null) for (const [k, v] of Object.entries(this.store.counters)) out[`store_${k}`] = v;
    return out;
  }

  private report(r: ConnectionReport): void {
    const p = this.write(r).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  private async write(r: ConnectionReport): Promise<void> {
    const sha256 = sha256Hex(r.captured);
    let stored: HoneypotRecord['stored'] = 'disabled';
    if (this.store !== null && r.captured.length > 0) stored = await this.store.put(r.captured, sha256);
    const ev = honeypotEvent(r, sha256, stored);
    this.own.events++;
    if (r.truncated) this.own.truncated++;
    if (r.pct?.classification === 'probe') this.own.probes++;
    if (r.pct?.classification === 'exploit_attempt') this.own.exploit_attempts++;
    try {
      this.sink(ev);
    } catch {
      this.own.sink_errors++;
    }
  }
}

/** The EVE record for one connection. */
export function honeypotEvent(r: ConnectionReport, sha256: string, stored: HoneypotRecord['stored']): HoneypotEvent {
  const format = r.pct?.format;
  return {
    timestamp: formatTimestamp(Math.floor(r.startedAt / 1000), (r.startedAt % 1000) * 1e6),
    event_type: 'honeypot',
    src_ip: r.srcIp,
    src_port: r.srcPort,
    dest_ip: r.destIp,
    dest_port: r.destPort,
    proto: 'TCP',
    ...(format !== undefined && format !== 'unknown' ? { app_proto: 'tls' } : {}),
    honeypot: {
      service: r.service,
      bytes: r.captured.length,
      sha256,
      first_bytes: r.captured.subarray(0, FIRST_BYTES).toString('hex'),
      truncated: r.truncated,
      end: r.end,
      stored,
      duration: r.durationMs / 1000,
      ...(r.pct !== undefined ? { pct: r.pct } : {}),
    },
  };
}
