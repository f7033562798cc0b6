/**
 * One flow's DNS state, as Suricata's Rust DNS keeps it (rust/src/dns/dns.rs, Suricata 8):
 * every request and every response parsed whole is a transaction of its own, logged and
 * inspected at once. A response is not joined to its request (Suricata keeps no such pairing:
 * the DNS id in both records is what ties them), so nothing waits in the flow between messages.
 *
 * UDP: each datagram is one message. TCP: messages follow their 2-byte length (RFC 1035 4.2.2);
 * at most one partial message per direction is held.
 */
import type { InspectableTx } from '../../rules/buffers.js';
import type { AppOutput, AppSession } from '../app.js';
import { dnsBuffers } from './buffers.js';
import { dnsAlertMetadata, dnsRecords, type DnsLogVersion, type DnsSide } from './log.js';
import { DNS_HEADER_LEN, parseDnsMessage, plausibleHeader, splitTcpDnsMessages, type DnsHeader, type DnsMessage } from './parse.js';

/** How the session logs. */
export interface DnsSessionOptions {
  /** The EVE dns format: 2 (Suricata 7's default) or 3 (Suricata 8's). */
  version: DnsLogVersion;
  /** The style of the `dns` object alerts carry: 2 as Suricata 7, 3 as Suricata 8. */
  alertVersion: DnsLogVersion;
}

/**
 * Largest partial message held per direction: the 2-byte length and the 65535 bytes it can
 * announce. Nothing else stays in the flow, so a DNS flow holds at most twice this.
 */
export const MAX_HELD_BYTES = 2 + 0xffff;

/** One message, request or response: what rules inspect and what alerts on it show. */
export class DnsTransaction implements InspectableTx {
  constructor(
    /** Per flow, from 0, in message order (requests and responses alike). */
    readonly id: number,
    readonly message: DnsMessage,
    /** 0 for a request (the client's side), 1 for a response. */
    readonly side: DnsSide,
    private readonly alertVersion: DnsLogVersion,
  ) {}

  buffer(): Uint8Array | null {
    return null; // every DNS buffer is multi-valued
  }

  buffers(name: string, side: number): readonly Uint8Array[] | null {
    return dnsBuffers(this.message, this.side, name, side);
  }

  alertMetadata(): Record<string, unknown> | null {
    return dnsAlertMetadata(this.message, this.side, this.id, this.alertVersion) as Record<string, unknown> | null;
  }
}

/** A partial TCP message: `need` bytes are expected (prefix included), `len` arrived. */
interface Held {
  bytes: Uint8Array;
  len: number;
  need: number;
}

/** What Suricata's probe (dns.rs `probe`) says of a message: DNS or not, a request or not, or cut short. */
export interface DnsProbe {
  dns: boolean;
  request: boolean;
  incomplete: boolean;
}

const NOT_DNS: DnsProbe = { dns: false, request: false, incomplete: false };

/**
 * Suricata's `probe` on a message of `dlen` bytes of which [off, off + len) arrived: a whole
 * message must parse (questions and answers) and pass the header check; of a partial one only
 * the header is checked against the announced length.
 */
export function probeMessage(buf: Uint8Array, off: number, len: number, dlen: number): DnsProbe {
  const have = Math.min(len, dlen);
  if (have < dlen) {
    if (have < DNS_HEADER_LEN) return NOT_DNS;
    const m = parseDnsMessage(buf, off, DNS_HEADER_LEN);
    return m.header !== null && plausibleHeader(m.header, dlen) ? { dns: true, request: !m.header.qr, incomplete: false } : NOT_DNS;
  }
  const m = parseDnsMessage(buf, off, have);
  if (m.header === null || !m.valid) return NOT_DNS;
  return plausibleHeader(m.header, dlen) ? { dns: true, request: !m.header.qr, incomplete: false } : NOT_DNS;
}

/** Suricata's `probe_tcp`: the first length-prefixed message of [off, off + len). Fewer than 2 bytes is incomplete. */
export function probeTcpMessage(buf: Uint8Array, off: number, len: number): DnsProbe {
  if (len < 2) return { dns: false, request: false, incomplete: true };
  const dlen = (buf[off]! << 8) | buf[off + 1]!;
  return probeMessage(buf, off + 2, len - 2, dlen);
}

/**
 * The DNS state of one flow. Never throws on any input; a message that breaks the TCP framing
 * (fails the header check or does not parse) stops parsing the flow, as Suricata's parser error
 * does; a UDP datagram that does so is only dropped.
 */
export class DnsSession implements AppSession {
  private nextTxId = 0;
  private readonly held: [Held | null, Held | null] = [null, null];
  /** TCP: a gap was seen in the direction and the next data must look like the start of a message. */
  private readonly gapped = [false, false];
  private stopped = false;
  /** Whether the first message came the wrong way (a response from the flow's client): sides are swapped for the flow, as Suricata's probe reverses it. */
  private reversed = false;
  private oriented = false;

  constructor(
    private readonly out: AppOutput,
    private readonly tcp: boolean,
    private readonly options: DnsSessionOptions,
  ) {}

  data(dir: number, buf: Uint8Array, off: number, len: number): void {
    if (this.stopped || len <= 0) return;
    const d = dir === 0 ? 0 : 1;
    if (!this.tcp) {
      this.message(d, buf, off, len);
      return;
    }
    if (this.gapped[d]) {
      const p = probeTcpMessage(buf, off, len);
      // As Suricata: data after a hole is skipped until a chunk starts with what looks like a message.
      if (!p.dns && !p.incomplete) return;
      this.gapped[d] = false;
    }
    this.stream(d, buf, off, len);
  }

  gap(dir: number, len: number): void {
    if (!this.tcp || len <= 0) return;
    const d = dir === 0 ? 0 : 1;
    this.held[d] = null;
    this.gapped[d] = true;
  }

  close(): void {
    // A partial message at the end is dropped, as Suricata drops it: nothing else is pending.
    this.held[0] = this.held[1] = null;
  }

  /** Bytes held in partial TCP messages (at most MAX_HELD_BYTES per direction). */
  get buffered(): number {
    return (this.held[0]?.bytes.length ?? 0) + (this.held[1]?.bytes.length ?? 0);
  }

  /** Transactions made so far. */
  get transactions(): number {
    return this.nextTxId;
  }

  /** Splits TCP data into messages, completing the held one first. */
  private stream(d: 0 | 1, buf: Uint8Array, off: number, len: number): void {
    let p = off;
    const end = off + len;
    while (p < end) {
      const h = this.held[d];
      if (h === null) break;
      const take = Math.min(h.need - h.len, end - p);
      h.bytes.set(buf.subarray(p, p + take), h.len);
      h.len += take;
      p += take;
      if (h.len < h.need) return;
      if (h.need === 2) {
        // Only the length was pending: now the message's size is known.
        const size = (h.bytes[0]! << 8) | h.bytes[1]!;
        if (size === 0) {
          this.held[d] = null;
          continue;
        }
        const bytes = new Uint8Array(size + 2);
        bytes.set(h.bytes.subarray(0, 2));
        this.held[d] = { bytes, len: 2, need: size + 2 };
        continue;
      }
      this.held[d] = null;
      this.message(d, h.bytes, 2, h.need - 2);
      if (this.stopped) return;
    }
    const frames = splitTcpDnsMessages(buf, p, end - p);
    for (const m of frames.messages) {
      this.message(d, buf, m.off, m.len);
      if (this.stopped) return;
    }
    const rest = end - p - frames.consumed;
    if (rest > 0) {
      const bytes = new Uint8Array(frames.needed);
      bytes.set(buf.subarray(end - rest, end));
      this.held[d] = { bytes, len: rest, need: frames.needed };
    }
  }

  /** One whole message from direction `d`. */
  private message(d: 0 | 1, buf: Uint8Array, off: number, len: number): void {
    const msg = parseDnsMessage(buf, off, len);
    const header = msg.header;
    // Not DNS to Suricata (dns.rs dns_validate_header): dropped silently on UDP, a parser error on TCP.
    if (header === null || !msg.plausible) {
      if (this.tcp) this.stop();
      return;
    }
    if (!this.oriented) {
      this.oriented = true;
      this.reversed = header.qr === (d === 0);
    }
    const side: DnsSide = (this.reversed ? 1 - d : d) as DnsSide;
    if (!msg.valid) {
      this.out.anomaly('malformed_data', d);
      if (this.tcp) this.stop();
      return;
    }
    if (side === 0 && header.qr) {
      this.out.anomaly('not_request', d);
      if (this.tcp) this.stop();
      return;
    }
    this.events(msg, header, side, d);
    const tx = new DnsTransaction(this.nextTxId++, msg, side, this.options.alertVersion);
    // Suricata writes dns records with the flow's addresses, client first (LOG_DIR_FLOW).
    const recordDir = this.reversed ? 1 : 0;
    for (const r of dnsRecords(msg, side, tx.id, this.options.version)) this.out.record('dns', r, recordDir);
    this.out.inspect(tx, side);
  }

  /** The transaction's events, in the order Suricata sets them (dns.rs dns_parse_request / dns_parse_response). */
  private events(msg: DnsMessage, header: DnsHeader, side: DnsSide, d: 0 | 1): void {
    const has = (event: string): boolean => msg.problems.some((p) => p.event === event);
    if (has('invalid_additionals')) this.out.anomaly('invalid_additionals', d);
    if (has('invalid_authorities')) this.out.anomaly('invalid_authorities', d);
    if (side === 1 && !header.qr) this.out.anomaly('not_response', d);
    if (header.z) this.out.anomaly('z_flag_set', d);
    if (header.opcode >= 7) this.out.anomaly('invalid_opcode', d);
    if (has('name_too_long')) this.out.anomaly('name_too_long', d);
    if (has('infinite_loop')) this.out.anomaly('infinite_loop', d);
    if (has('too_many_labels')) this.out.anomaly('too_many_labels', d);
  }

  private stop(): void {
    this.stopped = true;
    this.held[0] = this.held[1] = null;
  }
}
