import { isUtf8 } from 'node:buffer';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { API, HEADER, type ApiError, type IngestReply } from '../api/contract.js';
import { authenticate, isRefusal, preAuthenticate, type Refusal } from './auth.js';
import type { CollectorMetrics } from './metrics.js';
import type { RecordValidators } from './schema.js';
import type { IngestEvent, Store } from './store/store.js';

/**
 * POST /api/v1/events: a sensor's batch of EVE records, gzip NDJSON, signed (docs/network.md).
 * The batch is all or nothing: every line is read, parsed and validated before the store sees
 * any of it, so any refusal stores nothing. The order of checks is cheapest and least trusting
 * first: size as sent (Fastify, before the body is read), the signature over the bytes as sent,
 * the inflated size, the event count, the sensor's rate, then each line.
 */

/** Ingest caps (CollectorConfig.ingest). */
export interface IngestLimits {
  /** Body bytes as sent. */
  maxBody: number;
  /** Bytes once inflated: bounds what a small gzip bomb can make the collector hold. */
  maxInflated: number;
  /** Events per batch. */
  maxEvents: number;
  /** Events per second per sensor (0: no limit); bursts of two seconds' worth pass. */
  rateLimit: number;
}

/** What the route needs. */
export interface IngestContext {
  store: Store;
  validators: RecordValidators;
  limits: IngestLimits;
  metrics: CollectorMetrics;
  /** Clock (ms), for tests. */
  now?: () => number;
}

const inflate = promisify(gunzip);

/**
 * Batches read, inflated and checked at once. Each may hold max-body bytes as sent and
 * max-inflated once inflated; the store takes batches one at a time anyway, so a few in flight
 * keep it busy while bounding memory (4 × 72 MiB at the default caps).
 */
const MAX_BATCHES_IN_FLIGHT = 4;

/** Registers the route and the NDJSON body parser (raw bytes: the signature covers them as sent). */
export function registerIngest(app: FastifyInstance, ctx: IngestContext): void {
  const buckets = new RateLimiter(ctx.limits.rateLimit);
  app.addContentTypeParser('application/x-ndjson', { parseAs: 'buffer', bodyLimit: ctx.limits.maxBody }, (_req, body, done) => done(null, body));
  let inFlight = 0;
  const busy = new Set<string>();
  const release = (request: { outpostSlot?: string | undefined }): void => {
    if (request.outpostSlot !== undefined) {
      busy.delete(request.outpostSlot);
      request.outpostSlot = undefined;
      inFlight--;
    }
  };
  app.post(API.events, {
    bodyLimit: ctx.limits.maxBody,
    // Before a byte of the body is read: a request that cannot be a known sensor's, or that would
    // exceed the batches taken in at once, is refused here, so no one holds the collector's memory
    // by opening connections and sending large bodies slowly.
    onRequest: async (request, reply) => {
      const early = await preAuthenticate(ctx.store, request.headers[HEADER.auth]);
      if ('status' in early) {
        ctx.metrics.rejectBatch(early.error);
        const e: ApiError = { error: early.error, reason: early.reason };
        return reply.code(early.status).send(e);
      }
      // A sensor sends one batch at a time: a second at once from the same id waits its turn.
      if (inFlight >= MAX_BATCHES_IN_FLIGHT || busy.has(early.sensor)) {
        ctx.metrics.rejectBatch('busy');
        const e: ApiError = { error: 'busy', reason: `the collector is taking in ${busy.has(early.sensor) ? `a batch of sensor ${early.sensor}` : `${MAX_BATCHES_IN_FLIGHT} batches`} already: retry shortly` };
        return reply.code(503).header('retry-after', '1').send(e);
      }
      inFlight++;
      busy.add(early.sensor);
      (request as { outpostSlot?: string | undefined }).outpostSlot = early.sensor;
      return undefined;
    },
    onResponse: async (request) => release(request as { outpostSlot?: string | undefined }),
    onRequestAbort: async (request) => release(request as { outpostSlot?: string | undefined }),
  }, async (request, reply) => {
    const started = process.hrtime.bigint();
    const outcome = await ingestBatch(ctx, buckets, {
      method: request.method,
      path: request.url.split('?', 1)[0]!,
      body: request.body,
      auth: request.headers[HEADER.auth],
      encoding: request.headers['content-encoding'],
      lostThrough: request.headers[HEADER.lostThrough],
    });
    if ('status' in outcome) {
      ctx.metrics.rejectBatch(outcome.error);
      if (outcome.retryAfter !== undefined) void reply.header('retry-after', String(outcome.retryAfter));
      const body: ApiError = { error: outcome.error, reason: outcome.reason };
      return reply.code(outcome.status).send(body);
    }
    ctx.metrics.batch(outcome.stored, outcome.duplicates, Number(process.hrtime.bigint() - started) / 1e9);
    return reply.send(outcome);
  });
}

/** A request as ingest sees it. */
export interface BatchRequest {
  method: string;
  path: string;
  body: unknown;
  auth: string | string[] | undefined;
  encoding: string | string[] | undefined;
  lostThrough: string | string[] | undefined;
}

/** A refusal, with Retry-After seconds for rate limiting. */
export type BatchRefusal = Refusal & { retryAfter?: number };

/** Handles one batch: the reply to send, or why it is refused. Never throws on what the client sent. */
export async function ingestBatch(ctx: IngestContext, buckets: RateLimiter, req: BatchRequest): Promise<IngestReply | BatchRefusal> {
  const now = ctx.now?.() ?? Date.now();
  // A body-less request (a batch that only declares lost seqs, say) reaches here without a body.
  const body = req.body === undefined || req.body === null ? Buffer.alloc(0) : req.body;
  if (!(body instanceof Buffer)) return { status: 415, error: 'unsupported', reason: 'send Content-Type: application/x-ndjson' };
  const encoding = (typeof req.encoding === 'string' ? req.encoding : 'identity').trim().toLowerCase();
  if (encoding !== 'gzip' && encoding !== 'identity') return { status: 415, error: 'unsupported', reason: `Content-Encoding ${encoding} is not accepted: send gzip` };
  if (typeof req.auth !== 'string' && req.auth !== undefined) return { status: 401, error: 'unauthenticated', reason: 'more than one authorization header' };
  const lostThrough = parseLostThrough(req.lostThrough);
  if (typeof lostThrough === 'string') return { status: 400, error: 'malformed', reason: lostThrough };

  const sensor = await authenticate(ctx.store, req.auth, { method: req.method, path: req.path, body, ...(lostThrough !== undefined ? { lostThrough } : {}) }, now);
  if (isRefusal(sensor)) return sensor;

  let raw: Buffer = body;
  if (encoding === 'gzip') {
    try {
      raw = await inflate(body, { maxOutputLength: ctx.limits.maxInflated });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        return { status: 413, error: 'too_large', reason: `the body inflates past ${ctx.limits.maxInflated} bytes (collector.ingest.max-inflated)` };
      }
      return { status: 400, error: 'malformed', reason: `the body is not valid gzip (${(err as Error).message})` };
    }
  } else if (raw.length > ctx.limits.maxInflated) {
    return { status: 413, error: 'too_large', reason: `the body is over ${ctx.limits.maxInflated} bytes (collector.ingest.max-inflated)` };
  }
  // Validated once here (SIMD, several GB/s); lines are decoded one by one below, because one
  // large string costs ten times more to make than the same bytes as small ones.
  if (!isUtf8(raw)) return { status: 400, error: 'malformed', reason: 'the body is not valid UTF-8' };

  const lines = countLines(raw, ctx.limits.maxEvents);
  if (lines > ctx.limits.maxEvents) return { status: 413, error: 'too_large', reason: `more than ${ctx.limits.maxEvents} events in one batch (collector.ingest.max-events)` };
  const wait = buckets.take(sensor.id, lines, now);
  if (wait > 0) return { status: 429, error: 'rate_limited', reason: `sensor ${sensor.id} is over ${ctx.limits.rateLimit} events/s (collector.ingest.rate-limit)`, retryAfter: wait };

  const parsed = parseBatch(ctx.validators, raw, sensor.id);
  if ('status' in parsed) return parsed;

  const result = await ctx.store.ingest(sensor.id, parsed.events, now, lostThrough);
  // The batch is stored: a failure to note the sensor's health must not turn into a 5xx that
  // makes the sensor resend it for ever.
  try {
    await ctx.store.touchSensor(sensor.id, now, parsed.health ?? undefined);
  } catch (err) {
    process.stderr.write(`collector: sensor ${sensor.id}: health not noted: ${(err as Error).message}\n`);
  }
  return { acked: result.acked, stored: result.stored, duplicates: result.duplicates };
}

function parseLostThrough(v: string | string[] | undefined): number | undefined | string {
  if (v === undefined) return undefined;
  const n = typeof v === 'string' && /^\d{1,16}$/.test(v.trim()) ? Number(v.trim()) : NaN;
  return Number.isSafeInteger(n) ? n : `${HEADER.lostThrough} must be a whole number ≥ 0`;
}

const NL = 0x0a;

/** Non-blank lines, counting no further than one past `cap` (a body of newlines must not cost more than a refusal). */
function countLines(body: Buffer, cap: number): number {
  let n = 0;
  for (let start = 0; start < body.length && n <= cap; ) {
    let end = body.indexOf(NL, start);
    if (end < 0) end = body.length;
    if (!isBlank(body, start, end)) n++;
    start = end + 1;
  }
  return n;
}

/** Only spaces, tabs and CRs between start and end. */
function isBlank(body: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = body[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

/** A sensor's own health, from the batch's latest sensor_stats record. */
interface Health {
  version: string | null;
  stats: Record<string, unknown>;
}

/**
 * EVE records nest a few levels (alert.metadata.cve[]): 32 is far beyond any, and keeps every
 * later walk of a stored record (serialising, PostgreSQL's jsonb) far from its stack limits.
 */
const MAX_DEPTH = 32;

/** Whether a parsed value nests deeper than `limit` objects or arrays. */
function tooDeep(v: unknown, limit: number): boolean {
  if (typeof v !== 'object' || v === null) return false;
  if (limit === 0) return true;
  for (const x of Array.isArray(v) ? v : Object.values(v)) if (typeof x === 'object' && x !== null && tooDeep(x, limit - 1)) return true;
  return false;
}

/** Parses and checks every line; the first problem refuses the whole batch, naming its line. */
function parseBatch(validators: RecordValidators, body: Buffer, sensorId: string): { events: IngestEvent[]; health: Health | null } | Refusal {
  const events: IngestEvent[] = [];
  let health: Health | null = null;
  let healthSeq = 0;
  const idJson = JSON.stringify(sensorId);
  let lineNo = 0;
  for (let start = 0; start < body.length; ) {
    let end = body.indexOf(NL, start);
    if (end < 0) end = body.length;
    lineNo++;
    const blank = isBlank(body, start, end);
    // A newline never falls inside a UTF-8 sequence, so each line decodes whole.
    const line = blank ? '' : body.toString('utf8', start, body[end - 1] === 0x0d ? end - 1 : end);
    start = end + 1;
    if (blank) continue;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch (err) {
      return { status: 400, error: 'malformed', reason: `line ${lineNo}: not JSON (${(err as Error).message})` };
    }
    if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) return { status: 400, error: 'malformed', reason: `line ${lineNo}: not a JSON object` };
    if (tooDeep(rec, MAX_DEPTH)) return { status: 422, error: 'invalid', reason: `line ${lineNo}: nested deeper than ${MAX_DEPTH} levels (no EVE record is)` };
    const r = rec as Record<string, unknown>;
    const type = r.event_type;
    if (typeof type !== 'string') return { status: 422, error: 'invalid', reason: `line ${lineNo}: event_type: is required (a string)` };
    const claimed = Object.hasOwn(r, 'sensor_id');
    if (claimed && r.sensor_id !== sensorId) {
      return { status: 403, error: 'wrong_sensor', reason: `line ${lineNo}: sensor_id ${JSON.stringify(r.sensor_id)} is not the signing sensor ${sensorId}: a sensor writes only as itself` };
    }
    const problem = validators.check(type, r);
    if (problem === 'unknown') return { status: 422, error: 'invalid', reason: `line ${lineNo}: unknown event_type ${JSON.stringify(type).slice(0, 80)}` };
    if (problem !== null) return { status: 422, error: 'invalid', reason: `line ${lineNo} (${type}): ${problem}` };
    const seq = r.seq;
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return { status: 422, error: 'invalid', reason: `line ${lineNo}: seq: must be a whole number ≥ 1 (the sensor's sequence number)` };
    const ts = eveTimeMs(r.timestamp as string);
    if (ts === null) return { status: 422, error: 'invalid', reason: `line ${lineNo}: timestamp: ${JSON.stringify(r.timestamp).slice(0, 60)} is not an EVE time (2004-04-21T10:00:00.123456+0000)` };
    const srcPort = port(r.src_port);
    const destPort = port(r.dest_port);
    if (srcPort === false || destPort === false) return { status: 422, error: 'invalid', reason: `line ${lineNo}: ${srcPort === false ? 'src_port' : 'dest_port'}: must be a whole number 0 to 65535` };
    let sid: number | null = null;
    let signature: string | null = null;
    if (type === 'alert') {
      const alert = r.alert as { signature_id: number; signature: string };
      if (!Number.isSafeInteger(alert.signature_id)) return { status: 422, error: 'invalid', reason: `line ${lineNo}: alert.signature_id: must be a whole number` };
      sid = alert.signature_id;
      signature = alert.signature;
    } else if (type === 'sensor_stats' && seq > healthSeq) {
      const stats = r.sensor_stats as Record<string, unknown>;
      health = { version: typeof stats.version === 'string' ? stats.version : null, stats };
      healthSeq = seq;
    }
    events.push({
      seq,
      ts,
      json: claimed ? withOwnId(line, r) : `{"sensor_id":${idJson},${line.slice(line.indexOf('{') + 1)}`,
      event_type: type,
      src_ip: typeof r.src_ip === 'string' ? r.src_ip : null,
      dest_ip: typeof r.dest_ip === 'string' ? r.dest_ip : null,
      src_port: srcPort,
      dest_port: destPort,
      proto: typeof r.proto === 'string' ? r.proto : null,
      sid,
      signature,
    });
  }
  return { events, health };
}

/*
 * The stored JSON must name the signing sensor, and only it. Splicing text instead of
 * re-serialising saves a JSON.stringify per event, and is safe in exactly these cases:
 * - No `sensor_id` key at all (JSON.parse would have made it an own property, however spelled):
 *   `{"sensor_id":ID,` + the rest of the object after its `{` is the same object with one key
 *   added (the object is not empty: it has event_type).
 * - The line has no backslash (so every key is spelled literally), and `"sensor_id"` appears in
 *   it exactly once: that occurrence is the key JSON.parse read (its value is the signer's id),
 *   so there is no second, differently valued duplicate for a first-wins JSON reader to see.
 * Otherwise the parsed record (one key per name, last wins) is serialised.
 */
function withOwnId(line: string, rec: Record<string, unknown>): string {
  const first = line.indexOf('"sensor_id"');
  if (line.indexOf('\\') < 0 && first >= 0 && line.indexOf('"sensor_id"', first + 1) < 0) return line.trim();
  return JSON.stringify(rec);
}

/** A port field: null when absent, false when not a port. */
function port(v: unknown): number | null | false {
  if (v === undefined) return null;
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535 ? v : false;
}

const EVE_TIME = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?:([+-])(\d\d):?(\d\d)|Z)$/;

/** Milliseconds since the epoch of an EVE timestamp (Suricata's `+0000` offsets, or Z), or null. */
export function eveTimeMs(s: string): number | null {
  const m = EVE_TIME.exec(s);
  if (m === null) return null;
  const year = Number(m[1]);
  // Packet time starts at 1970 (pcap's epoch); Date.UTC would also read years below 100 as 19xx.
  if (year < 1970) return null;
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1 || day > 31 || Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 60) return null;
  const base = Date.UTC(year, month - 1, day, Number(m[4]), Number(m[5]), Number(m[6]));
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  const offset = m[8] === undefined ? 0 : (Number(m[9]) * 60 + Number(m[10])) * 60_000 * (m[8] === '-' ? -1 : 1);
  return base + ms - offset;
}

/**
 * Per-sensor token buckets: `rate` events a second, holding two seconds' worth so a sensor
 * catching up after an outage is smoothed, not stalled. A batch larger than the bucket passes
 * when the bucket is full and leaves it in debt, so no batch size is refused forever.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(private readonly rate: number) {}

  /** Takes `n` events' worth for the sensor: 0 when allowed, else seconds to wait. */
  take(id: string, n: number, now: number): number {
    if (this.rate <= 0 || n === 0) return 0;
    const capacity = 2 * this.rate;
    let b = this.buckets.get(id);
    if (b === undefined) this.buckets.set(id, (b = { tokens: capacity, at: now }));
    b.tokens = Math.min(capacity, b.tokens + ((now - b.at) / 1000) * this.rate);
    b.at = now;
    const need = Math.min(n, capacity);
    if (b.tokens < need) return Math.max(1, Math.ceil((need - b.tokens) / this.rate));
    b.tokens -= n;
    return 0;
  }
}
