import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { writeScenario } from '../../src/synth/scenarios/index.js';
import { tempDir } from '../helpers.js';
import { freePort, kill, startOutpost, waitFor } from './harness.js';
import { collector, enrol, sensorConfig, sensorIdOf, storeOf } from './kit.js';

/**
 * A sensor whose spool is lost while its credentials stay must not number from 1 again: the
 * collector would take its new events for the old ones and drop them as duplicates. The second
 * spool numbers past the first, and every event of both runs is stored.
 */
test('a lost spool under kept credentials: the new events are stored, not taken for duplicates', { timeout: 180_000 }, async (t) => {
  const dir = tempDir(t);
  const data = join(dir, 'collector');
  const listen = `127.0.0.1:${await freePort()}`;
  const c = await collector(t, ['--data', data, '--listen', listen]);
  const credentials = enrol(['--data', data], `https://${listen}`, dir, 'again');
  const spool = join(dir, 'spool');
  const healthz = `127.0.0.1:${await freePort()}`;
  const config = sensorConfig(dir, 'again', credentials, spool, { healthz });
  const capture = join(dir, 'seed.pcap');
  writeScenario('seed-bot', capture);
  const store = await storeOf(t, { data });
  const id = sensorIdOf(credentials, (p) => readFileSync(p, 'utf8'));
  const pctStored = async (): Promise<number> => (await store.searchEvents({ event_type: 'pct', sensor_id: id, limit: 1000 })).events.length;

  const run = async (name: string, before: number): Promise<void> => {
    const s = startOutpost(t, ['sensor', '--config', config]);
    await waitFor('healthz', async () => ((await fetch(`http://${healthz}/healthz`).catch(() => null)) !== null ? true : undefined));
    copyFileSync(capture, join(dir, 'again-incoming', `.${name}`));
    renameSync(join(dir, 'again-incoming', `.${name}`), join(dir, 'again-incoming', name));
    await waitFor(`${name} read and shipped (sensor said: ${s.stderr().slice(-800)})`, async () => {
      const res = await fetch(`http://${healthz}/healthz`).catch(() => null);
      const body = res === null ? null : ((await res.json()) as { sensor_stats?: { spool_depth?: number; next_seq?: number } });
      const st = body?.sensor_stats;
      return st != null && st.spool_depth === 0 && (await pctStored()) > before ? true : undefined;
    }, 120_000, 250);
    await kill(s, 'SIGTERM');
  };

  await run('first.pcap', 0);
  const first = await pctStored();
  assert.ok(first > 0, 'the first run stored its pct records');
  // The spool is lost (and the watched directory's memory with it: the first capture goes too).
  rmSync(spool, { recursive: true, force: true });
  rmSync(join(dir, 'again-incoming', 'first.pcap'));
  await run('second.pcap', first);
  // Settled: a moment more changes nothing.
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(await pctStored(), 2 * first, 'the second run stored its own, as many again');
  // Every record either run wrote (eve.json has them all) is stored: none was taken for a duplicate.
  const written = readFileSync(join(dir, 'again-eve.json'), 'utf8').split('\n').filter((l) => l !== '' && !l.includes('"event_type":"sensor_stats"')).length;
  const db = new Database(join(data, 'outpost.db'), { readonly: true });
  const stored = (db.prepare("SELECT COUNT(*) AS n FROM events WHERE sensor_id = ? AND event_type <> 'sensor_stats'").get(id) as { n: number }).n;
  db.close();
  assert.equal(stored, written, 'every record of both runs is stored');
  await kill(c, 'SIGTERM');
});
