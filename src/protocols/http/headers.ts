import type { HttpEvent } from './events.js';
import { copyBytes, parseDecimal } from './uri.js';

/** One header line (with its folded continuation lines) as sent. */
export interface HttpHeader {
  /** The name as sent, case kept. */
  readonly name: Uint8Array;
  /** The name lowercased (Latin-1), for look-ups. */
  readonly key: string;
  /** The value, surrounding whitespace removed; continuation lines joined as libhtp joins them. */
  readonly value: Uint8Array;
  /** Continuation lines were folded into it. */
  readonly folded: boolean;
  /** It came after a chunked body (a trailer). */
  readonly trailer: boolean;
}

/** A header name's value with repeats combined, as libhtp's header table keeps it. */
export interface HeaderField {
  /** The name as first sent. */
  readonly name: Uint8Array;
  /** Values of repeated lines joined with ", " (Content-Length is never joined: the first counts). */
  value: Uint8Array;
  repeated: boolean;
}

const CR = 0x0d;
const LF = 0x0a;

export function isLws(c: number | undefined): boolean {
  return c === 0x20 || c === 0x09;
}

/** libhtp's htp_is_space (isspace in the C locale). */
export function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0b || c === 0x0c || c === 0x0d;
}

/** RFC 2616 token characters: visible ASCII but the separators ()<>@,;:\"/[]?={}. */
export function isToken(c: number): boolean {
  if (c <= 0x20 || c >= 0x7f) return false;
  switch (c) {
    case 0x28: case 0x29: case 0x3c: case 0x3e: case 0x40: case 0x2c: case 0x3b: case 0x3a: case 0x5c:
    case 0x22: case 0x2f: case 0x5b: case 0x5d: case 0x3f: case 0x3d: case 0x7b: case 0x7d:
      return false;
    default:
      return true;
  }
}

/** libhtp's htp_chomp: the line without its trailing line ends ("\n" or "\r\n", repeatedly). */
export function chomp(line: Uint8Array): Uint8Array {
  let len = line.length;
  while (len > 0 && line[len - 1] === LF) {
    len--;
    if (len > 0 && line[len - 1] === CR) len--;
  }
  return line.subarray(0, len);
}

export function latin1(data: Uint8Array): string {
  let s = '';
  for (let i = 0; i < data.length; i += 8192) s += String.fromCharCode(...data.subarray(i, i + 8192));
  return s;
}

export function lowerKey(name: Uint8Array): string {
  return latin1(name).toLowerCase();
}

/** A parsed header line and what was wrong with it (libhtp htp_parse_request_header_generic). */
export interface ParsedHeaderLine {
  name: Uint8Array;
  value: Uint8Array;
  missingColon: boolean;
  /** Empty name, whitespace before the colon, or a name that is not a token. */
  invalid: boolean;
}

/**
 * Splits one (chomped, unfolded) header line. Without a colon the whole line is the value of an
 * empty name; the name ends at the colon (or a NUL), loses whitespace before the colon, and the
 * value ends at a NUL, with surrounding whitespace removed.
 */
export function parseHeaderLine(data: Uint8Array): ParsedHeaderLine {
  const len = data.length;
  let colon = 0;
  while (colon < len && data[colon] !== 0 && data[colon] !== 0x3a) colon++;
  if (colon === len || data[colon] === 0) {
    return { name: new Uint8Array(0), value: copyBytes(data), missingColon: true, invalid: false };
  }
  let invalid = colon === 0;
  let nameEnd = colon;
  while (nameEnd > 0 && isLws(data[nameEnd - 1])) {
    nameEnd--;
    invalid = true;
  }
  let vs = colon + 1;
  while (vs < len && isLws(data[vs])) vs++;
  let ve = vs;
  while (ve < len && data[ve] !== 0) ve++;
  while (ve > vs && isLws(data[ve - 1])) ve--;
  for (let i = 0; i < nameEnd; i++) {
    if (!isToken(data[i]!)) {
      invalid = true;
      break;
    }
  }
  return { name: copyBytes(data, 0, nameEnd), value: copyBytes(data, vs, ve), missingColon: false, invalid };
}

/**
 * libhtp's htp_parse_content_length: leading non-digits are skipped, trailing ones ignored, and the
 * digits must fit (here: in 2^53 - 1). -1 when there are no digits or too many.
 */
export function parseContentLength(value: Uint8Array): number {
  let pos = 0;
  while (pos < value.length && (value[pos]! < 0x30 || value[pos]! > 0x39)) pos++;
  if (pos === value.length) return -1;
  let end = pos;
  while (end < value.length && value[end]! >= 0x30 && value[end]! <= 0x39) end++;
  return parseDecimal(value.subarray(pos, end));
}

/** Why adding a header failed. */
export type HeaderRefusal = 'too-many' | null;

/** A message's headers: every kept line in order, and libhtp's table of combined values. */
export class HeaderSet {
  /** Kept header lines, in order (trailers last). */
  readonly list: HttpHeader[] = [];
  private readonly table = new Map<string, HeaderField>();
  private repetitions = 0;
  /** Repeated lines dropped past the repetition limit. */
  dropped = 0;

  constructor(
    private readonly maxHeaders: number,
    private readonly maxRepetitions: number,
  ) {}

  /** Adds a header; `events` receives what libhtp would log. 'too-many' means the message must stop. */
  add(h: HttpHeader, events: (e: 'repetition' | 'duplicate-content-length') => void): HeaderRefusal {
    const existing = this.table.get(h.key);
    if (existing === undefined) {
      if (this.table.size >= this.maxHeaders) return 'too-many';
      this.table.set(h.key, { name: h.name, value: h.value, repeated: false });
      this.list.push(h);
      return null;
    }
    if (!existing.repeated) {
      events('repetition');
    } else if (this.repetitions < this.maxRepetitions) {
      this.repetitions++;
    } else {
      this.dropped++;
      return null;
    }
    existing.repeated = true;
    if (h.key === 'content-length') {
      const a = parseContentLength(existing.value);
      const b = parseContentLength(h.value);
      if (a < 0 || b < 0 || a !== b) events('duplicate-content-length');
    } else {
      const joined = new Uint8Array(existing.value.length + 2 + h.value.length);
      joined.set(existing.value);
      joined[existing.value.length] = 0x2c;
      joined[existing.value.length + 1] = 0x20;
      joined.set(h.value, existing.value.length + 2);
      existing.value = joined;
    }
    this.list.push(h);
    return null;
  }

  /** The combined value of a header (lowercase name), or null. */
  get(key: string): Uint8Array | null {
    return this.table.get(key)?.value ?? null;
  }

  field(key: string): HeaderField | null {
    return this.table.get(key) ?? null;
  }

  /** The combined headers in first-seen order (Suricata's http.header is built from these). */
  fields(): HeaderField[] {
    return [...this.table.values()];
  }

  /** Each header name once, as first sent, in first-seen order (http.header_names). */
  names(): Uint8Array[] {
    return this.fields().map((f) => f.name);
  }

  /** Forgets everything (an interim 100 response's headers). */
  clear(): void {
    this.list.length = 0;
    this.table.clear();
    this.repetitions = 0;
    this.dropped = 0;
  }
}

/** The event names for a header problem, by direction. */
export function headerEvent(dir: 0 | 1, kind: 'missing-colon' | 'invalid' | 'folding' | 'repetition' | 'duplicate-content-length' | 'too-many' | 'too-long'): HttpEvent {
  const req = dir === 0;
  switch (kind) {
    case 'missing-colon':
      return req ? 'REQUEST_FIELD_MISSING_COLON' : 'RESPONSE_FIELD_MISSING_COLON';
    case 'invalid':
      return req ? 'REQUEST_HEADER_INVALID' : 'RESPONSE_HEADER_INVALID';
    case 'folding':
      return req ? 'INVALID_REQUEST_FIELD_FOLDING' : 'INVALID_RESPONSE_FIELD_FOLDING';
    case 'repetition':
      return req ? 'REQUEST_HEADER_REPETITION' : 'RESPONSE_HEADER_REPETITION';
    case 'duplicate-content-length':
      return req ? 'DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST' : 'DUPLICATE_CONTENT_LENGTH_FIELD_IN_RESPONSE';
    case 'too-many':
      return req ? 'REQUEST_TOO_MANY_HEADERS' : 'RESPONSE_TOO_MANY_HEADERS';
    case 'too-long':
      return req ? 'REQUEST_FIELD_TOO_LONG' : 'RESPONSE_FIELD_TOO_LONG';
  }
}
