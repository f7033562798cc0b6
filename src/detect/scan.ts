import { IpProto, TcpFlag, type Packet } from '../decode/packet.js';
import type { Direction, ScanEvent, ScanRecord } from '../events/behaviour.js';
import type { Flow } from '../flow/flow.js';
import { ipv4ToString, wordsToString } from '../wire/address.js';
import type { Detector, DetectorContext } from './detector.js';
import { addressKey, directionOf, isV4Mapped } from './util.js';
import { formatTimestamp } from '../events/time.js';

/**
 * The scan detector. A probe is the packet that opens a new conversation (a flow's first packet,
 * from its client): a SYN, FIN, NULL, XMAS or bare ACK segment, a UDP datagram, an ICMP echo
 * request. Each scanner's probes are gathered per protocol class (TCP, UDP, ICMP) into one
 * "activity": distinct targets, distinct ports, and how many probes were answered. A probe
 * answered by anything but a RST counts as a success; no answer or a RST is a failure, and a
 * scanner's probes mostly fail, which is what keeps a browser, a proxy or a NAT gateway (many
 * answered connections) from being one.
 *
 * Time is cut into short windows aligned on packet time (60 s by default). A window in which an
 * activity probed enough new ports or hosts, mostly failing, marks it a scan; later windows that
 * still bring new ports or hosts, mostly failing, continue the same scan, and the scan is written
 * once, when a window passes without that (or at `finish`, or after `max-duration`). An activity
 * that never passes a short window is judged once over its long window (an hour by default) with
 * its own thresholds: what passes then is a slow scan (`slow: true`).
 *
 * Shape (from the whole scan): `vertical` when its ports reach the port threshold, `horizontal`
 * when its hosts reach the host threshold, `block` when both do.
 *
 * Known limits: an activity that started as ordinary traffic and turned into a scan counts that
 * traffic too (its start is the activity's first probe); a pure ACK from a well-known port to a
 * high port is taken for a server's acknowledgement picked up mid-connection, not a probe.
 */
/** Activities looked at from the oldest when one must go, for a one-probe source to evict instead. */
const EVICT_SEARCH = 64;

export const SCAN_DEFAULTS = {
  enabled: true,
  /** Seconds in a short window; a fast scan is one that passes a short window's thresholds. */
  'short-window': 60,
  /** New distinct ports in one short window that make a scan (Zeek's port-scan threshold is 15). */
  'short-ports': 15,
  /** New distinct hosts in one short window that make a scan (Zeek's address-scan threshold is 25). */
  'short-hosts': 25,
  /** Seconds in the long window, over which slow scans are judged. */
  'long-window': 3600,
  /** Distinct ports over the long window that make a slow scan: twice the short threshold over sixty times the time. */
  'long-ports': 30,
  /** Distinct hosts over the long window that make a slow scan. */
  'long-hosts': 50,
  /** Share of probes (0 to 1) that must have failed (no answer, or a RST) for a window to count: a scanner's probes mostly fail, a busy client's mostly succeed. */
  'min-failed-ratio': 0.6,
  /** Seconds after which a scan still going on is written anyway (a new one then starts), so a scanner that never stops is still reported. */
  'max-duration': 3600,
  /** Scanners (per protocol class) held at once: past it the oldest is dropped (written first if already a scan); counted in evicted_sources. */
  'max-sources': 65536,
  /** Distinct hosts, and distinct ports, held per scanner: a /19 sweep or an 8 Ki port range counted exactly; past it each probe to an unheld one counts as new. */
  'max-keys-per-source': 8192,
  /** Hosts and ports held over all scanners together (about 50 bytes each); past it, as for the per-scanner cap. */
  'max-keys': 2_000_000,
};

/** Probe kinds, as indexes: the TCP ones first. */
const SYN = 0;
const FIN = 1;
const NUL = 2;
const XMAS = 3;
const ACK = 4;
const UDP = 5;
const ICMP = 6;
const TCP_KINDS = ['syn', 'fin', 'null', 'xmas', 'ack'] as const;

/** Protocol classes an activity is kept per. */
const CLASS_TCP = 0;
const CLASS_UDP = 1;
const CLASS_ICMP = 2;

/** Samples in the record, as ScanRecord documents them. */
const TARGET_SAMPLE = 16;
const PORT_SAMPLE = 32;

/** An address (or an IPv4 address as one number), as a Map or Set key. */
type Key = number | string;

/** Window outcomes. */
const QUIET = 0;
const CONTINUES = 1;
const PASSES = 2;

/**
 * The kind of probe a flow's first packet is, or -1 when it is no probe (a SYN-ACK, a RST, data,
 * an ICMP error). ECE and CWR are ignored (an ECN-capable SYN is a SYN).
 */
export function probeKind(p: Packet): number {
  const proto = p.proto;
  if (proto === IpProto.TCP) {
    const f = p.tcpFlags & 0x3f;
    if ((f & (TcpFlag.SYN | TcpFlag.ACK | TcpFlag.RST)) === TcpFlag.SYN) return SYN;
    if (f === 0) return NUL;
    if (f === TcpFlag.FIN) return FIN;
    if (f === (TcpFlag.FIN | TcpFlag.PSH | TcpFlag.URG)) return XMAS;
    // A server's bare ACK to a client's high port is a conversation picked up in the middle.
    if (f === TcpFlag.ACK && p.payloadLen === 0 && !(p.srcPort < 1024 && p.dstPort >= 1024)) return ACK;
    return -1;
  }
  if (proto === IpProto.UDP) return UDP;
  if ((proto === IpProto.ICMP && p.icmpType === 8) || (proto === IpProto.ICMPV6 && p.icmpType === 128)) return ICMP;
  return -1;
}

function classOf(proto: number): number {
  if (proto === IpProto.TCP) return CLASS_TCP;
  if (proto === IpProto.UDP) return CLASS_UDP;
  return CLASS_ICMP;
}

/** Whether four words at `at` hold an IPv4 address (IPv4-mapped). */

/** An address key back as text (samples are held as keys, so a probe costs no string). */
function keyText(k: Key): string {
  if (typeof k === 'number') return ipv4ToString(k);
  const words = new Uint32Array(4);
  const parts = k.slice(k.indexOf('|') + 1).split(':');
  for (let i = 0; i < 4; i++) words[i] = Number(parts[i]) >>> 0;
  return wordsToString(words, 0, false);
}

/** The activity key: a scanner's address and the protocol class. IPv4 keys stay numbers (below 2^34). */
function activityKey(w: Uint32Array, at: number, cls: number): Key {
  if (isV4Mapped(w, at)) return w[at + 3]! * 4 + cls;
  return `${cls}|${w[at]}:${w[at + 1]}:${w[at + 2]}:${w[at + 3]}`;
}

/**
 * Distinct keys counted exactly while they are held; one key is held without a Set, since most
 * sources talk to one host on one port. Past the caps a key not held counts as new.
 */
class DistinctKeys {
  count = 0;
  private one: Key | null = null;
  private set: Set<Key> | null = null;

  /** Keys held (what they cost against the caps). */
  get held(): number {
    return this.set !== null ? this.set.size : this.one !== null ? 1 : 0;
  }

  /** The first `n` keys held, in the order they were added. */
  first(n: number): Key[] {
    const out: Key[] = [];
    if (this.set === null) {
      if (this.one !== null && n > 0) out.push(this.one);
      return out;
    }
    for (const k of this.set) {
      if (out.length >= n) break;
      out.push(k);
    }
    return out;
  }

  /** Adds a key; 1 when it is new and held, 2 when new and not held (a cap), 0 when seen before. */
  add(k: Key, room: boolean): number {
    if (this.one === null) {
      this.one = k;
      this.count = 1;
      return 1;
    }
    if (this.one === k) return 0;
    if (this.set === null) {
      if (!room) {
        this.count++;
        return 2;
      }
      this.set = new Set<Key>();
      this.set.add(this.one);
      this.set.add(k);
      this.count++;
      return 1;
    }
    if (this.set.has(k)) return 0;
    this.count++;
    if (!room) return 2;
    this.set.add(k);
    return 1;
  }
}

/** One scanner's probes of one protocol class: its activity since its first probe. */
class Activity {
  probes = 0;
  answered = 0;
  /** TCP handshakes the client completed (the third packet a bare ACK): a connect scan's open ports. */
  completed = 0;
  /** Probes per TCP kind (syn, fin, null, xmas, ack); fields, not an array, to keep an activity at three objects. */
  syn = 0;
  fin = 0;
  nul = 0;
  xmas = 0;
  ack = 0;
  readonly targets = new DistinctKeys();
  readonly ports = new DistinctKeys();
  homeTargets = 0;
  /** The last probe's time, as seconds and as packet time (EVE timestamps keep the exact nanoseconds). */
  last: number;
  lastSec: number;
  lastNsec: number;

  // The current short window.
  wProbes = 0;
  wAnswered = 0;
  wNewTargets = 0;
  wNewPorts = 0;

  /** A short window passed: this is a scan. */
  fast = false;
  // The scan as of the last window that passed or continued it (the later probes are not its own).
  sEnd = 0;
  sEndSec = 0;
  sEndNsec = 0;
  sProbes = 0;
  sAnswered = 0;
  sTargets = 0;
  sPorts = 0;
  sHomeTargets = 0;
  /** Hosts and ports held at the snapshot: the samples are the first of them. */
  sTargetsHeld = 0;
  sPortsHeld = 0;

  /** Dropped from the detector's map (its place in the eviction queue is then stale). */
  dropped = false;

  constructor(
    readonly key: Key,
    readonly cls: number,
    readonly v6: boolean,
    readonly scannerHome: boolean,
    readonly start: number,
    readonly startSec: number,
    readonly startNsec: number,
  ) {
    this.last = start;
    this.lastSec = startSec;
    this.lastNsec = startNsec;
  }

  /** Freezes the scan's figures at what has been seen so far. */
  snapshot(): void {
    this.sEnd = this.last;
    this.sEndSec = this.lastSec;
    this.sEndNsec = this.lastNsec;
    this.sProbes = this.probes;
    this.sAnswered = this.answered;
    this.sTargets = this.targets.count;
    this.sPorts = this.ports.count;
    this.sHomeTargets = this.homeTargets;
    this.sTargetsHeld = this.targets.held;
    this.sPortsHeld = this.ports.held;
  }

  /** The window before the current one, so that a scan straddling a boundary is judged whole. */
  pProbes = 0;
  pAnswered = 0;
  pNewTargets = 0;
  pNewPorts = 0;

  resetWindow(): void {
    this.pProbes = this.wProbes;
    this.pAnswered = this.wAnswered;
    this.pNewTargets = this.wNewTargets;
    this.pNewPorts = this.wNewPorts;
    this.wProbes = 0;
    this.wAnswered = 0;
    this.wNewTargets = 0;
    this.wNewPorts = 0;
  }
}

/** Whether `failed` of `probes` reach the ratio. */
function mostlyFailed(probes: number, answered: number, ratio: number): boolean {
  if (probes === 0) return false;
  const failed = probes - Math.min(answered, probes);
  return failed >= ratio * probes;
}

/** The shape of a scan with `targets` hosts and `ports` ports against the thresholds. */
export function shapeOf(targets: number, ports: number, hostThreshold: number, portThreshold: number): ScanRecord['shape'] {
  const vertical = ports >= portThreshold;
  const horizontal = targets >= hostThreshold;
  if (vertical && horizontal) return 'block';
  if (vertical) return 'vertical';
  if (horizontal) return 'horizontal';
  return ports > targets ? 'vertical' : 'horizontal';
}

function scanDirection(scannerHome: boolean, homeTargets: number, targets: number): Direction {
  return directionOf(scannerHome, homeTargets * 2 >= targets && homeTargets > 0);
}

/** Rounds to microseconds (durations) or thousandths (rates), so records stay short. */
function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function createScanDetector(ctx: DetectorContext, options: typeof SCAN_DEFAULTS): Detector {
  const shortWindow = Math.max(1, options['short-window']);
  const longWindow = Math.max(shortWindow, options['long-window']);
  const shortPorts = Math.max(1, options['short-ports']);
  const shortHosts = Math.max(1, options['short-hosts']);
  const longPorts = Math.max(1, options['long-ports']);
  const longHosts = Math.max(1, options['long-hosts']);
  const minFailed = options['min-failed-ratio'];
  const maxDuration = Math.max(shortWindow, options['max-duration']);
  const maxSources = Math.max(1, options['max-sources']);
  const maxPerSource = Math.max(1, options['max-keys-per-source']);
  const maxKeys = Math.max(1, options['max-keys']);

  const activities = new Map<Key, Activity>();
  /**
   * Activities oldest first, for eviction: taking the Map's first entry would walk the holes its
   * deletions leave (V8 keeps them until a rehash), which made a spoofed flood quadratic.
   */
  let queue: Activity[] = [];
  let queueHead = 0;
  /** Hosts and ports held over all activities. */
  let held = 0;
  /** Where the current short window ends (0 before the first probe). */
  let windowEnd = 0;
  const counters = {
    /** Activities held now. */
    sources: 0,
    /** Hosts and ports held now. */
    keys: 0,
    probes: 0,
    scans: 0,
    slow_scans: 0,
    /** Activities dropped because max-sources was reached. */
    evicted_sources: 0,
    /** Hosts or ports counted but not held (a cap). */
    evicted_keys: 0,
    /** Activities forgotten early: idle for a window with every probe answered. */
    expired: 0,
    /** Packets a hook could not handle (hostile input); never thrown. */
    errors: 0,
  };

  function drop(key: Key, a: Activity): void {
    a.dropped = true;
    held -= a.targets.held + a.ports.held;
    counters.keys = held;
    activities.delete(key);
    counters.sources = activities.size;
  }

  function kindOf(a: Activity): ScanRecord['kind'] {
    if (a.cls === CLASS_UDP) return 'udp';
    if (a.cls === CLASS_ICMP) return 'icmp';
    const kinds = [a.syn, a.fin, a.nul, a.xmas, a.ack];
    let best = SYN;
    for (let k = 1; k < kinds.length; k++) if (kinds[k]! > kinds[best]!) best = k;
    if (best === SYN && a.completed > 0 && a.completed * 2 >= a.answered) return 'connect';
    return TCP_KINDS[best]!;
  }

  function report(a: Activity, slow: boolean): void {
    const targets = a.sTargets;
    const ports = a.sPorts;
    const duration = Math.max(0, a.sEnd - a.start);
    const shape = slow ? shapeOf(targets, ports, longHosts, longPorts) : shapeOf(targets, ports, shortHosts, shortPorts);
    const ev = { timestamp: formatTimestamp(a.startSec, a.startNsec), event_type: 'scan' } as ScanEvent;
    const scanner = keyText(typeof a.key === 'number' ? Math.floor(a.key / 4) : a.key);
    const targetSample = a.targets.first(Math.min(TARGET_SAMPLE, a.sTargetsHeld)).map(keyText);
    const portSample = a.ports.first(Math.min(PORT_SAMPLE, a.sPortsHeld)) as number[];
    ev.src_ip = scanner;
    if (targets === 1 && targetSample.length > 0) ev.dest_ip = targetSample[0]!;
    if (ports === 1 && portSample.length > 0) ev.dest_port = portSample[0]!;
    ev.ip_v = a.v6 ? 6 : 4;
    ev.proto = a.cls === CLASS_TCP ? 'TCP' : a.cls === CLASS_UDP ? 'UDP' : a.v6 ? 'IPv6-ICMP' : 'ICMP';
    ev.scan = {
      shape,
      kind: kindOf(a),
      scanner,
      direction: scanDirection(a.scannerHome, a.sHomeTargets, targets),
      target_count: targets,
      targets: targetSample,
      port_count: ports,
      ports: portSample,
      probes: a.sProbes,
      start: ev.timestamp,
      end: formatTimestamp(a.sEndSec, a.sEndNsec),
      duration: round(duration, 6),
      rate: round(a.sProbes / Math.max(1, duration), 3),
      slow,
      open: Math.min(a.sAnswered, a.sProbes),
    };
    counters.scans++;
    if (slow) counters.slow_scans++;
    ctx.emit(ev);
  }

  /** How the activity's current window went. */
  function windowOutcome(a: Activity): number {
    if (!mostlyFailed(a.wProbes, a.wAnswered, minFailed)) return QUIET;
    if (a.wNewPorts >= shortPorts || a.wNewTargets >= shortHosts) return PASSES;
    // Windows are aligned on packet time, not on the scan: one that straddles a boundary is
    // judged over this window and the one before.
    if (mostlyFailed(a.wProbes + a.pProbes, a.wAnswered + a.pAnswered, minFailed) && (a.wNewPorts + a.pNewPorts >= shortPorts || a.wNewTargets + a.pNewTargets >= shortHosts)) return PASSES;
    return a.wNewPorts + a.wNewTargets > 0 ? CONTINUES : QUIET;
  }

  function passesLong(a: Activity): boolean {
    return mostlyFailed(a.probes, a.answered, minFailed) && (a.ports.count >= longPorts || a.targets.count >= longHosts);
  }

  /** A short window ended at `boundary`: scans that stopped, long windows that ended, report now. */
  function closeWindow(boundary: number): void {
    closeEach(boundary);
    queue = Array.from(activities.values());
    queueHead = 0;
  }

  function closeEach(boundary: number): void {
    for (const [key, a] of activities) {
      const outcome = windowOutcome(a);
      if (outcome === PASSES) a.fast = true;
      if (a.fast) {
        if (outcome !== QUIET) a.snapshot();
        if (outcome === QUIET || boundary - a.start >= maxDuration) {
          report(a, false);
          drop(key, a);
          continue;
        }
      } else if (boundary - a.start >= longWindow) {
        if (passesLong(a)) {
          a.snapshot();
          report(a, true);
        }
        drop(key, a);
        continue;
      } else if (a.wProbes === 0 && a.answered >= a.probes) {
        // Idle, and everything it ever sent was answered: an ordinary client, not worth an hour's memory.
        counters.expired++;
        drop(key, a);
        continue;
      }
      a.resetWindow();
    }
  }

  /** Packet time reached `now`: closes the windows that ended (at most two in a row: later ones were empty). */
  function advance(now: number): void {
    if (windowEnd === 0 || !(now >= windowEnd)) return;
    closeWindow(windowEnd);
    if (now >= windowEnd + shortWindow) closeWindow(windowEnd + shortWindow);
    windowEnd = (Math.floor(now / shortWindow) + 1) * shortWindow;
  }

  /**
   * Makes room for one more activity. A source that sent one probe so far goes first (a spoofed
   * SYN's address, among the oldest few): a flood of them must not push out a real scan still in
   * its window. Failing that, the oldest goes (written first when it is already a scan).
   */
  function evictOldest(): void {
    let victim: Activity | null = null;
    for (let i = queueHead, looked = 0; i < queue.length && looked < EVICT_SEARCH; i++) {
      const a = queue[i]!;
      if (a.dropped) continue;
      looked++;
      if (victim === null) victim = a;
      if (a.probes <= 1 && !a.fast) {
        victim = a;
        break;
      }
    }
    if (victim !== null) {
      if (victim.fast) report(victim, false);
      drop(victim.key, victim);
      counters.evicted_sources++;
    }
    while (queueHead < queue.length && queue[queueHead]!.dropped) queueHead++;
    if (queueHead > 1024 && queueHead * 2 > queue.length) {
      queue = queue.slice(queueHead);
      queueHead = 0;
    }
  }

  function probe(p: Packet, kind: number, now: number): void {
    // A time that is no number would stop every window from closing.
    if (!(now >= 0)) return;
    if (windowEnd === 0) windowEnd = (Math.floor(now / shortWindow) + 1) * shortWindow;
    else if (now >= windowEnd) advance(now);
    counters.probes++;
    const a4 = p.addr;
    const cls = kind < UDP ? CLASS_TCP : kind === UDP ? CLASS_UDP : CLASS_ICMP;
    const key = activityKey(a4, 0, cls);
    let a = activities.get(key);
    if (a === undefined) {
      if (activities.size >= maxSources) evictOldest();
      const v4 = isV4Mapped(a4, 0);
      a = new Activity(key, cls, !v4, ctx.home(a4, 0), now, p.tsSec, p.tsNsec);
      activities.set(key, a);
      queue.push(a);
      counters.sources = activities.size;
    }
    a.probes++;
    a.wProbes++;
    if (kind === SYN) a.syn++;
    else if (kind === FIN) a.fin++;
    else if (kind === NUL) a.nul++;
    else if (kind === XMAS) a.xmas++;
    else if (kind === ACK) a.ack++;
    if (now > a.last) {
      a.last = now;
      a.lastSec = p.tsSec;
      a.lastNsec = p.tsNsec;
    }
    const t = a.targets.add(addressKey(a4, 4), held < maxKeys && a.targets.held < maxPerSource);
    if (t !== 0) {
      a.wNewTargets++;
      if (ctx.home(a4, 4)) a.homeTargets++;
      if (t === 1) held++;
      else counters.evicted_keys++;
    }
    if (cls !== CLASS_ICMP) {
      const port = p.dstPort;
      const n = a.ports.add(port, held < maxKeys && a.ports.held < maxPerSource);
      if (n !== 0) {
        a.wNewPorts++;
        if (n === 1) held++;
        else counters.evicted_keys++;
      }
    }
    counters.keys = held;
  }

  /** The first packet back on a flow whose client may be a scanner: a RST is a failure, anything else a success. */
  function reply(p: Packet, flow: Flow): void {
    if (flow.proto === IpProto.ICMP || flow.proto === IpProto.ICMPV6) {
      if (flow.icmpType !== 8 && flow.icmpType !== 128) return;
    } else if (flow.proto !== IpProto.TCP && flow.proto !== IpProto.UDP) return;
    const a = activities.get(activityKey(flow.addr, 0, classOf(flow.proto)));
    if (a === undefined) return;
    if (flow.proto === IpProto.TCP && (p.tcpFlags & TcpFlag.RST) !== 0) return;
    a.answered++;
    a.wAnswered++;
  }

  /** The client's third packet on a TCP flow: a bare ACK after the SYN-ACK completes the handshake. */
  function handshake(p: Packet, flow: Flow): void {
    if ((p.tcpFlags & (TcpFlag.SYN | TcpFlag.ACK | TcpFlag.RST | TcpFlag.FIN)) !== TcpFlag.ACK) return;
    const a = activities.get(activityKey(flow.addr, 0, CLASS_TCP));
    if (a !== undefined) a.completed++;
  }

  return {
    name: 'scan',
    counters,
    packet(p: Packet, flow: Flow | null, dir: number): void {
      // Only a flow's first packets matter: return at once for the rest.
      if (flow === null) return;
      const toServer = flow.pktsToServer;
      const toClient = flow.pktsToClient;
      if (toServer + toClient > 3) return;
      try {
        if (dir === 0) {
          if (toClient === 0 && toServer === p.frames) {
            const kind = probeKind(p);
            if (kind >= 0) probe(p, kind, p.tsSec + p.tsNsec / 1e9);
          } else if (toServer === 2 && toClient > 0 && flow.proto === IpProto.TCP) {
            handshake(p, flow);
          }
        } else if (toClient === p.frames && toServer > 0) {
          reply(p, flow);
        }
      } catch {
        counters.errors++;
      }
    },
    tick(now: number): void {
      try {
        advance(now);
      } catch {
        counters.errors++;
      }
    },
    finish(): void {
      try {
        for (const [key, a] of activities) {
          const outcome = windowOutcome(a);
          if (outcome === PASSES) a.fast = true;
          if (a.fast) {
            if (outcome !== QUIET) a.snapshot();
            report(a, false);
          } else if (passesLong(a)) {
            a.snapshot();
            report(a, true);
          }
          drop(key, a);
        }
        queue = [];
        queueHead = 0;
      } catch {
        counters.errors++;
      }
    },
  };
}
