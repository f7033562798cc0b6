import type { Store } from './store/store.js';

/**
 * The collector's Prometheus metrics (GET /metrics), in the text exposition format written by
 * hand: a few counters, one histogram and gauges read from the store at scrape time. Counters
 * are per process (each collector of a scaled-out pair reports its own); the store gauges are
 * the shared database's.
 */

/** Batch latency buckets (seconds): a 1,000-event batch should take a few ms; seconds mean trouble. */
const BATCH_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** Label values are bounded by the code: refusal codes and route names, never client text. */
export class CollectorMetrics {
  private readonly started = Date.now();
  private readonly events = { stored: 0, duplicate: 0 };
  private batches = 0;
  private readonly rejected = new Map<string, number>();
  private readonly refused = new Map<string, number>();
  private readonly enrolments = { ok: 0, refused: 0 };
  private readonly passes = { rollup: 0, retain: 0, errors: 0 };
  private readonly batchCounts = new Array<number>(BATCH_BUCKETS.length).fill(0);
  private batchSum = 0;

  /** An accepted batch: its stored and duplicate events and how long it took (s). */
  batch(stored: number, duplicates: number, seconds: number): void {
    this.batches++;
    this.events.stored += stored;
    this.events.duplicate += duplicates;
    this.batchSum += seconds;
    for (let i = 0; i < BATCH_BUCKETS.length; i++) if (seconds <= BATCH_BUCKETS[i]!) this.batchCounts[i]!++;
  }

  /** A refused events batch, by its ApiError code. */
  rejectBatch(error: string): void {
    this.rejected.set(error, (this.rejected.get(error) ?? 0) + 1);
  }

  /** A refusal on any other route, by route and code. */
  refuse(route: string, error: string): void {
    const key = `${route}\u0000${error}`;
    this.refused.set(key, (this.refused.get(key) ?? 0) + 1);
  }

  /** An enrolment, done or refused. */
  enrolment(ok: boolean): void {
    if (ok) this.enrolments.ok++;
    else this.enrolments.refused++;
  }

  /** A background pass: a rollup or retention pass done, or one that failed. */
  pass(kind: 'rollup' | 'retain' | 'errors'): void {
    this.passes[kind]++;
  }

  /** The exposition text, with the store's gauges read now. */
  async render(store: Store): Promise<string> {
    const out: string[] = [];
    const metric = (name: string, type: string, help: string, rows: [labels: string, value: number][]): void => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of rows) out.push(`${name}${labels} ${formatNumber(value)}`);
    };
    metric('outpost_ingest_events_total', 'counter', 'Events in accepted batches, by whether they were new or already stored.', [
      ['{result="stored"}', this.events.stored],
      ['{result="duplicate"}', this.events.duplicate],
    ]);
    metric('outpost_ingest_batches_total', 'counter', 'Accepted event batches.', [['', this.batches]]);
    metric(
      'outpost_ingest_rejected_total',
      'counter',
      'Refused event batches, by refusal code (a refused batch stores nothing).',
      [...this.rejected].sort().map(([reason, n]) => [`{reason="${escapeLabel(reason)}"}`, n]),
    );
    out.push('# HELP outpost_ingest_batch_seconds Time to handle an accepted batch, from request to reply.', '# TYPE outpost_ingest_batch_seconds histogram');
    BATCH_BUCKETS.forEach((le, i) => out.push(`outpost_ingest_batch_seconds_bucket{le="${le}"} ${this.batchCounts[i]}`));
    out.push(`outpost_ingest_batch_seconds_bucket{le="+Inf"} ${this.batches}`, `outpost_ingest_batch_seconds_sum ${formatNumber(this.batchSum)}`, `outpost_ingest_batch_seconds_count ${this.batches}`);
    metric(
      'outpost_requests_refused_total',
      'counter',
      'Refused requests on routes other than event ingest, by route and refusal code.',
      [...this.refused].sort().map(([key, n]) => {
        const [route, error] = key.split('\u0000') as [string, string];
        return [`{route="${escapeLabel(route)}",error="${escapeLabel(error)}"}`, n];
      }),
    );
    metric('outpost_enrolments_total', 'counter', 'Enrolment attempts, by outcome.', [
      ['{result="ok"}', this.enrolments.ok],
      ['{result="refused"}', this.enrolments.refused],
    ]);
    metric('outpost_background_passes_total', 'counter', 'Rollup and retention passes run, and passes that failed.', [
      ['{pass="rollup"}', this.passes.rollup],
      ['{pass="retain"}', this.passes.retain],
      ['{pass="failed"}', this.passes.errors],
    ]);
    const counts = await store.counts();
    metric('outpost_store_events', 'gauge', 'Raw events held by the store.', [['', counts.events]]);
    metric('outpost_sensors', 'gauge', 'Enrolled sensors, by state.', [
      ['{state="active"}', Math.max(0, counts.sensors - counts.revoked)],
      ['{state="revoked"}', counts.revoked],
    ]);
    metric('process_uptime_seconds', 'gauge', 'Seconds since this collector process started.', [['', (Date.now() - this.started) / 1000]]);
    metric('process_resident_memory_bytes', 'gauge', 'Resident memory of this collector process.', [['', process.memoryUsage.rss()]]);
    return `${out.join('\n')}\n`;
  }
}

function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  return String(v);
}

/** The exposition format's label escaping: backslash, double quote and newline. */
function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
