import type { Packet } from '../decode/packet.js';
import { IpProto, Layer } from '../decode/packet.js';
import type { Flow } from '../flow/flow.js';
import { TO_SERVER } from '../flow/flow.js';
import { TcpState } from '../flow/tcp.js';
import { FlowDetect, flowDetect, RawStream } from './flowstate.js';
import { InspectContext, continueFrom } from './inspect.js';
import { PatternSet } from './prefilter.js';
import type { HeaderCheck, Rule } from './rule.js';

/** Where the bytes that matched came from, as Suricata's pkt_src and stream flags tell it. */
export type MatchSource = 'packet' | 'stream' | 'flow-end';

/** One alert: the rule, and what it matched on. Handed over synchronously: the packet is still valid. */
export interface AlertHit {
  rule: Rule;
  packet: Packet | null;
  flow: Flow | null;
  dir: number;
  source: MatchSource;
  /** The stream chunk that matched, for stream matches, holes shown as "[N bytes missing]". */
  chunk: Uint8Array | null;
}

export interface EngineOptions {
  /** Alerts per packet, as Suricata's packet-alert-max (default 15; noalert and suppressed matches take no slot). */
  packetAlertMax?: number;
  /** Reassembled bytes gathered before stream rules inspect them (Suricata's chunk size, 2560, not randomised here). */
  chunkSize?: number;
  /** Decides, per matched rule, whether it alerts (thresholds, suppressions); alert by default. */
  gate?: (rule: Rule, p: Packet | null, flow: Flow | null, time: number) => 'alert' | 'silent' | 'none';
}

export interface EngineCounters {
  packets: number;
  /** Rules whose full inspection ran. */
  inspected: number;
  matched: number;
  alerts: number;
  /** Alerts beyond packet-alert-max. */
  discarded: number;
  streamChunks: number;
}

/**
 * Rules that can match one packet class, with their prefilters: one over packet payloads (for
 * packet and pkt+stream rules), one over stream chunks (for stream and pkt+stream rules). Pattern
 * ids are the rules' evaluation order, so a rule found by both scans is taken once.
 */
class RuleGroup {
  readonly packetPatterns = new PatternSet();
  readonly streamPatterns = new PatternSet();
  /** Stream rules with a fast pattern, for the fallback scan of a packet whose payload did not enter the stream. */
  readonly fallbackPatterns = new PatternSet();
  /** Rules the prefilter cannot pick: no fast pattern in the payload. Always candidates. */
  readonly always: Rule[] = [];

  constructor(rules: Rule[]) {
    for (const r of rules) {
      const fp = r.fastPattern;
      // A one-byte pattern would stop the scan at nearly every byte: such rules are checked in full instead.
      if (fp === null || fp.buffer !== 'payload' || fp.bytes.length < 2) {
        this.always.push(r);
        continue;
      }
      if (r.payloadMode !== 'stream') this.packetPatterns.add(r.order, fp.bytes);
      if (r.payloadMode !== 'packet') {
        this.streamPatterns.add(r.order, fp.bytes);
        if (r.payloadMode === 'stream') this.fallbackPatterns.add(r.order, fp.bytes);
      }
    }
    this.packetPatterns.build();
    this.streamPatterns.build();
    this.fallbackPatterns.build();
  }
}

/** Suricata's evaluation order: action, then flowbit writers before readers, then priority, then sid. */
function orderKey(r: Rule): number[] {
  const action = r.action === 'pass' ? 0 : r.action === 'drop' || r.action === 'sdrop' ? 1 : r.action.startsWith('reject') ? 2 : r.action === 'alert' ? 3 : 10;
  const sets = r.flowbitActions.length > 0;
  const reads = r.flowbitChecks.length > 0;
  const fb = sets && reads ? 3 : sets ? 4 : reads ? 2 : 1;
  return [action, -fb, r.priority, r.sid, r.gid];
}

function compareKeys(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/**
 * The detection engine: given a decoded packet and its flow, finds the rules that match and
 * reports them. Rules are grouped by protocol, direction and server port; within a group a
 * multi-pattern prefilter picks the candidates, which are then evaluated in full, in order.
 * TCP payload rules see packets, reassembled stream chunks, or both, as Suricata decides
 * (compile.ts payloadMode).
 */
export class DetectEngine {
  readonly counters: EngineCounters = { packets: 0, inspected: 0, matched: 0, alerts: 0, discarded: 0, streamChunks: 0 };
  /** Rules in evaluation order. */
  readonly rules: Rule[];
  /** Groups: [protoClass][dir] → per-port group (TCP, UDP) or one group. */
  private readonly portGroups: Array<Array<Array<RuleGroup>>> = [];
  private readonly noPortGroups: RuleGroup[][] = [];
  /** Rules for packets without a usable transport header (ip and pkthdr rules). */
  private readonly bareGroup: RuleGroup;
  private readonly hasStreamRules: boolean;
  private readonly checkIndex = new Map<HeaderCheck, number>();
  private readonly checkGen: Uint32Array;
  private readonly checkVal: Uint8Array;
  private gen = 0;
  private readonly seen: Uint32Array;
  private mark = 0;
  private readonly ctx = new InspectContext();
  private readonly hits: number[] = [];
  private readonly candidates: Rule[] = [];
  private readonly packetAlertMax: number;
  private readonly chunkSize: number;
  private readonly gate: NonNullable<EngineOptions['gate']>;
  private now = 0;

  constructor(
    rules: readonly Rule[],
    private readonly onAlert: (hit: AlertHit) => void,
    options: EngineOptions = {},
  ) {
    this.packetAlertMax = options.packetAlertMax ?? 15;
    this.chunkSize = options.chunkSize ?? 2560;
    this.gate = options.gate ?? (() => 'alert');
    const keyed = rules.map((r) => ({ r, k: orderKey(r) }));
    keyed.sort((a, b) => compareKeys(a.k, b.k));
    this.rules = keyed.map((x) => x.r);
    this.rules.forEach((r, i) => {
      r.order = i;
    });
    this.hasStreamRules = this.rules.some((r) => r.inspections.length > 0 && r.payloadMode !== 'packet');

    // Equal header checks (same key) share one cache slot.
    const byKey = new Map<string, number>();
    for (const r of this.rules) {
      for (const c of r.headerChecks) {
        let i = byKey.get(c.key);
        if (i === undefined) {
          i = byKey.size;
          byKey.set(c.key, i);
        }
        this.checkIndex.set(c, i);
      }
    }
    this.checkGen = new Uint32Array(byKey.size);
    this.checkVal = new Uint8Array(byKey.size);

    const maxPatterns = this.rules.length + 1;
    this.seen = new Uint32Array(maxPatterns);
    this.buildGroups();
    this.bareGroup = new RuleGroup(this.rules.filter((r) => r.ipProto === -1 && r.srcPorts === null && r.dstPorts === null));
  }

  get size(): number {
    return this.rules.length;
  }

  /** Groups rules by (protocol class, direction, server port), sharing identical groups. */
  private buildGroups(): void {
    const interned = new Map<string, RuleGroup>();
    const intern = (rules: Rule[]): RuleGroup => {
      rules.sort((a, b) => a.order - b.order);
      const key = rules.map((r) => r.order).join(',');
      let g = interned.get(key);
      if (g === undefined) {
        g = new RuleGroup(rules);
        interned.set(key, g);
      }
      return g;
    };
    const classes: Array<{ proto: number; ports: boolean }> = [
      { proto: IpProto.TCP, ports: true },
      { proto: IpProto.UDP, ports: true },
      { proto: IpProto.ICMP, ports: false },
      { proto: -2, ports: false }, // any other protocol
    ];
    classes.forEach((cls, ci) => {
      const fits = this.rules.filter((r) => r.ipProto === -1 || r.ipProto === cls.proto || (cls.proto === IpProto.ICMP && r.ipProto === IpProto.ICMPV6) || (r.proto === 'icmp' && cls.proto === IpProto.ICMP));
      this.portGroups[ci] = [];
      this.noPortGroups[ci] = [];
      for (const dir of [0, 1]) {
        const forDir = fits.filter((r) => !(dir === 0 && r.flow.toClient) && !(dir === 1 && r.flow.toServer));
        if (!cls.ports) {
          this.noPortGroups[ci]![dir] = intern(forDir.filter((r) => r.srcPorts === null && r.dstPorts === null));
          continue;
        }
        // The server port of a to-server packet is its destination; of a to-client packet, its source.
        // A <> rule may meet either of its port groups there. null means any port.
        const rangesOf = (r: Rule): Array<[number, number]> | null => {
          const own = dir === 0 ? r.dstPortRanges : r.srcPortRanges;
          if (!r.bidirectional) return own;
          const other = dir === 0 ? r.srcPortRanges : r.dstPortRanges;
          return own === null || other === null ? null : [...own, ...other];
        };
        const anyPort: Rule[] = [];
        const specific: Array<{ r: Rule; ranges: Array<[number, number]> }> = [];
        for (const r of forDir) {
          const ranges = rangesOf(r);
          if (ranges === null) anyPort.push(r);
          else specific.push({ r, ranges });
        }
        // Ports where the set of specific rules changes: the group is constant between two of them.
        const cuts = new Set<number>([0, 65536]);
        for (const { ranges } of specific) for (const [lo, hi] of ranges) cuts.add(lo).add(hi + 1);
        const points = [...cuts].sort((a, b) => a - b);
        const table: RuleGroup[] = new Array<RuleGroup>(65536);
        for (let i = 0; i + 1 < points.length; i++) {
          const from = points[i]!;
          const to = points[i + 1]!;
          const extra = specific.filter(({ ranges }) => ranges.some(([lo, hi]) => from >= lo && from <= hi)).map((x) => x.r);
          const group = intern([...anyPort, ...extra]);
          table.fill(group, from, to);
        }
        this.portGroups[ci]![dir] = table;
      }
    });
  }

  /**
   * Inspects one packet after the flow table has processed it. `streamAdded` says whether its
   * payload went into a TCP stream (then stream-only rules do not look at the packet itself).
   */
  packet(p: Packet, flow: Flow | null, dir: number, streamAdded: boolean): void {
    this.counters.packets++;
    const time = p.tsSec + p.tsNsec / 1e9;
    if (time > this.now) this.now = time;
    this.gen++;
    this.startPacket();
    const group = this.groupFor(p, dir);
    if (group === null) return;

    // Stream chunk ready in this packet's direction?
    let chunk: RawStream | null = null;
    if (flow !== null && flow.tcp !== null && this.hasStreamRules) {
      const raw = (flow.detect as FlowDetect | null)?.raw[dir];
      if (raw !== undefined && raw.len > 0 && (raw.len >= this.chunkSize || flow.tcp.state > TcpState.TIME_WAIT)) chunk = raw;
    }

    const candidates = this.collect(group, p, chunk, streamAdded);
    const ipOnlyFirst = flow === null ? true : (flowDetect(flow).ipOnlyDone & (1 << dir)) === 0;
    for (const rule of candidates) {
      if (this.isIpOnly(rule) && !ipOnlyFirst) continue;
      this.evaluate(rule, p, flow, dir, streamAdded, chunk);
    }
    if (flow !== null) flowDetect(flow).ipOnlyDone |= 1 << dir;
    if (chunk !== null) {
      this.counters.streamChunks++;
      chunk.clear();
    }
  }

  /** Reassembled stream data for stream rules; kept until a chunk is ready. */
  streamData(flow: Flow, dir: number, buf: Uint8Array, off: number, len: number): void {
    if (!this.hasStreamRules) return;
    const raw = flowDetect(flow).raw[dir]!;
    // Bounded: more than 64 KiB pending means the chunk trigger was missed; inspect at the next packet anyway.
    if (!raw.append(buf, off, len, 65536)) raw.clear();
  }

  /** A hole in the stream: data after it starts a new block (not joined to what came before). */
  streamGap(flow: Flow, dir: number, len: number): void {
    if (!this.hasStreamRules) return;
    (flow.detect as FlowDetect | null)?.raw[dir]?.gap(len);
  }

  /** The flow ends: what its streams still hold is inspected once more (Suricata's flow-timeout pseudo packets). */
  flowEnd(flow: Flow): void {
    if (!this.hasStreamRules || flow.tcp === null) return;
    const fd = flow.detect as FlowDetect | null;
    if (fd === null) return;
    for (const dir of [TO_SERVER, 1]) {
      const raw = fd.raw[dir]!;
      if (raw.len === 0) continue;
      this.gen++;
      this.startPacket();
      const chunk = raw;
      const cls = 0;
      const group = this.portGroups[cls]![dir]![flow.serverPort]!;
      const candidates = this.collect(group, null, chunk, true);
      for (const rule of candidates) {
        if (rule.payloadMode === 'packet') continue;
        this.evaluatePseudo(rule, flow, dir, chunk);
      }
      this.counters.streamChunks++;
      raw.clear();
    }
  }

  private groupFor(p: Packet, dir: number): RuleGroup | null {
    if (p.layer !== Layer.TRANSPORT) return p.ipVersion !== 0 || p.eventCount > 0 ? this.bareGroup : null;
    const proto = p.proto;
    if (proto === IpProto.TCP) return this.portGroups[0]![dir]![dir === TO_SERVER ? p.dstPort : p.srcPort]!;
    if (proto === IpProto.UDP) return this.portGroups[1]![dir]![dir === TO_SERVER ? p.dstPort : p.srcPort]!;
    if (proto === IpProto.ICMP || proto === IpProto.ICMPV6) return this.noPortGroups[2]![dir]!;
    return this.noPortGroups[3]![dir]!;
  }

  /**
   * Candidates: rules whose fast pattern the prefilters found in the packet payload or the stream
   * chunk, plus the always-candidates, in rule order. A stream rule's pattern is looked for in the
   * packet only when the packet's payload did not go into the stream (its only chance to match).
   */
  private collect(group: RuleGroup, p: Packet | null, chunk: RawStream | null, streamAdded: boolean): readonly Rule[] {
    const hits = this.hits;
    hits.length = 0;
    if (++this.mark === 0xffffffff) {
      this.seen.fill(0);
      this.mark = 1;
    }
    if (p !== null && p.payloadLen > 0) {
      group.packetPatterns.scan(p.data, p.payloadOff, p.payloadOff + p.payloadLen, this.seen, this.mark, hits);
      if (!streamAdded) group.fallbackPatterns.scan(p.data, p.payloadOff, p.payloadOff + p.payloadLen, this.seen, this.mark, hits);
    }
    if (chunk !== null) group.streamPatterns.scan(chunk.buf, 0, chunk.len, this.seen, this.mark, hits);
    if (hits.length === 0) return group.always;
    const out = this.candidates;
    out.length = 0;
    for (const h of hits) out.push(this.rules[h]!);
    for (const r of group.always) out.push(r);
    out.sort((a, b) => a.order - b.order);
    return out;
  }

  private isIpOnly(rule: Rule): boolean {
    return rule.inspections.length === 0 && rule.headerChecks.length === 0 && rule.flowbitChecks.length === 0 && rule.flowbitActions.length === 0 && rule.srcPorts === null && rule.dstPorts === null;
  }

  private headerMatch(rule: Rule, p: Packet, flow: Flow | null, dir: number): boolean {
    if (rule.ipProto >= 0 && p.proto !== rule.ipProto && !(rule.proto === 'icmp' && (p.proto === IpProto.ICMP || p.proto === IpProto.ICMPV6))) return false;
    if (rule.proto !== 'pkthdr' && p.ipVersion === 0) return false;
    const hasPorts = p.layer === Layer.TRANSPORT && (p.proto === IpProto.TCP || p.proto === IpProto.UDP);
    if ((rule.srcPorts !== null || rule.dstPorts !== null) && !hasPorts) return false;
    const a = p.addr;
    const fwd =
      (rule.src === null || rule.src(a, 0)) && (rule.dst === null || rule.dst(a, 4)) &&
      (rule.srcPorts === null || rule.srcPorts(p.srcPort)) && (rule.dstPorts === null || rule.dstPorts(p.dstPort));
    if (!fwd) {
      if (!rule.bidirectional) return false;
      const rev = (rule.src === null || rule.src(a, 4)) && (rule.dst === null || rule.dst(a, 0)) &&
        (rule.srcPorts === null || rule.srcPorts(p.dstPort)) && (rule.dstPorts === null || rule.dstPorts(p.srcPort));
      if (!rev) return false;
    }
    const checks = rule.headerChecks;
    for (let i = 0; i < checks.length; i++) {
      const c = checks[i]!;
      const slot = this.checkIndex.get(c)!;
      let v: number;
      if (this.checkGen[slot] === this.gen) v = this.checkVal[slot]!;
      else {
        v = c.test(p, flow, dir) ? 1 : 0;
        this.checkGen[slot] = this.gen;
        this.checkVal[slot] = v;
      }
      if (v === 0) return false;
    }
    return this.flowbitsHold(rule, flow);
  }

  private flowbitsHold(rule: Rule, flow: Flow | null): boolean {
    if (rule.flowbitChecks.length === 0) return true;
    if (flow === null) return false;
    const bits = flowDetect(flow).bits;
    for (const c of rule.flowbitChecks) {
      const has = (n: string): boolean => bits !== null && bits.has(n);
      const set = c.any ? c.names.some(has) : c.names.every(has);
      if (c.op === 'isset' ? !set : c.any ? c.names.every(has) : set) return false;
    }
    return true;
  }

  /** Runs the steps over each block of a stream chunk; true when one block matches. */
  private streamMatch(steps: readonly import('./inspect.js').PayloadStep[], chunk: RawStream): boolean {
    const ctx = this.ctx;
    for (const [s, e] of chunk.breaks.length === 0 ? [[0, chunk.len] as [number, number]] : chunk.blocks()) {
      ctx.set(chunk.buf, s, e);
      if (continueFrom(ctx, 0, steps, 0)) return true;
    }
    return false;
  }

  private payloadMatch(rule: Rule, p: Packet | null, streamAdded: boolean, chunk: RawStream | null): MatchSource | null {
    const payload = rule.inspections.find((i) => i.buffer === 'payload');
    if (payload === undefined) return 'packet';
    this.counters.inspected++;
    const mode = rule.payloadMode;
    const ctx = this.ctx;
    if (mode !== 'packet' && chunk !== null && this.streamMatch(payload.steps, chunk)) return 'stream';
    if (p === null) return null;
    if (mode === 'stream' && streamAdded) return null;
    if (mode === 'stream' && rule.flow.onlyStream) return null;
    ctx.set(p.data, p.payloadOff, p.payloadOff + p.payloadLen);
    return continueFrom(ctx, 0, payload.steps, 0) ? 'packet' : null;
  }

  private evaluate(rule: Rule, p: Packet, flow: Flow | null, dir: number, streamAdded: boolean, chunk: RawStream | null): void {
    if (!this.headerMatch(rule, p, flow, dir)) return;
    const source = this.payloadMatch(rule, p, streamAdded, chunk);
    if (source === null) return;
    this.matched(rule, p, flow, dir, source, source === 'stream' ? chunk : null);
  }

  private evaluatePseudo(rule: Rule, flow: Flow, dir: number, chunk: RawStream): void {
    // A flow-end pseudo packet: established by definition; headers from the flow, oriented by direction.
    const fwd = dir === TO_SERVER;
    const a = flow.addr;
    const srcAt = fwd ? 0 : 4;
    const dstAt = fwd ? 4 : 0;
    const sport = fwd ? flow.clientPort : flow.serverPort;
    const dport = fwd ? flow.serverPort : flow.clientPort;
    const ok = (rule.src === null || rule.src(a, srcAt)) && (rule.dst === null || rule.dst(a, dstAt)) &&
      (rule.srcPorts === null || rule.srcPorts(sport)) && (rule.dstPorts === null || rule.dstPorts(dport));
    if (!ok && !(rule.bidirectional && (rule.src === null || rule.src(a, dstAt)) && (rule.dst === null || rule.dst(a, srcAt)) && (rule.srcPorts === null || rule.srcPorts(dport)) && (rule.dstPorts === null || rule.dstPorts(sport)))) return;
    if (rule.flow.toServer && !fwd) return;
    if (rule.flow.toClient && fwd) return;
    if (rule.flow.notEstablished) return;
    // Only the flow keyword's checks can be judged without a packet; a rule with others waits for a real packet.
    if (rule.headerChecks.some((c) => c.keyword !== 'flow')) return;
    if (!this.flowbitsHold(rule, flow)) return;
    const payload = rule.inspections.find((i) => i.buffer === 'payload');
    if (payload === undefined) return;
    this.counters.inspected++;
    if (!this.streamMatch(payload.steps, chunk)) return;
    this.matched(rule, null, flow, dir, 'flow-end', chunk);
  }

  /** A rule matched: its flowbits act at once (later rules in this packet see them); alerts are queued for the packet. */
  private matched(rule: Rule, p: Packet | null, flow: Flow | null, dir: number, source: MatchSource, chunk: RawStream | null): void {
    this.counters.matched++;
    if (flow !== null && rule.flowbitActions.length > 0) {
      const fd = flowDetect(flow);
      const bits = (fd.bits ??= new Set());
      for (const a of rule.flowbitActions) {
        for (const n of a.names) {
          if (a.op === 'set') bits.add(n);
          else if (a.op === 'unset') bits.delete(n);
          else if (bits.has(n)) bits.delete(n);
          else bits.add(n);
        }
      }
    }
    if (rule.action === 'pass') {
      // A matching pass rule drops every alert after it in this packet (pass rules come first in the order).
      this.passed = true;
      return;
    }
    if (rule.noalert || this.passed) return;
    const verdict = this.gate(rule, p, flow, this.now);
    if (verdict !== 'alert') return;
    if (this.alertsThisPacket >= this.packetAlertMax) {
      this.counters.discarded++;
      return;
    }
    this.alertsThisPacket++;
    this.counters.alerts++;
    if (flow !== null) flow.alerted = true;
    this.onAlert({ rule, packet: p, flow, dir, source, chunk: chunk === null ? null : chunk.logged() });
  }

  private alertsThisPacket = 0;
  private passed = false;

  private startPacket(): void {
    this.alertsThisPacket = 0;
    this.passed = false;
  }
}
