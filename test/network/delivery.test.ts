import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { tempDir } from '../helpers.js';
import { freePort, kill, startOutpost, waitFor, type Proc } from './harness.js';
import { alert, collector, enrol, fillSpool, sensorConfig, sensorIdOf } from './kit.js';

/**
 * The "must show" on delivery: a sensor ships 200,000 events while the collector is
 * killed with SIGKILL twice and restarted, or while the sensor itself is; afterwards every event
 * is stored exactly once, checked by count and by sequence set. Real processes, real HTTPS, the
 * real SQLite store. The collector is rate-limited so the stream lasts long enough to be cut.
 */

const EVENTS = 200_000;

/** Count, lowest and highest seq stored for a sensor, and how many of seq 1..n are there. */
function tally(data: string, sensor: string, n: number): { count: number; min: number; max: number; inRange: number } {
  const db = new Database(join(data, 'outpost.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT COUNT(*) AS count, MIN(seq) AS min, MAX(seq) AS max, SUM(CASE WHEN seq BETWEEN 1 AND ? THEN 1 ELSE 0 END) AS inRange FROM events WHERE sensor_id = ?').get(n, sensor) as { count: number; min: number; max: number; inRange: number };
  } finally {
    db.close();
  }
}

/** The collector's acknowledgement for a sensor (0 before the first). */
function acked(data: string, sensor: string): number {
  try {
    const db = new Database(join(data, 'outpost.db'), { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT acked FROM sensors WHERE id = ?').get(sensor) as { acked: number } | undefined)?.acked ?? 0;
    } finally {
      db.close();
    }
  } catch {
    return 0; // the collector is restarting
  }
}

async function setUp(t: Parameters<typeof tempDir>[0]): Promise<{ dir: string; data: string; listen: string; collectorArgs: string[]; config: string; sensor: string }> {
  const dir = tempDir(t);
  const data = join(dir, 'collector');
  const listen = `127.0.0.1:${await freePort()}`;
  const cfg = join(dir, 'collector.yaml');
  // 25,000 events/s: 200,000 take some eight seconds, long enough to cut twice.
  writeFileSync(cfg, 'collector:\n  ingest:\n    rate-limit: 25000\n  rollup-interval: 3600\n');
  const collectorArgs = ['--config', cfg, '--data', data, '--listen', listen];
  const c = await collector(t, collectorArgs);
  const credentials = enrol(['--data', data], `https://${listen}`, dir, 'sensor-a');
  await kill(c, 'SIGTERM');
  const spool = join(dir, 'spool');
  fillSpool(spool, EVENTS);
  const config = sensorConfig(dir, 'sensor-a', credentials, spool);
  return { dir, data, listen, collectorArgs, config, sensor: sensorIdOf(credentials, (p) => readFileSync(p, 'utf8')) };
}

function assertExactlyOnce(data: string, sensor: string): void {
  const s = tally(data, sensor, EVENTS);
  assert.equal(s.inRange, EVENTS, 'every one of seq 1..200000 is stored');
  assert.equal(s.min, 1);
  assert.equal(s.count, s.max, 'the stored seqs are exactly 1..max: no hole');
  // Each seq holds the event spooled under it (not another spooled twice under a new number),
  // and beyond the 200,000 come only the sensor's own sensor_stats records.
  const db = new Database(join(data, 'outpost.db'), { readonly: true, fileMustExist: true });
  try {
    const wrong: string[] = [];
    for (const r of db.prepare('SELECT seq, event_type, src_ip, dest_ip, src_port FROM events WHERE sensor_id = ? ORDER BY seq').iterate(sensor) as Iterable<{ seq: number; event_type: string; src_ip: string; dest_ip: string; src_port: number }>) {
      if (r.seq > EVENTS) {
        if (r.event_type !== 'sensor_stats') wrong.push(`seq ${r.seq}: ${r.event_type} beyond the spooled events`);
        continue;
      }
      const want = alert(r.seq - 1);
      if (r.event_type !== 'alert' || r.src_ip !== want.src_ip || r.dest_ip !== want.dest_ip || r.src_port !== want.src_port) wrong.push(`seq ${r.seq}: not the event spooled under it`);
      if (wrong.length > 5) break;
    }
    assert.deepEqual(wrong, []);
  } finally {
    db.close();
  }
}

test('the collector killed twice mid-stream: every one of 200,000 events stored exactly once', { timeout: 300_000 }, async (t) => {
  const { data, collectorArgs, config, sensor } = await setUp(t);
  const s = startOutpost(t, ['sensor', '--config', config]);
  let c: Proc = await collector(t, collectorArgs);
  for (const cut of [50_000, 120_000]) {
    const at = await waitFor(`ack past ${cut}`, () => {
      const a = acked(data, sensor);
      return a >= cut ? a : undefined;
    }, 120_000);
    await kill(c, 'SIGKILL');
    assert.ok(at < EVENTS, `the collector was killed mid-stream (acknowledged ${at} of ${EVENTS})`);
    c = await collector(t, collectorArgs);
  }
  await waitFor('every event acknowledged', () => (acked(data, sensor) >= EVENTS ? true : undefined), 180_000);
  await kill(s, 'SIGTERM');
  await kill(c, 'SIGTERM');
  assertExactlyOnce(data, sensor);
});

test('the sensor killed twice mid-ship: every one of 200,000 events stored exactly once', { timeout: 300_000 }, async (t) => {
  const { data, collectorArgs, config, sensor } = await setUp(t);
  const c = await collector(t, collectorArgs);
  let s: Proc = startOutpost(t, ['sensor', '--config', config]);
  for (const cut of [50_000, 120_000]) {
    const at = await waitFor(`ack past ${cut}`, () => {
      const a = acked(data, sensor);
      return a >= cut ? a : undefined;
    }, 120_000);
    await kill(s, 'SIGKILL');
    assert.ok(at < EVENTS, `the sensor was killed mid-ship (acknowledged ${at} of ${EVENTS})`);
    s = startOutpost(t, ['sensor', '--config', config]);
  }
  await waitFor('every event acknowledged', () => (acked(data, sensor) >= EVENTS ? true : undefined), 180_000);
  await kill(s, 'SIGTERM');
  await kill(c, 'SIGTERM');
  assertExactlyOnce(data, sensor);
});
