/**
 * The emulated PCT-enabled SSL service's protocol side (../shared/DOMAIN.md §2-3): it reads the
 * client's first record with the TLS analyzer's parsers, judges it as the MS04-011 detector
 * (src/detect/pct.ts) does, and answers as a PCT-capable Schannel server would, so that
 * scanners flag PCT enabled and an exploit attempt goes on to send its whole first flight. Pure:
 * bytes in, a decision out; the socket side is service.ts.
 */
import { randomBytes } from 'node:crypto';
import type { HoneypotPctRecord } from '../events/honeypot.js';
import { parseLegacyFlight, recordFormat, type LegacyParsed } from '../protocols/tls/parse.js';
import { PCT_VERSION_1, PctType } from '../protocols/tls/pct.js';
import { legacyHeader } from '../protocols/tls/sslv2.js';

/**
 * The decoy server certificate: a self-signed X.509 certificate (RSA 1024, CN=www.example.com,
 * O=Example Corp) made once with openssl; its private key was discarded, as nothing here ever
 * completes a handshake. Options can replace it, since a fixed certificate fingerprints a honeypot.
 */
export const DECOY_CERTIFICATE: Buffer = Buffer.from(
  'MIICbzCCAdigAwIBAgIBKjANBgkqhkiG9w0BAQsFADBTMQswCQYDVQQGEwJVUzETMBEGA1UECAwKV2FzaGluZ3RvbjEVMBMGA1UECgwMRXhhbXBsZSBDb3JwMRgwFgYDVQQDDA93d3cuZXhhbXBsZS5jb20wHhcNMjYxMTI3MjAyODUwWhcNMzYxMTI0MjAyODUwWjBTMQswCQYDVQQGEwJVUzETMBEGA1UECAwKV2FzaGluZ3RvbjEVMBMGA1UECgwMRXhhbXBsZSBDb3JwMRgwFgYDVQQDDA93d3cuZXhhbXBsZS5jb20wgZ8wDQYJKoZIhvcNAQEBBQADgY0AMIGJAoGBAJo4PvY/4PeWLWPqTpWUL94jLh5KgPtutrYGQwvCpKtHcqSXWrehj36JkJAGkjTOb/a6cOg5stuZx0z3UgckIk63yHCCI/Llv3Qxx80qxpZe0bDsxcKd6aLLqTpafPv/6UjgWu3B+fpW622YGM282pvNUsPt8+N+Cth3Bw8megflAgMBAAGjUzBRMB0GA1UdDgQWBBRy5rizLA6SZYWvJiIm48Ajkd020TAfBgNVHSMEGDAWgBRy5rizLA6SZYWvJiIm48Ajkd020TAPBgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3DQEBCwUAA4GBAJQHzOjiauB1tiJO4aMS3JPcABKbsvIwn7bPOhzUwM/aKZ/MSDYNCOFL/ySYJm0XFrtuUILz7wTR/Y/qhuBjYXxKJW9Jat8Z0VN8sEj5SSuJU/A0TKmyzTiXq8AAgTL5MrASZWtWbR6mxzc6CJ9Q49Aj0/miiU+7oAXS21mVUnj2',
  'base64',
);

/** What the SERVER_HELLO chooses: the spec values from the client's hello where it offered some. */
export interface PctServerHelloSpec {
  /** 4-byte cipher spec. */
  cipher: number;
  /** 2-byte hash, certificate and exchange specs. */
  hash: number;
  cert: number;
  exchange: number;
  /** The certificate (zero length is well-formed: the draft sends none on a restart). */
  certificate: Uint8Array;
  /** 32 bytes; random when absent. */
  connectionId?: Uint8Array;
}

/**
 * Defaults when the client named nothing: RC4 with a 128-bit key (PCT_CIPHER_RC4 0x0004 in the
 * high half, key lengths 0x80 0x80; any 4-byte value is well-formed), MD5 (0x0001), X.509
 * (0x0001), RSA (0x0001).
 */
export const DEFAULT_SPEC = { cipher: 0x00048080, hash: 0x0001, cert: 0x0001, exchange: 0x0001 } as const;

/** SERVER_HELLO fixed fields, body offsets 0..55 (DOMAIN.md R 2..57). */
const SERVER_HELLO_FIXED = 56;
/** Largest record body a 2-byte header can declare (15 length bits). */
const MAX_RECORD_BODY = 0x7fff;

/**
 * A well-formed PCT 1.0 SERVER_HELLO record (draft-benaloh-pct-00): 2-byte header, type 02, pad,
 * version 80 01, restart not ok, no client authentication, the chosen specs, a 32-byte connection
 * id, and lengths that add up to the record (certificate, no client cert or sig specs, no
 * response). The certificate is cut so the record fits a 2-byte header.
 */
export function pctServerHello(spec: PctServerHelloSpec): Buffer {
  const cert = spec.certificate.subarray(0, MAX_RECORD_BODY - SERVER_HELLO_FIXED);
  const body = Buffer.alloc(SERVER_HELLO_FIXED + cert.length);
  body[0] = PctType.SERVER_HELLO;
  body[1] = 0x00; // pad
  body.writeUInt16BE(PCT_VERSION_1, 2);
  body[4] = 0x00; // restart ok: no session to restart
  body[5] = 0x00; // client auth request: none
  body.writeUInt32BE(spec.cipher >>> 0, 6);
  body.writeUInt16BE(spec.hash & 0xffff, 10);
  body.writeUInt16BE(spec.cert & 0xffff, 12);
  body.writeUInt16BE(spec.exchange & 0xffff, 14);
  const id = spec.connectionId ?? randomBytes(32);
  Buffer.from(id.buffer, id.byteOffset, Math.min(32, id.length)).copy(body, 16);
  body.writeUInt16BE(cert.length, 48);
  // client cert specs, client sig specs and response lengths stay 0 (50..55)
  Buffer.from(cert.buffer, cert.byteOffset, cert.length).copy(body, SERVER_HELLO_FIXED);
  return Buffer.concat([Buffer.from([0x80 | (body.length >>> 8), body.length & 0xff]), body]);
}

/** SSLv2 ERROR NO-CIPHER: what a server without PCT answers a PCT-offering hello (DOMAIN.md §2). */
export const SSLV2_ERROR_NO_CIPHER: Buffer = Buffer.from([0x80, 0x03, 0x00, 0x00, 0x01]);

/** The service's decision on a client's first bytes. */
export interface PctDecision {
  /** The bytes to send (empty for `closed`). */
  reply: Buffer;
  /** What the first record was and how it is answered. */
  record: HoneypotPctRecord;
}

/**
 * The MS04-011 judgement, as src/detect/pct.ts makes it from a tls record: PCT routing plus any
 * structural anomaly is an exploit attempt; a hello offering or routing PCT with no anomaly is a
 * probe; anything else is not about PCT (undefined).
 */
export function classifyPct(pct: { offered: boolean; routed: boolean }, anomalies: readonly string[]): 'probe' | 'exploit_attempt' | undefined {
  if (pct.routed && anomalies.length > 0) return 'exploit_attempt';
  if ((pct.offered || pct.routed) && anomalies.length === 0) return 'probe';
  return undefined;
}

/** The spec values to choose, from what the client offered (first of each list), else the defaults. */
function chosenSpec(parsed: LegacyParsed, certificate: Uint8Array): PctServerHelloSpec {
  const o = parsed.pct;
  const hi = o.cipherFirstHalves[0];
  const lo = o.cipherSecondHalves[0];
  return {
    cipher: hi !== undefined && lo !== undefined ? ((hi << 16) | lo) >>> 0 : DEFAULT_SPEC.cipher,
    hash: o.hashSpecs[0] ?? DEFAULT_SPEC.hash,
    cert: o.certSpecs[0] ?? DEFAULT_SPEC.cert,
    exchange: o.exchangeSpecs[0] ?? DEFAULT_SPEC.exchange,
    certificate,
  };
}

/**
 * Reads the client's first bytes: 'more' until its first record is complete (a record is at most
 * 2 + 0x7fff bytes, under any capture cap), then the answer. Everything already in `data` behind
 * the first record counts as the rest of the first flight (the caller decides before answering,
 * so that is what the client sent unprompted). A native PCT CLIENT_HELLO, or an SSLv2 CLIENT-HELLO
 * whose first kind routes to PCT, gets a SERVER_HELLO; another SSLv2 CLIENT-HELLO the SSLv2 ERROR
 * NO-CIPHER; anything else a close. `final` says no more bytes will come (the client closed or
 * time ran out): an incomplete record is then judged closed. Never throws.
 */
export function decidePct(data: Uint8Array, final: boolean, certificate: Uint8Array = DECOY_CERTIFICATE): PctDecision | 'more' {
  const format = recordFormat(data);
  if (format === 'more') return final ? closed('unknown') : 'more';
  if (format === 'unknown') return closed('unknown');
  if (format === 'tls') return closed('tls');
  const h = legacyHeader(data);
  if (h === null) return final ? closed(format) : 'more';
  if (data.length < h.headerLength + h.length && !final) return 'more';
  let parsed: LegacyParsed | null = null;
  try {
    parsed = parseLegacyFlight(data);
  } catch {
    parsed = null; // the parsers never throw; hostile bytes must not reach the socket layer either way
  }
  if (parsed === null) return closed(format);
  const anomalies = [...parsed.anomalies];
  const classification = classifyPct(parsed.pct, anomalies);
  const base = { format: parsed.format, offered: parsed.pct.offered, routed: parsed.pct.routed, anomalies, ...(classification !== undefined ? { classification } : {}) };
  const hello = parsed.message.type === 'client_hello';
  if (hello && parsed.pct.routed) return { reply: pctServerHello(chosenSpec(parsed, certificate)), record: { ...base, answered: 'pct_server_hello' } };
  if (hello && parsed.format === 'sslv2') return { reply: SSLV2_ERROR_NO_CIPHER, record: { ...base, answered: 'sslv2_error' } };
  return { reply: Buffer.alloc(0), record: { ...base, answered: 'closed' } };
}

function closed(format: HoneypotPctRecord['format']): PctDecision {
  return { reply: Buffer.alloc(0), record: { format, offered: false, routed: false, anomalies: [], answered: 'closed' } };
}
