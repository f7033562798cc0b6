import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test, type TestContext } from 'node:test';
import type { SpoolDropEvent } from '../../src/events/sensor.js';
import { parseRetryAfter, Shipper, type ShipperOptions } from '../../src/sensor/shipper.js';
import { Spool, type SpoolOptions } from '../../src/sensor/spool.js';
import { repoRoot, tempDir } from '../helpers.js';
import { anomaly, FakeCollector, makePki } from './fake-collector.js';

function spoolOpts(dir: string, over: Partial<SpoolOptions> = {}): SpoolOptions {
  return { dir, budget: 64 * 1024 * 1024, segmentSize: 64 * 1024, fsync: 'batch', fsyncInterval: 20, ...over };
}

/** A shipper with quick backoffs and a log kept for assertions; stopped when the test ends. */
function shipper(t: TestContext, spool: Spool, fc: FakeCollector, over: Partial<ShipperOptions> = {}): { shipper: Shipper; log: string[] } {
  const log: string[] = [];
  const s = new Shipper({ spool, credentials: fc.credentials, batchEvents: 500, batchBytes: 1 << 20, backoffMin: 5, backoffMax: 40, linger: 5, log: (l) => log.push(l), ...over });
  t.after(() => s.stop());
  return { shipper: s, log };
}

async function collector(t: TestContext): Promise<FakeCollector> {
  const fc = await FakeCollector.start();
  t.after(() => fc.down());
  return fc;
}

/** Waits (a guard, not a measurement) until cond holds. */
async function until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function fill(spool: Spool, n: number): string[] {
  const lines: string[] = [];
  for (let i = 1; i <= n; i++) {
    const ev = anomaly(i, 40);
    spool.append(ev);
    lines.push(JSON.stringify(ev));
  }
  return lines;
}

function assertExactly(fc: FakeCollector, seqs: Iterable<number>): void {
  const want = [...seqs].sort((a, b) => a - b);
  const got = [...fc.stored.keys()].sort((a, b) => a - b);
  assert.equal(got.length, want.length, 'stored count');
  assert.deepEqual(got, want, 'stored sequence set');
}

const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);

test('ships every event exactly once in signed gzip batches, and the acknowledgement deletes the spooled segments', async (t) => {
  const fc = await collector(t);
  const spool = Spool.open(spoolOpts(tempDir(t), { segmentSize: 16 * 1024 }));
  const lines = fill(spool, 5000);
  const segmentsBefore = spool.stats().segments;
  const { shipper: s } = shipper(t, spool, fc);
  s.start();
  assert.equal(await s.drain(20_000), true);
  assertExactly(fc, range(1, 5000));
  assert.equal(fc.duplicates, 0);
  for (const seq of [1, 2500, 5000]) assert.deepEqual(JSON.parse(fc.stored.get(seq)!), JSON.parse(lines[seq - 1]!));
  const st = s.state();
  assert.equal(st.acked, 5000);
  assert.equal(st.connected, true);
  assert.equal(st.shipped, 5000);
  assert.equal(st.batches, 10);
  assert.equal(fc.acked, 5000);
  assert.equal(spool.stats().depth, 0);
  assert.ok(spool.stats().segments < segmentsBefore && spool.stats().segments <= 1);
  // New events after the drain ship on a kick.
  spool.append(anomaly(5001));
  s.kick();
  await until(() => fc.stored.has(5001), 'event 5001');
  await s.stop();
  spool.close();
});

test('the collector down at start and killed mid-stream: everything arrives once stored, in spite of resets and resends', async (t) => {
  const fc = await collector(t);
  await fc.down();
  const spool = Spool.open(spoolOpts(tempDir(t)));
  fill(spool, 3000);
  let downs = 0;
  const { shipper: s } = shipper(t, spool, fc, {
    batchEvents: 200,
    onState: (st) => {
      // Knock it down again in the middle of the stream, once.
      if (st.batches === 5 && downs === 1) {
        downs++;
        void fc.down();
      }
    },
  });
  s.start();
  await until(() => s.state().retries >= 3, 'retries while the collector is down');
  assert.equal(s.state().connected, false);
  assert.match(s.state().lastError ?? '', /cannot reach/);
  assert.ok(s.state().nextAttempt > 0 || s.state().retries >= 3);
  downs = 1;
  await fc.up();
  await until(() => downs === 2 && s.state().retries >= 2, 'the second outage');
  await fc.up();
  assert.equal(await s.drain(20_000), true);
  assertExactly(fc, range(1, 3000));
  assert.equal(fc.acked, 3000);
  await s.stop();
  spool.close();
});

test('lost replies (stored, then the connection dropped) are resent: duplicates at the collector, each event stored once', async (t) => {
  const fc = await collector(t);
  fc.dropReplies(3);
  const spool = Spool.open(spoolOpts(tempDir(t)));
  fill(spool, 2000);
  const { shipper: s } = shipper(t, spool, fc);
  s.start();
  assert.equal(await s.drain(20_000), true);
  assertExactly(fc, range(1, 2000));
  assert.ok(fc.duplicates >= 500, `${fc.duplicates} duplicates`);
  assert.equal(fc.statuses.filter((x) => x === 0).length, 3);
  await s.stop();
  spool.close();
});

test('backoff grows exponentially from backoff-min, is capped at backoff-max, and honours Retry-After', async (t) => {
  const fc = await collector(t);
  fc.failNext(9, 503);
  const spool = Spool.open(spoolOpts(tempDir(t)));
  fill(spool, 10);
  const delays: number[] = [];
  const POLL = 123_457;
  const { shipper: s } = shipper(t, spool, fc, {
    backoffMin: 100,
    backoffMax: 3000,
    poll: POLL,
    linger: 0,
    random: () => 0.999999,
    sleep: (ms, signal) =>
      new Promise((resolve) => {
        if (ms !== POLL && ms !== 0) delays.push(ms);
        if (ms !== POLL) return void setImmediate(resolve);
        const timer = setTimeout(resolve, ms);
        timer.unref();
        signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      }),
  });
  s.start();
  assert.equal(await s.drain(20_000), true);
  assert.deepEqual(delays, [100, 200, 400, 800, 1600, 3000, 3000, 3000, 3000]);
  assert.equal(s.state().retries, 0, 'reset by the success');

  // With the least jitter the delays still grow (equal jitter: half of each step is fixed).
  delays.length = 0;
  fc.failNext(4, 503);
  spool.append(anomaly(11));
  const { shipper: s2 } = shipper(t, spool, fc, {
    backoffMin: 100,
    backoffMax: 3000,
    poll: POLL,
    linger: 0,
    random: () => 0,
    sleep: (ms) => {
      if (ms !== POLL && ms !== 0) delays.push(ms);
      return new Promise((resolve) => setImmediate(resolve));
    },
  });
  await s.stop();
  s2.start();
  assert.equal(await s2.drain(20_000), true);
  assert.deepEqual(delays, [100, 100, 200, 400]);

  delays.length = 0;
  fc.failNext(1, 429, 7);
  spool.append(anomaly(12));
  s2.kick();
  assert.equal(await s2.drain(20_000), true);
  assert.deepEqual(delays, [7000]);
  await s2.stop();
  spool.close();
  assert.equal(parseRetryAfter('12'), 12_000);
  assert.equal(parseRetryAfter('soon'), 0);
  assert.ok(parseRetryAfter(new Date(Date.now() + 60_000).toUTCString()) > 50_000);
});

test('revoked (403) or unknown (401): shipping stops with a clear state and nothing is deleted', async (t) => {
  for (const status of [403, 401] as const) {
    const fc = await collector(t);
    const dir = tempDir(t);
    const spool = Spool.open(spoolOpts(dir, { segmentSize: 16 * 1024 }));
    fill(spool, 1000);
    const { shipper: s, log } = shipper(t, spool, fc, { batchEvents: 100 });
    s.start();
    await until(() => fc.stored.size >= 300, 'some batches');
    fc.revoke(status);
    spool.append(anomaly(1001));
    s.kick();
    await until(() => s.state().stopped === true, 'the stop');
    const st = s.state();
    assert.equal(st.connected, false);
    assert.match(st.lastError ?? '', status === 403 ? /403 revoked/ : /401 unauthenticated/);
    assert.equal(log.filter((l) => l.includes('shipping stopped')).length, 1, 'said once');
    assert.equal(await s.drain(1000), false, 'a stopped shipper cannot drain');
    const stored = fc.stored.size;
    const requests = fc.requests;
    const ss = spool.stats();
    assert.equal(ss.acked, fc.acked);
    assert.equal(ss.depth, 1001 - fc.acked, 'every unacknowledged event is still spooled');
    spool.close();
    const reopened = Spool.open(spoolOpts(dir, { segmentSize: 16 * 1024 }));
    let n = 0;
    for (let b = reopened.read(ss.acked, 1000, 1 << 24); b !== null; b = reopened.read(b.lastSeq, 1000, 1 << 24)) n += b.lines.length;
    assert.equal(n, 1001 - ss.acked);
    reopened.close();
    assert.equal(fc.stored.size, stored);
    assert.equal(fc.requests, requests, 'no request after the refusal');
  }
});

test('a 422 batch is halved down to the refused event, which is set aside in rejected.ndjson; lost-through lets the acknowledgement pass it', async (t) => {
  const fc = await collector(t);
  fc.refuseSeq(37);
  fc.refuseSeq(400);
  const dir = tempDir(t);
  const spool = Spool.open(spoolOpts(dir));
  fill(spool, 400);
  const { shipper: s, log } = shipper(t, spool, fc, { batchEvents: 128 });
  s.start();
  assert.equal(await s.drain(20_000), true);
  assertExactly(
    fc,
    range(1, 400).filter((x) => x !== 37 && x !== 400),
  );
  assert.ok(fc.lostThrough.includes(37), 'the batch after 37 declared it');
  assert.equal(fc.acked, 399, 'past 37; 400 waits for the next batch to say so');
  assert.equal(s.state().rejected, 2);
  assert.equal(spool.stats().rejected, 2);
  const kept = readFileSync(join(dir, 'rejected.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { seq: number; reason: string; line: string });
  assert.deepEqual(
    kept.map((k) => k.seq),
    [37, 400],
  );
  assert.match(kept[0]!.reason, /422 invalid/);
  assert.equal((JSON.parse(kept[0]!.line) as { seq: number }).seq, 37);
  assert.ok(log.some((l) => l.includes('event 37')));
  assert.equal(log.filter((l) => l.includes('retrying in halves')).length, 2, 'said once per refused batch');
  assert.ok(fc.statuses.filter((x) => x === 422).length <= 2 * 8 + 2, 'log2 halvings per refused event, not a loop');
  spool.append(anomaly(401));
  s.kick();
  await until(() => fc.acked === 401, 'the acknowledgement past 400');
  await s.stop();
  spool.close();
});

test('a collector that refuses every event (a format it does not know) stops shipping after eight set aside, instead of emptying the spool into rejected.ndjson', async (t) => {
  const fc = await collector(t);
  for (let seq = 1; seq <= 300; seq++) fc.refuseSeq(seq);
  const spool = Spool.open(spoolOpts(tempDir(t)));
  fill(spool, 300);
  const { shipper: s, log } = shipper(t, spool, fc, { batchEvents: 64 });
  s.start();
  await until(() => s.state().stopped === true, 'the stop');
  assert.equal(s.state().rejected, 8);
  assert.match(s.state().lastError ?? '', /refused 9 events one by one with none accepted between .*disagree.*shipping stopped, 292 events stay spooled/);
  assert.equal(spool.stats().rejected, 8);
  assert.equal(spool.stats().depth, 292);
  assert.equal(fc.stored.size, 0);
  assert.equal(log.filter((l) => l.includes('shipping stopped')).length, 1);
  spool.close();
});

test('disk budget exhaustion while the collector is down: drops are counted and shipped, lost-through reaches the collector, its ack passes the hole', async (t) => {
  const fc = await collector(t);
  await fc.down();
  const budget = 4 * 4096;
  const drops: SpoolDropEvent[] = [];
  const spool: Spool = Spool.open(spoolOpts(tempDir(t), { segmentSize: 4096, budget }), (ev) => {
    drops.push(ev);
    spool.append(ev);
  });
  fill(spool, 600);
  const ss = spool.stats();
  assert.ok(ss.dropped > 0 && ss.bytes <= budget);
  const { shipper: s } = shipper(t, spool, fc);
  s.start();
  await until(() => s.state().retries >= 1, 'a failed attempt');
  await fc.up();
  assert.equal(await s.drain(20_000), true);
  assert.equal(fc.acked, spool.stats().nextSeq - 1);
  assert.ok(fc.lostThrough.length > 0 && fc.lostThrough[0]! >= drops[0]!.spool_drop.last_seq);
  const dropRecords = [...fc.stored.values()].filter((l) => l.includes('"event_type":"spool_drop"'));
  assert.ok(dropRecords.length >= 1, 'the spool_drop records shipped');
  const lostSeqs = new Set(drops.flatMap((d) => range(d.spool_drop.first_seq, d.spool_drop.last_seq)));
  assert.equal(lostSeqs.size, ss.dropped);
  for (let seq = 1; seq < spool.stats().nextSeq; seq++) assert.equal(fc.stored.has(seq), !lostSeqs.has(seq), `seq ${seq}`);
  await s.stop();
  spool.close();
});

test('only the pinned CA is trusted: a collector with another certificate gets nothing', async (t) => {
  const fc = await collector(t);
  const spool = Spool.open(spoolOpts(tempDir(t)));
  fill(spool, 10);
  const other = await makePki();
  const s = new Shipper({ spool, credentials: { ...fc.credentials, ca: other.ca }, batchEvents: 100, batchBytes: 1 << 20, backoffMin: 5, backoffMax: 10, log: () => {} });
  t.after(() => s.stop());
  s.start();
  await until(() => s.state().retries >= 2, 'failed attempts');
  assert.match(s.state().lastError ?? '', /certificate/i);
  assert.equal(fc.accepted, 0);
  assert.equal(fc.requests, 0);
  await s.stop();
  spool.close();
});

test('stop() aborts a request that outlasts the grace and acknowledges nothing it was not told', async (t) => {
  const fc = await collector(t);
  fc.slow(3000);
  const spool = Spool.open(spoolOpts(tempDir(t)));
  fill(spool, 50);
  const { shipper: s } = shipper(t, spool, fc, { stopGrace: 20 });
  s.start();
  await until(() => fc.requests >= 1, 'the request');
  await s.stop();
  assert.equal(spool.stats().acked, 0);
  assert.equal(s.state().batches, 0);
  spool.close();
});

test('a sensor SIGKILLed mid-ship and restarted: every event stored exactly once', async (t) => {
  const fc = await collector(t);
  const dir = tempDir(t);
  const N = 4000;
  const dist = (p: string): string => pathToFileURL(join(repoRoot, 'dist', 'src', 'sensor', p)).href;
  const script = `
    import { Spool } from ${JSON.stringify(dist('spool.js'))};
    import { Shipper } from ${JSON.stringify(dist('shipper.js'))};
    const spool = Spool.open(${JSON.stringify(spoolOpts(dir))});
    for (let i = 1; i <= ${N}; i++) spool.append({ timestamp: '2004-04-21T10:00:00.000000+0000', event_type: 'anomaly', anomaly: { type: 'decode', event: 'kill.' + i } });
    const s = new Shipper({ spool, credentials: ${JSON.stringify(fc.credentials)}, batchEvents: 250, batchBytes: 1 << 20, backoffMin: 5, backoffMax: 20, log: () => {},
      onState: (st) => { if (st.batches >= 4) process.kill(process.pid, 'SIGKILL'); } });
    s.start();`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
  assert.equal(signal, 'SIGKILL', stderr);
  assert.ok(fc.stored.size >= 1000 && fc.stored.size < N, `${fc.stored.size} stored before the kill`);
  assert.ok(existsSync(join(dir, 'state.json')));
  assert.ok(readdirSync(dir).some((f) => f.endsWith('.seg')));

  const spool = Spool.open(spoolOpts(dir));
  assert.equal(spool.stats().nextSeq, N + 1, 'numbering continues');
  const { shipper: s } = shipper(t, spool, fc);
  s.start();
  assert.equal(await s.drain(20_000), true);
  assertExactly(fc, range(1, N));
  await s.stop();
  spool.close();
});
