import { DAY_MS, GRAIN_MS, bucketOf } from './buckets.js';
import type { Grain, HostVerdicts, IngestEvent, SensorRow } from './store.js';

/** Checks and small computations both engines share, so that they answer alike. */

/** Verdict records returned per host: a host judged again and again keeps its newest. */
export const VERDICTS_PER_HOST = 100;
/** Hosts per verdicts() call at most. */
export const MAX_VERDICT_HOSTS = 1000;

/**
 * Refuses a batch the store cannot keep exactly (the server validates records first; this
 * guards the store's own invariants): seq a positive safe integer, ts an integer ms time,
 * json and event_type text. Throws RangeError naming the event's index.
 */
export function checkBatch(events: readonly IngestEvent[], lostThrough: number | undefined): void {
  if (lostThrough !== undefined && !(Number.isSafeInteger(lostThrough) && lostThrough >= 0)) throw new RangeError(`lostThrough must be a non-negative integer, not ${lostThrough}`);
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (!(Number.isSafeInteger(e.seq) && e.seq >= 1)) throw new RangeError(`event ${i}: seq must be a positive integer, not ${e.seq}`);
    if (!Number.isSafeInteger(e.ts)) throw new RangeError(`event ${i} (seq ${e.seq}): ts must be an integer time in ms, not ${e.ts}`);
    if (typeof e.json !== 'string' || typeof e.event_type !== 'string') throw new RangeError(`event ${i} (seq ${e.seq}): json and event_type must be text`);
  }
}

/**
 * The buckets of a grain whose start lies in [from, to): the first one, and whether it is the
 * only one (then top() reads one bucket's rows, ranked by an index). null: none.
 */
export function rangeBuckets(grain: Grain, from: number, to: number): { first: number; single: boolean } | null {
  const size = GRAIN_MS[grain];
  const first = Math.ceil(from / size) * size;
  if (!(first < to)) return null;
  return { first, single: first + size >= to };
}

/**
 * Where raw events may be deleted up to: `days` before now, but never into a bucket still
 * marked for recount (its rollups need the events), and always a whole UTC day, so that
 * every bucket of every grain is either wholly kept or wholly deleted.
 */
export function retentionCutoff(now: number, days: number, minDirty: number | null): number {
  let cutoff = now - days * DAY_MS;
  if (minDirty !== null) cutoff = Math.min(cutoff, minDirty);
  return bucketOf('day', cutoff);
}

/** The number of hosts to return for a requested limit. */
export function verdictLimit(limit: number): number {
  if (!Number.isFinite(limit)) return 100;
  return Math.min(MAX_VERDICT_HOSTS, Math.max(1, Math.floor(limit)));
}

/** A verdict row: its host and the record, hosts in order, each host's records newest first. */
export interface VerdictRow {
  host: string;
  json: string;
}

/** Groups ordered verdict rows by host, keeping the order. */
export function groupVerdicts(rows: readonly VerdictRow[]): HostVerdicts[] {
  const out: HostVerdicts[] = [];
  let cur: HostVerdicts | undefined;
  for (const r of rows) {
    if (cur === undefined || cur.host !== r.host) {
      cur = { host: r.host, verdicts: [] };
      out.push(cur);
    }
    cur.verdicts.push(JSON.parse(r.json) as Record<string, unknown>);
  }
  return out;
}

/** A sensors row as either driver returns it (stats as JSON text). */
export interface SensorDbRow {
  id: string;
  name: string;
  secret: string;
  enrolled: number;
  revoked: number | null;
  last_seen: number | null;
  acked: number;
  version: string | null;
  stats: string | null;
}

/** A sensor from its row; damaged stats read as absent rather than failing the listing. */
export function toSensor(r: SensorDbRow): SensorRow {
  let stats: Record<string, unknown> | null = null;
  if (r.stats !== null) {
    try {
      stats = JSON.parse(r.stats) as Record<string, unknown>;
    } catch {
      stats = null;
    }
  }
  return { id: r.id, name: r.name, secret: r.secret, enrolled: r.enrolled, revoked: r.revoked, last_seen: r.last_seen, acked: r.acked, version: r.version, stats };
}
