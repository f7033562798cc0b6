import type { AppOutput, AppSession } from '../app.js';
import { FileTracker } from '../files.js';
import { HttpTxView } from './buffers.js';
import { lowerKey } from './headers.js';
import type { HttpLimits } from './limits.js';
import { eveString, httpRecord, type HttpLogOptions } from './log.js';
import { HttpParser } from './parse.js';
import type { HttpMessage, HttpTransaction } from './transaction.js';
import { emptyUriFlags, normalizePath } from './uri.js';

/**
 * One HTTP connection in the application layer: an HttpParser whose hooks become what Suricata
 * does with libhtp's callbacks. Rules inspect a transaction's request when its headers are
 * complete and again when its body is (Suricata's HTP_REQUEST_HEADERS and _COMPLETE progress),
 * the response likewise; bodies become files (FileTracker); anomalies become applayer events
 * with Suricata's names; each transaction is logged once, when it is done or the flow ends.
 */

/**
 * Suricata's SC_FILENAME_MAX: a longer file name is cut there, with the FILE_NAME_TOO_LONG event.
 */
const FILENAME_MAX = 4096;

/** Suricata's HTP_BOUNDARY_MAX: a multipart boundary this long or longer is not used (no files). */
const BOUNDARY_MAX = 200;

/** A file being carried by one side of a transaction. */
interface BodyFile {
  tracker: FileTracker;
  /** Bytes past the body limit came: the file is cut there (TRUNCATED). */
  cut: boolean;
}

/** What the session keeps per open transaction. */
interface TxState {
  readonly view: HttpTxView;
  /** The side's file being written (requests: POST and PUT without multipart; responses). */
  readonly files: [BodyFile | null, BodyFile | null];
  /** The side has been looked at for a file: a body that opens none (no name) is not reconsidered. */
  readonly fileChecked: [boolean, boolean];
  /** The side was inspected once its headers were complete. */
  readonly headersInspected: [boolean, boolean];
  /** The side was inspected with its final buffers. */
  readonly finalInspected: [boolean, boolean];
  /** Multipart request: its parts were made files. */
  multipartDone: boolean;
}

export interface HttpSessionOptions {
  limits?: Partial<HttpLimits>;
  log?: HttpLogOptions;
}

const isCSpace = (c: number | undefined): boolean => c === 0x20 || (c !== undefined && c >= 0x09 && c <= 0x0d);

/**
 * Suricata's HTTPParseContentDispositionHeader (also used for Content-Type parameters): the value
 * of the `;`-separated token that starts with `name` (lowercase, e.g. "filename="), quotes
 * around it dropped; quoted `;` do not separate. Null when there is none.
 */
export function headerParameter(name: string, data: Uint8Array): Uint8Array | null {
  let x = 0;
  while (x < data.length && isCSpace(data[x])) x++;
  if (x >= data.length) return null;
  const line = data.subarray(x);
  let offset = 0;
  let quote = 0;
  for (x = 0; x < line.length; x++) {
    if (x === 0) continue;
    if (line[x - 1] !== 0x5c && line[x] === 0x22) quote++;
    const last = x + 1 === line.length;
    if (((line[x - 1] !== 0x5c && line[x] === 0x3b) || last) && quote % 2 === 0) {
      const token = line.subarray(offset, last ? x + 1 : x);
      offset = x + 1;
      while (offset < line.length && isCSpace(line[offset])) {
        x++;
        offset++;
      }
      if (token.length > name.length && lowerKey(token.subarray(0, name.length)) === name) {
        let value = token.subarray(name.length);
        if (value[0] === 0x22) value = value.subarray(1);
        // Suricata reads value[len - 1] even when the value is empty; an empty value stays empty here.
        if (value.length > 0 && value[value.length - 1] === 0x22) value = value.subarray(0, value.length - 1);
        return value;
      }
    }
  }
  return null;
}

function indexOf(hay: Uint8Array, needle: Uint8Array, from: number): number {
  return Buffer.from(hay.buffer, hay.byteOffset, hay.length).indexOf(Buffer.from(needle.buffer, needle.byteOffset, needle.length), from);
}

const CRLFCRLF = Uint8Array.of(0x0d, 0x0a, 0x0d, 0x0a);
const CRLF = Uint8Array.of(0x0d, 0x0a);

/** One part of a multipart body that names a file: its name and where its bytes are. */
export interface MultipartFile {
  filename: Uint8Array;
  start: number;
  end: number;
  /** The part's closing boundary was seen. */
  complete: boolean;
}

/**
 * The file parts of a multipart/form-data body, as Suricata's HtpRequestBodyHandleMultipart
 * finds them: each part after "--boundary" whose headers (up to the empty line) have a
 * Content-Disposition with filename=; its bytes run to the CRLF before the next boundary, or to
 * the end of what is kept (then the file is incomplete).
 */
export function multipartFiles(body: Uint8Array, boundary: Uint8Array): MultipartFile[] {
  const marker = new Uint8Array(boundary.length + 2);
  marker[0] = marker[1] = 0x2d;
  marker.set(boundary, 2);
  const out: MultipartFile[] = [];
  let start = indexOf(body, marker, 0);
  while (start >= 0) {
    const headerEnd = indexOf(body, CRLFCRLF, start);
    if (headerEnd < 0) break;
    // The part's header lines: after the boundary line's CRLF, up to the empty line.
    const from = Math.min(start + marker.length + 2, headerEnd);
    const headers = body.subarray(from, headerEnd);
    let filename: Uint8Array | null = null;
    let at = 0;
    while (at <= headers.length) {
      const eol = indexOf(headers, CRLF, at);
      const line = headers.subarray(at, eol < 0 ? headers.length : eol);
      const colon = line.indexOf(0x3a);
      if (colon > 0 && colon < line.length - 1 && line.length >= 20 && lowerKey(line.subarray(0, 20)) === 'content-disposition:') {
        filename = headerParameter('filename=', line.subarray(20)) ?? filename;
      }
      if (eol < 0) break;
      at = eol + 2;
    }
    const dataStart = headerEnd + 4;
    const next = indexOf(body, marker, dataStart);
    if (filename !== null) {
      if (next >= 0) out.push({ filename, start: dataStart, end: Math.max(dataStart, next - 2), complete: true });
      else out.push({ filename, start: dataStart, end: body.length, complete: false });
    }
    start = next;
  }
  return out;
}

export class HttpSession implements AppSession {
  readonly parser: HttpParser;
  private readonly states = new Map<HttpTransaction, TxState>();

  constructor(
    private readonly out: AppOutput,
    private readonly options: HttpSessionOptions = {},
  ) {
    this.parser = new HttpParser(
      {
        onTransaction: (tx) => this.begin(tx),
        onRequestHeaders: (tx) => this.headers(tx, 0),
        onRequestComplete: (tx) => this.complete(tx, 0),
        onResponseHeaders: (tx) => this.headers(tx, 1),
        onResponseComplete: (tx) => this.complete(tx, 1),
        onBodyData: (tx, dir, data) => this.bodyData(tx, dir, data),
        onEvent: (event, dir) => out.anomaly(event, dir),
        onTransactionDone: (tx) => this.done(tx),
      },
      options.limits,
    );
  }

  data(dir: number, buf: Uint8Array, off: number, len: number): void {
    if (dir !== 0 && dir !== 1) return;
    this.parser.data(dir, buf.subarray(off, off + len));
  }

  gap(dir: number, len: number): void {
    if (dir !== 0 && dir !== 1) return;
    this.parser.gap(dir, len);
  }

  end(dir: number): void {
    if (dir !== 0 && dir !== 1) return;
    this.parser.end(dir);
  }

  close(): void {
    this.parser.close();
  }

  /** Transactions still open (not yet logged). */
  get openTransactions(): number {
    return this.states.size;
  }

  private begin(tx: HttpTransaction): void {
    this.states.set(tx, {
      view: new HttpTxView(tx),
      files: [null, null],
      fileChecked: [false, false],
      headersInspected: [false, false],
      finalInspected: [false, false],
      multipartDone: false,
    });
  }

  private state(tx: HttpTransaction): TxState {
    let st = this.states.get(tx);
    if (st === undefined) {
      this.begin(tx);
      st = this.states.get(tx)!;
    }
    return st;
  }

  /** A side's headers are complete: the first inspection point. */
  private headers(tx: HttpTransaction, side: 0 | 1): void {
    const st = this.state(tx);
    st.headersInspected[side] = true;
    this.out.inspect(st.view, side);
  }

  /** A side is complete: its file ends, its body is final, rules look again if there was more to see. */
  private complete(tx: HttpTransaction, side: 0 | 1): void {
    const st = this.state(tx);
    const m = side === 0 ? tx.request : tx.response;
    this.closeFile(st, side, m);
    if (side === 0) this.multipart(st, tx);
    this.finalInspect(st, side, m);
  }

  private finalInspect(st: TxState, side: 0 | 1, m: HttpMessage): void {
    if (st.finalInspected[side]) return;
    st.finalInspected[side] = true;
    st.view.bodyReady[side] = true;
    const hadBody = m.framing !== 'none' || m.wireLength > 0;
    if (!st.headersInspected[side] || hadBody) this.out.inspect(st.view, side);
  }

  private limit(side: 0 | 1): number {
    return side === 0 ? this.parser.limits.requestBodyLimit : this.parser.limits.responseBodyLimit;
  }

  private bodyData(tx: HttpTransaction, side: 0 | 1, data: Uint8Array): void {
    const st = this.state(tx);
    if (!st.fileChecked[side]) {
      st.fileChecked[side] = true;
      const name = this.fileName(tx, side);
      if (name !== null) {
        st.files[side] = { tracker: new FileTracker(this.out, eveString(name), side === 0 ? 'to_server' : 'to_client', tx.id, () => ({ http: httpRecord(tx, this.options.log) })), cut: false };
        st.view.fileNames[side] = name;
      }
    }
    const f = st.files[side];
    if (f !== null && !f.cut) {
      // Suricata gives a file only the bytes within the body limit, and cuts it (TRUNCATED) past them.
      const room = this.limit(side) - f.tracker.bytes;
      f.tracker.append(data, 0, Math.min(room, data.length));
      if (data.length > room) {
        f.cut = true;
        f.tracker.close(false);
      }
    }
    const m = side === 0 ? tx.request : tx.response;
    if (m.body.truncated && !st.view.bodyReady[side]) {
      // The inspection window is full: Suricata inspects the body now rather than at its end.
      st.view.bodyReady[side] = true;
      this.out.inspect(st.view, side);
    }
  }

  /**
   * The name of the file a side's body makes, or null for none: a response's Content-Disposition
   * filename, else the normalised URI path (Suricata's parsed_uri->path); a request's body only
   * for POST and PUT (multipart POSTs give one file per part instead), named by the path.
   */
  private fileName(tx: HttpTransaction, side: 0 | 1): Uint8Array | null {
    const q = tx.request;
    let name: Uint8Array | null = null;
    if (side === 0) {
      const method = q.method === null ? '' : eveString(q.method);
      // A POST with a boundary= parameter is multipart (its parts are the files), or has none if the boundary is too long.
      if (method !== 'PUT' && (method !== 'POST' || this.boundary(tx) !== null)) return null;
    } else {
      // Junk read as body before any status line makes no file (Suricata checks response_line).
      if (tx.response.noStatusLine && !tx.http09) return null;
      const cd = tx.response.headers.get('content-disposition');
      if (cd !== null && cd.length > 0) name = headerParameter('filename=', cd);
    }
    if (name === null && q.uriParts !== null && q.uriParts.path !== null) name = normalizePath(q.uriParts.path, emptyUriFlags());
    if (name === null) return null;
    if (name.length > FILENAME_MAX) {
      this.out.anomaly('FILE_NAME_TOO_LONG', 0);
      name = name.subarray(0, FILENAME_MAX);
    }
    return name;
  }

  /** A multipart POST's boundary (Content-Type's boundary= parameter), or null. */
  private boundary(tx: HttpTransaction): Uint8Array | null {
    const ct = tx.request.headers.get('content-type');
    if (ct === null || ct.length === 0) return null;
    return headerParameter('boundary=', ct);
  }

  /** A multipart POST's file parts, from the kept body, once the request ended (or the flow did). */
  private multipart(st: TxState, tx: HttpTransaction): void {
    if (st.multipartDone) return;
    st.multipartDone = true;
    const q = tx.request;
    if (q.method === null || eveString(q.method) !== 'POST') return;
    const boundary = this.boundary(tx);
    if (boundary === null || boundary.length >= BOUNDARY_MAX) return;
    const body = q.body.bytes;
    for (const part of multipartFiles(body, boundary)) {
      let name = part.filename;
      if (name.length > FILENAME_MAX) {
        this.out.anomaly('FILE_NAME_TOO_LONG', 0);
        name = name.subarray(0, FILENAME_MAX);
      }
      const tracker = new FileTracker(this.out, eveString(name), 'to_server', tx.id, () => ({ http: httpRecord(tx, this.options.log) }));
      tracker.append(body, part.start, part.end - part.start);
      tracker.close(part.complete);
      st.view.fileNames[0] ??= name;
    }
  }

  private closeFile(st: TxState, side: 0 | 1, m: HttpMessage): void {
    const f = st.files[side];
    if (f === null) return;
    st.files[side] = null;
    if (f.cut) return;
    if (m.gap) f.tracker.gap();
    f.tracker.close(m.complete && !m.truncated);
  }

  /** The transaction is let go: what was not inspected with its final buffers is now, files end, the record is written. */
  private done(tx: HttpTransaction): void {
    const st = this.state(tx);
    this.states.delete(tx);
    if (tx.requestSeen && tx.request.progress !== 'none') this.finalInspect(st, 0, tx.request);
    if (tx.response.progress !== 'none') this.finalInspect(st, 1, tx.response);
    this.multipart(st, tx);
    this.closeFile(st, 0, tx.request);
    this.closeFile(st, 1, tx.response);
    this.out.record('http', httpRecord(tx, this.options.log), 0, tx.id);
  }
}
