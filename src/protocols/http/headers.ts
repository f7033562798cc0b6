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

/** libhtp-rs chomp: the line without its trailing line ends (every CR and LF at its end). */
export function chomp(line: Uint8Array): Uint8Array {
  let len = line.length;
  while (len > 0 && (line[len - 1] === LF || line[len - 1] === CR)) len--;
  return line.subarray(0, len);
}

/** Bytes as one character each: a loop for short values, Buffer's decoder for longer ones (no spread arguments). */
export function latin1(data: Uint8Array): string {
  if (data.length > 32) return Buffer.from(data.buffer, data.byteOffset, data.length).toString('latin1');
  let s = '';
  for (let i = 0; i < data.length; i++) s += String.fromCharCode(data[i]!);
  return s;
}

export function lowerKey(name: Uint8Array): string {
  return latin1(name).toLowerCase();
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
  /** The same fields by name with NULs dropped: libhtp looks headers up "nocase_nozero". */
  private readonly withoutNuls = new Map<string, HeaderField>();
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
      const field: HeaderField = { name: h.name, value: h.value, repeated: false };
      this.table.set(h.key, field);
      const bare = h.key.replace(/\0/g, '');
      if (!this.withoutNuls.has(bare)) this.withoutNuls.set(bare, field);
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

  /** The combined value of a header (lowercase name), or null; NULs in sent names are ignored. */
  get(key: string): Uint8Array | null {
    return this.field(key)?.value ?? null;
  }

  field(key: string): HeaderField | null {
    return this.table.get(key) ?? this.withoutNuls.get(key) ?? null;
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
    this.withoutNuls.clear();
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

/** Whose line rules a header block follows: a response also ends lines at a bare CR (libhtp-rs headers.rs `Side`). */
export type HeaderSide = 'request' | 'response';

/** What libhtp-rs (headers.rs HeaderFlags) notes about one parsed header. */
export interface BlockHeaderFlags {
  /** Continuation lines were joined into the value. */
  folded: boolean;
  /** No colon: the whole line is the value of an empty name. */
  missingColon: boolean;
  /** A colon with nothing before it. */
  nameEmpty: boolean;
  /** Whitespace (or a folded line end) before the name: a continuation line taken as a header. */
  nameLeadingSpace: boolean;
  /** Whitespace between the name and the colon. */
  nameTrailingSpace: boolean;
  /** The name has characters a token may not. */
  nameNotToken: boolean;
  /** A line end mixing LF and CR oddly ("\n\r\r\n", "\r\n\r "). */
  deformedEol: boolean;
}

/** One header as the block parser found it: name and value trimmed of whitespace, NULs kept. */
export interface BlockHeader {
  readonly name: Uint8Array;
  readonly value: Uint8Array;
  readonly flags: BlockHeaderFlags;
  /** Bytes it spans, folded lines and line ends included. */
  readonly length: number;
}

type Parsed = { header: Omit<BlockHeader, 'length'>; end: number };

export interface HeaderBlockResult {
  /** Headers complete in the bytes given (each with its line end). */
  headers: BlockHeader[];
  /** Bytes those headers (and the terminator, when `done`) used. */
  consumed: number;
  /** The empty line ending the block was found. */
  done: boolean;
}

/** The bytes given end before the parser can decide: wait for more (nom's Incomplete). */
class NeedMore {}
const NEED = new NeedMore();

/**
 * libhtp-rs keeps a header's folded lines to 128 ("limits quadratic complexity when each new
 * packet just keeps adding a folded line"); the 129th continuation starts over as a header.
 */
const MAX_FOLDS = 128;

/**
 * The header block of a message (or the trailers of a chunked one) as libhtp-rs reads it
 * (headers.rs `Parser::headers`), over the bytes buffered since the last complete header. A
 * line ends at LF or CRLF, and in a response also at a bare CR or "\n\r" (browsers accept them);
 * a line starting with space, tab or NUL continues the previous one, except in a response where
 * it reads "name:" (then it is a header of its own); the name runs to the first colon, and NULs
 * stay in names and values (look-ups ignore them).
 *
 * One difference on purpose: where libhtp-rs decides from what a TCP segment happens to hold
 * (an end-of-line sequence cut at the segment's end counts as its shorter form), this waits for
 * the bytes that decide, so any cutting of the stream gives the same headers. `complete` says
 * the stream ended: nothing more will come, so what is cut short counts as not matching.
 * `afterHeader` says headers of this block were taken already: `data` starts where one ended.
 */
export function parseHeaderBlock(data: Uint8Array, side: HeaderSide, complete: boolean, afterHeader = false): HeaderBlockResult {
  return new HeaderBlockParser(data, side === 'response', complete).headers(afterHeader);
}

interface Eol {
  end: number;
  deformed: boolean;
}

interface ValueBytes {
  start: number;
  stop: number;
  /** The line end's length (a fold's line end included). */
  eolLength: number;
  deformed: boolean;
  /** The whitespace byte that folds the next line in, or -1 when the value ends here. */
  fold: number;
  end: number;
}

class HeaderBlockParser {
  constructor(
    private readonly d: Uint8Array,
    private readonly response: boolean,
    private readonly complete: boolean,
  ) {}

  /** `text` at `p`: the end of it, -1 if it is not there, NEED when the bytes stop first. */
  private tag(p: number, text: string): number {
    for (let i = 0; i < text.length; i++) {
      if (p + i >= this.d.length) {
        if (this.complete) return -1;
        throw NEED;
      }
      if (this.d[p + i] !== text.charCodeAt(i)) return -1;
    }
    return p + text.length;
  }

  private firstTag(p: number, texts: readonly string[]): number {
    for (const t of texts) {
      const e = this.tag(p, t);
      if (e >= 0) return e;
    }
    return -1;
  }

  private isEol(c: number | undefined): boolean {
    return c === LF || (this.response && c === CR);
  }

  /** complete_eol_regular: a response also takes "\n\r" and a bare CR. */
  private eolRegular(p: number): number {
    return this.firstTag(p, this.response ? ['\r\n', '\n\r', '\n', '\r'] : ['\r\n', '\n']);
  }

  /** complete_eol_deformed: "\n\r\r\n" before another line end; response "\r\n\r" + CR/SP/HT run; request "\n\r" before CRLF. */
  private eolDeformed(p: number): number {
    const a = this.tag(p, '\n\r\r\n');
    if (a >= 0 && this.firstTag(a, ['\n', '\r\n']) >= 0) return a;
    if (!this.response) {
      const b = this.tag(p, '\n\r');
      return b >= 0 && this.tag(b, '\r\n') >= 0 ? b : -1;
    }
    let q = this.tag(p, '\r\n\r');
    if (q < 0) return -1;
    const runStart = q;
    while (q < this.d.length && (this.d[q] === CR || this.d[q] === 0x20 || this.d[q] === 0x09)) q++;
    if (q === this.d.length && !this.complete) throw NEED;
    if (q === runStart) return -1;
    const lf = this.tag(q, '\n');
    if (lf >= 0) q = lf;
    return this.firstTag(q, ['\n', '\r\n']) >= 0 ? -1 : q;
  }

  /** complete_eol: a deformed line end, else a regular one. */
  private eolAny(p: number): Eol | null {
    const d = this.eolDeformed(p);
    if (d >= 0) return { end: d, deformed: true };
    const r = this.eolRegular(p);
    return r >= 0 ? { end: r, deformed: false } : null;
  }

  /** folding_lws: the byte that makes the next line a continuation (SP, HT, NUL). */
  private foldByte(p: number): boolean {
    if (p >= this.d.length) {
      if (this.complete) return false;
      throw NEED;
    }
    const c = this.d[p];
    return c === 0x20 || c === 0x09 || c === 0;
  }

  /** folding: a line end then a fold byte (a response folds only after a regular line end). */
  private folding(p: number): Eol | null {
    let e: Eol | null;
    if (this.response) {
      const end = this.eolRegular(p);
      e = end >= 0 ? { end, deformed: false } : null;
    } else {
      e = this.eolAny(p);
    }
    if (e === null || !this.foldByte(e.end)) return null;
    return e;
  }

  /** value_bytes: the value to its line end, and whether a continuation line follows. */
  private valueBytes(p: number): ValueBytes | null {
    let stop = p;
    while (stop < this.d.length && !this.isEol(this.d[stop])) stop++;
    // take_till is streaming even once the stream ended: a value without line end is not a header.
    if (stop === this.d.length) throw NEED;
    if (stop > p && this.d[stop - 1] === CR) stop--;
    const fold = this.folding(stop);
    if (fold !== null) return { start: p, stop, eolLength: fold.end - stop, deformed: fold.deformed, fold: this.d[fold.end]!, end: fold.end + 1 };
    const eol = this.eolAny(stop);
    if (eol === null) return null;
    // The line end must not be a fold (the `not(folding_lws)` of eol), unless the stream ended.
    if (!this.complete && this.foldByte(eol.end)) return null;
    return { start: p, stop, eolLength: eol.end - stop, deformed: eol.deformed, fold: -1, end: eol.end };
  }

  /** A response's peek after a fold: "name:" means a new header, not a continuation. */
  private looksLikeHeader(p: number): boolean {
    let q = p;
    const spaces = (): void => {
      while (q < this.d.length && (this.d[q] === 0x20 || this.d[q] === 0x09)) q++;
      if (q === this.d.length) throw NEED;
    };
    spaces();
    const tokenStart = q;
    while (q < this.d.length && isToken(this.d[q]!)) q++;
    if (q === this.d.length) throw NEED;
    const tokens = q - tokenStart;
    spaces();
    if (this.tag(q, ':') < 0) return false;
    q++;
    spaces();
    return tokens > 0;
  }

  /** value: the value with its continuation lines, joined by their first whitespace byte. */
  private value(p: number): { value: Uint8Array; folded: boolean; deformed: boolean; end: number } | null {
    const first = this.valueBytes(p);
    if (first === null) return null;
    const parts: number[] = [...this.d.subarray(first.start, first.stop)];
    let rest = first.end;
    let deformed = first.deformed;
    const folded = first.fold >= 0;
    let fold = first.fold;
    let i = rest;
    for (let n = 0; fold >= 0 && n < MAX_FOLDS; n++) {
      if (this.response && this.looksLikeHeader(i)) {
        // libhtp-rs: "ambiguous name with lws vs. value with folding": a new header starts at i.
        return { value: trimSpace(Uint8Array.from(parts)), folded: false, deformed, end: i };
      }
      const next = this.valueBytes(i);
      if (next === null) return null;
      i = next.end;
      deformed ||= next.deformed;
      if (parts.length > 0) parts.push(fold);
      if (next.stop > next.start || next.eolLength > 1) {
        rest = next.end;
        for (let k = next.start; k < next.stop; k++) parts.push(this.d[k]!);
      } else if (next.end < this.d.length && this.d[next.end] === LF) {
        // An empty continuation and then LF: the block ends here.
        rest = next.end;
      }
      // Otherwise the empty continuation is left to be read as the end of the block.
      if (next.fold < 0) break;
      fold = next.fold;
    }
    return { value: trimSpace(Uint8Array.from(parts)), folded, deformed, end: rest };
  }

  /** name: up to the first colon; a line end inside counts only if SP (or CRLF) follows it. */
  private nameEnd(p: number): number {
    let terminated = 0;
    for (let i = p; i < this.d.length; i++) {
      const c = this.d[i]!;
      if (terminated === 0) {
        if (c === 0x3a) return i;
        if (c === LF || (this.response && c === CR)) terminated = c;
      } else if (c === 0x20) {
        terminated = 0;
      } else if (c === LF && terminated === CR) {
        terminated = c;
      } else {
        return i - 1;
      }
    }
    return p;
  }

  private headerWithColon(p: number): Parsed | null {
    const ne = this.nameEnd(p);
    if (this.tag(ne, ':') < 0) return null;
    let q = ne + 1;
    while (q < this.d.length && (this.d[q] === 0x20 || this.d[q] === 0x09)) q++;
    if (q === this.d.length) throw NEED;
    const v = this.value(q);
    if (v === null) return null;
    const raw = this.d.subarray(p, ne);
    let tokenEnd = 0;
    while (tokenEnd < raw.length && (raw[tokenEnd] === 0x20 || raw[tokenEnd] === 0x09)) tokenEnd++;
    while (tokenEnd < raw.length && isToken(raw[tokenEnd]!)) tokenEnd++;
    while (tokenEnd < raw.length && (raw[tokenEnd] === 0x20 || raw[tokenEnd] === 0x09)) tokenEnd++;
    const flags: BlockHeaderFlags = {
      folded: v.folded,
      missingColon: false,
      nameEmpty: raw.length === 0,
      nameLeadingSpace: raw.length > 0 && isSpace(raw[0]),
      nameTrailingSpace: raw.length > 0 && isSpace(raw[raw.length - 1]),
      // token_chars is streaming: a name that is all token stops at its end and is not flagged.
      nameNotToken: tokenEnd < raw.length,
      deformedEol: v.deformed,
    };
    return { header: { name: trimSpace(raw), value: v.value, flags }, end: v.end };
  }

  private headerSansColon(p: number): Parsed | null {
    if (this.tag(p, '\r\n') >= 0) return null;
    const v = this.value(p);
    if (v === null) return null;
    const flags: BlockHeaderFlags = {
      folded: v.folded,
      missingColon: true,
      nameEmpty: true,
      nameLeadingSpace: false,
      nameTrailingSpace: false,
      nameNotToken: false,
      deformedEol: v.deformed,
    };
    return { header: { name: new Uint8Array(0), value: v.value, flags }, end: v.end };
  }

  /** header: with a colon if that parses completely, else the whole line as a value. */
  private header(p: number): Parsed | null {
    try {
      const h = this.headerWithColon(p);
      if (h !== null) return h;
    } catch (e) {
      if (e !== NEED) throw e;
    }
    return this.headerSansColon(p);
  }

  headers(afterHeader: boolean): HeaderBlockResult {
    const out: BlockHeader[] = [];
    let i = 0;
    try {
      if (afterHeader) {
        const end = this.eolRegular(0);
        if (end >= 0) return { headers: out, consumed: end, done: true };
      } else if (this.tag(0, '\r\n') >= 0 || (this.tag(0, '\n') >= 0 && this.tag(1, '\r') < 0)) {
        // An empty line first: no headers. libhtp-rs gets there for CRLF only; for a bare LF it
        // would read an empty header and go on reading the body as headers (see NOTES.md).
        return { headers: out, consumed: this.d[0] === CR ? 2 : 1, done: true };
      }
      for (;;) {
        const h = this.header(i);
        if (h === null) {
          const eol = out.length === 0 && !afterHeader ? this.eolAny(i) : null;
          if (eol !== null) return { headers: out, consumed: eol.end, done: true };
          // Bytes no header rule takes; they stay buffered until the line limit stops the message.
          return { headers: out, consumed: i, done: false };
        }
        out.push({ ...h.header, length: h.end - i });
        i = h.end;
        const end = this.eolRegular(i);
        if (end >= 0) return { headers: out, consumed: end, done: true };
      }
    } catch (e) {
      if (e !== NEED) throw e;
      return { headers: out, consumed: i, done: false };
    }
  }
}

/** libhtp-rs trimmed(): whitespace (htp_is_space) off both ends; NULs stay. */
function trimSpace(data: Uint8Array): Uint8Array {
  let s = 0;
  let e = data.length;
  while (s < e && isSpace(data[s])) s++;
  while (e > s && isSpace(data[e - 1])) e--;
  return copyBytes(data, s, e);
}
