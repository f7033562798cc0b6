/**
 * Pure, bounded parsing of SSL/TLS: which record format a side speaks, the TLS record layer,
 * handshake messages reassembled across records, ClientHello, ServerHello and Certificate, and
 * the SSLv2/PCT records that share SSLv2's header (sslv2.ts, pct.ts). Nothing here throws on
 * input: what is wrong with the bytes is returned as an error or an anomaly.
 */
import { Cursor, readList } from './cursor.js';
import { parsePctMessage, type PctMessage } from './pct.js';
import { legacyHeader, noPctOffer, parseSslv2Message, splitLegacyRecords, type LegacyHeader, type LegacyRecord, type PctOffer, type Sslv2Message } from './sslv2.js';

export const ContentType = { CHANGE_CIPHER_SPEC: 20, ALERT: 21, HANDSHAKE: 22, APPLICATION_DATA: 23, HEARTBEAT: 24 } as const;

export const HandshakeType = {
  HELLO_REQUEST: 0,
  CLIENT_HELLO: 1,
  SERVER_HELLO: 2,
  NEW_SESSION_TICKET: 4,
  END_OF_EARLY_DATA: 5,
  ENCRYPTED_EXTENSIONS: 8,
  CERTIFICATE: 11,
  SERVER_KEY_EXCHANGE: 12,
  CERTIFICATE_REQUEST: 13,
  SERVER_HELLO_DONE: 14,
  CERTIFICATE_VERIFY: 15,
  CLIENT_KEY_EXCHANGE: 16,
  FINISHED: 20,
  CERTIFICATE_URL: 21,
  CERTIFICATE_STATUS: 22,
  KEY_UPDATE: 24,
} as const;

export const ExtensionType = {
  SERVER_NAME: 0,
  SUPPORTED_GROUPS: 10,
  EC_POINT_FORMATS: 11,
  SIGNATURE_ALGORITHMS: 13,
  ALPN: 16,
  SESSION_TICKET: 35,
  SUPPORTED_VERSIONS: 43,
  KEY_SHARE: 51,
  RENEGOTIATION_INFO: 0xff01,
} as const;

export const Version = { SSL2: 0x0002, SSL3: 0x0300, TLS10: 0x0301, TLS11: 0x0302, TLS12: 0x0303, TLS13: 0x0304 } as const;

/** A version as Suricata's EVE tls.version writes it ("TLSv1", "TLS 1.2", "SSLv2", ...). */
export function versionName(v: number): string {
  switch (v) {
    case 0:
      return 'UNDETERMINED';
    case Version.SSL2:
      return 'SSLv2';
    case Version.SSL3:
      return 'SSLv3';
    case Version.TLS10:
      return 'TLSv1';
    case Version.TLS11:
      return 'TLS 1.1';
    case Version.TLS12:
      return 'TLS 1.2';
    case Version.TLS13:
      return 'TLS 1.3';
  }
  if (v >>> 8 === 0x7f) {
    const draft = v & 0xff;
    if (draft >= 16 && draft <= 28) return `TLS 1.3 draft-${draft}`;
    if (draft >= 1 && draft < 16) return 'TLS 1.3 draft-<16';
  }
  return `0x${v.toString(16).padStart(4, '0')}`;
}

// ---------------------------------------------------------------------------------------------
// Which format a side speaks

export type RecordFormat = 'tls' | 'sslv2' | 'pct';

/**
 * The record format of a side's first bytes: a TLS record (content type 20-24, then major version
 * 3), or a 2-byte SSLv2-style header whose body is SSLv2 or native PCT (told apart by the version
 * bytes' top bit, which PCT sets). 'more' when the deciding bytes have not arrived; 'unknown' when
 * they cannot start any of these. First records never use SSLv2's 3-byte header (it exists for
 * padding encrypted records), so a clear bit 7 that is not TLS is not SSL at all.
 */
export function recordFormat(data: Uint8Array): RecordFormat | 'more' | 'unknown' {
  if (data.length === 0) return 'more';
  const b0 = data[0]!;
  if (b0 >= ContentType.CHANGE_CIPHER_SPEC && b0 <= ContentType.HEARTBEAT) {
    if (data.length < 3) return 'more';
    return data[1] === 3 && data[2]! <= 4 ? 'tls' : 'unknown';
  }
  if ((b0 & 0x80) === 0) return 'unknown';
  if (data.length < 3) return 'more';
  if ((((b0 & 0x7f) << 8) | data[1]!) === 0) return 'unknown';
  switch (data[2]) {
    case 0x00: // SSLv2 ERROR
    case 0x04: // SSLv2 SERVER-HELLO
      return 'sslv2';
    case 0x05: // PCT ERROR (SSLv2's type 5, SERVER-VERIFY, is always encrypted)
      return 'pct';
    case 0x01: // CLIENT-HELLO / CLIENT_HELLO: version at body 1-2
      if (data.length < 4) return 'more';
      return data[3]! & 0x80 ? 'pct' : 'sslv2';
    case 0x02: // PCT SERVER_HELLO (version at body 2-3) or SSLv2 CLIENT-MASTER-KEY
      if (data.length < 5) return 'more';
      return data[4]! & 0x80 ? 'pct' : 'sslv2';
    default:
      return 'unknown';
  }
}

// ---------------------------------------------------------------------------------------------
// TLS record layer

export const TLS_RECORD_HEADER = 5;
/** RFC 5246 §6.2.3: 2^14 bytes of plaintext plus 2048 of compression, MAC and padding expansion, the most any TLS version allows. */
export const TLS_MAX_RECORD = 16384 + 2048;

export interface TlsRecord {
  /** Offset of the record's header in the bytes it was split from. */
  offset: number;
  type: number;
  /** The record layer version (TLS 1.3 keeps 0x0303 here; a first ClientHello often has 0x0301). */
  version: number;
  body: Uint8Array;
}

export type TlsRecordError =
  /** A content type outside 20-24. */
  | 'record_type_unknown'
  /** A record version whose major byte is not 3, or a minor above 4. */
  | 'record_version_invalid'
  /** A length above TLS_MAX_RECORD. */
  | 'record_too_long';

export interface TlsRecordSplit {
  /** Complete records, bodies as views of the input. */
  records: TlsRecord[];
  /** Bytes taken: the complete records. What follows is an incomplete record, or the bad header. */
  consumed: number;
  /** Set when the header after the consumed bytes cannot be a TLS record: the stream is not (or no longer) TLS. */
  error: TlsRecordError | null;
}

/**
 * Walks the complete TLS records at the front of `buf[off, end)`, calling `each` with every
 * record's header offset, type, version and body length. Returns the bytes taken and the error
 * that stopped it, if any.
 */
function scanTlsRecords(buf: Uint8Array, off: number, end: number, each: (offset: number, type: number, version: number, length: number) => void): { consumed: number; error: TlsRecordError | null } {
  let pos = off;
  while (end - pos >= TLS_RECORD_HEADER) {
    const type = buf[pos]!;
    const major = buf[pos + 1]!;
    const minor = buf[pos + 2]!;
    const length = (buf[pos + 3]! << 8) | buf[pos + 4]!;
    let error: TlsRecordError | null = null;
    if (type < ContentType.CHANGE_CIPHER_SPEC || type > ContentType.HEARTBEAT) error = 'record_type_unknown';
    else if (major !== 3 || minor > 4) error = 'record_version_invalid';
    else if (length > TLS_MAX_RECORD) error = 'record_too_long';
    if (error !== null) return { consumed: pos - off, error };
    if (end - pos < TLS_RECORD_HEADER + length) break;
    each(pos, type, (major << 8) | minor, length);
    pos += TLS_RECORD_HEADER + length;
  }
  return { consumed: pos - off, error: null };
}

/** Splits complete TLS records off the front of `buf[off, end)`. */
export function splitTlsRecords(buf: Uint8Array, off = 0, end = buf.length): TlsRecordSplit {
  const records: TlsRecord[] = [];
  const { consumed, error } = scanTlsRecords(buf, off, end, (offset, type, version, length) => {
    records.push({ offset, type, version, body: buf.subarray(offset + TLS_RECORD_HEADER, offset + TLS_RECORD_HEADER + length) });
  });
  return { records, consumed, error };
}

/** A copy of `buf[0, n)` in memory of its own (one allocation, however many records it holds). */
const ownCopy = (buf: Uint8Array, n: number): Uint8Array => {
  const copy = new Uint8Array(n);
  copy.set(buf.subarray(0, n));
  return copy;
};

/** Bytes held between pushes: one incomplete unit at most, so its size is the unit's cap. */
class HeldBytes {
  private buf = new Uint8Array(0);
  length = 0;

  append(data: Uint8Array): void {
    if (this.length + data.length > this.buf.length) {
      const grown = new Uint8Array(Math.max(this.length + data.length, this.buf.length * 2, 256));
      grown.set(this.buf.subarray(0, this.length));
      this.buf = grown;
    }
    this.buf.set(data, this.length);
    this.length += data.length;
  }

  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  drop(n: number): void {
    this.buf.copyWithin(0, n, this.length);
    this.length -= n;
    // A large push grew the buffer for a moment; what stays is one incomplete unit, so give the rest back.
    if (this.buf.length > 65536 && this.length < this.buf.length / 4) this.buf = this.buf.slice(0, Math.max(this.length * 2, 256));
  }

  clear(): void {
    this.buf = new Uint8Array(0);
    this.length = 0;
  }
}

/**
 * Splits one direction of a TCP stream into TLS records as its bytes arrive. It holds at most one
 * incomplete record (TLS_MAX_RECORD + 4 bytes). Records it returns own their bodies. After an
 * error it returns nothing more: the stream is not TLS from there on.
 */
export class TlsRecordReader {
  private readonly held = new HeldBytes();
  error: TlsRecordError | null = null;
  /** Stream offset of the next byte to be pushed. */
  private streamOffset = 0;
  /** Stream offset where the error's header starts. */
  errorOffset = -1;

  push(data: Uint8Array): TlsRecord[] {
    if (this.error !== null) return [];
    const base = this.streamOffset - this.held.length;
    this.streamOffset += data.length;
    let buf = data;
    if (this.held.length > 0) {
      this.held.append(data);
      buf = this.held.view();
    }
    const found: Array<[number, number, number, number]> = [];
    const scan = scanTlsRecords(buf, 0, buf.length, (offset, type, version, length) => found.push([offset, type, version, length]));
    const own = found.length > 0 ? ownCopy(buf, scan.consumed) : buf;
    const records = found.map(([offset, type, version, length]) => ({ offset: base + offset, type, version, body: own.subarray(offset + TLS_RECORD_HEADER, offset + TLS_RECORD_HEADER + length) }));
    if (scan.error !== null) {
      this.error = scan.error;
      this.errorOffset = base + scan.consumed;
      this.held.clear();
    } else if (buf === data) {
      this.held.append(data.subarray(scan.consumed));
    } else {
      this.held.drop(scan.consumed);
    }
    return records;
  }

  /** Bytes of an incomplete record waiting for the rest. */
  get pending(): number {
    return this.held.length;
  }
}

// ---------------------------------------------------------------------------------------------
// Handshake messages

export const HANDSHAKE_HEADER = 4;
/** OpenSSL's default max_cert_list (100 KiB): the longest handshake message, a certificate chain, a stock peer accepts. */
export const MAX_HANDSHAKE_MESSAGE = 102400;

export interface HandshakeMessage {
  type: number;
  body: Uint8Array;
}

export type HandshakeError = 'handshake_message_too_long';

/** Splits complete handshake messages off the front of the concatenated bodies of handshake records. */
export function splitHandshakeMessages(buf: Uint8Array, off = 0, end = buf.length): { messages: HandshakeMessage[]; consumed: number; error: HandshakeError | null } {
  const messages: HandshakeMessage[] = [];
  let pos = off;
  while (end - pos >= HANDSHAKE_HEADER) {
    const length = (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!;
    if (length > MAX_HANDSHAKE_MESSAGE) return { messages, consumed: pos - off, error: 'handshake_message_too_long' };
    if (end - pos < HANDSHAKE_HEADER + length) break;
    messages.push({ type: buf[pos]!, body: buf.subarray(pos + HANDSHAKE_HEADER, pos + HANDSHAKE_HEADER + length) });
    pos += HANDSHAKE_HEADER + length;
  }
  return { messages, consumed: pos - off, error: null };
}

/**
 * Reassembles handshake messages from handshake record bodies (a message may span records, and a
 * record may hold several). Holds at most one incomplete message (MAX_HANDSHAKE_MESSAGE + 3 bytes);
 * messages it returns own their bodies. After an error it returns nothing more.
 */
export class HandshakeReader {
  private readonly held = new HeldBytes();
  error: HandshakeError | null = null;

  push(recordBody: Uint8Array): HandshakeMessage[] {
    if (this.error !== null) return [];
    let buf = recordBody;
    if (this.held.length > 0) {
      this.held.append(recordBody);
      buf = this.held.view();
    }
    const split = splitHandshakeMessages(buf);
    const own = split.messages.length > 0 ? ownCopy(buf, split.consumed) : buf;
    const messages = split.messages.map((m) => ({ type: m.type, body: own.subarray(m.body.byteOffset - buf.byteOffset, m.body.byteOffset - buf.byteOffset + m.body.length) }));
    if (split.error !== null) {
      this.error = split.error;
      this.held.clear();
    } else if (buf === recordBody) {
      this.held.append(recordBody.subarray(split.consumed));
    } else {
      this.held.drop(split.consumed);
    }
    return messages;
  }

  /** Bytes of an incomplete message: a message cut short by the end of the cleartext handshake. */
  get pending(): number {
    return this.held.length;
  }
}

export interface TlsDirectionOutput {
  records: TlsRecord[];
  /** Cleartext handshake messages completed by these bytes. */
  messages: HandshakeMessage[];
  /** A record or handshake error hit by these bytes (then nothing more comes from this direction). */
  error: TlsRecordError | HandshakeError | null;
}

/**
 * One direction of a TLS connection: records, and the cleartext handshake messages in them.
 * After a ChangeCipherSpec (TLS 1.2 and earlier) handshake records are encrypted and no longer
 * taken apart; TLS 1.3 sends its encrypted handshake as application data records, so the same
 * rule holds for it.
 */
export class TlsDirection {
  readonly records = new TlsRecordReader();
  readonly handshake = new HandshakeReader();
  /** A ChangeCipherSpec went by: later handshake records are encrypted. */
  encrypted = false;

  push(data: Uint8Array): TlsDirectionOutput {
    const records = this.records.push(data);
    const messages: HandshakeMessage[] = [];
    for (const r of records) {
      if (r.type === ContentType.CHANGE_CIPHER_SPEC) this.encrypted = true;
      else if (r.type === ContentType.HANDSHAKE && !this.encrypted) messages.push(...this.handshake.push(r.body));
    }
    return { records, messages, error: this.records.error ?? this.handshake.error };
  }
}

// ---------------------------------------------------------------------------------------------
// Hellos

export interface TlsExtension {
  type: number;
  data: Uint8Array;
}

export type HelloAnomaly =
  /** The fixed fields (version to compression) run past the message: nothing after them is known. */
  | 'hello_truncated'
  /** Session ids are at most 32 bytes. */
  | 'session_id_too_long'
  | 'cipher_suites_length_odd'
  /** The extensions block, or one extension, claims more bytes than the message has. */
  | 'extensions_length_overrun'
  | 'extension_duplicate'
  /** A server_name entry whose type is not host_name (the only type RFC 6066 defines). */
  | 'sni_type_unknown'
  /** A host_name longer than a DNS name can be (255): not kept, as Suricata does. */
  | 'sni_too_long'
  /** An extension whose inner lengths do not fit it. */
  | 'extension_malformed'
  /** Bytes after the extensions. */
  | 'trailing_bytes';

export interface ClientHello {
  /** legacy_version: what JA3 uses (TLS 1.3 clients put 0x0303 here and 0x0304 in supported_versions). */
  version: number;
  random: Uint8Array;
  sessionId: Uint8Array;
  cipherSuites: number[];
  compressionMethods: number[];
  /** Every extension in wire order. */
  extensions: TlsExtension[];
  /** The first host_name of server_name (SNI), bytes as latin1. */
  serverName: string | null;
  supportedVersions: number[];
  alpn: string[];
  supportedGroups: number[];
  ecPointFormats: number[];
  signatureAlgorithms: number[];
  /** The message ran out inside its fixed fields or an extension's length: fingerprints are not computed. */
  malformed: boolean;
  anomalies: HelloAnomaly[];
}

export interface ServerHello {
  /** legacy_version (0x0303 for TLS 1.3, which puts the real one in supported_versions). */
  version: number;
  random: Uint8Array;
  sessionId: Uint8Array;
  cipherSuite: number;
  compressionMethod: number;
  extensions: TlsExtension[];
  /** supported_versions: the version a TLS 1.3 server chose, or null. */
  selectedVersion: number | null;
  alpn: string | null;
  /** The random is RFC 8446's HelloRetryRequest marker: this is a retry request, not a hello. */
  helloRetryRequest: boolean;
  malformed: boolean;
  anomalies: HelloAnomaly[];
}

/** SHA-256 of "HelloRetryRequest" (RFC 8446 §4.1.3). */
const HRR_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');

/** The version a ServerHello settles on: supported_versions when present, else the version field. */
export function negotiatedVersion(hello: ServerHello): number {
  return hello.selectedVersion ?? hello.version;
}

/** Longest DNS name (RFC 1035), the cap Suricata puts on SNI host names. */
const MAX_SNI = 255;

function readExtensions(c: Cursor, anomalies: HelloAnomaly[]): { extensions: TlsExtension[]; malformed: boolean } {
  const extensions: TlsExtension[] = [];
  if (c.left === 0) return { extensions, malformed: false }; // extensions are optional (RFC 5246 §7.4.1.2)
  const block = c.sub(c.u16());
  if (block.short) {
    anomalies.push('extensions_length_overrun');
    return { extensions, malformed: true };
  }
  const seen = new Set<number>();
  while (block.left > 0) {
    const type = block.u16();
    const data = block.bytes(block.u16());
    if (block.short) {
      anomalies.push('extensions_length_overrun');
      return { extensions, malformed: true };
    }
    if (seen.has(type) && !anomalies.includes('extension_duplicate')) anomalies.push('extension_duplicate');
    seen.add(type);
    extensions.push({ type, data });
  }
  if (c.left > 0) anomalies.push('trailing_bytes');
  return { extensions, malformed: false };
}

const noteOnce = (anomalies: HelloAnomaly[], a: HelloAnomaly): void => {
  if (!anomalies.includes(a)) anomalies.push(a);
};

/** A u16-length-prefixed list of u16 values. */
function u16List(data: Uint8Array, anomalies: HelloAnomaly[]): number[] {
  const c = new Cursor(data);
  const inner = c.sub(c.u16());
  if (c.short || c.left > 0 || inner.left % 2 !== 0) noteOnce(anomalies, 'extension_malformed');
  return readList(inner, 2);
}

function alpnList(data: Uint8Array, anomalies: HelloAnomaly[]): string[] {
  const c = new Cursor(data);
  const inner = c.sub(c.u16());
  const out: string[] = [];
  while (inner.left > 0) {
    const name = inner.bytes(inner.u8());
    if (inner.short) break;
    out.push(Buffer.from(name).toString('latin1'));
  }
  if (c.short || inner.short || c.left > 0) noteOnce(anomalies, 'extension_malformed');
  return out;
}

function serverNameOf(data: Uint8Array, anomalies: HelloAnomaly[]): string | null {
  const c = new Cursor(data);
  const list = c.sub(c.u16());
  let name: string | null = null;
  while (list.left > 0) {
    const type = list.u8();
    const value = list.bytes(list.u16());
    if (list.short) break;
    if (type !== 0) noteOnce(anomalies, 'sni_type_unknown');
    else if (value.length > MAX_SNI) noteOnce(anomalies, 'sni_too_long');
    else if (name === null) name = Buffer.from(value).toString('latin1');
  }
  if (c.short || list.short || c.left > 0) noteOnce(anomalies, 'extension_malformed');
  return name;
}

/** Parses a ClientHello handshake body. Never throws. */
export function parseClientHello(body: Uint8Array): ClientHello {
  const anomalies: HelloAnomaly[] = [];
  const c = new Cursor(body);
  const version = c.u16();
  const random = c.bytes(32);
  const sessionIdLength = c.u8();
  const sessionId = c.bytes(sessionIdLength);
  const suites = c.sub(c.u16());
  const cipherSuites = readList(suites, 2);
  const compressionMethods = readList(c.sub(c.u8()), 1);
  const hello: ClientHello = {
    version,
    random,
    sessionId,
    cipherSuites,
    compressionMethods,
    extensions: [],
    serverName: null,
    supportedVersions: [],
    alpn: [],
    supportedGroups: [],
    ecPointFormats: [],
    signatureAlgorithms: [],
    malformed: false,
    anomalies,
  };
  if (sessionIdLength > 32) anomalies.push('session_id_too_long');
  if (suites.left !== 0) anomalies.push('cipher_suites_length_odd');
  if (c.short) {
    anomalies.push('hello_truncated');
    hello.malformed = true;
    return hello;
  }
  const ext = readExtensions(c, anomalies);
  hello.extensions = ext.extensions;
  hello.malformed = ext.malformed;
  for (const e of hello.extensions) {
    switch (e.type) {
      case ExtensionType.SERVER_NAME:
        hello.serverName ??= serverNameOf(e.data, anomalies);
        break;
      case ExtensionType.SUPPORTED_VERSIONS: {
        const v = new Cursor(e.data);
        const list = v.sub(v.u8());
        if (v.short || v.left > 0 || list.left % 2 !== 0) noteOnce(anomalies, 'extension_malformed');
        hello.supportedVersions = readList(list, 2);
        break;
      }
      case ExtensionType.ALPN:
        hello.alpn = alpnList(e.data, anomalies);
        break;
      case ExtensionType.SUPPORTED_GROUPS:
        hello.supportedGroups = u16List(e.data, anomalies);
        break;
      case ExtensionType.EC_POINT_FORMATS: {
        const v = new Cursor(e.data);
        const list = v.sub(v.u8());
        if (v.short || v.left > 0) noteOnce(anomalies, 'extension_malformed');
        hello.ecPointFormats = readList(list, 1);
        break;
      }
      case ExtensionType.SIGNATURE_ALGORITHMS:
        hello.signatureAlgorithms = u16List(e.data, anomalies);
        break;
    }
  }
  return hello;
}

/** Parses a ServerHello handshake body. Never throws. */
export function parseServerHello(body: Uint8Array): ServerHello {
  const anomalies: HelloAnomaly[] = [];
  const c = new Cursor(body);
  const version = c.u16();
  const random = c.bytes(32);
  // TLS 1.3 drafts up to 21 put their version here and dropped session id and compression (Suricata does the same).
  const draftLayout = version === Version.TLS13 || version >>> 8 === 0x7f;
  const sessionIdLength = draftLayout ? 0 : c.u8();
  const sessionId = c.bytes(sessionIdLength);
  const cipherSuite = c.u16();
  const compressionMethod = draftLayout ? 0 : c.u8();
  const hello: ServerHello = {
    version,
    random,
    sessionId,
    cipherSuite,
    compressionMethod,
    extensions: [],
    selectedVersion: null,
    alpn: null,
    helloRetryRequest: random.length === 32 && Buffer.compare(Buffer.from(random), HRR_RANDOM) === 0,
    malformed: false,
    anomalies,
  };
  if (sessionIdLength > 32) anomalies.push('session_id_too_long');
  if (c.short) {
    anomalies.push('hello_truncated');
    hello.malformed = true;
    return hello;
  }
  const ext = readExtensions(c, anomalies);
  hello.extensions = ext.extensions;
  hello.malformed = ext.malformed;
  for (const e of hello.extensions) {
    if (e.type === ExtensionType.SUPPORTED_VERSIONS) {
      if (e.data.length !== 2) noteOnce(anomalies, 'extension_malformed');
      if (e.data.length >= 2) hello.selectedVersion = (e.data[0]! << 8) | e.data[1]!;
    } else if (e.type === ExtensionType.ALPN) {
      const list = alpnList(e.data, anomalies);
      if (list.length !== 1) noteOnce(anomalies, 'extension_malformed');
      hello.alpn = list[0] ?? null;
    }
  }
  return hello;
}

// ---------------------------------------------------------------------------------------------
// Certificate

export type CertificateMessageAnomaly =
  /** The message ran out inside a length or a certificate. */
  | 'certificate_list_truncated'
  /** The list's length and its entries' lengths disagree. */
  | 'certificate_list_length_mismatch'
  | 'certificate_empty'
  | 'trailing_bytes';

/**
 * The DER certificates of a Certificate message, in order (the server's own first). TLS 1.3's
 * layout (request context, and extensions after each certificate) is read when `tls13` is set;
 * TLS 1.3 encrypts this message, so only a decrypted stream has one.
 */
export function parseCertificateMessage(body: Uint8Array, options: { tls13?: boolean } = {}): { certificates: Uint8Array[]; anomalies: CertificateMessageAnomaly[] } {
  const anomalies: CertificateMessageAnomaly[] = [];
  const certificates: Uint8Array[] = [];
  const c = new Cursor(body);
  if (options.tls13 === true) c.skip(c.u8());
  const declared = c.u24();
  if (c.short) return { certificates, anomalies: ['certificate_list_truncated'] };
  const list = c.sub(Math.min(declared, c.left));
  if (declared !== list.left) anomalies.push('certificate_list_length_mismatch');
  while (list.left > 0) {
    const der = list.bytes(list.u24());
    if (options.tls13 === true) list.skip(list.u16());
    if (list.short) {
      anomalies.push('certificate_list_truncated');
      break;
    }
    if (der.length === 0) {
      if (!anomalies.includes('certificate_empty')) anomalies.push('certificate_empty');
      continue;
    }
    certificates.push(der);
  }
  if (c.left > 0) anomalies.push('trailing_bytes');
  return { certificates, anomalies };
}

// ---------------------------------------------------------------------------------------------
// SSLv2 and PCT records

export interface LegacyParsed {
  format: 'sslv2' | 'pct';
  header: LegacyHeader;
  /** The record's size on the wire, header included. */
  recordLength: number;
  message: Sslv2Message | PctMessage;
  /**
   * PCT in this record: for an SSLv2 CLIENT-HELLO, what its cipher kinds offer; for a native PCT
   * CLIENT_HELLO, offered and routed with its version; otherwise nothing offered.
   */
  pct: PctOffer;
  /** Structural faults (the message's anomalies). */
  anomalies: string[];
}

/** Whether a 2-byte-header record body is native PCT rather than SSLv2 (see recordFormat). */
function isPctBody(body: Uint8Array): boolean {
  switch (body[0]) {
    case 0x01:
      return body.length > 1 && (body[1]! & 0x80) !== 0;
    case 0x02:
      return body.length > 2 && (body[2]! & 0x80) !== 0;
    case 0x05:
      return true;
    default:
      return false;
  }
}

/**
 * Takes apart one SSLv2-header record (from splitLegacyRecords). `flightBytes` is how many bytes the
 * sender sent after this record in the same flight, for the "far longer than the record" check.
 */
export function parseLegacyRecord(record: LegacyRecord, ctx: { flightBytes?: number } = {}): LegacyParsed {
  const h = record.header;
  const body = record.body.subarray(0, record.body.length - h.padding);
  const flight = { headerLength: h.headerLength, ...(ctx.flightBytes !== undefined ? { flightBytes: ctx.flightBytes } : {}) };
  const recordLength = h.headerLength + h.length;
  if (h.headerLength === 2 && isPctBody(body)) {
    const message = parsePctMessage(body, flight);
    const pct = noPctOffer();
    if (message.type === 'client_hello') {
      pct.offered = true;
      pct.routed = true;
      pct.version = message.version;
      pct.cipherFirstHalves = message.cipherSpecs.map((s) => s >>> 16);
      pct.cipherSecondHalves = message.cipherSpecs.map((s) => s & 0xffff);
      pct.hashSpecs = message.hashSpecs;
      pct.certSpecs = message.certSpecs;
      pct.exchangeSpecs = message.exchangeSpecs;
    }
    return { format: 'pct', header: h, recordLength, message, pct, anomalies: [...message.anomalies] };
  }
  const message = parseSslv2Message(body, flight);
  return { format: 'sslv2', header: h, recordLength, message, pct: message.type === 'client_hello' ? message.pct : noPctOffer(), anomalies: [...message.anomalies] };
}

/**
 * The first record of a side's first flight, when that side speaks SSLv2 or PCT: the bytes after it
 * in `flight` count as the rest of the flight. Null when the record is not complete in `flight` or
 * its header cannot be a record.
 */
export function parseLegacyFlight(flight: Uint8Array): LegacyParsed | null {
  const h = legacyHeader(flight);
  if (h === null) return null;
  const split = splitLegacyRecords(flight, 0, Math.min(flight.length, h.headerLength + h.length));
  const first = split.records[0];
  if (first === undefined) return null;
  return parseLegacyRecord(first, { flightBytes: flight.length - (first.header.headerLength + first.header.length) });
}
