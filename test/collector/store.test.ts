import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { GRAIN_MS, GRAINS, DIMENSIONS, bucketOf, openStore, QueryError, SQLITE_FILE, type StoreOptions } from '../../src/collector/store/index.js';
import { LATEST_VERSION } from '../../src/collector/store/migrations.js';
import type { Dimension, Grain, IngestEvent, RollupRow, Store, StoredEvent } from '../../src/collector/store/store.js';
import { prng, tempDir } from '../helpers.js';
import { postgres } from './pg.js';

/**
 * One suite, both engines: every behaviour of the Store interface is pinned down here against
 * SQLite and PostgreSQL alike (PostgreSQL skipped, visibly, without OUTPOST_TEST_PG).
 */

const ENGINES = ['sqlite', 'postgres'] as const;
type Engine = (typeof ENGINES)[number];

const DAY = GRAIN_MS.day;
/** 2004-04-30 00:00 UTC: Sasser's week. */
const D0 = Date.UTC(2004, 3, 30);

interface Opened {
  store: Store;
  opts: StoreOptions;
  /** Another store on the same database (a second collector), closed after the test. */
  another(): Promise<Store>;
}

async function open(t: TestContext, engine: Engine): Promise<Opened | null> {
  let opts: StoreOptions;
  if (engine === 'sqlite') opts = { data: tempDir(t) };
  else {
    const url = await postgres(t);
    if (url === null) return null;
    opts = { database: url };
  }
  const stores: Store[] = [];
  t.after(async () => {
    for (const s of stores) await s.close();
  });
  const another = async (): Promise<Store> => {
    const s = await openStore(opts);
    stores.push(s);
    return s;
  };
  return { store: await another(), opts, another };
}

async function withSensors(store: Store, ...ids: string[]): Promise<void> {
  for (const id of ids) await store.addSensor({ id, name: `${id}-name`, secret: 'ab'.repeat(32), enrolled: D0 });
}

const PORTS = [22, 25, 80, 135, 139, 443, 445, 1433, 3127, 5554, 9996];
const SIDS = [2001, 2002, 2003, 2004, 2005, 2006];

/** An event the collector might store, from a seeded PRNG: varied types, ports, sids, addresses, times. */
function makeEvent(r: () => number, sensor: string, seq: number, ts: number): IngestEvent {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const kind = r();
  const src = r() < 0.15 ? `2001:db8::${Math.floor(r() * 8).toString(16)}` : `198.51.100.${Math.floor(r() * 30)}`;
  const dest = `192.0.2.${Math.floor(r() * 12)}`;
  const dport = r() < 0.1 ? 1024 + Math.floor(r() * 60000) : pick(PORTS);
  const sport = 1024 + Math.floor(r() * 60000);
  const timestamp = new Date(ts).toISOString();
  if (kind < 0.05) {
    const rec = { timestamp, event_type: 'sensor_stats', sensor_id: sensor, seq, sensor_stats: { version: '0.1.0', pps: Math.floor(r() * 1000) } };
    return { seq, ts, json: JSON.stringify(rec), event_type: 'sensor_stats', src_ip: null, dest_ip: null, src_port: null, dest_port: null, proto: null, sid: null, signature: null };
  }
  if (kind < 0.1) {
    const rec = { timestamp, event_type: 'anomaly', sensor_id: sensor, seq, src_ip: src, dest_ip: dest, proto: 'ICMP', anomaly: { event: 'icmpv4.unknown_type' } };
    return { seq, ts, json: JSON.stringify(rec), event_type: 'anomaly', src_ip: src, dest_ip: dest, src_port: null, dest_port: null, proto: 'ICMP', sid: null, signature: null };
  }
  if (kind < 0.6) {
    const sid = pick(SIDS);
    const signature = sid === 2001 ? 'ET WORM Sasser FTP traffic' : `GPL NETBIOS rule ${sid}`;
    const rec = { timestamp, event_type: 'alert', sensor_id: sensor, seq, src_ip: src, src_port: sport, dest_ip: dest, dest_port: dport, proto: 'TCP', alert: { signature_id: sid, signature } };
    return { seq, ts, json: JSON.stringify(rec), event_type: 'alert', src_ip: src, dest_ip: dest, src_port: sport, dest_port: dport, proto: 'TCP', sid, signature };
  }
  const type = kind < 0.9 ? 'flow' : 'dns';
  const proto = type === 'dns' ? 'UDP' : 'TCP';
  const rec = { timestamp, event_type: type, sensor_id: sensor, seq, src_ip: src, src_port: sport, dest_ip: dest, dest_port: type === 'dns' ? 53 : dport, proto };
  return { seq, ts, json: JSON.stringify(rec), event_type: type, src_ip: src, dest_ip: dest, src_port: sport, dest_port: type === 'dns' ? 53 : dport, proto, sid: null, signature: null };
}

/** `n` events with seqs from `firstSeq`, times in [from, from + span) on a whole-second grid (so times collide). */
function makeEvents(seed: number, sensor: string, firstSeq: number, n: number, from: number, span: number): IngestEvent[] {
  const r = prng(seed);
  const out: IngestEvent[] = [];
  for (let i = 0; i < n; i++) out.push(makeEvent(r, sensor, firstSeq + i, from + Math.floor((r() * span) / 1000) * 1000));
  return out;
}

function shuffle<T>(xs: T[], seed: number): T[] {
  const r = prng(seed);
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

type Tagged = IngestEvent & { sensor_id: string };

/** The key an event has in a dimension (null: not rolled up there), as NOTES.md defines it. */
function keyOf(e: Tagged, dim: Dimension): string | null {
  switch (dim) {
    case 'port':
      return e.dest_port === null ? null : String(e.dest_port);
    case 'signature':
      return e.event_type === 'alert' && e.sid !== null ? String(e.sid) : null;
    case 'source':
      return e.src_ip;
    case 'sensor':
      return e.event_type === 'sensor_stats' || e.event_type === 'spool_drop' ? null : e.sensor_id;
  }
}

/** Every rollup row, recounted in JS from the events: the figures the store must hold. */
function recount(events: readonly Tagged[]): Map<string, RollupRow> {
  const acc = new Map<string, { row: RollupRow; src: Set<string>; dst: Set<string> }>();
  for (const e of events)
    for (const grain of GRAINS)
      for (const dim of DIMENSIONS) {
        const key = keyOf(e, dim);
        if (key === null) continue;
        const bucket = bucketOf(grain, e.ts);
        const id = `${grain}|${dim}|${bucket}|${key}`;
        let a = acc.get(id);
        if (a === undefined) {
          a = { row: { grain, bucket, dim, key, records: 0, sources: 0, targets: 0 }, src: new Set(), dst: new Set() };
          acc.set(id, a);
        }
        a.row.records++;
        if (e.src_ip !== null) a.src.add(e.src_ip);
        if (e.dest_ip !== null) a.dst.add(e.dest_ip);
      }
  const out = new Map<string, RollupRow>();
  for (const [id, a] of acc) out.set(id, { ...a.row, sources: a.src.size, targets: a.dst.size });
  return out;
}

const byRank = (a: RollupRow, b: RollupRow): number => b.records - a.records || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/**
 * The store's rollups equal the JS recount: every bucket's rows exactly (top over one bucket),
 * and nothing beyond them (top over the whole range per grain and dimension).
 */
async function assertRollupsMatch(store: Store, events: readonly Tagged[]): Promise<void> {
  const want = recount(events);
  const lo = Math.min(...events.map((e) => e.ts));
  const hi = Math.max(...events.map((e) => e.ts));
  for (const grain of GRAINS)
    for (const dim of DIMENSIONS) {
      const rows = [...want.values()].filter((r) => r.grain === grain && r.dim === dim);
      const buckets = new Set(rows.map((r) => r.bucket));
      for (const bucket of buckets) {
        const got = await store.top(dim, grain, bucket, bucket + GRAIN_MS[grain], 10_000);
        const exp = rows.filter((r) => r.bucket === bucket).sort(byRank);
        assert.deepEqual(got, exp, `${grain} ${dim} bucket ${new Date(bucket).toISOString()}`);
      }
      // Over the whole range: records add up, sources and targets are the largest bucket's; no stray keys.
      const first = bucketOf(grain, lo);
      const sum = new Map<string, RollupRow>();
      for (const r of rows) {
        const s = sum.get(r.key) ?? { grain, bucket: first, dim, key: r.key, records: 0, sources: 0, targets: 0 };
        s.records += r.records;
        s.sources = Math.max(s.sources, r.sources);
        s.targets = Math.max(s.targets, r.targets);
        sum.set(r.key, s);
      }
      const all = await store.top(dim, grain, first, bucketOf(grain, hi) + GRAIN_MS[grain] * 2, 10_000);
      assert.deepEqual(all, [...sum.values()].sort(byRank), `${grain} ${dim} over the whole range`);
    }
}

/** Every event a search finds, walking every page. */
async function walk(store: Store, q: Parameters<Store['searchEvents']>[0], pageSize: number): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 10_000; pages++) {
    const page = await store.searchEvents({ ...q, limit: pageSize, ...(cursor === undefined ? {} : { cursor }) });
    assert.ok(page.events.length <= pageSize);
    out.push(...page.events);
    if (page.next === null) return out;
    cursor = page.next;
  }
  throw new Error('pagination did not end');
}

const id = (e: { sensor_id: string; seq: number }): string => `${e.sensor_id}#${e.seq}`;

for (const engine of ENGINES) {
  describe(`store (${engine})`, () => {
    it('migrates to the latest version, again harmlessly, and refuses a newer schema', async (t) => {
      const o = await open(t, engine);
      if (o === null) return;
      assert.equal(await o.store.migrate(), LATEST_VERSION);
      assert.equal(await o.store.migrate(), LATEST_VERSION);
      await withSensors(o.store, 's1');
      const again = await o.another();
      assert.equal(await again.migrate(), LATEST_VERSION);
      assert.equal((await again.listSensors()).length, 1, 'migrating again keeps the data');
      // A newer Outpost has been at this database.
      if (engine === 'sqlite') {
        const db = new Database(join(o.opts.data!, SQLITE_FILE));
        db.prepare('INSERT INTO schema_version (version, name, applied) VALUES (?, ?, ?)').run(LATEST_VERSION + 1, 'from the future', 0);
        db.close();
      } else {
        const c = new pg.Client({ connectionString: o.opts.database! });
        await c.connect();
        await c.query('INSERT INTO schema_version (version, name, applied) VALUES ($1, $2, $3)', [LATEST_VERSION + 1, 'from the future', 0]);
        await c.end();
      }
      await assert.rejects(openStore(o.opts), new RegExp(`schema is version ${LATEST_VERSION + 1}, newer than this Outpost knows`));
    });

    it('stores each (sensor, seq) once: duplicates within a batch and across batches are counted', async (t) => {
      const o = await open(t, engine);
      if (o === null) return;
      await withSensors(o.store, 's1', 's2');
      const ev = makeEvents(1, 's1', 1, 10, D0, 60_000);
      const r1 = await o.store.ingest('s1', [...ev.slice(0, 6), ev[2]!, ev[3]!], D0);
      assert.deepEqual(r1, { stored: 6, duplicates: 2, acked: 6 });
      const r2 = await o.store.ingest('s1', ev, D0);
      assert.deepEqual(r2, { stored: 4, duplicates: 6, acked: 10 });
      const r3 = await o.store.ingest('s1', ev, D0);
      assert.deepEqual(r3, { stored: 0, duplicates: 10, acked: 10 });
      // The same seqs from another sensor are other events.
      const r4 = await o.store.ingest('s2', makeEvents(2, 's2', 1, 10, D0, 60_000), D0);
      assert.deepEqual(r4, { stored: 10, duplicates: 0, acked: 10 });
      assert.equal((await o.store.counts()).events, 20);
      assert.equal((await walk(o.store, {}, 1000)).length, 20);
      await assert.rejects(o.store.ingest('nobody', ev, D0), /unknown sensor nobody/);
      await assert.rejects(o.store.ingest('s1', [{ ...ev[0]!, seq: 0 }], D0), /seq must be a positive integer/);
      assert.equal((await o.store.counts()).events, 20, 'a refused batch stores nothing');
    });

    it('acknowledges only contiguous seqs, out of order, and passes over what the sensor declared lost', async (t) => {
      const o = await open(t, engine);
      if (o === null) return;
      await withSensors(o.store, 'a', 'b', 'c');
      const ev = (sensor: string, from: number, to: number): IngestEvent[] => makeEvents(from, sensor, from, to - from + 1, D0, 3_600_000);
      assert.equal((await o.store.ingest('a', ev('a', 1, 5), D0)).acked, 5);
      assert.equal((await o.store.ingest('a', ev('a', 8, 10), D0)).acked, 5, 'a hole at 6..7 holds the ack');
      assert.equal((await o.store.ingest('a', ev('a', 7, 7), D0)).acked, 5);
      assert.equal((await o.store.ingest('a', ev('a', 6, 6), D0)).acked, 10, 'filling the hole releases everything behind it');
      assert.equal((await o.store.getSensor('a'))!.acked, 10);
      // Out of order from the start.
      assert.equal((await o.store.ingest('b', ev('b', 4, 6), D0)).acked, 0);
      assert.equal((await o.store.ingest('b', ev('b', 1, 2), D0)).acked, 2);
      assert.equal((await o.store.ingest('b', ev('b', 3, 3), D0)).acked, 6);
      // Lost on the sensor: 1..9 dropped by its spool, then 10.. arrive.
      assert.equal((await o.store.ingest('c', ev('c', 10, 12), D0, 9)).acked, 12);
      assert.equal((await o.store.ingest('c', ev('c', 14, 15), D0, 12)).acked, 12, 'lostThrough below a hole does not cross it');
      assert.equal((await o.store.ingest('c', [], D0, 13)).acked, 15, 'an empty batch may carry lostThrough');
      assert.equal((await o.store.ingest('c', [], D0, 3)).acked, 15, 'an older lostThrough changes nothing');
      assert.equal((await o.store.ingest('c', ev('c', 2, 3), D0)).acked, 15, 'late events below the ack are stored, the ack stays');
      assert.equal((await o.store.counts()).events, 10 + 6 + 7);
    });

    it('keeps counts and the ack exact under concurrent ingests for one sensor', async (t) => {
      const o = await open(t, engine);
      if (o === null) return;
      await withSensors(o.store, 's1');
      const second = await o.another();
      // 12 overlapping batches (250 seqs each, 50 shared with the next) sent at once through two stores.
      const all = makeEvents(3, 's1', 1, 12 * 200 + 50, D0, DAY);
      const batches = shuffle(
        Array.from({ length: 12 }, (_, i) => all.slice(i * 200, i * 200 + 250)),
        4,
      );
      const results = await Promise.all(batches.map((b, i) => (i % 2 === 0 ? o.store : second).ingest('s1', b, D0)));
      const distinct = all.length;
      assert.equal(
        results.reduce((s, r) => s + r.stored, 0),
        distinct,
        'every event stored exactly once',
      );
      assert.equal(
        results.reduce((s, r) => s + r.duplicates, 0),
        12 * 250 - distinct,
      );
      assert.equal(Math.max(...results.map((r) => r.acked)), distinct, 'the last batch to commit acknowledges everything');
      assert.equal((await o.store.getSensor('s1'))!.acked, distinct);
      assert.equal((await second.counts()).events, distinct);
      const seqs = (await walk(o.store, {}, 1000)).map((e) => e.seq).sort((a, b) => a - b);
      assert.deepEqual(seqs, Array.from({ length: distinct }, (_, i) => i + 1));
    });

    it('rollups equal a recount from the raw events, also after late events hit old buckets', async (t) => {
      const o = await open(t, engine);
      if (o === null) return;
      await withSensors(o.store, 's1', 's2');
      // Two sensors, three days, events clustered in a few hours so that buckets hold several.
      const r = prng(5);
      const hours = [D0 + 3_600_000 * 2, D0 + 3_600_000 * 23, D0 + DAY + 3_600_000 * 10, D0 + 2 * DAY + 3_600_000 * 5];
      const tagged: Tagged[] = [];
      for (const sensor of ['s1', 's2']) {
        const evs = makeEvents(sensor === 's1' ? 6 : 7, sensor, 1, 600, 0, 1).map((e) => {
          const ts = hours[Math.floor(r() * hours.length)]! + Math.floor(r() * 120) * 30_000;
          return { ...e, ts };
        });
        for (const b of chunks(shuffle(evs, 8), 75)) await o.store.ingest(sensor, b, D0);
        tagged.push(...evs.map((e) => ({ ...e, sensor_id: sensor })));
      }
      const passes = await o.store.rollup(D0 + 3 * DAY);
      assert.ok(passes > 0);
      await assertRollupsMatch(o.store, tagged);
      assert.equal(await o.store.rollup(D0 + 3 * DAY), 0, 'nothing left to recount');
      // Late events into the first hour (new addresses, so distinct counts must change too), and a resend.
      const late = makeEvents(9, 's1', 601, 40, hours[0]!, 600_000).map((e) => (e.src_ip === null ? e : { ...e, src_ip: `203.0.113.${e.seq % 7}` }));
      await o.store.ingest('s1', late, D0 + 3 * DAY);
      await o.store.ingest('s1', late.slice(0, 10), D0 + 3 * DAY);
      tagged.push(...late.map((e) => ({ ...e, sensor_id: 's1' })));
      const recounted = await o.store.rollup(D0 + 3 * DAY);
      assert.ok(recounted >= 3, `the late events' minute, hour and day buckets are recounted (${recounted})`);
      await assertRollupsMatch(o.store, tagged);
    });

    it('recounts open hours and days only after their delay, closed ones on the next pass', async (t) => {
      const o = await open(t, engine);
      if (o === null) return;
      await withSensors(o.store, 's1');
      const now = D0 + 10 * 3_600_000 + 30 * 60_000; // 10:30 on D0
      const evs = makeEvents(60, 's1', 1, 50, D0 + 10 * 3_600_000, 20 * 60_000); // 10:00 to 10:20
      await o.store.ingest('s1', evs, now);
      const records = async (grain: Grain): Promise<number> => (await o.store.history('sensor', 's1', grain, D0, D0 + DAY)).reduce((n, r) => n + r.records, 0);
      const counted = (xs: IngestEvent[]): number => xs.filter((e) => e.event_type !== 'sensor_stats').length;
      const want = counted(evs);
      await o.store.rollup(now);
      assert.equal(await records('minute'), want, 'minutes at once');
      assert.equal(await records('hour'), 0, 'the open hour waits');
      assert.equal(await records('day'), 0, 'the open day waits');
      await o.store.rollup(now + 5 * 60_000);
      assert.equal(await records('hour'), want, 'the hour after 5 minutes');
      assert.equal(await records('day'), 0);
      // More events in the same day: its mark keeps its first time, so the hour's delay counts from then.
      const more = makeEvents(61, 's1', 51, 10, D0 + 12 * 3_600_000, 60_000);
      await o.store.ingest('s1', more, now + 30 * 60_000);
      await o.store.rollup(now + 60 * 60_000);
      assert.equal(await records('day'), want + counted(more), 'the day an hour after it was first marked');
      assert.equal(await o.store.rollup(now + 60 * 60_000), 0, 'nothing is due');
      const late = makeEvents(62, 's1', 61, 5, D0 + 23 * 3_600_000, 60_000);
      await o.store.ingest('s1', late, now + 70 * 60_000);
      assert.equal(await o.store.rollup(now + 71 * 60_000), 1, 'only the minute');
      assert.ok((await o.store.rollup(D0 + DAY)) >= 2, 'at the end of the day everything is due');
      assert.equal(await records('day'), want + counted(more) + counted(late));
    });

    it('two collectors ingesting and rolling up at once leave exact events and rollups', async (t) => {
      const o = await open(t, engine);
      if (o === null) return;
      const a = o.store;
      const b = await o.another();
      await withSensors(a, 'east', 'west');
      const east = makeEvents(11, 'east', 1, 1500, D0, 2 * 3_600_000);
      const west = makeEvents(12, 'west', 1, 1500, D0 + 3_600_000, 2 * 3_600_000);
      const work: Promise<unknown>[] = [];
      const eb = chunks(east, 100);
      const wb = chunks(west, 100);
      for (let i = 0; i < eb.length; i++) {
        work.push(a.ingest('east', eb[i]!, D0), b.ingest('west', wb[i]!, D0));
        // Rollup passes racing the ingests, from both collectors.
        if (i % 3 === 0) work.push(a.rollup(D0), b.rollup(D0));
      }
      // A resend of some of east's batches through the other collector.
      work.push(b.ingest('east', eb[2]!, D0), b.ingest('east', eb[5]!, D0));
      await Promise.all(work);
      // Once the buckets have closed, every mark is due.
      while ((await a.rollup(D0 + 2 * DAY)) + (await b.rollup(D0 + 2 * DAY)) > 0);
      assert.equal((await a.counts()).events, 3000);
      assert.equal((await b.getSensor('east'))!.acked, 1500);
      assert.equal((await b.getSensor('west'))!.acked, 1500);
      await assertRollupsMatch(b, [...east.map((e) => ({ ...e, sensor_id: 'east' })), ...west.map((e) => ({ ...e, sensor_id: 'west' }))]);
    });

    it('retention deletes old raw events, keeps their rollups, and waits for buckets still to recount', async (t) => {
      const o = await open(t, engine);
      if (o === null) return;
      const s = o.store;
      await withSensors(s, 's1');
      // Ten days, 12 events a day (seqs 1..120).
      const evs: IngestEvent[] = [];
      for (let d = 0; d < 10; d++) evs.push(...makeEvents(20 + d, 's1', d * 12 + 1, 12, D0 + d * DAY + 3_600_000, 3_600_000));
      await s.ingest('s1', evs, D0);
      const now = D0 + 10 * DAY + DAY / 2;
      await s.rollup(now);
      const dayRows = async (): Promise<RollupRow[]> => s.history('sensor', 's1', 'day', D0, D0 + 20 * DAY);
      const before = await dayRows();
      assert.equal(before.length, 10);
      // A late event in day 7 that no rollup pass has seen yet.
      const late = makeEvents(40, 's1', 121, 1, D0 + 7 * DAY + 1000, 1000)[0]!;
      await s.ingest('s1', [{ ...late, event_type: 'flow' }], now);
      const r1 = await s.retain(now, { events: 1, minute: 1, hour: 5, day: 0 });
      assert.equal(r1.events, 7 * 12, 'days 0..6 deleted; day 7 waits for its recount');
      assert.equal((await walk(s, { to: D0 + 7 * DAY }, 1000)).length, 0);
      assert.equal((await walk(s, { from: D0 + 7 * DAY }, 1000)).length, 3 * 12 + 1);
      assert.ok(r1.rollups > 0, 'minute and hour rollups past their retention are deleted');
      assert.deepEqual((await s.history('sensor', 's1', 'minute', D0, now)).filter((x) => x.bucket < bucketOf('minute', now - DAY)), []);
      assert.deepEqual((await s.history('sensor', 's1', 'hour', D0, now)).filter((x) => x.bucket < bucketOf('hour', now - 5 * DAY)), []);
      assert.deepEqual((await dayRows()).slice(0, 7), before.slice(0, 7), 'day rollups outlive the raw events');
      await s.rollup(now);
      const r2 = await s.retain(now, { events: 1, minute: 1, hour: 5, day: 0 });
      assert.equal(r2.events, 2 * 12 + 1, 'days 7 and 8 go once recounted');
      const after = await dayRows();
      assert.equal(after.length, 10);
      assert.equal(after[7]!.records, before[7]!.records + 1, 'day 7 counts the late event');
      assert.equal((await s.counts()).events, 12);
      // An event for a day whose raw events are gone cannot be recounted exactly: that day's rollup stays as it was.
      await s.ingest('s1', [{ ...makeEvents(41, 's1', 122, 1, D0 + DAY + 5000, 1000)[0]!, event_type: 'flow' }], now);
      assert.equal(await s.rollup(now), 0);
      assert.deepEqual((await dayRows())[1], before[1]);
      // Day rollups with day retention set go too.
      const r3 = await s.retain(now, { events: 1, minute: 1, hour: 5, day: 3 });
      assert.ok(r3.rollups >= 7);
      assert.equal((await dayRows())[0]!.bucket, bucketOf('day', now - 3 * DAY));
    });

    it('search filters match a JS filter, and cursor pagination walks every event exactly once, newest first', async (t) => {
      const o = await open(t, engine);
      if (o === null) return;
      await withSensors(o.store, 's1', 's2');
      const tagged: Tagged[] = [];
      for (const sensor of ['s1', 's2']) {
        const evs = makeEvents(sensor === 's1' ? 30 : 31, sensor, 1, 550, D0, 300_000); // 300 s: many events share a time
        for (const b of chunks(evs, 200)) await o.store.ingest(sensor, b, D0 + DAY);
        tagged.push(...evs.map((e) => ({ ...e, sensor_id: sensor })));
      }
      const all = await walk(o.store, {}, 7);
      assert.equal(all.length, 1100);
      assert.equal(new Set(all.map(id)).size, 1100, 'no event twice');
      for (let i = 1; i < all.length; i++) {
        const p = all[i - 1]!;
        const c = all[i]!;
        const desc = p.ts > c.ts || (p.ts === c.ts && (p.sensor_id > c.sensor_id || (p.sensor_id === c.sensor_id && p.seq > c.seq)));
        assert.ok(desc, `order at ${i}`);
      }
      const one = all.find((e) => e.sensor_id === 's2' && e.seq === 17)!;
      const src = tagged.find((e) => e.sensor_id === 's2' && e.seq === 17)!;
      assert.deepEqual(one, { ...src, received: D0 + DAY });

      const cases: { q: Parameters<Store['searchEvents']>[0]; f: (e: Tagged) => boolean }[] = [
        { q: { from: D0 + 60_000, to: D0 + 120_000 }, f: (e) => e.ts >= D0 + 60_000 && e.ts < D0 + 120_000 },
        { q: { event_type: 'alert' }, f: (e) => e.event_type === 'alert' },
        { q: { sensor_id: 's2' }, f: (e) => e.sensor_id === 's2' },
        { q: { ip: '192.0.2.3' }, f: (e) => e.src_ip === '192.0.2.3' || e.dest_ip === '192.0.2.3' },
        { q: { ip: '198.51.100.4' }, f: (e) => e.src_ip === '198.51.100.4' || e.dest_ip === '198.51.100.4' },
        { q: { port: 445 }, f: (e) => e.src_port === 445 || e.dest_port === 445 },
        { q: { sid: 2003 }, f: (e) => e.sid === 2003 },
        { q: { text: 'SASSER' }, f: (e) => e.json.toLowerCase().includes('sasser') },
        { q: { text: '100%' }, f: (e) => e.json.includes('100%') },
        { q: { text: 'icmpv4.unknown_' }, f: (e) => e.json.includes('icmpv4.unknown_') },
        { q: { event_type: 'alert', port: 445, sensor_id: 's1', from: D0 + 100_000 }, f: (e) => e.event_type === 'alert' && (e.src_port === 445 || e.dest_port === 445) && e.sensor_id === 's1' && e.ts >= D0 + 100_000 },
      ];
      for (const c of cases) {
        const got = (await walk(o.store, c.q, 50)).map(id).sort();
        const want = tagged.filter(c.f).map(id).sort();
        assert.deepEqual(got, want, JSON.stringify(c.q));
        if (c.q.text !== '100%') assert.ok(want.length > 0, `${JSON.stringify(c.q)} should match something`);
      }
      const capped = await o.store.searchEvents({ limit: 5000 });
      assert.equal(capped.events.length, 1000, 'limit is capped at 1000');
      assert.notEqual(capped.next, null);
      assert.equal((await o.store.searchEvents({})).events.length, 100, 'default limit 100');
      await assert.rejects(o.store.searchEvents({ cursor: 'not-a-cursor' }), (err: unknown) => err instanceof QueryError && /cursor/.test(err.message));
    });

    it('top ranks keys by records with ISC figures, and history lists a key oldest first', async (t) => {
      const o = await open(t, engine);
      if (o === null) return;
      await withSensors(o.store, 's1');
      const ev = (seq: number, ts: number, src: string, dest: string, port: number): IngestEvent => ({
        seq, ts, event_type: 'alert', src_ip: src, dest_ip: dest, src_port: 4000, dest_port: port, proto: 'TCP', sid: 2001, signature: 'x',
        json: JSON.stringify({ timestamp: new Date(ts).toISOString(), event_type: 'alert', seq }),
      });
      const h = 3_600_000;
      const batch = [
        ev(1, D0 + h, '10.0.0.1', '192.0.2.1', 445),
        ev(2, D0 + h, '10.0.0.2', '192.0.2.1', 445),
        ev(3, D0 + 2 * h, '10.0.0.3', '192.0.2.2', 445),
        ev(4, D0 + 2 * h, '10.0.0.1', '192.0.2.2', 445),
        ev(5, D0 + 3 * h, '10.0.0.1', '192.0.2.1', 445),
        ev(6, D0 + h, '10.0.0.9', '192.0.2.7', 80),
        ev(7, D0 + h, '10.0.0.9', '192.0.2.7', 80),
        ev(8, D0 + DAY + h, '10.0.0.4', '192.0.2.3', 445),
        ev(9, D0 + DAY + h, '10.0.0.5', '192.0.2.3', 445),
        ev(10, D0 + DAY + h, '10.0.0.5', '192.0.2.3', 135),
      ];
      await o.store.ingest('s1', batch, D0);
      await o.store.rollup(D0 + 3 * DAY);
      assert.deepEqual(await o.store.top('port', 'day', D0, D0 + DAY, 10), [
        { grain: 'day', bucket: D0, dim: 'port', key: '445', records: 5, sources: 3, targets: 2 },
        { grain: 'day', bucket: D0, dim: 'port', key: '80', records: 2, sources: 1, targets: 1 },
      ]);
      assert.deepEqual(await o.store.top('port', 'day', D0, D0 + DAY, 1), [{ grain: 'day', bucket: D0, dim: 'port', key: '445', records: 5, sources: 3, targets: 2 }]);
      // Two days: records add up; sources and targets are the larger day's (a lower bound of the two days' distinct count).
      assert.deepEqual(await o.store.top('port', 'day', D0, D0 + 2 * DAY, 10), [
        { grain: 'day', bucket: D0, dim: 'port', key: '445', records: 7, sources: 3, targets: 2 },
        { grain: 'day', bucket: D0, dim: 'port', key: '80', records: 2, sources: 1, targets: 1 },
        { grain: 'day', bucket: D0, dim: 'port', key: '135', records: 1, sources: 1, targets: 1 },
      ]);
      assert.deepEqual(await o.store.top('source', 'day', D0, D0 + DAY, 2), [
        { grain: 'day', bucket: D0, dim: 'source', key: '10.0.0.1', records: 3, sources: 1, targets: 2 },
        { grain: 'day', bucket: D0, dim: 'source', key: '10.0.0.9', records: 2, sources: 1, targets: 1 },
      ]);
      assert.deepEqual(await o.store.top('signature', 'day', D0, D0 + DAY, 5), [{ grain: 'day', bucket: D0, dim: 'signature', key: '2001', records: 7, sources: 4, targets: 3 }]);
      assert.deepEqual(await o.store.top('port', 'day', D0 + 1, D0 + DAY, 10), [], 'no bucket starts in the range');
      assert.deepEqual(await o.store.history('port', '445', 'day', D0, D0 + 10 * DAY), [
        { grain: 'day', bucket: D0, dim: 'port', key: '445', records: 5, sources: 3, targets: 2 },
        { grain: 'day', bucket: D0 + DAY, dim: 'port', key: '445', records: 2, sources: 2, targets: 1 },
      ]);
      assert.deepEqual(
        (await o.store.history('port', '445', 'hour', D0, D0 + DAY)).map((x) => [x.bucket - D0, x.records, x.sources, x.targets]),
        [
          [h, 2, 2, 1],
          [2 * h, 2, 2, 1],
          [3 * h, 1, 1, 1],
        ],
      );
      assert.deepEqual(await o.store.history('port', '9999', 'day', D0, D0 + DAY), []);
      assert.equal((await o.store.history('port', '445', 'minute', -1e15, 1e15)).length, 4, 'a huge range is cut to where rollups exist');
      await assert.rejects(o.store.top('port', 'week' as Grain, D0, D0 + DAY, 10), /unknown grain "week"/);
      await assert.rejects(o.store.history('colour' as Dimension, 'x', 'day', D0, D0 + DAY), /unknown dimension "colour"/);
    });

    it('host verdicts come grouped by host, newest first', async (t) => {
      const o = await open(t, engine);
      if (o === null) return;
      await withSensors(o.store, 's1');
      const verdict = (seq: number, ts: number, host: string, kind: string): IngestEvent => ({
        seq, ts, event_type: 'verdict', src_ip: null, dest_ip: null, src_port: null, dest_port: null, proto: null, sid: null, signature: null,
        json: JSON.stringify({ timestamp: new Date(ts).toISOString(), event_type: 'verdict', seq, verdict: { host, verdict: kind, confidence: 0.9 } }),
      });
      await o.store.ingest('s1', [verdict(1, D0 + 1000, '192.168.1.5', 'worm'), verdict(2, D0 + 2000, '192.168.1.9', 'bot'), verdict(3, D0 + 3000, '192.168.1.5', 'bot'), ...makeEvents(50, 's1', 4, 20, D0, 5000)], D0);
      const all = await o.store.verdicts(10);
      assert.deepEqual(
        all.map((h) => [h.host, h.verdicts.map((v) => (v.verdict as { verdict: string }).verdict)]),
        [
          ['192.168.1.5', ['bot', 'worm']],
          ['192.168.1.9', ['bot']],
        ],
      );
      assert.equal(all[0]!.verdicts[0]!.seq, 3);
      assert.deepEqual(
        (await o.store.verdicts(10, '192.168.1.9')).map((h) => h.host),
        ['192.168.1.9'],
      );
      assert.equal((await o.store.verdicts(1)).length, 1);
      assert.deepEqual(await o.store.verdicts(10, '10.9.9.9'), []);
    });

    it('tokens are spent atomically, run out of uses and expire', async (t) => {
      const o = await open(t, engine);
      if (o === null) return;
      const s = o.store;
      await s.addToken({ hash: 'h-two', created: D0, expires: D0 + 1000, uses: 2 });
      assert.equal(await s.redeemToken('h-two', D0), true);
      assert.equal(await s.redeemToken('h-two', D0 + 1), true);
      assert.equal(await s.redeemToken('h-two', D0 + 2), false, 'no uses left');
      await s.addToken({ hash: 'h-old', created: D0, expires: D0 + 1000, uses: 5 });
      assert.equal(await s.redeemToken('h-old', D0 + 1000), false, 'expired at its expiry time');
      assert.equal(await s.redeemToken('h-old', D0 + 999), true);
      await s.addToken({ hash: 'h-forever', created: D0, expires: null, uses: 1 });
      assert.equal(await s.redeemToken('h-forever', D0 + 100 * DAY), true);
      assert.equal(await s.redeemToken('h-forever', D0 + 100 * DAY), false);
      assert.equal(await s.redeemToken('h-unknown', D0), false);
      await s.addToken({ hash: 'h-race', created: D0, expires: null, uses: 1 });
      const other = await o.another();
      const wins = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? s : other).redeemToken('h-race', D0)));
      assert.equal(wins.filter(Boolean).length, 1, 'a one-use token enrols once, however many try at once');
    });

    it('nonces are refused when replayed and forgotten after their window', async (t) => {
      const o = await open(t, engine);
      if (o === null) return;
      const s = o.store;
      const win = 600_000;
      assert.equal(await s.useNonce('s1', 'aa11', D0, D0 - win), true);
      assert.equal(await s.useNonce('s1', 'aa11', D0 + 1000, D0 + 1000 - win), false, 'replayed');
      assert.equal(await s.useNonce('s2', 'aa11', D0 + 1000, D0 + 1000 - win), true, 'nonces are per sensor');
      assert.equal(await s.useNonce('s1', 'bb22', D0 + 2000, D0 + 2000 - win), true);
      const later = D0 + win + 5000;
      assert.equal(await s.useNonce('s1', 'aa11', later, later - win), true, 'past the window it is forgotten');
      assert.equal(await s.useNonce('s1', 'aa11', later + 1, later + 1 - win), false, 'and remembered again');
    });

    it('sensors: enrolment, last seen and health, revocation that keeps its first time', async (t) => {
      const o = await open(t, engine);
      if (o === null) return;
      const s = o.store;
      await withSensors(s, 's1', 's2');
      await assert.rejects(s.addSensor({ id: 's1', name: 'again', secret: 'x', enrolled: D0 }));
      assert.deepEqual(await s.getSensor('s1'), { id: 's1', name: 's1-name', secret: 'ab'.repeat(32), enrolled: D0, revoked: null, last_seen: null, acked: 0, version: null, stats: null });
      assert.equal(await s.getSensor('nobody'), undefined);
      await s.touchSensor('s1', D0 + 5000);
      await s.touchSensor('s1', D0 + 4000); // a request that finished late does not move last_seen back
      const stats = { pps: 1200, capture_drops: 3, spool_depth: 17, acked_seq: 90 };
      await s.touchSensor('s1', D0 + 6000, { version: '0.1.0', stats });
      const s1 = (await s.getSensor('s1'))!;
      assert.equal(s1.last_seen, D0 + 6000);
      assert.equal(s1.version, '0.1.0');
      assert.deepEqual(s1.stats, stats);
      assert.equal(await s.revokeSensor('nobody', D0), false);
      assert.equal(await s.revokeSensor('s2', D0 + 10), true);
      assert.equal(await s.revokeSensor('s2', D0 + 20), true);
      assert.equal((await s.getSensor('s2'))!.revoked, D0 + 10, 'revoking again keeps the first time');
      const other = await o.another();
      assert.equal((await other.getSensor('s2'))!.revoked, D0 + 10, 'every collector sees it at once');
      assert.deepEqual(
        (await s.listSensors()).map((x) => [x.id, x.revoked]),
        [
          ['s1', null],
          ['s2', D0 + 10],
        ],
      );
      assert.deepEqual(await s.counts(), { events: 0, sensors: 2, revoked: 1 });
    });
  });
}
