import { execFileSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Honeypot } from '../src/honeypot/index.js';
import { scan } from '../src/scanner/index.js';
import { repoRoot } from './capture.js';

/**
 * The scanner's speed on loopback: 1,000 ports on 127.0.0.1, of which some are honeypot PCT
 * services (every probe answered) and the rest closed (one refused connect each). Reports
 * endpoints per second and the p99 time of one probe. The limit, measured in the same run, is
 * a plain TCP connect and close to the same 1,000 ports with the same concurrency. Appends to
 * bench/RESULTS.md.
 *
 *   node dist/bench/scanner.js [--ports 1000] [--honeypots 20] [--concurrency 64]
 */

/** Ports that nothing listens on: bound once to learn a free port, then closed. */
async function freePorts(n: number, taken: ReadonlySet<number>): Promise<number[]> {
  const out: number[] = [];
  while (out.length < n) {
    const server = createServer();
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((ok) => server.close(() => ok()));
    if (!taken.has(port) && !out.includes(port)) out.push(port);
  }
  return out;
}

/** Connect and close every port, `concurrency` at a time: the fastest a scan of them can go. */
async function connectAll(ports: readonly number[], concurrency: number): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < ports.length) {
      const port = ports[next++]!;
      await new Promise<void>((done) => {
        const s = connect(port, '127.0.0.1');
        s.once('connect', () => s.destroy());
        s.once('error', () => done());
        s.once('close', () => done());
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return (performance.now() - t0) / 1000;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { ports: { type: 'string', default: '1000' }, honeypots: { type: 'string', default: '20' }, concurrency: { type: 'string', default: '64' }, 'no-append': { type: 'boolean', default: false } } });
  const total = Number(values.ports);
  const honeypots = Number(values.honeypots);
  const concurrency = Number(values.concurrency);
  const instances: Honeypot[] = [];
  const open: number[] = [];
  for (let i = 0; i < honeypots; i++) {
    const hp = new Honeypot({ pct: { host: '127.0.0.1', port: 0 } }, () => {});
    const [a] = await hp.start();
    instances.push(hp);
    open.push(a!.port);
  }
  const closed = await freePorts(total - honeypots, new Set(open));
  const ports = [...open, ...closed];
  const limit = await connectAll(ports, concurrency);
  const t0 = performance.now();
  const report = await scan({ targets: ports.map((p) => `127.0.0.1:${p}`), concurrency, retries: 0, readTimeoutMs: 2000 });
  const seconds = (performance.now() - t0) / 1000;
  for (const hp of instances) await hp.stop();
  const times = [...report.probeTimesMs].sort((a, b) => a - b);
  const p99 = times[Math.min(times.length - 1, Math.floor(times.length * 0.99))] ?? 0;
  const critical = report.findings.filter((f) => f.id === 'PCT' && f.severity === 'CRITICAL').length;
  const text = [
    '',
    `## Scanner: ${execFileSync('date', ['-u'], { encoding: 'utf8' }).trim()}`,
    '',
    `- Machine: ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${cpus().length} cores, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, Node ${process.version}, kernel ${release()}, load average ${loadavg().map((x) => x.toFixed(2)).join(' / ')}.`,
    `- Code: commit ${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim()}.`,
    `- Targets: ${total} ports on 127.0.0.1: ${honeypots} honeypot PCT services (every probe answered), ${total - honeypots} closed; concurrency ${concurrency}, no retries.`,
    '',
    '| run | time | endpoints/s | of the limit | probes | p99 probe |',
    '|---|---:|---:|---:|---:|---:|',
    `| TCP connect and close, every port (the limit) | ${limit.toFixed(2)} s | ${(total / limit).toFixed(0)} | 100% | ${total} | |`,
    `| outpost scan, every probe | ${seconds.toFixed(2)} s | ${(total / seconds).toFixed(0)} | ${((100 * limit) / seconds).toFixed(1)}% | ${times.length} | ${p99.toFixed(1)} ms |`,
    '',
    `PCT CRITICAL found on ${critical} of the ${honeypots} honeypots.`,
    '',
  ].join('\n');
  if (!values['no-append']) appendFileSync(resolve(repoRoot, 'bench', 'RESULTS.md'), text);
  process.stdout.write(text);
}

await main();
