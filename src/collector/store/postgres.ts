import pg from 'pg';
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { DIMENSIONS, GRAINS, GRAIN_MS, bucketOf, bucketsTouched, checkGrainDim, dueBounds, type BucketMark } from './buckets.js';
import { checkBatch, groupVerdicts, toSensor, type SensorDbRow, rangeBuckets, retentionCutoff, VERDICTS_PER_HOST, verdictLimit, type VerdictRow } from './common.js';
import { MAINTENANCE_LOCK, migratePostgres } from './migrations.js';
import { COUNTS_SQL, EXTENT_SQL, TOP_ONE_SQL, bucketChunks, historySql, TOP_RANGE_SQL, numbered, recountSelect, searchStatement, toPage, verdictsSql, type EventRow } from './sql.js';
import type { Dimension, EventPage, EventQuery, Grain, HostVerdicts, IngestEvent, IngestResult, RollupRow, SensorRow, Store, TokenRow } from './store.js';

/**
 * The PostgreSQL engine: any number of collectors on one database. Exactness under
 * concurrency rests on three things (NOTES.md): (sensor_id, seq) is the primary key, the
 * acknowledgement is advanced under the sensor row's lock with a fresh snapshot, and rollup
 * marks are only ever inserted by ingest, claimed with SKIP LOCKED and recounted under a
 * per-bucket advisory lock.
 */

/** Connections per collector: ingest, rollup, retention and queries at once, with room to spare; two collectors stay far below max_connections (100). */
const POOL_SIZE = 8;
/** Rows deleted per retention transaction. */
const DELETE_CHUNK = 10_000;
/** Marks claimed per rollup transaction: bounds how long one transaction holds its buckets. */
const CLAIM_LIMIT = 500;
/** Transactions retried after a deadlock or serialization failure (PostgreSQL picks a victim; running it again succeeds). */
const RETRIES = 3;
/** Nonce forgetting runs at most this often (ms of the caller's clock). */
const NONCE_PURGE_EVERY_MS = 60_000;
/** Sort memory for a recount: a day bucket's COUNT(DISTINCT) sorts stay in memory. */
const RECOUNT_WORK_MEM = '64MB';

/** int8 (oid 20) as a JS number: every bigint here is a ms time, a seq or a count, all below 2^53. */
const INT8_OID = 20;
function parseInt8(v: string): number {
  return Number(v);
}
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser,
};

/** PostgreSQL text cannot hold NUL; JSON text has it escaped, but a record's other strings may not. */
function noNul(v: string | null): string | null {
  return v !== null && v.includes('\0') ? v.replaceAll('\0', '') : v;
}

/** Deadlock detected, serialization failure: PostgreSQL aborted this transaction in favour of another; running it again succeeds. */
function isRetryable(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return code === '40P01' || code === '40001';
}

/** A postgres:// URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

/**
 * One statement per batch: columns as arrays, unnested. The JSON texts, the bulk of the bytes,
 * travel as one text joined by U+001E (record separator) and are split by string_to_array,
 * which is much cheaper for the server than parsing a text[] literal with every quote in the
 * JSON escaped. Valid JSON never holds a raw U+001E (control characters in strings must be
 * escaped); a batch where one does anyway goes as an array.
 */
const insertEvents = (jsonJoined: boolean): string => `
INSERT INTO events (sensor_id, seq, ts, received, event_type, src_ip, dest_ip, src_port, dest_port, proto, sid, signature, json)
SELECT $1, u.seq, u.ts, $2, u.event_type, u.src_ip, u.dest_ip, u.src_port, u.dest_port, u.proto, u.sid, u.signature, u.json
FROM unnest($3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::int[], $9::int[], $10::text[], $11::bigint[], $12::text[],
            ${jsonJoined ? 'string_to_array($13::text, chr(30))' : '$13::text[]'})
  AS u(seq, ts, event_type, src_ip, dest_ip, src_port, dest_port, proto, sid, signature, json)
ON CONFLICT (sensor_id, seq) DO NOTHING
RETURNING ts`;
const INSERT_JOINED = insertEvents(true);
const INSERT_ARRAY = insertEvents(false);
const RS = '\u001e';

/** Claims due marks (SKIP LOCKED: another collector's claims are left to it). Parameters: upTo, then closed/waited bounds for minute, hour, day, then limit. */
const CLAIM = `
DELETE FROM rollup_dirty WHERE id IN (
  SELECT id FROM rollup_dirty WHERE id <= $1 AND (
       (grain = 'minute' AND (bucket <= $2 OR since <= $3))
    OR (grain = 'hour' AND (bucket <= $4 OR since <= $5))
    OR (grain = 'day' AND (bucket <= $6 OR since <= $7)))
  ORDER BY id LIMIT $8 FOR UPDATE SKIP LOCKED)
RETURNING grain, bucket`;

const RECOUNT = `INSERT INTO rollups (grain, bucket, dim, key, records, sources, targets) ${numbered(recountSelect('postgres'))}`;

/** The end of the run of stored seqs from $3 + 1 ($3 itself when $3 + 1 is missing); a new statement, so a fresh snapshot after the row lock. */
const ADVANCE = `
UPDATE sensors SET stored = stored + $2, acked = CASE
  WHEN EXISTS (SELECT 1 FROM events WHERE sensor_id = $1 AND seq = $3::bigint + 1)
  THEN (SELECT e.seq FROM events e WHERE e.sensor_id = $1 AND e.seq > $3::bigint
          AND NOT EXISTS (SELECT 1 FROM events f WHERE f.sensor_id = $1 AND f.seq = e.seq + 1)
        ORDER BY e.seq LIMIT 1)
  ELSE $3::bigint END
WHERE id = $1 RETURNING acked`;

export class PostgresStore implements Store {
  readonly engine = 'postgres' as const;
  readonly pool: Pool;
  private readonly where: string;
  private maintenance: Promise<unknown> = Promise.resolve();
  private lastNoncePurge = -Infinity;
  private closed = false;
  /** The last error an idle connection raised (a restarted server, a dropped database): kept, not thrown, since no caller is waiting on it. */
  lastIdleError: Error | null = null;

  constructor(url: string, poolSize = POOL_SIZE) {
    this.where = redactUrl(url);
    this.pool = new pg.Pool({ connectionString: url, max: poolSize, types });
    this.pool.on('error', (err) => {
      this.lastIdleError = err;
    });
  }

  private async q<R extends QueryResultRow>(text: string, values: unknown[], name?: string): Promise<R[]> {
    const r = await this.pool.query<R>(name === undefined ? { text, values } : { name, text, values });
    return r.rows;
  }

  /** Runs `fn` in a transaction, again after a deadlock (up to RETRIES times). */
  private async tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const c = await this.pool.connect();
      let broken: Error | undefined;
      try {
        await c.query('BEGIN');
        const out = await fn(c);
        await c.query('COMMIT');
        return out;
      } catch (err) {
        await c.query('ROLLBACK').catch((e: unknown) => {
          broken = e instanceof Error ? e : new Error(String(e));
        });
        if (attempt < RETRIES && isRetryable(err)) continue;
        throw err;
      } finally {
        c.release(broken);
      }
    }
  }

  /** Runs `fn` after any rollup or retention this process has in progress. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.maintenance.then(fn, fn);
    this.maintenance = run.catch(() => undefined);
    return run;
  }

  migrate(): Promise<number> {
    return migratePostgres(this.pool, this.where);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  async addToken(t: TokenRow): Promise<void> {
    await this.q('INSERT INTO tokens (hash, created, expires, uses) VALUES ($1, $2, $3, $4)', [t.hash, t.created, t.expires, t.uses]);
  }

  async redeemToken(hash: string, now: number): Promise<boolean> {
    const r = await this.pool.query('UPDATE tokens SET uses = uses - 1 WHERE hash = $1 AND uses > 0 AND (expires IS NULL OR expires > $2)', [hash, now]);
    return r.rowCount === 1;
  }

  async addSensor(x: { id: string; name: string; secret: string; enrolled: number }): Promise<void> {
    await this.q('INSERT INTO sensors (id, name, secret, enrolled) VALUES ($1, $2, $3, $4)', [x.id, noNul(x.name), x.secret, x.enrolled]);
  }

  async getSensor(id: string): Promise<SensorRow | undefined> {
    const [r] = await this.q<SensorDbRow>('SELECT * FROM sensors WHERE id = $1', [id], 'get_sensor');
    return r === undefined ? undefined : toSensor(r);
  }

  async listSensors(): Promise<SensorRow[]> {
    return (await this.q<SensorDbRow>('SELECT * FROM sensors ORDER BY enrolled, id', [])).map(toSensor);
  }

  async revokeSensor(id: string, now: number): Promise<boolean> {
    const r = await this.pool.query('UPDATE sensors SET revoked = COALESCE(revoked, $1) WHERE id = $2', [now, id]);
    return r.rowCount === 1;
  }

  async useNonce(sensorId: string, nonce: string, now: number, forgetBefore: number): Promise<boolean> {
    if (now - this.lastNoncePurge >= NONCE_PURGE_EVERY_MS || now < this.lastNoncePurge) {
      this.lastNoncePurge = now;
      await this.pool.query('DELETE FROM nonces WHERE ts < $1', [forgetBefore]);
    }
    const r = await this.pool.query({
      name: 'use_nonce',
      text: 'INSERT INTO nonces (sensor_id, nonce, ts) VALUES ($1, $2, $3) ON CONFLICT (sensor_id, nonce) DO UPDATE SET ts = EXCLUDED.ts WHERE nonces.ts < $4',
      values: [sensorId, noNul(nonce), now, forgetBefore],
    });
    return r.rowCount === 1;
  }

  async touchSensor(id: string, now: number, health?: { version: string | null; stats: Record<string, unknown> }): Promise<void> {
    if (health === undefined) await this.q('UPDATE sensors SET last_seen = GREATEST(last_seen, $1) WHERE id = $2', [now, id], 'touch');
    else await this.q('UPDATE sensors SET last_seen = GREATEST(last_seen, $1), version = $3, stats = $4 WHERE id = $2', [now, id, noNul(health.version), JSON.stringify(health.stats)], 'touch_health');
  }

  async ingest(sensorId: string, events: readonly IngestEvent[], now: number, lostThrough?: number): Promise<IngestResult> {
    checkBatch(events, lostThrough);
    // In seq order, so that two batches for one sensor take their key locks in the same order (no deadlock).
    let inOrder = true;
    for (let i = 1; i < events.length && inOrder; i++) inOrder = events[i - 1]!.seq <= events[i]!.seq;
    const sorted = inOrder ? events : [...events].sort((a, b) => a.seq - b.seq);
    const n = sorted.length;
    const cols = { seq: new Array<number>(n), ts: new Array<number>(n), type: new Array<string | null>(n), src: new Array<string | null>(n), dest: new Array<string | null>(n), sport: new Array<number | null>(n), dport: new Array<number | null>(n), proto: new Array<string | null>(n), sid: new Array<number | null>(n), sig: new Array<string | null>(n), json: new Array<string>(n) };
    for (let i = 0; i < n; i++) {
      const e = sorted[i]!;
      cols.seq[i] = e.seq;
      cols.ts[i] = e.ts;
      cols.type[i] = noNul(e.event_type);
      cols.src[i] = noNul(e.src_ip);
      cols.dest[i] = noNul(e.dest_ip);
      cols.sport[i] = e.src_port;
      cols.dport[i] = e.dest_port;
      cols.proto[i] = noNul(e.proto);
      cols.sid[i] = e.sid;
      cols.sig[i] = noNul(e.signature);
      cols.json[i] = e.json;
    }
    const joined = !cols.json.some((j) => j.includes(RS));
    const json = joined ? noNul(cols.json.join(RS)) : cols.json.map(noNul);
    return this.tx(async (c) => {
      const times: number[] = [];
      if (n > 0) {
        const ins = await c.query<{ ts: number }>({
          name: joined ? 'ingest_events' : 'ingest_events_array',
          text: joined ? INSERT_JOINED : INSERT_ARRAY,
          values: [sensorId, now, cols.seq, cols.ts, cols.type, cols.src, cols.dest, cols.sport, cols.dport, cols.proto, cols.sid, cols.sig, json],
        });
        for (const r of ins.rows) times.push(r.ts);
      }
      const marks = bucketsTouched(times);
      if (marks.length > 0) {
        await c.query({
          name: 'ingest_marks',
          text: 'INSERT INTO rollup_dirty (grain, bucket, since) SELECT g, b, $3 FROM unnest($1::text[], $2::bigint[]) AS u(g, b)',
          values: [marks.map((m) => m.grain), marks.map((m) => m.bucket), now],
        });
      }
      const lock = await c.query<{ acked: number }>({ name: 'ingest_lock', text: 'SELECT acked FROM sensors WHERE id = $1 FOR UPDATE', values: [sensorId] });
      const sensor = lock.rows[0];
      if (sensor === undefined) throw new Error(`ingest for unknown sensor ${sensorId}`);
      const from = Math.max(sensor.acked, lostThrough ?? 0);
      const adv = await c.query<{ acked: number }>({ name: 'ingest_advance', text: ADVANCE, values: [sensorId, times.length, from] });
      return { stored: times.length, duplicates: n - times.length, acked: adv.rows[0]!.acked };
    });
  }

  rollup(now: number): Promise<number> {
    return this.serial(async () => {
      // Marks made after this point wait for the next pass, so a pass ends under steady ingest.
      const [top] = await this.q<{ m: number | null }>('SELECT MAX(id) AS m FROM rollup_dirty', []);
      const upTo = top?.m ?? 0;
      let done = 0;
      for (;;) {
        const n = await this.tx((c) => this.recountClaimed(c, upTo, now));
        if (n < 0) break;
        done += n;
      }
      return done;
    });
  }

  /**
   * Claims up to CLAIM marks (skipping those another collector holds) and recounts their
   * buckets in this transaction; -1 when none is left. A crash rolls the claim back with it.
   */
  private async recountClaimed(c: PoolClient, upTo: number, now: number): Promise<number> {
    await c.query(`SET LOCAL work_mem = '${RECOUNT_WORK_MEM}'`);
    await c.query('SELECT pg_advisory_xact_lock_shared($1::bigint)', [MAINTENANCE_LOCK]);
    const due = dueBounds(now);
    const claimed = await c.query<BucketMark>({
      name: 'claim',
      text: CLAIM,
      values: [upTo, due.minute.closed, due.minute.waited, due.hour.closed, due.hour.waited, due.day.closed, due.day.waited, CLAIM_LIMIT],
    });
    if (claimed.rows.length === 0) return -1;
    const [state] = (await c.query<{ value: number }>("SELECT value FROM store_state WHERE name = 'pruned_before'")).rows;
    const pruned = state?.value ?? Number.MIN_SAFE_INTEGER;
    const grainIndex = (g: Grain): number => GRAINS.indexOf(g);
    const distinct = new Map<string, BucketMark>();
    for (const m of claimed.rows) distinct.set(`${grainIndex(m.grain)}:${m.bucket}`, m);
    // Sorted, so two collectors take bucket locks in one order.
    const buckets = [...distinct.values()].sort((a, b) => grainIndex(a.grain) - grainIndex(b.grain) || a.bucket - b.bucket);
    let done = 0;
    for (const m of buckets) {
      // Serialises recounts of one bucket across collectors: the later one reads a later snapshot and writes last.
      await c.query('SELECT pg_advisory_xact_lock($1::bigint)', [String(Math.floor(m.bucket / GRAIN_MS.minute) * 4 + grainIndex(m.grain))]);
      // The bucket's other marks (committed before the recount below reads) are covered by it too.
      await c.query({ name: 'claim_siblings', text: 'DELETE FROM rollup_dirty WHERE id IN (SELECT id FROM rollup_dirty WHERE grain = $1 AND bucket = $2 FOR UPDATE SKIP LOCKED)', values: [m.grain, m.bucket] });
      if (m.bucket < pruned) continue;
      await c.query({ name: 'clear_bucket', text: 'DELETE FROM rollups WHERE grain = $1 AND dim = ANY($2::text[]) AND bucket = $3', values: [m.grain, DIMENSIONS, m.bucket] });
      await c.query({ name: 'recount', text: RECOUNT, values: [m.bucket, m.bucket + GRAIN_MS[m.grain], m.grain, m.bucket] });
      done++;
    }
    return done;
  }

  retain(now: number, retention: { events: number; minute: number; hour: number; day: number }): Promise<{ events: number; rollups: number }> {
    return this.serial(async () => {
      let events = 0;
      let rollups = 0;
      if (retention.events > 0) {
        // The watermark moves with no recount in flight (exclusive against their shared lock).
        const cutoff = await this.tx(async (c) => {
          await c.query('SELECT pg_advisory_xact_lock($1::bigint)', [MAINTENANCE_LOCK]);
          const [d] = (await c.query<{ b: number | null }>('SELECT MIN(bucket) AS b FROM rollup_dirty')).rows;
          const cut = retentionCutoff(now, retention.events, d?.b ?? null);
          await c.query("UPDATE store_state SET value = GREATEST(value, $1) WHERE name = 'pruned_before'", [cut]);
          return cut;
        });
        for (;;) {
          const n = await this.tx(async (c) => {
            const d = await c.query(`DELETE FROM events WHERE ctid = ANY(ARRAY(SELECT ctid FROM events WHERE ts < $1 LIMIT ${DELETE_CHUNK}))`, [cutoff]);
            const k = d.rowCount ?? 0;
            if (k > 0) await c.query("UPDATE store_state SET value = value + $1 WHERE name = 'events_deleted'", [k]);
            return k;
          });
          events += n;
          if (n === 0) break;
        }
      }
      for (const grain of GRAINS) {
        const days = retention[grain];
        if (days <= 0) continue;
        const before = bucketOf(grain, now - days * GRAIN_MS.day);
        const r = await this.pool.query('DELETE FROM rollups WHERE grain = $1 AND dim = ANY($2::text[]) AND bucket < $3', [grain, DIMENSIONS, before]);
        rollups += r.rowCount ?? 0;
      }
      return { events, rollups };
    });
  }

  async searchEvents(q: EventQuery): Promise<EventPage> {
    const { sql, params, limit } = searchStatement(q, 'postgres');
    const rows = await this.q<EventRow>(numbered(sql), params.map((p) => (typeof p === 'string' ? noNul(p) : p)));
    return toPage(rows, limit);
  }

  async top(dim: Dimension, grain: Grain, from: number, to: number, limit: number): Promise<RollupRow[]> {
    checkGrainDim(grain, dim);
    const r = rangeBuckets(grain, from, to);
    const n = Math.max(0, Math.min(Math.floor(limit), 10_000));
    if (r === null || !(n > 0)) return [];
    if (r.single) return this.q<RollupRow>(numbered(TOP_ONE_SQL), [grain, dim, r.first, n], 'top_one');
    const rows = await this.q<{ key: string; records: number; sources: number; targets: number }>(numbered(TOP_RANGE_SQL), [grain, dim, r.first, to, n], 'top_range');
    return rows.map((x) => ({ grain, bucket: r.first, dim, key: x.key, records: x.records, sources: x.sources, targets: x.targets }));
  }

  async history(dim: Dimension, key: string, grain: Grain, from: number, to: number): Promise<RollupRow[]> {
    checkGrainDim(grain, dim);
    const [extent] = await this.q<{ lo: number | null; hi: number | null }>(numbered(EXTENT_SQL), [grain, dim, grain, dim], 'extent');
    const out: RollupRow[] = [];
    for (const buckets of bucketChunks(GRAIN_MS[grain], from, to, extent ?? { lo: null, hi: null })) out.push(...(await this.q<RollupRow>(numbered(historySql('postgres', buckets.length)), [grain, dim, noNul(key), buckets], 'history')));
    return out;
  }

  async verdicts(limit: number, host?: string): Promise<HostVerdicts[]> {
    const n = verdictLimit(limit);
    const rows =
      host === undefined
        ? await this.q<VerdictRow>(numbered(verdictsSql('postgres', false, VERDICTS_PER_HOST)), [n])
        : await this.q<VerdictRow>(numbered(verdictsSql('postgres', true, VERDICTS_PER_HOST)), [noNul(host), n]);
    return groupVerdicts(rows);
  }

  async counts(): Promise<{ events: number; sensors: number; revoked: number }> {
    const [r] = await this.q<{ events: number; sensors: number; revoked: number }>(COUNTS_SQL, []);
    return r ?? { events: 0, sensors: 0, revoked: 0 };
  }
}
