import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { stringify } from 'yaml';
import { openStore } from '../../src/collector/store/index.js';
import type { Store } from '../../src/collector/store/store.js';
import type { AlertEvent } from '../../src/events/types.js';
import { formatTimestamp } from '../../src/events/time.js';
import { Spool } from '../../src/sensor/spool.js';
import { runOutpost } from '../cli/run.js';
import { startOutpost, waitForLine, type Proc } from './harness.js';

/** 2004-04-30 00:00 UTC: the events the network tests ship fall on this day. */
export const DAY = Date.UTC(2004, 3, 30) / 1000;

/** The i-th of a run of alerts: varied sources, targets, ports and signatures, all on DAY. */
export function alert(i: number): AlertEvent {
  const port = [443, 135, 445, 6667, 80, 1025][i % 6]!;
  const sid = [2515, 2516, 2517, 9000001][i % 4]!;
  return {
    timestamp: formatTimestamp(DAY + (i % 86_000), 500_000_000),
    event_type: 'alert',
    src_ip: `203.0.${(i >> 8) & 0x3f}.${i & 0xff}`,
    src_port: 1024 + (i % 50_000),
    dest_ip: `192.168.1.${i % 97}`,
    dest_port: port,
    proto: 'TCP',
    pkt_src: 'wire/pcap',
    alert: { action: 'allowed', gid: 1, signature_id: sid, rev: 1, signature: `test signature ${sid}`, category: 'Attempted Administrator Privilege Gain', severity: 1 },
  };
}

/** Fills a spool directory with `n` alerts (seq 1..n), as a sensor would have. */
export function fillSpool(dir: string, n: number, first = 0): void {
  const spool = Spool.open({ dir, budget: 1024 ** 3, segmentSize: 4 * 1024 ** 2, fsync: 'none', fsyncInterval: 100 });
  for (let i = 0; i < n; i++) spool.append(alert(first + i));
  spool.close();
}

/** A collector process on `listen`, ready (its listening line printed). */
export async function collector(t: TestContext, args: string[]): Promise<Proc> {
  const p = startOutpost(t, ['collector', ...args]);
  await waitForLine(p, /collector listening on (https:\/\/\S+)/);
  return p;
}

/** Makes a token with the CLI and enrols a sensor with it; returns the credentials file. */
export function enrol(storeArgs: string[], url: string, dir: string, name: string): string {
  const token = runOutpost(['collector', 'token', 'create', ...storeArgs]);
  if (token.status !== 0) throw new Error(`token create failed: ${token.stderr}`);
  const credentials = join(dir, `${name}.json`);
  const r = runOutpost(['sensor', 'enroll', '--collector', url, '--token', token.stdout.trim(), '--name', name, '--credentials', credentials]);
  if (r.status !== 0) throw new Error(`enroll failed: ${r.stderr}`);
  return credentials;
}

/** A sensor configuration file shipping `spool` with `credentials`, quick retries; its input is a watched directory that stays empty unless `extra` says otherwise. */
export function sensorConfig(dir: string, name: string, credentials: string, spool: string, extra: Record<string, unknown> = {}): string {
  const path = join(dir, `${name}.yaml`);
  const watch = join(dir, `${name}-incoming`);
  mkdirSync(watch, { recursive: true });
  writeFileSync(
    path,
    stringify({
      sensor: {
        name,
        credentials,
        workers: 1,
        inputs: { watch },
        spool: { dir: spool, fsync: 'batch' },
        ship: { 'batch-events': 1000, 'backoff-min': 50, 'backoff-max': 1000 },
        eve: { path: join(dir, `${name}-eve.json`) },
        'stats-interval': 3600,
        healthz: 'off',
        ...extra,
      },
    }),
  );
  return path;
}

/** The sensor id in a credentials file. */
export function sensorIdOf(credentials: string, read: (p: string) => string): string {
  return (JSON.parse(read(credentials)) as { sensor_id: string }).sensor_id;
}

/** Opens the store a collector uses (SQLite in `data`, or PostgreSQL), closed when the test ends. */
export async function storeOf(t: TestContext, opts: { data?: string; database?: string | null }): Promise<Store> {
  const store = await openStore({ data: opts.data ?? '', database: opts.database ?? null });
  t.after(() => store.close());
  return store;
}
