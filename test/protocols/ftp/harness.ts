/**
 * Shared by the FTP and TFTP tests: crafted captures through the real pipeline (decoder, flow
 * table, reassembly, application layer, rules), a fake AppOutput for driving sessions directly,
 * and a reader for suricata-verify's flowsynth (.syn) conversations.
 */
import { createHash } from 'node:crypto';
import { Frame } from '../../../src/capture/frame.js';
import type { EveEvent } from '../../../src/events/types.js';
import { Flow } from '../../../src/flow/flow.js';
import type { AppOutput, AppTransaction, Expectation, FileInfo, ProtocolSpec } from '../../../src/protocols/app.js';
import { ftpDataProtocol, ftpProtocol } from '../../../src/protocols/ftp/index.js';
import { tftpProtocol } from '../../../src/protocols/tftp/index.js';
import { RuleSet } from '../../../src/rules/ruleset.js';
import { Pipeline, type PipelineOptions } from '../../../src/sensor/pipeline.js';
import { SynthCapture, TcpConnection } from '../../../src/synth/traffic.js';

/** An EVE record as the tests read it. */
export type Rec = Record<string, unknown> & { event_type: string };

export interface RunResult {
  events: Rec[];
  of(type: string): Rec[];
  pipeline: Pipeline;
}

export const PROTOCOLS: readonly ProtocolSpec[] = [ftpProtocol, ftpDataProtocol, tftpProtocol];

/** Runs crafted traffic through a pipeline with the FTP and TFTP protocols (and rules, when given). */
export function run(craft: (cap: SynthCapture) => void, options: { protocols?: readonly ProtocolSpec[]; rules?: string; fileStore?: { enabled: boolean; maxBytes: number } } = {}): RunResult {
  const events: Rec[] = [];
  let detect: PipelineOptions['detect'];
  if (options.rules !== undefined) {
    const set = new RuleSet();
    const report = set.loadText(options.rules, 'test.rules');
    if (report.errors.length > 0 || Object.keys(report.unsupported).length > 0) throw new Error(`rules did not load: ${JSON.stringify(report)}`);
    detect = { rules: set.rules, alert: { categories: set.ctx.classifications, payload: false } };
  }
  const pipeline = new Pipeline((e: EveEvent) => events.push(e as unknown as Rec), {
    app: { protocols: options.protocols ?? PROTOCOLS, ...(options.fileStore !== undefined ? { fileStore: options.fileStore } : {}) },
    flow: { idSalt: 1 },
    ...(detect !== undefined ? { detect } : {}),
  });
  const cap = new SynthCapture(null);
  craft(cap);
  const frame = new Frame();
  let n = 0;
  for (const f of cap.frames!) {
    frame.data = Buffer.from(f.frame); // a copy per frame, then scribbled on: sessions must copy what they keep
    frame.offset = 0;
    frame.caplen = f.frame.length;
    frame.wirelen = f.frame.length;
    frame.tsSec = Math.floor(f.time);
    frame.tsNsec = Math.round((f.time - Math.floor(f.time)) * 1e9);
    frame.linktype = cap.linktype;
    frame.number = ++n;
    pipeline.frame(frame);
    frame.data.fill(0xee);
  }
  pipeline.finish();
  return { events, of: (type) => events.filter((e) => e.event_type === type), pipeline };
}

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/**
 * A fake Windows executable: an MZ header whose e_lfanew points at a PE header (i386, GUI
 * subsystem), then filler. Headers only: there is no code in it, nothing that could run.
 */
export function fakePe(size: number): Buffer {
  const b = Buffer.alloc(size, 0x41);
  b.write('MZ', 0, 'latin1');
  b.writeUInt32LE(0x80, 0x3c);
  b.write('PE\0\0', 0x80, 'latin1');
  b.writeUInt16LE(0x14c, 0x84); // machine: i386
  b.writeUInt16LE(0x0102, 0x96); // characteristics: executable, 32-bit
  b.writeUInt16LE(0x10b, 0x98); // optional header magic: PE32
  b.writeUInt16LE(2, 0x98 + 68); // subsystem: Windows GUI
  return b;
}

export interface Recorded {
  eventType: string;
  body: Record<string, unknown>;
  dir: number;
  txId: number | undefined;
}

/** An AppOutput that keeps everything it is told. */
export class FakeOutput implements AppOutput {
  /** Hand-overs asked for (STARTTLS), by protocol name. */
  readonly upgrades: string[] = [];

  upgrade(proto: string): void {
    this.upgrades.push(proto);
  }

  readonly records: Recorded[] = [];
  readonly inspected: Array<{ tx: AppTransaction; dir: number }> = [];
  readonly anomalies: Array<{ event: string; dir: number }> = [];
  readonly files: FileInfo[] = [];
  readonly expectations: Expectation[] = [];
  fileStore = { enabled: false, maxBytes: 0 };
  time = 1_000_000;

  record(eventType: string, body: Record<string, unknown>, dir: number, txId?: number): void {
    this.records.push({ eventType, body: structuredClone(body), dir, txId });
  }
  inspect(tx: AppTransaction, dir: number): void {
    this.inspected.push({ tx, dir });
  }
  anomaly(event: string, dir: number): void {
    this.anomalies.push({ event, dir });
  }
  file(info: FileInfo): void {
    this.files.push(info);
  }
  now(): number {
    return this.time;
  }
  expect(e: Expectation): void {
    this.expectations.push(e);
  }
  bodies(type: string): Array<Record<string, unknown>> {
    return this.records.filter((r) => r.eventType === type).map((r) => r.body);
  }
}

/** A flow with IPv4 endpoints, as the flow table would make it. */
export function flowOf(client: string, clientPort: number, server: string, serverPort: number, proto = 6): Flow {
  const f = new Flow();
  const v4 = (s: string): number => s.split('.').reduce((a, x) => a * 256 + Number(x), 0) >>> 0;
  f.addr.set([0, 0, 0xffff, v4(client), 0, 0, 0xffff, v4(server)]);
  f.clientPort = clientPort;
  f.serverPort = serverPort;
  f.proto = proto;
  return f;
}

/** The four address words of an IPv4 address, as expectations carry them. */
export function words(ip: string): number[] {
  return [0, 0, 0xffff, ip.split('.').reduce((a, x) => a * 256 + Number(x), 0) >>> 0];
}

/** Text with \xNN escapes (flowsynth's content strings) to bytes. */
function unescape(s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && s[i + 1] === 'x') {
      out.push(parseInt(s.slice(i + 2, i + 4), 16));
      i += 3;
    } else {
      out.push(s.charCodeAt(i));
    }
  }
  return Buffer.from(out);
}

/**
 * Replays a flowsynth description as suricata-verify's .syn files hold them: one `flow` line
 * (tcp, with tcp.initialize and an optional mss), then `default >` (client) and `default <`
 * (server) lines, one content each, each sent as its own segments and acknowledged.
 */
export function replaySyn(cap: SynthCapture, syn: string): void {
  let conn: TcpConnection | null = null;
  for (const raw of syn.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const flow = /^flow default tcp (\S+) > (\S+) \((.*)\);$/.exec(line);
    if (flow !== null) {
      const mss = /mss:(\d+)/.exec(flow[3]!);
      conn = new TcpConnection(cap, flow[1]!, flow[2]!, mss !== null ? { mss: Number(mss[1]) } : {});
      conn.handshake();
      continue;
    }
    const m = /^default ([<>]) \(content:"(.*)";\);$/.exec(line);
    if (m === null || conn === null) throw new Error(`not a flowsynth line: ${line.slice(0, 60)}`);
    conn.send(m[1] === '>' ? 'client' : 'server', unescape(m[2]!));
  }
}

/** A small seeded generator (mulberry32): the same cases every run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
