import { IpProto } from '../decode/packet.js';
import type { Flow } from '../flow/flow.js';
import type { AppOutput, AppSession, AppTransaction, Expectation, FileInfo, ProtocolSpec } from './app.js';
import { copyBytes } from '../wire/bytes.js';

/** Where the application layer's results go: the pipeline turns them into records and rule inspections. */
export interface AppLayerSink {
  record(flow: Flow, dir: number, eventType: string, body: object, txId: number | undefined): void;
  inspect(flow: Flow, dir: number, tx: AppTransaction): void;
  anomaly(flow: Flow, dir: number, event: string): void;
  file(flow: Flow, info: FileInfo): void;
  /** The time of the packet being processed, or the flow's last one at its end (seconds). */
  now(flow: Flow): number;
}

export interface AppLayerCounters {
  /** Flows recognised, by protocol. */
  detected: Map<string, number>;
  /** Of those, UDP flows (Suricata counts recognised DNS over UDP and TCP apart). */
  detectedUdp: Map<string, number>;
  /** Flows whose protocol could not be recognised from their first bytes. */
  failed: number;
  /** Of those, UDP flows. */
  failedUdp: number;
  /** Bytes handed to protocol sessions. */
  bytes: number;
  /** Flows that opened as a connection a protocol expected (FTP data, TFTP transfers). */
  expected: number;
  /** Sessions stopped because their parser threw (a bug, reported as an applayer anomaly "parser_error"). */
  parserErrors: number;
  /** Flows handed from one protocol to another (SMTP STARTTLS to TLS). */
  upgraded: number;
}

/** Expectations kept at most (the oldest go first), and how a flow's endpoints are keyed. */
const MAX_EXPECTATIONS = 4096;
const endpointKey = (addr: Uint32Array, at: number, port: number): string => `${addr[at]},${addr[at + 1]},${addr[at + 2]},${addr[at + 3]}:${port}`;

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
  /** The session asked to hand the flow to another protocol (done when its data call returns). */
  upgrade: { spec: ProtocolSpec; carry: [Uint8Array, Uint8Array] } | null = null;
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
  readonly counters: AppLayerCounters = { detected: new Map(), detectedUdp: new Map(), failed: 0, failedUdp: 0, bytes: 0, expected: 0, parserErrors: 0, upgraded: 0 };
  /** Expected connections by their server endpoint, oldest first. */
  private readonly expectations = new Map<string, Expectation & { until: number }>();
  private readonly byName: ReadonlyMap<string, ProtocolSpec>;

  constructor(
    private readonly specs: readonly ProtocolSpec[],
    private readonly sink: AppLayerSink,
    private readonly fileStore: { enabled: boolean; maxBytes: number } = { enabled: false, maxBytes: 0 },
  ) {
    this.byName = new Map(specs.map((s) => [s.name, s]));
  }

  /** TCP stream data in order (a view; copied only while the protocol is unknown). */
  streamData(flow: Flow, dir: number, buf: Uint8Array, off: number, len: number): void {
    if (len === 0) return;
    const app = this.state(flow);
    if (app.session !== null) {
      this.deliver(flow, app, dir, buf, off, len);
      return;
    }
    if (app.failed) return;
    if (this.fromExpectation(flow, app)) {
      this.deliver(flow, app, dir, buf, off, len);
      return;
    }
    const bytes = copyBytes(buf, off, len);
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

  /** TCP: a side finished (FIN, with its data delivered). */
  streamEnd(flow: Flow, dir: number): void {
    const app = flow.app as FlowApp | null;
    if (app?.session?.end === undefined) return;
    try {
      app.session.end(dir);
    } catch {
      this.parserError(flow, app, dir);
    }
  }

  /** A UDP datagram's payload: probed on its own (a datagram is a message), and never held. */
  datagram(flow: Flow, dir: number, buf: Uint8Array, off: number, len: number): void {
    if (len === 0) return;
    const app = this.state(flow);
    if (app.session !== null || this.fromExpectation(flow, app)) {
      this.deliver(flow, app, dir, buf, off, len);
      return;
    }
    if (app.failed || (app.exhausted & (1 << dir)) !== 0) return;
    const spec = this.probe(flow, app, dir, buf.subarray(off, off + len), 'udp', true);
    if (spec !== null) {
      this.start(flow, app, spec);
      this.deliver(flow, app, dir, buf, off, len);
    } else if (app.exhausted === 3) this.fail(flow, app);
  }

  flowEnd(flow: Flow): void {
    const app = flow.app as FlowApp | null;
    if (app?.session == null) return;
    try {
      app.session.close();
    } catch {
      this.parserError(flow, app, 0);
    }
  }

  /** Hands data to the flow's session; a session that throws is stopped, never the sensor. */
  private deliver(flow: Flow, app: FlowApp, dir: number, buf: Uint8Array, off: number, len: number): void {
    if (app.session === null) return;
    this.counters.bytes += len;
    try {
      app.session.data(dir, buf, off, len);
    } catch {
      this.parserError(flow, app, dir);
    }
    if (app.upgrade !== null && !app.failed) this.switchProtocol(flow, app);
  }

  /** The session asked to hand the flow on (STARTTLS): close it, open the new protocol's, give it the carried bytes. */
  private switchProtocol(flow: Flow, app: FlowApp): void {
    const { spec, carry } = app.upgrade!;
    app.upgrade = null;
    try {
      app.session?.close();
    } catch {
      this.parserError(flow, app, 0);
      return;
    }
    app.session = null;
    this.counters.upgraded++;
    this.start(flow, app, spec);
    for (const dir of [0, 1]) if (carry[dir]!.length > 0) this.deliver(flow, app, dir, carry[dir]!, 0, carry[dir]!.length);
  }

  private parserError(flow: Flow, app: FlowApp, dir: number): void {
    app.session = null;
    app.upgrade = null;
    app.failed = true;
    this.counters.parserErrors++;
    this.sink.anomaly(flow, dir, 'parser_error');
  }

  /** Registers a connection a protocol expects (see Expectation); the oldest is dropped past MAX_EXPECTATIONS. */
  private expect(flow: Flow, e: Expectation): void {
    const key = endpointKey(e.serverAddr, 0, e.serverPort);
    this.expectations.delete(key);
    if (this.expectations.size >= MAX_EXPECTATIONS) this.expectations.delete(this.expectations.keys().next().value!);
    this.expectations.set(key, { ...e, until: this.sink.now(flow) + e.seconds });
  }

  /** Whether the flow is a connection some protocol expected: then its session is opened, without probing. */
  private fromExpectation(flow: Flow, app: FlowApp): boolean {
    if (this.expectations.size === 0 || app.spec !== null) return false;
    const key = endpointKey(flow.addr, 4, flow.serverPort);
    const e = this.expectations.get(key);
    if (e === undefined) return false;
    this.expectations.delete(key);
    const spec = this.byName.get(e.proto);
    if (spec === undefined || this.sink.now(flow) > e.until) return false;
    if (e.clientAddr !== null && endpointKey(e.clientAddr, 0, 0) !== endpointKey(flow.addr, 0, 0)) return false;
    this.counters.expected++;
    this.start(flow, app, spec, e.context);
    return true;
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
          r = spec.probe(dir, data, port);
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
    if (flow.proto === IpProto.UDP) this.counters.failedUdp++;
    app.pending.length = 0;
    app.pendingBytes = 0;
    app.seen[0] = app.seen[1] = new Uint8Array(0);
    this.counters.failed++;
  }

  private start(flow: Flow, app: FlowApp, spec: ProtocolSpec, context?: unknown): void {
    app.spec = spec;
    flow.appProto = spec.name;
    this.counters.detected.set(spec.name, (this.counters.detected.get(spec.name) ?? 0) + 1);
    if (flow.proto === IpProto.UDP) this.counters.detectedUdp.set(spec.name, (this.counters.detectedUdp.get(spec.name) ?? 0) + 1);
    const sink = this.sink;
    const out: AppOutput = {
      record: (eventType, body, dir, txId) => sink.record(flow, dir, eventType, body, txId),
      inspect: (tx, dir) => sink.inspect(flow, dir, tx),
      anomaly: (event, dir) => sink.anomaly(flow, dir, event),
      file: (info) => sink.file(flow, info),
      fileStore: this.fileStore,
      now: () => sink.now(flow),
      expect: (e) => this.expect(flow, e),
      upgrade: (proto, carry) => {
        const next = this.byName.get(proto);
        // Only a protocol this sensor runs, and once per flow step (a session cannot loop the flow).
        if (next !== undefined && next !== spec && app.upgrade === null) app.upgrade = { spec: next, carry: [copyBytes(carry[0]), copyBytes(carry[1])] };
      },
    };
    try {
      app.session = spec.open(flow, out, context);
    } catch {
      this.parserError(flow, app, 0);
      return;
    }
    const pending = app.pending.splice(0);
    app.pendingBytes = 0;
    app.seen[0] = app.seen[1] = new Uint8Array(0);
    for (const p of pending) this.deliver(flow, app, p.dir, p.bytes, 0, p.bytes.length);
  }
}

/** Whether a flow's protocol can carry an application layer Outpost follows. */
export function carriesApps(flow: Flow): boolean {
  return flow.proto === IpProto.TCP || flow.proto === IpProto.UDP;
}
