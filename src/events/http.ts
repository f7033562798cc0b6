/**
 * The EVE `http` record, as Suricata's output-json-http.c writes it with the configuration
 * suricata.yaml ships (`extended: yes`, no `custom` fields, no `dump-all-headers`): one record
 * per transaction (a request and the response that answers it), written when both sides are
 * complete or when the flow ends with the transaction unfinished, reading from the flow's
 * client (Suricata's LOG_DIR_FLOW). Alerts on an HTTP transaction carry the same object under
 * `http` (Suricata's EveHttpAddMetadata: the basic and extended fields, whatever the config).
 *
 * Byte strings are written as Suricata's JsonBuilder writes bytes: as text when they are valid
 * UTF-8, otherwise ASCII kept and every other byte as the four characters `\xNN`. A field whose
 * part of the exchange was not seen is left out, as Suricata leaves it out.
 */
import type { EveCommon } from './types.js';

/** One HTTP transaction: Suricata's `http` record. */
export interface HttpEvent extends EveCommon {
  /** Always `http`. */
  event_type: 'http';
  /** The transaction within the flow, from 0 in the order requests (or unmatched responses) began. */
  tx_id: number;
  /** What the transaction showed. */
  http: HttpRecord;
}

/** The `http` object, its fields in Suricata's order (basic fields, then the extended ones). */
export interface HttpRecord {
  /** The host the request names, normalised (lowercase, no port, no trailing dots): the absolute URI's host, else the Host header's. */
  hostname?: string;
  /** The port written in the absolute URI or the Host header, when one was written (even the default one): not the connection's port. */
  http_port?: number;
  /** The request URI exactly as sent (not normalised). */
  url?: string;
  /** The User-Agent header's value (repeated headers joined with ", "). */
  http_user_agent?: string;
  /** The X-Forwarded-For header's value, as sent. */
  xff?: string;
  /** The response's Content-Type, cut at its first ";" (parameters dropped); NUL bytes as `\0`; left out when not valid UTF-8. */
  http_content_type?: string;
  /** The response's Content-Range header, raw and parsed. */
  content_range?: HttpContentRange;
  /** The request's Referer header value (Suricata spells the field with one r). */
  http_refer?: string;
  /** The request method as sent (`GET`, `POST`, ...). */
  http_method?: string;
  /** The request's protocol as sent (`HTTP/1.1`); left out for an HTTP/0.9 request, which has none. */
  protocol?: string;
  /** The response status code, when it is a number from 100 to 999. */
  status?: number;
  /** The status code as sent, when it is not a valid number (then `status` is left out). */
  status_string?: string;
  /** The response's Location header value. */
  redirect?: string;
  /** The response body's length after de-chunking, before decompression (libhtp's response_message_len); 0 without a body or a response. */
  length: number;
  /** Every request header, in order, repeats joined (only with `dump-all-headers: request` or `both`; off by default). */
  request_headers?: HttpHeaderEntry[];
  /** Every response header, in order, repeats joined (only with `dump-all-headers: response` or `both`; off by default). */
  response_headers?: HttpHeaderEntry[];
}

/** The response's Content-Range: what was sent, and the numbers read from it when they parse. */
export interface HttpContentRange {
  /** The header value as sent. */
  raw: string;
  /** The first byte position ("bytes 10-20/200": 10); absent for "bytes *\/200". */
  start?: number;
  /** The last byte position, inclusive ("bytes 10-20/200": 20); absent for "bytes *\/200". */
  end?: number;
  /** The complete length ("bytes 10-20/200": 200); absent when it is "*". */
  size?: number;
}

/** One header of `request_headers` or `response_headers`. */
export interface HttpHeaderEntry {
  /** The name as first sent (at most 255 bytes, cut at a NUL). */
  name: string;
  /** The value, repeats joined with ", " (at most 2047 bytes, cut at a NUL). */
  value: string;
}
