import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PostgresStore } from './postgres.js';
import { SqliteStore } from './sqlite.js';
import type { Store } from './store.js';

/**
 * The collector's store room: open a store by configuration, and the types it speaks.
 * Engines: SQLite at DATA/outpost.db (the default) and PostgreSQL for a postgres:// URL
 * (several collectors on one database). NOTES.md records the design.
 */

export type * from './store.js';
export { QueryError } from './sql.js';
export { GRAIN_MS, DIMENSIONS, GRAINS, bucketOf } from './buckets.js';
export { SqliteStore } from './sqlite.js';
export { PostgresStore } from './postgres.js';

/** Where the store lives: a data directory (SQLite) or a PostgreSQL URL, as in CollectorConfig. */
export interface StoreOptions {
  /** Directory for DATA/outpost.db (default ./data); made if missing. */
  data?: string;
  /** postgres:// or postgresql:// URL; null or absent: SQLite. */
  database?: string | null;
}

/** The SQLite file name inside the data directory. */
export const SQLITE_FILE = 'outpost.db';

/**
 * Opens the store the options name and brings its schema up to date (migrate()). Throws with a
 * clear message for a URL that is not PostgreSQL's, an unreachable database, or a schema newer
 * than this code.
 */
export async function openStore(opts: StoreOptions): Promise<Store> {
  let store: Store;
  if (opts.database != null && opts.database !== '') {
    if (!/^postgres(ql)?:\/\//.test(opts.database)) throw new Error(`database must be a postgres:// URL, not "${opts.database.split(':')[0]}:..."`);
    store = new PostgresStore(opts.database);
  } else {
    const dir = resolve(opts.data ?? 'data');
    // The database holds every sensor's signing secret: owner only. SQLite gives its -wal and
    // -shm files the database file's mode, so creating the file 0600 covers them too.
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, SQLITE_FILE);
    if (!existsSync(file)) writeFileSync(file, '', { mode: 0o600, flag: 'wx' });
    store = new SqliteStore(file);
  }
  try {
    await store.migrate();
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  return store;
}
