import { execFileSync } from 'node:child_process';
import { appendFileSync, closeSync, fdatasyncSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { EveEvent } from '../src/events/types.js';
import { Spool, type SpoolOptions } from '../src/sensor/spool.js';
import { repoRoot } from './capture.js';

/**
 * The spool's append throughput under each fsync policy, against the limit measured in the same
 * run: the same bytes written with one fs.writeSync per 1 MiB and no fsync (no serialising, no
 * syncing). Also the shipper's side: reading the spool back in 1,000-event batches, and gzip of
 * such a batch at levels 1 and 6 (which level the shipper uses). Appends to bench/RESULTS.md.
 *
 *   node dist/bench/spool.js [--events 200000] [--always-events 2000] [--no-append]
 *
 * The spool lives in bench/data/spool-bench (same disk as the repository; /tmp may be tmpfs,
 * where fsync costs nothing).
 */

/** A Suricata-like alert with its flow figures: about 600 bytes of JSON, varied like real records. */
function alert(i: number): EveEvent {
  const sid = 2_000_000 + (i % 997);
  return {
    timestamp: `2004-04-21T10:${String(Math.floor(i / 60000) % 60).padStart(2, '0')}:${String(Math.floor(i / 1000) % 60).padStart(2, '0')}.${String((i * 37) % 1_000_000).padStart(6, '0')}+0000`,
    flow_id: 1_000_000_007 * (i + 1),
    in_iface: 'eth0',
    event_type: 'alert',
    src_ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    src_port: 1024 + (i % 60000),
    dest_ip: `192.168.${(i * 7) & 255}.${(i * 13) & 255}`,
    dest_port: [445, 135, 80, 443, 1433, 3389][i % 6]!,
    proto: 'TCP',
    alert: {
      action: 'allowed',
      gid: 1,
      signature_id: sid,
      rev: 3 + (i % 5),
      signature: `ET SCAN Potential SSH Scan OUTBOUND sid ${sid} variant ${i % 17}`,
      category: 'Attempted Information Leak',
      severity: 2,
    },
    app_proto: 'failed',
    flow: { pkts_toserver: 3 + (i % 9), pkts_toclient: i % 4, bytes_toserver: 180 + (i % 1400), bytes_toclient: (i % 4) * 60, start: '2004-04-21T10:00:00.000000+0000' },
  } as unknown as EveEvent;
}

interface Row {
  name: string;
  meaning: string;
  events: number;
  bytes: number;
  seconds: number;
}

function appendRun(dir: string, fsync: SpoolOptions['fsync'], events: EveEvent[]): Row {
  rmSync(dir, { recursive: true, force: true });
  const spool = Spool.open({ dir, budget: 8 * 1024 ** 3, segmentSize: 64 * 1024 ** 2, fsync, fsyncInterval: 100 });
  const t0 = performance.now();
  for (const ev of events) spool.append(ev);
  spool.flush();
  const seconds = (performance.now() - t0) / 1000;
  spool.close();
  const bytes = readdirSync(dir)
    .filter((f) => f.endsWith('.seg'))
    .reduce((n, f) => n + readFileSync(join(dir, f)).length, 0);
  const meaning: Record<SpoolOptions['fsync'], string> = {
    always: 'append: write + fdatasync per event',
    batch: 'append: buffered, written + fdatasync per 1 MiB group (and every 100 ms)',
    none: 'append: buffered, written per 1 MiB group, never synced',
  };
  return { name: `spool, fsync ${fsync}`, meaning: meaning[fsync], events: events.length, bytes, seconds };
}

/** The floor for any spool: serialising each event once, keeping nothing. */
function stringifyRun(events: EveEvent[]): Row {
  let bytes = 0;
  const t0 = performance.now();
  for (const ev of events) bytes += JSON.stringify(ev).length + 1;
  const seconds = (performance.now() - t0) / 1000;
  return { name: 'JSON.stringify only (floor)', meaning: 'serialising each event once, writing nothing: what any spool of JSON lines pays', events: events.length, bytes, seconds };
}

/** The limit: the spool's own bytes, written 1 MiB per writeSync, no fsync. */
function rawRun(dir: string, bytes: Buffer, events: number, sync: boolean): Row {
  const path = join(dir, 'raw.bin');
  rmSync(path, { force: true });
  const fd = openSync(path, 'w');
  const t0 = performance.now();
  for (let at = 0; at < bytes.length; at += 1024 * 1024) writeSync(fd, bytes, at, Math.min(1024 * 1024, bytes.length - at));
  if (sync) fdatasyncSync(fd);
  closeSync(fd);
  const seconds = (performance.now() - t0) / 1000;
  rmSync(path, { force: true });
  return { name: 'raw write (limit)', meaning: 'the same bytes, one writeSync per 1 MiB, no fsync', events, bytes: bytes.length, seconds };
}

function readRun(dir: string): Row {
  const spool = Spool.open({ dir, budget: 8 * 1024 ** 3, segmentSize: 64 * 1024 ** 2, fsync: 'batch', fsyncInterval: 100 });
  const t0 = performance.now();
  let events = 0;
  let bytes = 0;
  for (let b = spool.read(0, 1000, 4 * 1024 ** 2); b !== null; b = spool.read(b.lastSeq, 1000, 4 * 1024 ** 2)) {
    events += b.lines.length;
    bytes += b.bytes;
  }
  const seconds = (performance.now() - t0) / 1000;
  spool.close();
  return { name: 'spool read (shipper side)', meaning: 'read() in batches of 1,000 events, page cache warm', events, bytes, seconds };
}

function gzipRuns(dir: string): { level: number; msPerBatch: number; ratio: number; mbps: number }[] {
  const spool = Spool.open({ dir, budget: 8 * 1024 ** 3, segmentSize: 64 * 1024 ** 2, fsync: 'batch', fsyncInterval: 100 });
  const bodies: Buffer[] = [];
  for (let b = spool.read(0, 1000, 4 * 1024 ** 2); b !== null && bodies.length < 50; b = spool.read(b.lastSeq, 1000, 4 * 1024 ** 2)) bodies.push(Buffer.from(`${b.lines.join('\n')}\n`));
  spool.close();
  const out: { level: number; msPerBatch: number; ratio: number; mbps: number }[] = [];
  for (const level of [1, 6]) {
    gzipSync(bodies[0]!, { level });
    let inBytes = 0;
    let outBytes = 0;
    const t0 = performance.now();
    for (const body of bodies) {
      inBytes += body.length;
      outBytes += gzipSync(body, { level }).length;
    }
    const ms = performance.now() - t0;
    out.push({ level, msPerBatch: ms / bodies.length, ratio: inBytes / outBytes, mbps: inBytes / 1024 ** 2 / (ms / 1000) });
  }
  return out;
}

function main(): void {
  const { values } = parseArgs({ options: { events: { type: 'string', default: '200000' }, 'always-events': { type: 'string', default: '2000' }, 'no-append': { type: 'boolean', default: false } } });
  const n = Number(values.events);
  const nAlways = Number(values['always-events']);
  const base = resolve(repoRoot, 'bench', 'data', 'spool-bench');
  mkdirSync(base, { recursive: true });
  const loadBefore = loadavg();
  const events = Array.from({ length: n }, (_, i) => alert(i));
  const rows: Row[] = [];
  // Warm-up: JIT and the page cache, not measured.
  appendRun(join(base, 'warm'), 'none', events.slice(0, Math.min(n, 20000)));
  const best = (run: () => Row): Row => [run(), run(), run()].reduce((x, y) => (y.seconds < x.seconds ? y : x));
  rows.push(best(() => appendRun(join(base, 'none'), 'none', events)));
  rows.push(best(() => appendRun(join(base, 'batch'), 'batch', events)));
  rows.push(appendRun(join(base, 'always'), 'always', events.slice(0, nAlways)));
  const segBytes = Buffer.concat(
    readdirSync(join(base, 'batch'))
      .filter((f) => f.endsWith('.seg'))
      .sort()
      .map((f) => readFileSync(join(base, 'batch', f))),
  );
  // Best of three: a single 100 MiB write is at the mercy of the page cache's writeback.
  const raw = best(() => rawRun(base, segBytes, n, false));
  const rawSynced = { ...rawRun(base, segBytes, n, true), name: 'raw write + one fdatasync', meaning: 'the same, then one fdatasync at the end' };
  rows.unshift(raw, rawSynced, best(() => stringifyRun(events)));
  rows.push(readRun(join(base, 'batch')));
  const gz = gzipRuns(join(base, 'batch'));
  for (const d of ['warm', 'none', 'batch', 'always']) rmSync(join(base, d), { recursive: true, force: true });

  const rate = (r: Row): number => r.bytes / r.seconds;
  const perSecond = (r: Row): number => r.events / r.seconds;
  const batchRow = rows.find((r) => r.name === 'spool, fsync batch')!;
  const noneRow = rows.find((r) => r.name === 'spool, fsync none')!;
  const floorRow = rows.find((r) => r.name.startsWith('JSON.stringify'))!;
  const text = [
    '',
    `## Spool: ${execFileSync('date', ['-u'], { encoding: 'utf8' }).trim()}`,
    '',
    `- Machine: ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${cpus().length} cores, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, Node ${process.version}, kernel ${release()}, load average ${loadBefore.map((x) => x.toFixed(2)).join(' / ')} (at the end: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' / ')}).`,
    `- Code: commit ${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim()} (src/sensor/spool.ts may be uncommitted).`,
    `- Events: ${n.toLocaleString('en-US')} Suricata-like alerts with flow figures (mean ${(segBytes.length / n).toFixed(0)} bytes of JSON each, ${(segBytes.length / 1024 ** 2).toFixed(1)} MiB); \`always\` appends the first ${nAlways.toLocaleString('en-US')} only (one disk flush each). Spool in bench/data/spool-bench (the repository's disk), 64 MiB segments; each append run ends with flush() (the last group written, and synced unless \`none\`), not close() (which syncs even under \`none\`). Best of 3 runs (\`always\` and the read: one), after a warm-up run of 20,000 events.`,
    '',
    '| run | what it measures | events | time | events/s | MB/s | of the raw write |',
    '|---|---|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.meaning} | ${r.events.toLocaleString('en-US')} | ${r.seconds.toFixed(3)} s | ${Math.round(perSecond(r)).toLocaleString('en-US')} | ${(rate(r) / 1e6).toFixed(1)} | ${((100 * rate(r)) / rate(raw)).toFixed(1)}% |`,
    ),
    '',
    `The spool appends at ${((100 * perSecond(noneRow)) / perSecond(floorRow)).toFixed(0)}% of the JSON.stringify floor's rate under \`none\` (the rest: encoding into the group buffer, the index, one write per MiB) and at ${((100 * perSecond(batchRow)) / perSecond(floorRow)).toFixed(0)}% under \`batch\`: its one fdatasync per MiB costs ${(((batchRow.seconds - noneRow.seconds) * 1000) / (batchRow.bytes / 1024 ** 2)).toFixed(1)} ms each here, on the main thread.`,
    '',
    `gzip of a 1,000-event batch (${gz.length > 0 ? '50 batches' : 'none'}, the shipper's body): ${gz.map((g) => `level ${g.level}: ${g.msPerBatch.toFixed(2)} ms per batch, ${g.mbps.toFixed(0)} MB/s in, ratio ${g.ratio.toFixed(1)}:1`).join('; ')}.`,
    '',
  ].join('\n');
  if (!values['no-append']) appendFileSync(resolve(repoRoot, 'bench', 'RESULTS.md'), text);
  process.stdout.write(text);
}

main();
