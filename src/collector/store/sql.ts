import { HOUSEKEEPING_TYPES } from './buckets.js';
import type { EventQuery, StoredEvent } from './store.js';

/**
 * SQL both engines share: the rollup recount, event search with keyset pagination, and row
 * mapping. Statements are written with `?` placeholders in the order of their parameters;
 * PostgreSQL's engine numbers them with `numbered()`.
 */

/** SQL dialect differences that matter here. */
export type Dialect = 'sqlite' | 'postgres';

/** Rewrites `?` placeholders as `$1, $2, ...` (PostgreSQL). Our statements hold no `?` in literals. */
export function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** The columns of `events`, in the order ingest binds them. */
export const EVENT_COLUMNS = ['sensor_id', 'seq', 'ts', 'received', 'event_type', 'src_ip', 'dest_ip', 'src_port', 'dest_port', 'proto', 'sid', 'signature', 'json'] as const;

const housekeeping = HOUSEKEEPING_TYPES.map((t) => `'${t}'`).join(', ');

/**
 * Recounts one bucket from the raw events: its rollup rows (grain, bucket, dim, key, records,
 * sources, targets), every dimension at once. Parameters: start, end (ms, [start, end)), grain,
 * bucket. The engines insert the result (PostgreSQL straight into rollups, SQLite's recount
 * worker into a temporary table first). An event with no key for a dimension is not counted in
 * it. For the source dimension, sources is 1 by definition (the key is the source). PostgreSQL
 * reads the bucket once (a materialised CTE, one heap pass); SQLite reads its covering time
 * index four times, which is cheaper than writing the rows to a temporary table.
 */
export function recountSelect(dialect: Dialect): string {
  return `
WITH b AS ${dialect === 'postgres' ? 'MATERIALIZED' : 'NOT MATERIALIZED'} (
  SELECT sensor_id, event_type, src_ip, dest_ip, dest_port, sid FROM events WHERE ts >= ? AND ts < ?
)
SELECT CAST(? AS TEXT) AS grain, CAST(? AS BIGINT) AS bucket, dim, key, records, sources, targets FROM (
  SELECT 'port' AS dim, CAST(dest_port AS TEXT) AS key, COUNT(*) AS records, COUNT(DISTINCT src_ip) AS sources, COUNT(DISTINCT dest_ip) AS targets
    FROM b WHERE dest_port IS NOT NULL GROUP BY dest_port
  UNION ALL
  SELECT 'signature', CAST(sid AS TEXT), COUNT(*), COUNT(DISTINCT src_ip), COUNT(DISTINCT dest_ip)
    FROM b WHERE event_type = 'alert' AND sid IS NOT NULL GROUP BY sid
  UNION ALL
  SELECT 'source', src_ip, COUNT(*), 1, COUNT(DISTINCT dest_ip)
    FROM b WHERE src_ip IS NOT NULL GROUP BY src_ip
  UNION ALL
  SELECT 'sensor', sensor_id, COUNT(*), COUNT(DISTINCT src_ip), COUNT(DISTINCT dest_ip)
    FROM b WHERE event_type NOT IN (${housekeeping}) GROUP BY sensor_id
) r`;
}

/** A search's bad input (a cursor that is not one of ours): the caller's mistake, a 400. */
export class QueryError extends Error {}

/** Page size when none is asked for. */
export const DEFAULT_LIMIT = 100;
/** Largest page: bounds one reply's memory and time (1,000 EVE records are about 1 MB of JSON). */
export const MAX_LIMIT = 1000;

/** The page size to use for a requested limit. */
export function pageLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_LIMIT;
  return Math.min(MAX_LIMIT, Math.max(1, Math.floor(limit)));
}

/** Where a page ended: the last event's sort key (ts, sensor_id, seq). */
export interface CursorKey {
  ts: number;
  sensor: string;
  seq: number;
}

/** An opaque cursor: base64url of a JSON array. */
export function encodeCursor(k: CursorKey): string {
  return Buffer.from(JSON.stringify([k.ts, k.sensor, k.seq])).toString('base64url');
}

/** Reads a cursor; throws QueryError when it is not one `encodeCursor` made. */
export function decodeCursor(cursor: string): CursorKey {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new QueryError('cursor is not one this collector gave out');
  }
  if (!Array.isArray(v) || v.length !== 3) throw new QueryError('cursor is not one this collector gave out');
  const [ts, sensor, seq] = v as unknown[];
  if (!Number.isSafeInteger(ts) || typeof sensor !== 'string' || !Number.isSafeInteger(seq)) throw new QueryError('cursor is not one this collector gave out');
  return { ts: ts as number, sensor, seq: seq as number };
}

/** A search statement: SQL with `?` placeholders, its parameters, and the page size (the SQL fetches one more, to know whether a next page exists). */
export interface SearchStatement {
  sql: string;
  params: (string | number)[];
  limit: number;
}

/** `%` and `_` match literally in a LIKE pattern with ESCAPE '\'. */
function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * The search for a query, newest first on (ts, sensor_id, seq), after the cursor if one is
 * given. Every filter is a bound parameter.
 */
export function searchStatement(q: EventQuery, dialect: Dialect): SearchStatement {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (q.from !== undefined) {
    where.push('ts >= ?');
    params.push(q.from);
  }
  if (q.to !== undefined) {
    where.push('ts < ?');
    params.push(q.to);
  }
  if (q.event_type !== undefined) {
    where.push('event_type = ?');
    params.push(q.event_type);
  }
  if (q.sensor_id !== undefined) {
    // SQLite would otherwise walk the identity index and sort all of the sensor's events; `+`
    // keeps it on events_time, in order, checking the sensor inside the index.
    where.push(dialect === 'sqlite' ? '+sensor_id = ?' : 'sensor_id = ?');
    params.push(q.sensor_id);
  }
  if (q.ip !== undefined) {
    where.push('(src_ip = ? OR dest_ip = ?)');
    params.push(q.ip, q.ip);
  }
  if (q.port !== undefined) {
    where.push('(dest_port = ? OR src_port = ?)');
    params.push(q.port, q.port);
  }
  if (q.sid !== undefined) {
    where.push('sid = ?');
    params.push(q.sid);
  }
  if (q.text !== undefined && q.text !== '') {
    // SQLite's LIKE ignores ASCII case; PostgreSQL's ILIKE ignores case for all of Unicode.
    where.push(dialect === 'postgres' ? `json ILIKE ? ESCAPE '\\'` : `json LIKE ? ESCAPE '\\'`);
    params.push(likePattern(q.text));
  }
  if (q.cursor !== undefined) {
    const c = decodeCursor(q.cursor);
    where.push('(ts, sensor_id, seq) < (?, ?, ?)');
    params.push(c.ts, c.sensor, c.seq);
  }
  const limit = pageLimit(q.limit);
  const sql =
    `SELECT ${EVENT_COLUMNS.join(', ')} FROM events` +
    (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY ts DESC, sensor_id DESC, seq DESC LIMIT ${limit + 1}`;
  return { sql, params, limit };
}

/** An events row as either driver returns it (PostgreSQL's int8 parsed to number by the pool). */
export interface EventRow {
  sensor_id: string;
  seq: number;
  ts: number;
  received: number;
  event_type: string;
  src_ip: string | null;
  dest_ip: string | null;
  src_port: number | null;
  dest_port: number | null;
  proto: string | null;
  sid: number | null;
  signature: string | null;
  json: string;
}

/** A stored event from its row. */
export function toStoredEvent(r: EventRow): StoredEvent {
  return {
    sensor_id: r.sensor_id,
    seq: r.seq,
    ts: r.ts,
    received: r.received,
    json: r.json,
    event_type: r.event_type,
    src_ip: r.src_ip,
    dest_ip: r.dest_ip,
    src_port: r.src_port,
    dest_port: r.dest_port,
    proto: r.proto,
    sid: r.sid,
    signature: r.signature,
  };
}

/** A page from the rows fetched (limit + 1 of them at most). */
export function toPage(rows: EventRow[], limit: number): { events: StoredEvent[]; next: string | null } {
  const events = rows.slice(0, limit).map(toStoredEvent);
  const last = events[events.length - 1];
  const next = rows.length > limit && last !== undefined ? encodeCursor({ ts: last.ts, sensor: last.sensor_id, seq: last.seq }) : null;
  return { events, next };
}

/** The rollup columns top() and history() return. */
const ROLLUP_COLUMNS = 'grain, bucket, dim, key, records, sources, targets';

/** top() over one bucket: its rows ranked by records (index rollups_rank). Parameters: grain, dim, bucket, limit. */
export const TOP_ONE_SQL = `SELECT ${ROLLUP_COLUMNS} FROM rollups WHERE grain = ? AND dim = ? AND bucket = ? ORDER BY records DESC, key LIMIT ?`;

/**
 * top() over several buckets: records summed, sources and targets the largest of one bucket
 * (distinct counts do not add up; NOTES.md). Parameters: grain, dim, from, to, limit.
 */
export const TOP_RANGE_SQL = `SELECT key, CAST(SUM(records) AS BIGINT) AS records, MAX(sources) AS sources, MAX(targets) AS targets FROM rollups
  WHERE grain = ? AND dim = ? AND bucket >= ? AND bucket < ? GROUP BY key ORDER BY records DESC, key LIMIT ?`;

/** Buckets looked up per history() statement. */
export const HISTORY_CHUNK = 500;

/**
 * history(): one key's rows, oldest first, for the bucket starts listed (at most HISTORY_CHUNK).
 * The primary key is (grain, dim, bucket, key), so each bucket is one index seek: the rows of a
 * bucket are written together (cheap recounts), and a key's history costs a seek per bucket.
 * Parameters: grain, dim, key, then the buckets (SQLite: one each; PostgreSQL: one array).
 */
export function historySql(dialect: Dialect, buckets: number): string {
  const list = dialect === 'postgres' ? '= ANY(?::bigint[])' : `IN (${new Array<string>(buckets).fill('?').join(', ')})`;
  return `SELECT ${ROLLUP_COLUMNS} FROM rollups WHERE grain = ? AND dim = ? AND key = ? AND bucket ${list} ORDER BY bucket`;
}

/**
 * Most buckets one history() reads: 100,000 is 69 days of minutes (minutes are kept 2 days by
 * default) or 11 years of hours, and bounds the seeks and the memory of one answer.
 */
export const MAX_HISTORY_BUCKETS = 100_000;

/** Where a grain and dimension have rows at all (null: none), so history() seeks only there: two index seeks. Parameters: grain, dim, grain, dim. */
export const EXTENT_SQL = `SELECT (SELECT MIN(bucket) FROM rollups WHERE grain = ? AND dim = ?) AS lo,
  (SELECT MAX(bucket) FROM rollups WHERE grain = ? AND dim = ?) AS hi`;

/**
 * The bucket starts of a grain in [from, to), within the extent that holds rows, in chunks of
 * HISTORY_CHUNK. Throws RangeError past MAX_HISTORY_BUCKETS.
 */
export function bucketChunks(size: number, from: number, to: number, extent: { lo: number | null; hi: number | null }): number[][] {
  if (extent.lo === null || extent.hi === null) return [];
  from = Math.max(from, extent.lo);
  to = Math.min(to, extent.hi + size);
  const n = Math.ceil((to - Math.ceil(from / size) * size) / size);
  if (n > MAX_HISTORY_BUCKETS) throw new RangeError(`history over ${n} buckets of ${size / 60_000} minutes: at most ${MAX_HISTORY_BUCKETS}; ask for a shorter range or a coarser grain`);
  const out: number[][] = [];
  let chunk: number[] = [];
  for (let b = Math.ceil(from / size) * size; b < to; b += size) {
    chunk.push(b);
    if (chunk.length === HISTORY_CHUNK) {
      out.push(chunk);
      chunk = [];
    }
  }
  if (chunk.length > 0) out.push(chunk);
  return out;
}

/** counts(): events stored minus deleted (kept as counters, so /metrics never counts millions of rows), sensors, revoked. */
export const COUNTS_SQL = `SELECT CAST(COALESCE(SUM(stored), 0) AS BIGINT) - (SELECT value FROM store_state WHERE name = 'events_deleted') AS events,
  COUNT(*) AS sensors, COUNT(revoked) AS revoked FROM sensors`;

/**
 * verdicts(): the hosts with the newest verdicts, and each host's newest VERDICTS_PER_HOST
 * records. Parameters: [host,] limit. The host is read from the record's JSON (verdicts are few).
 */
export function verdictsSql(dialect: Dialect, filtered: boolean, perHost: number): string {
  const host = dialect === 'postgres' ? `(json::jsonb) -> 'verdict' ->> 'host'` : `json_extract(json, '$.verdict.host')`;
  const valid = dialect === 'postgres' ? '' : ' AND json_valid(json)';
  return `
    WITH v AS (
      SELECT ${host} AS host, ts, sensor_id, seq, json FROM events WHERE event_type = 'verdict'${valid}),
    h AS (
      SELECT host, MAX(ts) AS last FROM v WHERE host IS NOT NULL ${filtered ? 'AND host = ?' : ''}
      GROUP BY host ORDER BY last DESC, host LIMIT ?),
    r AS (
      SELECT v.host, h.last, v.ts, v.sensor_id, v.seq, v.json,
             ROW_NUMBER() OVER (PARTITION BY v.host ORDER BY v.ts DESC, v.sensor_id DESC, v.seq DESC) AS n
      FROM v JOIN h ON h.host = v.host)
    SELECT host, json FROM r WHERE n <= ${perHost} ORDER BY last DESC, host, ts DESC, sensor_id DESC, seq DESC`;
}
