/**
 * DShield's firewall-log format, both ways: a submitted line to a `firewall` record (import), and
 * a stored record to a line (export). The format, as DShield's client framework writes and checks
 * it: nine tab-separated fields,
 *
 *   date `YYYY-MM-DD HH:MM:SS +HH:MM` (the submitter's local time and UTC offset; `+HHMM` also
 *   accepted) · submitter (DShield user id, digits, 0 anonymous) · count (packets the line stands
 *   for) · source IP · source port · target IP · target port · protocol (a name such as TCP or
 *   an IP protocol number) · TCP flags (letters from `12UAPRSF`, TCP only; the field may be empty
 *   or missing).
 *
 * For ICMP the port columns hold the message type (source) and code (target). A port or protocol
 * DShield's client could not read is written `???`. Addresses are IPv4 or IPv6 (both of one family).
 *
 * Parsing is strict and never throws: a line that is not exactly this is an error string saying
 * which field and why, so an import can count and show refused lines and go on.
 */
import type { IngestEvent } from './store/store.js';
import type { FirewallEvent } from '../events/firewall.js';
import { formatTimestamp, secondsOf } from '../events/time.js';
import { parseIpv4, parseIpv6, wordsToString } from '../wire/address.js';

/** Longest line read: a real one is under 200 bytes (nine fields, two IPv6 addresses); 4 KiB bounds what one hostile line may hold. */
export const MAX_LINE_BYTES = 4096;
/** A line this long or shorter is kept in the record (`firewall.raw`) as evidence; longer ones would only be padding. */
export const RAW_KEEP_BYTES = 512;
/** Largest count accepted: a 32-bit counter, what firewalls keep; more is a corrupt field, not traffic. */
export const MAX_COUNT = 0xffffffff;
/** A DShield user id: a database id in digits; 20 is a 64-bit integer's width. */
const SUBMITTER = /^\d{1,20}$/;
/** How much of a bad field an error message quotes. */
const QUOTE_CHARS = 40;

/** The record types `export dshield` writes, and why others are left out: see `formatDShieldLine`. */
export const EXPORT_TYPES = ['firewall', 'alert', 'scan', 'flood'] as const;

/** Protocol names a line may carry (case-insensitive, as in /etc/protocols), with their numbers. */
const PROTO_NUMBERS: ReadonlyMap<string, number> = new Map([
  ['ICMP', 1],
  ['IGMP', 2],
  ['TCP', 6],
  ['UDP', 17],
  ['GRE', 47],
  ['ESP', 50],
  ['AH', 51],
  ['ICMPV6', 58],
  ['IPV6-ICMP', 58],
  ['SCTP', 132],
]);

/** EVE's word for an IP protocol number (src/events/types.ts: `proto`). */
function eveProto(n: number): string {
  if (n === 6) return 'TCP';
  if (n === 17) return 'UDP';
  if (n === 1) return 'ICMP';
  if (n === 58) return 'IPv6-ICMP';
  return String(n);
}

const isIcmp = (proto: string | undefined): boolean => proto === 'ICMP' || proto === 'IPv6-ICMP';

/** A field quoted for an error message: bounded and escaped, so junk cannot flood or garble the terminal. */
function quote(s: string): string {
  return JSON.stringify(s.length > QUOTE_CHARS ? `${s.slice(0, QUOTE_CHARS)}…` : s);
}

/** An address in Outpost's text form (dotted quad; RFC 5952 for IPv6) and its family, or null. */
function parseAddress(text: string): { ip: string; v: 4 | 6 } | null {
  const v4 = parseIpv4(text);
  if (v4 !== null) return { ip: `${v4 >>> 24}.${(v4 >>> 16) & 0xff}.${(v4 >>> 8) & 0xff}.${v4 & 0xff}`, v: 4 };
  if (text.length > 45 || !text.includes(':')) return null; // 45: the longest IPv6 text (with a dotted quad)
  const v6 = parseIpv6(text);
  if (v6 === null) return null;
  const words = new Uint32Array(4);
  for (let k = 0; k < 4; k++) words[k] = ((v6[k * 4]! << 24) | (v6[k * 4 + 1]! << 16) | (v6[k * 4 + 2]! << 8) | v6[k * 4 + 3]!) >>> 0;
  return { ip: wordsToString(words, 0, false), v: 6 };
}

/** A whole number in [min, max] written in at most `digits` decimal digits, or null. */
function parseNumber(text: string, digits: number, min: number, max: number): number | null {
  if (text.length === 0 || text.length > digits || !/^\d+$/.test(text)) return null;
  const n = Number(text);
  return n >= min && n <= max ? n : null;
}

/** Seconds since the epoch and the normalised offset of a DShield date, or why it is not one. */
function parseDate(text: string): { sec: number; tz: string } | string {
  const m = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d) ([+-])(\d\d):?(\d\d)$/.exec(text);
  if (m === null) return `field 1 (date): ${quote(text)} is not "YYYY-MM-DD HH:MM:SS +HH:MM"`;
  const [y, mo, d, h, mi, s, sign, oh, om] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), m[7]!, Number(m[8]), Number(m[9])];
  // Date.UTC rolls 2004-02-30 over to March: a date that does not survive the round trip does not exist.
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    return `field 1 (date): ${quote(text)} is not a real date and time`;
  }
  // ±14:00 is the widest offset in use (Line Islands, UTC+14).
  if (oh > 14 || om > 59 || (oh === 14 && om > 0)) return `field 1 (date): UTC offset ${sign}${m[8]}:${m[9]} is out of range (-14:00 to +14:00)`;
  const offset = (oh * 60 + om) * 60 * (sign === '-' ? -1 : 1);
  const sec = ms / 1000 - offset;
  if (sec < 0) return `field 1 (date): ${quote(text)} is before 1970 (UTC)`;
  return { sec, tz: `${sign}${m[8]}:${m[9]}` };
}

/**
 * One DShield line (without its newline; a trailing CR is ignored) as a `firewall` record, or a
 * string saying what is wrong with it. Never throws. The record has no `sensor_id` or `seq` yet.
 */
export function parseDShieldLine(line: string): FirewallEvent | string {
  if (line.length > MAX_LINE_BYTES) return `line is ${line.length} characters long (at most ${MAX_LINE_BYTES})`;
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  const f = text.split('\t');
  if (f.length !== 8 && f.length !== 9) return `${f.length} tab-separated fields (a DShield line has 9: date, submitter, count, source IP, source port, target IP, target port, protocol, TCP flags)`;
  const [dateF, submitterF, countF, srcF, sportF, dstF, dportF, protoF] = f as [string, string, string, string, string, string, string, string];
  const flagsF = f[8] ?? '';

  const date = parseDate(dateF);
  if (typeof date === 'string') return date;
  if (!SUBMITTER.test(submitterF)) return `field 2 (submitter): ${quote(submitterF)} is not a DShield user id (digits)`;
  const count = parseNumber(countF, 10, 1, MAX_COUNT);
  if (count === null) return `field 3 (count): ${quote(countF)} is not a count from 1 to ${MAX_COUNT}`;
  const src = parseAddress(srcF);
  if (src === null) return `field 4 (source IP): ${quote(srcF)} is not an IPv4 or IPv6 address`;
  const dst = parseAddress(dstF);
  if (dst === null) return `field 6 (target IP): ${quote(dstF)} is not an IPv4 or IPv6 address`;
  if (src.v !== dst.v) return `source IP ${src.ip} and target IP ${dst.ip} are of different families`;

  let proto: string | undefined;
  if (protoF !== '???') {
    const byName = PROTO_NUMBERS.get(protoF.toUpperCase());
    const n = byName ?? parseNumber(protoF, 3, 0, 255);
    if (n === null) return `field 8 (protocol): ${quote(protoF)} is not a protocol name (TCP, UDP, ICMP, ...) or number 0 to 255`;
    proto = eveProto(n);
  }
  const icmp = isIcmp(proto);
  // ICMP's type and code are bytes; a port is 16 bits.
  const portMax = icmp ? 255 : 65535;
  const what = icmp ? ['ICMP type', 'ICMP code'] : ['source port', 'target port'];
  const sport = sportF === '???' ? undefined : parseNumber(sportF, 5, 0, portMax);
  if (sport === null) return `field 5 (${what[0]}): ${quote(sportF)} is not a number from 0 to ${portMax} (or ???)`;
  const dport = dportF === '???' ? undefined : parseNumber(dportF, 5, 0, portMax);
  if (dport === null) return `field 7 (${what[1]}): ${quote(dportF)} is not a number from 0 to ${portMax} (or ???)`;

  if (!/^[12UAPRSF]{0,8}$/.test(flagsF) || new Set(flagsF).size !== flagsF.length) return `field 9 (TCP flags): ${quote(flagsF)} is not a set of the letters 12UAPRSF`;
  if (flagsF !== '' && proto !== undefined && proto !== 'TCP') return `field 9 (TCP flags): ${quote(flagsF)} on a ${proto} line (flags are for TCP only)`;

  // Ports are kept for every protocol but ICMP (SCTP has ports; for others the line's value comes back on export).
  const ev: FirewallEvent = {
    timestamp: formatTimestamp(date.sec, 0),
    event_type: 'firewall',
    src_ip: src.ip,
    ...(!icmp && sport !== undefined ? { src_port: sport } : {}),
    dest_ip: dst.ip,
    ...(!icmp && dport !== undefined ? { dest_port: dport } : {}),
    ip_v: src.v,
    ...(proto !== undefined ? { proto } : {}),
    ...(icmp && sport !== undefined ? { icmp_type: sport } : {}),
    ...(icmp && dport !== undefined ? { icmp_code: dport } : {}),
    firewall: { count, tcp_flags: flagsF, submitter: submitterF, tz: date.tz },
  };
  if (Buffer.byteLength(line) <= RAW_KEEP_BYTES) ev.firewall.raw = line;
  return ev;
}

/** A record field as a string, or undefined. */
function str(o: Record<string, unknown>, k: string): string | undefined {
  const v = o[k];
  return typeof v === 'string' ? v : undefined;
}

/** A record field as a whole number in [min, max], or undefined. */
function int(o: Record<string, unknown> | undefined, k: string, min: number, max: number): number | undefined {
  const v = o?.[k];
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : undefined;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** DShield's protocol column for an EVE proto: TCP, UDP and ICMP by name (what DShield's clients write), others by number. */
function dshieldProto(proto: string | undefined): string {
  if (proto === undefined) return '???';
  if (proto === 'TCP' || proto === 'UDP' || proto === 'ICMP') return proto;
  const n = PROTO_NUMBERS.get(proto.toUpperCase()) ?? parseNumber(proto, 3, 0, 255);
  return n === null ? '???' : String(n);
}

/** TCP flags DShield-style for a scan's probe kind (an XMAS probe is FIN, PSH and URG). */
const SCAN_FLAGS: Readonly<Record<string, string>> = { syn: 'S', connect: 'S', fin: 'F', null: '', xmas: 'FPU', ack: 'A' };

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** A time (seconds since the epoch) as a DShield date in UTC: `2004-04-21 10:00:08 +00:00`. */
export function dshieldDate(sec: number): string {
  const d = new Date(Math.floor(sec) * 1000);
  return `${String(d.getUTCFullYear()).padStart(4, '0')}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} +00:00`;
}

/**
 * A stored record as one DShield line (no newline), or null when it does not map to one.
 *
 * Which records map: a DShield line says "this source sent this many packets to this target", so
 * only records that say that about attack traffic are written —
 * - `firewall`: as imported (time in UTC; the rest as read), so import then export gives the line back;
 * - `alert`: one line, count 1, no flags (an alert does not say which flags its packet had);
 * - `scan`: only when it names a single target (dest_ip); count = probes; flags from the probe
 *   kind (SYN scan `S`, XMAS `FPU`, ...); the target port when it probed one, else `???`;
 * - `flood`: only when it had a single sender (source_count 1), since one sampled sender of many
 *   would be misattributed; count = packets.
 * Flow and protocol records (flow, dns, http, tls, ...) are left out: they describe all traffic,
 * the sensor's own included, and DShield wants unsolicited packets only.
 *
 * A record also needs src_ip and dest_ip that are addresses; a missing port or protocol is `???`.
 * `submitter` is written for records that do not carry their own (DShield user id; default 0).
 */
export function formatDShieldLine(record: unknown, submitter = '0'): string | null {
  const r = obj(record);
  if (r === undefined) return null;
  const type = str(r, 'event_type');
  const ts = str(r, 'timestamp');
  if (ts === undefined || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(ts)) return null;
  const src = parseAddress(str(r, 'src_ip') ?? '');
  const dst = parseAddress(str(r, 'dest_ip') ?? '');
  if (src === null || dst === null) return null;
  const proto = str(r, 'proto');
  let count = 1;
  let flags = '';
  let who = SUBMITTER.test(submitter) ? submitter : '0';
  if (type === 'firewall') {
    const fw = obj(r.firewall);
    count = int(fw, 'count', 1, MAX_COUNT) ?? 1;
    const f = fw?.tcp_flags;
    if (typeof f === 'string' && /^[12UAPRSF]{0,8}$/.test(f)) flags = f;
    const s = fw?.submitter;
    if (typeof s === 'string' && SUBMITTER.test(s)) who = s;
  } else if (type === 'alert') {
    // one packet, flags unknown
  } else if (type === 'scan') {
    const scan = obj(r.scan);
    count = int(scan, 'probes', 1, MAX_COUNT) ?? 1;
    flags = SCAN_FLAGS[String(scan?.kind)] ?? '';
  } else if (type === 'flood') {
    const flood = obj(r.flood);
    if (int(flood, 'source_count', 1, 1) === undefined) return null;
    count = int(flood, 'packets', 1, MAX_COUNT) ?? 1;
    if (flood?.kind === 'syn') flags = 'S';
  } else {
    return null;
  }
  if (proto !== undefined && proto !== 'TCP') flags = '';
  let sport: number | undefined;
  let dport: number | undefined;
  if (isIcmp(proto)) {
    sport = int(r, 'icmp_type', 0, 255);
    dport = int(r, 'icmp_code', 0, 255);
  } else {
    sport = int(r, 'src_port', 0, 65535);
    dport = int(r, 'dest_port', 0, 65535);
  }
  const sec = secondsOf(ts);
  return [dshieldDate(sec), who, String(count), src.ip, sport ?? '???', dst.ip, dport ?? '???', dshieldProto(proto), flags].join('\t');
}

/**
 * A DShield line with its time in UTC and each field in the form export writes, or the parse
 * error: two lines that say the same thing normalise to the same text.
 */
export function normaliseDShieldLine(line: string): string {
  const ev = parseDShieldLine(line);
  if (typeof ev === 'string') return ev;
  return formatDShieldLine(ev) ?? 'unexportable';
}

/** A parsed line as the store takes it, for `sensorId` at `seq` (both set in the record too). */
export function toIngestEvent(ev: FirewallEvent, sensorId: string, seq: number): IngestEvent {
  ev.sensor_id = sensorId;
  ev.seq = seq;
  return {
    seq,
    ts: Math.round(secondsOf(ev.timestamp) * 1000),
    json: JSON.stringify(ev),
    event_type: 'firewall',
    src_ip: ev.src_ip ?? null,
    dest_ip: ev.dest_ip ?? null,
    src_port: ev.src_port ?? null,
    dest_port: ev.dest_port ?? null,
    proto: ev.proto ?? null,
    sid: null,
    signature: null,
  };
}
