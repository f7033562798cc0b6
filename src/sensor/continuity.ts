import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SensorCredentials } from '../api/contract.js';

/**
 * Sequence numbers are a sensor's identity for its events at the collector, so a spool must
 * never number from 1 again under credentials that have already shipped: the collector would take
 * the new events for duplicates of the old ones and drop them. That happens when a spool is
 * deleted, lost with its disk, or moved by configuration while the credentials stay.
 *
 * Beside the credentials file, `<credentials>.spool` records that a spool was started for these
 * credentials (their sensor id). A new, empty spool under credentials that have one starts its
 * numbering at the current time in microseconds, which is above anything an earlier spool can
 * have reached (a million events a second since it started), and declares every number below it
 * lost so the collector's acknowledgement passes over the gap. A sensor's first spool numbers
 * from 1.
 */

/** What seeding did: null (an existing spool, or the credentials' first), or the first seq of a spool renumbered. */
export type SeedResult = { renumberedFrom: number } | null;

/** Call before Spool.open. `now` in ms. */
export function seedSpool(spoolDir: string, credentialsPath: string, credentials: SensorCredentials, now = Date.now()): SeedResult {
  const marker = `${credentialsPath}.spool`;
  const fresh = !existsSync(join(spoolDir, 'state.json')) && !(existsSync(spoolDir) && readdirSync(spoolDir).some((f) => f.endsWith('.seg')));
  let shippedBefore = false;
  try {
    shippedBefore = (JSON.parse(readFileSync(marker, 'utf8')) as { sensor_id?: string }).sensor_id === credentials.sensor_id;
  } catch {
    // No marker (or an unreadable one): these credentials have not spooled before.
  }
  if (!shippedBefore) writeFileSync(marker, `${JSON.stringify({ sensor_id: credentials.sensor_id, spool: spoolDir, since: new Date(now).toISOString() })}\n`, { mode: 0o600 });
  if (!fresh || !shippedBefore) return null;
  const base = now * 1000;
  mkdirSync(spoolDir, { recursive: true });
  const tmp = join(spoolDir, 'state.json.seed');
  writeFileSync(tmp, `${JSON.stringify({ acked: 0, dropped: 0, lostThrough: base - 1, nextSeq: base, torn: 0, rejected: 0 })}\n`);
  renameSync(tmp, join(spoolDir, 'state.json'));
  return { renumberedFrom: base };
}
