import { CappedBuffer, type ContentCoding } from './body.js';
import type { HttpEvent } from './events.js';
import { HeaderSet } from './headers.js';
import type { HttpLimits } from './limits.js';
import type { UriFlags, UriParts } from './uri.js';

/** The protocol a message claims: '0.9' also for a request line without one. */
export type HttpVersion = '0.9' | '1.0' | '1.1' | 'invalid';

/** How a message body is delimited. */
export type BodyFraming = 'none' | 'length' | 'chunked' | 'close';

/** How far a message has been parsed, in order. */
export type MessageProgress = 'none' | 'line' | 'headers' | 'body' | 'trailers' | 'complete';

const ORDER: readonly MessageProgress[] = ['none', 'line', 'headers', 'body', 'trailers', 'complete'];

/** What request and response have in common. */
export class HttpMessage {
  progress: MessageProgress = 'none';
  /** The first line without its line end (http.request_line / http.response_line). */
  line: Uint8Array | null = null;
  /** The protocol as sent (http.protocol), null when absent. */
  protocol: Uint8Array | null = null;
  version: HttpVersion | null = null;
  readonly headers: HeaderSet;
  /** Header (and trailer) lines exactly as sent, line ends and the empty line included (http.header.raw). */
  readonly headersRaw: CappedBuffer;
  framing: BodyFraming = 'none';
  /** Content-Length as parsed, when it frames the body or was sent valid. */
  contentLength: number | null = null;
  /** Content-Encoding layers being decoded, in decoding order. */
  codings: ContentCoding[] = [];
  /** The body after dechunking and decoding, up to the inspection limit (http.request_body / http.response_body). */
  readonly body: CappedBuffer;
  /** Body bytes on the wire, chunk framing included. */
  wireLength = 0;
  /** Body bytes after dechunking, before decoding. */
  length = 0;
  /** Part of the body was lost to a gap in the stream. */
  gap = false;
  /** The stream ended before the message did. */
  truncated = false;

  constructor(limits: HttpLimits, bodyLimit: number) {
    this.headers = new HeaderSet(limits.maxHeaders, limits.maxHeaderRepetitions);
    // Every kept header line is at most fieldLimit long; the bound is for the repeats that are only counted.
    this.headersRaw = new CappedBuffer((limits.maxHeaders + limits.maxHeaderRepetitions + 1) * limits.fieldLimit);
    this.body = new CappedBuffer(bodyLimit);
  }

  /** Bytes the body decoded to, kept or not. */
  get decodedLength(): number {
    return this.body.length;
  }

  /** The first line has been parsed. */
  get lineDone(): boolean {
    return ORDER.indexOf(this.progress) >= ORDER.indexOf('headers');
  }

  /** All headers have been parsed (the body, if any, follows). */
  get headersDone(): boolean {
    return ORDER.indexOf(this.progress) >= ORDER.indexOf('body');
  }

  /** The body is complete (chunked: the last chunk came; trailers may follow). */
  get bodyDone(): boolean {
    return ORDER.indexOf(this.progress) >= ORDER.indexOf('trailers');
  }

  /** The message is complete, body and trailers included. */
  get complete(): boolean {
    return this.progress === 'complete';
  }

  /** A header's combined value by lowercase name. */
  header(key: string): Uint8Array | null {
    return this.headers.get(key);
  }

  get contentType(): Uint8Array | null {
    return this.headers.get('content-type');
  }
}

export class HttpRequest extends HttpMessage {
  /** http.method */
  method: Uint8Array | null = null;
  /** One of the methods libhtp knows (GET, POST, ..., PROPFIND, ...). */
  methodKnown = false;
  /** The URI exactly as sent (http.uri.raw). */
  uri: Uint8Array | null = null;
  /** The URI as Suricata's http.uri: decoded and normalised path, decoded query and fragment. */
  uriNormalized: Uint8Array | null = null;
  uriParts: UriParts | null = null;
  uriFlags: UriFlags | null = null;
  /** The host (http.host): from an absolute URI or CONNECT target, else the Host header; lowercase, no port. */
  host: Uint8Array | null = null;
  /** The host as sent (http.host.raw): the URI's authority host, else the Host header value. */
  hostRaw: Uint8Array | null = null;
  port: number | null = null;
  /** Expect: 100-continue was sent. */
  expectContinue = false;
  /** Empty lines before the request line (skipped). */
  ignoredLines = 0;

  get userAgent(): Uint8Array | null {
    return this.headers.get('user-agent');
  }

  get cookie(): Uint8Array | null {
    return this.headers.get('cookie');
  }

  get referer(): Uint8Array | null {
    return this.headers.get('referer');
  }

  get accept(): Uint8Array | null {
    return this.headers.get('accept');
  }

  get methodString(): string {
    return this.method === null ? '' : String.fromCharCode(...this.method.subarray(0, 64));
  }
}

export class HttpResponse extends HttpMessage {
  /** The status code as sent (http.stat_code). */
  statusRaw: Uint8Array | null = null;
  /** The status code, or null when missing or outside 100-999. */
  status: number | null = null;
  /** The reason phrase (http.stat_msg). */
  message: Uint8Array | null = null;
  /** An interim "100 Continue" preceded this response. */
  continueSeen = false;
  /** The server sent no status line: the response is all body (an HTTP/0.9 answer, or garbage). */
  noStatusLine = false;

  get location(): Uint8Array | null {
    return this.headers.get('location');
  }

  get server(): Uint8Array | null {
    return this.headers.get('server');
  }

  get setCookie(): Uint8Array | null {
    return this.headers.get('set-cookie');
  }
}

/** One request and the response that answers it. */
export class HttpTransaction {
  readonly request: HttpRequest;
  readonly response: HttpResponse;
  /** Anomalies, each once, in the order first seen, with the direction that raised it. */
  readonly events: Array<{ event: HttpEvent; dir: 0 | 1 }> = [];
  /** The request was seen; false for a response that matched no request. */
  requestSeen = true;
  /** The request was HTTP/0.9: no headers, and the response has no status line either. */
  http09 = false;
  /** A CONNECT was accepted or protocols switched: the rest of the connection is not HTTP. */
  tunnel = false;

  constructor(
    readonly id: number,
    limits: HttpLimits,
  ) {
    this.request = new HttpRequest(limits, limits.requestBodyLimit);
    this.response = new HttpResponse(limits, limits.responseBodyLimit);
  }

  hasEvent(event: HttpEvent): boolean {
    return this.events.some((e) => e.event === event);
  }

  /** Both sides are complete. */
  get complete(): boolean {
    return this.request.complete && this.response.complete;
  }
}
