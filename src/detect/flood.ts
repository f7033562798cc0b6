import type { Packet } from '../decode/packet.js';
import { IpProto, TcpFlag } from '../decode/packet.js';
import type { Direction, FloodEvent, FloodRecord } from '../events/behaviour.js';
import type { DnsEvent } from '../events/dns.js';
import type { EveEvent } from '../events/types.js';
import type { Flow } from '../flow/flow.js';
import { textToWords, wordsToString } from '../wire/address.js';
import type { Detector, DetectorContext } from './detector.js';
import { atTime, directionOf, isV4Mapped, timestampOf } from './util.js';

/**
 * The flood detector: traffic at one target far above what ordinary conversations make. It
 * counts, per target address and per window of packet time, pure SYNs and the handshakes that
 * completed, UDP packets and bytes and what the target sent back, bytes of responses from
 * amplification ports against the requests that asked for them, and the DNS analyzer's queries
 * and answers (names, zones, NXDOMAIN). A window over a kind's threshold is a flood window;
 * consecutive flood windows of the same target and kind (allowing `quiet-windows` below it in
 * between) are one flood, written once when it stops or at the end of input.
 *
 * State is one fixed-size entry per target per window (sources go into a sketch and a sample of
 * 16, so a million spoofed sources cost nothing more), at most `max-targets` of them; when the
 * table is full the lightest targets are evicted (counted in `evicted_targets`).
 */
/** Seconds a packet's time may leap ahead of the current window before it needs confirming. */
const MAX_TIME_JUMP = 86400;

export const FLOOD_DEFAULTS = {
  enabled: true,
  /** Seconds of packet time per window; rates are judged over a window, and windows start on multiples of it. */
  window: 10,
  /** Windows below the thresholds a flood may pause for and still be the same flood (one event). */
  'quiet-windows': 1,
  /** Pure SYNs per second at one target (address) that make a SYN flood, when mostly unanswered; a busy web server completes its handshakes. */
  'syn-rate': 100,
  /** Share of those SYNs whose handshake never completed (no client ACK after them) for a SYN flood. */
  'syn-unanswered-ratio': 0.8,
  /** UDP packets per second at one target that make a UDP flood, when the target hardly answers. */
  'udp-rate': 5000,
  /** UDP bytes (IP length) per second at one target that make a UDP flood, when the target hardly answers (12.5 MB/s is 100 Mbit/s). */
  'udp-byte-rate': 12500000,
  /** The most UDP packets the target may send per packet received and still be flooded (a DNS or game server answers about one for one). */
  'udp-reply-ratio': 0.1,
  /** Destination ports whose traffic is one-way by design and never a UDP flood: syslog, NetFlow, IPFIX, sFlow. */
  'udp-ignore-ports': [514, 2055, 4739, 6343, 9995, 9996] as readonly number[],
  /** DNS queries per second at one server that are a flood whatever they look like: well above a busy campus resolver, which answers 5,000 to 10,000 a second from thousands of clients. */
  'dns-rate': 20000,
  /** DNS queries per second at one server that are a flood when they also have a flood's shape: random subdomains, or mostly NXDOMAIN. */
  'dns-shaped-rate': 50,
  /** Share of a window's answers that are NXDOMAIN for the queries to have a flood's shape. */
  'dns-nxdomain-ratio': 0.5,
  /** Distinct labels under one zone in a window (random-looking, and the zone at least half the queries) that make the random-subdomain shape. */
  'dns-random-labels': 50,
  /** UDP source ports of services that answer small requests with large responses: QOTD, chargen, DNS, NTP, SNMP, CLDAP, SSDP, memcached. */
  'amplification-ports': [17, 19, 53, 123, 161, 389, 1900, 11211] as readonly number[],
  /** Bytes per second of responses from those ports at one victim that can make amplification (125000 is 1 Mbit/s). */
  'amplification-byte-rate': 125000,
  /** Response bytes per request byte (between the reflectors and the victim) that make amplification; DNS ANY gives 28 to 54, NTP monlist over 500. */
  'amplification-ratio': 10,
  /** Targets tracked per window; past it the lightest are evicted (each entry is about 1 KB). */
  'max-targets': 8192,
  /** Floods open at once; past it the oldest is written early. */
  'max-floods': 1024,
};

type FloodOptions = typeof FLOOD_DEFAULTS;
type Kind = FloodRecord['kind'];

/** How many sources each target keeps as a sample, as the record's `sources` allows. */
const SAMPLE = 16;
/** Zones tracked per DNS server per window: a water-torture zone is the heavy hitter, so a few slots catch it (space-saving replacement). */
const ZONES = 8;
/** Longest DNS label (RFC 1035). */
const MAX_LABEL = 63;

// ---------------------------------------------------------------------------------------------
// Hashing and counting distinct things in fixed space.

function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finalMix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** MurmurHash3's mixing over four address words. */
function hashWords(seed: number, w: Uint32Array, at: number): number {
  return finalMix(mix(mix(mix(mix(seed, w[at]!), w[at + 1]!), w[at + 2]!), w[at + 3]!));
}

/** A string's hash (FNV-1a over its UTF-16 units, then mixed). */
function hashText(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return finalMix(h);
}

/**
 * A HyperLogLog sketch: distinct items in fixed space (one byte per register); small counts
 * use linear counting.
 */
class Distinct {
  readonly registers: Uint8Array;
  private readonly shift: number;

  /** `size` registers, a power of two from 16 to 65536: the error is about 1.04 / sqrt(size). */
  constructor(readonly size: number) {
    this.registers = new Uint8Array(size);
    this.shift = 32 - Math.log2(size);
  }

  add(hash: number): void {
    const idx = hash >>> this.shift;
    // The rank of the remaining bits: leading zeros plus one, capped where the bits run out.
    const rank = Math.clz32((hash << (32 - this.shift)) | (1 << (31 - this.shift))) + 1;
    if (rank > this.registers[idx]!) this.registers[idx] = rank;
  }

  merge(other: Distinct): void {
    const r = this.registers;
    const o = other.registers;
    for (let i = 0; i < r.length; i++) if (o[i]! > r[i]!) r[i] = o[i]!;
  }

  estimate(): number {
    const m = this.size;
    let sum = 0;
    let zeros = 0;
    for (let i = 0; i < m; i++) {
      const v = this.registers[i]!;
      sum += 2 ** -v;
      if (v === 0) zeros++;
    }
    if (zeros === m) return 0;
    const alpha = 0.7213 / (1 + 1.079 / m);
    const raw = (alpha * m * m) / sum;
    if (raw <= 2.5 * m && zeros > 0) return Math.round(m * Math.log(m / zeros));
    return Math.round(raw);
  }

  reset(): void {
    this.registers.fill(0);
  }
}

/** A HyperLogLog seed fixed for every run, so estimates are the same from run to run. */
const SKETCH_SEED = 0x5eed;

/** The senders at one target: a distinct-count sketch and the first SAMPLE addresses. */
class Sources {
  /** 256 registers: about 6.5%, for a quarter of a kilobyte per target. */
  readonly distinct = new Distinct(256);
  /** The sample's address words, four per source. */
  readonly sample = new Uint32Array(SAMPLE * 4);
  /** Whether each sampled source is IPv4. */
  readonly sampleV4 = new Uint8Array(SAMPLE);
  count = 0;

  add(w: Uint32Array, at: number, v4: boolean): void {
    this.distinct.add(hashWords(SKETCH_SEED, w, at));
    const n = this.count;
    if (n === SAMPLE) return;
    const s = this.sample;
    for (let i = 0; i < n; i++) {
      const o = i * 4;
      if (s[o + 3] === w[at + 3] && s[o + 2] === w[at + 2] && s[o + 1] === w[at + 1] && s[o] === w[at]) return;
    }
    const o = n * 4;
    s[o] = w[at]!;
    s[o + 1] = w[at + 1]!;
    s[o + 2] = w[at + 2]!;
    s[o + 3] = w[at + 3]!;
    this.sampleV4[n] = v4 ? 1 : 0;
    this.count = n + 1;
  }

  reset(): void {
    this.distinct.reset();
    this.count = 0;
  }
}

// ---------------------------------------------------------------------------------------------
// DNS: what the queries to one server looked like.

/** Whether a DNS label looks machine-made: long, and mixing digits with letters or with too few vowels to be a word. */
export function looksRandom(label: string): boolean {
  const n = label.length;
  if (n < 6 || n > MAX_LABEL) return false;
  let digits = 0;
  let letters = 0;
  let vowels = 0;
  let run = 0;
  let longestRun = 0;
  for (let i = 0; i < n; i++) {
    const c = label.charCodeAt(i) | 0x20;
    if (c >= 0x30 && c <= 0x39) {
      digits++;
      run = 0;
    } else if (c >= 0x61 && c <= 0x7a) {
      letters++;
      if (c === 0x61 || c === 0x65 || c === 0x69 || c === 0x6f || c === 0x75 || c === 0x79) {
        vowels++;
        run = 0;
      } else if (++run > longestRun) longestRun = run;
    } else run = 0;
  }
  if (digits > 0 && letters > 0) return true;
  return letters >= 6 && (vowels * 5 < letters || longestRun >= 5);
}

/** A window's DNS tally at one server. */
class DnsTally {
  queries = 0;
  answers = 0;
  nxdomain = 0;
  port = 53;
  /** 1024 registers: names are what a water torture is judged by, so they get 3% rather than 6.5%. */
  readonly names = new Distinct(1024);
  readonly zones: string[] = new Array<string>(ZONES).fill('');
  readonly zoneQueries = new Float64Array(ZONES);
  readonly zoneRandom = new Float64Array(ZONES);
  readonly zoneLabels: Distinct[] = Array.from({ length: ZONES }, () => new Distinct(128));

  reset(): void {
    this.queries = 0;
    this.answers = 0;
    this.nxdomain = 0;
    this.port = 53;
    this.names.reset();
    this.zones.fill('');
    this.zoneQueries.fill(0);
    this.zoneRandom.fill(0);
    for (const z of this.zoneLabels) z.reset();
  }

  /** One question's name. */
  query(rawName: string): void {
    this.queries++;
    const name = rawName.length > 1025 ? rawName.slice(0, 1025).toLowerCase() : rawName.toLowerCase();
    this.names.add(hashText(name));
    const dot = name.indexOf('.');
    // A name of one or two labels is a zone itself, not a subdomain under one.
    if (dot <= 0 || name.indexOf('.', dot + 1) < 0) return;
    const label = name.slice(0, dot);
    const zone = name.slice(dot + 1);
    const z = this.zoneSlot(zone);
    this.zoneQueries[z]!++;
    this.zoneLabels[z]!.add(hashText(label));
    if (looksRandom(label)) this.zoneRandom[z]!++;
  }

  /** The zone's slot; a new zone takes the lightest slot over, inheriting its count (space-saving). */
  private zoneSlot(zone: string): number {
    let lightest = 0;
    for (let i = 0; i < ZONES; i++) {
      if (this.zones[i] === zone) return i;
      if (this.zoneQueries[i]! < this.zoneQueries[lightest]!) lightest = i;
    }
    this.zones[lightest] = zone;
    this.zoneRandom[lightest] = 0;
    this.zoneLabels[lightest]!.reset();
    return lightest;
  }

  /** The busiest zone's slot, or -1. */
  topZone(): number {
    let top = -1;
    for (let i = 0; i < ZONES; i++) if (this.zones[i] !== '' && (top < 0 || this.zoneQueries[i]! > this.zoneQueries[top]!)) top = i;
    return top;
  }
}

// ---------------------------------------------------------------------------------------------
// Per-target state for one window.

/** No port seen yet / more than one port seen. */
const NO_PORT = -1;
const MIXED_PORTS = -2;

function notePort(current: number, port: number): number {
  if (current === NO_PORT) return port;
  return current === port ? current : MIXED_PORTS;
}

/** What one target received (and sent back) in the current window. */
class Target {
  readonly addr = new Uint32Array(4);
  v4 = true;
  /** Packet times (seconds) of the first and last packet counted at it. */
  first = 0;
  last = 0;
  /** Packets of every kind counted at it: what eviction ranks by. */
  total = 0;

  syn = 0;
  synBytes = 0;
  synPort = NO_PORT;
  /** Handshakes to it that completed (the client's ACK after its SYN). */
  completed = 0;
  readonly synSources = new Sources();

  udp = 0;
  udpBytes = 0;
  udpPort = NO_PORT;
  /** UDP packets it sent itself. */
  udpSent = 0;
  readonly udpSources = new Sources();
  /** UDP to port 53 at it (for a DNS flood's packets and bytes). */
  dnsPackets = 0;
  dnsBytes = 0;

  /** As a victim: bytes it sent to amplification ports, and bytes (and packets) it got back from them. */
  ampRequestBytes = 0;
  ampResponseBytes = 0;
  ampResponses = 0;
  ampPort = NO_PORT;

  /** DNS records about it as a server; made on first use, kept with the pooled entry. */
  dns: DnsTally | null = null;
  dnsUsed = false;

  reset(): void {
    this.first = 0;
    this.last = 0;
    this.total = 0;
    this.syn = 0;
    this.synBytes = 0;
    this.synPort = NO_PORT;
    this.completed = 0;
    this.synSources.reset();
    this.udp = 0;
    this.udpBytes = 0;
    this.udpPort = NO_PORT;
    this.udpSent = 0;
    this.udpSources.reset();
    this.dnsPackets = 0;
    this.dnsBytes = 0;
    this.ampRequestBytes = 0;
    this.ampResponseBytes = 0;
    this.ampResponses = 0;
    this.ampPort = NO_PORT;
    if (this.dnsUsed) this.dns!.reset();
    this.dnsUsed = false;
  }

  touch(t: number): void {
    if (this.total === 0 || t < this.first) this.first = t;
    if (t > this.last) this.last = t;
    this.total++;
  }
}

/**
 * Targets of the current window by address: open addressing over typed arrays (no allocation
 * per lookup), entries pooled and reused from window to window.
 */
class TargetTable {
  readonly entries: Target[] = [];
  count = 0;
  private readonly keys: Uint32Array;
  private readonly slots: Int32Array;
  private readonly mask: number;
  /** Per-run seed: crafted addresses cannot be chosen to collide. */
  private readonly seed = (Math.random() * 0x100000000) >>> 0;

  constructor(readonly cap: number) {
    let size = 16;
    while (size < cap * 2) size *= 2;
    this.keys = new Uint32Array(size * 4);
    this.slots = new Int32Array(size);
    this.mask = size - 1;
  }

  find(w: Uint32Array, at: number): Target | null {
    const keys = this.keys;
    let h = hashWords(this.seed, w, at) & this.mask;
    for (;;) {
      const s = this.slots[h]!;
      if (s === 0) return null;
      const o = h * 4;
      if (keys[o + 3] === w[at + 3] && keys[o + 2] === w[at + 2] && keys[o + 1] === w[at + 1] && keys[o] === w[at]) return this.entries[s - 1]!;
      h = (h + 1) & this.mask;
    }
  }

  /** A new entry for an address not in the table; null when the table is full. */
  insert(w: Uint32Array, at: number, v4: boolean): Target | null {
    if (this.count >= this.cap) return null;
    let e = this.entries[this.count];
    if (e === undefined) {
      e = new Target();
      this.entries.push(e);
    }
    e.reset();
    e.addr[0] = w[at]!;
    e.addr[1] = w[at + 1]!;
    e.addr[2] = w[at + 2]!;
    e.addr[3] = w[at + 3]!;
    e.v4 = v4;
    this.count++;
    this.place(e.addr, this.count);
    return e;
  }

  private place(w: Uint32Array, index: number): void {
    let h = hashWords(this.seed, w, 0) & this.mask;
    while (this.slots[h] !== 0) h = (h + 1) & this.mask;
    this.slots[h] = index;
    const o = h * 4;
    this.keys[o] = w[0]!;
    this.keys[o + 1] = w[1]!;
    this.keys[o + 2] = w[2]!;
    this.keys[o + 3] = w[3]!;
  }

  /** Empties the table (entries stay pooled). */
  clear(): void {
    this.slots.fill(0);
    this.count = 0;
  }

  /**
   * Evicts the lightest entries, at least a quarter of the table: those with at most 1 packet,
   * then 4, 16, ... until enough go. Returns how many went. Amortised: the table only fills
   * again after a quarter of its size in new targets.
   */
  evictLightest(): number {
    const want = Math.max(1, this.count >> 2);
    let limit = 1;
    for (;;) {
      let light = 0;
      for (let i = 0; i < this.count; i++) if (this.entries[i]!.total <= limit) light++;
      if (light >= want) break;
      limit *= 4;
    }
    let kept = 0;
    for (let i = 0; i < this.count; i++) {
      const e = this.entries[i]!;
      if (e.total > limit) {
        // Swap so the evicted objects stay pooled after the kept ones.
        this.entries[i] = this.entries[kept]!;
        this.entries[kept] = e;
        kept++;
      }
    }
    const evicted = this.count - kept;
    this.slots.fill(0);
    this.count = kept;
    for (let i = 0; i < kept; i++) this.place(this.entries[i]!.addr, i + 1);
    return evicted;
  }
}

// ---------------------------------------------------------------------------------------------
// Floods across windows.

/** A flood that is still going (or pausing): windows of one target and kind merged. */
interface OpenFlood {
  kind: Kind;
  target: string;
  targetPort: number;
  proto: 'TCP' | 'UDP';
  ipV: number;
  direction: Direction;
  sources: string[];
  readonly sourceSketch: Distinct;
  packets: number;
  bytes: number;
  start: number;
  end: number;
  windows: number;
  peakRate: number;
  /** SYN: completed handshakes; UDP: packets the target sent. */
  answered: number;
  dns: { queries: number; answers: number; nxdomain: number; names: Distinct; randomSubdomain: boolean; zone: string } | null;
  amp: { request: number; response: number } | null;
  /** Windows since it last flooded. */
  quiet: number;
  /** The window it last flooded in. */
  lastWindow: number;
}

/** What one window of one target and kind amounted to. */
interface WindowFinding {
  kind: Kind;
  packets: number;
  bytes: number;
  port: number;
  sources: Sources;
  answered: number;
}

/** Packet time of a packet in seconds. */
function timeOf(p: Packet): number {
  return p.tsSec + p.tsNsec * 1e-9;
}

function portTable(ports: readonly number[]): Uint8Array {
  const t = new Uint8Array(65536);
  for (const p of ports) if (Number.isInteger(p) && p >= 0 && p <= 65535) t[p] = 1;
  return t;
}

/**
 * EVE's timestamp for a packet time held as a float: half a microsecond is added because the
 * sum of seconds and nanoseconds can land a hair below the microsecond it was.
 */
function stamp(seconds: number): string {
  return timestampOf(seconds);
}

/** Rounds to two decimals for the record. */
function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

export function createFloodDetector(ctx: DetectorContext, options: FloodOptions): Detector {
  const windowSec = Math.max(1, options.window);
  const quietWindows = Math.max(0, options['quiet-windows']);
  const maxFloods = Math.max(1, options['max-floods']);
  const ampPorts = portTable(options['amplification-ports']);
  const ignorePorts = portTable(options['udp-ignore-ports']);
  const table = new TargetTable(Math.max(16, options['max-targets']));
  const floods = new Map<string, OpenFlood>();
  const scratch = new Uint32Array(4);
  const counters = { targets: 0, floods: 0, events: 0, syn: 0, udp: 0, dns_records: 0, evicted_targets: 0, evicted_floods: 0, errors: 0, time_jumps: 0 };

  let windowStart = 0;
  let windowEnd = 0;
  let windowSerial = 0;
  /** The latest packet time seen (seconds). */
  let now = 0;
  /** The last DNS server looked up by text, valid while `cacheEpoch` matches. */
  let cachedServer = '';
  let cachedTarget: Target | null = null;
  let cacheEpoch = -1;
  let tableEpoch = 0;

  /** The entry for an address, made when absent (evicting the lightest when the table is full). */
  function target(w: Uint32Array, at: number, v4: boolean): Target {
    const e = table.find(w, at);
    if (e !== null) return e;
    let made = table.insert(w, at, v4);
    if (made === null) {
      counters.evicted_targets += table.evictLightest();
      tableEpoch++;
      made = table.insert(w, at, v4)!;
    }
    counters.targets = table.count;
    return made;
  }

  function syn(p: Packet, t: number): void {
    counters.syn++;
    const e = target(p.addr, 4, p.ipVersion === 4);
    e.touch(t);
    e.syn++;
    e.synBytes += p.ipTotalLen;
    e.synPort = notePort(e.synPort, p.dstPort);
    e.synSources.add(p.addr, 0, p.ipVersion === 4);
  }

  function udp(p: Packet, t: number): void {
    counters.udp++;
    const v4 = p.ipVersion === 4;
    const len = p.ipTotalLen;
    const request = ampPorts[p.dstPort] === 1;
    // The sender: what it sent back (replies), and as a would-be victim, what it asked reflectors.
    // Only an address already followed is updated: making an entry for every DNS client's query
    // would fill the table with ordinary clients (a victim is followed once responses reach it).
    const sender = table.find(p.addr, 0);
    if (sender !== null) {
      sender.udpSent++;
      if (request) sender.ampRequestBytes += len;
    }
    if (ignorePorts[p.dstPort] === 1 && ampPorts[p.srcPort] !== 1) return;
    const e = target(p.addr, 4, v4);
    e.touch(t);
    e.udp++;
    e.udpBytes += len;
    e.udpPort = notePort(e.udpPort, p.dstPort);
    e.udpSources.add(p.addr, 0, v4);
    if (p.dstPort === 53) {
      e.dnsPackets++;
      e.dnsBytes += len;
    }
    if (ampPorts[p.srcPort] === 1) {
      e.ampResponses++;
      e.ampResponseBytes += len;
      e.ampPort = notePort(e.ampPort, p.srcPort);
    }
  }

  /** The server's DNS tally for a record's dest_ip; null when the address is not one. */
  function dnsTally(server: unknown): DnsTally | null {
    if (typeof server !== 'string') return null;
    let e: Target | null = null;
    if (server === cachedServer && cacheEpoch === tableEpoch) e = cachedTarget;
    else {
      if (!textToWords(server, scratch, 0)) return null;
      e = target(scratch, 0, isV4Mapped(scratch, 0));
      cachedServer = server;
      cachedTarget = e;
      cacheEpoch = tableEpoch;
    }
    if (e === null) return null;
    // Records come before their packet reaches the detector: the packet sets the times, unless there is none yet.
    if (e.total === 0 && now > 0) e.touch(now);
    if (e.dns === null) e.dns = new DnsTally();
    e.dnsUsed = true;
    return e.dns;
  }

  function dnsRecord(ev: DnsEvent): void {
    const d = ev.dns as unknown as Record<string, unknown>;
    if (typeof d !== 'object' || d === null) return;
    counters.dns_records++;
    const type = d.type;
    if (type === 'query' || type === 'request') {
      const tally = dnsTally(ev.dest_ip);
      if (tally === null) return;
      if (typeof ev.dest_port === 'number') tally.port = ev.dest_port;
      if (type === 'query') {
        if (typeof d.rrname === 'string') tally.query(d.rrname);
        return;
      }
      const qs = d.queries;
      if (!Array.isArray(qs)) return;
      // A message carries one question in practice; a hostile one is not allowed to cost more than a few.
      const n = Math.min(qs.length, 4);
      for (let i = 0; i < n; i++) {
        const q = qs[i] as { rrname?: unknown } | null;
        if (q !== null && typeof q === 'object' && typeof q.rrname === 'string') tally.query(q.rrname);
      }
      return;
    }
    if (type === 'answer' || type === 'response') {
      const tally = dnsTally(ev.dest_ip);
      if (tally === null) return;
      tally.answers++;
      if (d.rcode === 'NXDOMAIN') tally.nxdomain++;
    }
  }

  // --- judging a window ------------------------------------------------------------------------

  function judge(e: Target, span: number): void {
    if (e.syn > 0 && e.syn >= options['syn-rate'] * span) {
      const unanswered = 1 - Math.min(1, e.completed / e.syn);
      if (unanswered >= options['syn-unanswered-ratio']) {
        merge(e, { kind: 'syn', packets: e.syn, bytes: e.synBytes, port: e.synPort, sources: e.synSources, answered: e.completed });
      }
    }
    if (e.udp === 0 && !e.dnsUsed) return;
    let specific = false;
    const d = e.dnsUsed ? e.dns! : null;
    if (d !== null && d.queries > 0) {
      const q = d.queries;
      const nxRatio = d.answers > 0 ? d.nxdomain / d.answers : 0;
      const z = d.topZone();
      const zoneQueries = z < 0 ? 0 : d.zoneQueries[z]!;
      const random = z >= 0 && d.zoneLabels[z]!.estimate() >= options['dns-random-labels'] && zoneQueries * 2 >= q && d.zoneRandom[z]! * 2 >= zoneQueries;
      const shaped = random || nxRatio >= options['dns-nxdomain-ratio'];
      if (q >= options['dns-rate'] * span || (shaped && q >= options['dns-shaped-rate'] * span)) {
        specific = true;
        const f = merge(e, { kind: 'dns', packets: Math.max(q, e.dnsPackets), bytes: e.dnsBytes, port: d.port, sources: e.udpSources, answered: d.answers });
        const fd = f.dns!;
        fd.queries += q;
        fd.answers += d.answers;
        fd.nxdomain += d.nxdomain;
        fd.names.merge(d.names);
        if (random) {
          fd.randomSubdomain = true;
          fd.zone = d.zones[z]!;
        }
      }
    }
    const resp = e.ampResponseBytes;
    if (resp > 0 && resp >= options['amplification-byte-rate'] * span) {
      const req = e.ampRequestBytes;
      if (req === 0 || resp >= options['amplification-ratio'] * req) {
        specific = true;
        const f = merge(e, { kind: 'amplification', packets: e.ampResponses, bytes: resp, port: e.ampPort, sources: e.udpSources, answered: e.udpSent });
        f.amp!.request += req;
        f.amp!.response += resp;
      }
    }
    if (specific || e.udp === 0) return;
    if ((e.udp >= options['udp-rate'] * span || e.udpBytes >= options['udp-byte-rate'] * span) && e.udpSent <= options['udp-reply-ratio'] * e.udp) {
      merge(e, { kind: 'udp', packets: e.udp, bytes: e.udpBytes, port: e.udpPort, sources: e.udpSources, answered: e.udpSent });
    }
  }

  /** Which way the flood crossed HOME_NET's edge: the target's side, and most of the sampled sources' side. */
  function floodDirection(e: Target, s: Sources): Direction {
    let home = 0;
    for (let i = 0; i < s.count; i++) if (ctx.home(s.sample, i * 4)) home++;
    return directionOf(s.count > 0 && home * 2 >= s.count, ctx.home(e.addr, 0));
  }

  /** Adds a flood window to its open flood (made when new). */
  function merge(e: Target, w: WindowFinding): OpenFlood {
    const text = wordsToString(e.addr, 0, e.v4);
    const key = `${w.kind} ${text}`;
    let f = floods.get(key);
    if (f === undefined) {
      if (floods.size >= maxFloods) {
        const oldest = floods.keys().next().value as string;
        write(floods.get(oldest)!);
        floods.delete(oldest);
        counters.evicted_floods++;
      }
      f = {
        kind: w.kind,
        target: text,
        targetPort: w.port,
        proto: w.kind === 'syn' ? 'TCP' : 'UDP',
        ipV: e.v4 ? 4 : 6,
        direction: floodDirection(e, w.sources),
        sources: [],
        sourceSketch: new Distinct(256),
        packets: 0,
        bytes: 0,
        start: e.first,
        end: e.last,
        windows: 0,
        peakRate: 0,
        answered: 0,
        dns: w.kind === 'dns' ? { queries: 0, answers: 0, nxdomain: 0, names: new Distinct(1024), randomSubdomain: false, zone: '' } : null,
        amp: w.kind === 'amplification' ? { request: 0, response: 0 } : null,
        quiet: 0,
        lastWindow: windowSerial,
      };
      floods.set(key, f);
      counters.floods = floods.size;
    }
    const s = w.sources;
    for (let i = 0; i < s.count && f.sources.length < SAMPLE; i++) {
      const src = wordsToString(s.sample, i * 4, s.sampleV4[i] === 1);
      if (!f.sources.includes(src)) f.sources.push(src);
    }
    f.sourceSketch.merge(s.distinct);
    if (f.targetPort !== w.port) f.targetPort = f.windows === 0 ? w.port : MIXED_PORTS;
    f.packets += w.packets;
    f.bytes += w.bytes;
    f.answered += w.answered;
    if (e.first < f.start) f.start = e.first;
    if (e.last > f.end) f.end = e.last;
    f.windows++;
    f.peakRate = Math.max(f.peakRate, w.packets / Math.max(1, e.last - e.first));
    f.quiet = 0;
    f.lastWindow = windowSerial;
    return f;
  }

  function write(f: OpenFlood): void {
    const duration = Math.max(0, f.end - f.start);
    const out = atTime(f.start, 'flood') as FloodEvent;
    if (f.sources.length > 0) out.src_ip = f.sources[0]!;
    out.dest_ip = f.target;
    if (f.targetPort >= 0) out.dest_port = f.targetPort;
    out.ip_v = f.ipV;
    out.proto = f.proto;
    const rec: FloodRecord = {
      kind: f.kind,
      direction: f.direction,
      target: f.target,
      ...(f.targetPort >= 0 ? { target_port: f.targetPort } : {}),
      // Every source is in the sample until it fills: then the count is exact.
      source_count: f.sources.length < SAMPLE ? f.sources.length : Math.max(SAMPLE, f.sourceSketch.estimate()),
      sources: f.sources,
      packets: f.packets,
      bytes: f.bytes,
      rate: round2(f.packets / Math.max(1, duration)),
      peak_rate: round2(f.peakRate),
      answered: f.answered,
      windows: f.windows,
      duration: round2(duration),
      start: stamp(f.start),
      end: stamp(f.end),
    };
    if (f.dns !== null) {
      rec.dns = {
        queries: f.dns.queries,
        distinct_names: f.dns.names.estimate(),
        random_subdomain: f.dns.randomSubdomain,
        ...(f.dns.randomSubdomain ? { zone: f.dns.zone } : {}),
        nxdomain_ratio: f.dns.answers > 0 ? round2(f.dns.nxdomain / f.dns.answers) : 0,
      };
    }
    if (f.amp !== null) {
      rec.amplification = { request_bytes: f.amp.request, response_bytes: f.amp.response, ratio: f.amp.request > 0 ? round2(f.amp.response / f.amp.request) : 0 };
    }
    out.flood = rec;
    counters.events++;
    ctx.emit(out);
  }

  /** Ages every flood that did not flood in the window just judged (or in `skipped` empty ones); writes those that stopped. */
  function age(skipped: number, serial: number): void {
    for (const [key, f] of floods) {
      if (f.lastWindow === serial && skipped === 0) continue;
      f.quiet += f.lastWindow === serial ? skipped : skipped + 1;
      if (f.quiet > quietWindows) {
        floods.delete(key);
        write(f);
      }
    }
    counters.floods = floods.size;
  }

  /** Judges the current window (over `span` seconds) and starts the next. */
  function closeWindow(span: number): void {
    for (let i = 0; i < table.count; i++) judge(table.entries[i]!, span);
    table.clear();
    tableEpoch++;
    counters.targets = 0;
  }

  /** Packet time reached `t`, at or past the current window's end. */
  /** A far-future packet time waiting for a second packet to confirm it. */
  let jumpTo = 0;

  function roll(t: number): void {
    const start = Math.floor(t / windowSec) * windowSec;
    if (windowEnd === 0) {
      windowStart = start;
      windowEnd = start + windowSec;
      return;
    }
    const serial = windowSerial;
    closeWindow(windowSec);
    const skipped = Math.max(0, Math.round((start - windowEnd) / windowSec));
    age(skipped, serial);
    windowSerial++;
    windowStart = start;
    windowEnd = start + windowSec;
  }

  return {
    name: 'flood',
    counters,
    packet(p: Packet, flow: Flow | null, dir: number): void {
      const proto = p.proto;
      if (proto !== IpProto.TCP && proto !== IpProto.UDP) return;
      if (p.ipVersion === 0) return;
      try {
        if (p.tsSec >= windowEnd) {
          // A time more than a day ahead is believed only once a second packet agrees: one
          // garbled timestamp must not throw every window away (or hold one open for ever).
          if (windowEnd > 0 && p.tsSec - windowEnd > MAX_TIME_JUMP && (jumpTo === 0 || Math.abs(p.tsSec - jumpTo) > MAX_TIME_JUMP)) {
            jumpTo = p.tsSec;
            counters.time_jumps++;
            return;
          }
          jumpTo = 0;
          roll(p.tsSec);
        }
        if (proto === IpProto.TCP) {
          const f = p.tcpFlags & (TcpFlag.SYN | TcpFlag.ACK | TcpFlag.RST | TcpFlag.FIN);
          if (f === TcpFlag.SYN) {
            const t = timeOf(p);
            now = t;
            syn(p, t);
          } else if (f === TcpFlag.ACK && dir === 0 && flow !== null && flow.pktsToServer === 2) {
            // The client's first ACK: its handshake completed.
            const e = table.find(p.addr, 4);
            if (e !== null) e.completed++;
          }
          return;
        }
        const t = timeOf(p);
        now = t;
        udp(p, t);
      } catch {
        counters.errors++;
      }
    },
    record(ev: EveEvent): void {
      if (ev.event_type !== 'dns') return;
      try {
        dnsRecord(ev as DnsEvent);
      } catch {
        counters.errors++;
      }
    },
    tick(t: number): void {
      try {
        if (windowEnd !== 0 && t >= windowEnd) roll(t);
      } catch {
        counters.errors++;
      }
    },
    finish(): void {
      try {
        if (windowEnd !== 0) closeWindow(Math.max(1, now - windowStart));
        for (const f of floods.values()) write(f);
        floods.clear();
        counters.floods = 0;
      } catch {
        counters.errors++;
      }
    },
  };
}
