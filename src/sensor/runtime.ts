import { availableParallelism } from 'node:os';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { SensorCredentials } from '../api/contract.js';
import type { Config } from '../config/config.js';
import type { SensorStats, SpoolDropEvent } from '../events/sensor.js';
import { RotatingEveWriter } from '../events/rotate.js';
import type { EveEvent } from '../events/types.js';
import { compileAddress } from '../rules/addresses.js';
import { readCredentials } from './enroll.js';
import { buildSensorStats, HealthServer, sensorStatsEvent, type HealthReport } from './health.js';
import type { GroupKind, InputSpec } from './inputs.js';
import { RecordPath } from './main-stage.js';
import { READER_COUNTERS, ReaderCounter, type ReaderControl, type ReaderNotice, type ReaderSetup } from './reader.js';
import { Shipper } from './shipper.js';
import { seedSpool } from './continuity.js';
import { Spool } from './spool.js';
import { emptyCounters, sumCounters, type MainMessage, type RecordFormat, type RuleSummary, type WorkerCounters, type WorkerMessage, type WorkerSetup } from './worker.js';

/**
 * The sensor runtime (`outpost sensor`): a reader thread, N packet workers and the main thread
 * (records, spool, shipper, eve.json, health). See src/sensor/NOTES.md "Runtime" for the threads,
 * the dispatch, backpressure and why records are numbered where they are.
 */

/** What the command line may change over the configuration. */
export interface RuntimeOptions {
  /** Inputs replacing the config's (each given field replaces that list). */
  inputs?: { files?: string[]; interfaces?: string[]; watch?: string | null; bpf?: string | null };
  /** Worker threads (over sensor.workers). */
  workers?: number;
  /** false: local only, even when enrolled. */
  ship?: boolean;
  /** Rule files and directories beyond the config's rule-files. */
  rules?: string[];
  /** Where the runtime's notices go (default: stderr, prefixed "outpost sensor: "). */
  log?: (line: string) => void;
  /** How workers hand records over (default json; NOTES.md has the measurement). */
  recordFormat?: RecordFormat;
  /** The tcpdump binary (tests). */
  tcpdump?: string;
  /** Seconds between sensor_stats records (over sensor.stats-interval; tests). */
  statsIntervalS?: number;
  /** HOST:PORT for /healthz, or null for none (over sensor.healthz). */
  healthz?: string | null;
}

/** A running sensor. */
export interface SensorRuntime {
  /** Stops cleanly: inputs stop (live ones drain), workers end their flows, records are spooled, a last sensor_stats is written, shipping stops, the spool closes. */
  stop(): Promise<void>;
  /** The latest figures (packets and spool now; worker counters as of the last stats pass). */
  stats(): SensorStats;
  /** Settles when the finite inputs (files) are read and every record is in the spool (not waiting for shipping); rejects if the sensor fails. Never settles with live or watched inputs. */
  done: Promise<void>;
  /** Null when local only. */
  shipper: Shipper | null;
  spool: Spool;
  /** Worker threads running. */
  workers: number;
  /** What the rule files gave. */
  rules: RuleSummary;
  /** The enrolment used, or null (local only). */
  credentials: SensorCredentials | null;
  /** The /healthz listener, or null. */
  health: HealthServer | null;
  /** Records appended, by event_type. */
  recordCounts(): Map<string, number>;
  /** Asks every worker for its counters now, summed. */
  counters(): Promise<WorkerCounters>;
  /** Reopens eve.json at its path (SIGHUP, after logrotate moved it). */
  reopenLogs(): void;
}

/** How long stop() waits for each step before going on without it (ms): a stuck thread must not stop the stop. */
const STOP_STEP_MS = 15000;
/** How long stop() lets a connected shipper send the last records (ms): one round trip or two, not a full drain. */
const STOP_DRAIN_MS = 2000;
/** How long a stats pass waits for the workers' counters (ms); a busy worker's last ones stand in. */
const COUNTERS_WAIT_MS = 2000;
/** The first sensor_stats record comes this soon after start (ms), or after the interval if shorter. */
const FIRST_STATS_MS = 5000;
/** eve.json is flushed at least this often (ms), so a tail -f sees records promptly. */
const EVE_FLUSH_MS = 1000;
/** The spool counts as dropping (/healthz 503) for this long after a drop (ms), at least. */
const DROP_WINDOW_MS = 60000;

/** Starts a sensor. Throws (after cleaning up) when it cannot: a bad spool, rules that do not load, a port in use. */
export async function startSensor(config: Config, opts: RuntimeOptions = {}): Promise<SensorRuntime> {
  const s = config.sensor;
  const log = opts.log ?? ((line: string) => process.stderr.write(`outpost sensor: ${line}\n`));
  const nWorkers = opts.workers ?? (s.workers === 'auto' ? Math.max(1, availableParallelism() - 1) : s.workers);
  const statsIntervalS = opts.statsIntervalS ?? s.statsIntervalS;
  const inputs: InputSpec = {
    files: opts.inputs?.files ?? s.inputs.files,
    interfaces: opts.inputs?.interfaces ?? s.inputs.interfaces,
    watch: opts.inputs?.watch !== undefined ? opts.inputs.watch : s.inputs.watch,
    bpf: opts.inputs?.bpf !== undefined ? opts.inputs.bpf : s.inputs.bpf,
    stateDir: s.spool.dir,
    ...(opts.tcpdump !== undefined ? { tcpdump: opts.tcpdump } : {}),
  };
  const credentials = opts.ship === false ? null : readCredentials(s.credentials);
  const started = Date.now();
  const cleanups: Array<() => void | Promise<void>> = [];
  const cleanup = async (): Promise<void> => {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch {
        // Cleaning up after a failed start: the first error is the one reported.
      }
    }
  };

  let path: RecordPath | null = null;
  let lastDropAt = 0;
  if (credentials !== null) {
    const seeded = seedSpool(s.spool.dir, s.credentials, credentials);
    if (seeded !== null) {
      log(`spool: ${s.spool.dir} is new, but sensor ${credentials.sensor_id} has shipped from another spool before: numbering from ${seeded.renumberedFrom}, so the collector cannot take new events for old ones (the gap is declared, not lost)`);
    }
  }
  const spool = Spool.open({ ...s.spool }, (ev: SpoolDropEvent) => {
    lastDropAt = Date.now();
    log(`spool: disk budget full: dropped ${ev.spool_drop.dropped} events (seq ${ev.spool_drop.first_seq}–${ev.spool_drop.last_seq}, ${ev.spool_drop.total_dropped} in all)`);
    // Appended once the append that caused it has returned (never inside the spool's own call).
    queueMicrotask(() => {
      if (!spool.closed) path?.own(ev);
    });
  });
  cleanups.push(() => spool.close());
  try {
    const eve = s.eve.path === null ? null : new RotatingEveWriter(s.eve.path, { rotateSize: s.eve.rotateSize, keep: s.eve.keep });
    if (eve !== null) cleanups.push(() => eve.close());
    const home = compileAddress('$HOME_NET', config.vars.addressGroups) ?? (() => true);
    const correlate = config.behaviour.correlate.enabled === false ? false : config.behaviour.correlate;
    const recordPath = new RecordPath({ store: spool, log: eve, sensorId: credentials?.sensor_id ?? null, home, correlate });
    path = recordPath;

    // /healthz first: once the workers run, nothing may await before their listeners are on.
    let runtime: Runtime | null = null;
    let health: HealthServer | null = null;
    const healthz = opts.healthz !== undefined ? opts.healthz : s.healthz;
    if (healthz !== null) {
      health = await HealthServer.start(healthz, () => runtime?.healthReport() ?? { stats: null, shipping: 'off', refused: null, spoolDropping: false });
      cleanups.push(() => health!.close());
    }
    const threads = await startThreads(config, opts, nWorkers, inputs, log);
    cleanups.push(() => threads.terminate());
    runtime = new Runtime(threads, recordPath, spool, eve, log, started, statsIntervalS, credentials, () => lastDropAt);
    let shipper: Shipper | null = null;
    if (credentials !== null) {
      shipper = new Shipper({ spool, credentials, ...s.ship, log: (line) => log(`ship: ${line}`) });
      shipper.start();
    }
    runtime.begin(shipper, health);
    return runtime;
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** The workers, started and ready, and the reader (started last: it begins reading at once). */
interface Threads {
  workers: Worker[];
  /** Starts the reader thread (after the listeners are on: a Worker's message with no listener is lost). */
  startReader(): Worker;
  /** Per worker: record messages not yet handled here (the worker waits past a bound). */
  unhandled: Int32Array;
  rules: RuleSummary;
  counters: Float64Array;
  control: Int32Array;
  terminate(): Promise<void>;
}

async function startThreads(config: Config, opts: RuntimeOptions, n: number, inputs: InputSpec, log: (line: string) => void): Promise<Threads> {
  const returned = new SharedArrayBuffer(4 * n);
  const unhandled = new SharedArrayBuffer(4 * n);
  const countersBuf = new SharedArrayBuffer(8 * READER_COUNTERS);
  const controlBuf = new SharedArrayBuffer(4);
  const idSalt = Math.floor(Math.random() * 0x7fffe);
  const channels = Array.from({ length: n }, () => new MessageChannel());
  const workers: Worker[] = [];
  const terminate = async (): Promise<void> => {
    await Promise.allSettled(workers.map((w) => w.terminate()));
  };
  try {
    const ready: Array<Promise<{ rules: RuleSummary; compileMs: number }>> = [];
    for (let i = 0; i < n; i++) {
      const setup: WorkerSetup = {
        kind: 'outpost-packet-worker',
        config,
        rulePaths: opts.rules ?? [],
        index: i,
        workers: n,
        idSalt,
        port: channels[i]!.port2,
        returned,
        unhandled,
        recordFormat: opts.recordFormat ?? 'json',
      };
      const w = new Worker(new URL('./worker.js', import.meta.url), { workerData: setup, transferList: [channels[i]!.port2] });
      workers.push(w);
      ready.push(
        new Promise((resolve, reject) => {
          const off = (): void => {
            w.off('message', onMessage);
            w.off('error', onError);
            w.off('exit', onExit);
          };
          const onMessage = (m: WorkerMessage): void => {
            if (m.t === 'ready') {
              off();
              resolve({ rules: m.rules, compileMs: m.compileMs });
            } else if (m.t === 'fatal') {
              off();
              reject(new Error(m.message));
            }
          };
          const onError = (err: Error): void => {
            off();
            reject(new Error(`worker ${i} failed to start: ${err.message}`));
          };
          const onExit = (code: number): void => {
            off();
            reject(new Error(`worker ${i} exited (code ${code}) before it was ready`));
          };
          w.on('message', onMessage);
          w.on('error', onError);
          w.on('exit', onExit);
        }),
      );
    }
    const readies = await Promise.all(ready);
    const slowest = Math.max(...readies.map((r) => r.compileMs));
    if (slowest > 1000) log(`rules took ${(slowest / 1000).toFixed(1)} s to compile in each worker`);
    const crossFlow = ['scan', 'flood', 'backdoor'].filter((d) => config.behaviour.detectors[d]?.enabled !== false);
    if (n > 1 && crossFlow.length > 0) {
      log(`${n} workers: the ${crossFlow.join(', ')} detectors see each worker's share of the flows, so their records and the verdicts on them may differ from one worker's (docs/network.md); sensor.workers: 1 keeps them whole`);
    }
    const startReader = (): Worker => {
      const readerSetup: ReaderSetup = { kind: 'outpost-reader', inputs, ports: channels.map((c) => c.port1), returned, counters: countersBuf, control: controlBuf };
      const reader = new Worker(new URL('./reader.js', import.meta.url), { workerData: readerSetup, transferList: channels.map((c) => c.port1) });
      workers.push(reader);
      return reader;
    };
    return { workers: workers.slice(0, n), startReader, unhandled: new Int32Array(unhandled), rules: readies[0]!.rules, counters: new Float64Array(countersBuf), control: new Int32Array(controlBuf), terminate };
  } catch (err) {
    await terminate();
    throw err;
  }
}

/** An input group as the main thread follows it. */
interface Group {
  kind: GroupKind | null;
  name: string;
  /** Workers that have ended it (their records of it are all in). */
  ended: number;
}

class Runtime implements SensorRuntime {
  shipper: Shipper | null = null;
  health: HealthServer | null = null;
  readonly done: Promise<void>;
  readonly workers: number;
  readonly rules: RuleSummary;
  private resolveDone!: () => void;
  private rejectDone!: (err: Error) => void;
  private readonly groups = new Map<number, Group>();
  private idle = false;
  private finished = false;
  private stopping: Promise<void> | null = null;
  private failure: Error | null = null;
  private statsTimer: NodeJS.Timeout | null = null;
  private firstStats: NodeJS.Timeout | null = null;
  private eveTimer: NodeJS.Timeout | null = null;
  private lastCounters: WorkerCounters = emptyCounters();
  private previous = { packets: 0, at: Date.now() };
  private latest: SensorStats | null = null;
  /** The spool's figures when it was last open (stats() after stop() reports the end). */
  private lastSpool = { depth: 0, bytes: 0, dropped: 0, acked: 0, nextSeq: 1 };
  private counterRequests = 0;
  private readonly pendingCounters = new Map<number, { got: WorkerCounters[]; resolve: (c: WorkerCounters) => void }>();
  private stoppedReader: (() => void) | null = null;
  private reader!: Worker;

  constructor(
    private readonly threads: Threads,
    private readonly path: RecordPath,
    readonly spool: Spool,
    private readonly eve: RotatingEveWriter | null,
    private readonly log: (line: string) => void,
    private readonly started: number,
    private readonly statsIntervalS: number,
    readonly credentials: SensorCredentials | null,
    private readonly lastDropAt: () => number,
  ) {
    this.workers = threads.workers.length;
    this.rules = threads.rules;
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // A rejection nobody waits for must not kill the process: stop() reports it too.
    this.done.catch(() => undefined);
  }

  /** Wires the threads' messages and the timers: the sensor runs from here. */
  begin(shipper: Shipper | null, health: HealthServer | null): void {
    this.shipper = shipper;
    this.health = health;
    this.threads.workers.forEach((w, i) => {
      w.on('message', (m: WorkerMessage) => this.fromWorker(i, m));
      w.on('error', (err) => this.fail(new Error(`worker ${i} failed: ${err.stack ?? err.message}`)));
      w.on('exit', (code) => {
        if (this.stopping === null) this.fail(new Error(`worker ${i} exited (code ${code})`));
      });
    });
    const r = this.threads.startReader();
    this.reader = r;
    r.on('message', (m: ReaderNotice) => this.fromReader(m));
    r.on('error', (err) => this.fail(new Error(`reader failed: ${err.stack ?? err.message}`)));
    r.on('exit', (code) => {
      if (this.stopping === null) this.fail(new Error(`reader exited (code ${code})`));
    });
    this.statsTimer = setInterval(() => void this.statsPass(), this.statsIntervalS * 1000);
    // A first report soon after start, so the collector knows the sensor's version and health
    // without waiting a whole interval.
    const first = setTimeout(() => void this.statsPass(), Math.min(FIRST_STATS_MS, this.statsIntervalS * 1000));
    first.unref();
    this.firstStats = first;
    this.eveTimer = setInterval(() => this.eve?.flush(), EVE_FLUSH_MS);
  }

  private fromWorker(i: number, m: WorkerMessage): void {
    try {
      switch (m.t) {
        case 'records':
          try {
            for (const ev of m.records) this.path.record(ev);
          } finally {
            this.handled(i);
          }
          this.shipper?.kick();
          break;
        case 'lines':
          try {
            for (const line of m.lines) this.path.record(JSON.parse(line) as EveEvent);
          } finally {
            this.handled(i);
          }
          this.shipper?.kick();
          break;
        case 'ended': {
          const g = this.group(m.id);
          if (++g.ended === this.workers) this.groupComplete(m.id, g);
          break;
        }
        case 'counters': {
          const p = this.pendingCounters.get(m.id);
          if (p !== undefined) {
            p.got.push(m.counters);
            if (p.got.length === this.workers) p.resolve(p.got.reduce((a, b) => sumCounters(a, b), emptyCounters()));
          }
          break;
        }
        default:
          break;
      }
    } catch (err) {
      this.fail(new Error(`record path failed on worker ${i}'s message: ${(err as Error).stack ?? String(err)}`));
    }
  }

  /** A record message of worker i is through: a worker waiting on us may go on. */
  private handled(i: number): void {
    Atomics.sub(this.threads.unhandled, i, 1);
    Atomics.notify(this.threads.unhandled, i);
  }

  private fromReader(m: ReaderNotice): void {
    switch (m.t) {
      case 'group': {
        const g = this.group(m.id);
        g.kind = m.kind;
        g.name = m.name;
        if (g.ended === this.workers) this.groupComplete(m.id, g);
        break;
      }
      case 'notice':
        this.log(m.message);
        break;
      case 'idle':
        this.idle = true;
        this.checkDone();
        break;
      case 'stopped':
        this.stoppedReader?.();
        break;
      default:
        break;
    }
  }

  private group(id: number): Group {
    let g = this.groups.get(id);
    if (g === undefined) {
      g = { kind: null, name: '', ended: 0 };
      this.groups.set(id, g);
    }
    return g;
  }

  /** Every worker has ended the group and its records are in the path: made durable, and a watched file is confirmed as read. */
  private groupComplete(id: number, g: Group): void {
    if (g.kind === null) return; // the reader's word on it is still on its way
    this.groups.delete(id);
    let durable = true;
    try {
      this.spool.flush();
    } catch (err) {
      durable = false;
      this.log(`spool: ${(err as Error).message}`);
    }
    this.eve?.flush();
    if (g.kind === 'watch' && durable) this.reader.postMessage({ t: 'confirm', id } satisfies ReaderControl);
    this.checkDone();
  }

  private checkDone(): void {
    if (!this.idle || this.finished || this.groups.size > 0) return;
    this.finished = true;
    this.path.finish();
    try {
      this.spool.flush();
    } catch (err) {
      this.log(`spool: ${(err as Error).message}`);
    }
    this.eve?.flush();
    this.resolveDone();
  }

  private fail(err: Error): void {
    if (this.failure !== null) return;
    this.failure = err;
    this.log(err.message);
    this.rejectDone(err);
    void this.stop().catch(() => undefined);
  }

  async counters(): Promise<WorkerCounters> {
    const id = ++this.counterRequests;
    const got = new Promise<WorkerCounters>((resolve) => {
      this.pendingCounters.set(id, { got: [], resolve });
      for (const w of this.threads.workers) w.postMessage({ t: 'counters', id } satisfies MainMessage);
    });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), COUNTERS_WAIT_MS)));
    try {
      const c = await Promise.race([got, late]);
      if (c !== null) this.lastCounters = c;
      return this.lastCounters;
    } finally {
      clearTimeout(timer);
      this.pendingCounters.delete(id);
    }
  }

  stats(): SensorStats {
    const c = this.lastCounters;
    const rc = this.threads.counters;
    if (!this.spool.closed) this.lastSpool = this.spool.stats();
    const sp = this.lastSpool;
    const now = Date.now();
    const packets = rc[ReaderCounter.frames]!;
    return buildSensorStats({
      uptimeS: (now - this.started) / 1000,
      packets,
      previousPackets: this.previous.packets,
      intervalS: (now - this.previous.at) / 1000,
      captureDrops: rc[ReaderCounter.captureDrops]!,
      internalDrops: rc[ReaderCounter.internalDrops]!,
      spool: sp,
      rules: { loaded: this.rules.loaded, ...c.rules },
      appLayer: { ...c.app_layer, flows: c.flows, anomalies: c.anomalies, captures_damaged: rc[ReaderCounter.damaged]! },
    });
  }

  /** Gathers the figures, writes a sensor_stats record (it ships like any other) and keeps it for /healthz. */
  private async statsPass(): Promise<void> {
    if (this.spool.closed) return;
    await this.counters();
    if (this.spool.closed) return;
    const stats = this.stats();
    this.previous = { packets: stats.packets, at: Date.now() };
    this.latest = stats;
    this.path.own(sensorStatsEvent(stats));
    this.shipper?.kick();
  }

  healthReport(): HealthReport {
    const st = this.shipper?.state() ?? null;
    const stats = this.latest ?? this.stats();
    return {
      stats,
      shipping: st === null ? 'off' : { ...st, collector: this.credentials!.collector },
      refused: st?.stopped === true ? (st.lastError ?? 'the collector refused the credentials') : null,
      spoolDropping: this.lastDropAt() > 0 && Date.now() - this.lastDropAt() < Math.max(DROP_WINDOW_MS, 2 * this.statsIntervalS * 1000),
    };
  }

  reopenLogs(): void {
    try {
      this.eve?.reopen();
    } catch (err) {
      this.log(`eve.json: cannot reopen: ${(err as Error).message}`);
    }
  }

  recordCounts(): Map<string, number> {
    return new Map(this.path.byType);
  }

  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    if (this.statsTimer !== null) clearInterval(this.statsTimer);
    if (this.firstStats !== null) clearTimeout(this.firstStats);
    // Let a blocked reader go, then ask it to stop its inputs: each open group then ends in every worker.
    Atomics.store(this.threads.control, 0, 1);
    const readerStopped = new Promise<void>((resolve) => (this.stoppedReader = resolve));
    this.reader.postMessage({ t: 'stop' } satisfies ReaderControl);
    if (!(await within(readerStopped, STOP_STEP_MS))) this.log('stop: the reader did not stop in time; going on without it');
    const allEnded = new Promise<void>((resolve) => {
      const check = (): void => {
        if (this.groups.size === 0 || this.failure !== null) resolve();
        else setTimeout(check, 10);
      };
      check();
    });
    if (!(await within(allEnded, STOP_STEP_MS))) this.log(`stop: ${this.groups.size} input groups did not end in time; their last records may be missing`);
    if (!this.finished) {
      this.finished = true;
      this.path.finish();
    }
    if (this.failure === null) await this.counters();
    if (!this.spool.closed) {
      this.path.own(sensorStatsEvent(this.stats()));
      try {
        this.spool.flush();
      } catch (err) {
        this.log(`spool: ${(err as Error).message}`);
      }
    }
    if (this.eveTimer !== null) clearInterval(this.eveTimer);
    await this.threads.terminate();
    this.eve?.close();
    await this.health?.close();
    // The last sensor_stats tells the collector the sensor stopped: shipped now when the collector is there, else next start.
    if (this.shipper !== null && this.shipper.state().connected) await this.shipper.drain(STOP_DRAIN_MS);
    await this.shipper?.stop();
    if (!this.spool.closed) {
      this.lastSpool = this.spool.stats();
      this.spool.close();
    }
    // The file inputs may never have finished (stopped early): done settles now either way.
    if (this.failure === null) this.resolveDone();
  }
}

/** Whether `p` settled within `ms`. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([p.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}
