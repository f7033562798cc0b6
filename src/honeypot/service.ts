/**
 * One listening socket of the honeypot: the emulated PCT service or a generic listener. Per
 * connection it captures what the client sends into one buffer capped at `captureBytes`, answers
 * (PCT service only) from pct.ts's decision, and closes on the client's close, the cap, an idle
 * or total time limit, or shutdown. Nothing received is ever executed or interpreted beyond the
 * first record's parse. State is bounded: at most `maxConnections` connections, each holding at
 * most `captureBytes`.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { HoneypotPctRecord, HoneypotRecord } from '../events/honeypot.js';
import { decidePct } from './pct.js';

/** Per-connection and per-listener limits. */
export interface ServiceLimits {
  /** Bytes captured per connection: 64 KiB holds the largest PCT/SSLv2 record (2 + 0x7fff) twice over, and the public exploits' 1.8 KB flight many times. */
  captureBytes: number;
  /** A connection silent this long is closed: 10 s, longer than any client waits between hello and its next message. */
  idleMs: number;
  /** A connection is closed after this long whatever it does: 30 s, so a slow drip cannot hold a slot. */
  totalMs: number;
  /** Connections open at once per listener: 256, so a connection flood costs at most 256 × captureBytes (16 MiB). */
  maxConnections: number;
}

export const SERVICE_DEFAULTS: ServiceLimits = { captureBytes: 64 * 1024, idleMs: 10_000, totalMs: 30_000, maxConnections: 256 };

/** A listening address. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** One finished connection, for the honeypot to hash, store and write as an event. */
export interface ConnectionReport {
  service: 'pct' | 'listener';
  /** Accept time, ms since the epoch. */
  startedAt: number;
  /** Accept to close, ms. */
  durationMs: number;
  srcIp: string;
  srcPort: number;
  destIp: string;
  destPort: number;
  /** The captured bytes (a copy, at most captureBytes). */
  captured: Buffer;
  truncated: boolean;
  end: HoneypotRecord['end'];
  /** PCT service: the first record's reading and the answer. */
  pct?: HoneypotPctRecord;
}

/** Counters of one listener. */
export interface ServiceCounters {
  connections: number;
  /** Refused at accept because maxConnections were open. */
  refused: number;
  /** Cut at the capture cap. */
  capped: number;
  timeouts: number;
  errors: number;
  /** The most bytes any one connection held: never above captureBytes. */
  peak_held_bytes: number;
}

/** A capture buffer that grows by doubling up to its cap, so small first flights cost little. */
class CaptureBuffer {
  private buf = Buffer.alloc(0);
  length = 0;
  constructor(readonly cap: number) {}

  /** Appends what fits; returns how many bytes of `chunk` were taken. */
  append(chunk: Buffer): number {
    const take = Math.min(chunk.length, this.cap - this.length);
    if (take <= 0) return 0;
    if (this.length + take > this.buf.length) {
      const next = Buffer.alloc(Math.min(this.cap, Math.max(1024, this.buf.length * 2, this.length + take)));
      this.buf.copy(next, 0, 0, this.length);
      this.buf = next;
    }
    chunk.copy(this.buf, this.length, 0, take);
    this.length += take;
    return take;
  }

  view(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

/** Strips the IPv4-mapped prefix node gives dual-stack sockets. */
function plainAddress(a: string | undefined): string {
  if (a === undefined) return '';
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/** One connection's life. */
class Connection {
  private readonly capture: CaptureBuffer;
  private readonly startedAt = Date.now();
  private readonly totalTimer: NodeJS.Timeout;
  private decided: HoneypotPctRecord | null = null;
  private done = false;
  /** Read at accept: a destroyed socket no longer knows its addresses. */
  private readonly ends: { srcIp: string; srcPort: number; destIp: string; destPort: number };

  constructor(
    private readonly socket: Socket,
    private readonly service: ServiceListener,
  ) {
    const limits = service.limits;
    this.capture = new CaptureBuffer(limits.captureBytes);
    this.ends = { srcIp: plainAddress(socket.remoteAddress), srcPort: socket.remotePort ?? 0, destIp: plainAddress(socket.localAddress), destPort: socket.localPort ?? 0 };
    socket.setTimeout(limits.idleMs);
    socket.on('timeout', () => this.finish('timeout', false));
    this.totalTimer = setTimeout(() => this.finish('timeout', true), limits.totalMs);
    socket.on('data', (chunk: Buffer) => this.data(chunk));
    socket.on('end', () => this.finish('client_closed', false));
    socket.on('error', () => this.finish('error', false));
    socket.on('close', () => this.finish('client_closed', false));
  }

  private data(chunk: Buffer): void {
    if (this.done) return;
    const took = this.capture.append(chunk);
    const c = this.service.counters;
    if (this.capture.length > c.peak_held_bytes) c.peak_held_bytes = this.capture.length;
    if (this.service.kind === 'pct' && this.decided === null) this.decide(false);
    if (took < chunk.length) this.finish('cap', true);
  }

  /** Answers once the first record is complete (or, when `final`, with what there is). */
  private decide(final: boolean): void {
    const d = decidePct(this.capture.view(), final, this.service.certificate);
    if (d === 'more') return;
    this.decided = d.record;
    if (final || this.done) return;
    if (d.record.answered === 'pct_server_hello') {
      this.socket.write(d.reply); // then keep reading: the rest of the first flight is the capture
      return;
    }
    if (d.reply.length > 0) this.socket.end(d.reply);
    this.finish('answered', false);
  }

  /** Ends the connection once; the report goes to the service. */
  finish(end: HoneypotRecord['end'], truncated: boolean): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.totalTimer);
    const c = this.service.counters;
    if (end === 'cap') c.capped++;
    if (end === 'timeout') c.timeouts++;
    if (end === 'error') c.errors++;
    if (this.service.kind === 'pct' && this.decided === null) this.decide(true);
    // After an answer, end() flushes it; otherwise drop the connection at once.
    if (end === 'answered') this.socket.destroySoon();
    else this.socket.destroy();
    const report: ConnectionReport = {
      service: this.service.kind,
      startedAt: this.startedAt,
      durationMs: Date.now() - this.startedAt,
      ...this.ends,
      captured: Buffer.from(this.capture.view()),
      truncated,
      end,
      ...(this.decided !== null ? { pct: this.decided } : {}),
    };
    this.service.closed(this, report);
  }
}

/** A listening socket and its connections. */
export class ServiceListener {
  readonly counters: ServiceCounters = { connections: 0, refused: 0, capped: 0, timeouts: 0, errors: 0, peak_held_bytes: 0 };
  private readonly server: Server;
  private readonly open = new Set<Connection>();

  constructor(
    readonly kind: 'pct' | 'listener',
    readonly address: ListenAddress,
    readonly limits: ServiceLimits,
    private readonly report: (r: ConnectionReport) => void,
    readonly certificate?: Uint8Array,
  ) {
    this.server = createServer({ pauseOnConnect: false }, (socket) => this.accept(socket));
  }

  private accept(socket: Socket): void {
    if (this.open.size >= this.limits.maxConnections) {
      this.counters.refused++;
      socket.on('error', () => undefined);
      socket.destroy();
      return;
    }
    this.counters.connections++;
    this.open.add(new Connection(socket, this));
  }

  /** Called by a connection when it ends. */
  closed(conn: Connection, report: ConnectionReport): void {
    this.open.delete(conn);
    this.report(report);
  }

  /** Connections open now. */
  get openConnections(): number {
    return this.open.size;
  }

  /** Starts listening; resolves with the bound address (port 0 picks one). */
  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen(this.address.port, this.address.host, () => {
        this.server.off('error', onError);
        this.server.on('error', () => undefined); // after listening, errors are per connection
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /** Stops accepting and closes every open connection (reported as `shutdown`). */
  close(): Promise<void> {
    const listening = this.server.listening;
    const closing = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const conn of [...this.open]) conn.finish('shutdown', false);
    return listening ? closing : Promise.resolve();
  }
}
