import { execFileSync } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openByteSource, readCapture } from '../src/capture/index.js';
import { createProtocols } from '../src/protocols/index.js';
import { Pipeline } from '../src/sensor/pipeline.js';
import { BENCH_CAPTURE, captureInfo, describeCapture, rawRead, repoRoot } from './capture.js';

/**
 * What each application-layer analyzer costs: the pipeline (decode, flows, reassembly) on the
 * benchmark capture without the application layer, then with each analyzer alone, then with
 * all of them, each in its own child process on one core. An analyzer's cost is its run's time
 * minus the run without the application layer (protocol detection included). The limit, as in
 * every benchmark, is reading the same bytes raw, measured in the same session. Appends a table
 * to bench/RESULTS.md.
 *
 *   node dist/bench/protocols.js                  every mode, best of 2
 *   node dist/bench/protocols.js --mode http      one mode in this process (for --cpu-prof)
 */

interface Result {
  mode: string;
  seconds: number;
  frames: number;
  bytes: number;
  /** Records written by type. */
  records: Record<string, number>;
  /** Flows recognised by protocol. */
  detected: Record<string, number>;
  peakRss: number;
}

function peakRss(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m === null ? process.resourceUsage().maxRSS * 1024 : Number(m[1]) * 1024;
}

/** Modes: "raw" (the file's bytes read, the limit), "none" (no application layer), a protocol name, or "all". */
async function run(mode: string, capture: string): Promise<Result> {
  const records: Record<string, number> = {};
  if (mode === 'raw') {
    const r = rawRead(capture);
    return { mode, seconds: r.seconds, frames: captureInfo(capture).packets, bytes: r.bytes, records, detected: {}, peakRss: peakRss() };
  }
  const protocols = mode === 'none' ? [] : createProtocols(mode === 'all' ? undefined : new Set([mode]));
  if (mode !== 'none' && protocols.length === 0) throw new Error(`no protocol named ${mode}`);
  const pipeline = new Pipeline(
    (e) => {
      records[e.event_type] = (records[e.event_type] ?? 0) + 1;
    },
    protocols.length > 0 ? { app: { protocols } } : {},
  );
  const t0 = performance.now();
  const summary = await readCapture(await openByteSource(capture), pipeline.frame);
  pipeline.finish();
  const seconds = (performance.now() - t0) / 1000;
  return { mode, seconds, frames: summary.frames, bytes: summary.bytes, records, detected: Object.fromEntries(pipeline.app?.counters.detected ?? []), peakRss: peakRss() };
}

const gbps = (r: Result): number => (r.bytes * 8) / r.seconds / 1e9;
const mib = (b: number): string => `${(b / 1048576).toFixed(0)} MiB`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { mode: { type: 'string' }, json: { type: 'boolean', default: false }, runs: { type: 'string', default: '2' }, 'no-append': { type: 'boolean', default: false } } });
  if (values.mode !== undefined) {
    if (!values.json) captureInfo(BENCH_CAPTURE);
    const r = await run(values.mode, BENCH_CAPTURE);
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  const info = captureInfo(BENCH_CAPTURE);
  const families = [...new Set(createProtocols().map((p) => p.name.split('-')[0]!))];
  const modes = ['raw', 'none', ...families, 'all'];
  const runs = Math.max(1, Number(values.runs));
  const self = fileURLToPath(import.meta.url);
  const best = new Map<string, Result>();
  for (const mode of modes) {
    for (let i = 0; i < runs; i++) {
      const out = execFileSync(process.execPath, [self, '--mode', mode, '--json'], { encoding: 'utf8', maxBuffer: 1 << 24 });
      const r = JSON.parse(out.trim().split('\n').pop()!) as Result;
      const prev = best.get(mode);
      if (prev === undefined || r.seconds < prev.seconds) best.set(mode, { ...r, peakRss: Math.max(r.peakRss, prev?.peakRss ?? 0) });
    }
    const r = best.get(mode)!;
    process.stdout.write(`${mode.padEnd(8)} ${r.seconds.toFixed(2).padStart(7)} s ${gbps(r).toFixed(2)} Gbit/s  ${JSON.stringify(r.detected)} ${JSON.stringify(r.records)}\n`);
  }
  const raw = best.get('raw')!;
  const none = best.get('none')!;
  const row = (label: string, r: Result): string =>
    `| ${label} | ${r.seconds.toFixed(2)} s | ${gbps(r).toFixed(2)} | ${r === raw || r === none ? '' : `+${(r.seconds - none.seconds).toFixed(2)} s (${((100 * (r.seconds - none.seconds)) / none.seconds).toFixed(0)}%)`} | ${((100 * raw.seconds) / r.seconds).toFixed(1)}% | ${Object.entries(r.detected).map(([p, n]) => `${p} ${n}`).join(', ')} | ${Object.entries(r.records).filter(([t]) => t !== 'flow').map(([t, n]) => `${t} ${n}`).join(', ')} | ${mib(r.peakRss)} |`;
  const text = [
    '',
    `## Protocol analyzers: ${execFileSync('date', ['-u'], { encoding: 'utf8' }).trim()}`,
    '',
    `- Machine: ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${cpus().length} cores, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, Node ${process.version}, kernel ${release()}, load average ${loadavg().map((x) => x.toFixed(2)).join(' / ')}.`,
    `- Code: commit ${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim()}.`,
    `- Capture: ${describeCapture(info)}.`,
    `- Method: each run in its own child process on one core, best of ${runs}; no rules. An analyzer's cost is its run minus the run without the application layer.`,
    '',
    '| run | time | Gbit/s | analyzer adds | of the raw read speed | flows recognised | records (besides flow) | peak RSS |',
    '|---|---:|---:|---:|---:|---|---|---:|',
    row('raw read (the limit)', raw),
    row('decode, flows, reassembly (no application layer)', none),
    ...families.map((f) => row(f, best.get(f)!)),
    row('all analyzers', best.get('all')!),
    '',
  ].join('\n');
  if (!values['no-append']) appendFileSync(resolve(repoRoot, 'bench', 'RESULTS.md'), text);
  process.stdout.write(text);
}

await main();
