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
/** The large-bucket connection's page cache, which also bounds its sorts in memory: 64 MiB. */
const SORT_CACHE_KIB = 65536;
/** Buckets up to this many events are counted in memory: at about 100 bytes of sort space each, some 20 MB at most. */
const IN_MEMORY_EVENTS = 200_000;

interface Mark {
  grain: Grain;
  bucket: number;
  since: number;
  gen: number;
}

/** A connection that counts buckets into its own temporary table and swaps their rows. */
interface Counter {
  /** Counts a group of buckets in one snapshot; returns each counted bucket's gen as read there, and the marks of pruned buckets. */
  read(group: Mark[]): { counted: { m: Mark; gen: number }[]; pruned: Mark[] };
  /** Swaps the counted buckets' rows in one short write transaction; returns how many were written. */
  write(counted: { m: Mark; gen: number }[], pruned: Mark[], now: number): number;
  close(): void;
}

function openCounter(data: RecountWorkerData, tempInMemory: boolean): Counter {
  const db = new Database(data.path);
  db.pragma(`busy_timeout = ${data.busyTimeoutMs}`);
  db.pragma('synchronous = NORMAL');
  if (tempInMemory) db.pragma('temp_store = MEMORY');
  else db.pragma(`cache_size = -${SORT_CACHE_KIB}`);
  db.exec(`CREATE TEMP TABLE recount (grain TEXT, bucket INTEGER, dim TEXT, key TEXT, records INTEGER, sources INTEGER, targets INTEGER);
           CREATE INDEX temp.recount_bucket ON recount (grain, bucket)`);
  const markGen = db.prepare('SELECT gen FROM rollup_dirty WHERE grain = ? AND bucket = ?');
  const prunedBefore = db.prepare("SELECT value FROM store_state WHERE name = 'pruned_before'");
  const clearTemp = db.prepare('DELETE FROM temp.recount');
  const count = db.prepare(`INSERT INTO temp.recount (grain, bucket, dim, key, records, sources, targets) ${recountSelect('sqlite')}`);
  const unmark = db.prepare('DELETE FROM rollup_dirty WHERE grain = ? AND bucket = ? AND gen = ?');
  const unmarkAny = db.prepare('DELETE FROM rollup_dirty WHERE grain = ? AND bucket = ?');
  const postpone = db.prepare('UPDATE rollup_dirty SET since = ? WHERE grain = ? AND bucket = ?');
  const clearBucket = db.prepare("DELETE FROM rollups WHERE grain = ? AND dim IN ('port', 'signature', 'source', 'sensor') AND bucket = ?");
  const copy = db.prepare('INSERT INTO rollups (grain, bucket, dim, key, records, sources, targets) SELECT grain, bucket, dim, key, records, sources, targets FROM temp.recount WHERE grain = ? AND bucket = ?');

  const read = db.transaction((group: Mark[]) => {
    clearTemp.run();
    const water = (prunedBefore.get() as { value: number }).value;
    const counted: { m: Mark; gen: number }[] = [];
    const pruned: Mark[] = [];
    for (const m of group) {
      const g = markGen.get(m.grain, m.bucket) as { gen: number } | undefined;
      if (g === undefined) continue; // another connection recounted it since the page was read
      if (m.bucket < water) {
        pruned.push(m);
        continue;
      }
      count.run(m.bucket, m.bucket + GRAIN_MS[m.grain], m.grain, m.bucket);
      counted.push({ m, gen: g.gen });
    }
    return { counted, pruned };
  });

  const write = db.transaction((counted: { m: Mark; gen: number }[], pruned: Mark[], now: number): number => {
    const water = (prunedBefore.get() as { value: number }).value;
    let n = 0;
    for (const m of pruned) unmarkAny.run(m.grain, m.bucket);
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
    clearTemp.run();
    return n;
  });

  return {
    read: (group) => read.deferred(group),
    write: (counted, pruned, now) => write.immediate(counted, pruned, now),
    close: () => db.close(),
  };
}

function run(data: RecountWorkerData): void {
  // Small buckets sort in memory: SQLite would otherwise open temporary files for every
  // GROUP BY and DISTINCT, which costs more than counting a minute. Buckets of more than
  // IN_MEMORY_EVENTS go through a connection whose sorts spill to files, so memory stays bounded.
  const small = openCounter(data, true);
  const large = openCounter(data, false);
  const db = new Database(data.path, { readonly: true });
  db.pragma(`busy_timeout = ${data.busyTimeoutMs}`);
  const marks = db.prepare('SELECT grain, bucket, since, gen FROM rollup_dirty WHERE (grain, bucket) > (?, ?) ORDER BY grain, bucket LIMIT ?');
  const size = db.prepare(`SELECT COUNT(*) AS n FROM (SELECT 1 FROM events WHERE ts >= ? AND ts < ? LIMIT ${IN_MEMORY_EVENTS + 1})`);

  const pass = (now: number): number => {
    let recounted = 0;
    let after: { grain: string; bucket: number } = { grain: '', bucket: Number.MIN_SAFE_INTEGER };
    for (;;) {
      const page = marks.all(after.grain, after.bucket, MARK_PAGE) as Mark[];
      if (page.length === 0) break;
      after = page[page.length - 1]!;
      const due: Record<'small' | 'large', Mark[]> = { small: [], large: [] };
      for (const m of page) {
        if (!isDue(m.grain, m.bucket, m.since, now)) continue;
        const n = (size.get(m.bucket, m.bucket + GRAIN_MS[m.grain]) as { n: number }).n;
        due[n > IN_MEMORY_EVENTS ? 'large' : 'small'].push(m);
      }
      for (const kind of ['small', 'large'] as const) {
        const counter = kind === 'small' ? small : large;
        const list = due[kind];
        for (let i = 0; i < list.length; i += GROUP) {
          const r = counter.read(list.slice(i, i + GROUP));
          recounted += counter.write(r.counted, r.pruned, now);
        }
      }
    }
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
