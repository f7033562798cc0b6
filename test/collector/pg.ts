import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import pg from 'pg';

/**
 * PostgreSQL for tests: OUTPOST_TEST_PG names a server and a role that may create databases
 * (locally `postgres://outpost:outpost@127.0.0.1/outpost_test`; .ci/run starts one). Each test
 * gets a database of its own, dropped when it ends.
 */

/** Under OUTPOST_REQUIRE=1 (CI) a missing server fails the test instead of skipping it. */
const required = process.env.OUTPOST_REQUIRE === '1';

/** The server URL, or null (the test is then skipped with a visible reason, or failed under OUTPOST_REQUIRE=1). */
export function postgresServer(t: TestContext): string | null {
  const url = process.env.OUTPOST_TEST_PG;
  if (url !== undefined && url !== '') return url;
  const why = 'OUTPOST_TEST_PG is not set (a postgres:// URL of a role that may CREATE DATABASE)';
  if (required) throw new Error(`required: ${why}`);
  t.skip(why);
  return null;
}

/** The same URL naming another database. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * A fresh database (outpost_t_<random>) on the test server; its URL, or null when skipped.
 * Dropped after the test (WITH (FORCE): a store the test left open does not keep it alive).
 */
export async function postgres(t: TestContext): Promise<string | null> {
  const server = postgresServer(t);
  if (server === null) return null;
  const name = `outpost_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  t.after(async () => {
    const c = new pg.Client({ connectionString: server });
    await c.connect();
    try {
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await c.end();
    }
  });
  return withDatabase(server, name);
}
