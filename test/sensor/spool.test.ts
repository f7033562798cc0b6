import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, readFileSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import type { SpoolDropEvent } from '../../src/events/sensor.js';
import type { EveEvent } from '../../src/events/types.js';
import { Spool, type SpoolOptions } from '../../src/sensor/spool.js';
import { prng, repoRoot, tempDir } from '../helpers.js';
import { anomaly } from './fake-collector.js';

function opts(dir: string, over: Partial<SpoolOptions> = {}): SpoolOptions {
  return { dir, budget: 1024 * 1024, segmentSize: 16 * 1024, fsync: 'batch', fsyncInterval: 100, ...over };
}

/** Every event the spool serves after `after`, read in batches of `n`. */
function readAll(spool: Spool, after = 0, n = 100): { seqs: number[]; lines: string[]; lost: number[] } {
  const seqs: number[] = [];
  const lines: string[] = [];
  const lost: number[] = [];
  for (let b = spool.read(after, n, 1 << 20); b !== null; b = spool.read(b.lastSeq, n, 1 << 20)) {
    if (b.lostThrough > 0) lost.push(b.lostThrough);
    assert.equal(b.lines.length, b.lastSeq - b.firstSeq + 1, 'a batch is consecutive');
    for (const l of b.lines) {
      const rec = JSON.parse(l) as EveEvent;
      seqs.push(rec.seq!);
      lines.push(l);
    }
  }
  return { seqs, lines, lost };
}

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

function segFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.seg'))
    .sort();
}

test('append numbers events from 1, puts "seq" first in each line, and read serves them in order', (t) => {
  const dir = tempDir(t);
  const spool = Spool.open(opts(dir));
  const ev = anomaly(1);
  (ev as { seq?: number }).seq = 999; // a worker-local seq must be replaced, not kept
  assert.equal(spool.append(ev), 1);
  assert.equal(ev.seq, 1);
  for (let i = 2; i <= 500; i++) assert.equal(spool.append(anomaly(i)), i);
  const { seqs, lines } = readAll(spool);
  assert.deepEqual(seqs, range(1, 500));
  assert.ok(lines[0]!.startsWith('{"seq":1,"timestamp"'));
  assert.equal(lines[0]!.match(/"seq"/g)!.length, 1, 'one seq key');
  assert.deepEqual(JSON.parse(lines[41]!), { ...anomaly(42), seq: 42 });
  assert.equal(spool.read(500, 10, 1000), null);
  assert.equal(spool.stats().depth, 500);
  spool.close();
});

test('read honours maxEvents and maxBytes, but always serves one event however big', (t) => {
  const dir = tempDir(t);
  const spool = Spool.open(opts(dir));
  for (let i = 1; i <= 50; i++) spool.append(anomaly(i));
  const b1 = spool.read(0, 7, 1 << 20)!;
  assert.equal(b1.lines.length, 7);
  assert.equal(b1.bytes, b1.lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0));
  const one = Buffer.byteLength(b1.lines[0]!) + 1;
  // Lines 8 and 9 are as long as line 1; line 10 is two bytes longer (two more digits, twice).
  const b2 = spool.read(7, 100, one * 3 + 1)!;
  assert.deepEqual([b2.firstSeq, b2.lastSeq], [8, 9]);
  const b2b = spool.read(7, 100, one * 3 + 2)!;
  assert.deepEqual([b2b.firstSeq, b2b.lastSeq, b2b.bytes], [8, 10, one * 3 + 2]);
  const b3 = spool.read(10, 100, 1)!;
  assert.deepEqual([b3.firstSeq, b3.lastSeq], [11, 11]);
  // An arbitrary position (not where the last read stopped) is found too.
  const b4 = spool.read(33, 2, 1 << 20)!;
  assert.deepEqual([b4.firstSeq, b4.lastSeq, b4.lostThrough], [34, 35, 0]);
  spool.close();
});

test('segments roll at segment-size, are named by their first seq, and random-position reads find every event (also after reopening)', (t) => {
  const dir = tempDir(t);
  let spool = Spool.open(opts(dir, { segmentSize: 8192 }));
  for (let i = 1; i <= 2000; i++) spool.append(anomaly(i, 50 + (i % 7) * 30));
  spool.flush();
  const files = segFiles(dir);
  assert.ok(files.length > 20, `${files.length} segments`);
  for (const f of files) {
    assert.match(f, /^\d{20}\.seg$/);
    assert.ok(statSync(join(dir, f)).size <= 8192);
    const first = readFileSync(join(dir, f), 'utf8').split('\n')[0]!;
    assert.equal((JSON.parse(first) as EveEvent).seq, Number(f.slice(0, 20)));
  }
  const rand = prng(7);
  const probe = (s: Spool): void => {
    for (let k = 0; k < 200; k++) {
      const after = Math.floor(rand() * 2000);
      const b = s.read(after, 3, 1 << 20)!;
      assert.equal(b.firstSeq, after + 1);
      assert.equal((JSON.parse(b.lines[0]!) as EveEvent).seq, after + 1);
    }
  };
  probe(spool);
  spool.close();
  spool = Spool.open(opts(dir, { segmentSize: 8192 }));
  probe(spool);
  assert.deepEqual(readAll(spool).seqs, range(1, 2000));
  spool.close();
});

test('ack deletes wholly acknowledged segments and persists; reopening continues the numbering and the reading', (t) => {
  const dir = tempDir(t);
  let spool = Spool.open(opts(dir, { segmentSize: 8192 }));
  for (let i = 1; i <= 1000; i++) spool.append(anomaly(i));
  spool.flush();
  const before = segFiles(dir).length;
  spool.ack(600);
  const after = segFiles(dir);
  assert.ok(after.length < before);
  assert.ok(Number(after[0]!.slice(0, 20)) <= 601, 'the segment holding 601 is kept');
  assert.equal(spool.stats().depth, 400);
  spool.close();
  assert.equal((JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { acked: number }).acked, 600);

  spool = Spool.open(opts(dir, { segmentSize: 8192 }));
  assert.equal(spool.stats().acked, 600);
  assert.equal(spool.stats().nextSeq, 1001);
  assert.deepEqual(readAll(spool, 600).seqs, range(601, 1000));
  assert.equal(spool.append(anomaly(1001)), 1001);
  spool.ack(1001);
  spool.close();
  assert.equal(segFiles(dir).length, 1, 'only the segment being written survives its acknowledgement');

  // Every segment gone: the numbering still never goes back.
  spool = Spool.open(opts(dir, { segmentSize: 8192 }));
  spool.ack(1001);
  spool.close();
  spool = Spool.open(opts(dir, { segmentSize: 8192 }));
  assert.equal(spool.stats().segments, 0);
  assert.equal(spool.append(anomaly(0)), 1002);
  spool.close();
});

test('a torn last line (a crash mid-write) is cut off at open, counted, never served, and its seq is given again', (t) => {
  const dir = tempDir(t);
  let spool = Spool.open(opts(dir));
  for (let i = 1; i <= 30; i++) spool.append(anomaly(i));
  spool.flush();
  // The crash: no close(); the next line was half written.
  const last = join(dir, segFiles(dir).at(-1)!);
  const whole = statSync(last).size;
  appendFileSync(last, '{"seq":31,"timestamp":"2004-04-21T10:0');
  spool = Spool.open(opts(dir));
  assert.equal(statSync(last).size, whole);
  assert.equal(spool.stats().torn, 1);
  assert.equal(spool.stats().nextSeq, 31);
  assert.deepEqual(readAll(spool).seqs, range(1, 30));
  assert.equal(spool.append(anomaly(31)), 31);
  assert.deepEqual(readAll(spool).seqs, range(1, 31));
  spool.close();

  // Damage that is a whole line but not this spool's (zeros after a power loss, say) goes the same way.
  appendFileSync(join(dir, segFiles(dir).at(-1)!), '\0\0\0\0\n');
  spool = Spool.open(opts(dir));
  assert.equal(spool.stats().torn, 2);
  assert.deepEqual(readAll(spool).seqs, range(1, 31));
  spool.close();
});

test('damage inside a segment is skipped and counted; a missing segment becomes lost-through on the batch after the hole', (t) => {
  const dir = tempDir(t);
  let spool = Spool.open(opts(dir, { segmentSize: 4096 }));
  for (let i = 1; i <= 300; i++) spool.append(anomaly(i));
  spool.close();
  const files = segFiles(dir);
  const gone = files[3]!;
  const goneFirst = Number(gone.slice(0, 20));
  const nextFirst = Number(files[4]!.slice(0, 20));
  unlinkSync(join(dir, gone));
  const damaged = join(dir, files[1]!);
  const text = readFileSync(damaged, 'utf8').split('\n');
  const hitSeq = (JSON.parse(text[2]!) as EveEvent).seq!;
  text[2] = 'garbage that is not a line of ours';
  writeFileSync(damaged, text.join('\n'));
  spool = Spool.open(opts(dir, { segmentSize: 4096 }));
  const { seqs, lost } = readAll(spool, 0, 1000);
  const want = range(1, 300).filter((s) => s !== hitSeq && (s < goneFirst || s >= nextFirst));
  assert.deepEqual(seqs, want);
  assert.ok(lost.includes(hitSeq), 'the damaged line is declared lost');
  assert.ok(lost.includes(nextFirst - 1), 'the missing segment is declared lost');
  assert.equal(spool.stats().torn, 1);
  spool.close();
});

test('the disk budget drops whole oldest segments, counts them, raises lost-through and reports a spool_drop record that ships', (t) => {
  const dir = tempDir(t);
  const drops: SpoolDropEvent[] = [];
  const budget = 4 * 4096;
  const spool: Spool = Spool.open(opts(dir, { segmentSize: 4096, budget }), (ev) => {
    drops.push(ev);
    spool.append(ev);
  });
  for (let i = 1; i <= 400; i++) {
    spool.append(anomaly(i));
    assert.ok(spool.stats().bytes <= budget, `within budget after ${i}`);
  }
  const s = spool.stats();
  assert.ok(drops.length > 0);
  assert.ok(s.dropped > 0);
  assert.equal(s.dropped, drops.at(-1)!.spool_drop.total_dropped);
  assert.equal(drops.reduce((n, d) => n + d.spool_drop.dropped, 0), s.dropped);
  const d0 = drops[0]!.spool_drop;
  assert.equal(d0.first_seq, 1);
  assert.equal(d0.budget, budget);
  assert.match(drops[0]!.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+0000$/);
  assert.equal(s.lostThrough, drops.at(-1)!.spool_drop.last_seq);
  // Reading from the start: the first batch says what was lost before it; the drop records are in the spool.
  const b = spool.read(0, 10, 1 << 20)!;
  assert.equal(b.firstSeq, s.lostThrough + 1);
  assert.equal(b.lostThrough, s.lostThrough);
  const all = readAll(spool, 0, 1000);
  assert.equal(all.lines.filter((l) => l.includes('"event_type":"spool_drop"')).length > 0, true);
  // Acknowledged events are not data loss: a spool that is kept acknowledged never drops.
  spool.close();
});

test('acknowledged segments are deleted before the budget ever needs to drop anything', (t) => {
  const dir = tempDir(t);
  const spool = Spool.open(opts(dir, { segmentSize: 4096, budget: 3 * 4096 }), () => assert.fail('nothing should be dropped'));
  for (let i = 1; i <= 2000; i++) {
    spool.append(anomaly(i));
    if (i % 20 === 0) {
      const b = spool.read(spool.stats().acked, 1000, 1 << 20);
      if (b !== null) spool.ack(b.lastSeq);
    }
  }
  assert.equal(spool.stats().dropped, 0);
  spool.close();
});

test('open refuses a budget under two segments, and a directory another live process holds', (t) => {
  const dir = tempDir(t);
  assert.throws(() => Spool.open(opts(dir, { segmentSize: 8192, budget: 12000 })), /budget \(12000 bytes\) must hold at least two segments/);
  writeFileSync(join(dir, 'lock'), `${process.ppid}\n`);
  assert.throws(() => Spool.open(opts(dir)), new RegExp(`in use by process ${process.ppid}`));
  writeFileSync(join(dir, 'lock'), '999999999\n');
  Spool.open(opts(dir)).close();
  assert.equal(existsSync(join(dir, 'lock')), false);
});

test('every fsync policy writes the same lines; batch and none write nothing per append until the group is due', (t) => {
  const contents: string[] = [];
  for (const fsync of ['always', 'batch', 'none'] as const) {
    const dir = tempDir(t);
    const spool = Spool.open(opts(dir, { fsync, fsyncInterval: 60000 }));
    for (let i = 1; i <= 20; i++) spool.append(anomaly(i));
    const onDisk = segFiles(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
    if (fsync === 'always') assert.ok(onDisk > 0, 'always: written at once');
    else assert.equal(onDisk, 0, `${fsync}: still buffered`);
    spool.close();
    contents.push(segFiles(dir).map((f) => readFileSync(join(dir, f), 'utf8')).join(''));
  }
  assert.equal(contents[0], contents[1]);
  assert.equal(contents[1], contents[2]);
});

test('the batch timer writes buffered events without any call', async (t) => {
  const dir = tempDir(t);
  const spool = Spool.open(opts(dir, { fsyncInterval: 5 }));
  for (let i = 1; i <= 5; i++) spool.append(anomaly(i));
  const file = (): string => join(dir, segFiles(dir)[0]!);
  for (let k = 0; k < 200 && statSync(file()).size === 0; k++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(readFileSync(file(), 'utf8').split('\n').length, 6);
  spool.close();
});

test('reject() keeps a refused event in rejected.ndjson and declares it lost, so reading passes it', (t) => {
  const dir = tempDir(t);
  const spool = Spool.open(opts(dir));
  for (let i = 1; i <= 10; i++) spool.append(anomaly(i));
  spool.ack(4);
  const b = spool.read(4, 1, 1 << 20)!;
  assert.equal(b.firstSeq, 5);
  assert.equal(spool.reject(5, b.lines[0]!, '422 invalid: test'), true);
  const next = spool.read(4, 10, 1 << 20)!;
  assert.deepEqual([next.firstSeq, next.lostThrough], [6, 5]);
  const kept = JSON.parse(readFileSync(join(dir, 'rejected.ndjson'), 'utf8')) as { seq: number; reason: string; line: string };
  assert.equal(kept.seq, 5);
  assert.equal(kept.line, b.lines[0]);
  assert.equal(spool.stats().rejected, 1);
  spool.close();
});

test('a disk that refuses writes (ENOSPC): append never throws, the error is counted, nothing unwritten is served, flush and close say so', (t) => {
  if (!existsSync('/dev/full')) return t.skip('no /dev/full here');
  const dir = tempDir(t);
  const spool = Spool.open(opts(dir, { fsyncInterval: 60000 }));
  // The first segment's file is /dev/full: every write to it fails with ENOSPC.
  symlinkSync('/dev/full', join(dir, `${'1'.padStart(20, '0')}.seg`));
  for (let i = 1; i <= 50; i++) assert.equal(spool.append(anomaly(i)), i);
  assert.equal(spool.read(0, 10, 1 << 20), null, 'nothing unwritten is served');
  const s = spool.stats();
  assert.ok(s.writeErrors >= 1);
  assert.match(s.lastError ?? '', /ENOSPC/);
  assert.equal(s.depth, 50, 'the events wait in memory');
  for (let i = 51; i <= 60; i++) spool.append(anomaly(i));
  assert.throws(() => spool.flush(), /ENOSPC/);
  assert.throws(() => spool.close(), /60 events unwritten.*ENOSPC/);
  unlinkSync(join(dir, `${'1'.padStart(20, '0')}.seg`));
  const again = Spool.open(opts(dir));
  assert.equal(again.append(anomaly(61)), 61, 'numbering never goes back, even over lost events');
  again.close();
});

/** Runs a script in a child process that is killed with SIGKILL at its end (a real crash: no close, no exit handlers). */
function crashChild(dir: string, fsync: SpoolOptions['fsync'], body: string): void {
  const url = pathToFileURL(join(repoRoot, 'dist', 'src', 'sensor', 'spool.js')).href;
  const script = `
    import { Spool } from ${JSON.stringify(url)};
    const spool = Spool.open(${JSON.stringify(opts(dir, { fsync, segmentSize: 8192, fsyncInterval: 60000 }))});
    const ev = (i) => ({ timestamp: '2004-04-21T10:00:00.000000+0000', event_type: 'anomaly', anomaly: { type: 'decode', event: 'test.' + i } });
    ${body}
    process.kill(process.pid, 'SIGKILL');`;
  try {
    execFileSync(process.execPath, ['--input-type=module', '-e', script], { stdio: 'pipe' });
    assert.fail('the child should have been killed');
  } catch (err) {
    assert.equal((err as { signal?: string }).signal, 'SIGKILL', String((err as { stderr?: Buffer }).stderr ?? err));
  }
}

test('kill points: a SIGKILLed sensor loses nothing under always, only the unflushed group under batch, and never reuses a shipped seq', (t) => {
  // always: every append is on disk when it returns.
  let dir = tempDir(t);
  crashChild(dir, 'always', 'for (let i = 1; i <= 300; i++) spool.append(ev(i));');
  let spool = Spool.open(opts(dir, { segmentSize: 8192 }));
  assert.deepEqual(readAll(spool).seqs, range(1, 300));
  assert.equal(spool.append(anomaly(301)), 301);
  spool.close();

  // batch: what was flushed (or read: the shipper only ships what is synced) survives; the group after it is lost.
  dir = tempDir(t);
  crashChild(dir, 'batch', 'for (let i = 1; i <= 200; i++) spool.append(ev(i)); spool.read(0, 10, 1e6); spool.ack(10); for (let i = 201; i <= 250; i++) spool.append(ev(i));');
  spool = Spool.open(opts(dir, { segmentSize: 8192 }));
  const { seqs } = readAll(spool, 0, 1000);
  assert.deepEqual(seqs, range(1, 200), 'the unflushed group 201-250 is lost, everything read before the crash is there');
  assert.ok(spool.append(anomaly(0)) >= 201, 'a seq that was served is never given again');
  assert.equal(spool.stats().torn, 0);
  spool.close();

  // none: a process crash keeps what was written (the page cache survives it).
  dir = tempDir(t);
  crashChild(dir, 'none', 'for (let i = 1; i <= 100; i++) spool.append(ev(i)); spool.flush();');
  spool = Spool.open(opts(dir, { segmentSize: 8192 }));
  assert.deepEqual(readAll(spool).seqs, range(1, 100));
  spool.close();
});
