/**
 * The `http` record, field for field as Suricata's output-json-http.c writes it
 * (EveHttpLogJSONBasic, then EveHttpLogJSONExtended, then the header dumps when configured).
 * Types and field docs: src/events/http.ts.
 */
import type { HttpContentRange, HttpHeaderEntry, HttpRecord } from '../../events/http.js';
import { latin1, type HeaderSet } from './headers.js';
import type { HttpTransaction } from './transaction.js';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Bytes as Suricata's JsonBuilder writes them (set_string_from_bytes): as text when they are
 * valid UTF-8, otherwise ASCII kept and every other byte as the four characters `\xNN`.
 */
export function eveString(bytes: Uint8Array): string {
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (!ascii) {
    try {
      return utf8.decode(bytes);
    } catch {
      let out = '';
      for (const b of bytes) out += b < 0x80 ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
      return out;
    }
  }
  return latin1(bytes);
}

/**
 * A C string as SCJbSetString takes it: the text, or null when it is not valid UTF-8 (Suricata
 * then writes no field at all).
 */
function cString(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

/**
 * http_content_type: the value through BytesToStringBuffer (each NUL becomes the two characters
 * `\0`), cut at its first ';'; null when the result is not UTF-8.
 */
export function contentTypeField(value: Uint8Array): string | null {
  const out: number[] = [];
  for (const b of value) {
    if (b === 0x3b) break;
    if (b === 0) out.push(0x5c, 0x30);
    else out.push(b);
  }
  return cString(Uint8Array.from(out));
}

function digits(s: Uint8Array, at: number): { value: number; next: number } | null {
  let n = 0;
  let i = at;
  while (i < s.length && s[i]! >= 0x30 && s[i]! <= 0x39) {
    n = n * 10 + (s[i]! - 0x30);
    i++;
  }
  // Suricata reads each number into an i64; more than 2^53 is beyond anything a range means.
  if (i === at || n > Number.MAX_SAFE_INTEGER) return null;
  return { value: n, next: i };
}

/**
 * Suricata's HTTP Content-Range parser (rust/src/http2/range.rs http2_parse_content_range):
 * spaces, a unit up to the next space, spaces, then "*\/size" or "start-end/size" (size may be
 * "*"); what follows is ignored. -1 stands for a part that is "*". Null when it does not parse.
 */
export function parseContentRange(value: Uint8Array): { start: number; end: number; size: number } | null {
  let i = 0;
  while (i < value.length && value[i] === 0x20) i++;
  const unit = value.indexOf(0x20, i);
  // The unit must end in a space: Suricata's streaming take_till wants more input otherwise.
  if (unit < 0) return null;
  i = unit;
  while (i < value.length && value[i] === 0x20) i++;
  if (value[i] === 0x2a) {
    if (value[i + 1] !== 0x2f) return null;
    const size = digits(value, i + 2);
    return size === null ? null : { start: -1, end: -1, size: size.value };
  }
  const start = digits(value, i);
  if (start === null || value[start.next] !== 0x2d) return null;
  const end = digits(value, start.next + 1);
  if (end === null || value[end.next] !== 0x2f) return null;
  if (value[end.next + 1] === 0x2a) return { start: start.value, end: end.value, size: -1 };
  const size = digits(value, end.next + 1);
  return size === null ? null : { start: start.value, end: end.value, size: size.value };
}

function contentRange(value: Uint8Array): HttpContentRange {
  const cr: HttpContentRange = { raw: eveString(value) };
  const p = parseContentRange(value);
  if (p !== null) {
    if (p.start >= 0) cr.start = p.start;
    if (p.end >= 0) cr.end = p.end;
    if (p.size >= 0) cr.size = p.size;
  }
  return cr;
}

/** Output-json-http.c's MAX_SIZE_HEADER_NAME and MAX_SIZE_HEADER_VALUE, less the C string's NUL. */
const HEADER_NAME_MAX = 255;
const HEADER_VALUE_MAX = 2047;

/** A header as EveHttpLogJSONHeaders copies it into a C string: cut at the size cap and at the first NUL. */
function cField(bytes: Uint8Array, max: number): string | null {
  let end = Math.min(bytes.length, max);
  const nul = bytes.subarray(0, end).indexOf(0);
  if (nul >= 0) end = nul;
  return cString(bytes.subarray(0, end));
}

function headerDump(headers: HeaderSet): HttpHeaderEntry[] | undefined {
  const out: HttpHeaderEntry[] = [];
  for (const f of headers.fields()) {
    // SCJbSetString refuses a string that is not UTF-8: the object is then written without that key.
    const entry: Partial<HttpHeaderEntry> = {};
    const name = cField(f.name, HEADER_NAME_MAX);
    const value = cField(f.value, HEADER_VALUE_MAX);
    if (name !== null) entry.name = name;
    if (value !== null) entry.value = value;
    out.push(entry as HttpHeaderEntry);
  }
  return out.length === 0 ? undefined : out;
}

/** eve-log.http options: `dump-all-headers` (none by default in suricata.yaml). */
export interface HttpLogOptions {
  dumpAllHeaders?: 'none' | 'request' | 'response' | 'both';
}

/**
 * The `http` object of a transaction as far as it is known: for the record once the transaction
 * is done, for an alert at any point (Suricata's alerts show the basic and extended fields).
 */
export function httpRecord(tx: HttpTransaction, options: HttpLogOptions = {}): HttpRecord {
  const req = tx.request;
  const res = tx.response;
  const rec = {} as HttpRecord;
  // EveHttpLogJSONBasic
  if (req.host !== null) rec.hostname = eveString(req.host);
  if (req.port !== null) rec.http_port = req.port;
  if (req.uri !== null) rec.url = eveString(req.uri);
  const ua = req.headers.get('user-agent');
  if (ua !== null) rec.http_user_agent = eveString(ua);
  const xff = req.headers.get('x-forwarded-for');
  if (xff !== null) rec.xff = eveString(xff);
  const ct = res.headers.get('content-type');
  if (ct !== null) {
    const v = contentTypeField(ct);
    if (v !== null) rec.http_content_type = v;
  }
  const range = res.headers.get('content-range');
  if (range !== null) rec.content_range = contentRange(range);
  // EveHttpLogJSONExtended (suricata.yaml ships `extended: yes`)
  const referer = req.headers.get('referer');
  if (referer !== null) rec.http_refer = eveString(referer);
  if (req.method !== null) rec.http_method = eveString(req.method);
  if (req.protocol !== null) rec.protocol = eveString(req.protocol);
  if (res.status !== null && res.status > 0) rec.status = res.status;
  else if (res.statusRaw !== null) rec.status_string = eveString(res.statusRaw);
  const location = res.headers.get('location');
  if (location !== null) rec.redirect = eveString(location);
  rec.length = res.length;
  const dump = options.dumpAllHeaders ?? 'none';
  if (dump === 'request' || dump === 'both') {
    const h = headerDump(req.headers);
    if (h !== undefined) rec.request_headers = h;
  }
  if (dump === 'response' || dump === 'both') {
    const h = headerDump(res.headers);
    if (h !== undefined) rec.response_headers = h;
  }
  return rec;
}
