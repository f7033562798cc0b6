/**
 * One TLS flow: each side's record format (TLS, SSLv2 or native PCT, decided by its first
 * bytes), its records and cleartext handshake, and the flow's one transaction (Suricata's TLS
 * has one). Rules inspect the transaction's request side once the ClientHello (or the client's
 * first SSLv2/PCT record) is parsed, and its response side once the server's hello and
 * certificates are (ServerHelloDone, the first non-handshake record after a ServerHello, the
 * server's SSLv2/PCT answer, or the end of the side). The `tls` record is written then, or when
 * the flow ends. Nothing here throws on input: what is wrong is an applayer anomaly, by
 * Suricata's event name where Suricata has one.
 */
import type { AppOutput, AppSession, AppTransaction } from '../app.js';
import { txBuffer, txBuffers } from './buffers.js';
import { certificateInfo, subjectAltNames, type CertificateInfo } from './cert.js';
import { Cursor } from './cursor.js';
import { ja3, ja3s, type Fingerprint } from './ja3.js';
import { tlsRecord } from './log.js';
import {
  ContentType,
  ExtensionType,
  HandshakeReader,
  HandshakeType,
  negotiatedVersion,
  parseCertificateMessage,
  parseClientHello,
  parseLegacyRecord,
  parseServerHello,
  recordFormat,
  splitTlsRecords,
  TLS_RECORD_HEADER,
  Version,
  type ClientHello,
  type HandshakeMessage,
  type LegacyParsed,
  type ServerHello,
  type TlsRecordError,
} from './parse.js';
import { PCT_VERSION_1 } from './pct.js';
import { legacyHeader, splitLegacyRecords, type LegacyRecord } from './sslv2.js';

/**
 * Suricata's TLS events (app-layer-ssl.c tls_decoder_event_table), by the names rules give
 * them (`app-layer-event:tls.invalid_record_type`). Outpost raises these where Suricata would,
 * and its own SSLv2/PCT anomalies as `sslv2_<anomaly>` and `pct_<anomaly>`.
 */
export const TLS_EVENTS = [
  'invalid_sslv2_header',
  'invalid_tls_header',
  'invalid_record_version',
  'invalid_record_type',
  'invalid_record_length',
  'invalid_handshake_message',
  'heartbeat_message',
  'invalid_heartbeat_message',
  'overflow_heartbeat_message',
  'dataleak_heartbeat_mismatch',
  'handshake_invalid_length',
  'multiple_sni_extensions',
  'invalid_sni_type',
  'invalid_sni_length',
  'too_many_records_in_packet',
  'invalid_alert_message',
  'invalid_certificate',
  'certificate_invalid_length',
  'certificate_invalid_version',
  'certificate_invalid_serial',
  'certificate_invalid_algorithmidentifier',
  'certificate_invalid_x509name',
  'certificate_invalid_date',
  'certificate_invalid_extensions',
  'certificate_invalid_der',
  'certificate_invalid_subject',
  'certificate_invalid_issuer',
  'certificate_invalid_validity',
  'error_message_encountered',
  'too_many_subject_alternative_names',
  'invalid_ssl_record',
] as const;

export type TlsEventName = (typeof TLS_EVENTS)[number];

/** A side's certificate chain, as its first Certificate message (or SSLv2/PCT SERVER-HELLO) gave it. */
export interface CertificateChain {
  /** The DER certificates, the sender's own first. Emptied once the transaction is logged and inspected (nothing reads them after). */
  ders: Uint8Array[];
  /** The first certificate's fields, when it reads as a certificate (Suricata takes only the first). */
  first: CertificateInfo | null;
  /** The first certificate's subject alternative names. */
  sans: string[];
}

/** How the server answered a client that opened with an SSLv2-format record (see PctRecord.server_answer). */
export type ServerAnswer = 'pct_server_hello' | 'pct_error' | 'sslv2_server_hello' | 'sslv2_error' | 'tls' | 'other' | 'none';

/** The format a side opened with: recordFormat's answer, or 'unknown' when it was neither. */
export type SideFormat = 'tls' | 'sslv2' | 'pct' | 'unknown';

/** TLS 1.3's version number in supported_versions and a ServerHello. */
const TLS13 = Version.TLS13;

/** Suricata's TLSVersionValid: SSLv3 to TLS 1.3 and the TLS 1.3 drafts (0x7fNN). */
const validTlsVersion = (v: number): boolean => (v >= Version.SSL3 && v <= Version.TLS13) || v >>> 8 === 0x7f;

/**
 * The flow's one transaction: what both sides said in the clear. The session fills it; rules
 * read its buffers (buffers.ts) and alerts and the EVE record show it (log.ts).
 */
export class TlsTransaction implements AppTransaction {
  readonly id = 0;
  clientFormat: SideFormat | null = null;
  serverFormat: SideFormat | null = null;
  /** The client's first ClientHello (a HelloRetryRequest's second one changes nothing, as in Suricata). */
  clientHello: ClientHello | null = null;
  /** The SNI host name as Suricata accepts it: the first server_name entry, 1 to 255 bytes of type host_name. */
  sni: Uint8Array | null = null;
  ja3: Fingerprint | null = null;
  /** The client's version: supported_versions' first valid entry, else the hello's version field. */
  clientVersion: number | null = null;
  /** The ClientHello offered a session ticket (resumption is confirmed by the server sending no certificate). */
  clientTicket = false;
  /** The server's ServerHello: the real one when a HelloRetryRequest came first. */
  serverHello: ServerHello | null = null;
  ja3s: Fingerprint | null = null;
  /** The version of the server's first TLS record, for a server that never sent a ServerHello. */
  serverRecordVersion: number | null = null;
  serverCerts: CertificateChain | null = null;
  clientCerts: CertificateChain | null = null;
  /** The client's first SSLv2-format record (SSLv2 or PCT CLIENT-HELLO), parsed with its flight once the flight is over. */
  legacyClientHello: LegacyParsed | null = null;
  /** Bytes the client sent after that record before the server's first byte (final once `flightDecided`). */
  flightBytes = 0;
  flightDecided = false;
  /** The client's SSLv2 CLIENT-MASTER-KEY. */
  legacyMasterKey: LegacyParsed | null = null;
  /** The server's first SSLv2-format record (SSLv2 SERVER-HELLO or ERROR, PCT SERVER_HELLO or ERROR). */
  legacyServer: LegacyParsed | null = null;
  /** The first SSLv2 ERROR either side sent. */
  sslv2Error: { code: number; dir: number } | null = null;
  /** The server sent a CertificateRequest: the handshake is done once the client's certificate phase is. */
  clientCertRequested = false;
  private readonly cache = new Map<string, Uint8Array | null>();

  /** Something was read: the transaction exists for rules and logs. */
  get seen(): boolean {
    return this.clientHello !== null || this.serverHello !== null || this.legacyClientHello !== null || this.legacyServer !== null || this.serverCerts !== null || this.clientCerts !== null;
  }

  /** The session changed a field: buffers are computed again. */
  changed(): void {
    this.cache.clear();
  }

  /**
   * The version the server speaks, as Suricata keeps it (server_connp.version): the ServerHello's
   * (supported_versions when present), else SSLv2 (0x0002) for a server speaking SSLv2's
   * format, PCT's version for a PCT server, else its first TLS record's version, else 0.
   */
  serverVersion(): number {
    if (this.serverHello !== null) return negotiatedVersion(this.serverHello);
    const legacy = this.legacyServer;
    if (legacy !== null) {
      if (legacy.format === 'sslv2') return Version.SSL2;
      return legacy.message.type === 'server_hello' && 'restartOk' in legacy.message ? legacy.message.version : PCT_VERSION_1;
    }
    return this.serverRecordVersion ?? 0;
  }

  /** Suricata's session_resumed: the server echoed the client's session id or the client offered a ticket, and no certificate came (never for TLS 1.3). */
  get sessionResumed(): boolean {
    const c = this.clientHello;
    const s = this.serverHello;
    if (c === null || s === null || s.helloRetryRequest || this.serverCerts?.first != null) return false;
    const v = negotiatedVersion(s);
    if (v === TLS13 || v >>> 8 === 0x7f) return false;
    const echoed = c.sessionId.length > 0 && Buffer.compare(Buffer.from(c.sessionId), Buffer.from(s.sessionId)) === 0;
    return echoed || this.clientTicket;
  }

  buffer(name: string, _side: number): Uint8Array | null {
    if (!this.cache.has(name)) this.cache.set(name, txBuffer(this, name));
    return this.cache.get(name) ?? null;
  }

  buffers(name: string, _side: number): readonly Uint8Array[] | null {
    return txBuffers(this, name);
  }

  alertMetadata(): Record<string, unknown> {
    return { tls: tlsRecord(this, { alert: true }) };
  }

  /** Drops the certificates' bytes: once logged and inspected, nothing reads them. */
  release(): void {
    if (this.serverCerts !== null) this.serverCerts.ders = [];
    if (this.clientCerts !== null) this.clientCerts.ders = [];
    this.changed();
  }
}

/** Where a TLS record stream's records go. */
interface RecordSink {
  /** Whether the body of a record of this type is read (else it is passed over without being held). */
  wants(type: number): boolean;
  /** A record: its body when wanted (a view: copy what you keep), else null; `length` either way. */
  record(type: number, version: number, body: Uint8Array | null, length: number): void;
  /** A header that cannot be TLS: nothing more is read from this side. */
  error(e: TlsRecordError): void;
}

/**
 * One direction's TLS records as bytes arrive. Headers are checked as they come; a body is held
 * only when the session reads it (cleartext handshake, alert and heartbeat records), so bulk
 * application data is passed over without a copy. At most one record is held: 5 + 18432 bytes.
 */
class TlsRecordStream {
  private readonly header = new Uint8Array(TLS_RECORD_HEADER);
  private headerHave = 0;
  private type = 0;
  private version = 0;
  private length = 0;
  /** Body bytes still to pass over, of a record whose body is not read. */
  private skip = 0;
  /** The body being gathered, of a record whose body is read. */
  private body: Uint8Array | null = null;
  private bodyHave = 0;
  stopped = false;

  constructor(private readonly sink: RecordSink) {}

  /** Bytes held: a partial header, or the body of a record being gathered. */
  get buffered(): number {
    return this.headerHave + (this.body?.length ?? 0);
  }

  /** Feeds `buf[off, end)`; returns how many records began in it (for too_many_records_in_packet). */
  push(buf: Uint8Array, off: number, end: number): number {
    let records = 0;
    while (off < end && !this.stopped) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, end - off);
        this.skip -= n;
        off += n;
        continue;
      }
      if (this.body !== null) {
        const n = Math.min(this.length - this.bodyHave, end - off);
        this.body.set(buf.subarray(off, off + n), this.bodyHave);
        this.bodyHave += n;
        off += n;
        if (this.bodyHave === this.length) {
          const body = this.body;
          this.body = null;
          this.sink.record(this.type, this.version, body, this.length);
        }
        continue;
      }
      const n = Math.min(TLS_RECORD_HEADER - this.headerHave, end - off);
      this.header.set(buf.subarray(off, off + n), this.headerHave);
      this.headerHave += n;
      off += n;
      if (this.headerHave < TLS_RECORD_HEADER) break;
      this.headerHave = 0;
      const check = splitTlsRecords(this.header);
      if (check.error !== null) {
        this.stopped = true;
        this.sink.error(check.error);
        break;
      }
      records++;
      this.type = this.header[0]!;
      this.version = (this.header[1]! << 8) | this.header[2]!;
      this.length = (this.header[3]! << 8) | this.header[4]!;
      if (!this.sink.wants(this.type)) {
        this.skip = this.length;
        this.sink.record(this.type, this.version, null, this.length);
      } else if (end - off >= this.length) {
        this.sink.record(this.type, this.version, buf.subarray(off, off + this.length), this.length);
        off += this.length;
      } else {
        // Exactly the record's size: the header's 14 bits and TLS_MAX_RECORD bound it.
        this.body = new Uint8Array(this.length);
        this.bodyHave = 0;
      }
    }
    return records;
  }
}

/**
 * One direction's SSLv2/PCT records as bytes arrive, one record held at a time: at most
 * 2 + 0x7fff bytes, the largest length 2-byte headers' 15 bits can declare. Records handed on own their bytes. `onRecord` returns false to stop
 * reading records here (the side's format changes after it); push then returns where it stopped.
 */
class LegacyRecordStream {
  private held: Uint8Array = new Uint8Array(3);
  private heldLen = 0;
  stopped = false;

  constructor(
    private readonly onRecord: (r: LegacyRecord) => boolean,
    private readonly onError: () => void,
  ) {}

  /** Bytes held for the record being gathered. */
  get buffered(): number {
    return this.held.length;
  }

  push(buf: Uint8Array, off: number, end: number): number {
    while (off < end && !this.stopped) {
      if (this.heldLen === 0) {
        const h = legacyHeader(buf, off, end);
        if (h !== null && !this.valid(buf, off, h.headerLength)) return end;
        if (h !== null && end - off >= h.headerLength + h.length) {
          const total = h.headerLength + h.length;
          const own = buf.slice(off, off + total);
          off += total;
          if (!this.onRecord({ offset: 0, header: h, body: own.subarray(h.headerLength) })) return off;
          continue;
        }
      }
      // Top up the held record: its header first, then exactly its body.
      const h = legacyHeader(this.held, 0, this.heldLen);
      const want = h !== null ? h.headerLength + h.length - this.heldLen : this.heldLen > 0 && (this.held[0]! & 0x80) === 0 ? 3 - this.heldLen : 2 - this.heldLen;
      const n = Math.min(want, end - off);
      this.held.set(buf.subarray(off, off + n), this.heldLen);
      this.heldLen += n;
      off += n;
      const now = h ?? legacyHeader(this.held, 0, this.heldLen);
      if (now === null) continue;
      const total = now.headerLength + now.length;
      if (h === null) {
        if (!this.valid(this.held, 0, now.headerLength)) return end;
        const grown = new Uint8Array(total);
        grown.set(this.held.subarray(0, this.heldLen));
        this.held = grown;
      }
      if (this.heldLen < total) continue;
      const own = this.held;
      this.held = new Uint8Array(3);
      this.heldLen = 0;
      if (!this.onRecord({ offset: 0, header: now, body: own.subarray(now.headerLength, total) })) return off;
    }
    return off;
  }

  /** Whether the header at `off` can start a record (not empty, padding within it). */
  private valid(buf: Uint8Array, off: number, headerLength: number): boolean {
    if (splitLegacyRecords(buf, off, off + headerLength).error === null) return true;
    this.stopped = true;
    this.onError();
    return false;
  }
}

/** The bytes recordFormat needs to decide every format it knows. */
const FORMAT_BYTES = 5;

/** One side of the flow. */
class Side {
  mode: 'detect' | 'tls' | 'legacy' | 'stopped' = 'detect';
  readonly head = new Uint8Array(FORMAT_BYTES);
  headLen = 0;
  tls: TlsRecordStream | null = null;
  legacy: LegacyRecordStream | null = null;
  readonly handshake = new HandshakeReader();
  /** Handshake records from this side are encrypted (its ChangeCipherSpec, outside TLS 1.3). */
  handshakeEncrypted = false;
  /** This side sent a ChangeCipherSpec. */
  ccs = false;
  /** SSLv2/PCT records parsed from this side. */
  legacyRecords = 0;
  /** Every byte this side sent (gaps included): the flight is measured in it. */
  fed = 0;
  /** From this side's first byte until the peer's next: its flight is still going. */
  flightOpen = false;
  /** `fed` when the flight ended. */
  flightEnd = 0;
  started = false;
  /** The side finished (FIN, a gap, or its stream stopped being readable). */
  ended = false;
  /** Its side of the transaction was handed to rules. */
  inspected = false;
  /** The client's last cleartext handshake step is over: its certificate (when asked for one), or SSLv2's CLIENT-MASTER-KEY. */
  certPhaseDone = false;
}

/** Certificate problems (cert.ts's words) as Suricata's x509 decoding events name them. */
function certificateEvent(problem: string): TlsEventName {
  if (/serial/.test(problem)) return 'certificate_invalid_serial';
  if (/signature algorithm/.test(problem)) return 'certificate_invalid_algorithmidentifier';
  if (/validity|time/.test(problem)) return 'certificate_invalid_date';
  if (/issuer|subject|name|RDN|attribute/.test(problem)) return 'certificate_invalid_x509name';
  return 'certificate_invalid_der';
}

/** Hello anomalies Suricata reports as a handshake field that runs past its message. */
const LENGTH_ANOMALIES = new Set(['hello_truncated', 'session_id_too_long', 'cipher_suites_length_odd', 'extensions_length_overrun']);

/** Suricata's SupportedHandshakeType: any other type in the clear is an invalid handshake message. */
const KNOWN_HANDSHAKE_TYPES = new Set<number>([
  HandshakeType.HELLO_REQUEST,
  HandshakeType.CLIENT_HELLO,
  HandshakeType.SERVER_HELLO,
  HandshakeType.NEW_SESSION_TICKET,
  HandshakeType.CERTIFICATE,
  HandshakeType.SERVER_KEY_EXCHANGE,
  HandshakeType.CERTIFICATE_REQUEST,
  HandshakeType.SERVER_HELLO_DONE,
  HandshakeType.CERTIFICATE_VERIFY,
  HandshakeType.CLIENT_KEY_EXCHANGE,
  HandshakeType.FINISHED,
  HandshakeType.CERTIFICATE_URL,
  HandshakeType.CERTIFICATE_STATUS,
]);

/** Longest host name Suricata keeps as SNI (a DNS name's limit). */
const MAX_SNI = 255;

/**
 * The SNI of the first server_name extension as Suricata's TLSDecodeHSHelloExtensionSni reads
 * it (only the first entry, which must be a host_name of 1 to 255 bytes), and the events it
 * raises on the way.
 */
function sniOf(hello: ClientHello): { sni: Uint8Array | null; events: TlsEventName[] } {
  const exts = hello.extensions.filter((e) => e.type === ExtensionType.SERVER_NAME);
  const events: TlsEventName[] = exts.length > 1 ? ['multiple_sni_extensions'] : [];
  const first = exts[0];
  if (first === undefined || first.data.length === 0) return { sni: null, events };
  const c = new Cursor(first.data);
  c.skip(2); // the list's length, which Suricata does not check
  const type = c.u8();
  if (c.short) return { sni: null, events: [...events, 'handshake_invalid_length'] };
  if (type !== 0) return { sni: null, events: [...events, 'invalid_sni_type'] };
  const length = c.u16();
  if (c.short) return { sni: null, events: [...events, 'handshake_invalid_length'] };
  if (length === 0 || length > MAX_SNI || length > c.left) return { sni: null, events: [...events, 'invalid_sni_length'] };
  return { sni: c.bytes(length).slice(), events };
}

/** The client's version as Suricata keeps it: supported_versions' first valid entry, else the hello's field. */
function clientVersionOf(hello: ClientHello): number {
  return hello.supportedVersions.find(validTlsVersion) ?? hello.version;
}

/**
 * Each event is raised at most once per side of a flow: the names are a fixed, short list, so
 * what one flow can write stays bounded however hostile its bytes.
 */
const eventKey = (dir: number, name: string): string => `${dir}:${name}`;

export class TlsSession implements AppSession {
  readonly tx = new TlsTransaction();
  private readonly sides: [Side, Side] = [new Side(), new Side()];
  private readonly raised = new Set<string>();
  /** A ChangeCipherSpec from either side: heartbeats are encrypted from then on (Suricata's flag is per flow). */
  private anyCcs = false;
  /** A heartbeat request is waiting for its response: who sent it, and its (encrypted) record's length. */
  private heartbeat: { from: number; length: number } | null = null;
  /** The client's first SSLv2-format record, kept until its flight is measured. */
  private firstRecord: LegacyRecord | null = null;
  /** Where that record ends in the client's stream. */
  private firstRecordEnd = 0;
  /** The rest of the flight already outgrew that record (so the flight anomaly is certain). */
  private flightTooLong = false;
  /** The server answered an SSLv2 hello with a SERVER-HELLO: the handshake is done with the client's next record. */
  private awaitMasterKey = false;
  private serverDone = false;
  private logged = false;

  constructor(private readonly out: AppOutput) {}

  /**
   * Bytes this flow holds: partial records and handshake messages, the client's first
   * SSLv2-format record until its flight is measured, and the certificates until the
   * transaction is logged and inspected. Each part has its cap (see the classes above).
   */
  get buffered(): number {
    let n = this.firstRecord === null ? 0 : this.firstRecord.body.length + this.firstRecord.header.headerLength;
    for (const side of this.sides) n += side.headLen + side.handshake.pending + (side.tls?.buffered ?? 0) + (side.legacy?.buffered ?? 0);
    for (const chain of [this.tx.serverCerts, this.tx.clientCerts]) for (const der of chain?.ders ?? []) n += der.length;
    return n;
  }

  data(dir: number, buf: Uint8Array, off: number, len: number): void {
    const d = dir === 0 ? 0 : 1;
    if (len <= 0) return;
    this.flightOver(1 - d);
    const side = this.sides[d];
    if (!side.started) {
      side.started = true;
      side.flightOpen = true;
    }
    side.fed += len;
    this.feed(d, buf, off, off + len);
    if (d === 0) this.checkFlight();
  }

  gap(dir: number, len: number): void {
    const d = dir === 0 ? 0 : 1;
    const side = this.sides[d];
    side.fed += Math.max(0, len);
    if (d === 0) this.checkFlight();
    // Records cannot be found again after a hole: the side is no longer read.
    this.stopSide(d);
  }

  end(dir: number): void {
    const d = dir === 0 ? 0 : 1;
    this.flightOver(d);
    this.stopSide(d);
    if (this.sides[0].ended && this.sides[1].ended) this.finish();
  }

  close(): void {
    this.flightOver(0);
    this.flightOver(1);
    this.finish();
  }

  // -------------------------------------------------------------------------------------------
  // Format, then records

  private feed(d: 0 | 1, buf: Uint8Array, off: number, end: number): void {
    const side = this.sides[d];
    while (off < end) {
      switch (side.mode) {
        case 'stopped':
          return;
        case 'detect': {
          const n = Math.min(FORMAT_BYTES - side.headLen, end - off);
          side.head.set(buf.subarray(off, off + n), side.headLen);
          side.headLen += n;
          off += n;
          let format = recordFormat(side.head.subarray(0, side.headLen));
          if (format === 'more' && side.headLen < FORMAT_BYTES) continue;
          if (format === 'more') format = 'unknown'; // cannot happen with FORMAT_BYTES; never wait forever
          const head = side.head.slice(0, side.headLen);
          side.headLen = 0;
          this.startFormat(d, format, head[0]!);
          this.feed(d, head, 0, head.length);
          continue;
        }
        case 'tls': {
          const records = side.tls!.push(buf, off, end);
          // Suricata's check: records are at least 6 bytes (SSL_RECORD_MINIMUM_LENGTH), so more than that many per delivery are empty ones.
          if (records > Math.max(Math.floor((end - off) / 6), 1)) this.event(d, 'too_many_records_in_packet');
          if (side.tls!.stopped) this.stopSide(d);
          return;
        }
        case 'legacy':
          off = side.legacy!.push(buf, off, end);
          if (side.legacy!.stopped && side.mode === 'legacy') this.stopSide(d);
          continue;
      }
    }
  }

  /** A side's format is known from its first bytes (or, after an SSLv2-compatible hello, its next ones). */
  private startFormat(d: 0 | 1, format: 'tls' | 'sslv2' | 'pct' | 'unknown', firstByte: number): void {
    const side = this.sides[d];
    const initial = side.tls === null && side.legacy === null;
    if (initial) {
      if (d === 0) this.tx.clientFormat = format;
      else this.tx.serverFormat = format;
      this.tx.changed();
    }
    // Neither format: a clear top bit is read as TLS and a set one as SSLv2, so the record layer names what is wrong.
    if (format === 'tls' || (format === 'unknown' && (firstByte & 0x80) === 0)) {
      side.mode = 'tls';
      side.tls = new TlsRecordStream(this.recordSink(d));
    } else {
      side.mode = 'legacy';
      side.legacy = new LegacyRecordStream(
        (r) => this.legacyRecord(d, r),
        () => {
          this.event(d, 'invalid_sslv2_header');
          this.stopSide(d);
        },
      );
    }
  }

  private stopSide(d: 0 | 1): void {
    const side = this.sides[d];
    side.mode = 'stopped';
    side.ended = true;
    if (d === 1) this.serverComplete();
    else this.clientCertPhaseOver();
  }

  // -------------------------------------------------------------------------------------------
  // TLS

  private recordSink(d: 0 | 1): RecordSink {
    const side = this.sides[d];
    return {
      wants: (type) => {
        if (type === ContentType.HANDSHAKE) return !side.handshakeEncrypted && side.handshake.error === null;
        if (type === ContentType.ALERT) return !side.ccs;
        if (type === ContentType.HEARTBEAT) return !this.anyCcs;
        return false;
      },
      record: (type, version, body, length) => this.tlsRecord(d, type, version, body, length),
      error: (e) => {
        this.event(d, e === 'record_type_unknown' ? 'invalid_record_type' : e === 'record_version_invalid' ? 'invalid_record_version' : 'invalid_record_length');
      },
    };
  }

  private tlsRecord(d: 0 | 1, type: number, version: number, body: Uint8Array | null, length: number): void {
    const side = this.sides[d];
    if (d === 1 && this.tx.serverRecordVersion === null) {
      this.tx.serverRecordVersion = version;
      this.tx.changed();
    }
    if (length === 0) this.event(d, 'invalid_record_length'); // Suricata: a record is never empty
    switch (type) {
      case ContentType.HANDSHAKE: {
        if (body === null) return; // encrypted
        if (length < 4) this.event(d, 'invalid_ssl_record');
        const messages = side.handshake.push(body);
        if (side.handshake.error !== null) this.event(d, 'handshake_invalid_length');
        for (const m of messages) this.handshakeMessage(d, m);
        return;
      }
      case ContentType.CHANGE_CIPHER_SPEC:
        side.ccs = true;
        this.anyCcs = true;
        if (!this.tls13Handshake()) side.handshakeEncrypted = true;
        this.nonHandshake(d, false);
        return;
      case ContentType.ALERT:
        if (body !== null && length < 2) this.event(d, 'invalid_alert_message');
        this.nonHandshake(d, true);
        return;
      case ContentType.HEARTBEAT:
        this.heartbeatRecord(d, body, length);
        this.nonHandshake(d, false);
        return;
      default:
        this.nonHandshake(d, false);
    }
  }

  /**
   * Whether handshake records stay in the clear after a ChangeCipherSpec: in TLS 1.3 the
   * ChangeCipherSpec is only for middleboxes (RFC 8446 D.4) and encrypted records are
   * application data, so a cleartext handshake record (the second ClientHello after a
   * HelloRetryRequest, the real ServerHello) is still one.
   */
  private tls13Handshake(): boolean {
    const s = this.tx.serverHello;
    if (s !== null) return s.helloRetryRequest || negotiatedVersion(s) === TLS13 || negotiatedVersion(s) >>> 8 === 0x7f;
    return (this.tx.clientHello?.supportedVersions ?? []).some((v) => v === TLS13 || v >>> 8 === 0x7f);
  }

  /** A record other than handshake: after a ServerHello (or as an alert) the server's handshake is as done as it will be in the clear. */
  private nonHandshake(d: 0 | 1, alert: boolean): void {
    if (d === 1) {
      const s = this.tx.serverHello;
      if ((s !== null && !s.helloRetryRequest) || alert) this.serverComplete();
    } else if (this.tx.clientHello !== null) {
      this.clientCertPhaseOver();
    }
  }

  /** Heartbeat checks as Suricata's SSLv3ParseHeartbeatProtocol makes them (CVE-2014-0160). */
  private heartbeatRecord(d: 0 | 1, body: Uint8Array | null, length: number): void {
    const cleartext = !this.anyCcs;
    if (cleartext && (body === null || body.length < 3)) return;
    if (cleartext && body![0] !== 1 && body![0] !== 2) {
      this.event(d, 'invalid_heartbeat_message');
      return;
    }
    const hb = this.heartbeat;
    if (hb === null) {
      this.heartbeat = { from: d, length: cleartext ? 0 : length };
      if (!cleartext) return;
      const payload = (body![1]! << 8) | body![2]!;
      if (payload + 3 > length) this.event(d, 'overflow_heartbeat_message');
      else if (length - payload - 3 < 16) this.event(d, 'invalid_heartbeat_message'); // RFC 6520 §4: at least 16 bytes of padding
    } else if (hb.from === d) {
      this.event(d, 'invalid_heartbeat_message'); // a second request before the response
    } else {
      this.heartbeat = null;
      // An encrypted response longer than its request: the server answered with more than it was sent.
      if (!cleartext && hb.length > 0 && hb.length < length) this.event(d, 'dataleak_heartbeat_mismatch');
    }
  }

  private handshakeMessage(d: 0 | 1, m: HandshakeMessage): void {
    if (!KNOWN_HANDSHAKE_TYPES.has(m.type)) {
      this.event(d, 'invalid_handshake_message');
      return;
    }
    const tx = this.tx;
    switch (m.type) {
      case HandshakeType.CLIENT_HELLO: {
        if (d !== 0 || tx.clientHello !== null) return;
        const hello = parseClientHello(m.body);
        if (hello.anomalies.some((a) => LENGTH_ANOMALIES.has(a))) this.event(0, 'handshake_invalid_length');
        const sni = sniOf(hello);
        for (const e of sni.events) this.event(0, e);
        tx.clientHello = hello;
        tx.sni = sni.sni;
        tx.ja3 = ja3(hello);
        tx.clientVersion = clientVersionOf(hello);
        tx.clientTicket = hello.extensions.some((e) => e.type === ExtensionType.SESSION_TICKET);
        tx.changed();
        this.inspectClient();
        return;
      }
      case HandshakeType.SERVER_HELLO: {
        if (d !== 1) return;
        const hello = parseServerHello(m.body);
        if (tx.serverHello !== null && !(tx.serverHello.helloRetryRequest && !hello.helloRetryRequest)) return;
        if (hello.anomalies.some((a) => LENGTH_ANOMALIES.has(a))) this.event(1, 'handshake_invalid_length');
        tx.serverHello = hello;
        tx.ja3s = ja3s(hello);
        tx.changed();
        return;
      }
      case HandshakeType.CERTIFICATE: {
        if ((d === 1 ? tx.serverCerts : tx.clientCerts) !== null) return; // Suricata keeps the first message (a renegotiation resends the same)
        const parsed = parseCertificateMessage(m.body);
        if (parsed.anomalies.some((a) => a !== 'trailing_bytes')) this.event(d, 'invalid_certificate');
        const chain = this.chain(d, parsed.certificates);
        if (d === 1) tx.serverCerts = chain;
        else {
          tx.clientCerts = chain;
          this.clientCertPhaseOver();
        }
        tx.changed();
        return;
      }
      case HandshakeType.CERTIFICATE_REQUEST:
        if (d === 1) tx.clientCertRequested = true;
        return;
      case HandshakeType.SERVER_HELLO_DONE:
        if (d === 1) this.serverComplete();
        return;
    }
  }

  /** A certificate list, its first certificate read for the record's fields. */
  private chain(d: 0 | 1, ders: Uint8Array[]): CertificateChain {
    const der = ders[0];
    if (der === undefined) return { ders, first: null, sans: [] };
    const info = certificateInfo(der);
    if (info.problem !== null) {
      this.event(d, certificateEvent(info.problem));
      return { ders, first: null, sans: [] };
    }
    return { ders, first: info, sans: subjectAltNames(der) };
  }

  // -------------------------------------------------------------------------------------------
  // SSLv2 and PCT

  /** One SSLv2-format record; false stops reading this side's records as SSLv2 (TLS follows). */
  private legacyRecord(d: 0 | 1, r: LegacyRecord): boolean {
    const side = this.sides[d];
    const n = side.legacyRecords++;
    const tx = this.tx;
    if (d === 1) {
      if (n > 0) return this.encrypted(d);
      const parsed = parseLegacyRecord(r);
      this.legacyEvents(1, parsed);
      tx.legacyServer = parsed;
      const m = parsed.message;
      const certificate = m.type === 'server_hello' ? ('certificateType' in m ? (m.certificateType === 1 ? m.certificate : null) : m.certificate) : null;
      if (certificate !== null && certificate.length > 0) tx.serverCerts = this.chain(1, [certificate]);
      tx.changed();
      // An SSLv2 handshake goes on with the client's CLIENT-MASTER-KEY: the record waits for it.
      if (parsed.format === 'sslv2' && m.type === 'server_hello' && tx.legacyClientHello !== null) this.awaitMasterKey = true;
      this.serverComplete();
      return this.encrypted(d);
    }
    if (n === 0) {
      this.firstRecord = r;
      // A side's first record starts its stream (the format is read from its first bytes).
      this.firstRecordEnd = r.header.headerLength + r.header.length;
      const parsed = parseLegacyRecord(r);
      this.legacyEvents(0, parsed);
      tx.legacyClientHello = parsed;
      const m = parsed.message;
      if (m.type === 'client_hello') tx.clientVersion = m.version;
      tx.changed();
      this.checkFlight();
      this.inspectClient();
      // An SSLv3/TLS client's compatible hello: what it sends next may be TLS records.
      if (parsed.format === 'sslv2' && m.type === 'client_hello' && m.version >>> 8 === 3) {
        side.mode = 'detect';
        return false;
      }
      return true;
    }
    if (n === 1 && tx.legacyMasterKey === null) {
      const parsed = parseLegacyRecord(r);
      // SSLv2's CLIENT-MASTER-KEY (PCT's is type 3): after it, every record is encrypted.
      if (parsed.format === 'sslv2' && (parsed.message.type === 'client_master_key' || parsed.message.type === 'error')) {
        this.legacyEvents(0, parsed);
        if (parsed.message.type === 'client_master_key') tx.legacyMasterKey = parsed;
        tx.changed();
      }
    }
    this.encrypted(d);
    this.clientCertPhaseOver();
    return false;
  }

  /** The cleartext part of an SSLv2/PCT side is over: later records are encrypted and not read. */
  private encrypted(d: 0 | 1): boolean {
    const side = this.sides[d];
    side.legacy!.stopped = true;
    side.mode = 'stopped';
    return false;
  }

  /** Structural anomalies of an SSLv2/PCT message as `sslv2_<name>` / `pct_<name>` events, and Suricata's where it has one. */
  private legacyEvents(d: 0 | 1, parsed: LegacyParsed): void {
    for (const a of parsed.anomalies) this.event(d, `${parsed.format}_${a}`);
    const m = parsed.message;
    if (parsed.format === 'sslv2' && m.type === 'error') {
      this.event(d, 'error_message_encountered');
      if (this.tx.sslv2Error === null && 'code' in m) this.tx.sslv2Error = { code: m.code, dir: d };
    }
    // Suricata: an SSLv2 CLIENT-HELLO too short for its fixed fields is an invalid record.
    if (parsed.format === 'sslv2' && m.type === 'client_hello' && parsed.anomalies.includes('record_too_short')) this.event(d, 'invalid_ssl_record');
  }

  /** The client's first flight is over (the server spoke, or the client finished): its length is final. */
  private flightOver(d: number): void {
    const side = this.sides[d === 0 ? 0 : 1];
    if (!side.flightOpen) return;
    side.flightOpen = false;
    side.flightEnd = side.fed;
    if (d === 0) this.decideFlight();
  }

  /**
   * Raises the flight anomaly as soon as the flight is certainly too long, without waiting for
   * the server; the count itself runs on until the flight ends.
   */
  private checkFlight(): void {
    const r = this.firstRecord;
    if (r === null) return;
    if (!this.sides[0].flightOpen) this.decideFlight();
    else if (!this.flightTooLong && this.sides[0].fed - this.firstRecordEnd > r.header.headerLength + r.header.length) {
      this.flightTooLong = true; // parsed once here, once more when the flight ends: not for every chunk in between
      this.measureFlight(r);
    }
  }

  /** The client's flight as far as it goes: its first SSLv2-format record parsed again with the bytes after it. */
  private measureFlight(r: LegacyRecord): void {
    const client = this.sides[0];
    const flightBytes = Math.max(0, (client.flightOpen ? client.fed : client.flightEnd) - this.firstRecordEnd);
    const before = new Set(this.tx.legacyClientHello?.anomalies ?? []);
    const parsed = parseLegacyRecord(r, { flightBytes });
    for (const a of parsed.anomalies) if (!before.has(a)) this.event(0, `${parsed.format}_${a}`);
    this.tx.legacyClientHello = parsed;
    this.tx.flightBytes = flightBytes;
    this.tx.changed();
  }

  /** The flight is over: its length is final, and the record is not needed any more. */
  private decideFlight(): void {
    const r = this.firstRecord;
    if (r === null) return;
    this.firstRecord = null;
    this.measureFlight(r);
    this.tx.flightDecided = true;
  }

  // -------------------------------------------------------------------------------------------
  // Inspection and the record

  private inspectClient(): void {
    const side = this.sides[0];
    if (side.inspected) return;
    side.inspected = true;
    this.out.inspect(this.tx, 0);
  }

  private clientCertPhaseOver(): void {
    const side = this.sides[0];
    if (side.certPhaseDone) return;
    side.certPhaseDone = true;
    this.maybeLog();
  }

  /** The server's hello and certificates are as complete as they will be: its side goes to rules, and the record may be written. */
  private serverComplete(): void {
    if (this.serverDone) return;
    this.serverDone = true;
    const side = this.sides[1];
    if (this.tx.seen && !side.inspected) {
      side.inspected = true;
      this.out.inspect(this.tx, 1);
    }
    this.maybeLog();
  }

  /** Writes the record once the handshake is done: the server's side, and the client's certificate (or SSLv2 master key) when one is to come. */
  private maybeLog(): void {
    if (this.logged || !this.serverDone || !this.tx.seen) return;
    if ((this.tx.clientCertRequested || this.awaitMasterKey) && !this.sides[0].certPhaseDone) return;
    this.write();
  }

  private write(): void {
    if (this.logged) return;
    this.logged = true;
    this.decideFlight();
    this.out.record('tls', tlsRecord(this.tx) as unknown as Record<string, unknown>, 0, this.tx.id);
    if (this.sides[0].inspected && this.sides[1].inspected) this.tx.release();
  }

  /** The flow (or both sides) ended: inspect what was not inspected, and log. */
  private finish(): void {
    this.decideFlight();
    if (this.tx.seen && !this.sides[0].inspected) this.inspectClient();
    this.serverComplete();
    if (!this.logged && this.tx.seen) this.write();
    if (this.tx.seen) this.tx.release();
    this.sides[0].mode = this.sides[1].mode = 'stopped';
  }

  private event(d: number, name: string): void {
    const key = eventKey(d, name);
    if (this.raised.has(key)) return;
    this.raised.add(key);
    this.out.anomaly(name, d);
  }
}
