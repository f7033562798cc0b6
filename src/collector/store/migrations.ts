import type { Database } from 'better-sqlite3';
import type { Pool } from 'pg';

/**
 * The store's schema, as versioned migrations per engine (NOTES.md explains the tables and
 * indices). A migration is applied once, in order, in its own transaction, and recorded in
 * `schema_version`. Never edit a released migration: add the next one.
 */

/** One schema step. */
export interface Migration {
  version: number;
  /** What it does, in a few words (kept in schema_version). */
  name: string;
  sql: string;
}

export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events, sensors, tokens, nonces, rollups',
    sql: `
CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  sensor_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  received INTEGER NOT NULL,
  event_type TEXT NOT NULL,
  src_ip TEXT,
  dest_ip TEXT,
  src_port INTEGER,
  dest_port INTEGER,
  proto TEXT,
  sid INTEGER,
  signature TEXT,
  json TEXT NOT NULL
);
CREATE UNIQUE INDEX events_identity ON events (sensor_id, seq);
CREATE INDEX events_time ON events (ts, sensor_id, seq, event_type, src_ip, dest_ip, src_port, dest_port, sid);
CREATE INDEX events_type_time ON events (event_type, ts);

CREATE TABLE sensors (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  secret TEXT NOT NULL,
  enrolled INTEGER NOT NULL,
  revoked INTEGER,
  last_seen INTEGER,
  acked INTEGER NOT NULL DEFAULT 0,
  stored INTEGER NOT NULL DEFAULT 0,
  version TEXT,
  stats TEXT
);

CREATE TABLE tokens (
  hash TEXT PRIMARY KEY,
  created INTEGER NOT NULL,
  expires INTEGER,
  uses INTEGER NOT NULL
);

CREATE TABLE nonces (
  sensor_id TEXT NOT NULL,
  nonce TEXT NOT NULL,
  ts INTEGER NOT NULL,
  PRIMARY KEY (sensor_id, nonce)
) WITHOUT ROWID;
CREATE INDEX nonces_time ON nonces (ts);

CREATE TABLE rollups (
  grain TEXT NOT NULL,
  dim TEXT NOT NULL,
  key TEXT NOT NULL,
  bucket INTEGER NOT NULL,
  records INTEGER NOT NULL,
  sources INTEGER NOT NULL,
  targets INTEGER NOT NULL,
  PRIMARY KEY (grain, dim, bucket, key)
) WITHOUT ROWID;
CREATE INDEX rollups_rank ON rollups (grain, dim, bucket, records DESC, key);

CREATE TABLE rollup_dirty (
  grain TEXT NOT NULL,
  bucket INTEGER NOT NULL,
  since INTEGER NOT NULL,
  gen INTEGER NOT NULL,
  PRIMARY KEY (grain, bucket)
) WITHOUT ROWID;

CREATE TABLE store_state (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
INSERT INTO store_state (name, value) VALUES ('pruned_before', -9007199254740991), ('events_deleted', 0);
`,
  },
];

export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events, sensors, tokens, nonces, rollups',
    sql: `
CREATE TABLE events (
  sensor_id text COLLATE "C" NOT NULL,
  seq bigint NOT NULL,
  ts bigint NOT NULL,
  received bigint NOT NULL,
  event_type text COLLATE "C" NOT NULL,
  src_ip text COLLATE "C",
  dest_ip text COLLATE "C",
  src_port integer,
  dest_port integer,
  proto text,
  sid bigint,
  signature text,
  json text NOT NULL,
  PRIMARY KEY (sensor_id, seq)
);
CREATE INDEX events_time ON events (ts, sensor_id, seq) INCLUDE (event_type, src_ip, dest_ip, src_port, dest_port, sid);
CREATE INDEX events_type_time ON events (event_type, ts);

CREATE TABLE sensors (
  id text COLLATE "C" PRIMARY KEY,
  name text NOT NULL,
  secret text NOT NULL,
  enrolled bigint NOT NULL,
  revoked bigint,
  last_seen bigint,
  acked bigint NOT NULL DEFAULT 0,
  stored bigint NOT NULL DEFAULT 0,
  version text,
  stats text
);

CREATE TABLE tokens (
  hash text PRIMARY KEY,
  created bigint NOT NULL,
  expires bigint,
  uses integer NOT NULL
);

CREATE TABLE nonces (
  sensor_id text NOT NULL,
  nonce text NOT NULL,
  ts bigint NOT NULL,
  PRIMARY KEY (sensor_id, nonce)
);
CREATE INDEX nonces_time ON nonces (ts);

CREATE TABLE rollups (
  grain text NOT NULL,
  dim text NOT NULL,
  key text COLLATE "C" NOT NULL,
  bucket bigint NOT NULL,
  records bigint NOT NULL,
  sources bigint NOT NULL,
  targets bigint NOT NULL,
  PRIMARY KEY (grain, dim, bucket, key)
);
CREATE INDEX rollups_rank ON rollups (grain, dim, bucket, records DESC, key);

CREATE TABLE rollup_dirty (
  id bigserial PRIMARY KEY,
  grain text NOT NULL,
  bucket bigint NOT NULL,
  since bigint NOT NULL
);
CREATE INDEX rollup_dirty_bucket ON rollup_dirty (grain, bucket);

CREATE TABLE store_state (
  name text PRIMARY KEY,
  value bigint NOT NULL
);
INSERT INTO store_state (name, value) VALUES ('pruned_before', -9007199254740991), ('events_deleted', 0);
`,
  },
];

/** The newest version each engine's code knows. */
export const LATEST_VERSION = Math.max(...SQLITE_MIGRATIONS.map((m) => m.version));

/** The error for a database migrated by a newer Outpost: refusing beats misreading its tables. */
export function newerSchemaError(where: string, found: number, known: number): Error {
  return new Error(`${where}: the store's schema is version ${found}, newer than this Outpost knows (up to ${known}); run a newer Outpost against it, or use another database`);
}

const VERSION_TABLE = 'CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied BIGINT NOT NULL)';

/**
 * Applies SQLite's pending migrations; returns the schema version. Each step runs in an
 * IMMEDIATE transaction that re-reads the version first, so two processes opening the same file
 * at once apply each step once.
 */
export function migrateSqlite(db: Database, where: string, migrations: readonly Migration[] = SQLITE_MIGRATIONS): number {
  db.exec(VERSION_TABLE);
  const current = (): number => (db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null }).v ?? 0;
  const known = Math.max(0, ...migrations.map((m) => m.version));
  const found = current();
  if (found > known) throw newerSchemaError(where, found, known);
  for (const m of migrations) {
    if (m.version <= found) continue;
    db.transaction(() => {
      if (current() >= m.version) return;
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_version (version, name, applied) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
    }).immediate();
  }
  return Math.max(found, current());
}

/** Advisory lock key held while migrating PostgreSQL ("outpost" in ASCII, then the byte 1). Rollup bucket keys are far below it. */
export const MIGRATION_LOCK = '8031453536740144129';

/** Advisory lock key for maintenance: recounts hold it shared, retention's watermark step exclusive ("outpost", then 2). */
export const MAINTENANCE_LOCK = '8031453536740144130';

/**
 * Applies PostgreSQL's pending migrations; returns the schema version. A session advisory lock
 * makes collectors starting together take turns; each step is its own transaction.
 */
export async function migratePostgres(pool: Pool, where: string, migrations: readonly Migration[] = POSTGRES_MIGRATIONS): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK]);
    try {
      await client.query(VERSION_TABLE);
      const current = async (): Promise<number> => Number((await client.query<{ v: string | number | null }>('SELECT MAX(version) AS v FROM schema_version')).rows[0]?.v ?? 0);
      const known = Math.max(0, ...migrations.map((m) => m.version));
      const found = await current();
      if (found > known) throw newerSchemaError(where, found, known);
      for (const m of migrations) {
        if (m.version <= found) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_version (version, name, applied) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw new Error(`${where}: migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, { cause: err });
        }
      }
      return await current();
    } finally {
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK]);
    }
  } finally {
    client.release();
  }
}
