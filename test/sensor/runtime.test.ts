import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { defaultConfig, type Config } from '../../src/config/config.js';
import type { SensorStatsEvent } from '../../src/events/sensor.js';
import { healthReply } from '../../src/sensor/health.js';
import { DirectoryWatch, QUIET_MS, WatchState } from '../../src/sensor/inputs.js';
import { startSensor, type RuntimeOptions, type SensorRuntime } from '../../src/sensor/runtime.js';
import { Spool } from '../../src/sensor/spool.js';
import { writeScenario } from '../../src/synth/scenarios/index.js';
import { outpostBin, repoRoot, tempDir } from '../helpers.js';
import { FakeCollector } from './fake-collector.js';

const RULES = join(repoRoot, 'rules', 'outpost.rules');
type Rec = Record<string, unknown>;

/** Detectors whose state spans flows (a scan's targets, a flood's sources, a host's listeners) and the correlator reading them: their records depend on how flows are split over workers (NOTES.md). */
const CROSS_FLOW = new Set(['scan', 'flood', 'backdoor', 'verdict']);
/** The sensor's own records. */
const OWN = new Set(['sensor_stats', 'spool_drop']);

let dir = '';
let seedBot = '';
let benign = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'outpost-runtime-'));
  seedBot = join(dir, 'seed-bot.pcap');
  benign = join(dir, 'benign.pcap');
  writeScenario('seed-bot', seedBot);
  writeScenario('benign', benign);
});
after(() => rmSync(dir, { recursive: true, force: true }));

function configIn(base: string): Config {
  return defaultConfig(base);
}

function readEve(path: string): Rec[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Rec);
}

/** A record as a comparable string: sorted keys, without what differs from run to run (seq, flow_id, sensor_id). */
function canonical(r: unknown): string {
  const strip = (o: unknown): unknown => {
    if (Array.isArray(o)) return o.map(strip);
    if (o !== null && typeof o === 'object') {
      const out: Rec = {};
      for (const k of Object.keys(o).sort()) if (k !== 'seq' && k !== 'flow_id' && k !== 'sensor_id') out[k] = strip((o as Rec)[k]);
      return out;
    }
    return o;
  };
  return JSON.stringify(strip(r));
}

function multiset(records: Rec[], keep: (r: Rec) => boolean): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of records) if (keep(r)) m.set(canonical(r), (m.get(canonical(r)) ?? 0) + 1);
  return m;
}

function assertSameMultiset(a: Map<string, number>, b: Map<string, number>, what: string): void {
  const diffs: string[] = [];
  for (const [k, n] of a) if (b.get(k) !== n) diffs.push(`${n} vs ${b.get(k) ?? 0}: ${k.slice(0, 200)}`);
  for (const [k, n] of b) if (!a.has(k)) diffs.push(`0 vs ${n}: ${k.slice(0, 200)}`);
  assert.deepEqual(diffs.slice(0, 5), [], `${what}: ${diffs.length} records differ`);
}

/** Runs the sensor over files to the end; returns its eve.json records and the runtime (stopped). */
async function runFiles(base: string, files: string[], workers: number, extra: RuntimeOptions = {}): Promise<{ records: Rec[]; sensor: SensorRuntime; config: Config }> {
  const config = configIn(base);
  const sensor = await startSensor(config, { inputs: { files }, workers, ship: false, rules: [RULES], healthz: null, log: () => undefined, ...extra });
  await sensor.done;
  await sensor.stop();
  return { records: readEve(config.sensor.eve.path!), sensor, config };
}

/** Every spooled event, by reopening the spool after the sensor stopped. */
function spooled(config: Config): Array<{ seq: number; rec: Rec }> {
  const spool = Spool.open({ ...config.sensor.spool });
  try {
    const out: Array<{ seq: number; rec: Rec }> = [];
    let after = 0;
    for (;;) {
      const b = spool.read(after, 10000, 64 * 1024 * 1024);
      if (b === null) break;
      for (const line of b.lines) {
        const rec = JSON.parse(line) as Rec;
        out.push({ seq: rec.seq as number, rec });
      }
      after = b.lastSeq;
    }
    return out;
  } finally {
    spool.close();
  }
}

test('a capture gives the same records through 1 worker and through 2', async (t) => {
  const one = await runFiles(join(tempDir(t), 'one'), [benign], 1);
  const two = await runFiles(join(tempDir(t), 'two'), [benign], 2);
  assert.equal(one.sensor.workers, 1);
  assert.equal(two.sensor.workers, 2);
  const packetPath = (r: Rec): boolean => !OWN.has(r.event_type as string);
  assert.ok(one.records.filter(packetPath).length > 200, `${one.records.length} records`);
  assertSameMultiset(multiset(one.records, packetPath), multiset(two.records, packetPath), 'benign, 1 vs 2 workers');

  // The seed bot's story: flows, protocols, alerts, per-flow detectors agree; the cross-flow
  // detectors see each worker's share of the flows (NOTES.md), so only they may differ.
  const s1 = await runFiles(join(tempDir(t), 's1'), [seedBot], 1);
  const s2 = await runFiles(join(tempDir(t), 's2'), [seedBot], 2);
  const perFlow = (r: Rec): boolean => packetPath(r) && !CROSS_FLOW.has(r.event_type as string);
  assertSameMultiset(multiset(s1.records, perFlow), multiset(s2.records, perFlow), 'seed-bot per-flow records, 1 vs 2 workers');
  assert.ok(s1.records.some((r) => r.event_type === 'alert') && s1.records.some((r) => r.event_type === 'irc'));

  // One worker is `outpost analyze`, verdict and all.
  const out = join(tempDir(t), 'analyze');
  execFileSync(process.execPath, [outpostBin, 'analyze', seedBot, '--rules', RULES, '--out', out, '-q']);
  assertSameMultiset(multiset(readEve(join(out, 'eve.json')), () => true), multiset(s1.records, packetPath), 'seed-bot, analyze vs the sensor with 1 worker');
  assert.equal(s1.records.filter((r) => r.event_type === 'verdict').length, 1);
});

test('every record is spooled exactly once, seq 1..N, and eve.json says the same', async (t) => {
  const { records, config, sensor } = await runFiles(join(tempDir(t), 's'), [seedBot], 2);
  const events = spooled(config);
  assert.equal(events.length, records.length);
  events.forEach((e, i) => assert.equal(e.seq, i + 1, 'contiguous from 1'));
  // eve.json holds the same records with the same numbers (the order may differ: both are the path's order).
  const bySeq = new Map(records.map((r) => [r.seq as number, canonical(r)]));
  for (const e of events) assert.equal(bySeq.get(e.seq), canonical(e.rec), `seq ${e.seq}`);
  assert.equal(sensor.stats().next_seq, events.length + 1);
  // A verdict cites spool seqs, of the records it names.
  const verdict = records.find((r) => r.event_type === 'verdict') as { verdict: { evidence: Array<{ seq?: number; event_type: string; timestamp: string }> } } | undefined;
  assert.ok(verdict !== undefined);
  for (const ev of verdict.verdict.evidence) {
    assert.ok(ev.seq !== undefined);
    const cited = events[ev.seq - 1]!.rec;
    assert.equal(cited.event_type, ev.event_type, `evidence seq ${ev.seq}`);
  }
});

test('sensor_stats records report the run', async (t) => {
  const { records, sensor } = await runFiles(join(tempDir(t), 's'), [seedBot], 2);
  const stats = records.filter((r) => r.event_type === 'sensor_stats') as unknown as SensorStatsEvent[];
  assert.ok(stats.length >= 1);
  const last = stats[stats.length - 1]!.sensor_stats;
  const frames = records.reduce((n, r) => Math.max(n, (r.pcap_cnt as number | undefined) ?? 0), 0);
  assert.ok(last.packets >= frames && last.packets > 1000, `packets ${last.packets}`);
  assert.equal(last.internal_drops, 0);
  assert.equal(last.capture_drops, 0);
  assert.equal(last.spool_dropped, 0);
  assert.equal(last.acked_seq, 0, 'local only: nothing acknowledged');
  // The last sensor_stats is the last record: every other one is before it in the spool.
  assert.equal(last.next_seq, records.length);
  assert.equal(last.spool_depth, records.length - 1);
  assert.equal(last.rules.loaded, 2);
  assert.ok((last.rules.alerts ?? 0) >= 1);
  assert.ok((last.app_layer['detected.http'] ?? 0) > 0 && (last.app_layer['detected.irc'] ?? 0) > 0);
  assert.match(last.version, /^\d+\.\d+\.\d+/);
  assert.deepEqual(sensor.stats().packets, last.packets);
});

test('a watched directory: a file dropped in after start is read once, and not again after a restart', async (t) => {
  const base = tempDir(t);
  const watch = join(base, 'incoming');
  mkdirSync(watch);
  const config = configIn(base);
  const notices: string[] = [];
  const opts: RuntimeOptions = { inputs: { watch, files: [] }, workers: 2, ship: false, rules: [RULES], healthz: null, log: (l) => notices.push(l) };

  let sensor = await startSensor(config, opts);
  // Written under a temporary name, then renamed in: complete on arrival.
  const tmp = join(base, 'a.tmp');
  copyFileSync(benign, tmp);
  renameSync(tmp, join(watch, 'a.pcap'));
  utimesSync(join(watch, 'a.pcap'), new Date(Date.now() - 10_000), new Date(Date.now() - 10_000));
  const flowsOfA = await until(() => sensor.recordCounts().get('flow') ?? 0, (n) => n > 0 && notices.some((l) => l.includes('a.pcap')));
  await until(
    () => readEve(config.sensor.eve.path!).length,
    () => existsSync(join(config.sensor.spool.dir, 'watch-state.json')),
  );
  await sensor.stop();
  const first = readEve(config.sensor.eve.path!).filter((r) => r.event_type === 'flow').length;
  assert.ok(first >= flowsOfA && first > 10);
  assert.match(readFileSync(join(config.sensor.spool.dir, 'watch-state.json'), 'utf8'), /a\.pcap/);

  // Restart: a.pcap is remembered. b.pcap, dropped in now, is read; a.pcap is not read again.
  notices.length = 0;
  sensor = await startSensor(config, opts);
  copyFileSync(seedBot, join(base, 'b.tmp'));
  utimesSync(join(base, 'b.tmp'), new Date(Date.now() - 10_000), new Date(Date.now() - 10_000));
  renameSync(join(base, 'b.tmp'), join(watch, 'b.pcap'));
  await until(
    () => notices.filter((l) => l.startsWith('watch: reading')),
    (l) => l.length > 0,
  );
  await until(
    () => readFileSync(join(config.sensor.spool.dir, 'watch-state.json'), 'utf8'),
    (s) => s.includes('b.pcap'),
  );
  await sensor.stop();
  assert.deepEqual(
    notices.filter((l) => l.startsWith('watch: reading')),
    [`watch: reading ${join(watch, 'b.pcap')}`],
  );
  const all = readEve(config.sensor.eve.path!);
  const seqs = all.map((r) => r.seq as number);
  assert.deepEqual(seqs, seqs.map((_, i) => i + 1), 'seq goes on across the restart');
  // Records of b only once: the seed bot's alert appears once.
  assert.equal(all.filter((r) => r.event_type === 'alert').length, 1);
});

test('a watched file is complete once its size and mtime hold for 2 s, or at once when it arrived old', (t) => {
  const base = tempDir(t);
  const taken: string[] = [];
  let now = Date.now();
  const w = new DirectoryWatch(base, new WatchState(base, base), (name) => taken.push(name), () => undefined, () => now);
  t.after(() => w.stop());
  const growing = join(base, 'growing.pcap');
  writeFileSync(growing, Buffer.alloc(100));
  utimesSync(growing, new Date(now), new Date(now));
  writeFileSync(join(base, 'old.pcapng.gz'), Buffer.alloc(10));
  utimesSync(join(base, 'old.pcapng.gz'), new Date(now - 60_000), new Date(now - 60_000));
  writeFileSync(join(base, 'notes.txt'), 'x');
  writeFileSync(join(base, '.partial.pcap'), 'x');
  w.scan();
  assert.deepEqual(taken, ['old.pcapng.gz']);
  now += QUIET_MS - 500;
  writeFileSync(growing, Buffer.alloc(200)); // it grew: the clock starts again
  utimesSync(growing, new Date(now), new Date(now));
  w.scan();
  now += QUIET_MS - 1;
  w.scan();
  assert.deepEqual(taken, ['old.pcapng.gz']);
  now += 1;
  w.scan();
  assert.deepEqual(taken, ['old.pcapng.gz', 'growing.pcap']);
  w.scan();
  assert.equal(taken.length, 2, 'a taken file is not taken again while it is read');
});

test('/healthz serves the figures; 503 when the credentials are refused or the spool drops', async (t) => {
  const base = tempDir(t);
  const fc = await FakeCollector.start();
  t.after(() => fc.down());
  const config = configIn(base);
  mkdirSync(join(base, 'data'), { recursive: true });
  writeFileSync(config.sensor.credentials, JSON.stringify(fc.credentials), { mode: 0o600 });
  const sensor = await startSensor(config, { inputs: { files: [benign] }, workers: 1, rules: [RULES], healthz: '127.0.0.1:0', statsIntervalS: 1, log: () => undefined });
  t.after(() => sensor.stop());
  assert.ok(sensor.health !== null && sensor.shipper !== null);
  await sensor.done;
  const atDone = sensor.spool.stats().nextSeq - 1;
  assert.equal(await sensor.shipper.drain(30_000), true);
  // Shipped: the collector holds every record spooled, exactly once (sensor_stats go on meanwhile).
  // The shipped lines name no sensor: the collector sets sensor_id from the credential.
  assert.ok(fc.acked >= atDone, `acked ${fc.acked} of ${atDone}`);
  assert.equal(fc.stored.size, fc.acked);
  for (let seq = 1; seq <= fc.acked; seq++) assert.ok(fc.stored.has(seq), `seq ${seq} stored`);
  assert.equal((JSON.parse(fc.stored.get(1)!) as Rec).sensor_id, undefined);

  const ok = await fetch(sensor.health.url);
  assert.equal(ok.status, 200);
  const body = (await ok.json()) as { status: string; sensor_stats: { packets: number }; shipping: { connected: boolean; acked: number } };
  assert.equal(body.status, 'ok');
  assert.ok(body.sensor_stats.packets > 0);
  assert.equal(body.shipping.connected, true);

  fc.revoke(403);
  // A stats record (every second) makes the shipper try, and be refused.
  await until(
    () => sensor.shipper!.state().stopped === true,
    (v) => v,
  );
  const refused = await fetch(sensor.health.url);
  assert.equal(refused.status, 503);
  assert.match(((await refused.json()) as { problems: string[] }).problems.join(), /shipping stopped/);
  assert.equal((await fetch(sensor.health.url.replace('/healthz', '/other'))).status, 404);

  assert.equal(healthReply({ stats: null, shipping: 'off', refused: null, spoolDropping: true }).status, 503);
  assert.equal(healthReply({ stats: null, shipping: 'off', refused: null, spoolDropping: false }).status, 200);
});

/** Polls `get` every 20 ms until `ok` holds; fails after a minute (a safety net against hanging, not a timing assertion). */
async function until<T>(get: () => T, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const v = get();
    if (ok(v)) return v;
    if (Date.now() > deadline) assert.fail(`still waiting after a minute (last value ${JSON.stringify(v)?.slice(0, 200)})`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('outpost sensor runs local only when not enrolled, exits 0 when its files are done, and stops cleanly on SIGTERM', async (t) => {
  const base = tempDir(t);
  const yaml = join(base, 'sensor.yaml');
  writeFileSync(yaml, `sensor:\n  workers: 1\n  healthz: 'off'\n`);
  const done = spawnSync(process.execPath, [outpostBin, 'sensor', '--config', yaml, '--read', benign, '--rules', RULES], { encoding: 'utf8' });
  assert.equal(done.status, 0, done.stderr);
  assert.match(done.stderr, /not enrolled \(no .*sensor-credentials\.json\): running local only/);
  assert.match(done.stderr, /sensor running: 1 worker, inputs 1 file, 2 rules, local only/);
  assert.match(done.stderr, /stopped: \d+ packets, \d+ records/);
  assert.ok(readEve(join(base, 'data', 'eve.json')).length > 200);

  const watch = join(base, 'incoming');
  mkdirSync(watch);
  const child = spawn(process.execPath, [outpostBin, 'sensor', '--config', yaml, '--watch', watch, '--no-ship'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  const running = new Promise<void>((resolve) =>
    child.stderr.on('data', (s: string) => {
      stderr += s;
      if (stderr.includes('sensor running')) resolve();
    }),
  );
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await running;
  assert.doesNotMatch(stderr, /not enrolled/, '--no-ship says nothing about enrolment');
  child.kill('SIGTERM');
  assert.equal(await exited, 0, stderr);
  assert.match(stderr, /SIGTERM: stopping/);
  assert.match(stderr, /stopped: 0 packets/);
});

test('a damaged capture is reported and counted; its frames before the damage stand; a non-capture is skipped', async (t) => {
  const base = tempDir(t);
  const whole = readFileSync(benign);
  const cut = join(base, 'cut.pcap');
  writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
  const text = join(base, 'notes.pcap');
  writeFileSync(text, 'not a capture at all\n');
  const notices: string[] = [];
  const { records, sensor } = await runFiles(join(base, 'run'), [text, cut], 1, { log: (l) => notices.push(l) });
  assert.ok(notices.some((l) => /notes\.pcap: not a pcap or pcapng capture/.test(l)), notices.join('\n'));
  assert.ok(notices.some((l) => /cut\.pcap: .*(damaged|ends inside a record).*frames before it were analysed/.test(l)), notices.join('\n'));
  assert.ok(records.filter((r) => r.event_type === 'flow').length > 10);
  assert.equal(sensor.stats().app_layer.captures_damaged, 2);
});

test('a full disk budget drops the oldest events, says so in a spool_drop record and on /healthz, and the sensor goes on', async (t) => {
  const base = tempDir(t);
  const config = configIn(base);
  // Two 64 KiB segments for a capture that makes about 1 MB of records.
  config.sensor.spool = { ...config.sensor.spool, segmentSize: 64 * 1024, budget: 128 * 1024 };
  const notices: string[] = [];
  const sensor = await startSensor(config, { inputs: { files: [seedBot] }, workers: 2, ship: false, rules: [RULES], healthz: '127.0.0.1:0', log: (l) => notices.push(l) });
  t.after(() => sensor.stop());
  await sensor.done;
  const s = sensor.spool.stats();
  assert.ok(s.dropped > 0 && s.bytes <= 128 * 1024, `dropped ${s.dropped}, ${s.bytes} bytes`);
  assert.ok(notices.some((l) => /disk budget full: dropped \d+ events/.test(l)));
  const health = await fetch(sensor.health!.url);
  assert.equal(health.status, 503);
  assert.match(((await health.json()) as { problems: string[] }).problems.join(), /dropping/);
  await sensor.stop();
  // eve.json keeps everything, the drop warnings included; every seq was given once.
  const records = readEve(config.sensor.eve.path!);
  const drops = records.filter((r) => r.event_type === 'spool_drop') as Array<{ spool_drop: { dropped: number; total_dropped: number } }>;
  assert.ok(drops.length > 0);
  assert.equal(drops.reduce((n, d) => n + d.spool_drop.dropped, 0), drops.at(-1)!.spool_drop.total_dropped);
  const seqs = records.map((r) => r.seq as number);
  assert.deepEqual(seqs, seqs.map((_, i) => i + 1));
  assert.ok(records.some((r) => r.event_type === 'verdict'), 'detection went on');
});
