import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { Frame } from '../capture/frame.js';
import type { Config } from '../config/config.js';
import type { EveEvent } from '../events/types.js';
import { createProtocols, type FileInfo } from '../protocols/index.js';
import { compileAddress } from '../rules/addresses.js';
import { formatProblem, parseClassificationConfig, parseThresholdConfig, type ThresholdConfig } from '../rules/config-files.js';
import { defaultClassifications, RuleSet } from '../rules/ruleset.js';
import { forEachFrame } from './batch.js';
import { Pipeline } from './pipeline.js';

/**
 * A packet worker thread: its own Pipeline (decode, flows, reassembly, protocols, rules and the
 * behavioural detectors; the correlator runs once, on the main thread, over every worker's
 * records) fed with frame batches from the reader thread. Records go back to the main thread in
 * batches. Flows never cross workers (the reader dispatches by the address pair), so nothing here
 * is shared or locked.
 *
 * Input groups: every input (the --read files together, each live interface, each watched file)
 * gets its own Pipeline in each worker, opened by a `group` message and finished by `end` (which
 * ends its flows, as the end of a capture does). So a watched file's flows are reported when it
 * is done, while a live interface's go on, and live records carry their in_iface.
 */

/** What the main thread gives each worker (workerData). */
export interface WorkerSetup {
  kind: 'outpost-packet-worker';
  /** The configuration, as loaded (structured-cloned). */
  config: Config;
  /** Rule files and directories beyond the config's rule-files. */
  rulePaths: string[];
  /** This worker's index (0-based) and the number of workers. */
  index: number;
  workers: number;
  /** A random base for flow ids, so flows of different workers and groups never share one. */
  idSalt: number;
  /** The reader's channel: batches and group markers in, free batches out. */
  port: MessagePort;
  /** One Int32 per worker: bumped (and notified) when a batch is given back, so a blocked reader wakes. */
  returned: SharedArrayBuffer;
  /** One Int32 per worker: record messages sent and not yet handled by the main thread (it counts them down). */
  unhandled: SharedArrayBuffer;
  /** How records travel to the main thread. */
  recordFormat: RecordFormat;
}

/**
 * `json`: JSON lines, made as each record is written (as `outpost analyze` writes them: a record
 * changed after it was written cannot change what was sent), parsed back on the main thread.
 * `clone`: plain objects by structured clone when the batch is sent. They cost the same
 * (NOTES.md, "Runtime"); json is the default.
 */
export type RecordFormat = 'clone' | 'json';

/** Reader → worker, on the reader's channel. */
export type ReaderMessage =
  | { t: 'group'; id: number; kind: 'files' | 'live' | 'watch'; iface?: string }
  | { t: 'batch'; buf: ArrayBuffer; used: number }
  | { t: 'end'; id: number };

/** Main → worker. */
export type MainMessage = { t: 'counters'; id: number } | { t: 'exit' };

/** Worker → main. */
export type WorkerMessage =
  | { t: 'ready'; rules: RuleSummary; compileMs: number }
  | { t: 'fatal'; message: string }
  | { t: 'records'; records: EveEvent[] }
  | { t: 'lines'; lines: string[] }
  | { t: 'ended'; id: number; counters: WorkerCounters }
  | { t: 'counters'; id: number; counters: WorkerCounters };

/** What the rule files gave, for the start-up line and sensor_stats. */
export interface RuleSummary {
  loaded: number;
  total: number;
  disabled: number;
  unsupported: number;
  errors: number;
  /** Problems to show once (the first few rule errors, classification and threshold warnings). */
  warnings: string[];
}

/** A worker's counters, summed over its pipelines (finished ones included). */
export interface WorkerCounters {
  packets: number;
  bytes: number;
  /** Records sent to the main thread. */
  records: number;
  /** Frames of a link type the decoder cannot read, and frames that were not IP. */
  unknownLinkType: number;
  nonIp: number;
  flows: number;
  anomalies: number;
  /** Rule engine counters by name (alerts, inspected, ...). */
  rules: Record<string, number>;
  /** Application layer counters by name (`detected.http`, `failed`, `parser_errors`, ...). */
  app_layer: Record<string, number>;
  /** Behavioural detectors' counters by `name.counter`. */
  behaviour: Record<string, number>;
}

/** Records held before a message: enough that messages are few, few enough that a message stays small. */
const RECORDS_PER_MESSAGE = 512;
/** Longest a record waits in the worker before it is sent (ms): the sensor's own latency floor. */
const RECORD_FLUSH_MS = 50;
/**
 * Record messages the main thread may have waiting from one worker. Past it the worker waits
 * before its next batch, so a main thread that falls behind (a slow disk under fsync `always`)
 * slows the workers, then the reader, instead of letting messages pile up in memory: 64 × 512
 * records is some 20 MB, a fraction of a second of records at full speed.
 */
const MAX_UNHANDLED = 64;

/** The sensor's rules: the config's rule-files plus `extra`, with classifications and thresholds as `outpost analyze` loads them. */
export function loadSensorRules(config: Config, extra: readonly string[]): { ruleset: RuleSet; thresholds: ThresholdConfig | null; warnings: string[] } {
  const paths = [...extra, ...config.ruleFiles];
  const warnings: string[] = [];
  let classifications = defaultClassifications();
  const classFile = config.classificationFile ?? classificationBeside(paths);
  if (classFile !== null) {
    const parsed = parseClassificationConfig(readText(classFile), classFile);
    warnings.push(...parsed.problems.map(formatProblem));
    if (parsed.classes.size > 0) classifications = new Map([...classifications, ...parsed.classes]);
  }
  let thresholds: ThresholdConfig | null = null;
  if (config.thresholdFile !== null) {
    thresholds = parseThresholdConfig(readText(config.thresholdFile), config.thresholdFile, config.vars);
    warnings.push(...thresholds.problems.map(formatProblem));
  }
  const ruleset = RuleSet.load(paths, { vars: config.vars, classifications });
  return { ruleset, thresholds, warnings };
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${file}: cannot read: ${(err as Error).message}`);
  }
}

function classificationBeside(paths: string[]): string | null {
  for (const p of paths) {
    const dir = existsSync(p) && statSync(p).isDirectory() ? p : dirname(p);
    const f = join(dir, 'classification.config');
    if (existsSync(f)) return f;
  }
  return null;
}

/**
 * The sensor's pipeline from the configuration, as `outpost analyze` builds it, with the
 * behavioural detectors on and the correlator off (it runs on the main thread).
 */
export function sensorPipeline(
  config: Config,
  rules: { ruleset: RuleSet; thresholds: ThresholdConfig | null },
  sink: (ev: EveEvent) => void,
  options: { iface?: string; idSalt?: number } = {},
): Pipeline {
  const { ruleset, thresholds } = rules;
  const home = compileAddress('$HOME_NET', ruleset.ctx.vars.addressGroups) ?? (() => true);
  return new Pipeline(sink, {
    flow: {
      streamPolicy: config.stream.overlapPolicy,
      maxFlows: config.stream.maxFlows,
      reassemblyMemcap: config.stream.reassemblyMemcap,
      timeouts: config.flowTimeouts,
      ...(options.idSalt !== undefined ? { idSalt: options.idSalt } : {}),
    },
    defrag: { policy: config.defrag.overlapPolicy, timeout: config.defrag.timeout, memcap: config.defrag.memcap, maxTrackers: config.defrag.trackers },
    ...(options.iface !== undefined ? { iface: options.iface } : {}),
    detect: {
      rules: ruleset.rules,
      engine: { packetAlertMax: config.packetAlertMax, chunkSize: config.stream.chunkSize },
      alert: {
        categories: ruleset.ctx.classifications,
        payload: config.eve.payload,
        payloadPrintable: config.eve.payloadPrintable,
        packet: config.eve.packet,
        ...(config.eve.xff !== null ? { xff: config.eve.xff } : {}),
      },
      ...(thresholds !== null ? { thresholds } : {}),
    },
    app: {
      protocols: createProtocols(config.appProtocols, { dnsVersion: config.eve.dnsVersion, httpLimits: config.httpLimits }),
      fileStore: { enabled: config.fileStore.enabled, maxBytes: config.fileStore.maxSize },
      storeFile: (info) => storeFile(config.fileStore.dir, info),
    },
    behaviour: { home, detectors: config.behaviour.detectors, correlate: false },
  });
}

/** As `outpost analyze` keeps a file: named by its SHA-256, owner-readable only. A failed write is not the packet path's problem. */
function storeFile(dir: string, info: FileInfo): void {
  try {
    const sub = join(dir, info.sha256.slice(0, 2));
    mkdirSync(sub, { recursive: true, mode: 0o700 });
    writeFileSync(join(sub, info.sha256), info.content!, { mode: 0o600 });
  } catch {
    // The fileinfo record still says stored: true; the write error has no record type to go to.
  }
}

/** A pipeline's counters added into `into`. */
function addCounters(into: WorkerCounters, p: Pipeline): void {
  const d = p.decoder.counters;
  into.packets += d.frames;
  into.bytes += d.bytes;
  into.unknownLinkType += d.unknownLinkType;
  into.nonIp += d.nonIp;
  into.flows += p.flows.counters.created;
  for (const n of p.anomalies.values()) into.anomalies += n;
  const add = (rec: Record<string, number>, k: string, v: number): void => {
    rec[k] = (rec[k] ?? 0) + v;
  };
  if (p.detect !== null) for (const [k, v] of Object.entries(p.detect.counters)) add(into.rules, snake(k), v);
  const app = p.app?.counters;
  if (app !== undefined) {
    for (const [proto, n] of app.detected) add(into.app_layer, `detected.${proto}`, n);
    add(into.app_layer, 'failed', app.failed);
    add(into.app_layer, 'bytes', app.bytes);
    add(into.app_layer, 'expected', app.expected);
    add(into.app_layer, 'parser_errors', app.parserErrors);
    add(into.app_layer, 'upgraded', app.upgraded);
  }
  if (p.behaviour !== null) for (const [k, v] of Object.entries(p.behaviour.counters())) add(into.behaviour, k, v);
}

/** EVE's key style for counter names (streamChunks → stream_chunks). */
function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

export function emptyCounters(): WorkerCounters {
  return { packets: 0, bytes: 0, records: 0, unknownLinkType: 0, nonIp: 0, flows: 0, anomalies: 0, rules: {}, app_layer: {}, behaviour: {} };
}

/** Adds `b` into `a` (main thread: summing workers). */
export function sumCounters(a: WorkerCounters, b: WorkerCounters): WorkerCounters {
  for (const k of ['packets', 'bytes', 'records', 'unknownLinkType', 'nonIp', 'flows', 'anomalies'] as const) a[k] += b[k];
  for (const k of ['rules', 'app_layer', 'behaviour'] as const) for (const [n, v] of Object.entries(b[k])) a[k][n] = (a[k][n] ?? 0) + v;
  return a;
}

/** The worker's body: runs when this module is a packet worker's entry. */
function run(setup: WorkerSetup, parent: MessagePort): void {
  const started = performance.now();
  let rules: { ruleset: RuleSet; thresholds: ThresholdConfig | null; warnings: string[] };
  try {
    rules = loadSensorRules(setup.config, setup.rulePaths);
  } catch (err) {
    parent.postMessage({ t: 'fatal', message: (err as Error).message } satisfies WorkerMessage);
    setup.port.close();
    return;
  }
  const r = rules.ruleset.report;
  const summary: RuleSummary = {
    loaded: r.loaded,
    total: r.total,
    disabled: r.disabled,
    unsupported: Object.values(r.unsupported).reduce((a, b) => a + b, 0),
    errors: r.errors.length,
    warnings: [...rules.warnings, ...r.errors.slice(0, 5).map((e) => `${e.file}:${e.line}: ${e.message}`)],
  };
  const compileMs = performance.now() - started;

  const returned = new Int32Array(setup.returned);
  const unhandled = new Int32Array(setup.unhandled);
  const post = (m: WorkerMessage): void => {
    Atomics.add(unhandled, setup.index, 1);
    parent.postMessage(m);
  };
  /** Waits while the main thread has MAX_UNHANDLED of our record messages to go through. */
  const waitForMain = (): void => {
    for (;;) {
      const n = Atomics.load(unhandled, setup.index);
      if (n < MAX_UNHANDLED) return;
      Atomics.wait(unhandled, setup.index, n, 100);
    }
  };
  const pipelines = new Map<number, Pipeline>();
  const retired = emptyCounters();
  let salts = 0;
  let records: EveEvent[] = [];
  let lines: string[] = [];
  let sent = 0;
  let timer: NodeJS.Timeout | null = null;
  const json = setup.recordFormat === 'json';

  const flush = (): void => {
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
    if (json) {
      if (lines.length === 0) return;
      sent += lines.length;
      post({ t: 'lines', lines });
      lines = [];
    } else {
      if (records.length === 0) return;
      sent += records.length;
      post({ t: 'records', records });
      records = [];
    }
  };
  const sink = (ev: EveEvent): void => {
    // The behaviour stage's numbering is this worker's alone: the main thread gives the real seq.
    delete ev.seq;
    const n = json ? lines.push(JSON.stringify(ev)) : records.push(ev);
    if (n >= RECORDS_PER_MESSAGE) flush();
    else if (timer === null) timer = setTimeout(flush, RECORD_FLUSH_MS);
  };
  const counters = (): WorkerCounters => {
    const c = sumCounters(emptyCounters(), retired);
    for (const p of pipelines.values()) addCounters(c, p);
    c.records = sent + (json ? lines.length : records.length);
    return c;
  };

  const frame = new Frame();
  let current = -1;
  let currentPipeline: Pipeline | null = null;
  const onFrame = (f: Frame, group: number): void => {
    if (group !== current) {
      current = group;
      currentPipeline = pipelines.get(group) ?? null;
    }
    currentPipeline?.frame(f);
  };

  setup.port.on('message', (m: ReaderMessage) => {
    switch (m.t) {
      case 'batch':
        waitForMain();
        try {
          forEachFrame(m.buf, m.used, frame, onFrame);
        } finally {
          setup.port.postMessage({ t: 'free', buf: m.buf }, [m.buf]);
          Atomics.add(returned, setup.index, 1);
          Atomics.notify(returned, setup.index);
        }
        break;
      case 'group': {
        const salt = ((setup.idSalt + setup.index + setup.workers * salts++) % 0x7fffe) + 1;
        pipelines.set(m.id, sensorPipeline(setup.config, rules, sink, { idSalt: salt, ...(m.iface !== undefined ? { iface: m.iface } : {}) }));
        current = -1;
        break;
      }
      case 'end': {
        const p = pipelines.get(m.id);
        let c = emptyCounters();
        if (p !== undefined) {
          p.finish();
          addCounters(c, p);
          sumCounters(retired, c);
          pipelines.delete(m.id);
          current = -1;
        } else c = emptyCounters();
        flush();
        parent.postMessage({ t: 'ended', id: m.id, counters: c } satisfies WorkerMessage);
        break;
      }
    }
  });
  parent.on('message', (m: MainMessage) => {
    if (m.t === 'counters') parent.postMessage({ t: 'counters', id: m.id, counters: counters() } satisfies WorkerMessage);
    else if (m.t === 'exit') {
      flush();
      setup.port.close();
      parent.close();
    }
  });
  parent.postMessage({ t: 'ready', rules: summary, compileMs } satisfies WorkerMessage);
}

if (!isMainThread && parentPort !== null && (workerData as { kind?: string } | null)?.kind === 'outpost-packet-worker') {
  run(workerData as WorkerSetup, parentPort as unknown as MessagePort);
}
