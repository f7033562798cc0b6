import type { Packet } from '../decode/packet.js';
import { IpProto, Layer } from '../decode/packet.js';
import type { Flow } from '../flow/flow.js';
import { TO_SERVER } from '../flow/flow.js';
import { TcpState } from '../flow/tcp.js';
import { FlowDetect, flowDetect, RawStream } from './flowstate.js';
import { InspectContext, continueFrom } from './inspect.js';
import { AddressIndex, narrowSide } from './address-index.js';
import type { AddressSet } from './addresses.js';
import { MIN_PATTERN, PatternSet } from './prefilter.js';
import type { HeaderCheck, Inspection, Rule } from './rule.js';
import { BUFFERS_BY_NAME, type InspectableTx } from './buffers.js';
import { applyTransforms } from './transforms.js';
import { bufferSide, buildTxGroups, type TxGroup } from './tx-index.js';

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
  /** The application transaction that matched, for rules on application buffers. */
  tx: InspectableTx | null;
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
  /** Application transactions inspected (once per side's completion). */
  transactions: number;
}

/**
 * Rules that can match one packet class, with their prefilters: one over packet payloads (for
 * packet and pkt+stream rules), one over stream chunks (for stream and pkt+stream rules). Pattern
 * ids are the rules' evaluation order, so a rule found by both scans is taken once.
 */
class RuleGroup {
  readonly packetPatterns: PatternSet;
  readonly streamPatterns: PatternSet;
  /** Stream rules with a fast pattern, for the fallback scan of a packet whose payload did not enter the stream. */
  readonly fallbackPatterns: PatternSet;
  /** Rules the prefilter cannot pick (no fast pattern in the payload) and no address index can: checked on every packet. */
  readonly always: Rule[] = [];
  /** Such rules with a narrow address side, found by the packet's addresses. */
  readonly byAddress: AddressIndex;
  /** IP-only rules (first packet of each direction only): broad ones, and the rest by address. */
  readonly ipOnly: Rule[] = [];
  readonly ipOnlyByAddress: AddressIndex;
  /** Whether some rule can only be found by address or as an always-candidate. */
  readonly hasNonPattern: boolean;

  /** Groups often share their pattern and address sets (they differ by a few port rules): `shared` builds each distinct one once. */
  constructor(rules: Rule[], shared: SharedParts) {
    const packet: Rule[] = [];
    const stream: Rule[] = [];
    const fallback: Rule[] = [];
    const indexed: Array<{ rule: Rule; set: AddressSet }> = [];
    const ipOnlyIndexed: Array<{ rule: Rule; set: AddressSet }> = [];
    for (const r of rules) {
      const fp = r.fastPattern;
      // A pattern shorter than the prefilter takes would stop it at nearly every byte: such rules are found another way.
      if (fp === null || fp.buffer !== 'payload' || fp.bytes.length < MIN_PATTERN) {
        const side = narrowSide(r);
        if (r.ipOnly) {
          if (side !== null) ipOnlyIndexed.push({ rule: r, set: side });
          else this.ipOnly.push(r);
        } else if (side !== null) indexed.push({ rule: r, set: side });
        else this.always.push(r);
        continue;
      }
      if (r.payloadMode !== 'stream') packet.push(r);
      if (r.payloadMode !== 'packet') {
        stream.push(r);
        if (r.payloadMode === 'stream') fallback.push(r);
      }
    }
    this.packetPatterns = shared.patterns(packet);
    this.streamPatterns = shared.patterns(stream);
    this.fallbackPatterns = shared.patterns(fallback);
    this.byAddress = shared.index(indexed);
    this.ipOnlyByAddress = shared.index(ipOnlyIndexed);
    this.hasNonPattern = this.always.length > 0 || indexed.length > 0 || this.ipOnly.length > 0 || ipOnlyIndexed.length > 0;
  }
}

/** Merges two lists sorted by order into `into` (cleared first); returns it, or one list when the other is empty. */
function merge(a: readonly Rule[], b: readonly Rule[], into: Rule[]): readonly Rule[] {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  into.length = 0;
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) into.push(a[i]!.order <= b[j]!.order ? a[i++]! : b[j++]!);
  while (i < a.length) into.push(a[i++]!);
  while (j < b.length) into.push(b[j++]!);
  return into;
}

/** Builds each distinct pattern set and address index once, for all the groups that have it. */
class SharedParts {
  private readonly patternSets = new Map<string, PatternSet>();
  private readonly indexes = new Map<string, AddressIndex>();

  patterns(rules: Rule[]): PatternSet {
    const key = rules.map((r) => r.order).join(',');
    let set = this.patternSets.get(key);
    if (set === undefined) {
      set = new PatternSet();
      for (const r of rules) set.add(r.order, r.fastPattern!.bytes);
      set.build();
      this.patternSets.set(key, set);
    }
    return set;
  }

  index(entries: Array<{ rule: Rule; set: AddressSet }>): AddressIndex {
    const key = entries.map((e) => e.rule.order).join(',');
    let idx = this.indexes.get(key);
    if (idx === undefined) {
      idx = new AddressIndex(entries);
      this.indexes.set(key, idx);
    }
    return idx;
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
  readonly counters: EngineCounters = { packets: 0, inspected: 0, matched: 0, alerts: 0, discarded: 0, streamChunks: 0, transactions: 0 };
  /** Rules in evaluation order. */
  readonly rules: Rule[];
  /** Groups: [protoClass][dir] → per-port group (TCP, UDP) or one group. */
  private readonly portGroups: Array<Array<Array<RuleGroup>>> = [];
  private readonly noPortGroups: RuleGroup[][] = [];
  /** Rules for packets without a usable transport header (ip and pkthdr rules). */
  private readonly bareGroup: RuleGroup;
  private readonly shared = new SharedParts();
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
  private readonly merged: Rule[] = [];
  private readonly merged2: Rule[] = [];
  private readonly packetAlertMax: number;
  private readonly chunkSize: number;
  private readonly gate: NonNullable<EngineOptions['gate']>;
  private now = 0;
  /** Transaction rules by application protocol: [on request, on response]. */
  private readonly txGroups: Map<string, [TxGroup, TxGroup]>;
  /** Rules that matched each transaction: a rule alerts once per transaction. */
  private readonly txMatched = new WeakMap<InspectableTx, Set<number>>();
  /** The packet whose alert budget is open (beginPacket): the transactions it completes share it. */
  private budgetFor: Packet | null = null;

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
    this.hasStreamRules = this.rules.some((r) => r.txDirs === 0 && r.inspections.length > 0 && r.payloadMode !== 'packet');
    this.txGroups = buildTxGroups(this.rules);

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
    this.bareGroup = new RuleGroup(this.packetRules.filter((r) => r.ipProto === -1 && r.srcPorts === null && r.dstPorts === null), this.shared);
  }

  get size(): number {
    return this.rules.length;
  }

  /** Rules matched on packets and streams (not on application transactions). */
  private get packetRules(): Rule[] {
    return this.rules.filter((r) => r.txDirs === 0);
  }

  /** Groups rules by (protocol class, direction, server port), sharing identical groups. */
  private buildGroups(): void {
    const interned = new Map<string, RuleGroup>();
    const shared = this.shared;
    const intern = (rules: Rule[]): RuleGroup => {
      rules.sort((a, b) => a.order - b.order);
      const key = rules.map((r) => r.order).join(',');
      let g = interned.get(key);
      if (g === undefined) {
        g = new RuleGroup(rules, shared);
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
      const fits = this.packetRules.filter((r) => r.ipProto === -1 || r.ipProto === cls.proto || (cls.proto === IpProto.ICMP && r.ipProto === IpProto.ICMPV6) || (r.proto === 'icmp' && cls.proto === IpProto.ICMP));
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
    if (this.budgetFor !== p) this.startPacket();
    this.budgetFor = null;
    const group = this.groupFor(p, dir);
    if (group === null) return;

    // Stream chunk ready in this packet's direction?
    let chunk: RawStream | null = null;
    if (flow !== null && flow.tcp !== null && this.hasStreamRules) {
      const raw = (flow.detect as FlowDetect | null)?.raw[dir];
      if (raw !== undefined && raw.len > 0 && (raw.len >= this.chunkSize || flow.tcp.state > TcpState.TIME_WAIT)) chunk = raw;
    }

    let ipOnlyFirst = true;
    if (flow !== null) {
      const fd = flowDetect(flow);
      ipOnlyFirst = (fd.ipOnlyDone & (1 << dir)) === 0;
      fd.ipOnlyDone |= 1 << dir;
    }
    const candidates = this.collect(group, p, chunk, streamAdded, p.addr, ipOnlyFirst);
    for (let i = 0; i < candidates.length; i++) this.evaluate(candidates[i]!, p, flow, dir, streamAdded, chunk);
    if (chunk !== null) {
      this.counters.streamChunks++;
      chunk.clear();
      (flow!.detect as FlowDetect).alertedOnPacket[dir] = null;
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

  /**
   * A packet is about to be processed: the transactions its data completes (before `packet` is
   * called for it) share its alert budget.
   */
  beginPacket(p: Packet): void {
    const time = p.tsSec + p.tsNsec / 1e9;
    if (time > this.now) this.now = time;
    this.startPacket();
    this.budgetFor = p;
  }

  /**
   * The application layer raised an event on the flow ("dns.malformed_data") while packet `p` was
   * processed: app-layer-event rules see it on that packet.
   */
  appEvent(flow: Flow, name: string, p: Packet | null): void {
    if (p === null) return;
    const fd = flowDetect(flow);
    if (fd.appEventsFrame !== p.number || fd.appEvents === null) {
      fd.appEvents = [];
      fd.appEventsFrame = p.number;
    }
    // Bounded: a packet raising more distinct events than this is flagged enough.
    if (fd.appEvents.length < 64) fd.appEvents.push(name.toLowerCase());
  }

  /**
   * A transaction's side is ready (`dir` 0: its request, 1: its response): the rules on its
   * protocol's buffers for that side run, each at most once per transaction. `p` is the packet
   * whose data completed it, travelling in `pDir`; without one (the flow's end) the rule's header
   * is judged from the flow.
   */
  transaction(flow: Flow, dir: number, tx: InspectableTx, p: Packet | null = null, pDir = dir): void {
    const group = this.txGroups.get(flow.appProto)?.[dir];
    if (group === undefined || group.rules.length === 0) return;
    this.counters.transactions++;
    this.gen++;
    if (p === null && this.budgetFor === null) this.startPacket();
    if (p !== null && pDir !== dir) p = null;
    const buffers = new Map<string, readonly Uint8Array[] | null>();
    const fetch = (inspection: Inspection, side: number): readonly Uint8Array[] | null => {
      const key = `${side}\u0000${inspection.key}`;
      let got = buffers.get(key);
      if (got === undefined) {
        got = txBuffers(tx, inspection, side);
        buffers.set(key, got);
      }
      return got;
    };

    // Candidates: the rules whose fast pattern is in one of the scanned buffers, and the rest that always run.
    const hits = this.hits;
    hits.length = 0;
    if (++this.mark === 0xffffffff) {
      this.seen.fill(0);
      this.mark = 1;
    }
    for (const pf of group.prefilters) {
      const bufs = fetch(pf.inspection, pf.side);
      if (bufs === null) continue;
      for (const b of bufs) pf.patterns.scan(b, 0, b.length, this.seen, this.mark, hits);
    }
    const found = this.candidates;
    found.length = 0;
    for (const h of hits) found.push(this.rules[h]!);
    if (found.length > 1) found.sort((a, b) => a.order - b.order);
    const candidates = merge(found, group.always, this.merged);

    let done = this.txMatched.get(tx);
    for (let i = 0; i < candidates.length; i++) {
      const rule = candidates[i]!;
      if (done?.has(rule.order) === true) continue;
      if (!this.txMatch(rule, flow, dir, p, fetch)) continue;
      if (done === undefined) {
        done = new Set();
        this.txMatched.set(tx, done);
      }
      done.add(rule.order);
      this.matched(rule, p, flow, dir, p === null ? 'flow-end' : 'packet', null, tx);
    }
  }

  /** Whether a transaction rule matches: its header (the packet's, or the flow's without one), payload and buffers. */
  private txMatch(rule: Rule, flow: Flow, dir: number, p: Packet | null, fetch: (i: Inspection, side: number) => readonly Uint8Array[] | null): boolean {
    if (rule.transactional) {
      // Addresses name the client and the server; only checks on the flow apply (the packet is one side's).
      if (!this.flowHeaderMatch(rule, flow, TO_SERVER)) return false;
    } else if (p !== null ? !this.headerMatch(rule, p, flow, dir) : !this.flowHeaderMatch(rule, flow, dir)) return false;
    this.counters.inspected++;
    const ctx = this.ctx;
    for (const inspection of rule.inspections) {
      if (inspection.buffer === 'payload') {
        if (p === null || p.payloadLen === 0) return false;
        ctx.set(p.data, p.payloadOff, p.payloadOff + p.payloadLen);
        if (!continueFrom(ctx, 0, inspection.steps, 0)) return false;
        continue;
      }
      const bufs = fetch(inspection, bufferSide(inspection.buffer, dir));
      if (bufs === null) return false;
      let any = false;
      for (const b of bufs) {
        ctx.set(b, 0, b.length);
        if (continueFrom(ctx, 0, inspection.steps, 0)) {
          any = true;
          break;
        }
      }
      if (!any) return false;
    }
    return true;
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
      const candidates = this.collect(group, null, chunk, true, this.pseudoAddr(flow, dir), false);
      const alerted = fd.alertedOnPacket[dir];
      for (const rule of candidates) {
        if (rule.payloadMode === 'packet' || alerted?.has(rule) === true) continue;
        this.evaluatePseudo(rule, flow, dir, chunk);
      }
      fd.alertedOnPacket[dir] = null;
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
   * Candidates, in rule order: rules whose fast pattern the prefilters found in the packet payload
   * or the stream chunk; rules found by the packet's addresses; the always-candidates; and, on the
   * first packet of a direction, the IP-only rules. A stream rule's pattern is looked for in the
   * packet only when the packet's payload did not go into the stream (its only chance to match).
   */
  private collect(group: RuleGroup, p: Packet | null, chunk: RawStream | null, streamAdded: boolean, addr: Uint32Array, ipOnlyFirst: boolean): readonly Rule[] {
    const hits = this.hits;
    hits.length = 0;
    if (++this.mark === 0xffffffff) {
      this.seen.fill(0);
      this.mark = 1;
    }
    const mark = this.mark;
    if (p !== null && p.payloadLen > 0) {
      group.packetPatterns.scan(p.data, p.payloadOff, p.payloadOff + p.payloadLen, this.seen, mark, hits);
      if (!streamAdded) group.fallbackPatterns.scan(p.data, p.payloadOff, p.payloadOff + p.payloadLen, this.seen, mark, hits);
    }
    if (chunk !== null) group.streamPatterns.scan(chunk.buf, 0, chunk.len, this.seen, mark, hits);
    // Found by pattern or address: few, sorted here; then merged with the presorted lists.
    const found = this.candidates;
    found.length = 0;
    for (const h of hits) found.push(this.rules[h]!);
    if (group.hasNonPattern && group.byAddress.size > 0) {
      group.byAddress.lookup(addr, 0, this.seen, mark, found);
      group.byAddress.lookup(addr, 4, this.seen, mark, found);
    }
    if (ipOnlyFirst && group.ipOnlyByAddress.size > 0) {
      group.ipOnlyByAddress.lookup(addr, 0, this.seen, mark, found);
      group.ipOnlyByAddress.lookup(addr, 4, this.seen, mark, found);
    }
    if (found.length > 1) found.sort((a, b) => a.order - b.order);
    let out: readonly Rule[] = found;
    if (group.always.length > 0) out = merge(out, group.always, this.merged);
    if (ipOnlyFirst && group.ipOnly.length > 0) out = merge(out, group.ipOnly, out === this.merged ? this.merged2 : this.merged);
    return out;
  }

  private readonly pseudo = new Uint32Array(8);

  /** A flow-end pseudo packet's addresses: the flow's, oriented by the direction. */
  private pseudoAddr(flow: Flow, dir: number): Uint32Array {
    const a = flow.addr;
    const fwd = dir === TO_SERVER;
    for (let i = 0; i < 4; i++) {
      this.pseudo[i] = a[(fwd ? 0 : 4) + i]!;
      this.pseudo[4 + i] = a[(fwd ? 4 : 0) + i]!;
    }
    return this.pseudo;
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
    const seenOnPacket = chunk !== null && rule.payloadMode === 'both' && flow !== null ? (flow.detect as FlowDetect).alertedOnPacket[dir] : null;
    const source = this.payloadMatch(rule, p, streamAdded, seenOnPacket?.has(rule) === true ? null : chunk);
    if (source === null) return;
    if (source === 'packet' && streamAdded && rule.payloadMode === 'both' && flow !== null) ((flowDetect(flow).alertedOnPacket[dir] ??= new Set())).add(rule);
    this.matched(rule, p, flow, dir, source, source === 'stream' ? chunk : null);
  }

  /**
   * A rule's header judged from the flow alone (no packet: a flow-end pseudo packet, or a
   * transaction completed at the flow's end): established by definition, addresses and ports
   * from the flow oriented by the direction. Only checks on the flow (flow, app-layer-protocol)
   * can be judged so; a rule with others waits for a real packet.
   */
  private flowHeaderMatch(rule: Rule, flow: Flow, dir: number): boolean {
    const fwd = dir === TO_SERVER;
    const a = flow.addr;
    const srcAt = fwd ? 0 : 4;
    const dstAt = fwd ? 4 : 0;
    const sport = fwd ? flow.clientPort : flow.serverPort;
    const dport = fwd ? flow.serverPort : flow.clientPort;
    const ok = (rule.src === null || rule.src(a, srcAt)) && (rule.dst === null || rule.dst(a, dstAt)) &&
      (rule.srcPorts === null || rule.srcPorts(sport)) && (rule.dstPorts === null || rule.dstPorts(dport));
    if (!ok && !(rule.bidirectional && (rule.src === null || rule.src(a, dstAt)) && (rule.dst === null || rule.dst(a, srcAt)) && (rule.srcPorts === null || rule.srcPorts(dport)) && (rule.dstPorts === null || rule.dstPorts(sport)))) return false;
    if (rule.flow.toServer && !fwd) return false;
    if (rule.flow.toClient && fwd) return false;
    if (rule.flow.notEstablished) return false;
    for (const c of rule.headerChecks) {
      if (c.keyword === 'flow') continue;
      if (c.flowTest === undefined || !c.flowTest(flow)) return false;
    }
    return this.flowbitsHold(rule, flow);
  }

  private evaluatePseudo(rule: Rule, flow: Flow, dir: number, chunk: RawStream): void {
    if (!this.flowHeaderMatch(rule, flow, dir)) return;
    const payload = rule.inspections.find((i) => i.buffer === 'payload');
    if (payload === undefined) return;
    this.counters.inspected++;
    if (!this.streamMatch(payload.steps, chunk)) return;
    this.matched(rule, null, flow, dir, 'flow-end', chunk);
  }

  /** A rule matched: its flowbits act at once (later rules in this packet see them); alerts are queued for the packet. */
  private matched(rule: Rule, p: Packet | null, flow: Flow | null, dir: number, source: MatchSource, chunk: RawStream | null, tx: InspectableTx | null = null): void {
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
    this.onAlert({ rule, packet: p, flow, dir, source, chunk: chunk === null ? null : chunk.logged(), tx });
  }

  private alertsThisPacket = 0;
  private passed = false;

  private startPacket(): void {
    this.alertsThisPacket = 0;
    this.passed = false;
  }
}

/** An inspection's bytes from a transaction: each item of the buffer, transformed; null when the transaction has none. */
function txBuffers(tx: InspectableTx, inspection: Inspection, side: number): readonly Uint8Array[] | null {
  const spec = BUFFERS_BY_NAME.get(inspection.buffer);
  let items: readonly Uint8Array[] | null;
  if (spec?.multi === true) items = tx.buffers?.(inspection.buffer, side) ?? null;
  else {
    const one = tx.buffer(inspection.buffer, side);
    items = one === null ? null : [one];
  }
  if (items === null || inspection.transforms.length === 0) return items;
  return items.map((b) => applyTransforms(inspection.transforms, b));
}
