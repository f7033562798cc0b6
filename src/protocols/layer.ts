import { IpProto } from '../decode/packet.js';
import type { Flow } from '../flow/flow.js';
import type { AppOutput, AppSession, AppTransaction, FileInfo, ProtocolSpec } from './app.js';

/** Where the application layer's results go: the pipeline turns them into records and rule inspections. */
export interface AppLayerSink {
  record(flow: Flow, dir: number, eventType: string, body: Record<string, unknown>, txId: number | undefined): void;
  inspect(flow: Flow, dir: number, tx: AppTransaction): void;
  anomaly(flow: Flow, dir: number, event: string): void;
  file(flow: Flow, info: FileInfo): void;
}

export interface AppLayerCounters {
  /** Flows recognised, by protocol. */
  detected: Map<string, number>;
  /** Flows whose protocol could not be recognised from their first bytes. */
  failed: number;
  /** Bytes handed to protocol sessions. */
  bytes: number;
}

/**
 * How much of each side's first bytes probing looks at before giving up: every protocol Outpost
 * knows says what it is within its first line or record, and 1 KiB holds the longest of them
 * (an HTTP request line with a longer URI is still recognised by its method).
 */
const PROBE_BYTES = 1024;

/**
 * What a TCP flow may hold while its protocol is unknown (one side ruled everything out, the
 * other has not spoken yet): past this, detection fails for the flow and the bytes are dropped.
 */
const PENDING_BYTES = 65536;

/** Per-flow application state. */
class FlowApp {
  spec: ProtocolSpec | null = null;
  session: AppSession | null = null;
  failed = false;
  /** TCP: what each side sent before the protocol was known, in arrival order, to replay into the session. */
  readonly pending: Array<{ dir: number; bytes: Uint8Array }> = [];
  pendingBytes = 0;
  /** TCP: each side's first bytes (up to PROBE_BYTES), what probing looks at. */
  readonly seen: [Uint8Array, Uint8Array] = [new Uint8Array(0), new Uint8Array(0)];
  /** Protocols ruled out, per side. */
  readonly excluded: [Set<string>, Set<string>] = [new Set(), new Set()];
  /** Sides on which every protocol is ruled out. */
  exhausted = 0;
}

/**
 * The application layer: recognises each flow's protocol from its first bytes (ports only order
 * the guesses), then feeds the protocol's session with the flow's reassembled data, in order.
 * Detection fails for a flow (app_proto "failed", as Suricata writes it) when both sides rule
 * out every protocol, when a hole comes first, or when one side has ruled everything out and
 * PENDING_BYTES are waiting.
 */
export class AppLayer {
  readonly counters: AppLayerCounters = { detected: new Map(), failed: 0, bytes: 0 };

  constructor(
    private readonly specs: readonly ProtocolSpec[],
    private readonly sink: AppLayerSink,
    private readonly fileStore: { enabled: boolean; maxBytes: number } = { enabled: false, maxBytes: 0 },
  ) {}

  /** TCP stream data in order (a view; copied only while the protocol is unknown). */
  streamData(flow: Flow, dir: number, buf: Uint8Array, off: number, len: number): void {
    if (len === 0) return;
    const app = this.state(flow);
    if (app.session !== null) {
      this.counters.bytes += len;
      app.session.data(dir, buf, off, len);
      return;
    }
    if (app.failed) return;
    const bytes = buf.slice(off, off + len);
    app.pending.push({ dir, bytes });
    app.pendingBytes += len;
    const prior = app.seen[dir]!;
    if (prior.length < PROBE_BYTES) {
      const seen = new Uint8Array(Math.min(PROBE_BYTES, prior.length + len));
      seen.set(prior);
      seen.set(bytes.subarray(0, seen.length - prior.length), prior.length);
      app.seen[dir] = seen;
    }
    const spec = this.probe(flow, app, dir, app.seen[dir]!, 'tcp', app.seen[dir]!.length >= PROBE_BYTES);
    if (spec !== null) this.start(flow, app, spec);
    else if (app.exhausted === 3 || (app.exhausted !== 0 && app.pendingBytes > PENDING_BYTES)) this.fail(flow, app);
  }

  streamGap(flow: Flow, dir: number, len: number): void {
    const app = flow.app as FlowApp | null;
    if (app?.session != null) app.session.gap(dir, len);
    else if (app === null || (app.spec === null && !app.failed)) this.fail(flow, app ?? this.state(flow)); // a hole before the protocol is known
  }

  /** A UDP datagram's payload: probed on its own (a datagram is a message), and never held. */
  datagram(flow: Flow, dir: number, buf: Uint8Array, off: number, len: number): void {
    if (len === 0) return;
    const app = this.state(flow);
    if (app.session !== null) {
      this.counters.bytes += len;
      app.session.data(dir, buf, off, len);
      return;
    }
    if (app.failed || (app.exhausted & (1 << dir)) !== 0) return;
    const spec = this.probe(flow, app, dir, buf.subarray(off, off + len), 'udp', true);
    if (spec !== null) {
      this.start(flow, app, spec);
      this.counters.bytes += len;
      app.session!.data(dir, buf, off, len);
    } else if (app.exhausted === 3) this.fail(flow, app);
  }

  flowEnd(flow: Flow): void {
    const app = flow.app as FlowApp | null;
    app?.session?.close();
  }

  private state(flow: Flow): FlowApp {
    let app = flow.app as FlowApp | null;
    if (app === null) {
      app = new FlowApp();
      flow.app = app;
    }
    return app;
  }

  /**
   * The first protocol (those expecting the flow's port first) that says yes to this side's
   * bytes. "more" rules a protocol out when no more bytes will come (`final`).
   */
  private probe(flow: Flow, app: FlowApp, dir: number, data: Uint8Array, transport: 'tcp' | 'udp', final: boolean): ProtocolSpec | null {
    const port = flow.serverPort;
    const excluded = app.excluded[dir]!;
    let undecided = 0;
    for (const pass of [true, false]) {
      for (const spec of this.specs) {
        if (spec.ports.includes(port) !== pass) continue;
        if (spec.transport !== 'both' && spec.transport !== transport) continue;
        if (excluded.has(spec.name)) continue;
        let r: 'yes' | 'no' | 'more';
        try {
          r = spec.probe(dir, data);
        } catch {
          r = 'no'; // a probe must not throw; if one does, it is not this protocol
        }
        if (r === 'yes') return spec;
        if (r === 'no' || final) excluded.add(spec.name);
        else undecided++;
      }
    }
    if (undecided === 0) app.exhausted |= 1 << dir;
    return null;
  }

  /** No protocol fits: the flow's app_proto is "failed", as Suricata writes it. */
  private fail(flow: Flow, app: FlowApp): void {
    app.failed = true;
    flow.appProto = 'failed';
    app.pending.length = 0;
    app.pendingBytes = 0;
    app.seen[0] = app.seen[1] = new Uint8Array(0);
    this.counters.failed++;
  }

  private start(flow: Flow, app: FlowApp, spec: ProtocolSpec): void {
    app.spec = spec;
    flow.appProto = spec.name;
    this.counters.detected.set(spec.name, (this.counters.detected.get(spec.name) ?? 0) + 1);
    const sink = this.sink;
    const out: AppOutput = {
      record: (eventType, body, dir, txId) => sink.record(flow, dir, eventType, body, txId),
      inspect: (tx, dir) => sink.inspect(flow, dir, tx),
      anomaly: (event, dir) => sink.anomaly(flow, dir, event),
      file: (info) => sink.file(flow, info),
      fileStore: this.fileStore,
    };
    app.session = spec.open(flow, out);
    const pending = app.pending.splice(0);
    app.pendingBytes = 0;
    app.seen[0] = app.seen[1] = new Uint8Array(0);
    for (const p of pending) {
      this.counters.bytes += p.bytes.length;
      app.session.data(p.dir, p.bytes, 0, p.bytes.length);
    }
  }
}

/** Whether a flow's protocol can carry an application layer Outpost follows. */
export function carriesApps(flow: Flow): boolean {
  return flow.proto === IpProto.TCP || flow.proto === IpProto.UDP;
}
