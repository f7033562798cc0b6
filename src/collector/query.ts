import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiError } from '../api/contract.js';
import type { CollectorMetrics } from './metrics.js';
import type { EventQuery, Grain, RollupRow, SensorRow, Store } from './store/store.js';

/**
 * The query API (JSON): event search, ISC-style top lists and port history, sensors, verdicts.
 *
 * Who may ask: accounts come with the dashboard (a later issue). Until then these routes (and
 * /metrics) answer loopback clients only (127.0.0.0/8, ::1) and refuse others with 403: the
 * collector's HTTPS port faces sensors, and sensors must not read each other's events.
 */

/** Query route paths (OpenAPI lists them from here). */
export const QUERY_ROUTES = {
  events: '/api/v1/events',
  topPorts: '/api/v1/top/ports',
  topSources: '/api/v1/top/sources',
  topSignatures: '/api/v1/top/signatures',
  portHistory: '/api/v1/ports/:port/history',
  sensors: '/api/v1/sensors',
  verdicts: '/api/v1/verdicts',
} as const;

const DAY_MS = 86_400_000;
/** Top lists default to ISC's ten and stop at a thousand: a longer list is a search, not a top list. */
const TOP_DEFAULT = 10;
const TOP_MAX = 1000;
/** A history spans at most this many buckets, zero-filled: a year of days, or a day of minutes and some. */
const HISTORY_MAX_BUCKETS = 1500;
const GRAIN_MS: Record<Grain, number> = { minute: 60_000, hour: 3_600_000, day: DAY_MS };
/** Without `from`: ISC's month of days, a week of hours, a day of minutes. */
const HISTORY_DEFAULT: Record<Grain, number> = { minute: DAY_MS, hour: 7 * DAY_MS, day: 30 * DAY_MS };

/** Whether a socket address is loopback (IPv4, IPv6, or IPv4-mapped). */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

/** A bad query parameter: 400 with the reason. */
class BadParam extends Error {}

type Query = Record<string, unknown>;

/** Registers the query routes. */
export function registerQueries(app: FastifyInstance, ctx: { store: Store; metrics: CollectorMetrics }): void {
  const { store, metrics } = ctx;
  const route = (path: string, handler: (q: Query, params: Record<string, string>) => Promise<unknown>): void => {
    app.get(path, { onRequest: loopbackOnly(metrics, path) }, async (request: FastifyRequest, reply: FastifyReply) => {
      try {
        const body = await handler((request.query ?? {}) as Query, (request.params ?? {}) as Record<string, string>);
        if (typeof body === 'string') return reply.type('application/json; charset=utf-8').send(body);
        return reply.send(body);
      } catch (err) {
        if (!(err instanceof BadParam)) throw err;
        metrics.refuse(path, 'bad_request');
        const e: ApiError = { error: 'bad_request', reason: err.message };
        return reply.code(400).send(e);
      }
    });
  };

  route(QUERY_ROUTES.events, async (q) => {
    const query: EventQuery = {};
    const from = time(q, 'from');
    const to = time(q, 'to');
    if (from !== undefined) query.from = from;
    if (to !== undefined) query.to = to;
    const type = text(q, 'type', /^[a-z0-9_]{1,64}$/, 'an event_type');
    if (type !== undefined) query.event_type = type;
    const sensor = text(q, 'sensor', /^[A-Za-z0-9_-]{1,64}$/, 'a sensor id');
    if (sensor !== undefined) query.sensor_id = sensor;
    const ip = text(q, 'ip', /^[0-9A-Fa-f.:]{2,45}$/, 'an IPv4 or IPv6 address');
    if (ip !== undefined) query.ip = ip;
    const port = int(q, 'port', 0, 65535);
    if (port !== undefined) query.port = port;
    const sid = int(q, 'sid', 0, Number.MAX_SAFE_INTEGER);
    if (sid !== undefined) query.sid = sid;
    const search = text(q, 'q', /^[\s\S]{1,200}$/, 'text of 1 to 200 characters');
    if (search !== undefined) query.text = search;
    const limit = int(q, 'limit', 1, 1000);
    if (limit !== undefined) query.limit = limit;
    const cursor = text(q, 'cursor', /^[A-Za-z0-9_=-]{1,512}$/, 'the `next` of a previous page');
    if (cursor !== undefined) query.cursor = cursor;
    let page;
    try {
      page = await store.searchEvents(query);
    } catch (err) {
      // The store refuses a cursor it did not make; that is the client's mistake, not the server's.
      if (cursor !== undefined) throw new BadParam(`cursor: ${(err as Error).message}`);
      throw err;
    }
    // The stored JSON is the record: join it as is rather than parse and re-serialise every event.
    return `{"events":[${page.events.map((e) => e.json).join(',')}],"next":${JSON.stringify(page.next)}}`;
  });

  route(QUERY_ROUTES.topPorts, async (q) => {
    const { from, limit } = day(q);
    const rows = await store.top('port', 'day', from, from + DAY_MS, limit);
    return rows.map((r, i) => ({ rank: i + 1, targetport: Number(r.key), records: r.records, targets: r.targets, sources: r.sources }));
  });

  route(QUERY_ROUTES.topSources, async (q) => {
    const { from, limit } = day(q);
    const rows = await store.top('source', 'day', from, from + DAY_MS, limit);
    return rows.map((r, i) => ({ rank: i + 1, source: r.key, reports: r.records, targets: r.targets }));
  });

  route(QUERY_ROUTES.topSignatures, async (q) => {
    const { from, limit } = day(q);
    const rows = await store.top('signature', 'day', from, from + DAY_MS, limit);
    // Rollups keep the sid; its text comes from one stored alert (an indexed lookup per row).
    const named = await Promise.all(
      rows.map(async (r) => {
        const sid = Number(r.key);
        const page = await store.searchEvents({ sid, event_type: 'alert', from, to: from + DAY_MS, limit: 1 });
        return { sid, signature: page.events[0]?.signature ?? null, records: r.records, sources: r.sources, targets: r.targets };
      }),
    );
    return named.map((r, i) => ({ rank: i + 1, ...r }));
  });

  route(QUERY_ROUTES.portHistory, async (q, params) => {
    const port = Number(params.port);
    if (!/^\d{1,5}$/.test(params.port ?? '') || port > 65535) throw new BadParam(`port: "${params.port}" is not a port 0 to 65535`);
    const grain = (text(q, 'grain', /^(minute|hour|day)$/, 'minute, hour or day') ?? 'day') as Grain;
    const step = GRAIN_MS[grain];
    const now = Date.now();
    const to = alignUp(time(q, 'to') ?? now, step);
    const from = Math.floor((time(q, 'from') ?? to - HISTORY_DEFAULT[grain]) / step) * step;
    if (from >= to) throw new BadParam('from must be before to');
    if ((to - from) / step > HISTORY_MAX_BUCKETS) throw new BadParam(`the range holds more than ${HISTORY_MAX_BUCKETS} ${grain}s: narrow it or use a coarser grain`);
    const rows = await store.history('port', String(port), grain, from, to);
    const byBucket = new Map<number, RollupRow>(rows.map((r) => [r.bucket, r]));
    const out = [];
    for (let b = from; b < to; b += step) {
      const r = byBucket.get(b);
      out.push({ date: grain === 'day' ? isoDay(b) : new Date(b).toISOString(), records: r?.records ?? 0, targets: r?.targets ?? 0, sources: r?.sources ?? 0 });
    }
    return out;
  });

  route(QUERY_ROUTES.sensors, async () => (await store.listSensors()).map(sensorView));

  route(QUERY_ROUTES.verdicts, async (q) => {
    const host = text(q, 'host', /^[0-9A-Fa-f.:]{2,45}$/, 'an IPv4 or IPv6 address');
    return store.verdicts(int(q, 'limit', 1, 1000) ?? 100, host);
  });
}

/** Refuses non-loopback clients with 403 (see the file comment). */
export function loopbackOnly(metrics: CollectorMetrics, route: string) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (isLoopback(request.socket.remoteAddress)) return;
    metrics.refuse(route, 'forbidden');
    const e: ApiError = { error: 'forbidden', reason: 'the query API answers loopback clients only until the dashboard issue adds accounts' };
    await reply.code(403).send(e);
  };
}

/** A sensor as GET /api/v1/sensors shows it: times as ISO text, health figures from its latest sensor_stats. */
function sensorView(s: SensorRow): Record<string, unknown> {
  const stat = (k: string): number | null => {
    const v = s.stats?.[k];
    return typeof v === 'number' ? v : null;
  };
  const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());
  const capture = stat('capture_drops');
  const internal = stat('internal_drops');
  return {
    id: s.id,
    name: s.name,
    enrolled: iso(s.enrolled),
    revoked: iso(s.revoked),
    last_seen: iso(s.last_seen),
    acked: s.acked,
    version: s.version,
    pps: stat('pps'),
    drops: capture === null && internal === null ? null : (capture ?? 0) + (internal ?? 0),
    spool_depth: stat('spool_depth'),
    spool_dropped: stat('spool_dropped'),
    uptime: stat('uptime'),
  };
}

function single(q: Query, name: string): string | undefined {
  const v = q[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw new BadParam(`${name}: give it once`);
  return v;
}

function text(q: Query, name: string, shape: RegExp, what: string): string | undefined {
  const v = single(q, name);
  if (v !== undefined && !shape.test(v)) throw new BadParam(`${name}: "${v.slice(0, 80)}" is not ${what}`);
  return v;
}

function int(q: Query, name: string, min: number, max: number): number | undefined {
  const v = single(q, name);
  if (v === undefined) return undefined;
  const n = /^\d{1,16}$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new BadParam(`${name}: "${v.slice(0, 80)}" is not a whole number ${min} to ${max}`);
  return n;
}

/** A time: milliseconds since the epoch, or ISO 8601 (a date alone is its UTC midnight). */
function time(q: Query, name: string): number | undefined {
  const v = single(q, name);
  if (v === undefined) return undefined;
  if (/^\d{1,15}$/.test(v)) return Number(v);
  const t = /^\d{4}-\d\d-\d\d(T[\d:.]+(Z|[+-]\d\d:?\d\d)?)?$/.test(v) ? Date.parse(/T[\d:.]+$/.test(v) ? `${v}Z` : v) : NaN;
  if (Number.isNaN(t)) throw new BadParam(`${name}: "${v.slice(0, 80)}" is not a time (ISO 8601 or milliseconds since 1970)`);
  return t;
}

/** `date=YYYY-MM-DD` (default: today, UTC) and `limit`. */
function day(q: Query): { from: number; limit: number } {
  const d = text(q, 'date', /^\d{4}-\d\d-\d\d$/, 'a date YYYY-MM-DD');
  const from = d === undefined ? Math.floor(Date.now() / DAY_MS) * DAY_MS : Date.parse(`${d}T00:00:00Z`);
  if (Number.isNaN(from) || (d !== undefined && isoDay(from) !== d)) throw new BadParam(`date: "${d}" is not a calendar date`);
  return { from, limit: int(q, 'limit', 1, TOP_MAX) ?? TOP_DEFAULT };
}

function alignUp(t: number, step: number): number {
  return Math.ceil(t / step) * step;
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
