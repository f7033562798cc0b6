import { Agent, request } from 'node:https';
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { API, HEADER, sign, type ApiError, type IngestReply, type SensorCredentials } from '../api/contract.js';
import type { Spool, SpoolBatch } from './spool.js';

/**
 * Ships spooled events to the collector (src/sensor/NOTES.md "Spool and shipper"): batches of
 * gzip NDJSON, signed, over HTTPS with the pinned CA only. One batch is in flight at a time: it
 * is the simplest design that never acknowledges out of order, and the collector's per-batch
 * cost, not the round trip, bounds throughput on loopback and LANs (pipelining can come later).
 *
 * Outcomes of a batch:
 * - 200: spool.ack(reply.acked); reading continues after the batch even if the acknowledgement
 *   is lower, but never more than LAG_BATCHES batches past it: then the collector lacks something
 *   and shipping resends from its acknowledgement (it dedupes).
 * - network error, timeout, 5xx, 429, 408, 409, a reply that is not an IngestReply, any other
 *   unexpected status: the same batch again after an exponential backoff with jitter between
 *   backoffMin and backoffMax (Retry-After honoured).
 * - 401/403 (unknown, revoked, bad signature, wrong sensor): shipping stops, nothing is deleted;
 *   `lastError` says why. A 401 `stale` (clocks apart) is retried instead: it heals with NTP.
 * - 400/413/422 (the content): the batch is halved until the refused event is alone; that event
 *   goes to DIR/rejected.ndjson (spool.reject: counted, kept) and is declared lost, so the next
 *   batch carries lost-through ≥ its seq and the collector's acknowledgement passes it. Eight in a
 *   row with nothing accepted between, or rejected.ndjson full: shipping stops (nothing lost).
 */

/** How the shipper is set up (SensorConfig.ship plus the enrolment). */
export interface ShipperOptions {
  spool: Spool;
  credentials: SensorCredentials;
  /** Events per batch at most. */
  batchEvents: number;
  /** Uncompressed bytes per batch at most (a single bigger event still goes alone). */
  batchBytes: number;
  /** Backoff bounds, ms. */
  backoffMin: number;
  backoffMax: number;
  /** Called after every change of state. */
  onState?: (s: ShipperState) => void;
  /** gzip level: 1 (default; see bench/RESULTS.md "Spool") or up to 9. */
  gzipLevel?: number;
  /** ms to wait for a reply before giving the attempt up (default 30,000). */
  requestTimeout?: number;
  /** ms to let events gather after a kick when fewer than a batch wait (default 100). */
  linger?: number;
  /** ms stop() lets an in-flight request finish before aborting it (default 2,000). */
  stopGrace?: number;
  /** ms between looks at the spool when nobody kicks (default 1,000). */
  poll?: number;
  /** Where refusals are reported (default: stderr). */
  log?: (line: string) => void;
  /** For tests: waits (backoff, linger, poll); must resolve early when the signal aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** For tests: the jitter source, in [0, 1). */
  random?: () => number;
}

/** The shipper's state (for /healthz and sensor_stats). */
export interface ShipperState {
  /** The last request was answered 200. */
  connected: boolean;
  /** The collector's latest acknowledgement. */
  acked: number;
  /** Why the last attempt failed (null after a success). */
  lastError: string | null;
  /** Failed attempts of the current batch in a row (0 when healthy): the backoff's exponent. */
  retries: number;
  /** Batches the collector accepted. */
  batches: number;
  /** Events in accepted batches (a resend counts again). */
  shipped: number;
  /** Events the collector refused one by one, moved to rejected.ndjson. */
  rejected: number;
  /** When the next attempt is due (ms since the epoch; 0: not waiting). */
  nextAttempt: number;
  /** Shipping stopped because the collector refused the credentials (401/403): re-enrol, then start() again. */
  stopped?: boolean;
}

/** Reading may run this many batches past the acknowledgement before resending from it. */
const LAG_BATCHES = 4;
/** A Retry-After beyond an hour is the server's mistake: capped. */
const RETRY_AFTER_MAX = 3_600_000;
/** Eight events refused one by one with none accepted between is not a bad event but a sensor and collector that disagree (versions, schema): stop instead of moving the whole spool into rejected.ndjson. */
const REFUSED_RUN_MAX = 8;
/** Replies are small JSON; a bigger body is not our collector (the rest is discarded). */
const REPLY_MAX = 64 * 1024;

const gzip = promisify(gzipCb);

interface InFlight {
  batch: SpoolBatch;
  /** The gzip bytes as sent (and signed); kept for retries. */
  body: Buffer;
}

type Outcome =
  | { kind: 'ok'; reply: IngestReply }
  | { kind: 'retry'; error: string; retryAfter: number }
  | { kind: 'fatal'; error: string }
  | { kind: 'refused'; status: number; error: string }
  | { kind: 'aborted' };

/** Ships the spool to the collector until stopped. */
export class Shipper {
  private readonly o: ShipperOptions;
  private readonly agent: Agent;
  private readonly url: URL;
  private readonly st: ShipperState;
  private running = false;
  private loop: Promise<void> | null = null;
  /** Events after this seq are read next. */
  private cursor = 0;
  /** Events per batch while a refused batch is being narrowed down; 0: batchEvents. */
  private narrow = 0;
  /** The refused batch's last seq: past it, batches are full size again. */
  private narrowUntil = 0;
  /** Events set aside since the last accepted batch. */
  private refusedRun = 0;
  private current: InFlight | null = null;
  private idling = false;
  private kicked = false;
  private urgent = 0;
  private sleepAbort: AbortController | null = null;
  private requestAbort: AbortController | null = null;
  private readonly waiters = new Set<() => void>();
  private readonly logged = new Set<string>();

  constructor(o: ShipperOptions) {
    this.o = o;
    this.url = new URL(o.credentials.collector);
    if (this.url.protocol !== 'https:') throw new Error(`collector ${o.credentials.collector}: must be https://`);
    this.agent = new Agent({ keepAlive: true, maxSockets: 1, ca: o.credentials.ca });
    const s = o.spool.stats();
    this.st = { connected: false, acked: s.acked, lastError: null, retries: 0, batches: 0, shipped: 0, rejected: 0, nextAttempt: 0 };
  }

  /** Starts shipping (again, after a stop or a refusal of the credentials). */
  start(): void {
    if (this.running) return;
    this.running = true;
    delete this.st.stopped;
    const s = this.o.spool.stats();
    this.cursor = Math.max(s.acked, s.lostThrough);
    this.current = null;
    this.narrow = this.narrowUntil = 0;
    this.refusedRun = 0;
    this.loop = this.run().catch((err: unknown) => {
      // The loop catches its own errors; this is a bug, reported rather than thrown into the runtime.
      this.fail(`shipper stopped: ${(err as Error).stack ?? String(err)}`);
      this.running = false;
    });
  }

  /** Stops: an in-flight request gets stopGrace ms to finish (its acknowledgement is applied), then is aborted (nothing acknowledged). */
  async stop(): Promise<void> {
    this.running = false;
    this.sleepAbort?.abort();
    if (this.requestAbort !== null) {
      const abort = this.requestAbort;
      const t = setTimeout(() => abort.abort(), this.o.stopGrace ?? 2000);
      try {
        await this.loop;
      } finally {
        clearTimeout(t);
      }
    } else {
      await this.loop;
    }
    this.loop = null;
    this.agent.destroy();
    this.changed();
  }

  /** A copy of the state. */
  state(): ShipperState {
    return { ...this.st };
  }

  /** New events were appended: ship them soon (after `linger` unless a batch is already waiting). */
  kick(): void {
    this.kicked = true;
    if (this.idling) this.sleepAbort?.abort();
  }

  /**
   * Resolves true once everything spooled is acknowledged (or declared lost), false after
   * timeoutMs, or at once when the shipper is not running (stopped, or refused by the collector).
   */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.drained()) return true;
    if (!this.running) return false;
    this.urgent++;
    this.kick();
    try {
      return await new Promise<boolean>((resolve) => {
        const check = (): void => {
          if (this.drained()) finish(true);
          else if (!this.running) finish(false);
        };
        const timer = setTimeout(() => finish(false), timeoutMs);
        const finish = (v: boolean): void => {
          clearTimeout(timer);
          this.waiters.delete(check);
          resolve(v);
        };
        this.waiters.add(check);
      });
    } finally {
      this.urgent--;
    }
  }

  private drained(): boolean {
    const s = this.o.spool.stats();
    return Math.max(s.acked, s.lostThrough) >= s.nextSeq - 1;
  }

  // ---- the loop ----

  private async run(): Promise<void> {
    while (this.running) {
      if (this.current === null) {
        const batch = this.next();
        if (batch === undefined) return;
        if (batch === null) {
          await this.idle();
          continue;
        }
        const body = await gzip(Buffer.from(`${batch.lines.join('\n')}\n`), { level: this.o.gzipLevel ?? 1 });
        this.current = { batch, body };
        if (!this.running) return;
      }
      const inflight = this.current;
      const outcome = await this.send(inflight);
      if (outcome.kind === 'aborted') return;
      await this.handle(inflight, outcome);
    }
  }

  /** The next batch to send: null when none is waiting, undefined when the spool is closed. */
  private next(): SpoolBatch | null | undefined {
    const spool = this.o.spool;
    if (spool.closed) {
      this.running = false;
      return undefined;
    }
    const limit = this.narrow > 0 ? this.narrow : this.o.batchEvents;
    try {
      return spool.read(this.cursor, limit, this.o.batchBytes);
    } catch (err) {
      if (spool.closed) {
        this.running = false;
        return undefined;
      }
      this.st.lastError = `cannot read the spool: ${(err as Error).message}`;
      this.changed();
      return null;
    }
  }

  /** Nothing to read: wait for a kick or the poll; resend from the acknowledgement if the collector lacks something. */
  private async idle(): Promise<void> {
    const s = this.o.spool.stats();
    const floor = Math.max(s.acked, s.lostThrough);
    if (floor < this.cursor && this.cursor >= s.nextSeq - 1) {
      // Everything was sent and answered 200, yet the acknowledgement stops short: resend after a backoff.
      await this.backoff(`the collector acknowledged ${floor}, short of ${this.cursor}: resending from ${floor + 1}`, 0);
      this.cursor = floor;
      return;
    }
    if (!this.kicked) {
      this.idling = true;
      await this.sleep(this.o.poll ?? 1000);
      this.idling = false;
    }
    this.kicked = false;
    const waiting = this.o.spool.stats().nextSeq - 1 - this.cursor;
    if (this.running && this.urgent === 0 && waiting > 0 && waiting < this.o.batchEvents) await this.sleep(this.o.linger ?? 100);
  }

  private async handle(inflight: InFlight, outcome: Exclude<Outcome, { kind: 'aborted' }>): Promise<void> {
    const { batch } = inflight;
    switch (outcome.kind) {
      case 'ok': {
        const acked = outcome.reply.acked;
        this.o.spool.ack(acked);
        this.current = null;
        this.st.connected = true;
        this.st.acked = acked;
        this.st.lastError = null;
        this.st.retries = 0;
        this.st.nextAttempt = 0;
        this.refusedRun = 0;
        this.st.batches++;
        this.st.shipped += batch.lines.length;
        this.cursor = Math.max(batch.lastSeq, acked);
        if (this.narrowUntil > 0 && this.cursor >= this.narrowUntil) this.narrow = this.narrowUntil = 0;
        if (this.cursor - acked > LAG_BATCHES * this.o.batchEvents) {
          this.cursor = acked;
          await this.backoff(`the collector acknowledged ${acked}, ${LAG_BATCHES} batches behind: resending from ${acked + 1}`, 0);
          return;
        }
        this.changed();
        return;
      }
      case 'retry':
        this.st.connected = false;
        await this.backoff(outcome.error, outcome.retryAfter);
        return;
      case 'fatal':
        this.halt(`${outcome.error}; shipping stopped`);
        return;
      case 'refused':
        this.st.connected = false;
        this.current = null;
        await this.refused(batch, outcome.status, outcome.error);
        return;
    }
  }

  /** 400/413/422: halve the batch down to the refused event, then set that one aside. */
  private async refused(batch: SpoolBatch, status: number, error: string): Promise<void> {
    const n = batch.lines.length;
    if (n > 1) {
      // Said once per refused batch, not once per halving.
      if (this.narrowUntil === 0) this.say(`outpost shipper: the collector refused ${n} events (seq ${batch.firstSeq}-${batch.lastSeq}): ${status} ${error}; retrying in halves to find the event it refuses`);
      this.narrow = Math.ceil(n / 2);
      this.narrowUntil = Math.max(this.narrowUntil, batch.lastSeq);
      this.st.lastError = `${status} ${error}`;
      this.changed();
      return;
    }
    const seq = batch.firstSeq;
    const why = `${status} ${error}`;
    if (this.refusedRun >= REFUSED_RUN_MAX) {
      this.halt(`the collector refused ${this.refusedRun + 1} events one by one with none accepted between (the latest, seq ${seq}: ${why}): the sensor and the collector disagree on the records; shipping stopped`);
      return;
    }
    let kept: boolean;
    try {
      kept = this.o.spool.reject(seq, batch.lines[0]!, why);
    } catch (err) {
      await this.backoff(`cannot set refused event ${seq} aside: ${(err as Error).message}`, 0);
      return;
    }
    if (!kept) {
      this.halt(`the collector refused event ${seq} (${why}) and rejected.ndjson is full; shipping stopped so that nothing is lost`);
      return;
    }
    this.refusedRun++;
    this.st.rejected++;
    this.st.lastError = why;
    this.cursor = Math.max(this.cursor, seq);
    // The rest of the refused batch goes in full batches again; another bad event is found the same way.
    this.narrow = this.narrowUntil = 0;
    this.say(`outpost shipper: the collector refused event ${seq}: ${why}; kept in rejected.ndjson and declared lost so acknowledgements pass it`);
    this.changed();
  }

  /** Stops shipping for good (until start()): nothing is deleted, the reason is said once. */
  private halt(message: string): void {
    this.st.connected = false;
    this.st.stopped = true;
    this.current = null;
    this.running = false;
    this.fail(`${message}, ${this.o.spool.stats().depth} events stay spooled`);
  }

  /** Waits out the backoff for the current failure streak (at least retryAfter ms). */
  private async backoff(error: string, retryAfter: number): Promise<void> {
    const n = this.st.retries;
    this.st.retries = n + 1;
    this.st.lastError = error;
    const min = this.o.backoffMin;
    const cap = Math.min(this.o.backoffMax, min * 2 ** Math.min(n, 40));
    // Equal jitter: half the step fixed, half random, so delays grow yet retries of many sensors spread out.
    let delay = Math.max(min, cap / 2 + (this.o.random ?? Math.random)() * (cap / 2));
    if (retryAfter > 0) delay = Math.max(delay, Math.min(retryAfter, RETRY_AFTER_MAX));
    delay = Math.round(delay);
    this.st.nextAttempt = Date.now() + delay;
    this.changed();
    await this.sleep(delay);
    this.st.nextAttempt = 0;
  }

  // ---- one request ----

  private async send(inflight: InFlight): Promise<Outcome> {
    const { batch, body } = inflight;
    const creds = this.o.credentials;
    const headers: Record<string, string | number> = {
      'content-type': 'application/x-ndjson',
      'content-encoding': 'gzip',
      'content-length': body.length,
      [HEADER.auth]: sign(creds.sensor_id, creds.secret, { method: 'POST', path: API.events, body, ...(batch.lostThrough > 0 ? { lostThrough: batch.lostThrough } : {}) }),
    };
    if (batch.lostThrough > 0) headers[HEADER.lostThrough] = batch.lostThrough;
    const abort = new AbortController();
    this.requestAbort = abort;
    try {
      const { status, text, retryAfter } = await this.post(body, headers, abort.signal);
      return classify(status, text, retryAfter);
    } catch (err) {
      if (abort.signal.aborted && !this.running) return { kind: 'aborted' };
      return { kind: 'retry', error: `cannot reach ${creds.collector}: ${(err as Error).message}`, retryAfter: 0 };
    } finally {
      this.requestAbort = null;
    }
  }

  private post(body: Buffer, headers: Record<string, string | number>, signal: AbortSignal): Promise<{ status: number; text: string; retryAfter: number }> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          protocol: 'https:',
          hostname: this.url.hostname.replace(/^\[|\]$/g, ''),
          port: this.url.port === '' ? 443 : Number(this.url.port),
          method: 'POST',
          path: API.events,
          headers,
          agent: this.agent,
          ca: this.o.credentials.ca,
          signal,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            if (size < REPLY_MAX) chunks.push(c);
            size += c.length;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).subarray(0, REPLY_MAX).toString('utf8'), retryAfter: parseRetryAfter(res.headers['retry-after']) }));
          res.on('error', reject);
        },
      );
      req.setTimeout(this.o.requestTimeout ?? 30_000, () => req.destroy(new Error(`no reply within ${this.o.requestTimeout ?? 30_000} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  // ---- helpers ----

  private sleep(ms: number): Promise<void> {
    const abort = new AbortController();
    this.sleepAbort = abort;
    const done = (): void => {
      if (this.sleepAbort === abort) this.sleepAbort = null;
    };
    if (!this.running) return Promise.resolve();
    const wait = this.o.sleep ?? defaultSleep;
    return wait(ms, abort.signal).then(done, done);
  }

  private fail(message: string): void {
    this.st.lastError = message;
    this.once(message, `outpost shipper: ${message}`);
    this.changed();
  }

  /** Logs a line once per distinct key (bounded: the first 1,000 keys). */
  private once(key: string, line: string): void {
    if (this.logged.has(key)) return;
    if (this.logged.size < 1000) this.logged.add(key);
    this.say(line);
  }

  private say(line: string): void {
    if (this.o.log !== undefined) this.o.log(line);
    else process.stderr.write(`${line}\n`);
  }

  private changed(): void {
    this.o.onState?.(this.state());
    for (const w of [...this.waiters]) w();
  }
}

/** What a reply means for the batch. */
function classify(status: number, text: string, retryAfter: number): Outcome {
  if (status === 200) {
    const reply = parseJson(text) as Partial<IngestReply> | null;
    if (reply !== null && typeof reply.acked === 'number' && Number.isSafeInteger(reply.acked) && reply.acked >= 0) {
      return { kind: 'ok', reply: { acked: reply.acked, stored: Number(reply.stored ?? 0), duplicates: Number(reply.duplicates ?? 0) } };
    }
    return { kind: 'retry', error: `200 without an acknowledgement (${text.slice(0, 200)})`, retryAfter };
  }
  const err = parseJson(text) as Partial<ApiError> | null;
  const code = typeof err?.error === 'string' ? err.error : `HTTP ${status}`;
  const reason = typeof err?.reason === 'string' ? `: ${err.reason}` : '';
  const what = `${code}${reason}`;
  if (status === 401 && code === 'stale') return { kind: 'retry', error: `401 ${what} (is this sensor's clock right?)`, retryAfter };
  if (status === 401 || status === 403) return { kind: 'fatal', error: `the collector refused this sensor's credentials: ${status} ${what}` };
  if (status === 400 || status === 413 || status === 422) return { kind: 'refused', status, error: what };
  return { kind: 'retry', error: `${status} ${what}`, retryAfter };
}

function parseJson(text: string): unknown {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null ? v : null;
  } catch {
    return null;
  }
}

/** Retry-After in ms: delta-seconds or an HTTP date; 0 when absent or unreadable. */
export function parseRetryAfter(v: string | undefined): number {
  if (v === undefined || v === '') return 0;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? 0 : Math.max(0, t - Date.now());
}

function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    // The shipper alone must not keep a process alive (drain() has its own timer).
    t.unref();
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
