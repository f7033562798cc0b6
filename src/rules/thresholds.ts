import type { Packet } from '../decode/packet.js';
import type { Flow } from '../flow/flow.js';
import type { AddressMatcher } from './addresses.js';
import type { RateAction, RateFilterDirective, SuppressDirective, ThresholdConfig, ThresholdDirective } from './config-files.js';
import type { DetectionFilter, Threshold } from './rule.js';

/**
 * Whether a rule that matched a packet alerts: its threshold or detection_filter, or what
 * threshold.config gives it instead, and the suppressions. Suricata 7's semantics
 * (src/detect-engine-threshold.c ThresholdSetup / ThresholdCheckUpdate, src/detect-engine-alert.c
 * PacketAlertHandle, src/util-threshold-config.c) plus Suricata 8's by_flow, backoff and
 * unique_on. Decisions:
 *
 * - An entry per (rule, tracked key) holds a count and the time its window started. The window
 *   test is inclusive (`time <= start + seconds`) and never slides: the first match after it
 *   closes starts a new window with count 1.
 * - Verdicts are Suricata's return values: 'alert' (1), 'silent' (2: no alert, but the rule's
 *   actions such as flowbits and, inline, drop still apply) and 'none' (0: no alert).
 * - Suppressions come first, then the (at most one) threshold entry.
 */

export type Verdict = 'alert' | 'silent' | 'none';

/** What the tracker reads of a rule (a compiled Rule has all of it). */
export interface ThresholdedRule {
  readonly gid: number;
  readonly sid: number;
  readonly threshold: Threshold | null;
  readonly detectionFilter: DetectionFilter | null;
}

/**
 * At most this many tracked entries (per source, destination, pair or flow; per-rule entries are
 * bounded by the rule count and not counted). An entry costs about 150 bytes (its object and
 * Map slot), so this is about 15 MB, Suricata's default detect.thresholds.memcap (16 MB) for the
 * same table; a flood of spoofed sources fills it and then evicts instead of growing.
 */
export const DEFAULT_MAX_ENTRIES = 100_000;

/**
 * At most this many ports held for detection_filter unique_on (a Set slot is about 20 bytes:
 * 20 MB). A port set never holds more than count+1 ports: past count the answer is known.
 */
export const DEFAULT_MAX_PORTS = 1_000_000;

const LIMIT = 0;
const THRESHOLD = 1;
const BOTH = 2;
const BACKOFF = 3;
const DETECTION = 4;
const RATE = 5;
const NO_LIMIT = 6;

const BY_SRC = 0;
const BY_DST = 1;
const BY_BOTH = 2;
const BY_RULE = 3;
const BY_FLOW = 4;

const TRACK_CODES: Record<string, number> = { by_src: BY_SRC, by_dst: BY_DST, by_both: BY_BOTH, by_rule: BY_RULE, by_flow: BY_FLOW };
const TYPE_CODES: Record<string, number> = { limit: LIMIT, threshold: THRESHOLD, both: BOTH, backoff: BACKOFF };

/** Suricata's counters are uint32: backoff stops alerting when the count would pass it. */
const MAX_U32 = 0xffffffff;

/** The two 32-bit halves of a numeric key: plan id times this, plus an IPv4 address. Exact below 2^53, so up to 2^21 plans. */
const KEY_SPLIT = 0x1_0000_0000;
const MAX_NUMERIC_PLANS = 2 ** 21;

class Suppression {
  constructor(
    /** 0 by_src, 1 by_dst, 2 by_either. */
    readonly track: number,
    /** null: every address. */
    readonly matcher: AddressMatcher | null,
  ) {}

  matches(addr: Uint32Array): boolean {
    if (this.matcher === null) return true;
    if (this.track === 0) return this.matcher(addr, 0);
    if (this.track === 1) return this.matcher(addr, 4);
    return this.matcher(addr, 0) || this.matcher(addr, 4);
  }
}

/** What applies to one rule, resolved once: a flat record so `check` reads numbers, not options. */
class Plan {
  /** The by_rule entry (one per rule, like Suricata's th_entry[s->num]). */
  ruleEntry: Entry | null = null;

  constructor(
    readonly id: number,
    /** LIMIT ... NO_LIMIT. */
    readonly mode: number,
    readonly track: number,
    readonly count: number,
    readonly seconds: number,
    readonly multiplier: number,
    /** 0 none, 1 src_port, 2 dst_port. */
    readonly uniqueOn: number,
    readonly newAction: RateAction | null,
    readonly timeout: number,
    /** suppress without track: the rule never alerts. */
    readonly noAlert: boolean,
    readonly suppressions: readonly Suppression[],
  ) {}
}

class Entry {
  count = 1;
  /** backoff: the count that alerts next. */
  next = 0;
  /** rate_filter: whole second the new action began, or -1. */
  actionSince = -1;
  /** unique_on: the distinct ports seen this window, until more than count were. */
  ports: Set<number> | null = null;

  constructor(
    readonly plan: Plan,
    /** Start of the current window (packet time, seconds). */
    public start: number,
  ) {}
}

export interface ThresholdTrackerOptions {
  maxEntries?: number;
  maxPorts?: number;
}

/**
 * Per-rule, per-key alert counting. Make one per detection engine (one thread), give it the
 * parsed threshold.config, and call `check` for each rule that matched an IP packet.
 */
export class ThresholdTracker {
  /** The new action a rate_filter set for the last `check`, or null (only an inline sensor acts on it). */
  newAction: RateAction | null = null;
  /** Unexpired entries dropped to stay under the caps (each may have let one extra alert through). */
  evictions = 0;
  /** Expired entries removed by sweeps. */
  expired = 0;

  readonly maxEntries: number;
  readonly maxPorts: number;

  private readonly plans = new Map<ThresholdedRule, Plan | null>();
  private nextPlanId = 0;
  /** by_src, by_dst (number keys for IPv4) and by_both, IPv6 (string keys); Map order is creation order, oldest first. */
  private readonly entries = new Map<number | string, Entry>();
  /** by_flow entries by flow id: a few per flow at most, dropped with `forgetFlow`. */
  private readonly flows = new Map<number, Entry[]>();
  private flowEntries = 0;
  private ports = 0;

  private readonly config: ConfigIndex;

  constructor(config: ThresholdConfig | null = null, options: ThresholdTrackerOptions = {}) {
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.maxPorts = options.maxPorts ?? DEFAULT_MAX_PORTS;
    this.config = new ConfigIndex(config);
  }

  /** Tracked entries, by_rule ones excluded (what the cap bounds). */
  get size(): number {
    return this.entries.size + this.flowEntries;
  }

  /** Ports held for unique_on. */
  get heldPorts(): number {
    return this.ports;
  }

  /**
   * The verdict for `rule`, which matched a packet at `time` (seconds). `addr` holds the
   * packet's source address words at 0..3 and destination at 4..7, IPv4 as ::ffff:a.b.c.d (the
   * Packet.addr layout). `flowId` is 0 when the packet has no flow; the ports are 0 without
   * ports. Call it only for IPv4 and IPv6 packets: Suricata never thresholds others (they alert).
   */
  check(rule: ThresholdedRule, time: number, addr: Uint32Array, flowId: number, srcPort: number, dstPort: number): Verdict {
    this.newAction = null;
    let plan = this.plans.get(rule);
    if (plan === undefined) {
      plan = this.makePlan(rule);
      this.plans.set(rule, plan);
    }
    if (plan === null) return 'alert';
    if (plan.noAlert) return 'silent';
    for (const s of plan.suppressions) if (s.matches(addr)) return 'silent';
    const mode = plan.mode;
    if (mode === NO_LIMIT) return 'alert';
    // Suricata's fast path: a threshold of 1 alerts on every match and keeps no entry.
    if (mode === THRESHOLD && plan.count === 1) return 'alert';
    const port = plan.uniqueOn === 1 ? srcPort : dstPort;
    // Port sets grow on existing entries too: make room first, so the cap is passed by one port at most.
    if (plan.uniqueOn !== 0 && this.ports >= this.maxPorts) this.makeRoom(time);

    let entry: Entry | undefined;
    switch (plan.track) {
      case BY_RULE: {
        const e = plan.ruleEntry;
        if (e !== null) return this.update(plan, e, time, port);
        plan.ruleEntry = new Entry(plan, time);
        return this.setup(plan, plan.ruleEntry, port);
      }
      case BY_FLOW: {
        // Suricata: no flow, no entry and no alert.
        if (flowId <= 0) return 'none';
        const list = this.flows.get(flowId);
        if (list !== undefined) {
          for (const e of list) if (e.plan === plan) return this.update(plan, e, time, port);
        }
        if (this.size >= this.maxEntries || this.ports >= this.maxPorts) this.makeRoom(time);
        const e = new Entry(plan, time);
        const again = this.flows.get(flowId);
        if (again === undefined) this.flows.set(flowId, [e]);
        else again.push(e);
        this.flowEntries++;
        return this.setup(plan, e, port);
      }
      default: {
        const key = plan.track === BY_BOTH ? pairKey(plan.id, addr) : hostKey(plan.id, addr, plan.track === BY_SRC ? 0 : 4);
        entry = this.entries.get(key);
        if (entry !== undefined) return this.update(plan, entry, time, port);
        if (this.size >= this.maxEntries || this.ports >= this.maxPorts) this.makeRoom(time);
        entry = new Entry(plan, time);
        this.entries.set(key, entry);
        return this.setup(plan, entry, port);
      }
    }
  }

  /** Drops a flow's by_flow entries (call when the flow ends; Suricata keeps them in the flow). */
  forgetFlow(flowId: number): void {
    const list = this.flows.get(flowId);
    if (list === undefined) return;
    for (const e of list) this.releasePorts(e);
    this.flowEntries -= list.length;
    this.flows.delete(flowId);
  }

  /** Removes entries whose window ended before `time` (also done on demand when a cap is reached). */
  sweep(time: number): void {
    for (const [key, e] of this.entries) {
      if (isExpired(e, time)) {
        this.releasePorts(e);
        this.entries.delete(key);
        this.expired++;
      }
    }
    for (const [flowId, list] of this.flows) {
      const keep = list.filter((e) => !isExpired(e, time));
      if (keep.length === list.length) continue;
      for (const e of list) if (isExpired(e, time)) this.releasePorts(e);
      this.expired += list.length - keep.length;
      this.flowEntries -= list.length - keep.length;
      if (keep.length === 0) this.flows.delete(flowId);
      else this.flows.set(flowId, keep);
    }
  }

  /** A new entry: ThresholdSetup (count 1, window starts now). */
  private setup(plan: Plan, e: Entry, port: number): Verdict {
    switch (plan.mode) {
      case LIMIT:
      case RATE:
        return 'alert';
      case THRESHOLD:
      case BOTH:
        return plan.count === 1 ? 'alert' : 'none';
      case BACKOFF:
        if (plan.count === 1) {
          e.next = plan.multiplier;
          return 'alert';
        }
        e.next = plan.count;
        return 'none';
      default:
        if (plan.uniqueOn !== 0) this.startPorts(e, port);
        return 'none';
    }
  }

  /** An existing entry: ThresholdCheckUpdate. */
  private update(plan: Plan, e: Entry, time: number, port: number): Verdict {
    const inWindow = time <= e.start + plan.seconds;
    switch (plan.mode) {
      case LIMIT:
        if (inWindow) return ++e.count <= plan.count ? 'alert' : 'silent';
        e.start = time;
        e.count = 1;
        return 'alert';
      case THRESHOLD:
        if (inWindow) {
          if (++e.count >= plan.count) {
            e.count = 0;
            return 'alert';
          }
          return 'none';
        }
        e.start = time;
        e.count = 1;
        return 'none';
      case BOTH:
        if (inWindow) {
          e.count++;
          if (e.count === plan.count) return 'alert';
          return e.count > plan.count ? 'silent' : 'none';
        }
        e.start = time;
        e.count = 1;
        return plan.count === 1 ? 'alert' : 'none';
      case DETECTION:
        if (inWindow) {
          if (plan.uniqueOn === 0) e.count++;
          else if (e.ports !== null && !e.ports.has(port)) this.addPort(plan, e, port);
          return e.count > plan.count ? 'alert' : 'none';
        }
        e.start = time;
        e.count = 1;
        if (plan.uniqueOn !== 0) {
          this.releasePorts(e);
          this.startPorts(e, port);
        }
        return 'none';
      case BACKOFF:
        // No window: the 1st (count 1), then count, count*M, count*M^2, ... matches alert.
        if (e.count >= MAX_U32) return 'silent';
        if (++e.count === e.next) {
          e.next = e.next * plan.multiplier > MAX_U32 ? Infinity : e.next * plan.multiplier;
          return 'alert';
        }
        return 'silent';
      default: {
        // rate_filter (IsThresholdReached): always alerts; past count in a window, the action changes for `timeout` s.
        const sec = Math.floor(time);
        if (e.actionSince >= 0) {
          if (sec - e.actionSince > plan.timeout) e.actionSince = -1;
          else this.newAction = plan.newAction;
        } else if (inWindow) {
          if (++e.count > plan.count) {
            e.actionSince = sec;
            this.newAction = plan.newAction;
          }
        } else {
          e.start = time;
          e.count = 1;
        }
        return 'alert';
      }
    }
  }

  private startPorts(e: Entry, port: number): void {
    e.ports = new Set([port]);
    this.ports++;
  }

  private addPort(plan: Plan, e: Entry, port: number): void {
    e.count++;
    if (e.count > plan.count) {
      // The count only ever grows within a window: past `count` the set is no longer needed.
      this.releasePorts(e);
      return;
    }
    e.ports!.add(port);
    this.ports++;
  }

  private releasePorts(e: Entry): void {
    if (e.ports === null) return;
    this.ports -= e.ports.size;
    e.ports = null;
  }

  /**
   * Frees room at a cap: expired entries first, then the oldest (by creation) until a tenth of the
   * cap is free, so a sweep runs at most once per tenth-of-cap insertions.
   */
  private makeRoom(time: number): void {
    this.sweep(time);
    const entryGoal = this.maxEntries - Math.max(1, Math.floor(this.maxEntries / 10));
    const portGoal = this.maxPorts - Math.max(1, Math.floor(this.maxPorts / 10));
    if (this.size <= entryGoal && this.ports <= portGoal) return;
    for (const [key, e] of this.entries) {
      if (this.size <= entryGoal && this.ports <= portGoal) return;
      this.releasePorts(e);
      this.entries.delete(key);
      this.evictions++;
    }
    for (const [flowId, list] of this.flows) {
      if (this.size <= entryGoal && this.ports <= portGoal) return;
      for (const e of list) this.releasePorts(e);
      this.flowEntries -= list.length;
      this.evictions += list.length;
      this.flows.delete(flowId);
    }
  }

  private makePlan(rule: ThresholdedRule): Plan | null {
    const c = this.config;
    const scoped = c.forRule(rule.gid, rule.sid);
    let noAlert = false;
    const suppressions: Suppression[] = [];
    for (const s of scoped.suppress) {
      if (s.track === null) noAlert = true;
      else suppressions.push(new Suppression(s.track === 'by_src' ? 0 : s.track === 'by_dst' ? 1 : 2, s.matcher));
    }
    // SetupThresholdRule, line by line in file order: a gid:sid threshold replaces what the rule
    // has; a rate_filter, or an entry for all rules (sig_id 0), only fills an empty place.
    let limit: ThresholdDirective | RateFilterDirective | Threshold | DetectionFilter | null = rule.threshold ?? rule.detectionFilter;
    for (const d of scoped.limits) {
      if (d.sid !== 0 && d.kind === 'threshold') limit = d;
      else if (limit === null) limit = d;
    }
    if (limit === null && !noAlert && suppressions.length === 0) return null;
    const id = this.nextPlanId++;
    if (limit === null) return new Plan(id, NO_LIMIT, BY_RULE, 0, 0, 0, 0, null, 0, noAlert, suppressions);
    if ('kind' in limit) {
      if (limit.kind === 'rate_filter') {
        return new Plan(id, RATE, TRACK_CODES[limit.track]!, limit.count, limit.seconds, 0, 0, limit.newAction, limit.timeout, noAlert, suppressions);
      }
      limit = limit.threshold;
    }
    if ('type' in limit) {
      return new Plan(id, TYPE_CODES[limit.type]!, TRACK_CODES[limit.track]!, limit.count, limit.seconds, limit.multiplier ?? 0, 0, null, 0, noAlert, suppressions);
    }
    const unique = limit.uniqueOn === 'src_port' ? 1 : limit.uniqueOn === 'dst_port' ? 2 : 0;
    return new Plan(id, DETECTION, TRACK_CODES[limit.track]!, limit.count, limit.seconds, 0, unique, null, 0, noAlert, suppressions);
  }
}

/**
 * The detection engine's gate (EngineOptions.gate) backed by a tracker. A packet without an IP
 * header alerts, as in Suricata. A match without a packet (stream inspection at flow end) is
 * counted with the flow's client as source, its server as destination.
 */
export function thresholdGate(tracker: ThresholdTracker): (rule: ThresholdedRule, p: Packet | null, flow: Flow | null, time: number) => Verdict {
  return (rule, p, flow, time) => {
    if (p !== null) return p.ipVersion === 0 ? 'alert' : tracker.check(rule, time, p.addr, flow === null ? 0 : flow.id, p.srcPort, p.dstPort);
    if (flow === null) return 'alert';
    return tracker.check(rule, time, flow.addr, flow.id, flow.clientPort, flow.serverPort);
  };
}

/** Past its window (and, for a rate_filter, past its action's timeout); backoff entries live as long as their flow. */
function isExpired(e: Entry, time: number): boolean {
  const plan = e.plan;
  if (plan.mode === BACKOFF) return false;
  if (time <= e.start + plan.seconds) return false;
  return plan.mode !== RATE || e.actionSince < 0 || Math.floor(time) - e.actionSince > plan.timeout;
}

function isV4(addr: Uint32Array, at: number): boolean {
  return addr[at] === 0 && addr[at + 1] === 0 && addr[at + 2] === 0xffff;
}

/** One address: a number for IPv4 (no string built), a string for IPv6. */
function hostKey(planId: number, addr: Uint32Array, at: number): number | string {
  if (isV4(addr, at) && planId < MAX_NUMERIC_PLANS) return planId * KEY_SPLIT + addr[at + 3]!;
  return `${planId}/${addr[at]}:${addr[at + 1]}:${addr[at + 2]}:${addr[at + 3]}`;
}

/** The address pair, lower address first, so both directions share the entry (as Suricata orders it). */
function pairKey(planId: number, addr: Uint32Array): string {
  let lo = 0;
  let hi = 4;
  for (let i = 0; i < 4; i++) {
    if (addr[i] !== addr[4 + i]) {
      if (addr[i]! > addr[4 + i]!) {
        lo = 4;
        hi = 0;
      }
      break;
    }
  }
  if (isV4(addr, 0) && isV4(addr, 4)) return `${planId}|${addr[lo + 3]}|${addr[hi + 3]}`;
  return `${planId}|${addr[lo]}:${addr[lo + 1]}:${addr[lo + 2]}:${addr[lo + 3]}|${addr[hi]}:${addr[hi + 1]}:${addr[hi + 2]}:${addr[hi + 3]}`;
}

interface Scoped {
  suppress: SuppressDirective[];
  /** threshold/event_filter and rate_filter entries that reach the rule, in file order. */
  limits: Array<ThresholdDirective | RateFilterDirective>;
}

/** threshold.config by scope: every rule (gid 0, sid 0), every rule of a gid (sid 0), one rule. */
class ConfigIndex {
  private readonly all: Array<{ order: number; d: ThresholdDirective | RateFilterDirective | SuppressDirective }> = [];
  private readonly byGid = new Map<number, Array<{ order: number; d: ThresholdDirective | RateFilterDirective | SuppressDirective }>>();
  private readonly byRule = new Map<string, Array<{ order: number; d: ThresholdDirective | RateFilterDirective | SuppressDirective }>>();

  constructor(config: ThresholdConfig | null) {
    if (config === null) return;
    config.directives.forEach((d, order) => {
      const item = { order, d };
      if (d.gid === 0) this.all.push(item);
      else if (d.sid === 0) {
        const list = this.byGid.get(d.gid);
        if (list === undefined) this.byGid.set(d.gid, [item]);
        else list.push(item);
      } else {
        const k = `${d.gid}:${d.sid}`;
        const list = this.byRule.get(k);
        if (list === undefined) this.byRule.set(k, [item]);
        else list.push(item);
      }
    });
  }

  forRule(gid: number, sid: number): Scoped {
    const items = [...this.all, ...(this.byGid.get(gid) ?? []), ...(this.byRule.get(`${gid}:${sid}`) ?? [])];
    items.sort((a, b) => a.order - b.order);
    const out: Scoped = { suppress: [], limits: [] };
    for (const { d } of items) {
      if (d.kind === 'suppress') out.suppress.push(d);
      else out.limits.push(d);
    }
    return out;
  }
}
