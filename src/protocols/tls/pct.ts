/**
 * Native PCT 1.0 handshake messages (draft-benaloh-pct-00, Oct 1995; ../shared/DOMAIN.md §2).
 * PCT shares SSLv2's record header; its messages differ. Offsets below count from the record body
 * (the message type is body[0]); DOMAIN.md's R offsets are these plus the 2-byte header.
 */
import { Cursor, readList } from './cursor.js';
import { flightTooLong, type FlightContext } from './sslv2.js';

export const PctType = { CLIENT_HELLO: 1, SERVER_HELLO: 2, CLIENT_MASTER_KEY: 3, SERVER_VERIFY: 4, ERROR: 5 } as const;

/** PCT 1.0's version bytes: the top bit marks PCT where SSLv2 has 00 02. */
export const PCT_VERSION_1 = 0x8001;

export const PCT_ERROR_NAMES: Readonly<Record<number, string>> = {
  1: 'BAD_CERTIFICATE',
  2: 'CLIENT_AUTH_FAILED',
  3: 'ILLEGAL_MESSAGE',
  4: 'INTEGRITY_CHECK_FAILED',
  5: 'SERVER_AUTH_FAILED',
  6: 'SPECS_MISMATCH',
};

export type PctAnomaly =
  /** Too short for the message's fixed fields. */
  | 'record_too_short'
  /** Version bytes other than 80 01. */
  | 'version_invalid'
  /** The CLIENT_HELLO offset field is not 00 0A. */
  | 'offset_invalid'
  /** Cipher specs are 4 bytes each. */
  | 'cipher_spec_length_not_multiple_of_4'
  /** Hash, certificate and exchange specs (and a server's client cert and sig specs) are 2 bytes each. */
  | 'hash_spec_length_not_multiple_of_2'
  | 'cert_spec_length_not_multiple_of_2'
  | 'exchange_spec_length_not_multiple_of_2'
  | 'client_cert_spec_length_not_multiple_of_2'
  | 'client_sig_spec_length_not_multiple_of_2'
  | 'lengths_exceed_record'
  | 'lengths_short_of_record'
  | 'flight_longer_than_record'
  /** An ERROR code outside 1..6. */
  | 'error_code_unknown';

export interface PctClientHello {
  type: 'client_hello';
  version: number;
  /** 32 bytes, all zero for a new session. */
  sessionId: Uint8Array;
  challenge: Uint8Array;
  offset: number;
  /** 4-byte cipher specs. */
  cipherSpecs: number[];
  /** 2-byte hash, certificate and exchange specs. */
  hashSpecs: number[];
  certSpecs: number[];
  exchangeSpecs: number[];
  keyArg: Uint8Array;
  anomalies: PctAnomaly[];
}

export interface PctServerHello {
  type: 'server_hello';
  version: number;
  restartOk: boolean;
  clientAuthRequested: boolean;
  cipherSpec: number;
  hashSpec: number;
  certSpec: number;
  exchangeSpec: number;
  connectionId: Uint8Array;
  certificate: Uint8Array;
  clientCertSpecs: number[];
  clientSigSpecs: number[];
  response: Uint8Array;
  anomalies: PctAnomaly[];
}

export interface PctError {
  type: 'error';
  code: number;
  /** BAD_CERTIFICATE ... SPECS_MISMATCH, or null for an unknown code. */
  codeName: string | null;
  info: Uint8Array;
  anomalies: PctAnomaly[];
}

/** CLIENT_MASTER_KEY and SERVER_VERIFY: recognised, not taken apart. */
export interface PctOther {
  type: 'other';
  messageType: number;
  anomalies: PctAnomaly[];
}

export type PctMessage = PctClientHello | PctServerHello | PctError | PctOther;

/** Where the spec lists start in a CLIENT_HELLO body (R 82). */
const CLIENT_HELLO_FIXED = 80;
/** Where the certificate starts in a SERVER_HELLO body (R 58). */
const SERVER_HELLO_FIXED = 56;
/** The CLIENT_HELLO offset field's value in PCT 1.0. */
const CLIENT_HELLO_OFFSET = 0x000a;

/** Parses one PCT record body (the message type is body[0]). Never throws; lengths are checked, not trusted. */
export function parsePctMessage(body: Uint8Array, ctx: FlightContext = {}): PctMessage {
  const recordTotal = body.length + (ctx.headerLength ?? 2);
  switch (body.length > 0 ? body[0]! : -1) {
    case PctType.CLIENT_HELLO:
      return clientHello(body, recordTotal, ctx);
    case PctType.SERVER_HELLO:
      return serverHello(body);
    case PctType.ERROR:
      return error(body);
    default:
      return { type: 'other', messageType: body.length > 0 ? body[0]! : -1, anomalies: body.length === 0 ? ['record_too_short'] : [] };
  }
}

function lengthsAnomaly(need: number, have: number): PctAnomaly | null {
  if (need > have) return 'lengths_exceed_record';
  if (need < have) return 'lengths_short_of_record';
  return null;
}

/** A list of `width`-byte specs from a declared length, cut to the bytes present. */
function specList(c: Cursor, length: number, width: 2 | 4): number[] {
  const bytes = c.bytes(Math.min(length, c.left));
  return readList(new Cursor(bytes, 0, bytes.length - (bytes.length % width)), width);
}

function clientHello(body: Uint8Array, recordTotal: number, ctx: FlightContext): PctClientHello {
  const c = new Cursor(body, 1);
  const version = c.u16();
  c.skip(1); // pad
  const sessionId = c.bytes(32);
  const challenge = c.bytes(32);
  const offset = c.u16();
  const cipherLen = c.u16();
  const hashLen = c.u16();
  const certLen = c.u16();
  const exchLen = c.u16();
  const keyArgLen = c.u16();
  const hello: PctClientHello = { type: 'client_hello', version, sessionId, challenge, offset, cipherSpecs: [], hashSpecs: [], certSpecs: [], exchangeSpecs: [], keyArg: new Uint8Array(0), anomalies: [] };
  const a = hello.anomalies;
  if (c.short) {
    a.push('record_too_short');
    if (version !== PCT_VERSION_1) a.push('version_invalid');
    return hello;
  }
  if (version !== PCT_VERSION_1) a.push('version_invalid');
  if (offset !== CLIENT_HELLO_OFFSET) a.push('offset_invalid');
  if (cipherLen % 4 !== 0) a.push('cipher_spec_length_not_multiple_of_4');
  if (hashLen % 2 !== 0) a.push('hash_spec_length_not_multiple_of_2');
  if (certLen % 2 !== 0) a.push('cert_spec_length_not_multiple_of_2');
  if (exchLen % 2 !== 0) a.push('exchange_spec_length_not_multiple_of_2');
  const lengths = lengthsAnomaly(CLIENT_HELLO_FIXED + cipherLen + hashLen + certLen + exchLen + keyArgLen, body.length);
  if (lengths !== null) a.push(lengths);
  if (flightTooLong(recordTotal, ctx.flightBytes)) a.push('flight_longer_than_record');
  hello.cipherSpecs = specList(c, cipherLen, 4);
  hello.hashSpecs = specList(c, hashLen, 2);
  hello.certSpecs = specList(c, certLen, 2);
  hello.exchangeSpecs = specList(c, exchLen, 2);
  hello.keyArg = c.bytes(Math.min(keyArgLen, c.left));
  return hello;
}

function serverHello(body: Uint8Array): PctServerHello {
  const c = new Cursor(body, 1);
  c.skip(1); // pad
  const version = c.u16();
  const restartOk = c.u8() !== 0;
  const clientAuthRequested = c.u8() !== 0;
  const cipherSpec = c.u32();
  const hashSpec = c.u16();
  const certSpec = c.u16();
  const exchangeSpec = c.u16();
  const connectionId = c.bytes(32);
  const certLen = c.u16();
  const clientCertLen = c.u16();
  const clientSigLen = c.u16();
  const responseLen = c.u16();
  const hello: PctServerHello = {
    type: 'server_hello',
    version,
    restartOk,
    clientAuthRequested,
    cipherSpec,
    hashSpec,
    certSpec,
    exchangeSpec,
    connectionId,
    certificate: new Uint8Array(0),
    clientCertSpecs: [],
    clientSigSpecs: [],
    response: new Uint8Array(0),
    anomalies: [],
  };
  const a = hello.anomalies;
  if (c.short) {
    a.push('record_too_short');
    if (version !== PCT_VERSION_1) a.push('version_invalid');
    return hello;
  }
  if (version !== PCT_VERSION_1) a.push('version_invalid');
  if (clientCertLen % 2 !== 0) a.push('client_cert_spec_length_not_multiple_of_2');
  if (clientSigLen % 2 !== 0) a.push('client_sig_spec_length_not_multiple_of_2');
  const lengths = lengthsAnomaly(SERVER_HELLO_FIXED + certLen + clientCertLen + clientSigLen + responseLen, body.length);
  if (lengths !== null) a.push(lengths);
  hello.certificate = c.bytes(Math.min(certLen, c.left));
  hello.clientCertSpecs = specList(c, clientCertLen, 2);
  hello.clientSigSpecs = specList(c, clientSigLen, 2);
  hello.response = c.bytes(Math.min(responseLen, c.left));
  return hello;
}

function error(body: Uint8Array): PctError {
  const c = new Cursor(body, 1);
  const code = c.u16();
  const infoLen = c.u16();
  const m: PctError = { type: 'error', code, codeName: PCT_ERROR_NAMES[code] ?? null, info: new Uint8Array(0), anomalies: [] };
  if (c.short) {
    m.anomalies.push('record_too_short');
    return m;
  }
  if (m.codeName === null) m.anomalies.push('error_code_unknown');
  const lengths = lengthsAnomaly(5 + infoLen, body.length);
  if (lengths !== null) m.anomalies.push(lengths);
  m.info = c.bytes(Math.min(infoLen, c.left));
  return m;
}
