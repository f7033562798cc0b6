/**
 * What a server's answer to one probe means, per the table in ../shared/DOMAIN.md §2. Pure and
 * bounded: it looks at the first record of the reply only (the probe read stops there, see
 * replyComplete), and no byte sequence makes it throw.
 */
import { negotiatedVersion, parseServerHello } from '../protocols/tls/parse.js';

/** How the read ended: the peer closed, reset, the read timed out, or enough bytes arrived. */
export type ReplyEnd = 'close' | 'reset' | 'timeout' | 'complete';

export type ReplyKind =
  /** A PCT SERVER_HELLO (body 02, version 80 01): PCT 1.0 is enabled. */
  | 'pct_enabled'
  /** `80 05 05 00 03 00 00`: PCT ERROR ILLEGAL_MESSAGE, what unpatched IIS answered (Nessus 12204). */
  | 'pct_illegal_message'
  /** Another PCT ERROR: the PCT code is active. */
  | 'pct_active'
  /** An SSLv2 ERROR (`80 03 00 00 01` is NO-CIPHER): no PCT. */
  | 'sslv2_error'
  /** An SSLv2 SERVER-HELLO (type 04, version 00 02): SSLv2 spoken (and PCT not, when PCT was asked). */
  | 'sslv2_server_hello'
  /** A TLS alert record (15 03 xx): not this version, not PCT. */
  | 'tls_alert'
  /** A TLS ServerHello; `version` says what the server chose. */
  | 'tls_server_hello'
  /** The peer closed without a byte. */
  | 'close'
  /** The peer reset the connection without a byte. */
  | 'reset'
  /** Nothing arrived before the timeout. */
  | 'timeout'
  /** Our own bytes came back: an echo service. */
  | 'echo'
  /** Bytes that are no SSL, TLS or PCT answer. */
  | 'not_ssl';

export interface ReplyClass {
  kind: ReplyKind;
  /** For tls_server_hello, the negotiated version (0x0300 SSLv3 ... 0x0304 TLS 1.3); for sslv2_server_hello, 0x0002. */
  version: number | null;
  /** TLS alert description, PCT error code or SSLv2 error code; null otherwise. */
  code: number | null;
  /** One line for people: what the reply was. */
  summary: string;
}

/** A TLS record header: type, version, length. */
const TLS_HEADER = 5;
/** A handshake message header: type and a 3-byte length. */
const HANDSHAKE_HEADER = 4;
/** Echo recognised after this many of our own bytes: more than any SSL reply shares with a hello (they differ by byte 2). */
const ECHO_MIN = 3;

/** Whether `reply` so far repeats the start of what we sent. */
function isEchoPrefix(reply: Uint8Array, sent: Uint8Array): boolean {
  const n = Math.min(reply.length, sent.length);
  if (n === 0) return false;
  for (let i = 0; i < n; i++) if (reply[i] !== sent[i]) return false;
  return true;
}

const isTlsRecordStart = (r: Uint8Array): boolean => r.length >= 3 && r[0]! >= 0x14 && r[0]! <= 0x18 && r[1] === 0x03 && r[2]! <= 0x04;
const isLegacyStart = (r: Uint8Array): boolean => r.length >= 2 && (r[0]! & 0x80) !== 0 && (((r[0]! & 0x7f) << 8) | r[1]!) > 0;

/**
 * Whether the probe read may stop: the reply holds its first TLS handshake message or record, its
 * first SSLv2/PCT record, all of our echoed hello, or bytes that cannot begin an SSL answer.
 */
export function replyComplete(reply: Uint8Array, sent: Uint8Array): boolean {
  if (reply.length === 0) return false;
  if (isEchoPrefix(reply, sent)) return reply.length >= sent.length;
  if (reply[0]! >= 0x14 && reply[0]! <= 0x18 && reply.length < 3) return false;
  if (isTlsRecordStart(reply)) {
    if (reply.length < TLS_HEADER) return false;
    const recordEnd = TLS_HEADER + ((reply[3]! << 8) | reply[4]!);
    if (reply.length >= recordEnd) return true;
    if (reply[0] !== 0x16 || reply.length < TLS_HEADER + HANDSHAKE_HEADER) return false;
    const messageEnd = TLS_HEADER + HANDSHAKE_HEADER + ((reply[6]! << 16) | (reply[7]! << 8) | reply[8]!);
    return reply.length >= messageEnd;
  }
  if ((reply[0]! & 0x80) !== 0) {
    if (reply.length < 2) return false;
    return reply.length >= 2 + (((reply[0]! & 0x7f) << 8) | reply[1]!);
  }
  return true;
}

const hex = (v: number, digits = 4): string => v.toString(16).padStart(digits, '0');

/** Names for the versions a ServerHello can carry. */
export function tlsVersionLabel(v: number): string {
  switch (v) {
    case 0x0002:
      return 'SSLv2';
    case 0x0300:
      return 'SSLv3';
    case 0x0301:
      return 'TLS 1.0';
    case 0x0302:
      return 'TLS 1.1';
    case 0x0303:
      return 'TLS 1.2';
    case 0x0304:
      return 'TLS 1.3';
    default:
      return `0x${hex(v)}`;
  }
}

const result = (kind: ReplyKind, summary: string, version: number | null = null, code: number | null = null): ReplyClass => ({ kind, version, code, summary });

function classifyTls(reply: Uint8Array): ReplyClass {
  const type = reply[0]!;
  const length = reply.length >= TLS_HEADER ? (reply[3]! << 8) | reply[4]! : 0;
  if (type === 0x15) {
    const description = reply.length >= TLS_HEADER + 2 ? reply[TLS_HEADER + 1]! : null;
    return result('tls_alert', `TLS alert${description === null ? '' : ` ${description}`}`, null, description);
  }
  if (type === 0x16 && reply.length >= TLS_HEADER + HANDSHAKE_HEADER && reply[TLS_HEADER] === 0x02) {
    const declared = (reply[6]! << 16) | (reply[7]! << 8) | reply[8]!;
    const start = TLS_HEADER + HANDSHAKE_HEADER;
    const body = reply.subarray(start, Math.min(reply.length, start + declared, TLS_HEADER + length));
    if (body.length < 2) return result('not_ssl', 'TLS handshake record too short for a ServerHello');
    const hello = parseServerHello(body);
    // A cut hello still has its legacy version; only 1.3 needs the extensions to be read.
    const version = hello.malformed ? (body[0]! << 8) | body[1]! : negotiatedVersion(hello);
    if (hello.helloRetryRequest) return result('tls_server_hello', `TLS HelloRetryRequest (${tlsVersionLabel(version)})`, version);
    return result('tls_server_hello', `TLS ServerHello ${tlsVersionLabel(version)}`, version);
  }
  return result('not_ssl', `TLS record type ${type} where a ServerHello or alert belongs`);
}

function classifyLegacy(reply: Uint8Array): ReplyClass {
  const body = reply.subarray(2);
  const type = body[0];
  if (type === 0x02 && body.length >= 4 && body[2] === 0x80 && body[3] === 0x01) return result('pct_enabled', 'PCT 1.0 SERVER_HELLO: PCT enabled');
  if (type === 0x05) {
    const code = body.length >= 3 ? (body[1]! << 8) | body[2]! : null;
    if (code === 3) return result('pct_illegal_message', 'PCT ERROR ILLEGAL_MESSAGE (as unpatched IIS answers)', null, code);
    return result('pct_active', `PCT ERROR${code === null ? '' : ` code ${code}`}: PCT code active`, null, code);
  }
  if (type === 0x00) {
    const code = body.length >= 3 ? (body[1]! << 8) | body[2]! : null;
    return result('sslv2_error', `SSLv2 ERROR${code === null ? '' : ` code ${code}`}: no PCT`, null, code);
  }
  if (type === 0x04 && body.length >= 5 && body[3] === 0x00 && body[4] === 0x02) return result('sslv2_server_hello', 'SSLv2 SERVER-HELLO', 0x0002);
  return result('not_ssl', `SSLv2-style record of type ${type ?? 'none'} where a hello or error belongs`);
}

/**
 * Classifies the reply to one probe. `sent` is the probe (to recognise an echo), `end` how the
 * read ended. Only the first record counts: what follows it never changes the answer.
 */
export function classifyReply(reply: Uint8Array, sent: Uint8Array, end: ReplyEnd): ReplyClass {
  if (reply.length === 0) {
    if (end === 'timeout') return result('timeout', 'no answer before the timeout');
    if (end === 'reset') return result('reset', 'connection reset without an answer');
    return result('close', 'closed without an answer');
  }
  if (reply.length >= ECHO_MIN && isEchoPrefix(reply, sent)) return result('echo', 'our own bytes came back: an echo service, not SSL');
  if (isTlsRecordStart(reply)) return classifyTls(reply);
  if (isLegacyStart(reply) && reply.length >= 3) return classifyLegacy(reply);
  return result('not_ssl', `not an SSL/TLS answer (starts ${Buffer.from(reply.subarray(0, 8)).toString('hex')})`);
}

/** Whether a reply shows a server that speaks SSL, TLS or PCT at all. */
export function speaksSsl(kind: ReplyKind): boolean {
  return kind === 'pct_enabled' || kind === 'pct_illegal_message' || kind === 'pct_active' || kind === 'sslv2_error' || kind === 'sslv2_server_hello' || kind === 'tls_alert' || kind === 'tls_server_hello';
}
