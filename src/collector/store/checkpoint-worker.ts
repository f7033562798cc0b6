import Database from 'better-sqlite3';
import { workerData } from 'node:worker_threads';

/**
 * SQLite's WAL checkpoints, off the ingest path. A checkpoint copies the WAL's pages back into
 * the database file and syncs it. With the default (a checkpoint whenever a commit leaves the
 * WAL past 1,000 pages), the batch that crosses the line pays for it: tens to hundreds of
 * milliseconds with the event loop stopped. Here a connection of its own runs a PASSIVE
 * checkpoint every CHECKPOINT_EVERY_MS. A passive checkpoint never blocks a writer; it copies
 * what no reader still needs. The main connection keeps a large automatic threshold as a
 * safety net, in case this thread stops.
 */

/** What the store sends: the file to checkpoint. */
export interface CheckpointWorkerData {
  path: string;
  busyTimeoutMs: number;
}

/** One second: at 50,000 events/s the WAL then holds about 50 MB between checkpoints. */
const CHECKPOINT_EVERY_MS = 1000;

const data = workerData as CheckpointWorkerData;
const db = new Database(data.path);
db.pragma(`busy_timeout = ${data.busyTimeoutMs}`);
setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // busy or closing: the next tick tries again, and the main connection's threshold still holds
  }
}, CHECKPOINT_EVERY_MS);
