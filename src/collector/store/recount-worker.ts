import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { GRAIN_MS, isDue } from './buckets.js';
import { recountSelect } from './sql.js';
import type { Grain } from './store.js';

/**
 * SQLite's rollup passes, off the collector's event loop. better-sqlite3 runs a statement to
 * completion on the calling thread, and recounting a busy day reads every event of the day,
 * which takes seconds: on the main thread that would stall every request meanwhile. This worker
 * has its own connection to the same file. It reads each bucket in a read transaction (a WAL
 * snapshot, which holds up no writer), counts it into a temporary table, and then takes the
 * write lock only to swap the bucket's rows, which takes milliseconds.
 *
 * Exactness: a mark's `gen` changes whenever ingest marks the bucket again. It is read in the
 * same snapshot as the events, and the mark is deleted only if `gen` is still the same.
 * Otherwise events arrived after the snapshot, and the mark stays for the next pass. Buckets
 * are counted and swapped in groups (GROUP), each group in one snapshot.
 *
 * Messages: in `{ now }` runs one pass; out `{ recounted }` or `{ error }`.
 */

/** What the store sends: the file to open. */
export interface RecountWorkerData {
  path: string;
  busyTimeoutMs: number;
}

/** Marks read per page of a pass. */
const MARK_PAGE = 1000;
/**
 * Buckets counted in one snapshot and swapped in one write transaction: a transaction per
 * minute bucket would cost more than counting it. Bounded so that one swap holds the write
 * lock (and so ingest) for milliseconds, bar a big day's rows.
 */
const GROUP = 64;
/** The worker's page cache, which also bounds its sorts in memory: 64 MiB. */
const SORT_CACHE_KIB = 65536;

interface Mark {
  grain: Grain;
  bucket: number;
  since: number;
  gen: number;
}

function run(data: RecountWorkerData): void {
  const db = new Database(data.path);
  db.pragma(`busy_timeout = ${data.busyTimeoutMs}`);
  db.pragma('synchronous = NORMAL');
  // Sort memory for the GROUP BYs before they spill to temporary files (SQLite's default is 2 MB).
  db.pragma(`cache_size = -${SORT_CACHE_KIB}`);
  db.exec(`CREATE TEMP TABLE recount (grain TEXT, bucket INTEGER, dim TEXT, key TEXT, records INTEGER, sources INTEGER, targets INTEGER);
           CREATE INDEX temp.recount_bucket ON recount (grain, bucket)`);
  const marks = db.prepare('SELECT grain, bucket, since, gen FROM rollup_dirty WHERE (grain, bucket) > (?, ?) ORDER BY grain, bucket LIMIT ?');
  const markGen = db.prepare('SELECT gen FROM rollup_dirty WHERE grain = ? AND bucket = ?');
  const pruned = db.prepare("SELECT value FROM store_state WHERE name = 'pruned_before'");
  const clearTemp = db.prepare('DELETE FROM temp.recount');
  const count = db.prepare(`INSERT INTO temp.recount (grain, bucket, dim, key, records, sources, targets) ${recountSelect('sqlite')}`);
  const unmark = db.prepare('DELETE FROM rollup_dirty WHERE grain = ? AND bucket = ? AND gen = ?');
  const unmarkAny = db.prepare('DELETE FROM rollup_dirty WHERE grain = ? AND bucket = ?');
  const postpone = db.prepare('UPDATE rollup_dirty SET since = ? WHERE grain = ? AND bucket = ?');
  const clearBucket = db.prepare("DELETE FROM rollups WHERE grain = ? AND dim IN ('port', 'signature', 'source', 'sensor') AND bucket = ?");
  const copy = db.prepare('INSERT INTO rollups (grain, bucket, dim, key, records, sources, targets) SELECT grain, bucket, dim, key, records, sources, targets FROM temp.recount WHERE grain = ? AND bucket = ?');

  /** Counts a group of buckets in one snapshot; returns each counted bucket's gen as read there. */
  const read = db.transaction((group: Mark[]): { counted: { m: Mark; gen: number }[]; pruned: Mark[] } => {
    clearTemp.run();
    const water = (pruned.get() as { value: number }).value;
    const counted: { m: Mark; gen: number }[] = [];
    const gone: Mark[] = [];
    for (const m of group) {
      const g = markGen.get(m.grain, m.bucket) as { gen: number } | undefined;
      if (g === undefined) continue; // another connection recounted it since the page was read
      if (m.bucket < water) {
        gone.push(m);
        continue;
      }
      count.run(m.bucket, m.bucket + GRAIN_MS[m.grain], m.grain, m.bucket);
      counted.push({ m, gen: g.gen });
    }
    return { counted, pruned: gone };
  });

  /** Swaps the counted buckets' rows in one short write transaction; returns how many were written. */
  const write = db.transaction((counted: { m: Mark; gen: number }[], prunedMarks: Mark[], now: number): number => {
    const water = (pruned.get() as { value: number }).value;
    let n = 0;
    for (const m of prunedMarks) unmarkAny.run(m.grain, m.bucket);
    for (const { m, gen } of counted) {
      if (markGen.get(m.grain, m.bucket) === undefined) continue; // recounted meanwhile by another connection, from a later snapshot
      if (m.bucket < water) {
        unmarkAny.run(m.grain, m.bucket);
        continue;
      }
      clearBucket.run(m.grain, m.bucket);
      copy.run(m.grain, m.bucket);
      // Re-marked during the count: keep the mark, due again after the grain's delay from now.
      if (unmark.run(m.grain, m.bucket, gen).changes === 0) postpone.run(Number.isFinite(now) ? now : 0, m.grain, m.bucket);
      n++;
    }
    return n;
  });

  const pass = (now: number): number => {
    let recounted = 0;
    let after: { grain: string; bucket: number } = { grain: '', bucket: Number.MIN_SAFE_INTEGER };
    for (;;) {
      const page = marks.all(after.grain, after.bucket, MARK_PAGE) as Mark[];
      if (page.length === 0) break;
      after = page[page.length - 1]!;
      const due = page.filter((m) => isDue(m.grain, m.bucket, m.since, now));
      for (let i = 0; i < due.length; i += GROUP) {
        const r = read.deferred(due.slice(i, i + GROUP));
        recounted += write.immediate(r.counted, r.pruned, now);
      }
    }
    clearTemp.run();
    return recounted;
  };

  parentPort!.on('message', (msg: { now: number }) => {
    try {
      parentPort!.postMessage({ recounted: pass(msg.now) });
    } catch (err) {
      parentPort!.postMessage({ error: err instanceof Error ? err.message : String(err) });
    }
  });
}

run(workerData as RecountWorkerData);
