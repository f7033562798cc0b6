import { request } from 'node:https';
import { gzipSync } from 'node:zlib';
import type { TestContext } from 'node:test';
import { API, HEADER, sign } from '../../src/api/contract.js';
import { startCollector, type Collector, type CollectorOptions } from '../../src/collector/server.js';
import type { Store } from '../../src/collector/store/store.js';
import { tempDir } from '../helpers.js';

/** What the collector tests share: an HTTPS client pinned to the collector's CA, batch builders, a PostgreSQL database per test. */

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One HTTPS request to the collector, trusting only its CA (as an enrolled sensor does). */
export function call(c: Collector, method: string, path: string, opts: { body?: Buffer | string; headers?: Record<string, string> } = {}): Promise<Reply> {
  const url = new URL(path, c.url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port, path: `${url.pathname}${url.search}`, method, ca: c.caPem, headers: opts.headers ?? {}, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

export function json<T = Record<string, unknown>>(r: Reply): T {
  return JSON.parse(r.text) as T;
}

/** Enrols through the API with a token; the reply's id and secret. */
export async function enrollVia(c: Collector, token: string, name?: string): Promise<Reply> {
  return call(c, 'POST', API.enroll, { body: JSON.stringify(name === undefined ? { token } : { token, name }), headers: { 'content-type': 'application/json' } });
}

/** An EVE time on 2004-04-21 (UTC), `minute` minutes after 10:00. */
export function eveTime(minute: number): string {
  const d = new Date(Date.UTC(2004, 3, 21, 10, minute, 0));
  return `${d.toISOString().slice(0, 19)}.000000+0000`;
}

/** A valid alert record. */
export function alert(seq: number, o: { src?: string; dest?: string; port?: number; sid?: number; minute?: number } = {}): Record<string, unknown> {
  const sid = o.sid ?? 9000001;
  return {
    timestamp: eveTime(o.minute ?? 0),
    event_type: 'alert',
    src_ip: o.src ?? '203.0.113.66',
    src_port: 1042,
    dest_ip: o.dest ?? '192.168.1.10',
    dest_port: o.port ?? 443,
    proto: 'TCP',
    pkt_src: 'wire/pcap',
    alert: { action: 'allowed', gid: 1, signature_id: sid, rev: 1, signature: `OUTPOST test signature ${sid}`, category: '', severity: 1 },
    seq,
  };
}

/** NDJSON lines, gzipped as a sensor ships them. */
export function gz(lines: Array<Record<string, unknown> | string>): Buffer {
  return gzipSync(lines.map((l) => `${typeof l === 'string' ? l : JSON.stringify(l)}\n`).join(''));
}

export interface Credential {
  sensor: string;
  secret: string;
}

/** Headers of a signed events batch. */
export function signedHeaders(cred: Credential, body: Buffer, o: { now?: number; path?: string; extra?: Record<string, string> } = {}): Record<string, string> {
  return {
    'content-type': 'application/x-ndjson',
    'content-encoding': 'gzip',
    // The lost-through header is signed with the rest (docs/network.md).
    [HEADER.auth]: sign(cred.sensor, cred.secret, { method: 'POST', path: o.path ?? API.events, body, ...(o.extra?.[HEADER.lostThrough] !== undefined ? { lostThrough: Number(o.extra[HEADER.lostThrough]) } : {}) }, o.now),
    ...o.extra,
  };
}

/** POSTs a signed batch. */
export function ship(c: Collector, cred: Credential, body: Buffer, o: { now?: number; extra?: Record<string, string> } = {}): Promise<Reply> {
  return call(c, 'POST', API.events, { body, headers: signedHeaders(cred, body, o) });
}

/** Test ingest limits: small, so every cap is cheap to hit. */
export const LIMITS = { maxBody: 64 * 1024, maxInflated: 256 * 1024, maxEvents: 50, rateLimit: 0 };

/** Starts a collector on an ephemeral loopback port with a temporary data dir; closed when the test ends. */
export async function startTest(t: TestContext, store: Store, o: Partial<CollectorOptions> = {}): Promise<Collector> {
  const c = await startCollector({
    listen: '127.0.0.1:0',
    data: tempDir(t),
    store,
    ingest: LIMITS,
    rollupIntervalS: 3600,
    retention: { events: 0, minute: 0, hour: 0, day: 0 },
    log: () => {},
    ...o,
  });
  t.after(() => c.close());
  return c;
}

/** PostgreSQL for the acceptance runs: one helper for every test (test/collector/pg.ts). */
export { postgres } from './pg.js';

/** Prometheus text → sample name with labels → value. */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m === null) throw new Error(`not a Prometheus sample line: ${line}`);
    out.set(m[1]!, Number(m[2]));
  }
  return out;
}
