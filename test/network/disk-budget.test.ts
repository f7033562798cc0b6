import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeScenario } from '../../src/synth/scenarios/index.js';
import { tempDir } from '../helpers.js';
import { freePort, kill, startOutpost, waitFor } from './harness.js';
import { collector, enrol, sensorConfig, sensorIdOf, storeOf } from './kit.js';


/**
 * The disk-budget "must show": a sensor whose collector is down and whose spool budget is
 * far too small keeps running; the spool drops its oldest events, counts them, says so in
 * spool_drop records and on /healthz; when the collector comes back, what is left ships, the
 * acknowledgement passes over the hole, and the spool_drop records reach the collector.
 */
test('the disk budget runs out: drops are counted and reported, the sensor keeps running, the rest ships', { timeout: 180_000 }, async (t) => {
  const dir = tempDir(t);
  const data = join(dir, 'collector');
  const listen = `127.0.0.1:${await freePort()}`;
  const c0 = await collector(t, ['--data', data, '--listen', listen]);
  const credentials = enrol(['--data', data], `https://${listen}`, dir, 'small');
  await kill(c0, 'SIGTERM'); // the collector is down from here on

  const watch = join(dir, 'incoming');
  mkdirSync(watch);
  const healthz = `127.0.0.1:${await freePort()}`;
  const config = sensorConfig(dir, 'small', credentials, join(dir, 'spool'), {
    spool: { dir: join(dir, 'spool'), budget: '192kb', 'segment-size': '64kb', fsync: 'batch' },
    inputs: { watch },
    healthz,
    'stats-interval': 1,
  });
  const sensor = startOutpost(t, ['sensor', '--config', config]);
  const capture = join(dir, 'seed.pcap');
  writeScenario('seed-bot', capture);
  copyFileSync(capture, join(watch, '.seed.pcap.part'));
  renameSync(join(watch, '.seed.pcap.part'), join(watch, 'seed.pcap'));

  const eve = join(dir, 'small-eve.json');
  const drops = await waitFor('spool_drop records in eve.json', () => {
    let text = '';
    try {
      text = readFileSync(eve, 'utf8');
    } catch {
      return undefined;
    }
    const recs = text.split('\n').filter((l) => l.includes('"spool_drop"')).map((l) => JSON.parse(l) as { spool_drop: { dropped: number; total_dropped: number; budget: number } });
    return recs.length > 0 && text.includes('"verdict"') ? recs : undefined;
  }, 120_000, 200);
  assert.ok(drops.every((d) => d.spool_drop.dropped > 0 && d.spool_drop.budget === 192 * 1024));
  const total = drops.at(-1)!.spool_drop.total_dropped;

  // Still running, and saying so: /healthz answers (503 while dropping) with the count.
  const health = await waitFor('/healthz to report the drops', async () => {
    const res = await fetch(`http://${healthz}/healthz`).catch(() => null);
    if (res === null) return undefined;
    const body = (await res.json()) as { sensor_stats?: { spool_dropped?: number } };
    const dropped = body.sensor_stats?.spool_dropped ?? 0;
    return dropped >= total ? { status: res.status, dropped } : undefined;
  }, 30_000, 200);
  assert.ok(health.dropped >= total);
  assert.equal(health.status, 503, '/healthz says the spool is dropping');
  assert.equal(sensor.child.exitCode, null, 'the sensor is still running');

  // The collector returns: the rest ships, the acknowledgement passes the hole.
  const c1 = await collector(t, ['--data', data, '--listen', listen]);
  const id = sensorIdOf(credentials, (p) => readFileSync(p, 'utf8'));
  const store = await storeOf(t, { data });
  const row = await waitFor('the spool to drain', async () => {
    const res = await fetch(`http://${healthz}/healthz`).catch(() => null);
    const body = res === null ? null : ((await res.json()) as { sensor_stats?: { spool_depth?: number } });
    const s = await store.getSensor(id);
    const depth = body?.sensor_stats?.spool_depth;
    return s !== undefined && depth === 0 ? s : undefined;
  }, 60_000, 200);
  await kill(sensor, 'SIGTERM');
  await kill(c1, 'SIGTERM');
  const page = await store.searchEvents({ event_type: 'spool_drop', limit: 1000 });
  assert.ok(page.events.length > 0, 'the spool_drop records reached the collector');
  const stored = (await store.counts()).events;
  assert.ok(row.acked > stored, `the acknowledgement (${row.acked}) passed over the ${total} dropped events (stored ${stored})`);
});
