/**
 * SSL 2.0 records and handshake messages (draft-hickman-netscape-ssl-00, 1995), and PCT offered
 * inside an SSLv2 CLIENT-HELLO (../shared/DOMAIN.md §2). Offsets below count from the record body
 * (the message type is body[0]); DOMAIN.md's R offsets are these plus the 2-byte header.
 */
import { Cursor, readList } from './cursor.js';

/** SSLv2 message types (the first byte of a cleartext record body). */
export const Sslv2Type = { ERROR: 0, CLIENT_HELLO: 1, CLIENT_MASTER_KEY: 2, CLIENT_FINISHED: 3, SERVER_HELLO: 4, SERVER_VERIFY: 5, SERVER_FINISHED: 6, REQUEST_CERTIFICATE: 7, CLIENT_CERTIFICATE: 8 } as const;

export const SSL2_VERSION = 0x0002;

/** The record header shared by SSLv2 and PCT 1.0. */
export interface LegacyHeader {
  /** 2 (bit 7 of byte 0 set) or 3 bytes. */
  headerLength: 2 | 3;
  /** Body length, padding included. */
  length: number;
  /** Padding bytes at the end of the body (3-byte headers only). */
  padding: number;
  /** Bit 6 of a 3-byte header: SSLv2's never-used "security escape". */
  escape: boolean;
}

/** Reads a 2- or 3-byte header at `off`; null when its bytes are not all there yet. */
export function legacyHeader(buf: Uint8Array, off = 0, end = buf.length): LegacyHeader | null {
  if (end - off < 2) return null;
  const b0 = buf[off]!;
  if (b0 & 0x80) return { headerLength: 2, length: ((b0 & 0x7f) << 8) | buf[off + 1]!, padding: 0, escape: false };
  if (end - off < 3) return null;
  return { headerLength: 3, length: ((b0 & 0x3f) << 8) | buf[off + 1]!, padding: buf[off + 2]!, escape: (b0 & 0x40) !== 0 };
}

export interface LegacyRecord {
  /** Offset of the header in the input. */
  offset: number;
  header: LegacyHeader;
  /** The body, padding included (a view of the input). */
  body: Uint8Array;
}

export type LegacyRecordError = 'record_empty' | 'padding_exceeds_record';

/**
 * Splits complete SSLv2/PCT records off the front of a stream buffer. The header's 15 (or 14)
 * length bits are the only cap the format needs: a record is at most 32 KiB by construction.
 * Stops at the first record that is not complete, or at a header that cannot be a record.
 */
export function splitLegacyRecords(buf: Uint8Array, off = 0, end = buf.length): { records: LegacyRecord[]; consumed: number; error: LegacyRecordError | null } {
  const records: LegacyRecord[] = [];
  let pos = off;
  for (;;) {
    const h = legacyHeader(buf, pos, end);
    if (h === null) break;
    if (h.length === 0) return { records, consumed: pos - off, error: 'record_empty' };
    if (h.padding > h.length) return { records, consumed: pos - off, error: 'padding_exceeds_record' };
    const total = h.headerLength + h.length;
    if (end - pos < total) break;
    records.push({ offset: pos, header: h, body: buf.subarray(pos + h.headerLength, pos + total) });
    pos += total;
  }
  return { records, consumed: pos - off, error: null };
}

/** Structural faults in SSLv2 (and SSLv2-format PCT) messages: the shapes the MS04-011 exploit has. */
export type Sslv2Anomaly =
  /** Too short for the message's fixed fields. */
  | 'record_too_short'
  /** A client hello version neither 00 02 (SSL 2.0) nor 03 xx (an SSLv3/TLS client's compatible hello); a server hello version not 00 02. */
  | 'version_invalid'
  | 'cipher_spec_length_not_multiple_of_3'
  | 'cipher_spec_length_zero'
  /** SSLv2 session ids are 0 (new session) or 16 bytes. */
  | 'session_id_length_invalid'
  /** SSLv2 challenges are 16 to 32 bytes. */
  | 'challenge_length_invalid'
  /** SSLv2 connection ids are 16 to 32 bytes. */
  | 'connection_id_length_invalid'
  /** The declared lengths need more bytes than the record has. */
  | 'lengths_exceed_record'
  /** The declared lengths leave bytes of the record unaccounted for. */
  | 'lengths_short_of_record'
  /** The sender's first flight goes on far past this record (the caller says how far). */
  | 'flight_longer_than_record';

/**
 * What an SSLv2 CLIENT-HELLO says about PCT. Kind `8F vv vv` is PCT_SSL_COMPAT with the PCT version
 * (8F 80 01: "this client can do PCT 1"); kinds `80`..`84 xx xx` carry PCT specs split in halves.
 */
export interface PctOffer {
  /** A cipher kind starts with 8F: the client offers PCT. */
  offered: boolean;
  /** The PCT version from that kind (0x8001 for PCT 1), or null. */
  version: number | null;
  /**
   * A PCT-capable Schannel server would switch to PCT: the first kind's bytes start with 8F and
   * the next two are at least 0x8001. Read from the record as Schannel reads them, whatever the
   * cipher-spec length says (the exploit declares a length of 1 and still routes).
   */
  routed: boolean;
  /** PCT specs carried as SSLv2 kinds, low 16 bits of each: 80 cert, 81 hash, 82 exchange, 83/84 cipher halves. */
  certSpecs: number[];
  hashSpecs: number[];
  exchangeSpecs: number[];
  cipherFirstHalves: number[];
  cipherSecondHalves: number[];
}

export const PCT_SSL_COMPAT = 0x8f;
/** The lowest version byte pair Schannel takes for PCT (PCT 1.0 is 80 01). */
const PCT_ROUTING_MIN_VERSION = 0x8001;

export function noPctOffer(): PctOffer {
  return { offered: false, version: null, routed: false, certSpecs: [], hashSpecs: [], exchangeSpecs: [], cipherFirstHalves: [], cipherSecondHalves: [] };
}

/** The PCT offer in a client hello's kinds; `firstKindRaw` is the 3 bytes where the first kind sits, when the record has them. */
export function pctOfferOf(kinds: readonly number[], firstKindRaw: number | null): PctOffer {
  const offer = noPctOffer();
  const compat = kinds.filter((k) => k >>> 16 === PCT_SSL_COMPAT);
  if (compat.length === 0 && firstKindRaw !== null && firstKindRaw >>> 16 === PCT_SSL_COMPAT) compat.push(firstKindRaw);
  if (compat.length > 0) {
    offer.offered = true;
    offer.version = compat[0]! & 0xffff;
  }
  offer.routed = firstKindRaw !== null && firstKindRaw >>> 16 === PCT_SSL_COMPAT && (firstKindRaw & 0xffff) >= PCT_ROUTING_MIN_VERSION;
  for (const k of kinds) {
    const half = k & 0xffff;
    switch (k >>> 16) {
      case 0x80:
        offer.certSpecs.push(half);
        break;
      case 0x81:
        offer.hashSpecs.push(half);
        break;
      case 0x82:
        offer.exchangeSpecs.push(half);
        break;
      case 0x83:
        offer.cipherFirstHalves.push(half);
        break;
      case 0x84:
        offer.cipherSecondHalves.push(half);
        break;
    }
  }
  return offer;
}

export interface Sslv2ClientHello {
  type: 'client_hello';
  /** 0x0002 for SSL 2.0; 0x03xx when an SSLv3/TLS client sends a compatible hello. */
  version: number;
  /** 3-byte cipher kinds, in order (a TLS client's are 00 xx xx: its TLS suites). */
  cipherKinds: number[];
  sessionId: Uint8Array;
  challenge: Uint8Array;
  /** The declared lengths, as sent (the exploit lies in them). */
  cipherSpecLength: number;
  sessionIdLength: number;
  challengeLength: number;
  pct: PctOffer;
  anomalies: Sslv2Anomaly[];
}

export interface Sslv2ServerHello {
  type: 'server_hello';
  sessionIdHit: boolean;
  /** 1 is X.509. */
  certificateType: number;
  version: number;
  /** The server's certificate (DER when the type is X.509). */
  certificate: Uint8Array;
  cipherKinds: number[];
  connectionId: Uint8Array;
  anomalies: Sslv2Anomaly[];
}

export interface Sslv2ClientMasterKey {
  type: 'client_master_key';
  cipherKind: number;
  clearKeyLength: number;
  encryptedKeyLength: number;
  keyArgLength: number;
  anomalies: Sslv2Anomaly[];
}

export interface Sslv2Error {
  type: 'error';
  /** 1 NO-CIPHER, 2 NO-CERTIFICATE, 4 BAD-CERTIFICATE, 6 UNSUPPORTED-CERTIFICATE-TYPE. */
  code: number;
  anomalies: Sslv2Anomaly[];
}

/** Any other message type: after CLIENT-MASTER-KEY, bodies are encrypted and type bytes mean nothing. */
export interface Sslv2Other {
  type: 'other';
  messageType: number;
  anomalies: Sslv2Anomaly[];
}

export type Sslv2Message = Sslv2ClientHello | Sslv2ServerHello | Sslv2ClientMasterKey | Sslv2Error | Sslv2Other;

export interface FlightContext {
  /** Bytes the sender sent after this record in the same flight (before the peer answered). */
  flightBytes?: number;
  /** The record's header length (2 when not given): with the body, the record's size on the wire. */
  headerLength?: 2 | 3;
}

/**
 * How far a first flight may run past its first record before it is "far longer". An SSLv2 or PCT
 * client must wait for the server's hello before its next message, so anything after the hello is
 * already odd; a flight longer than the record again leaves room for a client that pipelines one
 * small message, and still catches the exploit (about 1.8 KB behind a 100-byte record).
 */
export function flightTooLong(recordTotal: number, flightBytes: number | undefined): boolean {
  return flightBytes !== undefined && flightBytes > recordTotal;
}

/** Compares what the declared lengths need with what the record holds. */
function lengthsAnomaly(need: number, have: number): Sslv2Anomaly | null {
  if (need > have) return 'lengths_exceed_record';
  if (need < have) return 'lengths_short_of_record';
  return null;
}

const isClientVersion = (v: number): boolean => v === SSL2_VERSION || v >>> 8 === 0x03;

/**
 * Parses one cleartext SSLv2 record body (padding excluded). Lengths are checked against the
 * record, never trusted: fields are cut to the bytes present and the mismatch is an anomaly.
 */
export function parseSslv2Message(body: Uint8Array, ctx: FlightContext = {}): Sslv2Message {
  const recordTotal = body.length + (ctx.headerLength ?? 2);
  const type = body.length > 0 ? body[0]! : -1;
  switch (type) {
    case Sslv2Type.CLIENT_HELLO:
      return clientHello(body, recordTotal, ctx);
    case Sslv2Type.SERVER_HELLO:
      return serverHello(body);
    case Sslv2Type.CLIENT_MASTER_KEY: {
      const c = new Cursor(body, 1);
      const m: Sslv2ClientMasterKey = { type: 'client_master_key', cipherKind: c.u24(), clearKeyLength: c.u16(), encryptedKeyLength: c.u16(), keyArgLength: c.u16(), anomalies: [] };
      if (c.short) m.anomalies.push('record_too_short');
      else {
        const a = lengthsAnomaly(10 + m.clearKeyLength + m.encryptedKeyLength + m.keyArgLength, body.length);
        if (a !== null) m.anomalies.push(a);
      }
      return m;
    }
    case Sslv2Type.ERROR: {
      const c = new Cursor(body, 1);
      const m: Sslv2Error = { type: 'error', code: c.u16(), anomalies: [] };
      if (c.short) m.anomalies.push('record_too_short');
      else if (body.length > 3) m.anomalies.push('lengths_short_of_record');
      return m;
    }
    default:
      return { type: 'other', messageType: type, anomalies: type < 0 ? ['record_too_short'] : [] };
  }
}

/** Where the cipher kinds start in a client hello body. */
const CLIENT_HELLO_FIXED = 9;

function clientHello(body: Uint8Array, recordTotal: number, ctx: FlightContext): Sslv2ClientHello {
  const c = new Cursor(body, 1);
  const version = c.u16();
  const cipherSpecLength = c.u16();
  const sessionIdLength = c.u16();
  const challengeLength = c.u16();
  const anomalies: Sslv2Anomaly[] = [];
  const firstKindRaw = body.length >= CLIENT_HELLO_FIXED + 3 ? (body[9]! << 16) | (body[10]! << 8) | body[11]! : null;
  if (c.short) {
    anomalies.push('record_too_short');
    return { type: 'client_hello', version, cipherKinds: [], sessionId: new Uint8Array(0), challenge: new Uint8Array(0), cipherSpecLength, sessionIdLength, challengeLength, pct: pctOfferOf([], firstKindRaw), anomalies };
  }
  if (!isClientVersion(version)) anomalies.push('version_invalid');
  if (cipherSpecLength === 0) anomalies.push('cipher_spec_length_zero');
  else if (cipherSpecLength % 3 !== 0) anomalies.push('cipher_spec_length_not_multiple_of_3');
  if (sessionIdLength !== 0 && sessionIdLength !== 16) anomalies.push('session_id_length_invalid');
  if (challengeLength < 16 || challengeLength > 32) anomalies.push('challenge_length_invalid');
  const lengths = lengthsAnomaly(CLIENT_HELLO_FIXED + cipherSpecLength + sessionIdLength + challengeLength, body.length);
  if (lengths !== null) anomalies.push(lengths);
  if (flightTooLong(recordTotal, ctx.flightBytes)) anomalies.push('flight_longer_than_record');
  const specs = clamp(c, cipherSpecLength);
  const cipherKinds = readList(new Cursor(specs, 0, specs.length - (specs.length % 3)), 3);
  const sessionId = clamp(c, sessionIdLength);
  const challenge = clamp(c, challengeLength);
  return { type: 'client_hello', version, cipherKinds, sessionId, challenge, cipherSpecLength, sessionIdLength, challengeLength, pct: pctOfferOf(cipherKinds, firstKindRaw), anomalies };
}

function serverHello(body: Uint8Array): Sslv2ServerHello {
  const c = new Cursor(body, 1);
  const sessionIdHit = c.u8() !== 0;
  const certificateType = c.u8();
  const version = c.u16();
  const certLength = c.u16();
  const cipherSpecLength = c.u16();
  const connectionIdLength = c.u16();
  const anomalies: Sslv2Anomaly[] = [];
  if (c.short) {
    anomalies.push('record_too_short');
    return { type: 'server_hello', sessionIdHit, certificateType, version, certificate: new Uint8Array(0), cipherKinds: [], connectionId: new Uint8Array(0), anomalies };
  }
  if (version !== SSL2_VERSION) anomalies.push('version_invalid');
  // A server that hits the session cache sends no specs; otherwise it must name at least one.
  if (cipherSpecLength % 3 !== 0) anomalies.push('cipher_spec_length_not_multiple_of_3');
  else if (cipherSpecLength === 0 && !sessionIdHit) anomalies.push('cipher_spec_length_zero');
  if (connectionIdLength < 16 || connectionIdLength > 32) anomalies.push('connection_id_length_invalid');
  const lengths = lengthsAnomaly(11 + certLength + cipherSpecLength + connectionIdLength, body.length);
  if (lengths !== null) anomalies.push(lengths);
  const certificate = clamp(c, certLength);
  const specs = clamp(c, cipherSpecLength);
  const cipherKinds = readList(new Cursor(specs, 0, specs.length - (specs.length % 3)), 3);
  const connectionId = clamp(c, connectionIdLength);
  return { type: 'server_hello', sessionIdHit, certificateType, version, certificate, cipherKinds, connectionId, anomalies };
}

/** The next `n` bytes, or as many as are left (the shortfall is already an anomaly). */
function clamp(c: Cursor, n: number): Uint8Array {
  return c.bytes(Math.min(n, c.left));
}
