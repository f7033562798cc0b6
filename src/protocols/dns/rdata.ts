/**
 * Resource record data (RFC 1035 3.3-3.4, RFC 2782 SRV, RFC 4255 SSHFP, RFC 6891 OPT), decoded as
 * Suricata's Rust parser decodes it (rust/src/dns/parser.rs, `dns_parse_rdata`): the same types,
 * the same shapes, the same failures. Type and rcode names are the ones its EVE log writes.
 */
import { eveText, readName, type DnsName } from './name.js';

/** Record type names as Suricata's EVE writes them (`rrtype`); any other type is written as its number. */
const TYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [1, 'A'], [2, 'NS'], [3, 'MD'], [4, 'MF'], [5, 'CNAME'], [6, 'SOA'], [7, 'MB'], [8, 'MG'], [9, 'MR'], [10, 'NULL'],
  [11, 'WKS'], [12, 'PTR'], [13, 'HINFO'], [14, 'MINFO'], [15, 'MX'], [16, 'TXT'], [17, 'RP'], [18, 'AFSDB'], [19, 'X25'],
  [20, 'ISDN'], [21, 'RT'], [22, 'NSAP'], [23, 'NSAPPTR'], [24, 'SIG'], [25, 'KEY'], [26, 'PX'], [27, 'GPOS'], [28, 'AAAA'],
  [29, 'LOC'], [30, 'NXT'], [33, 'SRV'], [34, 'ATMA'], [35, 'NAPTR'], [36, 'KX'], [37, 'CERT'], [38, 'A6'], [39, 'DNAME'],
  [41, 'OPT'], [42, 'APL'], [43, 'DS'], [44, 'SSHFP'], [45, 'IPSECKEY'], [46, 'RRSIG'], [47, 'NSEC'], [48, 'DNSKEY'],
  [49, 'DHCID'], [50, 'NSEC3'], [51, 'NSEC3PARAM'], [52, 'TLSA'], [55, 'HIP'], [59, 'CDS'], [60, 'CDNSKEY'], [65, 'HTTPS'],
  [99, 'SPF'], [249, 'TKEY'], [250, 'TSIG'], [254, 'MAILA'], [255, 'ANY'], [256, 'URI'],
]);

/** The record type numbers this module decodes. */
export const RrType = { A: 1, NS: 2, CNAME: 5, SOA: 6, NULL: 10, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, OPT: 41, SSHFP: 44 } as const;

/** A record type's name as Suricata writes it: "A", "AAAA", ..., or the number ("65534"). */
export function rrTypeName(type: number): string {
  return TYPE_NAMES.get(type) ?? String(type);
}

const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];

/** The header's 4-bit rcode as Suricata writes it: NOERROR ... NOTZONE, or the number ("11" to "15"). */
export function rcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? String(rcode);
}

/**
 * Most TXT strings read from one record: 32767, Suricata's cap, "based on a max txt size of
 * 65535, but taking into consideration that strings need to be quoted, so half that".
 */
export const MAX_TXT_STRINGS = 32767;

/** One EDNS option (RFC 6891 6.1.2), kept raw. */
export interface EdnsOption {
  code: number;
  data: Uint8Array;
}

/** Decoded RDATA, by kind. Bytes are copies: they outlive the buffer they were read from. */
export type DnsRdata =
  /** A or AAAA: the bytes as they came (any length, as in Suricata) and Suricata's text: dotted quad for 4 bytes, eight zero-padded hex groups for 16, "" otherwise. */
  | { kind: 'a' | 'aaaa'; bytes: Uint8Array; text: string }
  /** CNAME, NS, PTR: one name. */
  | { kind: 'cname' | 'ns' | 'ptr'; name: DnsName }
  /** MX: preference and exchange (Suricata's EVE writes only the exchange). */
  | { kind: 'mx'; preference: number; exchange: DnsName }
  /** TXT: its character-strings (Suricata's EVE writes one answer entry per string), bytes and EVE text. */
  | { kind: 'txt'; strings: Uint8Array[]; texts: string[] }
  | { kind: 'soa'; mname: DnsName; rname: DnsName; serial: number; refresh: number; retry: number; expire: number; minimum: number }
  | { kind: 'srv'; priority: number; weight: number; port: number; target: DnsName }
  /** SSHFP: algorithm, fingerprint type, fingerprint bytes (EVE writes them as colon-separated hex). */
  | { kind: 'sshfp'; algorithm: number; fingerprintType: number; fingerprint: Uint8Array }
  /** OPT (EDNS): its options, raw; the record's class and TTL carry the rest (see DnsRecord.edns). */
  | { kind: 'opt'; options: EdnsOption[] }
  /** NULL: the bytes, and EVE text of them. */
  | { kind: 'null'; bytes: Uint8Array; text: string }
  /** Any other type: the bytes, raw (see `hex`). */
  | { kind: 'unknown'; bytes: Uint8Array }
  /** RDLENGTH 0 for a type other than OPT: accepted (Suricata, since its ticket 7574, keeps the message and logs no entry for it). */
  | { kind: 'empty' };

/** The outcome of decoding one record's data. */
export interface RdataRead {
  rdata: DnsRdata | null;
  /** NameFlag bits from the names inside. */
  flags: number;
  /** Why it could not be decoded (the section is then malformed), or null. */
  error: string | null;
  /** Where decoding failed, in `buf`. */
  at: number;
}

/**
 * Decodes the RDATA at [start, end) of `buf` for a record of `type`; the message spans
 * [msgStart, msgEnd) (names inside may point anywhere in it). Never throws. Bytes after what the
 * type needs are ignored, as in Suricata.
 */
export function decodeRdata(buf: Uint8Array, msgStart: number, msgEnd: number, type: number, start: number, end: number): RdataRead {
  let flags = 0;
  const failAt = (at: number, error: string): RdataRead => ({ rdata: null, flags, error, at });
  const name = (pos: number): { name: DnsName; next: number } | string => {
    const r = readName(buf, msgStart, msgEnd, pos, end);
    if (r.name === null) return r.error ?? 'bad name';
    flags |= r.flags;
    return { name: r.name, next: r.next };
  };
  const ok = (rdata: DnsRdata): RdataRead => ({ rdata, flags, error: null, at: start });
  const len = end - start;
  if (len === 0) return ok(type === RrType.OPT ? { kind: 'opt', options: [] } : { kind: 'empty' });

  switch (type) {
    case RrType.A:
    case RrType.AAAA: {
      const bytes = copy(buf, start, end);
      return ok({ kind: type === RrType.A ? 'a' : 'aaaa', bytes, text: addressText(bytes) });
    }
    case RrType.CNAME:
    case RrType.NS:
    case RrType.PTR: {
      const n = name(start);
      if (typeof n === 'string') return failAt(start, n);
      return ok({ kind: type === RrType.CNAME ? 'cname' : type === RrType.NS ? 'ns' : 'ptr', name: n.name });
    }
    case RrType.MX: {
      if (len < 2) return failAt(start, 'MX data is shorter than its 2-byte preference');
      const n = name(start + 2);
      if (typeof n === 'string') return failAt(start + 2, n);
      return ok({ kind: 'mx', preference: u16(buf, start), exchange: n.name });
    }
    case RrType.TXT: {
      const strings: Uint8Array[] = [];
      let p = start;
      while (p < end && strings.length < MAX_TXT_STRINGS) {
        const n = buf[p]!;
        if (p + 1 + n > end) break; // Suricata keeps the strings before one that runs past the data
        strings.push(copy(buf, p + 1, p + 1 + n));
        p += 1 + n;
      }
      if (strings.length === 0) return failAt(start, `a ${buf[start]!}-byte TXT string runs past its data`);
      return ok({ kind: 'txt', strings, texts: strings.map(eveText) });
    }
    case RrType.SOA: {
      const m = name(start);
      if (typeof m === 'string') return failAt(start, m);
      const r = name(m.next);
      if (typeof r === 'string') return failAt(m.next, r);
      if (r.next + 20 > end) return failAt(r.next, 'SOA data ends before its five 32-bit fields');
      const q = r.next;
      return ok({ kind: 'soa', mname: m.name, rname: r.name, serial: u32(buf, q), refresh: u32(buf, q + 4), retry: u32(buf, q + 8), expire: u32(buf, q + 12), minimum: u32(buf, q + 16) });
    }
    case RrType.SRV: {
      if (len < 6) return failAt(start, 'SRV data is shorter than its priority, weight and port');
      const t = name(start + 6);
      if (typeof t === 'string') return failAt(start + 6, t);
      return ok({ kind: 'srv', priority: u16(buf, start), weight: u16(buf, start + 2), port: u16(buf, start + 4), target: t.name });
    }
    case RrType.SSHFP: {
      if (len < 2) return failAt(start, 'SSHFP data is shorter than its algorithm and type');
      return ok({ kind: 'sshfp', algorithm: buf[start]!, fingerprintType: buf[start + 1]!, fingerprint: copy(buf, start + 2, end) });
    }
    case RrType.OPT: {
      const options: EdnsOption[] = [];
      let p = start;
      while (p < end) {
        if (p + 4 > end) return failAt(p, 'an EDNS option header is cut short');
        const n = u16(buf, p + 2);
        if (p + 4 + n > end) return failAt(p, `a ${n}-byte EDNS option runs past its data`);
        options.push({ code: u16(buf, p), data: copy(buf, p + 4, p + 4 + n) });
        p += 4 + n;
      }
      return ok({ kind: 'opt', options });
    }
    case RrType.NULL: {
      const bytes = copy(buf, start, end);
      return ok({ kind: 'null', bytes, text: eveText(bytes) });
    }
    default:
      return ok({ kind: 'unknown', bytes: copy(buf, start, end) });
  }
}

/** Suricata's dns_print_addr: IPv4 dotted, IPv6 as eight zero-padded hex groups (not compressed), anything else "". */
export function addressText(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length !== 16) return '';
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(hex(bytes.subarray(i, i + 2)));
  return groups.join(':');
}

/** Lowercase hex of bytes, for raw data (unknown types, EDNS options). */
export function hex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += bytes[i]!.toString(16).padStart(2, '0');
  return out;
}

/** A copy of bytes (Buffer.slice would share memory with a Buffer passed in). */
function copy(buf: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(buf.subarray(start, end));
}

function u16(buf: Uint8Array, at: number): number {
  return (buf[at]! << 8) | buf[at + 1]!;
}

function u32(buf: Uint8Array, at: number): number {
  return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
}
