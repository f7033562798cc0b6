import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import pg from 'pg';
import { API, HEADER, sign } from '../src/api/contract.js';
import { openStore } from '../src/collector/store/index.js';
import type { AlertEvent } from '../src/events/types.js';
import { formatTimestamp } from '../src/events/time.js';
import { repoRoot } from './capture.js';

/**
 * Sustained ingest, end to end: a real `outpost collector` process (HTTPS, signature check,
 * gzip, JSON Schema validation, dedupe, the store) takes signed gzip NDJSON batches of 1,000 EVE
 * alerts from `--senders` sensors at once, each sending its next batch as soon as the last is
 * acknowledged. Reports events per second and the p50/p99 batch latency, for SQLite and for
 * PostgreSQL (OUTPOST_TEST_PG or --pg, a role that may create databases).
 *
 * The limit, measured in the same run: the same batches POSTed the same way to an HTTPS server
 * in its own process that reads each body and answers at once (TLS, HTTP and the network, with
 * no collector work). Appends to bench/RESULTS.md.
 *
 *   node dist/bench/ingest.js [--batches 300] [--senders 4] [--pg postgres://...]
 */

const BATCH = 1000;

function alert(i: number): AlertEvent {
  const sid = [2515, 2516, 2517, 2518, 2519, 2528][i % 6]!;
  return {
    timestamp: formatTimestamp(1_083_283_200 + (i % 86_400), (i * 7919) % 1_000_000_000),
    event_type: 'alert',
    flow_id: 1_000_000 + i,
    src_ip: `203.0.${(i >> 8) & 0xff}.${i & 0xff}`,
    src_port: 1024 + (i % 60_000),
    dest_ip: `192.168.${(i >> 4) & 0x3}.${i % 200}`,
    dest_port: [443, 135, 445, 6667, 80][i % 5]!,
    proto: 'TCP',
    pkt_src: 'wire/pcap',
    app_proto: 'tls',
    alert: { action: 'allowed', gid: 1, signature_id: sid, rev: 4, signature: `WEB-MISC PCT Client_Hello overflow attempt (${sid})`, category: 'Attempted Administrator Privilege Gain', severity: 1, metadata: { cve: ['2003-0719'] } },
    direction: 'to_server',
    flow: { pkts_toserver: 4, pkts_toclient: 3, bytes_toserver: 900, bytes_toclient: 400, start: formatTimestamp(1_083_283_200 + (i % 86_400), 0), src_ip: `203.0.${(i >> 8) & 0xff}.${i & 0xff}`, dest_ip: `192.168.${(i >> 4) & 0x3}.${i % 200}` },
  };
}

/** Batches of one sensor: gzip NDJSON, seqs continuing. */
function batches(sensor: number, count: number): Buffer[] {
  const out: Buffer[] = [];
  for (let b = 0; b < count; b++) {
    const lines: string[] = [];
    for (let k = 0; k < BATCH; k++) {
      const seq = b * BATCH + k + 1;
      lines.push(JSON.stringify({ ...alert(sensor * 1_000_000 + seq), seq }));
    }
    out.push(gzipSync(`${lines.join('\n')}\n`, { level: 1 }));
  }
  return out;
}

interface Target {
  url: string;
  ca: string;
}

/** Sends every sender's batches in order, one in flight per sender; returns seconds and the batch latencies (ms). */
async function send(target: Target, senders: Array<{ id: string; secret: string; bodies: Buffer[] }>): Promise<{ seconds: number; latencies: number[] }> {
  const agent = new Agent({ keepAlive: true, ca: target.ca, maxSockets: senders.length });
  const u = new URL(target.url);
  const latencies: number[] = [];
  const post = (id: string, secret: string, body: Buffer): Promise<number> =>
    new Promise((ok, fail) => {
      const req = request(
        {
          agent,
          host: u.hostname,
          port: u.port,
          method: 'POST',
          path: API.events,
          headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip', 'content-length': body.length, [HEADER.auth]: sign(id, secret, { method: 'POST', path: API.events, body }) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => (res.statusCode === 200 ? ok(res.statusCode) : fail(new Error(`HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString().slice(0, 300)}`))));
        },
      );
      req.on('error', fail);
      req.end(body);
    });
  const t0 = performance.now();
  await Promise.all(
    senders.map(async (s) => {
      for (const body of s.bodies) {
        const a = performance.now();
        await post(s.id, s.secret, body);
        latencies.push(performance.now() - a);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  return { seconds, latencies };
}

/** Starts `outpost collector`; resolves with its URL and CA once it listens. */
async function startCollector(args: string[], data: string): Promise<{ child: ChildProcess; target: Target }> {
  const child = spawn(process.execPath, [join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'collector', ...args], { stdio: ['ignore', 'inherit', 'pipe'] });
  let err = '';
  const url = await new Promise<string>((ok, fail) => {
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /collector listening on (https:\/\/\S+)/.exec(err);
      if (m !== null) ok(m[1]!);
    });
    child.once('exit', (code) => fail(new Error(`collector exited ${code}: ${err}`)));
  });
  return { child, target: { url, ca: readFileSync(join(data, 'pki', 'ca.pem'), 'utf8') } };
}

/** The limit: an HTTPS server in its own process that reads each body and answers `{}`. */
async function startSink(data: string): Promise<{ child: ChildProcess; target: Target }> {
  const script = `
    const { createServer } = require('node:https');
    const { readFileSync } = require('node:fs');
    const s = createServer({ key: readFileSync(${JSON.stringify(join(data, 'pki', 'server.key'))}), cert: readFileSync(${JSON.stringify(join(data, 'pki', 'server.pem'))}), keepAliveTimeout: 60000 }, (req, res) => {
      let n = 0; req.on('data', (c) => (n += c.length)); req.on('end', () => { res.setHeader('content-type', 'application/json'); res.end('{"acked":0,"stored":0,"duplicates":0}'); });
    });
    s.listen(0, '127.0.0.1', () => process.stderr.write('sink on https://127.0.0.1:' + s.address().port + '\\n'));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'inherit', 'pipe'] });
  const url = await new Promise<string>((ok) => child.stderr!.on('data', (d: Buffer) => ok(/sink on (\S+)/.exec(d.toString())![1]!)));
  return { child, target: { url, ca: readFileSync(join(data, 'pki', 'ca.pem'), 'utf8') } };
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { batches: { type: 'string', default: '300' }, senders: { type: 'string', default: '4' }, pg: { type: 'string' }, 'no-append': { type: 'boolean', default: false } } });
  const nBatches = Number(values.batches);
  const nSenders = Number(values.senders);
  const pgServer = values.pg ?? process.env.OUTPOST_TEST_PG ?? null;
  const perSender = Math.ceil(nBatches / nSenders);
  const events = perSender * nSenders * BATCH;
  process.stderr.write(`building ${perSender * nSenders} batches of ${BATCH} alerts…\n`);
  const bodies = Array.from({ length: nSenders }, (_, s) => batches(s, perSender));
  const mb = bodies.flat().reduce((n, b) => n + b.length, 0) / 1024 ** 2;

  const rows: string[] = [];
  const engines: Array<{ name: string; database: string | null }> = [{ name: 'SQLite', database: null }];
  let pgName: string | null = null;
  if (pgServer !== null) {
    pgName = `outpost_bench_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: pgServer });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${pgName}`);
    await admin.end();
    const u = new URL(pgServer);
    u.pathname = `/${pgName}`;
    engines.push({ name: 'PostgreSQL', database: u.toString() });
  } else {
    process.stderr.write('no PostgreSQL (set OUTPOST_TEST_PG or --pg): SQLite only\n');
  }

  let limitRate = 0;
  for (const engine of engines) {
    const data = mkdtempSync(join(tmpdir(), 'outpost-bench-ingest-'));
    try {
      const cfg = join(data, 'collector.yaml');
      writeFileSync(cfg, 'collector:\n  ingest:\n    rate-limit: 0\n  rollup-interval: 3600\n');
      const args = ['--config', cfg, '--data', data, '--listen', '127.0.0.1:0', ...(engine.database !== null ? ['--database', engine.database] : [])];
      const { child, target } = await startCollector(args, data);
      const store = await openStore({ data, database: engine.database });
      const senders = [];
      for (let s = 0; s < nSenders; s++) {
        const id = `bench-${s}`;
        const secret = randomBytes(32).toString('hex');
        await store.addSensor({ id, name: id, secret, enrolled: Date.now() });
        senders.push({ id, secret, bodies: bodies[s]! });
      }
      if (limitRate === 0) {
        const sink = await startSink(data);
        const r = await send(sink.target, senders);
        sink.child.kill();
        limitRate = events / r.seconds;
        const lat = [...r.latencies].sort((a, b) => a - b);
        rows.push(`| the limit: an HTTPS server that reads each batch and answers | ${r.seconds.toFixed(2)} s | ${limitRate.toFixed(0)} | 100% | ${pct(lat, 0.5).toFixed(1)} ms | ${pct(lat, 0.99).toFixed(1)} ms |`);
      }
      const r = await send(target, senders);
      const counts = await store.counts();
      if (counts.events !== events) throw new Error(`${engine.name}: stored ${counts.events} of ${events}`);
      const lat = [...r.latencies].sort((a, b) => a - b);
      const rate = events / r.seconds;
      rows.push(`| outpost collector, ${engine.name} | ${r.seconds.toFixed(2)} s | ${rate.toFixed(0)} | ${((100 * rate) / limitRate).toFixed(1)}% | ${pct(lat, 0.5).toFixed(1)} ms | ${pct(lat, 0.99).toFixed(1)} ms |`);
      await store.close();
      child.kill('SIGTERM');
      await new Promise((ok) => child.once('exit', ok));
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  }
  if (pgName !== null) {
    const admin = new pg.Client({ connectionString: pgServer! });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${pgName} WITH (FORCE)`);
    await admin.end();
  }

  const text = [
    '',
    `## Collector ingest: ${execFileSync('date', ['-u'], { encoding: 'utf8' }).trim()}`,
    '',
    `- Machine: ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${cpus().length} cores, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, Node ${process.version}, kernel ${release()}, load average ${loadavg().map((x) => x.toFixed(2)).join(' / ')}.`,
    `- Code: commit ${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim()}.`,
    `- Load: ${events.toLocaleString('en')} EVE alerts in ${perSender * nSenders} signed gzip NDJSON batches of ${BATCH} (${mb.toFixed(1)} MiB as sent), from ${nSenders} sensors at once, one batch in flight each. The collector is its own process (\`outpost collector\`, rate limit off); the sender runs in this one.`,
    '',
    '| run | time | events/s | of the limit | p50 batch | p99 batch |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows,
    '',
  ].join('\n');
  if (!values['no-append']) appendFileSync(resolve(repoRoot, 'bench', 'RESULTS.md'), text);
  process.stdout.write(text);
}

await main();
