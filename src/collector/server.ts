import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { API, type ApiError, type EnrollReply } from '../api/contract.js';
import type { CollectorConfig } from '../config/config.js';
import { enroll } from './auth.js';
import { registerIngest, type IngestLimits } from './ingest.js';
import { CollectorMetrics } from './metrics.js';
import { OPENAPI } from './openapi.js';
import { loadOrCreatePki } from './pki.js';
import { loopbackOnly, registerQueries } from './query.js';
import { compileValidators } from './schema.js';
import type { Store } from './store/store.js';

/**
 * The collector: one HTTPS listener (Fastify) for enrolment, ingest, queries, OpenAPI and
 * metrics, over a store the caller opened, plus the background rollup and retention passes.
 * Several collectors may share one PostgreSQL store; each runs its own passes (the store makes
 * concurrent passes safe).
 */

/** What a collector needs. */
export interface CollectorOptions {
  /** HOST:PORT to listen on (`[::1]:8443` for IPv6); port 0 picks a free one, reported back. */
  listen: string;
  /** Data directory: the generated CA and server certificate live in DATA/pki/. */
  data: string;
  /** The store, opened (and migrated) by the caller, who also closes it. */
  store: Store;
  /** The operator's own certificate and key (PEM files), and optionally the CA file sensors pin; absent or null: generated. */
  tls?: { cert: string | null; key: string | null; ca?: string | null };
  /** Ingest caps. */
  ingest: IngestLimits;
  /** Seconds between rollup passes. */
  rollupIntervalS: number;
  /** Days to keep raw events and rollups (0: keep). */
  retention: { events: number; minute: number; hour: number; day: number };
  /** Where background failures are reported (default: stderr). */
  log?: (line: string) => void;
}

/** A running collector. */
export interface Collector {
  /** https://HOST:PORT as a client reaches it (a wildcard listen host becomes 127.0.0.1). */
  url: string;
  /** The bound port. */
  port: number;
  /** The CA certificate (PEM) sensors pin. */
  caPem: string;
  /** Its SHA-256 fingerprint (lowercase hex). */
  caFingerprint: string;
  /** Whether this start generated a new CA. */
  caCreated: boolean;
  /** Every route served, as `METHOD /path` (Fastify's `:param` syntax): what /api/docs must describe. */
  routes: readonly string[];
  /** Stops the passes and the listener (waits for a running pass); the store stays open. */
  close(): Promise<void>;
}

/** Retention deletes by the day, so running it hourly is plenty. */
const RETAIN_INTERVAL_MS = 3_600_000;
/** Enrolment bodies are a token and a name: a few hundred bytes. */
const ENROLL_MAX_BODY = 4096;
/** A request that has not arrived whole in two minutes is a stuck or hostile client. */
const REQUEST_TIMEOUT_MS = 120_000;

/** The options from the `collector:` config section. */
export function collectorOptions(config: CollectorConfig, store: Store): CollectorOptions {
  return {
    listen: config.listen,
    data: config.data,
    store,
    tls: { cert: config.tls.cert, key: config.tls.key },
    ingest: config.ingest,
    rollupIntervalS: config.rollupIntervalS,
    retention: config.retention,
  };
}

/** Splits HOST:PORT ([v6]:PORT too). Throws with a message on a bad one. */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(listen);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || port > 65535) throw new Error(`listen address "${listen}" is not HOST:PORT (port 0 to 65535; [::1]:PORT for IPv6)`);
  return { host: m[1] ?? m[2]!, port };
}

/** Starts a collector. Throws (with the reason) when TLS material is damaged or the address cannot be bound. */
export async function startCollector(opts: CollectorOptions): Promise<Collector> {
  const { host, port } = parseListen(opts.listen);
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const tls = await loadOrCreatePki({ data: opts.data, listenHost: host, cert: opts.tls?.cert ?? null, key: opts.tls?.key ?? null, ca: opts.tls?.ca ?? null });
  const metrics = new CollectorMetrics();
  const store = opts.store;

  const app = Fastify({
    https: { cert: tls.cert, key: tls.key },
    logger: false,
    bodyLimit: ENROLL_MAX_BODY,
    requestTimeout: REQUEST_TIMEOUT_MS,
    forceCloseConnections: true,
  });
  installErrorHandlers(app, metrics);
  const routes: string[] = [];
  app.addHook('onRoute', (r) => {
    for (const m of [r.method].flat()) if (m !== 'HEAD') routes.push(`${m} ${r.url}`);
  });

  app.post(API.enroll, { bodyLimit: ENROLL_MAX_BODY }, async (request, reply) => {
    const result = await enroll(store, request.body);
    metrics.enrolment(!('status' in result));
    if ('status' in result) {
      metrics.refuse(API.enroll, result.error);
      const e: ApiError = { error: result.error, reason: result.reason };
      return reply.code(result.status).send(e);
    }
    const body: EnrollReply = { sensor_id: result.sensor_id, secret: result.secret, ca: tls.ca };
    return reply.send(body);
  });
  registerIngest(app, { store, validators: compileValidators(), limits: opts.ingest, metrics });
  registerQueries(app, { store, metrics });
  const docs = JSON.stringify(OPENAPI);
  app.get(API.docs, async (_request, reply) => reply.type('application/json; charset=utf-8').send(docs));
  app.get(API.metrics, { onRequest: loopbackOnly(metrics, API.metrics) }, async (_request, reply) => reply.type('text/plain; version=0.0.4; charset=utf-8').send(await metrics.render(store)));
  app.get(API.healthz, async (_request, reply) => {
    try {
      await store.getSensor('-');
      return reply.send({ ok: true });
    } catch (err) {
      const e: ApiError = { error: 'unavailable', reason: `the store does not answer: ${(err as Error).message}` };
      return reply.code(503).send(e);
    }
  });

  await app.listen({ host, port });
  const address = app.server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;

  const passes = new BackgroundPasses(store, metrics, log, opts.retention);
  passes.start(opts.rollupIntervalS * 1000, RETAIN_INTERVAL_MS);

  return {
    url: `https://${urlHost}:${bound}`,
    port: bound,
    caPem: tls.ca,
    caFingerprint: tls.caFingerprint,
    caCreated: tls.created,
    routes,
    async close() {
      await passes.stop();
      await app.close();
    },
  };
}

/** Every refusal, Fastify's own included (body too large, wrong content type, bad JSON), as an ApiError, counted. */
function installErrorHandlers(app: FastifyInstance, metrics: CollectorMetrics): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    const error = status === 413 ? 'too_large' : status === 415 ? 'unsupported' : status === 400 ? 'malformed' : status === 500 ? 'internal' : 'refused';
    const reason =
      status === 413
        ? `the body is over ${request.routeOptions.bodyLimit ?? 'the'} bytes${request.url.startsWith(API.events) ? ' (collector.ingest.max-body)' : ''}`
        : status === 500
          ? `the collector failed: ${err.message}`
          : err.message;
    // The route's pattern, never the request's URL: labels must not grow with what clients send.
    const route = request.routeOptions.url ?? '(none)';
    if (route === API.events && request.method === 'POST') metrics.rejectBatch(error);
    else metrics.refuse(route, error);
    if (status === 500) process.stderr.write(`collector: ${request.method} ${route}: ${err.stack ?? err.message}\n`);
    const e: ApiError = { error, reason };
    return reply.code(status).send(e);
  });
  app.setNotFoundHandler((request, reply) => {
    metrics.refuse('(none)', 'not_found');
    const e: ApiError = { error: 'not_found', reason: `no route ${request.method} ${request.url.split('?', 1)[0]!.slice(0, 200)}` };
    return reply.code(404).send(e);
  });
}

/** The rollup pass every interval and the retention pass hourly: never two of a kind at once, timers unref'd. */
class BackgroundPasses {
  private timers: NodeJS.Timeout[] = [];
  private running = new Set<Promise<void>>();
  private busy = { rollup: false, retain: false };

  constructor(
    private readonly store: Store,
    private readonly metrics: CollectorMetrics,
    private readonly log: (line: string) => void,
    private readonly retention: CollectorOptions['retention'],
  ) {}

  start(rollupMs: number, retainMs: number): void {
    const every = (ms: number, kind: 'rollup' | 'retain'): void => {
      const t = setInterval(() => this.run(kind), ms);
      t.unref();
      this.timers.push(t);
    };
    every(rollupMs, 'rollup');
    every(retainMs, 'retain');
  }

  /** Runs one pass now (unless one of its kind is running). */
  run(kind: 'rollup' | 'retain'): void {
    if (this.busy[kind]) return;
    this.busy[kind] = true;
    const now = Date.now();
    const p = (kind === 'rollup' ? this.store.rollup(now) : this.store.retain(now, this.retention))
      .then(
        () => this.metrics.pass(kind),
        (err: unknown) => {
          this.metrics.pass('errors');
          this.log(`collector: ${kind} pass failed: ${(err as Error).message}`);
        },
      )
      .finally(() => {
        this.busy[kind] = false;
        this.running.delete(p);
      });
    this.running.add(p);
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await Promise.all([...this.running]);
  }
}
