/**
 * Running DNS through a session with a recording AppOutput, and through the whole sensor pipeline
 * (decode, flows, reassembly, the application layer with DNS only, rules when given).
 */
import { Frame } from '../../../src/capture/frame.js';
import { openByteSource, readCapture } from '../../../src/capture/index.js';
import type { AlertEvent, EveEvent } from '../../../src/events/types.js';
import type { AppOutput, AppTransaction, Expectation, FileInfo } from '../../../src/protocols/app.js';
import { createDnsProtocol, DnsSession, type DnsLogVersion, type DnsProtocolOptions, type DnsTransaction } from '../../../src/protocols/dns/index.js';
import type { FlowTableOptions } from '../../../src/flow/table.js';
import { RuleSet } from '../../../src/rules/ruleset.js';
import { Pipeline, type PipelineOptions } from '../../../src/sensor/pipeline.js';
import { SynthCapture } from '../../../src/synth/traffic.js';

/** What a session reported, in order. */
export interface Reported {
  records: Array<{ eventType: string; body: Record<string, unknown>; dir: number; txId: number | undefined }>;
  inspections: Array<{ tx: DnsTransaction; dir: number }>;
  anomalies: Array<{ event: string; dir: number }>;
  /** Everything, in the order it came: "record", "inspect:<dir>", "anomaly:<event>". */
  order: string[];
}

/** An AppOutput that keeps what it is told. */
export function recordingOutput(): { out: AppOutput; got: Reported } {
  const got: Reported = { records: [], inspections: [], anomalies: [], order: [] };
  const out: AppOutput = {
    record: (eventType, body, dir, txId) => {
      got.records.push({ eventType, body: body as Record<string, unknown>, dir, txId });
      got.order.push('record');
    },
    inspect: (tx: AppTransaction, dir) => {
      got.inspections.push({ tx: tx as DnsTransaction, dir });
      got.order.push(`inspect:${dir}`);
    },
    anomaly: (event, dir) => {
      got.anomalies.push({ event, dir });
      got.order.push(`anomaly:${event}`);
    },
    file: (_info: FileInfo) => {},
    fileStore: { enabled: false, maxBytes: 0 },
    now: () => 0,
    expect: (_e: Expectation) => {},
    upgrade: () => {},
  };
  return { out, got };
}

/** A session on a flow of the given transport, with what it reports. */
export function session(transport: 'udp' | 'tcp', version: DnsLogVersion = 2, alertVersion: DnsLogVersion = version): { s: DnsSession; got: Reported } {
  const { out, got } = recordingOutput();
  return { s: new DnsSession(out, transport === 'tcp', { version, alertVersion }), got };
}

/** A record as JSON sees it. */
export type Eve = EveEvent & Record<string, unknown>;

export interface Run {
  events: Eve[];
  dns: Eve[];
  alerts: Array<AlertEvent & Record<string, unknown>>;
  anomalies: Eve[];
  pipeline: Pipeline;
}

function pipelineFor(events: Eve[], dns: DnsProtocolOptions, rules: string | undefined, flow: FlowTableOptions = {}): Pipeline {
  let detect: PipelineOptions['detect'];
  if (rules !== undefined) {
    const set = new RuleSet();
    const report = set.loadText(rules, 'test.rules');
    if (report.errors.length > 0 || Object.keys(report.unsupported).length > 0) throw new Error(`rules did not load: ${JSON.stringify(report.errors)} ${JSON.stringify(report.unsupported)}`);
    detect = { rules: set.rules, alert: { categories: set.ctx.classifications } };
  }
  return new Pipeline((e) => events.push(e as Eve), { flow: { idSalt: 1, ...flow }, app: { protocols: [createDnsProtocol(dns)] }, ...(detect !== undefined ? { detect } : {}) });
}

function split(events: Eve[], pipeline: Pipeline): Run {
  return {
    events,
    dns: events.filter((e) => (e.event_type as string) === 'dns'),
    alerts: events.filter((e): e is AlertEvent & Eve => e.event_type === 'alert'),
    anomalies: events.filter((e) => e.event_type === 'anomaly'),
    pipeline,
  };
}

/** Crafted traffic through the pipeline. */
export function runCrafted(craft: (cap: SynthCapture) => void, options: { dns?: DnsProtocolOptions; rules?: string; flow?: FlowTableOptions } = {}): Run {
  const events: Eve[] = [];
  const pipeline = pipelineFor(events, options.dns ?? {}, options.rules, options.flow);
  const cap = new SynthCapture(null);
  craft(cap);
  const frame = new Frame();
  let n = 0;
  for (const f of cap.frames!) {
    frame.data = f.frame;
    frame.offset = 0;
    frame.caplen = f.frame.length;
    frame.wirelen = f.wirelen;
    frame.tsSec = Math.floor(f.time);
    frame.tsNsec = Math.round((f.time - Math.floor(f.time)) * 1e9);
    frame.linktype = cap.linktype;
    frame.number = ++n;
    pipeline.frame(frame);
  }
  pipeline.finish();
  return split(events, pipeline);
}

/** A capture file through the pipeline. */
export async function runFile(file: string, options: { dns?: DnsProtocolOptions; rules?: string } = {}): Promise<Run> {
  const events: Eve[] = [];
  const pipeline = pipelineFor(events, options.dns ?? {}, options.rules);
  await readCapture(await openByteSource(file), pipeline.frame);
  pipeline.finish();
  return split(events, pipeline);
}

/** A dotted path into a record ("dns.answers[0].rrname"), as suricata-verify's checks address fields. */
export function field(record: unknown, path: string): unknown {
  let v: unknown = record;
  for (const part of path.split('.')) {
    const m = /^([^[]+)((?:\[\d+\])*)$/.exec(part);
    if (m === null) return undefined;
    v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[m[1]!] : undefined;
    for (const idx of m[2]!.matchAll(/\[(\d+)\]/g)) v = Array.isArray(v) ? (v as unknown[])[Number(idx[1])] : undefined;
  }
  return v;
}

/** The records that have every field of a suricata-verify filter's `match`. */
export function matching(records: readonly unknown[], match: Record<string, unknown>): unknown[] {
  return records.filter((r) => Object.entries(match).every(([k, v]) => field(r, k) === v));
}
