/**
 * What rules may inspect of an HTTP transaction: the buffers named in src/rules/buffers.ts,
 * filled as Suricata fills them (detect-http-*.c, detect-file-data.c). Side 0 is the request,
 * side 1 the response. A buffer whose part of the exchange has not been parsed yet is null (the
 * engine tries again at the next inspection point); one that can no longer come (a header never
 * sent) is null as well, as Suricata has no buffer then, and so is an empty one (an empty
 * header value, a message without headers), which Suricata's inspection never matches.
 */
import type { InspectableTx } from '../../rules/buffers.js';
import type { HeaderSet } from './headers.js';
import { httpRecord } from './log.js';
import type { HttpMessage, HttpTransaction } from './transaction.js';

/** The HTTP buffers a transaction fills, by their Suricata names. */
export const HTTP_BUFFERS = [
  'http.uri',
  'http.uri.raw',
  'http.method',
  'http.host',
  'http.host.raw',
  'http.header',
  'http.header.raw',
  'http.header_names',
  'http.user_agent',
  'http.cookie',
  'http.referer',
  'http.accept',
  'http.accept_enc',
  'http.accept_lang',
  'http.connection',
  'http.content_type',
  'http.content_len',
  'http.location',
  'http.server',
  'http.request_line',
  'http.response_line',
  'http.start',
  'http.protocol',
  'http.stat_code',
  'http.stat_msg',
  'http.request_body',
  'http.response_body',
  'file.data',
  'file.name',
] as const;

/** Buffers that hold one header's value: the header, by side (null: that side has no such buffer). */
const SINGLE_HEADERS: ReadonlyMap<string, readonly [string | null, string | null]> = new Map([
  ['http.user_agent', ['user-agent', null]],
  ['http.cookie', ['cookie', 'set-cookie']],
  ['http.referer', ['referer', null]],
  ['http.accept', ['accept', null]],
  ['http.accept_enc', ['accept-encoding', null]],
  ['http.accept_lang', ['accept-language', null]],
  ['http.connection', ['connection', 'connection']],
  ['http.content_type', ['content-type', 'content-type']],
  ['http.content_len', ['content-length', 'content-length']],
  ['http.location', [null, 'location']],
  ['http.server', [null, 'server']],
]);

const EMPTY = new Uint8Array(0);

/**
 * Suricata's http.header: "Name: value\r\n" for each header of the table (repeats joined), without
 * Cookie in a request and Set-Cookie in a response, and no extra line end at the close
 * (detect-http-header.c keeps that one under `#if 0`: "looks like this breaks existing rules").
 */
export function normalizedHeaders(headers: HeaderSet, side: number): Uint8Array {
  const skip = side === 0 ? 'cookie' : 'set-cookie';
  const parts: Uint8Array[] = [];
  for (const f of headers.fields()) {
    if (f.name.length === skip.length && lower(f.name) === skip) continue;
    parts.push(f.name, COLON_SP, f.value, CRLF);
  }
  return concat(parts);
}

/** Suricata's http.header_names: "\r\nName1\r\nName2\r\n\r\n", empty without headers. */
export function headerNames(headers: HeaderSet): Uint8Array {
  const names = headers.names();
  if (names.length === 0) return EMPTY;
  const parts: Uint8Array[] = [CRLF];
  for (const n of names) parts.push(n, CRLF);
  parts.push(CRLF);
  return concat(parts);
}

/**
 * Suricata's http.start: the start line, "\r\n", every header of the table as "Name: value\r\n"
 * (Cookie included), and one more "\r\n" after the last header (detect-http-start.c).
 */
export function startBuffer(line: Uint8Array, headers: HeaderSet): Uint8Array {
  const parts: Uint8Array[] = [line, CRLF];
  const fields = headers.fields();
  for (const f of fields) parts.push(f.name, COLON_SP, f.value, CRLF);
  if (fields.length > 0) parts.push(CRLF);
  return concat(parts);
}

const CRLF = Uint8Array.of(0x0d, 0x0a);
const COLON_SP = Uint8Array.of(0x3a, 0x20);

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function lower(b: Uint8Array): string {
  let s = '';
  for (const c of b) s += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 32 : c);
  return s;
}

/**
 * One HTTP transaction as rules see it. The session says when a side's body may be inspected
 * (`bodyReady`: the body ended, or filled the inspection limit, or the connection ended) and
 * what files the transaction carries (`fileNames`); everything else is read from the parsed
 * transaction, computed once per state of the transaction and cached.
 */
export class HttpTxView implements InspectableTx {
  readonly id: number;
  /** Per side: its body is final for inspection. */
  readonly bodyReady: [boolean, boolean] = [false, false];
  /** Per side: the name of the first file the side carries, once it has one. */
  readonly fileNames: [Uint8Array | null, Uint8Array | null] = [null, null];
  private readonly cache = new Map<string, Uint8Array | null>();
  /** The transaction's state when the cache was filled: any progress empties it. */
  private stamp = -1;

  constructor(readonly tx: HttpTransaction) {
    this.id = tx.id;
  }

  buffer(name: string, side: number): Uint8Array | null {
    if (side !== 0 && side !== 1) return null;
    const stamp = this.currentStamp();
    if (stamp !== this.stamp) {
      this.cache.clear();
      this.stamp = stamp;
    }
    const key = side === 0 ? name : `1\u0000${name}`;
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const computed = this.compute(name, side);
    // Suricata's content inspection gives up on an empty buffer (even a negated content does
    // not match it): an empty buffer is no buffer.
    const value = computed !== null && computed.length === 0 ? null : computed;
    this.cache.set(key, value);
    return value;
  }

  alertMetadata(): Record<string, unknown> {
    return { http: httpRecord(this.tx) };
  }

  /** A number that changes whenever anything a buffer reads can have changed. */
  private currentStamp(): number {
    const q = this.tx.request;
    const r = this.tx.response;
    // Header counts change with trailers; progress and readiness cover the rest.
    return (
      PROGRESS.indexOf(q.progress) +
      PROGRESS.length * (PROGRESS.indexOf(r.progress) + PROGRESS.length * ((this.bodyReady[0] ? 1 : 0) + 2 * (this.bodyReady[1] ? 1 : 0) + 4 * (this.fileNames[0] !== null ? 1 : 0) + 8 * (this.fileNames[1] !== null ? 1 : 0) + 16 * (q.headers.list.length + r.headers.list.length)))
    );
  }

  private compute(name: string, side: 0 | 1): Uint8Array | null {
    const tx = this.tx;
    const q = tx.request;
    const r = tx.response;
    const m: HttpMessage = side === 0 ? q : r;
    const requestLine = tx.requestSeen && q.lineDone;
    const single = SINGLE_HEADERS.get(name);
    if (single !== undefined) {
      const key = single[side];
      if (key === null || !m.headersDone || (side === 0 && !tx.requestSeen)) return null;
      return m.headers.get(key);
    }
    switch (name) {
      case 'http.uri':
        return requestLine ? q.uriNormalized : null;
      case 'http.uri.raw':
        return requestLine ? q.uri : null;
      case 'http.method':
        return requestLine ? q.method : null;
      case 'http.request_line':
        return requestLine ? q.line : null;
      case 'http.host':
        return requestLine && q.headersDone ? q.host : null;
      case 'http.host.raw':
        return requestLine && q.headersDone ? q.hostRaw : null;
      case 'http.response_line':
        return r.lineDone ? r.line : null;
      case 'http.stat_code':
        return r.lineDone ? r.statusRaw : null;
      case 'http.stat_msg':
        return r.lineDone ? r.message : null;
      case 'http.protocol':
        if (side === 0) return requestLine ? q.protocol : null;
        return r.lineDone ? r.protocol : null;
      case 'http.header':
        return this.headersOf(side) ? normalizedHeaders(m.headers, side) : null;
      case 'http.header.raw':
        return this.headersOf(side) ? m.headersRaw.bytes : null;
      case 'http.header_names':
        return this.headersOf(side) ? headerNames(m.headers) : null;
      case 'http.start':
        return this.headersOf(side) && m.line !== null ? startBuffer(m.line, m.headers) : null;
      case 'http.request_body':
        return this.body(0);
      case 'http.response_body':
        return this.body(1);
      case 'file.data':
        return this.body(side);
      case 'file.name':
        return this.fileNames[side];
      default:
        return null;
    }
  }

  /** The side's headers are complete (an HTTP/0.9 exchange has none). */
  private headersOf(side: 0 | 1): boolean {
    if (side === 0) return this.tx.requestSeen && !this.tx.http09 && this.tx.request.headersDone;
    return !this.tx.response.noStatusLine && this.tx.response.headersDone;
  }

  /** A side's kept body (de-chunked, decoded), once final; null without one. */
  private body(side: 0 | 1): Uint8Array | null {
    if (!this.bodyReady[side]) return null;
    const b = (side === 0 ? this.tx.request : this.tx.response).body.bytes;
    return b.length === 0 ? null : b;
  }
}

const PROGRESS = ['none', 'line', 'headers', 'body', 'trailers', 'complete'];
