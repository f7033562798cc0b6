/**
 * Pure, bounded parsing of DNS messages (RFC 1035 4.1) and of DNS over TCP's length-prefixed
 * framing (RFC 1035 4.2.2, RFC 7766). It follows Suricata's Rust DNS parser
 * (rust/src/dns/parser.rs and dns.rs) in what it accepts, what it rejects and which events it
 * raises, so that the session and the EVE log built on it agree with Suricata's.
 *
 * Nothing here throws on any input. Work per message is bounded: every question takes at least 5
 * bytes and every record at least 11, and every name at most MAX_NAME_SEGMENTS steps.
 */
import { NameFlag, readName, type DnsName } from './name.js';
import { decodeRdata, rcodeName, rrTypeName, RrType, type DnsRdata } from './rdata.js';

export { MAX_NAME_LEN, MAX_NAME_SEGMENTS, eveText, type DnsName } from './name.js';
export { addressText, hex, rcodeName, rrTypeName, RrType, MAX_TXT_STRINGS, type DnsRdata, type EdnsOption } from './rdata.js';

/** The fixed header (RFC 1035 4.1.1): 12 bytes. */
export const DNS_HEADER_LEN = 12;

/**
 * Parse problems, by Suricata's DNS app-layer event names (rules: `app-layer-event:dns.<name>`).
 * The session-level ones (not_request, not_response, z_flag_set, invalid_opcode) are for the
 * session to raise from the header and the direction: they are not parse problems.
 */
export type DnsEventName =
  /** The questions or answers could not be parsed (or the header is cut short): Suricata makes no transaction of it. */
  | 'malformed_data'
  /** A name was longer than MAX_NAME_LEN, or cut at the segment cap after a pointer: kept truncated. */
  | 'name_too_long'
  /** A compression pointer pointed at itself after a pointer had been followed. */
  | 'infinite_loop'
  /** A name had more than MAX_NAME_SEGMENTS labels and pointers. */
  | 'too_many_labels'
  /** The authority section could not be parsed: it is dropped, and the additional section is not read. */
  | 'invalid_authorities'
  /** The additional section could not be parsed: it is dropped. */
  | 'invalid_additionals';

/** One parse problem: the event, where (byte offset from the message's first byte) and what. */
export interface DnsProblem {
  event: DnsEventName;
  offset: number;
  detail: string;
}

/** The header, its flags decoded (RFC 1035 4.1.1, RFC 4035 3.2 for AD and CD). */
export interface DnsHeader {
  id: number;
  /** The 16 flag bits as they came (Suricata's EVE `flags`, in hex). */
  flags: number;
  /** A response (QR set). */
  qr: boolean;
  /** 0 query, 1 inverse query, 2 status, 4 notify, 5 update; Suricata flags 7 and above (invalid_opcode). */
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  /** The reserved bit (0x0040); Suricata raises z_flag_set when it is set. */
  z: boolean;
  ad: boolean;
  cd: boolean;
  /** The header's 4-bit response code. */
  rcode: number;
  /** Its name as Suricata writes it: NOERROR, NXDOMAIN, ..., or the number. */
  rcodeName: string;
  qdcount: number;
  ancount: number;
  nscount: number;
  arcount: number;
}

/** A question (RFC 1035 4.1.2). */
export interface DnsQuestion {
  name: DnsName;
  type: number;
  /** As Suricata writes it (`rrtype`): "A", "AAAA", ..., or the number. */
  typeName: string;
  class: number;
}

/** EDNS as an OPT record's class and TTL carry it (RFC 6891 6.1.3). */
export interface Edns {
  udpPayloadSize: number;
  /** The upper 8 bits of the extended rcode. */
  extendedRcode: number;
  version: number;
  /** The DO bit. */
  dnssecOk: boolean;
  /** The other 15 flag bits. */
  z: number;
}

/** A resource record (RFC 1035 4.1.3). */
export interface DnsRecord {
  name: DnsName;
  type: number;
  /** As Suricata writes it (`rrtype`). */
  typeName: string;
  /** The class; for OPT, the requestor's UDP payload size. */
  class: number;
  /** The TTL, unsigned; for OPT, the extended rcode, version and flags. */
  ttl: number;
  rdata: DnsRdata;
  /** For OPT records: the class and TTL read as EDNS. */
  edns?: Edns;
}

/** A parsed message. */
export interface DnsMessage {
  /** Null when the message is shorter than the 12-byte header. */
  header: DnsHeader | null;
  /**
   * The questions and answers parsed whole: Suricata makes a transaction of the message. When
   * false the sections hold what was parsed before the failure, and `problems` holds only
   * malformed_data (Suricata raises nothing else for such a message).
   */
  valid: boolean;
  /**
   * The header passes Suricata's sanity check (dns.rs probe_header_validity): the record counts
   * could fit (2 bytes each), a message with no records is just a header, a query has a question.
   * Suricata treats a message failing it as not DNS: dropped silently on UDP, an error on TCP.
   */
  plausible: boolean;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  /** Empty when the section could not be parsed (invalid_authorities), as in Suricata. */
  authorities: DnsRecord[];
  /** Empty when the section could not be parsed (invalid_additionals), or not read after invalid authorities. */
  additionals: DnsRecord[];
  /**
   * The parse events Suricata raises for this message (each at most once, with where it was first
   * seen); for a message that is not `plausible` Suricata raises none of them.
   */
  problems: DnsProblem[];
  /** Offset in the buffer just after the last section parsed (where parsing failed, when not valid); bytes from there to the message's end are ignored. */
  end: number;
}

/**
 * Parses the DNS message at [off, off + len) of `buf` (a UDP payload, or one TCP frame without its
 * length prefix). Never throws; every byte it keeps is copied.
 */
export function parseDnsMessage(buf: Uint8Array, off: number, len: number): DnsMessage {
  const start = clamp(off, 0, buf.length);
  const msgEnd = clamp(start + (Number.isFinite(len) ? Math.trunc(len) : 0), start, buf.length);
  const msg: DnsMessage = { header: null, valid: false, plausible: false, questions: [], answers: [], authorities: [], additionals: [], problems: [], end: start };
  if (msgEnd - start < DNS_HEADER_LEN) {
    msg.problems.push({ event: 'malformed_data', offset: 0, detail: `${msgEnd - start} bytes: shorter than the ${DNS_HEADER_LEN}-byte header` });
    msg.end = msgEnd;
    return msg;
  }
  const header = decodeHeader(buf, start);
  msg.header = header;
  msg.plausible = plausibleHeader(header, msgEnd - start);

  const reader = new SectionReader(buf, start, msgEnd);
  let p = start + DNS_HEADER_LEN;
  for (let i = 0; i < header.qdcount; i++) {
    const q = reader.question(p);
    if (q === null) return malformed(msg, reader, start, `question ${i + 1} of ${header.qdcount}`);
    msg.questions.push(q.question);
    p = q.next;
  }
  p = reader.records(p, header.ancount, msg.answers);
  if (p < 0) return malformed(msg, reader, start, `answer ${msg.answers.length + 1} of ${header.ancount}`);
  msg.valid = true;

  const nsAt = p;
  p = reader.records(nsAt, header.nscount, msg.authorities);
  if (p < 0) {
    addProblem(msg, 'invalid_authorities', reader.errorAt - start, `authority ${msg.authorities.length + 1} of ${header.nscount}: ${reader.error}`);
    msg.authorities = [];
    p = nsAt;
  } else {
    const arAt = p;
    p = reader.records(arAt, header.arcount, msg.additionals);
    if (p < 0) {
      addProblem(msg, 'invalid_additionals', reader.errorAt - start, `additional ${msg.additionals.length + 1} of ${header.arcount}: ${reader.error}`);
      msg.additionals = [];
      p = arAt;
    }
  }
  msg.end = p;
  const at = (flag: number): number => (reader.flagAt.get(flag) ?? start) - start;
  const f = reader.nameFlags;
  if (f & NameFlag.TRUNCATED) addProblem(msg, 'name_too_long', at(NameFlag.TRUNCATED), 'a name was cut short');
  if (f & NameFlag.INFINITE_LOOP) addProblem(msg, 'infinite_loop', at(NameFlag.INFINITE_LOOP), 'a compression pointer points at itself');
  if (f & NameFlag.LABEL_LIMIT) addProblem(msg, 'too_many_labels', at(NameFlag.LABEL_LIMIT), 'a name has more than 255 labels and pointers');
  return msg;
}

/** Decodes the 12-byte header at `at` (the caller checked the length). */
function decodeHeader(buf: Uint8Array, at: number): DnsHeader {
  const flags = u16(buf, at + 2);
  const rcode = flags & 0x000f;
  return {
    id: u16(buf, at),
    flags,
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >>> 11) & 0x0f,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    z: (flags & 0x0040) !== 0,
    ad: (flags & 0x0020) !== 0,
    cd: (flags & 0x0010) !== 0,
    rcode,
    rcodeName: rcodeName(rcode),
    qdcount: u16(buf, at + 4),
    ancount: u16(buf, at + 6),
    nscount: u16(buf, at + 8),
    arcount: u16(buf, at + 10),
  };
}

/** Suricata's probe_header_validity (rust/src/dns/dns.rs) for a message of `len` bytes. */
export function plausibleHeader(h: DnsHeader, len: number): boolean {
  const records = h.qdcount + h.ancount + h.nscount + h.arcount;
  // Every question or record takes at least 2 bytes: more than fit is not DNS.
  if (2 * records > len) return false;
  // No records but more than a header (Suricata: "happens when DNS server returns format error").
  if (records === 0 && len > DNS_HEADER_LEN) return false;
  return h.qr || h.qdcount > 0;
}

/** Reads questions and record sections, collecting name flags as Suricata does (from every name read whole). */
class SectionReader {
  nameFlags = 0;
  /** Where each name flag was first raised: the name's offset in the buffer (its record's data, for a name inside one). */
  readonly flagAt = new Map<number, number>();
  error = '';
  errorAt = 0;

  constructor(
    private readonly buf: Uint8Array,
    private readonly msgStart: number,
    private readonly msgEnd: number,
  ) {}

  question(p: number): { question: DnsQuestion; next: number } | null {
    const name = this.name(p, this.msgEnd);
    if (name === null) return null;
    const at = name.next;
    if (at + 4 > this.msgEnd) return this.fail(at, 'the question ends before its type and class');
    const type = u16(this.buf, at);
    return { question: { name: name.name, type, typeName: rrTypeName(type), class: u16(this.buf, at + 2) }, next: at + 4 };
  }

  /** Reads `count` records from `p` into `out`; the offset after them, or -1 (see `error`). */
  records(p: number, count: number, out: DnsRecord[]): number {
    const buf = this.buf;
    for (let i = 0; i < count; i++) {
      const name = this.name(p, this.msgEnd);
      if (name === null) return -1;
      const at = name.next;
      if (at + 10 > this.msgEnd) return this.failed(at, 'the record ends before its type, class, TTL and length');
      const type = u16(buf, at);
      const cls = u16(buf, at + 2);
      const ttl = u32(buf, at + 4);
      const rdlen = u16(buf, at + 8);
      const rdStart = at + 10;
      if (rdStart + rdlen > this.msgEnd) return this.failed(at + 8, `its ${rdlen}-byte data runs past the end of the message`);
      const r = decodeRdata(buf, this.msgStart, this.msgEnd, type, rdStart, rdStart + rdlen);
      this.flag(r.flags, rdStart);
      if (r.rdata === null) return this.failed(r.at, `${rrTypeName(type)} data: ${r.error ?? 'malformed'}`);
      const record: DnsRecord = { name: name.name, type, typeName: rrTypeName(type), class: cls, ttl, rdata: r.rdata };
      if (type === RrType.OPT) record.edns = { udpPayloadSize: cls, extendedRcode: ttl >>> 24, version: (ttl >>> 16) & 0xff, dnssecOk: (ttl & 0x8000) !== 0, z: ttl & 0x7fff };
      out.push(record);
      p = rdStart + rdlen;
    }
    return p;
  }

  private name(p: number, end: number): { name: DnsName; next: number } | null {
    const r = readName(this.buf, this.msgStart, this.msgEnd, p, end);
    if (r.name === null) return this.fail(r.next, r.error ?? 'bad name');
    this.flag(r.flags, p);
    return { name: r.name, next: r.next };
  }

  private flag(flags: number, at: number): void {
    for (const bit of [NameFlag.INFINITE_LOOP, NameFlag.TRUNCATED, NameFlag.LABEL_LIMIT]) {
      if (flags & bit && !this.flagAt.has(bit)) this.flagAt.set(bit, at);
    }
    this.nameFlags |= flags;
  }

  private fail(at: number, error: string): null {
    this.error = error;
    this.errorAt = at;
    return null;
  }

  private failed(at: number, error: string): number {
    this.fail(at, error);
    return -1;
  }
}

/** The questions or answers failed: Suricata raises malformed_data only, whatever the names flagged before. */
function malformed(msg: DnsMessage, reader: SectionReader, start: number, where: string): DnsMessage {
  msg.valid = false;
  msg.problems = [{ event: 'malformed_data', offset: reader.errorAt - start, detail: `${where}: ${reader.error}` }];
  msg.end = reader.errorAt;
  return msg;
}

function addProblem(msg: DnsMessage, event: DnsEventName, offset: number, detail: string): void {
  if (!msg.problems.some((p) => p.event === event)) msg.problems.push({ event, offset, detail });
}

/** Messages found in a DNS-over-TCP stream buffer: where each is (without its length prefix), how much was used, how much the next needs. */
export interface TcpDnsFrames {
  /** Each whole message found, as offset and length in the buffer. */
  messages: Array<{ off: number; len: number }>;
  /** Bytes used from `off`: the found messages with their prefixes, and zero-length prefixes skipped. Keep the rest for the next call. */
  consumed: number;
  /** Bytes the next message needs from the first unconsumed byte (prefix included), or 0 when nothing is pending. */
  needed: number;
}

/**
 * Splits DNS-over-TCP data (each message after a 2-byte big-endian length, RFC 1035 4.2.2) into
 * messages, incrementally: call again with the unconsumed rest and more data. As Suricata does
 * (dns.rs parse_request_tcp), a zero length prefix is skipped. A message is at most 65535 bytes,
 * so whoever buffers the rest needs at most 65537 bytes.
 */
export function splitTcpDnsMessages(buf: Uint8Array, off: number, len: number): TcpDnsFrames {
  const start = clamp(off, 0, buf.length);
  const end = clamp(start + (Number.isFinite(len) ? Math.trunc(len) : 0), start, buf.length);
  const messages: Array<{ off: number; len: number }> = [];
  let p = start;
  let needed = 0;
  while (p < end) {
    if (end - p < 2) {
      needed = 2;
      break;
    }
    const size = u16(buf, p);
    if (size === 0) {
      p += 2;
      continue;
    }
    if (end - p < size + 2) {
      needed = size + 2;
      break;
    }
    messages.push({ off: p + 2, len: size });
    p += 2 + size;
  }
  return { messages, consumed: p - start, needed };
}

function clamp(n: number, lo: number, hi: number): number {
  if (!Number.isFinite(n)) return lo;
  const t = Math.trunc(n);
  return t < lo ? lo : t > hi ? hi : t;
}

function u16(buf: Uint8Array, at: number): number {
  return (buf[at]! << 8) | buf[at + 1]!;
}

function u32(buf: Uint8Array, at: number): number {
  return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
}
