import { replayFrames } from '../../helpers.js';
/**
 * Runs captures (files, or crafted with SynthCapture) through the real pipeline with the TLS
 * protocol and, when given, rules; returns every EVE record that came out.
 */
import { readCapture } from '../../../src/capture/reader.js';
import { openByteSource } from '../../../src/capture/source.js';
import type { AlertEvent, AnomalyEvent, EveEvent } from '../../../src/events/types.js';
import type { TlsEvent } from '../../../src/events/tls.js';
import type { AppOutput, AppTransaction, Expectation, FileInfo } from '../../../src/protocols/app.js';
import { tlsProtocol } from '../../../src/protocols/tls/index.js';
import { RuleSet } from '../../../src/rules/ruleset.js';
import { Pipeline, type PipelineOptions } from '../../../src/sensor/pipeline.js';
import { SynthCapture } from '../../../src/synth/traffic.js';

export interface Run {
  events: EveEvent[];
  tls: TlsEvent[];
  alerts: AlertEvent[];
  anomalies: AnomalyEvent[];
  pipeline: Pipeline;
}

function pipelineFor(events: EveEvent[], rules: string | null): Pipeline {
  const options: PipelineOptions = { app: { protocols: [tlsProtocol] }, flow: { idSalt: 1 } };
  if (rules !== null) {
    const set = new RuleSet();
    const report = set.loadText(rules, 'test.rules');
    if (report.errors.length > 0 || Object.keys(report.unsupported).length > 0) throw new Error(`rules did not load: ${JSON.stringify(report.errors)} ${JSON.stringify(report.unsupported)}`);
    options.detect = { rules: set.rules, alert: { categories: set.ctx.classifications, payload: false } };
  }
  return new Pipeline((e) => events.push(e), options);
}

function result(events: EveEvent[], pipeline: Pipeline): Run {
  return {
    events,
    tls: events.filter((e) => (e as { event_type: string }).event_type === 'tls') as unknown as TlsEvent[],
    alerts: events.filter((e): e is AlertEvent => e.event_type === 'alert'),
    anomalies: events.filter((e): e is AnomalyEvent => e.event_type === 'anomaly'),
    pipeline,
  };
}

/** A capture file through the pipeline. */
export async function runFile(path: string, rules: string | null = null): Promise<Run> {
  const events: EveEvent[] = [];
  const pipeline = pipelineFor(events, rules);
  await readCapture(await openByteSource(path), pipeline.frame);
  pipeline.finish();
  return result(events, pipeline);
}

/** Crafted traffic through the pipeline. */
export function runCrafted(craft: (cap: SynthCapture) => void, rules: string | null = null): Run {
  const events: EveEvent[] = [];
  const pipeline = pipelineFor(events, rules);
  const cap = new SynthCapture(null);
  craft(cap);
  replayFrames(cap, pipeline.frame);
  pipeline.finish();
  return result(events, pipeline);
}

/** What a session told the application layer, in order. */
export type OutputCall =
  | { kind: 'record'; eventType: string; body: Record<string, unknown>; dir: number; txId: number | undefined }
  | { kind: 'inspect'; dir: number; tx: AppTransaction }
  | { kind: 'anomaly'; event: string; dir: number };

/** An AppOutput that remembers every call. */
export class FakeOutput implements AppOutput {
  /** Hand-overs asked for (STARTTLS), by protocol name. */
  readonly upgrades: string[] = [];

  upgrade(proto: string): void {
    this.upgrades.push(proto);
  }

  readonly calls: OutputCall[] = [];
  readonly fileStore = { enabled: false, maxBytes: 0 };

  record(eventType: string, body: Record<string, unknown>, dir: number, txId?: number): void {
    this.calls.push({ kind: 'record', eventType, body, dir, txId });
  }

  inspect(tx: AppTransaction, dir: number): void {
    this.calls.push({ kind: 'inspect', dir, tx });
  }

  anomaly(event: string, dir: number): void {
    this.calls.push({ kind: 'anomaly', event, dir });
  }

  file(_info: FileInfo): void {}

  now(): number {
    return 1082541600;
  }

  expect(_e: Expectation): void {}

  get records(): Array<Record<string, unknown>> {
    return this.calls.flatMap((c) => (c.kind === 'record' ? [c.body] : []));
  }

  get anomalies(): string[] {
    return this.calls.flatMap((c) => (c.kind === 'anomaly' ? [c.event] : []));
  }

  /** The calls' kinds in order, as "inspect:0", "record:tls", "anomaly:name". */
  get sequence(): string[] {
    return this.calls.map((c) => (c.kind === 'record' ? `record:${c.eventType}` : c.kind === 'inspect' ? `inspect:${c.dir}` : `anomaly:${c.event}`));
  }
}
