import type { Dimension, Grain } from './store.js';

/**
 * Rollup buckets: their sizes, where an event falls, and which buckets a batch touches. Shared
 * by both engines so that they cut time the same way (UTC, no time zones: ISC's days are UTC).
 */

/** Bucket length of each grain, ms. A UTC day is always 86,400 s (no leap seconds in epoch time). */
export const GRAIN_MS: Readonly<Record<Grain, number>> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** Every grain, finest first. */
export const GRAINS: readonly Grain[] = ['minute', 'hour', 'day'];

/** Every dimension rolled up. */
export const DIMENSIONS: readonly Dimension[] = ['port', 'signature', 'source', 'sensor'];

/** One day in ms (retention is in days). */
export const DAY_MS = GRAIN_MS.day;

/**
 * Event types that are the sensor talking about itself, not traffic it saw. They are stored and
 * searchable, but not counted in the `sensor` dimension (they have no addresses, ports or sid,
 * so no other dimension sees them either).
 */
export const HOUSEKEEPING_TYPES: readonly string[] = ['sensor_stats', 'spool_drop'];

/** The start of the bucket holding `ts` (floor, so times before 1970 work too). */
export function bucketOf(grain: Grain, ts: number): number {
  const size = GRAIN_MS[grain];
  return Math.floor(ts / size) * size;
}

/** A bucket to recount. */
export interface BucketMark {
  grain: Grain;
  bucket: number;
}

/**
 * How long a still-open bucket may wait for its recount after it was first marked. A recount
 * reads every event of its bucket, so recounting today's day bucket on every pass (each minute)
 * would read the day's events 1,440 times a day; open hours are recounted at most every 5
 * minutes and open days every hour. A bucket that has closed (now past its end) is recounted on
 * the next pass, so late events and the final figures wait for at most one pass.
 */
export const RECOUNT_DELAY_MS: Readonly<Record<Grain, number>> = { minute: 0, hour: 5 * 60_000, day: 60 * 60_000 };

/** Whether a mark (first made at `since`) is due for its recount at `now`. */
export function isDue(grain: Grain, bucket: number, since: number, now: number): boolean {
  return now >= bucket + GRAIN_MS[grain] || now - since >= RECOUNT_DELAY_MS[grain];
}

/**
 * isDue as bounds for SQL, per grain: a mark is due when bucket <= closed or since <= waited.
 * Clamped to safe integers, so `now` may be Infinity (recount everything marked).
 */
export function dueBounds(now: number): Record<Grain, { closed: number; waited: number }> {
  const clamp = (x: number): number => Math.max(Number.MIN_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, x));
  const out = {} as Record<Grain, { closed: number; waited: number }>;
  for (const g of GRAINS) out[g] = { closed: clamp(now - GRAIN_MS[g]), waited: clamp(now - RECOUNT_DELAY_MS[g]) };
  return out;
}

/**
 * The distinct (grain, bucket) pairs that events at these times fall in, sorted by grain then
 * bucket (a fixed order, so two transactions marking the same buckets take row locks alike).
 */
export function bucketsTouched(times: Iterable<number>): BucketMark[] {
  const seen: Record<Grain, Set<number>> = { minute: new Set(), hour: new Set(), day: new Set() };
  for (const ts of times) {
    const minute = bucketOf('minute', ts);
    if (seen.minute.has(minute)) continue; // the same minute implies the same hour and day
    seen.minute.add(minute);
    seen.hour.add(bucketOf('hour', ts));
    seen.day.add(bucketOf('day', ts));
  }
  const out: BucketMark[] = [];
  for (const grain of GRAINS) for (const bucket of [...seen[grain]].sort((a, b) => a - b)) out.push({ grain, bucket });
  return out;
}

/**
 * Whether a grain name is one the store knows (queries pass user input through the server,
 * which should have checked already; the store checks again rather than build odd SQL).
 */
export function checkGrainDim(grain: string, dim: string): void {
  if (!(grain in GRAIN_MS)) throw new RangeError(`unknown grain "${grain}" (minute, hour or day)`);
  if (!DIMENSIONS.includes(dim as Dimension)) throw new RangeError(`unknown dimension "${dim}" (${DIMENSIONS.join(', ')})`);
}
