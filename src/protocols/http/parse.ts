import { ContentDecoder, contentCodings } from './body.js';
import type { HttpEvent } from './events.js';
import { chomp, headerEvent, isSpace, lowerKey, parseContentLength, parseHeaderBlock, type BlockHeader, type HttpHeader } from './headers.js';
import { httpLimits, type HttpLimits } from './limits.js';
import { HttpTransaction, type HttpMessage, type HttpVersion } from './transaction.js';
import { copyBytes, normalizeUri, parseDecimal, parseHostPort } from './uri.js';

/**
 * Incremental HTTP/0.9, 1.0 and 1.1 parsing of one connection, modelled on libhtp (the parser
 * Suricata uses) with Suricata's default configuration. Each direction is its own state machine,
 * fed reassembled stream bytes in any pieces; the same bytes cut differently give the same
 * transactions. Nothing here throws on input: malformed traffic becomes events (Suricata's names)
 * and, where libhtp gives up on a direction, that direction stops and its bytes are counted.
 *
 * The two directions meet only where HTTP makes them: responses answer requests in order (the
 * parser tells the response side which request it answers: its method for HEAD and CONNECT, an
 * HTTP/0.9 request for a response without status line, Expect: 100-continue), a CONNECT holds
 * the client's bytes until the answer says tunnel or not, and a response that starts while its
 * request line is unfinished finishes it.
 */

/** Where the parser reports progress: the session turns these into inspections, records and files. */
export interface HttpParserHooks {
  /** A transaction began: its request started, or a response came that answers no request. */
  onTransaction?(tx: HttpTransaction): void;
  onRequestLine?(tx: HttpTransaction): void;
  onRequestHeaders?(tx: HttpTransaction): void;
  onRequestComplete?(tx: HttpTransaction): void;
  onResponseLine?(tx: HttpTransaction): void;
  onResponseHeaders?(tx: HttpTransaction): void;
  onResponseComplete?(tx: HttpTransaction): void;
  /** Decoded body bytes, all of them (kept or past the inspection limit): a view, valid during the call. */
  onBodyData?(tx: HttpTransaction, dir: 0 | 1, data: Uint8Array): void;
  /** An anomaly; `tx` is null when it belongs to no transaction. */
  onEvent?(event: HttpEvent, dir: 0 | 1, tx: HttpTransaction | null): void;
  /** Both sides are complete, or the connection ended: the parser lets go of the transaction. */
  onTransactionDone?(tx: HttpTransaction): void;
}

const LF = 0x0a;
const CR = 0x0d;

/** The methods libhtp knows (libhtp-rs HtpMethod::new); any other is "unknown". */
const KNOWN_METHODS = new Set([
  'GET', 'PUT', 'POST', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE',
  'LOCK', 'UNLOCK', 'VERSION-CONTROL', 'CHECKOUT', 'UNCHECKOUT', 'CHECKIN', 'UPDATE', 'LABEL', 'REPORT', 'MKWORKSPACE',
  'MKACTIVITY', 'BASELINE-CONTROL', 'MERGE', 'INVALID', 'HEAD',
]);

function bytesEqualAscii(data: Uint8Array | null, text: string): boolean {
  if (data === null || data.length !== text.length) return false;
  for (let i = 0; i < data.length; i++) if (data[i] !== text.charCodeAt(i)) return false;
  return true;
}

function containsNocase(data: Uint8Array, text: string): boolean {
  return lowerKey(data.filter((b) => b !== 0)).includes(text);
}

/**
 * libhtp-rs parse_protocol: "HTTP" (any case), '/', the version, with whitespace allowed around
 * the parts; only 0.9, 1.0 and 1.1 are versions, anything else is invalid.
 */
export function parseProtocol(data: Uint8Array): HttpVersion {
  const s = lowerKey(data).replace(/\0/g, ' ');
  const m = /^[ \t\r\n\v\f]*http[ \t\r\n\v\f]*\/[ \t\r\n\v\f]*([0-9.]+)[ \t\r\n\v\f]*$/.exec(s);
  if (m === null) return 'invalid';
  const v = m[1];
  return v === '0.9' || v === '1.0' || v === '1.1' ? v : 'invalid';
}

/**
 * libhtp's htp_treat_response_line_as_body: a status line must start (after whitespace and NULs)
 * with "http" in any case, as browsers require; anything else is body.
 */
function looksLikeStatusLine(data: Uint8Array): boolean {
  let pos = 0;
  while (pos < data.length && (isSpace(data[pos]) || data[pos] === 0)) pos++;
  if (data.length < pos + 4) return false;
  return (data[pos]! | 0x20) === 0x68 && (data[pos + 1]! | 0x20) === 0x74 && (data[pos + 2]! | 0x20) === 0x74 && (data[pos + 3]! | 0x20) === 0x70;
}

/** libhtp's chunked control characters: what may stand before a chunk size (and fill an empty line). */
function isChunkedCtl(c: number | undefined): boolean {
  return c === CR || c === LF || c === 0x20 || c === 0x09 || c === 0x0b || c === 0x0c;
}

function isHexDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
}

/**
 * libhtp-rs is_valid_chunked_length_data: the start of a chunk-size line (its LF not seen yet) can
 * still be one unless its first byte after control characters is not a hex digit.
 */
export function chunkLengthCanStart(data: Uint8Array): boolean {
  let pos = 0;
  while (pos < data.length && isChunkedCtl(data[pos])) pos++;
  return pos === data.length || isHexDigit(data[pos]!);
}

/**
 * libhtp's htp_parse_chunked_length: leading whitespace and line ends skipped (nothing left: an
 * empty line, skipped), then hex digits; junk after them is ignored, a ';' there is an extension.
 * Over 2^31 - 1 is invalid, as libhtp (INT32_MAX).
 */
function parseChunkSize(line: Uint8Array): { size: number | null; empty: boolean; extension: boolean } {
  let pos = 0;
  while (pos < line.length && isChunkedCtl(line[pos])) pos++;
  if (pos === line.length) return { size: null, empty: true, extension: false };
  let size = 0;
  const start = pos;
  while (pos < line.length) {
    const c = line[pos]!;
    const v = c >= 0x30 && c <= 0x39 ? c - 0x30 : (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66 ? (c | 0x20) - 0x61 + 10 : -1;
    if (v < 0) break;
    size = size * 16 + v;
    if (size > 0x7fffffff) return { size: null, empty: false, extension: false };
    pos++;
  }
  const extension = line.subarray(pos).includes(0x3b);
  return { size: pos === start ? null : size, empty: false, extension };
}

/** Collects one line up to its LF, bounded by the field limit (past it only the fact is kept). */
class LineBuffer {
  private buf = new Uint8Array(256);
  length = 0;
  complete = false;
  overflow = false;
  /** It holds a byte other than CR and LF. */
  content = false;

  constructor(private readonly limit: number) {}

  /**
   * Takes bytes up to and including the next LF; returns the offset after what it took. With
   * `crEnds` (a status line: libhtp-rs take_till_eol) a bare CR ends the line too, once the byte
   * after it shows it is not CRLF.
   */
  take(data: Uint8Array, off: number, end: number, crEnds = false): number {
    if (crEnds && this.length > 0 && !this.overflow && this.buf[this.length - 1] === CR) {
      // The last piece ended on a CR: the line ends there, with the LF if one follows.
      if (off < end && data[off] === LF) return this.append(data, off, off + 1, true);
      this.complete = true;
      return off;
    }
    let stop = end;
    let complete = false;
    for (let i = off; i < end; i++) {
      const c = data[i];
      if (c === LF) {
        stop = i + 1;
        complete = true;
        break;
      }
      if (c === CR && crEnds) {
        if (i + 1 === end) break;
        stop = data[i + 1] === LF ? i + 2 : i + 1;
        complete = true;
        break;
      }
    }
    return this.append(data, off, stop, complete);
  }

  private append(data: Uint8Array, off: number, stop: number, complete: boolean): number {
    this.complete = complete;
    const n = stop - off;
    if (this.length + n > this.limit) {
      this.overflow = true;
      this.length += n;
      return stop;
    }
    if (this.length + n > this.buf.length) {
      const grown = new Uint8Array(Math.min(this.limit, Math.max(this.length + n, this.buf.length * 2)));
      grown.set(this.buf.subarray(0, this.length));
      this.buf = grown;
    }
    for (let i = off; i < stop && !this.content; i++) if (data[i] !== CR && data[i] !== LF) this.content = true;
    this.buf.set(data.subarray(off, stop), this.length);
    this.length += n;
    return stop;
  }

  get bytes(): Uint8Array {
    return this.buf.subarray(0, Math.min(this.length, this.buf.length));
  }

  reset(): void {
    this.length = 0;
    this.complete = false;
    this.overflow = false;
    this.content = false;
  }
}

/**
 * Bytes past a header's end the block parser may need to see before taking it ("\n\r\r\n" and
 * the line end after it): a header within the field limit is never refused for them.
 */
const HEADER_LOOKAHEAD = 8;

/** A direction's parsing state. */
const enum State {
  Idle,
  Line,
  /** After a request line without protocol: headers follow, or it is HTTP/0.9. */
  Probe09,
  Headers,
  Body,
  /** Response body until the connection closes. */
  Close,
  ChunkSize,
  ChunkData,
  ChunkEnd,
  /** A CONNECT waits for its answer; the client's bytes are held. */
  ConnectWait,
  /** After an HTTP/0.9 request: libhtp ignores the rest of the client's data. */
  Ignore,
  /** A line that is no status line came where one was due: the two bytes after it decide (response side). */
  JunkLine,
  Tunnel,
  Error,
}

/** What the two directions share: lines, headers, bodies. */
abstract class Side {
  state: State = State.Idle;
  tx: HttpTransaction | null = null;
  protected readonly line: LineBuffer;
  /** Header bytes not yet taken by the block parser (an unfinished header, or a line end awaiting the byte after it). */
  private headerBuf = new Uint8Array(0);
  private headerLen = 0;
  /** Headers of the current block were taken: the buffer starts where one ended. */
  private headerTaken = false;
  protected inTrailers = false;
  protected left = 0;
  protected decoder: ContentDecoder | null = null;
  /** Bytes this direction did not parse (after an error, in a tunnel, after HTTP/0.9). */
  skipped = 0;

  constructor(
    protected readonly conn: HttpParser,
    readonly dir: 0 | 1,
  ) {
    this.line = new LineBuffer(conn.limits.fieldLimit);
  }

  protected abstract message(): HttpMessage | null;
  protected abstract headersDone(): void;
  protected abstract messageDone(): void;
  protected abstract lineDone(line: Uint8Array): void;

  protected event(e: HttpEvent): void {
    this.conn.event(e, this.dir, this.tx);
  }

  /** This direction stops parsing (libhtp's HTP_STREAM_ERROR). */
  fail(e: HttpEvent | null): void {
    if (e !== null) this.event(e);
    const m = this.message();
    if (m !== null && !m.complete) m.truncated = true;
    this.state = State.Error;
  }

  /** Feeds stream bytes in order. */
  feed(data: Uint8Array): void {
    let off = 0;
    const end = data.length;
    while (off < end) {
      switch (this.state) {
        case State.Idle:
        case State.Line:
        case State.ChunkSize: {
          off = this.collect(data, off, end);
          break;
        }
        case State.Headers: {
          off = this.headerBytes(data, off, end);
          break;
        }
        case State.Body:
        case State.ChunkData: {
          const n = Math.min(this.left, end - off);
          this.bodyBytes(data.subarray(off, off + n), n);
          off += n;
          this.left -= n;
          if (this.left === 0) {
            if (this.state === State.ChunkData) this.state = State.ChunkEnd;
            else this.messageDone();
          }
          break;
        }
        case State.Close: {
          this.bodyBytes(data.subarray(off, end), end - off);
          off = end;
          break;
        }
        case State.ChunkEnd: {
          // libhtp consumes anything up to the LF that ends a chunk's data.
          const lf = data.indexOf(LF, off);
          const stop = lf >= 0 ? lf + 1 : end;
          this.wire(stop - off);
          off = stop;
          if (lf >= 0) this.state = State.ChunkSize;
          break;
        }
        default:
          off = this.other(data, off, end);
      }
    }
  }

  /** States only one direction has; returns the new offset. */
  protected other(_data: Uint8Array, off: number, end: number): number {
    this.skipped += end - off;
    return end;
  }

  protected collect(data: Uint8Array, off: number, end: number): number {
    const next = this.line.take(data, off, end, this.dir === 1 && (this.state === State.Idle || this.state === State.Line));
    if (this.state === State.Idle && this.line.content) this.begin();
    if (this.state === State.Error) return end;
    if (this.line.overflow) {
      this.fail(headerEvent(this.dir, 'too-long'));
      this.skipped += end - next;
      return end;
    }
    if (!this.line.complete) {
      if (this.dir === 1 && this.state === State.ChunkSize && !chunkLengthCanStart(this.line.bytes)) {
        // libhtp-rs response_body_chunked_length: a chunk-size line that cannot become one (no
        // hex digit first) is not waited for: the body is identity to the close from here.
        const bytes = copyBytes(this.line.bytes);
        this.line.reset();
        this.wire(bytes.length);
        this.badChunkSize(bytes);
      }
      return next;
    }
    const bytes = this.line.bytes;
    this.line.reset();
    if (this.state === State.Idle || this.state === State.Line) this.lineDone(bytes);
    else this.chunkSizeLine(bytes);
    return next;
  }

  /** The first content byte of a message (before that, empty lines are skipped). */
  protected abstract begin(): void;

  private wire(n: number): void {
    const m = this.message();
    if (m !== null) m.wireLength += n;
  }

  protected bodyBytes(data: Uint8Array, wire: number): void {
    const m = this.message();
    if (m === null) return;
    m.wireLength += wire;
    m.length += data.length;
    this.decoder?.write(data);
  }

  /** Sets up decoding of the body for the message's Content-Encoding. */
  protected startBody(m: HttpMessage): void {
    const tx = this.tx;
    const { layers, events } = contentCodings(m.headers.get('content-encoding'), this.conn.limits.decompressLayerLimit);
    for (const e of events) this.event(e);
    m.codings = layers;
    if (layers.length === 0 && m.contentLength !== null && m.contentLength > 0) m.body.reserve(m.contentLength);
    this.decoder = new ContentDecoder(
      layers,
      this.conn.limits,
      (d) => {
        m.body.append(d);
        if (tx !== null) this.conn.hooks.onBodyData?.(tx, this.dir, d);
      },
      (e) => this.event(e),
    );
  }

  protected endBody(): void {
    this.decoder?.end();
    this.decoder = null;
  }

  protected beginHeaders(trailers: boolean): void {
    this.inTrailers = trailers;
    this.headerLen = 0;
    this.headerTaken = false;
    this.state = State.Headers;
  }

  /** Header (or trailer) bytes: buffered until libhtp-rs's block parser can take whole headers. */
  private headerBytes(data: Uint8Array, off: number, end: number): number {
    const before = this.headerLen;
    const n = end - off;
    if (before + n > this.headerBuf.length) {
      const grown = new Uint8Array(Math.max(before + n, this.headerBuf.length * 2, 256));
      grown.set(this.headerBuf.subarray(0, before));
      this.headerBuf = grown;
    }
    this.headerBuf.set(data.subarray(off, end), before);
    this.headerLen += n;
    const r = this.takeHeaders(false);
    if (r === null) return end;
    if (!r.done) {
      // What is left is one unfinished header (and the few bytes after a line end that decide
      // it): libhtp's field limit bounds it.
      if (this.headerLen > this.conn.limits.fieldLimit + HEADER_LOOKAHEAD) {
        this.fail(headerEvent(this.dir, 'too-long'));
        this.skipped += this.headerLen;
      }
      return end;
    }
    const used = r.consumed - before;
    // Bytes buffered earlier that the block did not use (its end was decided by what followed).
    const earlier = used < 0 ? copyBytes(this.headerBuf, 0, -used) : null;
    this.headerLen = 0;
    this.headersEnd();
    if (earlier === null) return off + used;
    this.feed(earlier);
    return off;
  }

  /**
   * Runs the block parser over the buffered bytes: adds the headers it completes, keeps their raw
   * bytes and drops them from the buffer. Null when the message had to stop (too many headers).
   */
  private takeHeaders(complete: boolean): { done: boolean; consumed: number } | null {
    const m = this.message();
    const buffered = this.headerBuf.subarray(0, this.headerLen);
    const r = parseHeaderBlock(buffered, this.dir === 0 ? 'request' : 'response', complete, this.headerTaken);
    if (r.headers.length > 0) this.headerTaken = true;
    let at = 0;
    for (const h of r.headers) {
      if (!this.addHeader(h)) return null;
      m?.headersRaw.append(buffered.subarray(at, at + h.length));
      at += h.length;
    }
    m?.headersRaw.append(buffered.subarray(at, r.consumed));
    this.headerBuf.copyWithin(0, r.consumed, this.headerLen);
    this.headerLen -= r.consumed;
    return r;
  }

  /** The block ended: the message goes on to its body, or (trailers) is complete. */
  private headersEnd(): void {
    if (this.inTrailers) {
      this.inTrailers = false;
      this.endBody();
      this.messageDone();
    } else {
      this.headersDone();
    }
  }

  /** Adds one parsed header with libhtp-rs's warnings; false when the message had to stop. */
  private addHeader(p: BlockHeader): boolean {
    const m = this.message();
    if (m === null) return true;
    if (p.length > this.conn.limits.fieldLimit) {
      this.fail(headerEvent(this.dir, 'too-long'));
      return false;
    }
    const f = p.flags;
    if (f.missingColon) this.event(headerEvent(this.dir, 'missing-colon'));
    // Whitespace before a name is a continuation line read as a header: libhtp-rs's invalid folding.
    if (f.nameLeadingSpace) this.event(headerEvent(this.dir, 'folding'));
    if (f.nameTrailingSpace || f.nameNotToken || (f.nameEmpty && !f.missingColon)) this.event(headerEvent(this.dir, 'invalid'));
    const h: HttpHeader = { name: p.name, key: lowerKey(p.name), value: p.value, folded: f.folded, trailer: this.inTrailers };
    const refused = m.headers.add(h, (kind) => this.event(headerEvent(this.dir, kind)));
    if (refused !== null) {
      this.fail(headerEvent(this.dir, 'too-many'));
      return false;
    }
    return true;
  }

  private chunkSizeLine(bytes: Uint8Array): void {
    this.wire(bytes.length);
    const c = parseChunkSize(chomp(bytes));
    if (c.empty) return;
    if (c.extension) this.event(this.dir === 0 ? 'REQUEST_CHUNK_EXTENSION' : 'RESPONSE_CHUNK_EXTENSION');
    if (c.size === null) {
      this.badChunkSize(bytes);
      return;
    }
    if (c.size === 0) {
      const m = this.message();
      if (m !== null) m.progress = 'trailers';
      this.beginHeaders(true);
      return;
    }
    this.left = c.size;
    this.state = State.ChunkData;
  }

  protected abstract badChunkSize(line: Uint8Array): void;

  /** The stream ended in this direction. */
  end(): void {
    const m = this.message();
    switch (this.state) {
      case State.Idle:
      case State.Line:
        if (this.line.content && !this.line.overflow) {
          const bytes = this.line.bytes;
          this.line.reset();
          this.lineDone(bytes);
          const after = this.state as State;
          if (after === State.Error || after === State.Idle) break;
          this.end();
          return;
        }
        break;
      case State.Headers: {
        // Nothing more will come: what waited for the byte after a line end is decided now.
        const r = this.takeHeaders(true);
        if (r !== null && r.done) {
          const rest = copyBytes(this.headerBuf, 0, this.headerLen);
          this.headerLen = 0;
          this.headersEnd();
          this.feed(rest);
          const after = this.state as State;
          if (after === State.Error || after === State.Idle) break;
          this.end();
          return;
        }
        if (m !== null) m.truncated = true;
        this.endBody();
        break;
      }
      case State.Close:
        this.endBody();
        this.messageDone();
        break;
      case State.Body:
      case State.ChunkSize:
      case State.ChunkData:
      case State.ChunkEnd:
        if (m !== null) m.truncated = true;
        this.endBody();
        break;
      default:
        break;
    }
    this.line.reset();
    if (this.state !== State.Idle) this.state = State.Error;
  }

  /** `len` bytes of this direction were lost. Inside a body they are counted as body; elsewhere parsing stops. */
  gap(len: number): void {
    const m = this.message();
    if ((this.state === State.Body || this.state === State.ChunkData) && len <= this.left && m !== null) {
      m.gap = true;
      m.wireLength += len;
      m.length += len;
      if (this.decoder !== null) this.decoder.stopped = true;
      this.left -= len;
      if (this.left === 0) {
        if (this.state === State.ChunkData) this.state = State.ChunkEnd;
        else this.messageDone();
      }
      return;
    }
    if (this.state === State.Close && m !== null) {
      m.gap = true;
      m.wireLength += len;
      m.length += len;
      if (this.decoder !== null) this.decoder.stopped = true;
      return;
    }
    if (this.state === State.Tunnel || this.state === State.Ignore || this.state === State.Error) {
      this.skipped += len;
      return;
    }
    if (m !== null && !m.complete) m.gap = true;
    this.skipped += len;
    this.fail(null);
  }
}

class RequestSide extends Side {
  /** Whitespace seen after a protocol-less request line, replayed if headers follow. */
  private probe: number[] = [];
  /** Client bytes held while a CONNECT waits for its answer. */
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  private ignoredLines = 0;

  protected message(): HttpMessage | null {
    return this.tx?.request ?? null;
  }

  protected begin(): void {
    const tx = this.conn.startRequest();
    if (tx === null) {
      this.fail(null);
      return;
    }
    this.tx = tx;
    tx.request.progress = 'line';
    tx.request.ignoredLines = this.ignoredLines;
    this.ignoredLines = 0;
    this.state = State.Line;
  }

  protected lineDone(bytes: Uint8Array): void {
    const data = chomp(bytes);
    if (data.length === 0 || this.tx === null) {
      // Empty lines before a request are skipped (libhtp counts them as ignored lines).
      this.ignoredLines++;
      return;
    }
    this.requestLine(data);
  }

  /** libhtp-rs parse_request_line with the IDS personality (leading whitespace ignored). */
  private requestLine(data: Uint8Array): void {
    const tx = this.tx!;
    const req = tx.request;
    req.line = copyBytes(data);
    const len = data.length;
    let pos = 0;
    while (pos < len && isSpace(data[pos])) pos++;
    if (pos > 0) this.event('REQUEST_LINE_LEADING_WHITESPACE');
    const ms = pos;
    while (pos < len && !isSpace(data[pos])) pos++;
    req.method = copyBytes(data, ms, pos);
    req.methodKnown = KNOWN_METHODS.has(String.fromCharCode(...req.method.subarray(0, 32)));
    let badDelim = false;
    while (pos < len && isSpace(data[pos])) {
      if (data[pos] !== 0x20) badDelim = true;
      pos++;
    }
    if (badDelim) this.event('METHOD_DELIM_NON_COMPLIANT');
    let protocol: Uint8Array | null = null;
    if (pos < len) {
      let end = len;
      while (end > pos && isSpace(data[end - 1])) end--;
      let uriEnd = pos;
      while (uriEnd < end && data[uriEnd] !== 0x20) uriEnd++;
      if (uriEnd === end) {
        let other = false;
        for (let i = pos; i < end; i++) if (isSpace(data[i])) other = true;
        if (other) {
          // RFC allows only SP, but servers split on any whitespace: so does libhtp, with a warning.
          this.event('URI_DELIM_NON_COMPLIANT');
          uriEnd = pos;
          while (uriEnd < end && !isSpace(data[uriEnd])) uriEnd++;
        }
      }
      req.uri = copyBytes(data, pos, uriEnd);
      let ps = uriEnd;
      while (ps < end && isSpace(data[ps])) ps++;
      if (ps < end) protocol = copyBytes(data, ps, end);
    }
    req.protocol = protocol;
    req.version = protocol === null ? '0.9' : parseProtocol(protocol);
    if (!req.methodKnown && (protocol === null || req.version === 'invalid')) this.event('REQUEST_LINE_INVALID');
    // A CONNECT target is an authority; one starting with "/" is a path, and names no host
    // (Suricata ticket 7851: "CONNECT / HTTP/1.1" must not make "/" the host).
    const connect = bytesEqualAscii(req.method, 'CONNECT') && req.uri?.[0] !== 0x2f;
    const n = normalizeUri(req.uri, connect);
    req.uriParts = n.parts;
    req.uriFlags = n.flags;
    req.uriNormalized = req.uri === null ? null : n.normalized;
    if (n.hostname !== null) {
      req.host = n.hostname;
      req.hostRaw = n.parts.hostname;
      req.port = n.portNumber;
    }
    if (n.hostInvalid) this.event('REQUEST_URI_HOST_INVALID');
    req.progress = 'headers';
    this.conn.hooks.onRequestLine?.(tx);
    if (protocol === null) {
      this.state = State.Probe09;
      this.probe = [];
    } else {
      this.beginHeaders(false);
    }
  }

  protected override other(data: Uint8Array, off: number, end: number): number {
    switch (this.state) {
      case State.Probe09: {
        while (off < end && isSpace(data[off])) {
          if (this.probe.length < this.conn.limits.fieldLimit) this.probe.push(data[off]!);
          off++;
        }
        if (off < end) {
          // More than whitespace follows: the protocol was missing, these are headers (libhtp-rs).
          this.event('REQUEST_LINE_MISSING_PROTOCOL');
          this.beginHeaders(false);
          const replay = Uint8Array.from(this.probe);
          this.probe = [];
          this.feed(replay);
        }
        return off;
      }
      case State.ConnectWait: {
        const n = end - off;
        if (this.heldBytes + n > this.conn.limits.connectPendingMax) {
          // That much before the proxy answers is tunnel data, not another request.
          this.held = [];
          this.heldBytes = 0;
          this.state = State.Tunnel;
          this.skipped += n;
          return end;
        }
        this.held.push(copyBytes(data, off, end));
        this.heldBytes += n;
        return end;
      }
      default:
        this.skipped += end - off;
        return end;
    }
  }

  /** The request turned out to be HTTP/0.9: it is complete, and libhtp ignores what the client sends next. */
  finish09(): void {
    const tx = this.tx;
    if (tx === null || this.state !== State.Probe09) return;
    tx.http09 = true;
    this.probe = [];
    tx.request.progress = 'complete';
    this.conn.hooks.onRequestComplete?.(tx);
    this.tx = null;
    this.state = State.Ignore;
    this.conn.requestDone(tx);
  }

  /** A response starts for `tx`: an unfinished request line is taken as it is (REQUEST_LINE_INCOMPLETE). */
  responseStarting(tx: HttpTransaction): void {
    if (this.tx !== tx) return;
    if (this.state === State.Line && this.line.content && !this.line.overflow) {
      this.event('REQUEST_LINE_INCOMPLETE');
      const bytes = this.line.bytes;
      this.line.reset();
      this.requestLine(chomp(bytes));
    }
    if (this.state === State.Probe09) this.finish09();
  }

  protected headersDone(): void {
    const tx = this.tx!;
    const req = tx.request;
    const te = req.headers.get('transfer-encoding');
    const cl = req.headers.get('content-length');
    if (te !== null) {
      if (!containsNocase(te, 'chunked')) {
        this.fail('INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST');
        return;
      }
      // Chunked before HTTP/1.1 is libhtp's HTP_REQUEST_INVALID_T_E (smuggling): flagged, still chunked.
      if (req.version !== '1.1') this.event('INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST');
      req.framing = 'chunked';
      if (cl !== null) {
        const n = parseContentLength(cl);
        if (n >= 0) req.contentLength = n;
      }
    } else if (cl !== null) {
      const n = parseContentLength(cl);
      if (n < 0) {
        this.fail('INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST');
        return;
      }
      req.contentLength = n;
      req.framing = n > 0 ? 'length' : 'none';
    }
    this.resolveHost();
    const expect = req.headers.get('expect');
    req.expectContinue = expect !== null && lowerKey(expect).trim() === '100-continue';
    req.progress = 'body';
    this.startBody(req);
    this.conn.hooks.onRequestHeaders?.(tx);
    if (bytesEqualAscii(req.method, 'CONNECT')) {
      // No body: the request is done, and the client's next bytes wait for the answer.
      req.framing = 'none';
      this.endBody();
      req.progress = 'complete';
      this.conn.hooks.onRequestComplete?.(tx);
      this.tx = null;
      this.state = State.ConnectWait;
      this.conn.requestDone(tx);
      return;
    }
    if (req.framing === 'chunked') {
      this.state = State.ChunkSize;
    } else if (req.framing === 'length') {
      this.left = req.contentLength!;
      this.state = State.Body;
    } else {
      this.messageDone();
    }
  }

  /** libhtp's host rules: the URI's host wins; the Host header fills in, and disagreement is ambiguous. */
  private resolveHost(): void {
    const req = this.tx!.request;
    const host = req.headers.get('host');
    if (host === null) {
      if (req.version === '1.1') this.event('MISSING_HOST_HEADER');
      return;
    }
    const hp = parseHostPort(host);
    if (hp.invalid) this.event('REQUEST_HEADER_HOST_INVALID');
    if (hp.hostname === null) {
      if (req.host !== null) this.event('HOST_HEADER_AMBIGUOUS');
      return;
    }
    if (req.host === null) {
      req.host = hp.hostname;
      req.hostRaw = host;
      req.port = hp.portNumber;
      return;
    }
    const differentPort = req.port !== null && hp.portNumber !== null && req.port !== hp.portNumber;
    if (lowerKey(hp.hostname) !== lowerKey(req.host) || differentPort) this.event('HOST_HEADER_AMBIGUOUS');
  }

  protected messageDone(): void {
    const tx = this.tx;
    if (tx === null) {
      this.state = State.Idle;
      return;
    }
    this.endBody();
    tx.request.progress = 'complete';
    this.conn.hooks.onRequestComplete?.(tx);
    this.tx = null;
    this.state = State.Idle;
    this.conn.requestDone(tx);
  }

  protected badChunkSize(): void {
    this.fail('INVALID_REQUEST_CHUNK_LEN');
  }

  /** The server refused the body it was asked to wait for (4xx to Expect: 100-continue): the request ends here. */
  bodyRefused(tx: HttpTransaction): void {
    if (this.tx !== tx || tx.request.wireLength > 0) return;
    if (this.state !== State.Body && this.state !== State.ChunkSize) return;
    tx.request.framing = 'none';
    this.messageDone();
  }

  /** The CONNECT's answer came: a tunnel, or HTTP goes on with the bytes held meanwhile. */
  connectAnswered(tunnel: boolean): void {
    if (this.state !== State.ConnectWait) return;
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    if (tunnel) {
      this.state = State.Tunnel;
      for (const h of held) this.skipped += h.length;
      return;
    }
    this.state = State.Idle;
    for (const h of held) this.feed(h);
  }

  override end(): void {
    if (this.state === State.Probe09) {
      this.finish09();
      return;
    }
    super.end();
  }
}

class ResponseSide extends Side {
  /** The line that is no status line, and the bytes seen after it (at most two). */
  private junk: Uint8Array = new Uint8Array(0);
  private junkNext: number[] = [];

  protected message(): HttpMessage | null {
    return this.tx?.response ?? null;
  }

  protected override other(data: Uint8Array, off: number, end: number): number {
    if (this.state !== State.JunkLine) return super.other(data, off, end);
    while (off < end && this.junkNext.length < 2) this.junkNext.push(data[off++]!);
    if (this.junkNext.length === 2) this.junkDecided();
    return off;
  }

  /**
   * libhtp-rs response_line_complete: a line where the status line was due that does not start
   * with "http" is skipped when a status line seems to follow (the next byte is 'H') or it is
   * short (two bytes or less); libhtp-rs asks that of the rest of the TCP segment, here of the
   * next two bytes. Otherwise it starts the body, read to the close as browsers do.
   */
  private junkDecided(): void {
    const next = Uint8Array.from(this.junkNext);
    this.junkNext = [];
    const res = this.tx!.response;
    if (next.length === 2 && (next[0] === 0x48 || chomp(this.junk).length <= 2)) {
      this.skipped += this.junk.length;
      this.state = State.Line;
    } else {
      res.noStatusLine = true;
      res.framing = 'close';
      res.progress = 'body';
      this.startBody(res);
      this.state = State.Close;
      this.bodyBytes(this.junk, this.junk.length);
    }
    this.feed(next);
  }

  override end(): void {
    if (this.state === State.JunkLine) this.junkDecided();
    super.end();
  }

  override feed(data: Uint8Array): void {
    let off = 0;
    // Line ends between responses start nothing (libhtp would start one and match it to the next request).
    if (this.state === State.Idle) {
      while (off < data.length && (data[off] === CR || data[off] === LF)) off++;
      if (off > 0) this.skipped += off;
      if (off === data.length) return;
    }
    super.feed(off === 0 ? data : data.subarray(off));
  }

  protected begin(): void {
    const tx = this.conn.startResponse();
    if (tx === null) {
      this.fail(null);
      return;
    }
    this.tx = tx;
    const res = tx.response;
    if (tx.http09) {
      // An HTTP/0.9 answer has no status line or headers: all of it is body, to the close.
      res.noStatusLine = true;
      res.framing = 'close';
      res.progress = 'body';
      this.startBody(res);
      const pending = copyBytes(this.line.bytes);
      this.line.reset();
      this.state = State.Close;
      this.bodyBytes(pending, pending.length);
      return;
    }
    res.progress = 'line';
    this.state = State.Line;
  }

  protected lineDone(bytes: Uint8Array): void {
    const tx = this.tx;
    if (tx === null) {
      this.skipped += bytes.length;
      return;
    }
    const res = tx.response;
    const data = chomp(bytes);
    if (data.length === 0) return;
    if (!looksLikeStatusLine(data)) {
      this.junk = copyBytes(bytes);
      this.junkNext = [];
      this.state = State.JunkLine;
      return;
    }
    res.line = copyBytes(data);
    const len = data.length;
    let pos = 0;
    while (pos < len && isSpace(data[pos])) pos++;
    const ps = pos;
    while (pos < len && !isSpace(data[pos])) pos++;
    res.protocol = copyBytes(data, ps, pos);
    while (pos < len && isSpace(data[pos])) pos++;
    const ss = pos;
    while (pos < len && !isSpace(data[pos])) pos++;
    res.statusRaw = pos > ss ? copyBytes(data, ss, pos) : null;
    while (pos < len && isSpace(data[pos])) pos++;
    res.message = pos < len ? copyBytes(data, pos) : null;
    res.version = parseProtocol(res.protocol);
    if (res.version === 'invalid') this.event('RESPONSE_INVALID_PROTOCOL');
    const status = res.statusRaw === null ? -1 : parseDecimal(res.statusRaw);
    // libhtp HTP_VALID_STATUS_MIN 100 and HTP_VALID_STATUS_MAX 999.
    if (status < 100 || status > 999) {
      res.status = null;
      this.event('RESPONSE_INVALID_STATUS');
    } else {
      res.status = status;
    }
    res.progress = 'headers';
    this.conn.hooks.onResponseLine?.(tx);
    this.beginHeaders(false);
  }

  /** libhtp's htp_connp_RES_BODY_DETERMINE. */
  protected headersDone(): void {
    const tx = this.tx!;
    const req = tx.request;
    const res = tx.response;
    const status = res.status ?? -1;
    const te = res.headers.get('transfer-encoding');
    const cl = res.headers.get('content-length');
    const connect = tx.requestSeen && bytesEqualAscii(req.method, 'CONNECT');
    if (connect) {
      if (status >= 200 && status <= 299) {
        this.tunnelNow(tx);
        return;
      }
      this.conn.connectAnswered(tx, false);
    }
    if (status === 101 && te === null && cl === null) {
      this.tunnelNow(tx);
      return;
    }
    if (status === 100 && te === null && cl === null) {
      if (res.continueSeen) {
        this.fail('100_CONTINUE_ALREADY_SEEN');
        return;
      }
      // The interim answer: its headers are forgotten and the real status line follows.
      res.continueSeen = true;
      res.headers.clear();
      res.progress = 'line';
      this.state = State.Line;
      return;
    }
    if (status >= 400 && status <= 499 && req.expectContinue) this.conn.bodyRefused(tx);
    const noBodyStatus = (status >= 100 && status <= 199) || status === 204 || status === 304;
    if (bytesEqualAscii(req.method, 'HEAD')) {
      res.framing = 'none';
    } else if (noBodyStatus && te === null && cl === null) {
      res.framing = 'none';
    } else if (te !== null && containsNocase(te, 'chunked')) {
      if (lowerKey(te) !== 'chunked') this.event('RESPONSE_ABNORMAL_TRANSFER_ENCODING');
      if (res.version !== '1.1') this.event('RESPONSE_CHUNKED_OLD_PROTO');
      res.framing = 'chunked';
      if (cl !== null) {
        const n = parseContentLength(cl);
        if (n >= 0) res.contentLength = n;
      }
    } else {
      if (te !== null) this.event('INVALID_TRANSFER_ENCODING_VALUE_IN_RESPONSE');
      if (cl !== null) {
        const n = parseContentLength(cl);
        if (n < 0) {
          this.fail('INVALID_CONTENT_LENGTH_FIELD_IN_RESPONSE');
          return;
        }
        res.contentLength = n;
        res.framing = n > 0 ? 'length' : 'none';
      } else {
        const ct = res.headers.get('content-type');
        // libhtp gives up on these; reading to the close keeps the bytes (Outpost's choice).
        if (ct !== null && containsNocase(ct, 'multipart/byteranges')) this.event('RESPONSE_MULTIPART_BYTERANGES');
        res.framing = 'close';
      }
    }
    res.progress = 'body';
    this.startBody(res);
    this.conn.hooks.onResponseHeaders?.(tx);
    if (res.framing === 'chunked') {
      this.state = State.ChunkSize;
    } else if (res.framing === 'length') {
      this.left = res.contentLength!;
      this.state = State.Body;
    } else if (res.framing === 'close') {
      this.state = State.Close;
    } else {
      this.messageDone();
    }
  }

  private tunnelNow(tx: HttpTransaction): void {
    tx.tunnel = true;
    tx.response.progress = 'body';
    this.conn.hooks.onResponseHeaders?.(tx);
    this.messageDone();
    this.state = State.Tunnel;
    this.conn.tunnel(tx);
  }

  protected messageDone(): void {
    const tx = this.tx;
    if (tx === null) {
      this.state = State.Idle;
      return;
    }
    this.endBody();
    tx.response.progress = 'complete';
    this.conn.hooks.onResponseComplete?.(tx);
    this.tx = null;
    this.state = State.Idle;
    this.conn.responseDone(tx);
  }

  /** libhtp (0.5): a bad chunk size in a response turns the rest of it into body read to the close. */
  protected badChunkSize(line: Uint8Array): void {
    this.event('INVALID_RESPONSE_CHUNK_LEN');
    const res = this.tx?.response;
    if (res === undefined) return;
    res.framing = 'close';
    this.state = State.Close;
    this.bodyBytes(line, 0);
  }
}

/**
 * One HTTP connection: both directions' parsers and the transactions between them. Feed it each
 * direction's reassembled bytes in order (`data`), losses (`gap`), ends (`end`) and the close.
 */
export class HttpParser {
  readonly limits: HttpLimits;
  private readonly requests: RequestSide;
  private readonly responses: ResponseSide;
  /** Transactions not yet let go, in id order. */
  readonly open: HttpTransaction[] = [];
  /** Requests started whose response has not (the order responses answer them). */
  private readonly awaiting: HttpTransaction[] = [];
  private nextId = 0;
  private events = 0;
  /** The connection became a tunnel (CONNECT accepted, or 101): neither side is HTTP any more. */
  tunnelled = false;
  /** Exceptions caught inside the parser (a bug if ever non-zero); the connection stops being parsed. */
  internalErrors = 0;

  constructor(
    readonly hooks: HttpParserHooks = {},
    limits: Partial<HttpLimits> = {},
  ) {
    this.limits = httpLimits(limits);
    this.requests = new RequestSide(this, 0);
    this.responses = new ResponseSide(this, 1);
  }

  /** Stream bytes from the client (dir 0) or the server (dir 1), in order. A view: what is kept is copied. */
  data(dir: 0 | 1, data: Uint8Array): void {
    this.guard(() => (dir === 0 ? this.requests : this.responses).feed(data));
  }

  /** `len` bytes are missing in a direction. */
  gap(dir: 0 | 1, len: number): void {
    this.guard(() => (dir === 0 ? this.requests : this.responses).gap(len));
  }

  /** A direction's stream ended (FIN): a body read to the close is complete, others are cut short. */
  end(dir: 0 | 1): void {
    this.guard(() => (dir === 0 ? this.requests : this.responses).end());
  }

  /** The connection is over: both directions end and every open transaction is let go. */
  close(): void {
    this.guard(() => {
      this.requests.end();
      this.responses.end();
    });
    for (const tx of this.open.splice(0)) this.hooks.onTransactionDone?.(tx);
    this.awaiting.length = 0;
  }

  /** Bytes each direction did not parse (after an error, in a tunnel, after HTTP/0.9). */
  get skipped(): { request: number; response: number } {
    return { request: this.requests.skipped, response: this.responses.skipped };
  }

  private guard(f: () => void): void {
    try {
      f();
    } catch {
      // Never let hostile input through as an exception: stop parsing this connection instead.
      this.internalErrors++;
      this.requests.state = State.Error;
      this.responses.state = State.Error;
    }
  }

  /** @internal An anomaly, reported and kept once per transaction (as libhtp logs most of them). */
  event(e: HttpEvent, dir: 0 | 1, tx: HttpTransaction | null): void {
    if (this.events > this.limits.maxEvents) return;
    if (tx !== null && tx.hasEvent(e)) return;
    this.events++;
    if (this.events > this.limits.maxEvents) e = 'TOO_MANY_WARNINGS';
    if (tx !== null) tx.events.push({ event: e, dir });
    this.hooks.onEvent?.(e, dir, tx);
  }

  private newTransaction(dir: 0 | 1): HttpTransaction | null {
    if (this.open.length >= this.limits.maxTransactions) {
      this.event('TOO_MANY_TRANSACTIONS', dir, null);
      return null;
    }
    const tx = new HttpTransaction(this.nextId++, this.limits);
    this.open.push(tx);
    this.hooks.onTransaction?.(tx);
    return tx;
  }

  /** @internal */
  startRequest(): HttpTransaction | null {
    const tx = this.newTransaction(0);
    if (tx !== null) this.awaiting.push(tx);
    return tx;
  }

  /** @internal The next response answers the oldest unanswered request, or none (UNABLE_TO_MATCH_RESPONSE_TO_REQUEST). */
  startResponse(): HttpTransaction | null {
    let tx = this.awaiting.shift() ?? null;
    if (tx === null) {
      tx = this.newTransaction(1);
      if (tx === null) return null;
      tx.requestSeen = false;
      tx.request.progress = 'complete';
      this.event('UNABLE_TO_MATCH_RESPONSE_TO_REQUEST', 1, tx);
      return tx;
    }
    this.requests.responseStarting(tx);
    return tx;
  }

  /** @internal */
  requestDone(tx: HttpTransaction): void {
    this.release(tx);
  }

  /** @internal */
  responseDone(tx: HttpTransaction): void {
    this.release(tx);
  }

  /** @internal */
  connectAnswered(_tx: HttpTransaction, tunnel: boolean): void {
    this.requests.connectAnswered(tunnel);
  }

  /** @internal */
  bodyRefused(tx: HttpTransaction): void {
    this.requests.bodyRefused(tx);
  }

  /** @internal CONNECT accepted or 101: the rest of both streams is not HTTP. */
  tunnel(tx: HttpTransaction): void {
    this.tunnelled = true;
    this.requests.connectAnswered(true);
    if (this.requests.state !== State.Tunnel && this.requests.state !== State.Error) {
      this.requests.end();
      this.requests.state = State.Tunnel;
    }
    this.responses.state = State.Tunnel;
    this.release(tx);
  }

  private release(tx: HttpTransaction): void {
    if (!tx.complete) return;
    const i = this.open.indexOf(tx);
    if (i < 0) return;
    this.open.splice(i, 1);
    this.hooks.onTransactionDone?.(tx);
  }
}
