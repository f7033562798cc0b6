import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { LinkType } from '../capture/linktype.js';
import { putU16be, putU32be, putU32le } from '../wire/bytes.js';
import { finishChecksum, sumWords } from '../wire/checksum.js';

/**
 * The benchmark capture: a gigabyte of mixed traffic (HTTP, TLS, DNS, bulk TCP) over thousands
 * of interleaved flows, each with a handshake and a close. It is crafted from per-flow header
 * templates whose fields (lengths, ids, seq/ack, checksums) are patched in place, with payload
 * checksums taken from prefix sums over shared payload pools, so a gigabyte takes seconds.
 * Everything random comes from one seeded generator: the same options give the same bytes.
 */

/** Bumped whenever the generator's output changes, so a stale capture is rebuilt. */
export const BENCH_CAPTURE_VERSION = 2;

export interface BenchCaptureOptions {
  /** The capture is at least this many bytes (file header and record headers included). */
  targetBytes?: number;
  seed?: number;
  /** Flows open at once while the capture is being filled. */
  concurrentFlows?: number;
  /** Called now and then with bytes written so far. */
  onProgress?: (written: number, target: number) => void;
}

/** What a benchmark capture holds; written next to it as JSON. */
export interface BenchCaptureInfo {
  version: number;
  seed: number;
  targetBytes: number;
  concurrentFlows: number;
  /** File size in bytes. */
  bytes: number;
  packets: number;
  /** Sum of captured frame lengths (caplen), the bytes a Gbit/s figure counts. */
  capturedBytes: number;
  meanPacketBytes: number;
  flows: number;
  flowsByKind: Record<KindName, number>;
  packetsByKind: Record<KindName, number>;
  capturedBytesByKind: Record<KindName, number>;
  ipv6Flows: number;
  /** TCP payload bytes, both directions: what in-order reassembly should deliver. */
  tcpPayloadBytes: number;
  /** Mean number of flows open (between first and last packet) when a packet was written. */
  meanOpenFlows: number;
  /** Packets written after new flows stopped being started (the open flows winding down). */
  drainPackets: number;
  /** Packet time from first to last frame, in seconds. */
  durationSeconds: number;
  firstTimestamp: string;
  generationSeconds: number;
}

const DEFAULT_TARGET = 1e9;
const DEFAULT_SEED = 0x0b5e55ed;
const DEFAULT_CONCURRENT = 5000;

const KIND_NAMES = ['http', 'tls', 'dns', 'bulk'] as const;
type KindName = (typeof KIND_NAMES)[number];
const Kind = { HTTP: 0, TLS: 1, DNS: 2, BULK: 3 } as const;
/**
 * Share of new flows by kind. Tuned so the mean captured packet is near 600 bytes: TCP's full
 * 1514-byte segments and 54-byte ACKs average ~750, and DNS (most flows, as on real networks)
 * supplies the small packets. Bulk flows are few but carry about a fifth of the bytes.
 */
const KIND_WEIGHTS = [0.19, 0.15, 1.2, 0.002];
/**
 * How long a flow lasts in packet time, by kind: [lowest, highest] seconds, spread log-uniformly
 * and independent of the flow's size (elephants are faster than mice). With 5000 flows open
 * this spreads a gigabyte over about a minute of packet time.
 */
const KIND_DURATION: ReadonlyArray<readonly [number, number]> = [[0.5, 20], [0.5, 20], [0.01, 0.3], [2, 20]];
/** Seconds over which the capture's byte rate is measured, to foresee when it will end. */
const RATE_WINDOW = 5;
/** The shortest a flow is squeezed to near the end of the capture. */
const MIN_DURATION = 0.05;
const KIND_TOTAL = KIND_WEIGHTS.reduce((a, b) => a + b, 0);
/** Share of flows carried over IPv6. */
const IPV6_SHARE = 0.1;

const ETH = 14;
const MSS = 1460;
const FLAG_FIN = 0x01;
const FLAG_SYN = 0x02;
const FLAG_PSH = 0x08;
const FLAG_ACK = 0x10;
/** SYN options as Linux sends them without timestamps: MSS 1460, NOP, NOP, SACK-permitted, NOP, window scale 7. */
const SYN_OPTIONS = Buffer.from([0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x04, 0x02, 0x01, 0x03, 0x03, 0x07]);
const SYN_OPTIONS_SUM = sumWords(SYN_OPTIONS, 0, SYN_OPTIONS.length);
const SYN_WINDOW = 64240;
/** 502 × 2^7 ≈ 64 KiB, the scaled window after the handshake. */
const WINDOW = 502;
/** Packet time starts at 2024-05-01T10:00:00Z. */
const EPOCH = 1714557600;
const CLIENTS = 20000;
const SERVERS = 762;

/** mulberry32: small, fast and good enough to make traffic look varied, and reproducible from a seed. */
export class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  float(): number {
    return this.u32() / 4294967296;
  }
  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }
  /** Spread evenly over orders of magnitude, as object and transfer sizes are. */
  logUniform(lo: number, hi: number): number {
    return lo * Math.pow(hi / lo, this.float());
  }
  exp(mean: number): number {
    return -Math.log(1 - this.float()) * mean;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)]!;
  }
}

/**
 * A payload pool: bytes that payloads are sliced from, with prefix sums so the checksum of any
 * slice at any position costs two lookups. `even[i]` sums bytes before i with even-indexed bytes
 * as the high byte of a 16-bit word; `odd` the other way round. Slice sums stay below 2^32,
 * so wrapped differences of the Uint32 prefixes are exact.
 */
class Pool {
  readonly even: Uint32Array;
  readonly odd: Uint32Array;
  constructor(readonly bytes: Buffer) {
    const n = bytes.length;
    this.even = new Uint32Array(n + 1);
    this.odd = new Uint32Array(n + 1);
    let e = 0;
    let o = 0;
    for (let i = 0; i < n; i++) {
      const b = bytes[i]!;
      if ((i & 1) === 0) {
        e = (e + (b << 8)) >>> 0;
        o = (o + b) >>> 0;
      } else {
        e = (e + b) >>> 0;
        o = (o + (b << 8)) >>> 0;
      }
      this.even[i + 1] = e;
      this.odd[i + 1] = o;
    }
  }

  /** Checksum contribution of bytes [a, b) placed so that byte a lands at an even (high) position when `evenPos`. */
  sum(a: number, b: number, evenPos: boolean): number {
    const p = evenPos === ((a & 1) === 0) ? this.even : this.odd;
    return (p[b]! - p[a]!) >>> 0;
  }
}

/** One piece of a send: a slice of a pool, or literal bytes (pool null). */
interface Piece {
  buf: Buffer;
  pool: Pool | null;
  start: number;
  len: number;
}

/** What one side sends in one go (a request, a response, a TLS flight): pieces laid end to end. */
class Send {
  readonly pieces: Piece[] = [];
  /** Offset of each piece within the send. */
  readonly at: number[] = [];
  length = 0;
  constructor(readonly dir: number) {}

  literal(bytes: Buffer): this {
    this.push({ buf: bytes, pool: null, start: 0, len: bytes.length });
    return this;
  }

  slice(pool: Pool, len: number, rng: Prng): this {
    let left = len;
    while (left > 0) {
      const n = Math.min(left, pool.bytes.length >>> 1);
      this.push({ buf: pool.bytes, pool, start: rng.int(0, pool.bytes.length - n), len: n });
      left -= n;
    }
    return this;
  }

  private push(p: Piece): void {
    if (p.len === 0) return;
    this.pieces.push(p);
    this.at.push(this.length);
    this.length += p.len;
  }

  /** Copies [off, off+len) of the send to out[to..] and returns its checksum sum (unfolded). */
  copy(off: number, len: number, out: Buffer, to: number): number {
    let sum = 0;
    let pos = 0;
    const pieces = this.pieces;
    let i = 0;
    while (i + 1 < pieces.length && this.at[i + 1]! <= off) i++;
    for (; pos < len; i++) {
      const p = pieces[i]!;
      const skip = off + pos - this.at[i]!;
      const n = Math.min(p.len - skip, len - pos);
      const a = p.start + skip;
      p.buf.copy(out, to + pos, a, a + n);
      if (p.pool !== null) sum += p.pool.sum(a, a + n, (pos & 1) === 0);
      else {
        const s = sumWords(p.buf, a, n);
        sum += (pos & 1) === 0 ? s : swapFolded(s);
      }
      pos += n;
    }
    return sum;
  }
}

/** A run of bytes at an odd position counts with its bytes swapped (RFC 1071, byte order independence). */
function swapFolded(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ((s & 0xff) << 8) | (s >>> 8);
}

/** One crafted flow: header templates for both directions and the packets it still has to send. */
class Job {
  /** Ethernet + IP + transport header (TCP without options, or UDP), per direction. */
  readonly tmpl: [Buffer, Buffer];
  /** IPv4 header sum without total length, id and checksum, per direction. */
  readonly ipSum = [0, 0];
  /** Pseudo-header addresses and protocol plus the template's transport header, per direction. */
  readonly l4Sum = [0, 0];
  readonly ipId = [0, 0];
  readonly seq = [0, 0];
  readonly l4Off: number;
  readonly sends: Send[] = [];
  /** Packets, three numbers each: dir | flags << 1 | payload length << 9, send index, offset in the send. */
  readonly ops: number[] = [];
  op = 0;
  /** Pcap bytes (record headers included) of all its packets. */
  totalBytes = 0;
  payloadBytes = 0;
  /** Packet time of its next packet, seconds from the capture's start. */
  next = 0;
  /** Mean gap between its packets, seconds. */
  gap = 0;

  constructor(
    readonly kind: number,
    readonly v6: boolean,
    readonly udp: boolean,
    rng: Prng,
  ) {
    this.l4Off = ETH + (v6 ? 40 : 20);
    const l4Len = udp ? 8 : 20;
    this.tmpl = [Buffer.alloc(this.l4Off + l4Len), Buffer.alloc(this.l4Off + l4Len)];
    this.ipId[0] = rng.int(0, 0xffff);
    this.ipId[1] = rng.int(0, 0xffff);
    this.seq[0] = rng.u32();
    this.seq[1] = rng.u32();
  }

  get done(): boolean {
    return this.op >= this.ops.length;
  }

  /** Packet time the flow is expected to last, seconds. */
  get duration(): number {
    return (this.ops.length / 3) * this.gap;
  }

  set duration(seconds: number) {
    this.gap = seconds / (this.ops.length / 3);
  }

  /** Fills both templates for client `c` and server `s` (addresses as 4 or 16 bytes). */
  address(client: Buffer, clientMac: Buffer, cport: number, server: Buffer, sport: number): void {
    const proto = this.udp ? 17 : 6;
    for (let dir = 0; dir < 2; dir++) {
      const t = this.tmpl[dir]!;
      const src = dir === 0 ? client : server;
      const dst = dir === 0 ? server : client;
      const sp = dir === 0 ? cport : sport;
      const dp = dir === 0 ? sport : cport;
      if (dir === 0) {
        GATEWAY_MAC.copy(t, 0);
        clientMac.copy(t, 6);
      } else {
        clientMac.copy(t, 0);
        GATEWAY_MAC.copy(t, 6);
      }
      putU16be(t, 12, this.v6 ? 0x86dd : 0x0800);
      if (this.v6) {
        putU32be(t, ETH, 0x60000000);
        t[ETH + 6] = proto;
        t[ETH + 7] = dir === 0 ? 64 : 54;
        src.copy(t, ETH + 8);
        dst.copy(t, ETH + 24);
      } else {
        t[ETH] = 0x45;
        if (!this.udp) putU16be(t, ETH + 6, 0x4000); // DF, as TCP stacks set it
        t[ETH + 8] = dir === 0 ? 64 : 54;
        t[ETH + 9] = proto;
        src.copy(t, ETH + 12);
        dst.copy(t, ETH + 16);
        this.ipSum[dir] = sumWords(t, ETH, 20);
      }
      const l4 = this.l4Off;
      putU16be(t, l4, sp);
      putU16be(t, l4 + 2, dp);
      if (!this.udp) putU16be(t, l4 + 14, WINDOW);
      this.l4Sum[dir] = sumWords(src, 0, src.length) + sumWords(dst, 0, dst.length) + proto + sumWords(t, l4, this.udp ? 8 : 20);
    }
  }

  private add(dir: number, flags: number, send: number, off: number, len: number): void {
    this.ops.push(dir | (flags << 1) | (len << 9), send, off);
    this.totalBytes += 16 + this.l4Off + (this.udp ? 8 : (flags & FLAG_SYN) !== 0 ? 32 : 20) + len;
    this.payloadBytes += len;
  }

  /** Plans a TCP connection: handshake, the sends cut into MSS segments with the peer's ACKs, then FIN both ways. */
  planTcp(rng: Prng, ackEvery: number): void {
    this.add(0, FLAG_SYN, 0, 0, 0);
    this.add(1, FLAG_SYN | FLAG_ACK, 0, 0, 0);
    this.add(0, FLAG_ACK, 0, 0, 0);
    for (let s = 0; s < this.sends.length; s++) {
      const send = this.sends[s]!;
      const d = send.dir;
      let n = 0;
      for (let off = 0; off < send.length; off += MSS) {
        const len = Math.min(MSS, send.length - off);
        const last = off + len >= send.length;
        this.add(d, FLAG_ACK | (last ? FLAG_PSH : 0), s, off, len);
        if (last || ++n % ackEvery === 0) this.add(1 - d, FLAG_ACK, 0, 0, 0);
      }
    }
    const closer = rng.float() < 0.6 ? 0 : 1;
    this.add(closer, FLAG_FIN | FLAG_ACK, 0, 0, 0);
    this.add(1 - closer, FLAG_FIN | FLAG_ACK, 0, 0, 0);
    this.add(closer, FLAG_ACK, 0, 0, 0);
  }

  /** Plans UDP: each send is one datagram. */
  planUdp(): void {
    for (let s = 0; s < this.sends.length; s++) this.add(this.sends[s]!.dir, 0, s, 0, this.sends[s]!.length);
  }

  /** Writes the next packet at out[f..] (the frame, after its record header); returns its frame length. */
  emit(out: Buffer, f: number): number {
    const ops = this.ops;
    const i = this.op;
    this.op += 3;
    const packed = ops[i]!;
    const dir = packed & 1;
    const flags = (packed >>> 1) & 0xff;
    const len = packed >>> 9;
    const l4 = this.l4Off;
    const t = this.tmpl[dir]!;
    t.copy(out, f);
    let l4Len: number;
    if (this.udp) l4Len = 8 + len;
    else l4Len = ((flags & FLAG_SYN) !== 0 ? 32 : 20) + len;
    const hdr = l4Len - len;
    if (hdr === 32) SYN_OPTIONS.copy(out, f + l4 + 20);
    const paySum = len > 0 ? this.sends[ops[i + 1]!]!.copy(ops[i + 2]!, len, out, f + l4 + hdr) : 0;
    if (this.v6) putU16be(out, f + ETH + 4, l4Len);
    else {
      const total = 20 + l4Len;
      const id = this.ipId[dir]!;
      this.ipId[dir] = (id + 1) & 0xffff;
      putU16be(out, f + ETH + 2, total);
      putU16be(out, f + ETH + 4, id);
      putU16be(out, f + ETH + 10, finishChecksum(this.ipSum[dir]! + total + id));
    }
    if (this.udp) {
      putU16be(out, f + l4 + 4, l4Len);
      const c = finishChecksum(this.l4Sum[dir]! + l4Len + l4Len + paySum);
      putU16be(out, f + l4 + 6, c === 0 ? 0xffff : c);
      return l4 + l4Len;
    }
    const seq = this.seq[dir]!;
    const ack = (flags & FLAG_ACK) !== 0 ? this.seq[1 - dir]! : 0;
    putU32be(out, f + l4 + 4, seq);
    putU32be(out, f + l4 + 8, ack);
    const offFlags = ((hdr >>> 2) << 12) | flags;
    putU16be(out, f + l4 + 12, offFlags);
    let sum = this.l4Sum[dir]! + l4Len + (seq >>> 16) + (seq & 0xffff) + (ack >>> 16) + (ack & 0xffff) + offFlags + paySum;
    if (hdr === 32) {
      putU16be(out, f + l4 + 14, SYN_WINDOW);
      sum += SYN_OPTIONS_SUM + SYN_WINDOW - WINDOW;
    }
    putU16be(out, f + l4 + 16, finishChecksum(sum));
    this.seq[dir] = (seq + len + ((flags & (FLAG_SYN | FLAG_FIN)) !== 0 ? 1 : 0)) >>> 0;
    return l4 + l4Len;
  }
}

const GATEWAY_MAC = Buffer.from([0x02, 0x00, 0x00, 0x00, 0x00, 0x01]);

/** A min-heap of jobs by the time of their next packet. */
class JobHeap {
  readonly items: Job[] = [];
  get size(): number {
    return this.items.length;
  }
  push(job: Job): void {
    const a = this.items;
    let i = a.length;
    a.push(job);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent]!.next <= job.next) break;
      a[i] = a[parent]!;
      i = parent;
    }
    a[i] = job;
  }
  /** Sifts the top down after its time moved on, or replaces it with `job`, or removes it (null). */
  replaceTop(job: Job | null): void {
    const a = this.items;
    let item: Job;
    if (job !== null) item = job;
    else {
      item = a.pop()!;
      if (a.length === 0) return;
    }
    const n = a.length;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && a[c + 1]!.next < a[c]!.next) c++;
      if (a[c]!.next >= item.next) break;
      a[i] = a[c]!;
      i = c;
    }
    a[i] = item;
  }
}

/** Writes pcap records straight into a large buffer, flushed in big blocks. */
class RecordBuffer {
  readonly buf = Buffer.allocUnsafe(8 << 20);
  used = 0;
  written = 0;
  constructor(private readonly fd: number) {
    putU32le(this.buf, 0, 0xa1b2c3d4);
    this.buf.writeUInt16LE(2, 4);
    this.buf.writeUInt16LE(4, 6);
    this.buf.writeUInt32LE(0, 8);
    this.buf.writeUInt32LE(0, 12);
    this.buf.writeUInt32LE(262144, 16);
    this.buf.writeUInt32LE(LinkType.ETHERNET, 20);
    this.used = 24;
  }
  /** Makes room for `n` bytes and returns where they go. */
  reserve(n: number): number {
    if (this.used + n > this.buf.length) this.flush();
    return this.used;
  }
  commit(n: number): void {
    this.used += n;
  }
  flush(): void {
    let off = 0;
    while (off < this.used) off += writeSync(this.fd, this.buf, off, this.used - off);
    this.written += this.used;
    this.used = 0;
  }
}

/** Everything the flow builders share: the generator, address pools and payload pools. */
class Crafter {
  readonly text: Pool;
  readonly random: Pool;
  readonly nextPort = new Uint16Array(CLIENTS);
  readonly clientMacs: Buffer[] = [];

  constructor(readonly rng: Prng) {
    this.text = new Pool(htmlText(rng, 1 << 20));
    const random = Buffer.allocUnsafe(8 << 20);
    for (let i = 0; i < random.length; i += 4) random.writeUInt32LE(rng.u32(), i);
    this.random = new Pool(random);
    for (let i = 0; i < CLIENTS; i++) {
      this.nextPort[i] = rng.int(32768, 60999);
      this.clientMacs.push(Buffer.from([0x02, 0x42, 0x0a, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff]));
    }
  }

  /** A new flow of the given kind, planned to the last packet. */
  job(kind: number = this.kind()): Job {
    const rng = this.rng;
    const v6 = kind !== Kind.DNS && rng.float() < IPV6_SHARE;
    const job = new Job(kind, v6, kind === Kind.DNS, rng);
    const c = rng.int(0, CLIENTS - 1);
    let cport = this.nextPort[c]!;
    this.nextPort[c] = cport >= 60999 ? 32768 : cport + 1;
    if (cport < 32768) cport = 32768;
    const client = v6 ? ipv6Address(0x20010db8, 0x00010000, c) : ipv4Address(0x0a100000 + Math.floor(c / 254) * 256 + 1 + (c % 254));
    let server: Buffer;
    let sport: number;
    switch (kind) {
      case Kind.HTTP: {
        const s = rng.int(0, SERVERS - 1);
        server = v6 ? ipv6Address(0x20010db8, 0x00ff0000, s) : serverV4(s);
        sport = rng.float() < 0.05 ? 8080 : 80;
        this.http(job, s);
        break;
      }
      case Kind.TLS: {
        const s = rng.int(0, SERVERS - 1);
        server = v6 ? ipv6Address(0x20010db8, 0x00ff0000, s) : serverV4(s);
        sport = 443;
        this.tls(job, s);
        break;
      }
      case Kind.DNS:
        server = ipv4Address(rng.float() < 0.7 ? 0x0a000035 : 0x0a000135); // 10.0.0.53, 10.0.1.53
        sport = 53;
        this.dns(job);
        break;
      default: {
        const s = rng.int(0, 49);
        server = v6 ? ipv6Address(0x20010db8, 0x00fe0000, s) : ipv4Address(0x0a0a0000 + 10 + s);
        sport = rng.pick([445, 22, 873, 2049]);
        this.bulk(job);
      }
    }
    job.address(client, this.clientMacs[c]!, cport, server, sport);
    if (job.udp) job.planUdp();
    else job.planTcp(rng, rng.float() < 0.6 ? 1 : 2); // some stacks ACK every segment, some every other
    const [lo, hi] = KIND_DURATION[kind]!;
    job.duration = rng.logUniform(lo, hi);
    return job;
  }

  /** A kind for a new flow, by KIND_WEIGHTS. */
  kind(): number {
    let x = this.rng.float() * KIND_TOTAL;
    let k = 0;
    while (k < KIND_WEIGHTS.length - 1 && x >= KIND_WEIGHTS[k]!) x -= KIND_WEIGHTS[k++]!;
    return k;
  }

  private http(job: Job, s: number): void {
    const rng = this.rng;
    const host = `www.${rng.pick(WORDS)}${s}.example`;
    const transactions = rng.float() < 0.65 ? 1 : rng.int(2, 4);
    for (let t = 0; t < transactions; t++) {
      const post = rng.float() < 0.08;
      const path = `/${rng.pick(WORDS)}/${rng.pick(WORDS)}-${rng.int(1, 99999)}.${rng.pick(['html', 'js', 'css', 'png', 'json'])}`;
      const bodyLen = post ? rng.int(40, 2000) : 0;
      const req = new Send(0).literal(
        Buffer.from(
          `${post ? 'POST' : 'GET'} ${path}${post ? '' : `?v=${rng.u32().toString(16)}`} HTTP/1.1\r\nHost: ${host}\r\n` +
            `User-Agent: ${rng.pick(USER_AGENTS)}\r\nAccept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n` +
            `Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n` +
            (post ? `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${bodyLen}\r\n` : '') +
            `Cookie: session=${rng.u32().toString(16)}${rng.u32().toString(16)}\r\n\r\n`,
          'latin1',
        ),
      );
      if (post) req.slice(this.text, bodyLen, rng);
      job.sends.push(req);
      // A cached object comes back as a bodiless 304.
      const notModified = !post && rng.float() < 0.15;
      const size = notModified ? 0 : Math.floor(rng.logUniform(200, 100_000));
      const date = `Wed, 01 May 2024 10:${String(rng.int(0, 59)).padStart(2, '0')}:00 GMT`;
      const resp = new Send(1).literal(
        Buffer.from(
          (notModified
            ? `HTTP/1.1 304 Not Modified\r\nServer: nginx/1.24.0\r\nDate: ${date}\r\nConnection: keep-alive\r\n`
            : `HTTP/1.1 200 OK\r\nServer: nginx/1.24.0\r\nDate: ${date}\r\n` +
              `Content-Type: text/html; charset=utf-8\r\nContent-Length: ${size}\r\nConnection: keep-alive\r\n`) +
            `Cache-Control: max-age=${rng.int(60, 86400)}\r\nETag: "${rng.u32().toString(16)}"\r\n\r\n`,
          'latin1',
        ),
      );
      resp.slice(this.text, size, rng);
      job.sends.push(resp);
    }
  }

  /** A TLS 1.2 full handshake (ECDHE-RSA, AES-GCM), then application data records both ways. */
  private tls(job: Job, s: number): void {
    const rng = this.rng;
    const r = this.random;
    job.sends.push(new Send(0).literal(clientHello(rng, `${rng.pick(WORDS)}.${rng.pick(WORDS)}${s}.example`)));
    const serverHello = Buffer.from([
      0x16, 0x03, 0x03, 0x00, 0x51, 0x02, 0x00, 0x00, 0x4d, 0x03, 0x03,
      ...bytes(rng, 32), 0x20, ...bytes(rng, 32), 0xc0, 0x2f, 0x00,
      0x00, 0x05, 0xff, 0x01, 0x00, 0x01, 0x00,
    ]);
    const ske = Buffer.from([0x16, 0x03, 0x03, 0x01, 0x2c, 0x0c, 0x00, 0x01, 0x28, 0x03, 0x00, 0x1d, 0x20]);
    const flight = new Send(1)
      .literal(serverHello)
      .literal(CERTIFICATE_RECORD)
      .literal(ske).slice(r, 32, rng).literal(Buffer.from([0x08, 0x04, 0x01, 0x00])).slice(r, 256, rng)
      .literal(Buffer.from([0x16, 0x03, 0x03, 0x00, 0x04, 0x0e, 0x00, 0x00, 0x00]));
    job.sends.push(flight);
    job.sends.push(
      new Send(0)
        .literal(Buffer.from([0x16, 0x03, 0x03, 0x00, 0x25, 0x10, 0x00, 0x00, 0x21, 0x20])).slice(r, 32, rng)
        .literal(Buffer.from([0x14, 0x03, 0x03, 0x00, 0x01, 0x01, 0x16, 0x03, 0x03, 0x00, 0x28])).slice(r, 40, rng),
    );
    job.sends.push(new Send(1).literal(Buffer.from([0x14, 0x03, 0x03, 0x00, 0x01, 0x01, 0x16, 0x03, 0x03, 0x00, 0x28])).slice(r, 40, rng));
    const exchanges = rng.float() < 0.5 ? 1 : rng.int(2, 5);
    for (let e = 0; e < exchanges; e++) {
      job.sends.push(appData(new Send(0), r, rng.int(150, 1200), rng));
      job.sends.push(appData(new Send(1), r, Math.floor(rng.logUniform(300, 100_000)), rng));
    }
  }

  /** One to three queries from one source port, each answered. */
  private dns(job: Job): void {
    const rng = this.rng;
    const queries = rng.float() < 0.6 ? 1 : rng.int(2, 3);
    for (let q = 0; q < queries; q++) {
      const id = rng.int(0, 0xffff);
      const name = `${rng.pick(['www', 'api', 'cdn', 'mail', 'static', 'img', 'login', 'ads'])}${rng.int(0, 99)}.${rng.pick(WORDS)}.${rng.pick(['com', 'net', 'org', 'example', 'io'])}`;
      const qtype = rng.float() < 0.7 ? 1 : rng.float() < 0.7 ? 28 : 65;
      job.sends.push(new Send(0).literal(dnsMessage(rng, id, name, qtype, false)));
      job.sends.push(new Send(1).literal(dnsMessage(rng, id, name, qtype, true)));
    }
  }

  /** A large transfer one way (download or upload) after a short request. */
  private bulk(job: Job): void {
    const rng = this.rng;
    const up = rng.float() < 0.3;
    job.sends.push(new Send(0).slice(this.random, rng.int(100, 400), rng));
    job.sends.push(new Send(1).slice(this.random, rng.int(60, 200), rng));
    job.sends.push(new Send(up ? 0 : 1).slice(this.random, Math.floor(rng.logUniform(256 * 1024, 4 * 1024 * 1024)), rng));
  }
}

function appData(send: Send, pool: Pool, size: number, rng: Prng): Send {
  // AES-GCM records: 8-byte explicit nonce and 16-byte tag around at most 16 KiB of plaintext.
  for (let left = size; left > 0; ) {
    const plain = Math.min(left, 16384);
    left -= plain;
    const h = Buffer.from([0x17, 0x03, 0x03, 0, 0]);
    putU16be(h, 3, plain + 24);
    send.literal(h).slice(pool, plain + 24, rng);
  }
  return send;
}

function clientHello(rng: Prng, sni: string): Buffer {
  const name = Buffer.from(sni, 'latin1');
  const ext: number[] = [];
  const u16 = (v: number): number[] => [(v >>> 8) & 0xff, v & 0xff];
  ext.push(...u16(0x0000), ...u16(name.length + 5), ...u16(name.length + 3), 0, ...u16(name.length), ...name);
  ext.push(...u16(0x0017), 0, 0); // extended master secret
  ext.push(...u16(0xff01), 0, 1, 0); // renegotiation info
  ext.push(...u16(0x000a), 0, 8, 0, 6, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18); // groups: x25519, P-256, P-384
  ext.push(...u16(0x000b), 0, 2, 1, 0); // point formats
  ext.push(...u16(0x0023), 0, 0); // session ticket
  ext.push(...u16(0x0010), 0, 14, 0, 12, 2, 0x68, 0x32, 8, ...Buffer.from('http/1.1')); // ALPN h2, http/1.1
  ext.push(...u16(0x000d), 0, 20, 0, 18, 4, 3, 5, 3, 6, 3, 8, 4, 8, 5, 8, 6, 4, 1, 5, 1, 6, 1); // signature algorithms
  const suites = [0xc02b, 0xc02f, 0xcca9, 0xcca8, 0xc02c, 0xc030, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035];
  const body = [0x03, 0x03, ...bytes(rng, 32), 32, ...bytes(rng, 32), ...u16(suites.length * 2), ...suites.flatMap(u16), 1, 0, ...u16(ext.length), ...ext];
  const hs = [0x01, 0, ...u16(body.length), ...body];
  return Buffer.from([0x16, 0x03, 0x01, ...u16(hs.length), ...hs]);
}

function dnsMessage(rng: Prng, id: number, name: string, qtype: number, answer: boolean): Buffer {
  const labels: number[] = [];
  for (const l of name.split('.')) labels.push(l.length, ...Buffer.from(l, 'latin1'));
  labels.push(0);
  const nx = answer && rng.float() < 0.08;
  const records: number[] = [];
  let count = 0;
  if (answer && !nx) {
    let owner = [0xc0, 0x0c];
    if (rng.float() < 0.3) {
      // A CNAME to a CDN name first; the addresses then belong to the CDN name.
      const target = [5, ...Buffer.from('edge1'), 3, ...Buffer.from('cdn'), 7, ...Buffer.from('example'), 0];
      records.push(0xc0, 0x0c, 0, 5, 0, 1, 0, 0, 0x0e, 0x10, 0, target.length, ...target);
      owner = [0xc0, 12 + labels.length + 4 + 12];
      count++;
    }
    const n = qtype === 65 ? 1 : rng.int(1, 4);
    for (let k = 0; k < n; k++) {
      const rdata = qtype === 28 ? bytes(rng, 16) : qtype === 65 ? [0, 1, 0, 0, 1, 0, 6, 2, 0x68, 0x32, 2, 0x68, 0x33] : [93, rng.int(0, 255), rng.int(0, 255), rng.int(1, 254)];
      records.push(...owner, 0, qtype, 0, 1, 0, 0, rng.int(0, 3), rng.int(0, 255), 0, rdata.length, ...rdata);
      count++;
    }
  }
  const opt = [0, 0, 0x29, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]; // EDNS0, 1232-byte UDP payload
  const head = [id >>> 8, id & 0xff, answer ? 0x81 : 0x01, answer ? (nx ? 0x83 : 0x80) : 0x20, 0, 1, 0, count, 0, 0, 0, 1];
  return Buffer.from([...head, ...labels, 0, qtype, 0, 1, ...records, ...opt]);
}

function bytes(rng: Prng, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(rng.u32() & 0xff);
  return out;
}

function ipv4Address(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}

/** Servers in the three documentation ranges (192.0.2/24, 198.51.100/24, 203.0.113/24). */
function serverV4(s: number): Buffer {
  const nets = [0xc0000200, 0xc6336400, 0xcb007100];
  return ipv4Address(nets[Math.floor(s / 254) % 3]! + 1 + (s % 254));
}

function ipv6Address(w0: number, w1: number, host: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(w0 >>> 0, 0);
  b.writeUInt32BE(w1 >>> 0, 4);
  b.writeUInt32BE(host + 1, 12);
  return b;
}

/**
 * A real certificate chain (an "Example Issuing CA" and a leaf for *.example it signed, RSA 2048,
 * made with openssl), valid from March 2024 to April 2025 around the capture's packet time, so TLS
 * parsers see well-formed certificates rather than noise.
 */
const LEAF_CERT_B64 =
  'MIIDiDCCAnCgAwIBAgICEAEwDQYJKoZIhvcNAQELBQAwQjELMAkGA1UEBhMCVVMxFjAUBgNVBAoMDUV4YW1wbGUgVHJ1c3QxGzAZBgNVBAMMEkV4' +
  'YW1wbGUgSXNzdWluZyBDQTAeFw0yNDAzMDEwMDAwMDBaFw0yNTA0MDMwMDAwMDBaMDcxCzAJBgNVBAYTAlVTMRQwEgYDVQQKDAtFeGFtcGxlIFdl' +
  'YjESMBAGA1UEAwwJKi5leGFtcGxlMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwLsN5De56/AEqN64yb6+8CcCYV2CJHfm/snVSxIA' +
  'RoFz4GIgrskoNBaLBbKX4iKnWqBJLNcpGKwqot3rRd6CrNxOyJz1wPbypIyceY84F8fny9lK3q/DY09SuenAeUTyI4HOl0j3Y3eV/hdC52EiZfNa' +
  'RB3QY8Rqjtjz3mxagkUT9f3bzCxOw6srX78Bi90iG5G65fglqO80JcYbiHJvZqFKTXuLdU3W8jvaSl8IL87Fgty6W4KrSsLWps1REPKep7SkSBRD' +
  '+5sDQ83eyJYVg4+EOk3QXNEbBy/if086IsJF4wYSk8Mf4OUe9yFc/IViMLZ2aaX6FeYmlVPP9EBoGQIDAQABo4GSMIGPMAkGA1UdEwQCMAAwDgYD' +
  'VR0PAQH/BAQDAgWgMBMGA1UdJQQMMAoGCCsGAQUFBwMBMB0GA1UdEQQWMBSCCSouZXhhbXBsZYIHZXhhbXBsZTAdBgNVHQ4EFgQUeFDowyfhDOCr' +
  '9Ky/CaY+QGo0kPkwHwYDVR0jBBgwFoAUNsTZJ5FAbxUYjH9yTf7BR0V1wEMwDQYJKoZIhvcNAQELBQADggEBAF+Bdjl/T+Kaeo2VETII3YcPhygV' +
  '82oqU5fSe8mfdQTlVeiQPhw3ks47RAASIqOmEV+DTUYOrbsAImb8cJpfqA79j/uYstHZsK1fDfzJLdrQNK39vNDtHVUQGTDLishOSPVuElyyP5l+' +
  'EGVdM2jh1mKx0v9CgSIkg7z7YbfRrATCtyjmv3JBNeogryrclKy53/qYLdU7Y9+IjRKjSPqoudqtnaQoUIEEZk9bNJxoAd27JVkEUGcuj0lWkjH6' +
  'SqcFjrWTnAIakV1fq7Ko2bMfTYKhgvtfzILy1SEUKDCxP4/jGcz2rHGQf9tRm/PLzHQy4nseL4KM0O0KralsdDbdHrE=';
const CA_CERT_B64 =
  'MIIDQjCCAiqgAwIBAgICEAAwDQYJKoZIhvcNAQELBQAwQjELMAkGA1UEBhMCVVMxFjAUBgNVBAoMDUV4YW1wbGUgVHJ1c3QxGzAZBgNVBAMMEkV4' +
  'YW1wbGUgSXNzdWluZyBDQTAeFw0yMzAxMDEwMDAwMDBaFw0zMzAxMDEwMDAwMDBaMEIxCzAJBgNVBAYTAlVTMRYwFAYDVQQKDA1FeGFtcGxlIFRy' +
  'dXN0MRswGQYDVQQDDBJFeGFtcGxlIElzc3VpbmcgQ0EwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQDSfcWsnfaoaE1ikZbcCADgdSNk' +
  'JPSKZXegREpMInScP1vJZb9hF5N+wK8QAHql9q1qQVkyPpXb/Men5uigO2JXeeAvuEG8KlcuGzdyS0bs3a3dV+k1VkvjKFggbGupb5MPTu2REokK' +
  'qNuflO9jCGP/ajdx6RzsyBD2WqFsKLxfg8QVAaQxUrCwBD4l0iNXMIFX3haCzuXPwXrmvCtJvOwd5RpRs9xoYbNXLaHieiNhyCwyiJ9a36ZzvReG' +
  'iKJuqZAYWxRMp7pI67eruj/OcD45P2f+2qPT0rmmqsoLGirENuj/RRe3rQBnCCS8jJyeUlKvF7vZ8drE71IaSXwb2mc5AgMBAAGjQjBAMA8GA1Ud' +
  'EwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgEGMB0GA1UdDgQWBBQ2xNknkUBvFRiMf3JN/sFHRXXAQzANBgkqhkiG9w0BAQsFAAOCAQEAfDBytQvX' +
  '97aMOlOzVmE3GqBFFG1JJHFoyRJUz+jEH+u1IYqlrswptWV9h28ShMsLYNWfW8jN9MBYxEKaWSvRALZBKtXPYhIMho72+yS04LTTzsowW1Lt7IAi' +
  'u7GdP5wS/tjbxYLbAORQGim+GFHG6aNOxJrFDaj5Umi3Bw4q2BBmd7RVywlr91ja9qOkWNJGLjHeyXK5nu3bnBjn6Gg16+U/varQAQUE5PP1yQ3X' +
  'ENx20n3yQm0MtqmgKN33pKwLIExUj0oqqdDTd/xeQc4zJvHzbduBZIti/zTw3xjaBM6rBcYRyyR3faEG0ladOmwQ1yS4/mhu2kSRPWHjARmhqw==';

/** The server's Certificate record: the same chain for every flow. */
const CERTIFICATE_RECORD = ((): Buffer => {
  const certs = [Buffer.from(LEAF_CERT_B64, 'base64'), Buffer.from(CA_CERT_B64, 'base64')];
  const list = Buffer.concat(certs.flatMap((c) => [u24(c.length), c]));
  const body = Buffer.concat([u24(list.length), list]);
  const record = Buffer.concat([Buffer.from([0x16, 0x03, 0x03, 0, 0, 0x0b]), u24(body.length), body]);
  putU16be(record, 3, record.length - 5);
  return record;
})();

function u24(v: number): Buffer {
  return Buffer.from([(v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
}

const WORDS = [
  'alpha', 'bravo', 'cedar', 'delta', 'ember', 'falcon', 'garnet', 'harbor', 'indigo', 'juniper', 'kestrel', 'lumen',
  'maple', 'nimbus', 'onyx', 'pixel', 'quartz', 'raven', 'sierra', 'tango', 'umber', 'vector', 'willow', 'xenon',
  'yonder', 'zephyr', 'news', 'shop', 'mail', 'cloud', 'media', 'search', 'video', 'static', 'assets', 'portal',
];

const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'curl/8.5.0',
];

/** HTML-ish text: tags, words and whitespace, so HTTP bodies look like pages and compress like them. */
function htmlText(rng: Prng, size: number): Buffer {
  const parts: string[] = [];
  let n = 0;
  while (n < size) {
    const tag = rng.pick(['p', 'div', 'span', 'li', 'a', 'td', 'h2']);
    let s = `<${tag} class="${rng.pick(WORDS)}-${rng.int(1, 9)}">`;
    const words = rng.int(3, 40);
    for (let w = 0; w < words; w++) s += `${rng.pick(WORDS)} `;
    s += `</${tag}>\n`;
    parts.push(s);
    n += s.length;
  }
  return Buffer.from(parts.join(''), 'latin1').subarray(0, size);
}

/** Writes a benchmark capture to `path` and returns its description. */
export function writeBenchCapture(path: string, options: BenchCaptureOptions = {}): BenchCaptureInfo {
  const started = performance.now();
  const target = options.targetBytes ?? DEFAULT_TARGET;
  const seed = options.seed ?? DEFAULT_SEED;
  const concurrent = options.concurrentFlows ?? DEFAULT_CONCURRENT;
  const rng = new Prng(seed);
  const crafter = new Crafter(rng);

  const tmp = `${path}.partial`;
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(tmp, 'w');
  const out = new RecordBuffer(fd);
  const heap = new JobHeap();
  const flowsByKind = [0, 0, 0, 0];
  const packetsByKind = [0, 0, 0, 0];
  const bytesByKind = [0, 0, 0, 0];
  let ipv6Flows = 0;
  let tcpPayload = 0;
  let planned = 24;
  let starting = true;
  let drainPackets = 0;
  let packets = 0;
  let captured = 0;
  let openSum = 0;
  let lastProgress = 0;
  let lastTime = 0;
  /** Bytes per second of packet time over the last RATE_WINDOW seconds; 0 until known. */
  let rate = 0;
  const marks: number[] = [0];

  const start = (at: number): Job => {
    const job = crafter.job();
    if (rate > 0) {
      // Near the end a flow is squeezed to finish when the capture is expected to, so flows stay
      // open thousands at a time until the last second instead of thinning out over a long tail.
      const left = (target - out.written - out.used) / rate;
      if (job.duration > left) job.duration = Math.max(left, MIN_DURATION);
    }
    job.next = at;
    flowsByKind[job.kind]!++;
    if (job.v6) ipv6Flows++;
    if (!job.udp) tcpPayload += job.payloadBytes;
    planned += job.totalBytes;
    if (planned >= target) starting = false;
    return job;
  };
  // The first flows open over the first two seconds, not all at once.
  for (let i = 0; i < concurrent && starting; i++) heap.push(start(rng.float() * 2));

  const buf = out.buf;
  while (heap.size > 0) {
    const job = heap.items[0]!;
    const time = job.next;
    const o = out.reserve(16 + 1600);
    const frameLen = job.emit(buf, o + 16);
    const sec = Math.floor(time);
    putU32le(buf, o, EPOCH + sec);
    putU32le(buf, o + 4, Math.min(999_999, Math.floor((time - sec) * 1e6)));
    putU32le(buf, o + 8, frameLen);
    putU32le(buf, o + 12, frameLen);
    out.commit(16 + frameLen);
    packets++;
    captured += frameLen;
    packetsByKind[job.kind]!++;
    bytesByKind[job.kind]! += frameLen;
    openSum += heap.size;
    if (!starting) drainPackets++;
    lastTime = time;
    if (time >= marks.length) {
      const written = out.written + out.used;
      marks.push(written);
      if (marks.length > RATE_WINDOW) rate = (written - marks[marks.length - 1 - RATE_WINDOW]!) / RATE_WINDOW;
    }
    if (job.done) heap.replaceTop(starting ? start(time + rng.exp(0.01)) : null);
    else {
      job.next = time + rng.exp(job.gap);
      heap.replaceTop(job);
    }
    if (options.onProgress !== undefined && out.written + out.used - lastProgress >= 50_000_000) {
      lastProgress = out.written + out.used;
      options.onProgress(lastProgress, planned);
    }
  }
  out.flush();
  closeSync(fd);
  renameSync(tmp, path);
  const bytes = out.written;
  const byKind = (v: number[]): Record<KindName, number> => Object.fromEntries(KIND_NAMES.map((k, i) => [k, v[i]!])) as Record<KindName, number>;
  return {
    version: BENCH_CAPTURE_VERSION,
    seed,
    targetBytes: target,
    concurrentFlows: concurrent,
    bytes,
    packets,
    capturedBytes: captured,
    meanPacketBytes: Math.round((captured / packets) * 10) / 10,
    flows: flowsByKind.reduce((a, b) => a + b, 0),
    flowsByKind: byKind(flowsByKind),
    packetsByKind: byKind(packetsByKind),
    capturedBytesByKind: byKind(bytesByKind),
    ipv6Flows,
    tcpPayloadBytes: tcpPayload,
    meanOpenFlows: Math.round(openSum / packets),
    drainPackets,
    durationSeconds: Math.round(lastTime * 1000) / 1000,
    firstTimestamp: new Date(EPOCH * 1000).toISOString(),
    generationSeconds: Math.round((performance.now() - started) / 10) / 100,
  };
}

/** The description JSON that sits next to a capture: `x.pcap` → `x.json`. */
export function benchInfoPath(path: string): string {
  return path.replace(/\.pcap$/, '') + '.json';
}

/**
 * Returns the capture's description, building the capture first unless the file and its JSON
 * match these options (same generator version, seed, target and concurrency, and the recorded size).
 */
export function ensureBenchCapture(path: string, options: BenchCaptureOptions = {}): { info: BenchCaptureInfo; generated: boolean } {
  const infoPath = benchInfoPath(path);
  if (existsSync(path) && existsSync(infoPath)) {
    try {
      const info = JSON.parse(readFileSync(infoPath, 'utf8')) as BenchCaptureInfo;
      if (
        info.version === BENCH_CAPTURE_VERSION &&
        info.seed === (options.seed ?? DEFAULT_SEED) &&
        info.targetBytes === (options.targetBytes ?? DEFAULT_TARGET) &&
        info.concurrentFlows === (options.concurrentFlows ?? DEFAULT_CONCURRENT) &&
        statSync(path).size === info.bytes
      ) {
        return { info, generated: false };
      }
    } catch {
      // An unreadable description: build the capture again.
    }
  }
  const info = writeBenchCapture(path, options);
  writeFileSync(infoPath, `${JSON.stringify(info, null, 2)}\n`);
  return { info, generated: true };
}
