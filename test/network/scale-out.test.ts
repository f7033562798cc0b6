import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { tempDir } from '../helpers.js';
import { postgres } from '../collector/pg.js';
import { freePort, kill, startOutpost, waitFor } from './harness.js';
import { openStore } from '../../src/collector/store/index.js';
import { collector, DAY, enrol, fillSpool, sensorConfig, sensorIdOf } from './kit.js';

/**
 * The scale-out "must show": two collector processes on one PostgreSQL, four sensors split
 * between them, each shipping 25,000 events at once, both collectors running rollup passes every
 * second. Afterwards: no loss, no duplicates, and the day's rollups equal a recount from the raw
 * events, for every dimension.
 */

const PER_SENSOR = 25_000;

test('two collectors on one PostgreSQL: no loss, no duplicates, rollups equal a recount', { timeout: 300_000 }, async (t) => {
  const database = await postgres(t);
  if (database === null) return;
  const dir = tempDir(t);
  const data = join(dir, 'collector'); // shared: both serve the same CA and certificate
  const cfg = join(dir, 'collector.yaml');
  writeFileSync(cfg, 'collector:\n  rollup-interval: 1\n');
  const listens = [`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`];
  const a = await collector(t, ['--config', cfg, '--data', data, '--database', database, '--listen', listens[0]!]);
  const b = await collector(t, ['--config', cfg, '--data', data, '--database', database, '--listen', listens[1]!]);

  const sensors: Array<{ id: string; config: string }> = [];
  for (let i = 0; i < 4; i++) {
    const name = `sensor-${i}`;
    const credentials = enrol(['--database', database], `https://${listens[i % 2]!}`, dir, name);
    const spool = join(dir, `${name}-spool`);
    fillSpool(spool, PER_SENSOR, i * PER_SENSOR);
    sensors.push({ id: sensorIdOf(credentials, (p) => readFileSync(p, 'utf8')), config: sensorConfig(dir, name, credentials, spool) });
  }
  const running = sensors.map((s) => startOutpost(t, ['sensor', '--config', s.config]));

  const db = new pg.Client({ connectionString: database });
  await db.connect();
  db.on('error', () => undefined); // the database is dropped when the test ends
  await waitFor(
    'every sensor acknowledged',
    async () => {
      const r = await db.query<{ n: string }>('SELECT COUNT(*) AS n FROM sensors WHERE acked >= $1', [PER_SENSOR]);
      return Number(r.rows[0]!.n) === sensors.length ? true : undefined;
    },
    180_000,
    200,
  );
  for (const s of running) await kill(s, 'SIGTERM');

  for (const s of sensors) {
    const r = await db.query<{ n: string; d: string; lo: string; hi: string }>(
      'SELECT COUNT(*) AS n, COUNT(DISTINCT seq) AS d, MIN(seq) AS lo, MAX(seq) AS hi FROM events WHERE sensor_id = $1 AND seq <= $2',
      [s.id, PER_SENSOR],
    );
    assert.deepEqual(r.rows[0], { n: String(PER_SENSOR), d: String(PER_SENSOR), lo: '1', hi: String(PER_SENSOR) }, `sensor ${s.id}: seq 1..${PER_SENSOR} each stored once`);
  }

  // Let both collectors' passes recount the day (its buckets are long closed, so due at once);
  // the sensors' own sensor_stats records fall on today, whose buckets wait until they close.
  await waitFor('the rollup passes to recount the day', async () => {
    const r = await db.query<{ n: string }>('SELECT COUNT(*) AS n FROM rollup_dirty WHERE bucket < $1', [(DAY + 86_400) * 1000]);
    return r.rows[0]!.n === '0' ? true : undefined;
  }, 60_000, 200);
  await kill(a, 'SIGTERM');
  await kill(b, 'SIGTERM');
  const store = await openStore({ database });
  await store.rollup(Date.now());

  const day = DAY * 1000;
  const recount = async (column: string): Promise<Map<string, [number, number, number]>> => {
    const r = await db.query<{ k: string; n: string; s: string; d: string }>(
      `SELECT ${column}::text AS k, COUNT(*) AS n, COUNT(DISTINCT src_ip) AS s, COUNT(DISTINCT dest_ip) AS d FROM events WHERE ts >= $1 AND ts < $2 AND ${column} IS NOT NULL GROUP BY ${column}`,
      [day, day + 86_400_000],
    );
    return new Map(r.rows.map((row) => [row.k, [Number(row.n), Number(row.s), Number(row.d)]]));
  };
  for (const [dim, column] of [['port', 'dest_port'], ['signature', 'sid'], ['sensor', 'sensor_id'], ['source', 'src_ip']] as const) {
    const want = await recount(column);
    // Every rolled-up row of the day (top() answers at most 10,000 keys; there are 16,384 sources).
    const r = await db.query<{ key: string; records: string; sources: string; targets: string }>("SELECT key, records, sources, targets FROM rollups WHERE grain = 'day' AND dim = $1 AND bucket = $2", [dim, day]);
    const got = new Map(r.rows.map((x) => [x.key, [Number(x.records), Number(x.sources), Number(x.targets)] as [number, number, number]]));
    assert.equal(got.size, want.size, `${dim}: as many keys rolled up as recounted`);
    assert.deepEqual(got, want, `${dim}: the day's rollup equals a recount from raw events`);
    // And the API's view of it: the top keys, in order, with the same figures.
    const top = await store.top(dim, 'day', day, day + 86_400_000, 10);
    const best = [...want.entries()].sort((a, b) => b[1][0] - a[1][0]).slice(0, 10);
    assert.deepEqual(top.map((x) => x.records), best.map(([, v]) => v[0]), `${dim}: top() ranks by records`);
    for (const x of top) assert.deepEqual([x.records, x.sources, x.targets], want.get(x.key), `${dim} ${x.key}: top() figures`);
  }
  await store.close();
  await db.end();
});
