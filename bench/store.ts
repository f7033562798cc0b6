import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { bucketsTouched } from '../src/collector/store/buckets.js';
import { openStore, PostgresStore, SqliteStore, type Store } from '../src/collector/store/index.js';
import type { IngestEvent } from '../src/collector/store/store.js';
import { repoRoot } from './capture.js';

/**
 * The collector's store, each engine:
 *  (a) ingest straight into the store: batches of 1,000 EVE alerts through Store.ingest (dedupe,
 *      ack, rollup marking, one transaction each), events/s and the p99 batch latency;
 *  (b) queries at N stored events (10 million by default): top ports and top sources of a day,
 *      a port's history by day and by hour; p50/p95 over at least 200 queries each. The N events
 *      are bulk-loaded (not the figure measured, but stated), then rolled up by Store.rollup.
 * Appends to bench/RESULTS.md.
 *
 *   node dist/bench/store.js [--events 10000000] [--ingest-events 300000] [--queries 200]
 *                            [--engine sqlite|postgres|both] [--database postgres://...] [--no-append]
 *
 * PostgreSQL: --database or OUTPOST_TEST_PG names a server; a fresh database is made there and
 * dropped at the end. Without either, PostgreSQL is skipped (and the section says so).
 */

const DAY = 86_400_000;
/** Days the query data set spans (ISC's port trend looks back 30 days). */
const DAYS = 30;
/** Start of the query data set: 2004-04-01 UTC. */
const T0 = Date.UTC(2004, 3, 1);

/** A small fast PRNG (xorshift32): the bench's data is the same on every run. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

/** Popular ports first: a skewed pick over them, plus 10% uniformly random ports (scanners). */
const PORTS = [445, 135, 139, 80, 1433, 22, 3389, 1026, 1027, 5554, 9898, 6129, 3127, 2745, 443, 25, 21, 23, 1080, 8080, 4899, 5000, 6667, 137, 53, 110, 111, 3306, 5900, 1434];

/** Generates realistic alert records (about 600 bytes of EVE JSON each). */
class AlertMaker {
  private readonly r: () => number;
  constructor(seed: number) {
    this.r = rng(seed);
  }
  /** Skewed index in [0, n): small indices far more often (a rough Zipf). */
  private skew(n: number): number {
    const u = this.r();
    return Math.min(n - 1, Math.floor(n * u * u * u));
  }
  make(sensor: string, seq: number, ts: number): IngestEvent {
    const r = this.r;
    const dport = r() < 0.1 ? 1 + Math.floor(r() * 65535) : PORTS[this.skew(PORTS.length)]!;
    const s = this.skew(500_000);
    const src = `${(s >>> 16) + 24}.${(s >>> 8) & 255}.${s & 255}.${1 + Math.floor(r() * 250)}`;
    const d = Math.floor(r() * 65536);
    const dest = `192.168.${d >>> 8}.${d & 255}`;
    const sport = 1024 + Math.floor(r() * 64000);
    const sid = 2_000_000 + this.skew(3000);
    const signature = `ET EXPLOIT rule ${sid} port ${dport}`;
    const rec = {
      timestamp: new Date(ts).toISOString().replace('Z', '000+0000'),
      flow_id: Math.floor(r() * 2 ** 50),
      in_iface: 'eth0',
      event_type: 'alert',
      src_ip: src,
      src_port: sport,
      dest_ip: dest,
      dest_port: dport,
      proto: 'TCP',
      alert: { action: 'allowed', gid: 1, signature_id: sid, rev: 3, signature, category: 'Attempted Administrator Privilege Gain', severity: 1, metadata: { created_at: ['2004_05_01'], updated_at: ['2019_07_26'] } },
      app_proto: 'failed',
      flow: { pkts_toserver: 3, pkts_toclient: 2, bytes_toserver: 212, bytes_toclient: 146, start: new Date(ts - 1500).toISOString() },
      sensor_id: sensor,
      seq,
    };
    return { seq, ts, json: JSON.stringify(rec), event_type: 'alert', src_ip: src, dest_ip: dest, src_port: sport, dest_port: dport, proto: 'TCP', sid, signature };
  }
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? NaN;
}

/** A fresh store of one engine, and how to remove it afterwards. */
/** SQLite's synchronous setting as the store opens it (read back from a store, not assumed). */
let sqliteSync = -1;
const SYNC_NAMES: Record<number, string> = { 0: 'OFF', 1: 'NORMAL', 2: 'FULL', 3: 'EXTRA' };

async function freshStore(engine: 'sqlite' | 'postgres', server: string | null): Promise<{ store: Store; drop: () => Promise<void>; where: string }> {
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'outpost-bench-store-'));
    const store = await openStore({ data: dir });
    if (store instanceof SqliteStore) sqliteSync = store.db.pragma('synchronous', { simple: true }) as number;
    return { store, where: `${dir}/outpost.db`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `outpost_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: server! });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(server!);
  u.pathname = `/${name}`;
  const store = await openStore({ database: u.toString() });
  return {
    store,
    where: `database ${name}`,
    drop: async () => {
      const c = new pg.Client({ connectionString: server! });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

interface IngestFigures {
  events: number;
  streams: number;
  /** CPU seconds during the timed run: this process (all threads) and, for PostgreSQL on this machine, its backends serving the store. */
  cpuClient: number;
  cpuServer: number | null;
  batches: number;
  seconds: number;
  p50: number;
  p99: number;
  max: number;
  rollupSeconds: number;
  buckets: number;
}

/**
 * (a) Batches of 1,000 alerts, in seq order, times advancing 50 ms per event (so batches cross
 * minutes as live traffic does), from `streams` sensors at once (each its own batches in turn;
 * a collector serves its sensors concurrently). Latency is each ingest call's; events/s is all
 * events over the wall time of the whole run; the batches are made before it starts.
 */
async function benchIngest(store: Store, total: number, streams: number): Promise<IngestFigures> {
  const sensors = Array.from({ length: streams }, (_, i) => `bench${i}`);
  for (const id of sensors) await store.addSensor({ id, name: id, secret: '00', enrolled: T0 });
  const maker = new AlertMaker(0x1a2b3c);
  const lat: number[] = [];
  const per = Math.floor(total / streams);
  // Every batch is made before the clock starts (about 700 bytes an event in memory).
  const batches = new Map<string, IngestEvent[][]>();
  for (const sensor of sensors) {
    const list: IngestEvent[][] = [];
    for (let seq = 1; seq <= per; seq += 1000) {
      const batch: IngestEvent[] = [];
      for (let i = 0; i < 1000 && seq + i <= per; i++) batch.push(maker.make(sensor, seq + i, T0 + (seq + i) * 50));
      list.push(batch);
    }
    batches.set(sensor, list);
  }
  const run = async (sensor: string): Promise<void> => {
    for (const batch of batches.get(sensor)!) {
      const t0 = performance.now();
      const r = await store.ingest(sensor, batch, Date.now());
      lat.push(performance.now() - t0);
      if (r.stored !== batch.length) throw new Error(`ingest stored ${r.stored} of ${batch.length}`);
    }
  };
  const backends = await backendPids(store, streams);
  const s0 = serverCpu(backends);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(sensors.map(run));
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const s1 = serverCpu(backends);
  const cpuClient = (c.user + c.system) / 1e6;
  const cpuServer = s0 === null || s1 === null ? null : s1 - s0;
  batches.clear();
  const r0 = performance.now();
  let buckets = 0;
  for (let n = -1; n !== 0; ) buckets += n = await store.rollup(Number.POSITIVE_INFINITY);
  const rollupSeconds = (performance.now() - r0) / 1000;
  lat.sort((a, b) => a - b);
  return { events: per * streams, streams, cpuClient, cpuServer, batches: lat.length, seconds, p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), max: lat[lat.length - 1]!, rollupSeconds, buckets };
}

/**
 * The PostgreSQL backends of the store's pool (the server on this machine), after opening as
 * many connections as the run will use; [] for SQLite or a server elsewhere.
 */
async function backendPids(store: Store, streams: number): Promise<number[]> {
  if (!(store instanceof PostgresStore)) return [];
  await Promise.all(Array.from({ length: streams + 1 }, () => store.pool.query('SELECT pg_sleep(0.05)')));
  const r = await store.pool.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'");
  const pids = r.rows.map((x) => x.pid);
  return pids.every((pid) => existsSync(`/proc/${pid}/stat`)) ? pids : [];
}

/** CPU seconds used so far by these processes (Linux /proc; clock ticks of 1/100 s); null when unknown. */
function serverCpu(pids: readonly number[]): number | null {
  if (pids.length === 0) return null;
  let ticks = 0;
  for (const pid of pids) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      return null;
    }
  }
  return ticks / 100;
}

/** Bulk load: N alerts over DAYS days from four sensors, straight into the events table, then marks and sensor rows as ingest would leave them. */
async function bulkLoad(store: Store, total: number, progress: (n: number) => void): Promise<void> {
  const sensors = ['east', 'west', 'north', 'south'];
  for (const id of sensors) await store.addSensor({ id, name: id, secret: '00', enrolled: T0 });
  const maker = new AlertMaker(0xbeef);
  const per = Math.ceil(total / sensors.length);
  const step = (DAYS * DAY) / total;
  const CHUNK = store instanceof SqliteStore ? 100_000 : 10_000;
  const marks = new Map<string, { grain: string; bucket: number }>();
  let sqliteInsert: ((rows: (IngestEvent & { sensor: string })[]) => void) | null = null;
  let pgClient: pg.Client | null = null;
  if (store instanceof SqliteStore) {
    const ins = store.db.prepare('INSERT INTO events (sensor_id, seq, ts, received, event_type, src_ip, dest_ip, src_port, dest_port, proto, sid, signature, json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    sqliteInsert = store.db.transaction((rows: (IngestEvent & { sensor: string })[]) => {
      for (const e of rows) ins.run(e.sensor, e.seq, e.ts, e.ts, e.event_type, e.src_ip, e.dest_ip, e.src_port, e.dest_port, e.proto, e.sid, e.signature, e.json);
    });
  } else if (store instanceof PostgresStore) {
    pgClient = new pg.Client({ connectionString: (store.pool.options as { connectionString: string }).connectionString });
    await pgClient.connect();
    await pgClient.query('SET synchronous_commit = off'); // loading only; the measured ingest keeps it on
  }
  let n = 0;
  for (let i = 0; i < total; i += CHUNK) {
    const rows: (IngestEvent & { sensor: string })[] = [];
    for (let k = i; k < Math.min(total, i + CHUNK); k++) {
      const sensor = sensors[k % sensors.length]!;
      rows.push({ ...maker.make(sensor, Math.floor(k / sensors.length) + 1, T0 + Math.floor(k * step)), sensor });
    }
    for (const m of bucketsTouched(rows.map((e) => e.ts))) marks.set(`${m.grain}:${m.bucket}`, m);
    if (sqliteInsert !== null) sqliteInsert(rows);
    else if (pgClient !== null) {
      const col = <K extends keyof (IngestEvent & { sensor: string })>(k: K): (IngestEvent & { sensor: string })[K][] => rows.map((e) => e[k]);
      await pgClient.query(
        `INSERT INTO events (sensor_id, seq, ts, received, event_type, src_ip, dest_ip, src_port, dest_port, proto, sid, signature, json)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::int[], $8::int[], $9::text[], $10::bigint[], $11::text[], $12::text[])`,
        [col('sensor'), col('seq'), col('ts'), col('event_type'), col('src_ip'), col('dest_ip'), col('src_port'), col('dest_port'), col('proto'), col('sid'), col('signature'), col('json')],
      );
    }
    n += rows.length;
    progress(n);
  }
  const all = [...marks.values()];
  if (store instanceof SqliteStore) {
    const mark = store.db.prepare('INSERT INTO rollup_dirty (grain, bucket, since, gen) VALUES (?, ?, 0, 1)');
    store.db.transaction(() => all.forEach((m) => mark.run(m.grain, m.bucket)))();
    store.db.prepare('UPDATE sensors SET stored = ?, acked = ?').run(per, per);
    store.db.pragma('optimize');
    store.db.exec('ANALYZE');
  } else if (pgClient !== null) {
    await pgClient.query('INSERT INTO rollup_dirty (grain, bucket, since) SELECT g, b, 0 FROM unnest($1::text[], $2::bigint[]) AS u(g, b)', [all.map((m) => m.grain), all.map((m) => m.bucket)]);
    await pgClient.query('UPDATE sensors SET stored = $1, acked = $1', [per]);
    await pgClient.query('VACUUM ANALYZE events');
    await pgClient.end();
  }
}

interface QueryFigures {
  name: string;
  n: number;
  p50: number;
  p95: number;
  max: number;
  rows: number;
}

async function timeQueries(name: string, n: number, q: (i: number) => Promise<unknown[]>): Promise<QueryFigures> {
  for (let i = 0; i < 20; i++) await q(i); // warm-up
  const lat: number[] = [];
  let rows = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await q(i);
    lat.push(performance.now() - t0);
    rows += r.length;
  }
  lat.sort((a, b) => a - b);
  return { name, n, p50: quantile(lat, 0.5), p95: quantile(lat, 0.95), max: lat[lat.length - 1]!, rows: rows / n };
}

interface EngineFigures {
  engine: string;
  ingest: IngestFigures[];
  stored: number;
  loadSeconds: number;
  rollupSeconds: number;
  buckets: number;
  queries: QueryFigures[];
}

async function benchEngine(engine: 'sqlite' | 'postgres', server: string | null, opts: { events: number; ingest: number; queries: number }): Promise<EngineFigures> {
  const log = (s: string): void => void process.stderr.write(`[${engine}] ${s}\n`);
  const ingest: IngestFigures[] = [];
  for (const streams of engine === 'postgres' ? [1, 4] : [1]) {
    const a = await freshStore(engine, server);
    try {
      const c0 = process.cpuUsage();
      const f = await benchIngest(a.store, opts.ingest, streams);
      const c = process.cpuUsage(c0);
      ingest.push(f);
      log(`ingest, ${streams} sensor(s): ${(f.events / f.seconds).toFixed(0)} events/s, p99 ${f.p99.toFixed(1)} ms (this process's CPU, generation included: ${((c.user + c.system) / 1e6).toFixed(1)} s)`);
    } finally {
      await a.store.close();
      await a.drop();
    }
  }
  if (opts.events === 0) return { engine, ingest, stored: 0, loadSeconds: 0, rollupSeconds: 0, buckets: 0, queries: [] };
  const b = await freshStore(engine, server);
  try {
    let t0 = performance.now();
    let last = 0;
    await bulkLoad(b.store, opts.events, (n) => {
      if (n - last >= 1_000_000 || n === opts.events) {
        last = n;
        log(`loaded ${n} events (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
      }
    });
    const loadSeconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    let buckets = 0;
    for (let n = -1; n !== 0; ) buckets += n = await b.store.rollup(Number.POSITIVE_INFINITY);
    const rollupSeconds = (performance.now() - t0) / 1000;
    log(`rollup: ${buckets} buckets in ${rollupSeconds.toFixed(1)} s`);
    const stored = (await b.store.counts()).events;
    if (stored !== opts.events) throw new Error(`stored ${stored} of ${opts.events}`);
    if ((await b.store.top('port', 'day', T0, T0 + DAY, 10)).length === 0) throw new Error('no rollups after the pass');
    const r = rng(7);
    const day = (): number => T0 + Math.floor(r() * DAYS) * DAY;
    const port = (): string => String(r() < 0.8 ? PORTS[Math.floor(r() * PORTS.length)]! : 1 + Math.floor(r() * 65535));
    const queries = [
      await timeQueries('top 10 ports of a day (ISC topports)', opts.queries, () => {
        const d = day();
        return b.store.top('port', 'day', d, d + DAY, 10);
      }),
      await timeQueries('top 10 sources of a day (ISC topips)', opts.queries, () => {
        const d = day();
        return b.store.top('source', 'day', d, d + DAY, 10);
      }),
      await timeQueries(`port history, ${DAYS} days by day`, opts.queries, () => b.store.history('port', port(), 'day', T0, T0 + DAYS * DAY)),
      await timeQueries(`port history, ${DAYS} days by hour`, opts.queries, () => b.store.history('port', port(), 'hour', T0, T0 + DAYS * DAY)),
      await timeQueries('top 10 ports over 7 days (summed)', opts.queries, () => {
        const d = T0 + Math.floor(r() * (DAYS - 7)) * DAY;
        return b.store.top('port', 'day', d, d + 7 * DAY, 10);
      }),
    ];
    for (const q of queries) log(`${q.name}: p50 ${q.p50.toFixed(2)} ms, p95 ${q.p95.toFixed(2)} ms`);
    return { engine, ingest, stored, loadSeconds, rollupSeconds, buckets, queries };
  } finally {
    await b.store.close();
    await b.drop();
  }
}

function codeLine(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    const changed = execFileSync('git', ['status', '--porcelain', '--', 'src/collector/store'], { cwd: repoRoot, encoding: 'utf8' }).trim();
    return changed === '' ? `commit ${head}` : `commit ${head}, with src/collector/store/ uncommitted`;
  } catch {
    return 'not a git checkout';
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '10000000' },
      'ingest-events': { type: 'string', default: '300000' },
      queries: { type: 'string', default: '200' },
      engine: { type: 'string', default: 'both' },
      database: { type: 'string' },
      'no-append': { type: 'boolean', default: false },
    },
  });
  const events = Number(values.events); // 0: the ingest part only
  const ingest = Number(values['ingest-events']);
  const queries = Math.max(200, Number(values.queries));
  const server = values.database ?? process.env.OUTPOST_BENCH_PG ?? process.env.OUTPOST_TEST_PG ?? null;
  const engines = (values.engine === 'both' ? ['sqlite', 'postgres'] : [values.engine]) as ('sqlite' | 'postgres')[];
  const load0 = loadavg();
  const results: EngineFigures[] = [];
  const skipped: string[] = [];
  for (const e of engines) {
    if (e === 'postgres' && server === null) {
      skipped.push('PostgreSQL skipped: no --database, OUTPOST_BENCH_PG or OUTPOST_TEST_PG');
      continue;
    }
    results.push(await benchEngine(e, server, { events, ingest, queries }));
  }
  const fmt = (x: number): string => x.toLocaleString('en-US');
  const met = (ok: boolean): string => (ok ? '**met**' : '**not met**');
  const lines = [
    '',
    `## Store: ${execFileSync('date', ['-u'], { encoding: 'utf8' }).trim()}`,
    '',
    `- Machine: ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${cpus().length} cores, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, Node ${process.version}, kernel ${release()}, load average ${load0.map((x) => x.toFixed(2)).join(' / ')}; at the end ${loadavg().map((x) => x.toFixed(2)).join(' / ')}.`,
    `- Code: ${codeLine()}. SQLite WAL, synchronous=${SYNC_NAMES[sqliteSync] ?? sqliteSync}; PostgreSQL ${server === null ? '(none)' : 'on this machine, default settings (synchronous_commit on)'}.`,
    `- Method: (a) ${fmt(ingest)} EVE alerts (about 600 bytes of JSON each) through Store.ingest in batches of 1,000 (dedupe, ack, rollup marking, commit), seqs in order, times 50 ms apart, batches made beforehand; one sensor, and for PostgreSQL also four sensors at once (each sending its next batch when the last is acknowledged). Then one rollup pass over everything marked. (b) ${fmt(events)} alerts from four sensors over ${DAYS} days (skewed ports, 500,000 sources, 65,536 targets) bulk-loaded into a fresh store, rolled up by Store.rollup, then each query ${queries} times (after 20 warm-up runs) with random days and ports, one at a time.`,
    ...skipped.map((s) => `- ${s}.`),
    '',
    '| engine | sensors at once | events | batches of 1,000 | time | events/s | p50 batch | p99 batch | max batch | CPU per batch: collector + database | events per CPU second | rollup after (buckets) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...results.flatMap((r) =>
      r.ingest.map((i) => {
        const cpu = i.cpuClient + (i.cpuServer ?? 0);
        const per = `${((1000 * i.cpuClient) / i.batches).toFixed(1)} ms${i.cpuServer === null ? '' : ` + ${((1000 * i.cpuServer) / i.batches).toFixed(1)} ms`}`;
        return `| ${r.engine} | ${i.streams} | ${fmt(i.events)} | ${i.batches} | ${i.seconds.toFixed(2)} s | ${fmt(Math.round(i.events / i.seconds))} | ${i.p50.toFixed(1)} ms | ${i.p99.toFixed(1)} ms | ${i.max.toFixed(1)} ms | ${per} | ${fmt(Math.round(i.events / cpu))} | ${i.rollupSeconds.toFixed(2)} s (${i.buckets}) |`;
      }),
    ),
    '',
    ...results.flatMap((r) => r.ingest.map((i) => `Ingest target, at least 50,000 events/s (${r.engine}, ${i.streams} sensor${i.streams === 1 ? '' : 's'} at once): ${met(i.events / i.seconds >= 50_000)}.`)),
    '',
    '| engine | stored events | bulk load | rollup of all (buckets) | query | runs | mean rows | p50 | p95 | max |',
    '|---|---:|---:|---:|---|---:|---:|---:|---:|---:|',
    ...results.flatMap((r) =>
      r.queries.map((q, i) =>
        i === 0
          ? `| ${r.engine} | ${fmt(r.stored)} | ${r.loadSeconds.toFixed(0)} s | ${r.rollupSeconds.toFixed(0)} s (${fmt(r.buckets)}) | ${q.name} | ${q.n} | ${q.rows.toFixed(0)} | ${q.p50.toFixed(2)} ms | ${q.p95.toFixed(2)} ms | ${q.max.toFixed(2)} ms |`
          : `| | | | | ${q.name} | ${q.n} | ${q.rows.toFixed(0)} | ${q.p50.toFixed(2)} ms | ${q.p95.toFixed(2)} ms | ${q.max.toFixed(2)} ms |`,
      ),
    ),
    '',
    ...results.filter((r) => r.queries.length > 0).map((r) => {
      const top = r.queries[0]!;
      const hist = r.queries[2]!;
      return `Query target, p95 under 100 ms at ${fmt(r.stored)} events (${r.engine}): top-N ${met(top.p95 < 100)} (${top.p95.toFixed(2)} ms), port history ${met(hist.p95 < 100)} (${hist.p95.toFixed(2)} ms).`;
    }),
    '',
  ];
  const text = lines.join('\n');
  if (!values['no-append']) appendFileSync(resolve(repoRoot, 'bench', 'RESULTS.md'), text);
  process.stdout.write(text);
}

await main();
