import type { Probe, ProtocolSpec } from '../app.js';
import { HTTP_BUFFERS } from './buffers.js';
import { HttpSession, type HttpSessionOptions } from './session.js';

/**
 * HTTP/1.x, as Suricata's libhtp-based app-layer sees it: the protocol spec for the application
 * layer (recognised by its first bytes on any port), and what other rooms may use of the parser.
 */
export { HttpParser, parseProtocol, type HttpParserHooks } from './parse.js';
export { HttpTransaction, HttpMessage, HttpRequest, HttpResponse, type BodyFraming, type HttpVersion, type MessageProgress } from './transaction.js';
export { HTTP_EVENT_NAMES, type HttpEvent } from './events.js';
export { DEFAULT_HTTP_LIMITS, httpLimits, type HttpLimits } from './limits.js';
export { HeaderSet, type HeaderField, type HttpHeader } from './headers.js';
export { normalizeUri, parseUri, parseHostPort, type NormalizedUri, type UriParts, type UriFlags } from './uri.js';
export { HTTP_BUFFERS, HttpTxView } from './buffers.js';
export { httpRecord, type HttpLogOptions } from './log.js';
export { HttpSession, type HttpSessionOptions } from './session.js';

/**
 * The methods whose "METHOD " (or tab) opens a client's side, as Suricata registers them for
 * protocol detection (app-layer-htp.c HTPRegisterPatternsForProtocolDetection), any case.
 */
const METHODS = [
  'GET', 'PUT', 'POST', 'HEAD', 'TRACE', 'OPTIONS', 'CONNECT', 'DELETE', 'PATCH', 'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY',
  'MOVE', 'LOCK', 'UNLOCK', 'CHECKOUT', 'UNCHECKOUT', 'CHECKIN', 'UPDATE', 'LABEL', 'REPORT', 'MKWORKSPACE', 'MKACTIVITY',
  'MERGE', 'INVALID', 'VERSION-CONTROL', 'BASELINE-CONTROL',
];
/** The status line starts a server's side with one of these (Suricata's to-client patterns, any case). */
const VERSIONS = ['HTTP/0.9', 'HTTP/1.0', 'HTTP/1.1'];

/** The longest pattern: after this many bytes without a match, it is not HTTP. */
const LONGEST = Math.max(...METHODS.map((m) => m.length + 1), ...VERSIONS.map((v) => v.length));

/** Ports where HTTP is the first guess: the web, the common alternates and proxies (a hint only). */
const HTTP_PORTS = [80, 8080, 8000, 8008, 8081, 8088, 8888, 3128, 81, 591];

const upper = (c: number): number => (c >= 0x61 && c <= 0x7a ? c - 32 : c);

/** Whether `data` starts with `pattern` (any case): yes, no, or too short to say. */
function startsWith(data: Uint8Array, pattern: string): Probe {
  const n = Math.min(data.length, pattern.length);
  for (let i = 0; i < n; i++) if (upper(data[i]!) !== pattern.charCodeAt(i)) return 'no';
  return n === pattern.length ? 'yes' : 'more';
}

/**
 * HTTP's first bytes, on any port: from the client a known method followed by a space or tab;
 * from the server "HTTP/0.9", "HTTP/1.0" or "HTTP/1.1", in any case (Suricata's patterns, at
 * offset 0). Never throws.
 */
export function probeHttp(dir: number, data: Uint8Array): Probe {
  let more = false;
  if (dir === 0) {
    for (const m of METHODS) {
      for (const sep of [' ', '\t']) {
        const r = startsWith(data, m + sep);
        if (r === 'yes') return 'yes';
        if (r === 'more') more = true;
      }
    }
  } else {
    for (const v of VERSIONS) {
      const r = startsWith(data, v);
      if (r === 'yes') return 'yes';
      if (r === 'more') more = true;
    }
  }
  return more && data.length < LONGEST ? 'more' : 'no';
}

/**
 * HTTP/1.x with the given limits (libhtp's request-body-limit, response-body-limit, ...) and
 * eve-log settings: one session per connection, recognised by content on any port.
 */
export function createHttpProtocol(options: HttpSessionOptions = {}): ProtocolSpec {
  return {
    name: 'http',
    transport: 'tcp',
    ports: HTTP_PORTS,
    probe: probeHttp,
    open: (_flow, out) => new HttpSession(out, options),
    buffers: HTTP_BUFFERS,
  };
}

/** HTTP/1.x with Suricata's shipped settings. */
export const httpProtocol: ProtocolSpec = createHttpProtocol();
