import { LinkType } from '../capture/linktype.js';
import { PcapWriter } from '../capture/writer.js';
import { bsdNull, ethernet, icmpv4, icmpv6, ipv4, ipv6, isIpv6, linuxSll, linuxSll2, tcp, tcpOptions, udp, type TcpOptionsSpec } from './headers.js';

/** "10.0.0.1:80" or "[2001:db8::1]:80" into address and port. */
export function endpoint(text: string): { ip: string; port: number } {
  const m = /^\[(.+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (m === null) throw new Error(`not an ip:port endpoint: ${text}`);
  return { ip: m[1]!, port: Number(m[2]) };
}

/**
 * A crafted capture being written: a clock, a link type, and frames. Everything a test or
 * scenario sends goes through `send`, which wraps network packets in the chosen link layer.
 */
export class SynthCapture {
  /** With no path: the frames sent so far, each with the length it claims on the wire. */
  readonly frames: Array<{ time: number; frame: Buffer; wirelen: number }> | null;
  private readonly writer: PcapWriter | null;
  /**
   * The clock in whole microseconds: adding 0.0001 s to a float near 1e9 s drifts by a
   * microsecond within a few frames, so frames would not be exactly 100 µs apart.
   */
  private usec: number;

  constructor(
    path: string | null,
    readonly linktype: number = LinkType.ETHERNET,
    options: { start?: number; vlans?: number[]; snaplen?: number; nanoseconds?: boolean } = {},
  ) {
    this.usec = Math.round((options.start ?? 1082541600) * 1e6); // 2004-04-21T10:00:00Z, the week the PCT exploit appeared
    this.vlans = options.vlans ?? [];
    this.writer = path === null ? null : new PcapWriter(path, { linktype, ...(options.snaplen !== undefined ? { snaplen: options.snaplen } : {}), ...(options.nanoseconds ? { nanoseconds: true } : {}) });
    this.frames = path === null ? [] : null;
  }

  private readonly vlans: number[];

  /** Seconds since the epoch of the next frame (kept to the microsecond). */
  get time(): number {
    return this.usec / 1e6;
  }

  set time(seconds: number) {
    this.usec = Math.round(seconds * 1e6);
  }

  /** Moves the clock on (to the microsecond). */
  wait(seconds: number): this {
    this.usec += Math.round(seconds * 1e6);
    return this;
  }

  /** Writes an IP packet wrapped in the capture's link layer, then ticks the clock by 100 µs. */
  send(packet: Buffer, options: { wirelen?: number } = {}): this {
    const v6 = (packet[0]! >>> 4) === 6;
    let frame: Buffer;
    switch (this.linktype) {
      case LinkType.ETHERNET:
        frame = ethernet(packet, { type: v6 ? 0x86dd : 0x0800, vlans: this.vlans });
        break;
      case LinkType.LINUX_SLL:
        frame = linuxSll(packet, v6 ? 0x86dd : 0x0800);
        break;
      case LinkType.LINUX_SLL2:
        frame = linuxSll2(packet, v6 ? 0x86dd : 0x0800);
        break;
      case LinkType.NULL:
        frame = bsdNull(packet, v6 ? 30 : 2);
        break;
      case LinkType.RAW:
        frame = packet;
        break;
      default:
        throw new Error(`synth cannot write link type ${this.linktype}`);
    }
    return this.raw(frame, options.wirelen);
  }

  /** Writes a frame exactly as given (link layer included). */
  raw(frame: Buffer, wirelen = frame.length): this {
    if (this.writer !== null) this.writer.write(this.time, frame, wirelen);
    else this.frames!.push({ time: this.time, frame, wirelen: Math.max(wirelen, frame.length) });
    this.usec += 100;
    return this;
  }

  close(): void {
    this.writer?.close();
  }
}

/** An IP packet with the right version for its addresses. */
export function ipPacket(src: string, dst: string, proto: number, payload: Uint8Array, ttl = 64): Buffer {
  return isIpv6(src) ? ipv6({ src, dst, nextHeader: proto, hopLimit: ttl }, payload) : ipv4({ src, dst, proto, ttl }, payload);
}

export type Side = 'client' | 'server';

export interface TcpConnectionOptions {
  clientIsn?: number;
  serverIsn?: number;
  /** Largest payload per segment when sending; 1460 by default. */
  mss?: number;
  /** TCP options on the SYN and SYN-ACK. */
  synOptions?: TcpOptionsSpec;
}

/**
 * One crafted TCP connection. `handshake`, `send` and `close` write well-behaved traffic
 * (with the peer's ACKs); `segment` writes any segment at any stream offset, for out-of-order,
 * overlapping and retransmitted data.
 */
export class TcpConnection {
  readonly client: { ip: string; port: number };
  readonly server: { ip: string; port: number };
  /** Next stream offset each side will send (bytes after its SYN). */
  private readonly next = { client: 0, server: 0 };
  private readonly isn: { client: number; server: number };
  private readonly mss: number;
  private readonly synOptions: TcpOptionsSpec;

  constructor(
    private readonly cap: SynthCapture,
    client: string,
    server: string,
    options: TcpConnectionOptions = {},
  ) {
    this.client = endpoint(client);
    this.server = endpoint(server);
    this.isn = { client: options.clientIsn ?? 1000, server: options.serverIsn ?? 5000 };
    this.mss = options.mss ?? 1460;
    this.synOptions = options.synOptions ?? { mss: this.mss, sackPermitted: true, wscale: 7 };
  }

  /** The sequence number of a stream offset on one side. */
  seq(side: Side, offset: number): number {
    return (this.isn[side] + 1 + offset) >>> 0;
  }

  handshake(): this {
    this.packet('client', { seq: this.isn.client, flags: 'S', options: tcpOptions(this.synOptions) }, new Uint8Array(0));
    this.packet('server', { seq: this.isn.server, ack: this.seq('client', 0), flags: 'SA', options: tcpOptions(this.synOptions) }, new Uint8Array(0));
    this.packet('client', { seq: this.seq('client', 0), ack: this.seq('server', 0), flags: 'A' }, new Uint8Array(0));
    return this;
  }

  /** Sends data in order, cut into segments of at most `mss`, each acknowledged by the peer. */
  send(from: Side, data: Uint8Array | string, options: { ack?: boolean } = {}): this {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    const to: Side = from === 'client' ? 'server' : 'client';
    for (let at = 0; at < bytes.length || (bytes.length === 0 && at === 0); at += this.mss) {
      const chunk = bytes.subarray(at, Math.min(bytes.length, at + this.mss));
      this.segment(from, this.next[from], chunk, 'PA');
      this.next[from] += chunk.length;
      if (options.ack !== false) this.packet(to, { seq: this.seq(to, this.next[to]), ack: this.seq(from, this.next[from]), flags: 'A' }, new Uint8Array(0));
      if (bytes.length === 0) break;
    }
    return this;
  }

  /** Writes one segment carrying `data` at stream `offset` of `from`'s side, acknowledging the peer's data so far. */
  segment(from: Side, offset: number, data: Uint8Array | string, flags = 'PA'): this {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    const to: Side = from === 'client' ? 'server' : 'client';
    this.packet(from, { seq: this.seq(from, offset), ack: this.seq(to, this.next[to]), flags }, bytes);
    return this;
  }

  /** Marks `n` more bytes of `from`'s stream as sent (after crafting them with `segment`). */
  advance(from: Side, n: number): this {
    this.next[from] += n;
    return this;
  }

  /** Orderly close: FIN from `first`, FIN-ACK from the other, last ACK. */
  close(first: Side = 'client'): this {
    const second: Side = first === 'client' ? 'server' : 'client';
    this.packet(first, { seq: this.seq(first, this.next[first]), ack: this.seq(second, this.next[second]), flags: 'FA' }, new Uint8Array(0));
    this.next[first] += 1;
    this.packet(second, { seq: this.seq(second, this.next[second]), ack: this.seq(first, this.next[first]), flags: 'FA' }, new Uint8Array(0));
    this.next[second] += 1;
    this.packet(first, { seq: this.seq(first, this.next[first]), ack: this.seq(second, this.next[second]), flags: 'A' }, new Uint8Array(0));
    return this;
  }

  reset(from: Side = 'client'): this {
    const to: Side = from === 'client' ? 'server' : 'client';
    this.packet(from, { seq: this.seq(from, this.next[from]), ack: this.seq(to, this.next[to]), flags: 'RA' }, new Uint8Array(0));
    return this;
  }

  /** Writes one TCP packet from a side with the given header fields. */
  packet(from: Side, h: { seq: number; ack?: number; flags: string; options?: Uint8Array; window?: number }, payload: Uint8Array): this {
    const [s, d] = from === 'client' ? [this.client, this.server] : [this.server, this.client];
    const seg = tcp({ sport: s.port, dport: d.port, seq: h.seq, flags: h.flags, ...(h.ack !== undefined ? { ack: h.ack } : {}), ...(h.options !== undefined ? { options: h.options } : {}), ...(h.window !== undefined ? { window: h.window } : {}) }, payload, s.ip, d.ip);
    this.cap.send(ipPacket(s.ip, d.ip, 6, seg));
    return this;
  }
}

/** Sends UDP datagrams between two endpoints. */
export class UdpFlow {
  readonly client: { ip: string; port: number };
  readonly server: { ip: string; port: number };

  constructor(
    private readonly cap: SynthCapture,
    client: string,
    server: string,
  ) {
    this.client = endpoint(client);
    this.server = endpoint(server);
  }

  send(from: Side, data: Uint8Array | string): this {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    const [s, d] = from === 'client' ? [this.client, this.server] : [this.server, this.client];
    this.cap.send(ipPacket(s.ip, d.ip, 17, udp(s.port, d.port, bytes, s.ip, d.ip)));
    return this;
  }
}

/** An ICMP echo request and, unless `reply` is false, its reply. */
export function ping(cap: SynthCapture, src: string, dst: string, id: number, seq: number, reply = true): void {
  const data = Buffer.from('outpost-ping-0123456789abcdef');
  if (isIpv6(src)) {
    cap.send(ipv6({ src, dst, nextHeader: 58 }, icmpv6(128, 0, (id << 16) | seq, data, src, dst)));
    if (reply) cap.send(ipv6({ src: dst, dst: src, nextHeader: 58 }, icmpv6(129, 0, (id << 16) | seq, data, dst, src)));
  } else {
    cap.send(ipv4({ src, dst, proto: 1 }, icmpv4(8, 0, (id << 16) | seq, data)));
    if (reply) cap.send(ipv4({ src: dst, dst: src, proto: 1 }, icmpv4(0, 0, (id << 16) | seq, data)));
  }
}
