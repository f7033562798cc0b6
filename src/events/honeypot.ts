/**
 * The honeypot's record (src/honeypot/): one per connection to an emulated service, written when
 * the connection ends. It follows EVE's style: the common fields (the client as src_ip, the
 * honeypot's listening address as dest_ip), then a `honeypot` object. Payloads are named by
 * SHA-256 and stored apart (never executed); the record carries their size and first bytes.
 */
import type { EveCommon } from './types.js';

/** A `honeypot` record: what one client sent to an emulated service, and how it was answered. */
export interface HoneypotEvent extends EveCommon {
  /** Always `honeypot`. */
  event_type: 'honeypot';
  /** The connection. */
  honeypot: HoneypotRecord;
}

/** The `honeypot` object: the captured first flight and, for the PCT service, its judgement. */
export interface HoneypotRecord {
  /** `pct` (the emulated PCT-enabled SSL service) or `listener` (a generic listener that records first bytes). */
  service: 'pct' | 'listener';
  /** Bytes captured from the client (at most the service's capture cap). */
  bytes: number;
  /** SHA-256 of the captured bytes, lowercase hex: the payload's name in the store. */
  sha256: string;
  /** The first captured bytes as lowercase hex (at most 64 bytes: enough for any hello's fixed fields). */
  first_bytes: string;
  /** The client sent more than the capture cap, or was still sending at the time limit: `bytes` is a prefix of what it sent. */
  truncated: boolean;
  /** Why the connection ended: `client_closed`, `cap` (capture cap reached), `timeout` (idle or total time limit), `answered` (the service closed after its answer), `error` (a socket error) or `shutdown` (the honeypot stopped). */
  end: 'client_closed' | 'cap' | 'timeout' | 'answered' | 'error' | 'shutdown';
  /** Whether the payload is in the store: `stored`, `duplicate` (already there), `skipped` (a store cap was hit, counted) or `disabled` (no store configured). */
  stored: 'stored' | 'duplicate' | 'skipped' | 'disabled';
  /** Seconds from accept to close. */
  duration: number;
  /** PCT service only: what the client's first record was. */
  pct?: HoneypotPctRecord;
}

/** The PCT service's reading of the client's first record, as the MS04-011 detector (src/detect/pct.ts) judges it. */
export interface HoneypotPctRecord {
  /** `probe`: a well-formed hello offering PCT (a scanner, or a client); `exploit_attempt`: PCT routing plus a structural anomaly (MS04-011, CVE-2003-0719); absent when the client did not offer PCT. */
  classification?: 'probe' | 'exploit_attempt';
  /** The first record's format: `pct` (native PCT 1.0), `sslv2` (an SSLv2 record, PCT offered inside or not), `tls`, or `unknown` (not SSL, or incomplete). */
  format: 'pct' | 'sslv2' | 'tls' | 'unknown';
  /** The client offered PCT (a native CLIENT_HELLO, or an SSLv2 cipher kind starting with 8F). */
  offered: boolean;
  /** A PCT-capable Schannel server would switch to PCT for this hello. */
  routed: boolean;
  /** The first record's structural anomalies, named as in the tls record's `anomalies`. */
  anomalies: string[];
  /** How the honeypot answered: `pct_server_hello` (PCT enabled), `sslv2_error` (SSLv2 ERROR NO-CIPHER) or `closed` (no answer). */
  answered: 'pct_server_hello' | 'sslv2_error' | 'closed';
}
