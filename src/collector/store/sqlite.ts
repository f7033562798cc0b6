import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { DIMENSIONS, GRAINS, GRAIN_MS, bucketOf, bucketsTouched, checkGrainDim } from './buckets.js';
import { migrateSqlite } from './migrations.js';
import { checkBatch, groupVerdicts, toSensor, type SensorDbRow, rangeBuckets, retentionCutoff, VERDICTS_PER_HOST, verdictLimit, type VerdictRow } from './common.js';
import { COUNTS_SQL, EXTENT_SQL, TOP_ONE_SQL, bucketChunks, historySql, TOP_RANGE_SQL, searchStatement, toPage, verdictsSql, type EventRow } from './sql.js';
import type { CheckpointWorkerData } from './checkpoint-worker.js';
import type { RecountWorkerData } from './recount-worker.js';
import type { Dimension, EventPage, EventQuery, Grain, HostVerdicts, IngestEvent, IngestResult, RollupRow, SensorRow, Store, TokenRow } from './store.js';

/**
 * The SQLite engine: one file (DATA/outpost.db) in WAL mode, written by one collector process.
 * better-sqlite3 is synchronous, so each method's work runs to completion on the event loop.
 * The long jobs stay off it or in small pieces: rollup passes run in a worker thread
 * (recount-worker.ts), and retention deletes in small transactions, yielding between them.
 */

/** How long a statement waits for another connection's write lock (the CLI's `token create` on a running collector's file). */
const BUSY_TIMEOUT_MS = 5000;
/** Page cache: 64 MiB keeps the upper levels of the events indices hot at tens of millions of rows. */
const CACHE_KIB = 65536;
/** Rows deleted per retention transaction: short enough (tens of ms) not to hold up ingest. */
const DELETE_CHUNK = 10_000;
/** Nonce forgetting runs at most this often (ms of the caller's clock): every call would cost a delete per request. */
const NONCE_PURGE_EVERY_MS = 60_000;
/**
 * WAL pages before the main connection checkpoints itself: 256 MB, a safety net only. The
 * checkpoints normally run every second on their own thread (checkpoint-worker.ts), so that no
 * ingest batch pays for one.
 */
const WAL_AUTOCHECKPOINT_PAGES = 65_536;

export class SqliteStore implements Store {
  readonly engine = 'sqlite' as const;
  readonly db: Db;
  private readonly path: string;
  private readonly s: Record<string, Statement>;
  /** Rollup and retention take turns (both yield mid-way). */
  private maintenance: Promise<unknown> = Promise.resolve();
  private lastNoncePurge = -Infinity;
  private worker: Worker | null = null;
  private checkpointer: Worker | null = null;
  /** history() statements by number of buckets (few sizes occur: full chunks and a last one). */
  private readonly historyStatements = new Map<number, Statement>();

  constructor(path: string) {
    this.path = path;
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // FULL: a batch the collector has acknowledged is on disk (the sensor deletes it on the ack),
    // power loss included; NORMAL in WAL mode may lose the last commits.
    this.db.pragma('synchronous = FULL');
    this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    this.db.pragma(`cache_size = -${CACHE_KIB}`);
    this.db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    this.s = {};
  }

  /** Prepared statements, made once after migrating (they need the tables). */
  private prepare(): void {
    const p = (name: string, sql: string): void => {
      this.s[name] = this.db.prepare(sql);
    };
    p('insertEvent', 'INSERT OR IGNORE INTO events (sensor_id, seq, ts, received, event_type, src_ip, dest_ip, src_port, dest_port, proto, sid, signature, json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    // gen changes on every marking (a random 53-bit number, so a mark deleted and made again never repeats one the recount read).
    p('markDirty', 'INSERT INTO rollup_dirty (grain, bucket, since, gen) VALUES (?, ?, ?, ?) ON CONFLICT (grain, bucket) DO UPDATE SET gen = excluded.gen');
    p('sensorAcked', 'SELECT acked FROM sensors WHERE id = ?');
    // The end of the run of stored seqs starting at acked + 1 (acked itself when acked + 1 is missing).
    p(
      'advance',
      `UPDATE sensors SET stored = stored + @stored, acked = CASE
         WHEN EXISTS (SELECT 1 FROM events WHERE sensor_id = @sensor AND seq = @from + 1)
         THEN (SELECT e.seq FROM events e WHERE e.sensor_id = @sensor AND e.seq > @from
                 AND NOT EXISTS (SELECT 1 FROM events f WHERE f.sensor_id = @sensor AND f.seq = e.seq + 1)
               ORDER BY e.seq LIMIT 1)
         ELSE @from END
       WHERE id = @sensor RETURNING acked`,
    );
    p('addToken', 'INSERT INTO tokens (hash, created, expires, uses) VALUES (?, ?, ?, ?)');
    p('redeemToken', 'UPDATE tokens SET uses = uses - 1 WHERE hash = ? AND uses > 0 AND (expires IS NULL OR expires > ?)');
    p('addSensor', 'INSERT INTO sensors (id, name, secret, enrolled) VALUES (?, ?, ?, ?)');
    p('getSensor', 'SELECT * FROM sensors WHERE id = ?');
    p('listSensors', 'SELECT * FROM sensors ORDER BY enrolled, id');
    p('revoke', 'UPDATE sensors SET revoked = COALESCE(revoked, ?) WHERE id = ?');
    p('useNonce', 'INSERT INTO nonces (sensor_id, nonce, ts) VALUES (@sensor, @nonce, @now) ON CONFLICT (sensor_id, nonce) DO UPDATE SET ts = @now WHERE nonces.ts < @forget');
    p('purgeNonces', 'DELETE FROM nonces WHERE ts < ?');
    p('touch', 'UPDATE sensors SET last_seen = MAX(COALESCE(last_seen, @now), @now) WHERE id = @id');
    p('touchHealth', 'UPDATE sensors SET last_seen = MAX(COALESCE(last_seen, @now), @now), version = @version, stats = @stats WHERE id = @id');
    p('minDirty', 'SELECT MIN(bucket) AS b FROM rollup_dirty');
    p('setPruned', "UPDATE store_state SET value = MAX(value, ?) WHERE name = 'pruned_before'");
    p('deleteChunk', `DELETE FROM events WHERE id IN (SELECT id FROM events WHERE ts < ? ORDER BY ts LIMIT ${DELETE_CHUNK})`);
    p('countDeleted', "UPDATE store_state SET value = value + ? WHERE name = 'events_deleted'");
    p('dropRollups', 'DELETE FROM rollups WHERE grain = ? AND dim = ? AND bucket < ?');
    p('topOne', TOP_ONE_SQL);
    p('topRange', TOP_RANGE_SQL);
    p('counts', COUNTS_SQL);
    p('extent', EXTENT_SQL);
    p('verdicts', verdictsSql('sqlite', false, VERDICTS_PER_HOST));
    p('verdictsHost', verdictsSql('sqlite', true, VERDICTS_PER_HOST));
  }

  private st(name: string): Statement {
    const s = this.s[name];
    if (s === undefined) throw new Error(`store not ready: call migrate() first (${name})`);
    return s;
  }

  /** Runs `fn` after any rollup or retention in progress. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.maintenance.then(fn, fn);
    this.maintenance = run.catch(() => undefined);
    return run;
  }

  async migrate(): Promise<number> {
    const v = migrateSqlite(this.db, this.path);
    this.prepare();
    if (this.checkpointer === null) {
      const workerData: CheckpointWorkerData = { path: this.path, busyTimeoutMs: BUSY_TIMEOUT_MS };
      this.checkpointer = new Worker(new URL('./checkpoint-worker.js', import.meta.url), { workerData });
      this.checkpointer.unref();
      this.checkpointer.on('error', () => {
        this.checkpointer = null; // the main connection's own threshold takes over
      });
    }
    return v;
  }

  async close(): Promise<void> {
    await this.maintenance;
    for (const w of [this.worker, this.checkpointer]) if (w !== null) await w.terminate();
    this.worker = null;
    this.checkpointer = null;
    if (this.db.open) {
      try {
        this.db.pragma('optimize');
      } catch {
        // optimize is advice to the planner; closing matters more
      }
      this.db.close();
    }
  }

  async addToken(t: TokenRow): Promise<void> {
    this.st('addToken').run(t.hash, t.created, t.expires, t.uses);
  }

  async redeemToken(hash: string, now: number): Promise<boolean> {
    return this.st('redeemToken').run(hash, now).changes === 1;
  }

  async addSensor(x: { id: string; name: string; secret: string; enrolled: number }): Promise<void> {
    this.st('addSensor').run(x.id, x.name, x.secret, x.enrolled);
  }

  async getSensor(id: string): Promise<SensorRow | undefined> {
    const r = this.st('getSensor').get(id) as SensorDbRow | undefined;
    return r === undefined ? undefined : toSensor(r);
  }

  async listSensors(): Promise<SensorRow[]> {
    return (this.st('listSensors').all() as SensorDbRow[]).map(toSensor);
  }

  async revokeSensor(id: string, now: number): Promise<boolean> {
    return this.st('revoke').run(now, id).changes === 1;
  }

  async useNonce(sensorId: string, nonce: string, now: number, forgetBefore: number): Promise<boolean> {
    if (now - this.lastNoncePurge >= NONCE_PURGE_EVERY_MS || now < this.lastNoncePurge) {
      this.st('purgeNonces').run(forgetBefore);
      this.lastNoncePurge = now;
    }
    // A nonce older than forgetBefore counts as forgotten even before the purge removes it.
    return this.st('useNonce').run({ sensor: sensorId, nonce, now, forget: forgetBefore }).changes === 1;
  }

  async touchSensor(id: string, now: number, health?: { version: string | null; stats: Record<string, unknown> }): Promise<void> {
    if (health === undefined) this.st('touch').run({ now, id });
    else this.st('touchHealth').run({ now, id, version: health.version, stats: JSON.stringify(health.stats) });
  }

  async ingest(sensorId: string, events: readonly IngestEvent[], now: number, lostThrough?: number): Promise<IngestResult> {
    checkBatch(events, lostThrough);
    const insert = this.st('insertEvent');
    const mark = this.st('markDirty');
    const run = this.db.transaction((): IngestResult => {
      const sensor = this.st('sensorAcked').get(sensorId) as { acked: number } | undefined;
      if (sensor === undefined) throw new Error(`ingest for unknown sensor ${sensorId}`);
      const times: number[] = [];
      for (const e of events) {
        const r = insert.run(sensorId, e.seq, e.ts, now, e.event_type, e.src_ip, e.dest_ip, e.src_port, e.dest_port, e.proto, e.sid, e.signature, e.json);
        if (r.changes > 0) times.push(e.ts);
      }
      const gen = Math.floor(Math.random() * Number.MAX_SAFE_INTEGER);
      for (const m of bucketsTouched(times)) mark.run(m.grain, m.bucket, now, gen);
      const from = Math.max(sensor.acked, lostThrough ?? 0);
      const { acked } = this.st('advance').get({ sensor: sensorId, stored: times.length, from }) as { acked: number };
      return { stored: times.length, duplicates: events.length - times.length, acked };
    });
    return run.immediate();
  }

  rollup(now: number): Promise<number> {
    return this.serial(async () => {
      const w = this.recountWorker();
      w.ref(); // an awaited pass keeps the process alive
      try {
        return await new Promise<number>((resolve, reject) => {
          const done = (): void => {
            w.off('message', onMessage);
            w.off('error', onError);
            w.off('exit', onExit);
          };
          const onMessage = (msg: { recounted?: number; error?: string }): void => {
            done();
            if (msg.error !== undefined) reject(new Error(`rollup: ${msg.error}`));
            else resolve(msg.recounted ?? 0);
          };
          const onError = (err: Error): void => {
            done();
            this.worker = null; // the next pass starts a new one
            reject(new Error(`rollup: the recount worker failed: ${err.message}`, { cause: err }));
          };
          const onExit = (code: number): void => {
            done();
            this.worker = null;
            reject(new Error(`rollup: the recount worker stopped (exit code ${code})`));
          };
          w.on('message', onMessage);
          w.on('error', onError);
          w.on('exit', onExit);
          w.postMessage({ now });
        });
      } finally {
        w.unref();
      }
    });
  }

  /** The recount worker, started on the first pass. */
  private recountWorker(): Worker {
    if (this.worker === null) {
      const workerData: RecountWorkerData = { path: this.path, busyTimeoutMs: BUSY_TIMEOUT_MS };
      this.worker = new Worker(new URL('./recount-worker.js', import.meta.url), { workerData });
      this.worker.unref();
    }
    return this.worker;
  }

  retain(now: number, retention: { events: number; minute: number; hour: number; day: number }): Promise<{ events: number; rollups: number }> {
    return this.serial(async () => {
      let events = 0;
      let rollups = 0;
      if (retention.events > 0) {
        const minDirty = (this.st('minDirty').get() as { b: number | null }).b;
        const cutoff = retentionCutoff(now, retention.events, minDirty);
        this.st('setPruned').run(cutoff);
        for (;;) {
          const n = this.db
            .transaction((): number => {
              const changes = this.st('deleteChunk').run(cutoff).changes;
              this.st('countDeleted').run(changes);
              return changes;
            })
            .immediate();
          events += n;
          if (n < DELETE_CHUNK) break;
          await yieldToLoop();
        }
      }
      for (const grain of GRAINS) {
        const days = retention[grain];
        if (days <= 0) continue;
        const before = bucketOf(grain, now - days * GRAIN_MS.day);
        for (const dim of DIMENSIONS) rollups += this.st('dropRollups').run(grain, dim, before).changes;
      }
      return { events, rollups };
    });
  }

  async searchEvents(q: EventQuery): Promise<EventPage> {
    const { sql, params, limit } = searchStatement(q, 'sqlite');
    const rows = this.db.prepare(sql).all(...params) as EventRow[];
    return toPage(rows, limit);
  }

  async top(dim: Dimension, grain: Grain, from: number, to: number, limit: number): Promise<RollupRow[]> {
    checkGrainDim(grain, dim);
    const r = rangeBuckets(grain, from, to);
    const n = Math.max(0, Math.min(Math.floor(limit), 10_000));
    if (r === null || !(n > 0)) return [];
    if (r.single) return this.st('topOne').all(grain, dim, r.first, n) as RollupRow[];
    const rows = this.st('topRange').all(grain, dim, r.first, to, n) as { key: string; records: number; sources: number; targets: number }[];
    return rows.map((x) => ({ grain, bucket: r.first, dim, key: x.key, records: x.records, sources: x.sources, targets: x.targets }));
  }

  async history(dim: Dimension, key: string, grain: Grain, from: number, to: number): Promise<RollupRow[]> {
    checkGrainDim(grain, dim);
    const out: RollupRow[] = [];
    const extent = this.st('extent').get(grain, dim, grain, dim) as { lo: number | null; hi: number | null };
    for (const buckets of bucketChunks(GRAIN_MS[grain], from, to, extent)) {
      let st = this.historyStatements.get(buckets.length);
      if (st === undefined) {
        st = this.db.prepare(historySql('sqlite', buckets.length));
        this.historyStatements.set(buckets.length, st);
      }
      out.push(...(st.all(grain, dim, key, ...buckets) as RollupRow[]));
    }
    return out;
  }

  async verdicts(limit: number, host?: string): Promise<HostVerdicts[]> {
    const n = verdictLimit(limit);
    const rows = (host === undefined ? this.st('verdicts').all(n) : this.st('verdictsHost').all(host, n)) as VerdictRow[];
    return groupVerdicts(rows);
  }

  async counts(): Promise<{ events: number; sensors: number; revoked: number }> {
    return this.st('counts').get() as { events: number; sensors: number; revoked: number };
  }
}
