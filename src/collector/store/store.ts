/**
 * The collector's store: one interface, two engines (SQLite, the default, and PostgreSQL for
 * several collectors sharing one database). Every method is async so both engines fit; the
 * same test suite (test/collector/store.test.ts) runs against each.
 *
 * Times are milliseconds since the epoch unless a name says otherwise.
 */

/** An event as ingest hands it to the store: the EVE record, already validated, with its identity. */
export interface IngestEvent {
  /** The sensor's sequence number (the `seq` field of the record). */
  seq: number;
  /** The record's timestamp (its `timestamp` field), in ms. */
  ts: number;
  /** The record as JSON text, with `sensor_id` set to the sending sensor. */
  json: string;
  /** Indexed fields, copied from the record. */
  event_type: string;
  src_ip: string | null;
  dest_ip: string | null;
  src_port: number | null;
  dest_port: number | null;
  proto: string | null;
  /** alert.signature_id, for alerts. */
  sid: number | null;
  /** alert.signature, for alerts. */
  signature: string | null;
}

/** The outcome of one ingested batch. */
export interface IngestResult {
  /** Events newly stored. */
  stored: number;
  /** Events already stored (same sensor and seq): not stored again. */
  duplicates: number;
  /** The highest seq up to which every event of the sensor is stored (or declared lost). */
  acked: number;
}

/** A stored event, as search returns it. */
export interface StoredEvent extends IngestEvent {
  sensor_id: string;
  /** When the collector stored it (ms). */
  received: number;
}

/** An enrolment token, kept by its SHA-256 only. */
export interface TokenRow {
  hash: string;
  created: number;
  /** null: never expires. */
  expires: number | null;
  /** Enrolments it still allows. */
  uses: number;
}

/** A sensor as the collector knows it. */
export interface SensorRow {
  id: string;
  name: string;
  /** The signing secret (hex). The collector needs it to check signatures. */
  secret: string;
  enrolled: number;
  /** null: not revoked. */
  revoked: number | null;
  /** Last accepted request (null: none yet). */
  last_seen: number | null;
  /** Highest contiguous seq stored (0: none). */
  acked: number;
  /** From its latest sensor_stats record (null until one arrives). */
  version: string | null;
  /** Its latest sensor_stats record's figures (pps, drops, spool depth, ...), as stored. */
  stats: Record<string, unknown> | null;
}

/** Event search filters (all optional, combined with AND). */
export interface EventQuery {
  /** ms, inclusive. */
  from?: number;
  /** ms, exclusive. */
  to?: number;
  event_type?: string;
  sensor_id?: string;
  /** Matches src_ip or dest_ip. */
  ip?: string;
  /** Matches src_port or dest_port. */
  port?: number;
  sid?: number;
  /** Case-insensitive substring of the record's JSON. */
  text?: string;
  /** At most this many (default 100, cap 1000). */
  limit?: number;
  /** The `next` of a previous page. */
  cursor?: string;
}

/** A page of events, newest first. */
export interface EventPage {
  events: StoredEvent[];
  /** Cursor for the next (older) page; null at the end. */
  next: string | null;
}

/** Rollup grains and the dimensions rolled up (ISC style, docs/collector.md). */
export type Grain = 'minute' | 'hour' | 'day';
export type Dimension = 'port' | 'signature' | 'source' | 'sensor';

/** One rollup row: a bucket of one dimension's key. */
export interface RollupRow {
  grain: Grain;
  /** Bucket start (ms, UTC). */
  bucket: number;
  dim: Dimension;
  /** The port number, sid, source address or sensor id, as text. */
  key: string;
  /** Records in the bucket. */
  records: number;
  /** Distinct source addresses. */
  sources: number;
  /** Distinct destination addresses. */
  targets: number;
}

/** A host's verdicts (latest first). */
export interface HostVerdicts {
  host: string;
  /** The verdict records (EVE JSON objects), newest first. */
  verdicts: Record<string, unknown>[];
}

export interface Store {
  readonly engine: 'sqlite' | 'postgres';
  /** Applies pending migrations (versioned, in order, each in a transaction); returns the schema version. */
  migrate(): Promise<number>;
  close(): Promise<void>;

  // Enrolment and sensors.
  addToken(token: TokenRow): Promise<void>;
  /** Spends one use of the token if it exists, has not expired and has uses left (atomically). */
  redeemToken(hash: string, now: number): Promise<boolean>;
  addSensor(sensor: { id: string; name: string; secret: string; enrolled: number }): Promise<void>;
  getSensor(id: string): Promise<SensorRow | undefined>;
  listSensors(): Promise<SensorRow[]>;
  /** false: no such sensor. Revoking twice keeps the first time. */
  revokeSensor(id: string, now: number): Promise<boolean>;
  /** Records a request's nonce; false if the sensor used it before (within the window kept). Forgets nonces older than `forgetBefore`. */
  useNonce(sensorId: string, nonce: string, now: number, forgetBefore: number): Promise<boolean>;
  /** Notes an accepted request, and the sensor's latest stats when a batch carried a sensor_stats record. */
  touchSensor(id: string, now: number, health?: { version: string | null; stats: Record<string, unknown> }): Promise<void>;

  // Ingest.
  /**
   * Stores a batch for one sensor in one transaction: events whose (sensor, seq) is new are
   * stored, the others counted as duplicates; then the acknowledgement advances over every
   * contiguous seq stored (and over `lostThrough`, seqs the sensor says it dropped). Two
   * collectors may ingest for the same sensor at once (PostgreSQL): the result stays exact.
   * The rollups of the buckets touched are marked for recount.
   */
  ingest(sensorId: string, events: readonly IngestEvent[], now: number, lostThrough?: number): Promise<IngestResult>;

  // Rollups and retention.
  /** Recounts the rollups of every bucket marked since the last pass, from the raw events; returns buckets recounted. */
  rollup(now: number): Promise<number>;
  /** Deletes raw events and rollups older than their retention (days; 0: keep). Rollups are never deleted with the events under them. */
  retain(now: number, retention: { events: number; minute: number; hour: number; day: number }): Promise<{ events: number; rollups: number }>;

  // Queries.
  searchEvents(q: EventQuery): Promise<EventPage>;
  /** The top `limit` keys of a dimension over [from, to) at a grain, by records. */
  top(dim: Dimension, grain: Grain, from: number, to: number, limit: number): Promise<RollupRow[]>;
  /** One key's rollup rows over [from, to) at a grain, oldest first (e.g. a port's history). */
  history(dim: Dimension, key: string, grain: Grain, from: number, to: number): Promise<RollupRow[]>;
  /** Hosts with verdict records, newest verdict first. */
  verdicts(limit: number, host?: string): Promise<HostVerdicts[]>;
  /** Totals for /metrics: events stored, sensors, tokens. */
  counts(): Promise<{ events: number; sensors: number; revoked: number }>;
}
