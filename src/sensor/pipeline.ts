import type { Frame } from '../capture/frame.js';
import { Decoder } from '../decode/decoder.js';
import type { DefragOptions } from '../decode/defrag.js';
import { DECODE_EVENT_NAMES } from '../decode/events.js';
import { IpProto, Layer, Packet } from '../decode/packet.js';
import { formatTimestamp } from '../events/time.js';
import type { AnomalyEvent, EveCommon, EveEvent } from '../events/types.js';
import { STREAM_EVENTS, StreamEvent } from '../flow/events.js';
import { TO_SERVER, type EndReasonValue, type Flow } from '../flow/flow.js';
import { eveProto, flowEvent, flowHeader } from '../flow/record.js';
import type { StreamSink } from '../flow/reassembly.js';
import { FlowTable, type FlowTableOptions } from '../flow/table.js';
import { wordsToString } from '../wire/address.js';
import { Insert } from '../flow/reassembly.js';
import { alertEvent, fastLogLine, type AlertOptions } from '../rules/alert.js';
import { DetectEngine, type EngineOptions } from '../rules/engine.js';
import { flowVarsRecord } from '../rules/flowstate.js';
import type { Rule } from '../rules/rule.js';
import type { ThresholdConfig } from '../rules/config-files.js';
import { thresholdGate, ThresholdTracker } from '../rules/thresholds.js';
import type { FileInfo, ProtocolSpec } from '../protocols/app.js';
import { AppLayer } from '../protocols/layer.js';
import type { AddressMatcher } from '../rules/addresses.js';
import { createDetectors, type DetectorOptions } from '../detect/index.js';
import { createCorrelator, type CorrelateOptions } from '../correlate/index.js';
import { BehaviourStage } from './behaviour.js';

export interface PipelineOptions {
  flow?: FlowTableOptions;
  defrag?: DefragOptions;
  /** Which records to emit; all by default. */
  emit?: { flow?: boolean; anomaly?: boolean };
  /** Interface name for in_iface (live capture). */
  iface?: string;
  /** The application layer: the protocols to detect and parse (none when absent), and whether files' bytes are kept. */
  app?: {
    protocols: readonly ProtocolSpec[];
    fileStore?: { enabled: boolean; maxBytes: number };
    /** Where a stored file's bytes go (with file storing on): the CLI writes them to the file-store directory. */
    storeFile?: (info: FileInfo) => void;
  };
  /** Signature detection: the rules, and where fast.log lines go. */
  detect?: {
    rules: readonly Rule[];
    engine?: EngineOptions;
    alert: Omit<AlertOptions, 'iface'>;
    fastLog?: (line: string) => void;
    /** threshold.config: thresholds, event filters and suppressions beyond the rules' own. */
    thresholds?: ThresholdConfig;
  };
  /**
   * Behavioural detection and infection verdicts: HOME_NET, each detector's settings (by name,
   * over its defaults; `enabled: false` turns one off), and the correlator's (false: none).
   */
  behaviour?: {
    home: AddressMatcher;
    detectors?: Readonly<Record<string, Partial<DetectorOptions>>>;
    correlate?: Partial<CorrelateOptions> | false;
  };
}

/** Anomaly records emitted, by event name ("decoder.ipv4.trunc_pkt", "stream.reassembly_seq_gap"). */
export type AnomalyCounts = Map<string, number>;

/**
 * The sensor's packet path, as far as it goes today: frames are decoded, joined to flows and
 * reassembled, and flow and anomaly records come out the other end. Each stage is its own
 * room; this only wires them in order.
 */
export class Pipeline {
  readonly decoder: Decoder;
  readonly flows: FlowTable;
  /** The detection engine, when rules were given. */
  readonly detect: DetectEngine | null;
  /** Thresholds and suppressions, when rules were given. */
  readonly thresholds: ThresholdTracker | null;
  readonly anomalies: AnomalyCounts = new Map();
  /** The application layer, when protocols were given. */
  readonly app: AppLayer | null;
  private readonly packet = new Packet();
  private readonly storeFile: ((info: FileInfo) => void) | undefined;
  /** Inside frame(): the packet is valid. */
  private inFrame = false;
  /** Inside a flow's end: what completes now has no packet. */
  private ending = false;
  private readonly emitFlows: boolean;
  private readonly emitAnomalies: boolean;
  private readonly iface: string | undefined;
  /** Bytes of stream data delivered in order (both directions, all flows). */
  streamBytes = 0;

  /** Behavioural detectors and the correlator, when asked for. */
  readonly behaviour: BehaviourStage | null;
  /** Where records go: the behavioural stage when there is one, else the caller's sink. */
  private readonly out: (event: EveEvent) => void;

  constructor(sink: (event: EveEvent) => void, options: PipelineOptions = {}) {
    const b = options.behaviour;
    if (b !== undefined) {
      const stage = new BehaviourStage(sink);
      const ctx = { emit: stage.event, home: b.home };
      stage.add(createDetectors(ctx, b.detectors));
      if (b.correlate !== false) stage.add([createCorrelator(ctx, b.correlate ?? {})]);
      this.behaviour = stage;
      this.out = stage.event;
    } else {
      this.behaviour = null;
      this.out = sink;
    }
    this.decoder = new Decoder(options.defrag);
    this.emitFlows = options.emit?.flow ?? true;
    this.emitAnomalies = options.emit?.anomaly ?? true;
    this.iface = options.iface;
    const d = options.detect;
    const alertOptions: AlertOptions | null = d === undefined ? null : { ...d.alert, ...(options.iface !== undefined ? { iface: options.iface } : {}) };
    this.thresholds = d === undefined ? null : new ThresholdTracker(d.thresholds ?? null);
    const gate = this.thresholds === null ? undefined : thresholdGate(this.thresholds);
    this.detect =
      d === undefined
        ? null
        : new DetectEngine(
            d.rules,
            (hit) => {
              const ev = alertEvent(hit, alertOptions!);
              if (hit.flow !== null) addFlowVars(hit.flow, ev);
              this.out(ev);
              d.fastLog?.(fastLogLine(ev));
            },
            { ...d.engine, ...(gate !== undefined ? { gate } : {}) },
          );
    const engine = this.detect;
    this.storeFile = options.app?.storeFile;
    this.app =
      options.app === undefined || options.app.protocols.length === 0
        ? null
        : new AppLayer(
            options.app.protocols,
            {
              record: (flow, dir, eventType, body, txId) => this.appRecord(flow, dir, eventType, body, txId),
              inspect: (flow, dir, tx) => {
                const live = this.inFrame && !this.ending;
                engine?.transaction(flow, dir, tx, live ? this.packet : null, this.flows.dir);
              },
              anomaly: (flow, dir, event) => this.appAnomaly(flow, dir, event),
              file: (flow, info) => this.fileRecord(flow, info),
              now: (flow) => (this.inFrame && !this.ending ? this.packet.tsSec + this.packet.tsNsec / 1e9 : flow.lastSec + flow.lastNsec / 1e9),
            },
            options.app.fileStore,
          );
    const app = this.app;
    const stream: StreamSink<Flow> = {
      data: (flow, dir, buf, off, len) => {
        this.streamBytes += len;
        app?.streamData(flow, dir, buf, off, len);
        engine?.streamData(flow, dir, buf, off, len);
      },
      gap: (flow, dir, len) => {
        app?.streamGap(flow, dir, len);
        engine?.streamGap(flow, dir, len);
      },
      end: (flow, dir) => app?.streamEnd(flow, dir),
    };
    this.flows = new FlowTable(
      {
        flowEnd: (flow, reason) => this.flowEnd(flow, reason),
        streamEvent: (flow, dir, event, gapBytes) => this.streamEvent(flow, dir, event, gapBytes),
        stream,
      },
      options.flow,
    );
  }

  /** Handles one captured frame. Bound, so it can be handed to a capture reader as is. */
  readonly frame = (frame: Frame): void => {
    const p = this.packet;
    this.decoder.decode(frame, p);
    this.inFrame = true;
    this.detect?.beginPacket(p);
    const flow = this.flows.process(p);
    if (flow !== null && this.app !== null && p.proto === IpProto.UDP && p.payloadLen > 0) this.app.datagram(flow, this.flows.dir, p.data, p.payloadOff, p.payloadLen);
    this.inFrame = false;
    if (p.eventCount > 0) this.decodeEvents(p, flow);
    if (this.detect !== null && !p.fragmentHeld) {
      const ins = this.flows.lastInsert;
      const added = ins === Insert.IN_ORDER || ins === Insert.BUFFERED || ins === Insert.OVERLAP || ins === Insert.OVERLAP_DIFFERENT;
      this.detect.packet(p, flow, flow === null ? 0 : this.flows.dir, added);
    }
    if (this.behaviour !== null && !p.fragmentHeld) this.behaviour.packet(p, flow, flow === null ? 0 : this.flows.dir);
  };

  /** Ends every flow: the input is over. */
  finish(): void {
    this.flows.flush();
    this.behaviour?.finish();
  }

  private flowEnd(flow: Flow, reason: EndReasonValue): void {
    const wasEnding = this.ending;
    this.ending = true;
    this.app?.flowEnd(flow);
    this.ending = wasEnding;
    this.detect?.flowEnd(flow);
    this.thresholds?.forgetFlow(flow.id);
    if (!this.emitFlows) return;
    const ev = flowEvent(flow, reason);
    if (this.iface !== undefined) ev.in_iface = this.iface;
    addFlowVars(flow, ev);
    this.out(ev);
  }

  /** A protocol's EVE record (http, dns, tls, ...): the flow's endpoints oriented by `dir`, then the protocol's object. */
  private appRecord(flow: Flow, dir: number, eventType: string, body: object, txId: number | undefined): void {
    const live = this.inFrame && !this.ending;
    const ev = flowHeader(flow, eventType, live ? this.packet.tsSec : flow.lastSec, live ? this.packet.tsNsec : flow.lastNsec) as EveCommon & Record<string, unknown>;
    if (dir !== TO_SERVER) swapEndpoints(ev);
    if (this.iface !== undefined) ev.in_iface = this.iface;
    if (live) ev.pcap_cnt = this.packet.number;
    if (txId !== undefined) ev.tx_id = txId;
    addFlowVars(flow, ev);
    ev[eventType] = body;
    this.out(ev as unknown as EveEvent);
  }

  /** Something malformed or evasive in a protocol: an applayer anomaly record and a counter. */
  private appAnomaly(flow: Flow, dir: number, event: string): void {
    const name = `applayer.${flow.appProto}.${event}`;
    this.anomalies.set(name, (this.anomalies.get(name) ?? 0) + 1);
    this.detect?.appEvent(flow, `${flow.appProto}.${event}`, this.inFrame && !this.ending ? this.packet : null);
    if (!this.emitAnomalies) return;
    const live = this.inFrame && !this.ending;
    const ev = flowHeader(flow, 'anomaly', live ? this.packet.tsSec : flow.lastSec, live ? this.packet.tsNsec : flow.lastNsec) as AnomalyEvent;
    if (dir !== TO_SERVER) swapEndpoints(ev);
    addFlowVars(flow, ev);
    ev.anomaly = { app_proto: flow.appProto, type: 'applayer', event, layer: 'proto_parser' };
    this.out(ev);
  }

  /** A transferred file: Suricata's fileinfo record (and its bytes to the store, when kept). */
  private fileRecord(flow: Flow, info: FileInfo): void {
    if (info.content !== undefined) this.storeFile?.(info);
    const live = this.inFrame && !this.ending;
    const ev = flowHeader(flow, 'fileinfo', live ? this.packet.tsSec : flow.lastSec, live ? this.packet.tsNsec : flow.lastNsec) as EveCommon & Record<string, unknown>;
    // Suricata writes a file's record from its sender: the server for downloads.
    if (info.direction === 'to_client') swapEndpoints(ev);
    ev.tx_id = info.tx_id;
    if (info.metadata !== undefined) Object.assign(ev, info.metadata);
    addFlowVars(flow, ev);
    ev.fileinfo = {
      ...(info.filename !== null ? { filename: info.filename } : {}),
      magic: info.magic,
      gaps: info.gaps,
      state: info.state,
      sha256: info.sha256,
      stored: info.stored,
      size: info.size,
      tx_id: info.tx_id,
    };
    this.out(ev as unknown as EveEvent);
  }

  private streamEvent(flow: Flow, dir: number, event: number, gapBytes: number): void {
    const spec = STREAM_EVENTS[event]!;
    if (!spec.anomaly) return;
    const name = `stream.${spec.name}`;
    this.anomalies.set(name, (this.anomalies.get(name) ?? 0) + 1);
    if (!this.emitAnomalies) return;
    const ev = flowHeader(flow, 'anomaly', flow.lastSec, flow.lastNsec) as AnomalyEvent;
    if (dir !== TO_SERVER) swapEndpoints(ev);
    ev.anomaly = { type: 'stream', event: name, direction: dir === TO_SERVER ? 'to_server' : 'to_client' };
    if (event === StreamEvent.reassembly_seq_gap) ev.anomaly.gap_bytes = gapBytes;
    this.out(ev);
  }

  private decodeEvents(p: Packet, flow: Flow | null): void {
    for (let i = 0, n = Math.min(p.eventCount, p.events.length); i < n; i++) {
      const name = `decoder.${DECODE_EVENT_NAMES[p.events[i]!]!}`;
      this.anomalies.set(name, (this.anomalies.get(name) ?? 0) + 1);
      if (!this.emitAnomalies) continue;
      const ev: EveCommon = { timestamp: formatTimestamp(p.tsSec, p.tsNsec), event_type: 'anomaly' };
      if (flow !== null) ev.flow_id = flow.id;
      if (this.iface !== undefined) ev.in_iface = this.iface;
      ev.pcap_cnt = p.number;
      if (p.vlanCount > 0) ev.vlan = p.vlanCount > 1 ? [p.vlan0, p.vlan1] : [p.vlan0];
      if (p.ipVersion !== 0) {
        ev.src_ip = wordsToString(p.addr, 0, p.ipVersion === 4);
        if (p.layer === Layer.TRANSPORT && (p.proto === 6 || p.proto === 17)) ev.src_port = p.srcPort;
        ev.dest_ip = wordsToString(p.addr, 4, p.ipVersion === 4);
        if (p.layer === Layer.TRANSPORT && (p.proto === 6 || p.proto === 17)) ev.dest_port = p.dstPort;
        ev.ip_v = p.ipVersion;
        if (p.proto >= 0) ev.proto = eveProto(p.proto);
      }
      if (name === 'decoder.ethernet.unknown_ethertype') (ev as AnomalyEvent).ether = { ether_type: p.etherType };
      (ev as AnomalyEvent).anomaly = { type: 'decode', event: name };
      this.out(ev as AnomalyEvent);
    }
  }
}

/** Makes the record read from the packet's sender, for events on the server-to-client direction. */
function swapEndpoints(ev: EveCommon): void {
  const { src_ip, src_port, dest_ip, dest_port } = ev;
  if (dest_ip !== undefined) ev.src_ip = dest_ip;
  if (dest_port !== undefined) ev.src_port = dest_port;
  if (src_ip !== undefined) ev.dest_ip = src_ip;
  if (src_port !== undefined) ev.dest_port = src_port;
}

/** Writes the flow's flowbits (and traffic-id names) on a record of the flow, as Suricata's EVE metadata. */
function addFlowVars(flow: Flow, ev: EveCommon): void {
  const vars = flowVarsRecord(flow);
  if (vars === null) return;
  if (vars.metadata !== undefined) ev.metadata = vars.metadata;
  if (vars.traffic !== undefined) ev.traffic = vars.traffic;
}
