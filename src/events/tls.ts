/**
 * The TLS record, as Suricata's output-json-tls.c writes it with the default configuration
 * (`extended: yes`, session resumption logged): one `tls` record per flow, written once the
 * server's side of the handshake is done (or the flow ends), reading from the flow's client
 * (Suricata's LOG_DIR_FLOW). Alerts on a TLS transaction carry the same object under `tls`.
 * After Suricata's fields come Outpost's own for SSL 2.0 and PCT 1.0 (`sslv2`, `pct`,
 * `anomalies`): what a client that opens in SSLv2's record format said, field by field, and
 * what is wrong with it. The MS04-011 detector reads these: "PCT offered" is `pct.offered` with
 * no `anomalies`; an exploit attempt is `pct.routed` with at least one.
 */
import type { EveCommon } from './types.js';

/** One TLS (or SSLv2, or PCT) connection's handshake: Suricata's `tls` record. */
export interface TlsEvent extends EveCommon {
  /** Always `tls`. */
  event_type: 'tls';
  /** Always 0: Suricata keeps one transaction per TLS flow. */
  tx_id: number;
  /** What the handshake showed. */
  tls: TlsRecord;
}

/** The `tls` object of a tls record (and of an alert on a TLS transaction). */
export interface TlsRecord {
  /** The server certificate's subject, RDNs in certificate order joined by ", " ("C=US, O=Example, CN=www.example.com"); absent when no certificate was read. */
  subject?: string;
  /** The server certificate's issuer, in the same form as `subject`. */
  issuerdn?: string;
  /** The server certificate's subject alternative names: DNS names and URIs as written, IP addresses as "[192, 0, 2, 1]" (as Suricata prints them); absent when it has none. */
  subjectaltname?: string[];
  /** True when the server resumed a session (its session id echoes the client's, or the client offered a ticket) and sent no certificate; absent otherwise. Never set for TLS 1.3. */
  session_resumed?: boolean;
  /** The server certificate's serial: the DER integer's bytes, uppercase hex joined by ":" ("00:9C:FC:DA"). */
  serial?: string;
  /** SHA-1 of the server certificate's DER, lowercase hex joined by ":". */
  fingerprint?: string;
  /** The host name the ClientHello's server_name extension asked for. */
  sni?: string;
  /**
   * The version the server speaks, in Suricata's words: "SSLv2", "SSLv3", "TLSv1", "TLS 1.1",
   * "TLS 1.2", "TLS 1.3", "TLS 1.3 draft-NN"; "UNDETERMINED" when the server sent nothing
   * readable; any other value as "0x" and four hex digits (a PCT 1.0 server is "0x8001").
   */
  version: string;
  /** The server certificate's notBefore, UTC, "2011-11-06T20:47:37". */
  notbefore?: string;
  /** The server certificate's notAfter, UTC, same form. */
  notafter?: string;
  /** The client's JA3 fingerprint (absent for SSLv2-format hellos and hellos cut short). */
  ja3?: TlsFingerprintRecord;
  /** The server's JA3S fingerprint. */
  ja3s?: TlsFingerprintRecord;
  /** The protocols the ClientHello's ALPN extension offered, in order ("h2", "http/1.1"). */
  client_alpns?: string[];
  /** The protocol the ServerHello's ALPN extension chose (a list of one). */
  server_alpns?: string[];
  /** The client's certificate, when it sent one the server asked for. */
  client?: TlsClientCertRecord;
  /** Outpost: what the client (and the server) said in SSL 2.0 records; present when either side spoke SSLv2's record format (the MS04-011 exploit does). */
  sslv2?: Sslv2Record;
  /** Outpost: PCT 1.0, offered inside an SSLv2 CLIENT-HELLO or spoken natively; present whenever the client opened with an SSLv2-format record, so that "PCT not offered" is stated. */
  pct?: PctRecord;
  /**
   * Outpost: the structural anomalies of the client's first SSLv2-format record (its SSLv2 or
   * PCT CLIENT-HELLO), by name: `session_id_length_invalid` (not 0 or 16),
   * `cipher_spec_length_not_multiple_of_3` (or `_of_4` for native PCT), `lengths_exceed_record`,
   * `lengths_short_of_record` (the declared lengths do not add up to the record),
   * `flight_longer_than_record` (the client sent more than the record's size again before the
   * server answered), `version_invalid`, `challenge_length_invalid`, `record_too_short`, ... An
   * empty list means well-formed; present with `pct`.
   */
  anomalies?: string[];
}

/** A JA3 or JA3S fingerprint. */
export interface TlsFingerprintRecord {
  /** MD5 of `string`, lowercase hex. */
  hash: string;
  /** The fingerprint's fields: decimal values joined by "-", fields by "," (GREASE values dropped). */
  string: string;
}

/** The client certificate of a mutually authenticated handshake (Suricata's `client` object). */
export interface TlsClientCertRecord {
  /** The client certificate's subject. */
  subject?: string;
  /** The client certificate's issuer. */
  issuerdn?: string;
  /** SHA-1 of its DER, lowercase hex joined by ":". */
  fingerprint?: string;
  /** Its serial, uppercase hex joined by ":". */
  serial?: string;
  /** Its notBefore, UTC. */
  notbefore?: string;
  /** Its notAfter, UTC. */
  notafter?: string;
}

/** Outpost: the SSL 2.0 messages of a connection, as far as they are sent in the clear. */
export interface Sslv2Record {
  /** The client's CLIENT-HELLO (SSL 2.0, or an SSLv3/TLS client's compatible hello, or a hello that only looks like one). */
  client_hello?: Sslv2ClientHelloRecord;
  /** The server's SERVER-HELLO. */
  server_hello?: Sslv2ServerHelloRecord;
  /** The client's CLIENT-MASTER-KEY (everything after it is encrypted). */
  client_master_key?: Sslv2MasterKeyRecord;
  /** The first SSLv2 ERROR message either side sent. */
  error?: Sslv2ErrorRecord;
}

/** Outpost: an SSLv2 CLIENT-HELLO, its lengths as declared (the exploit lies in them). */
export interface Sslv2ClientHelloRecord {
  /** The version field: "0x0002" for SSL 2.0, "0x0301" for a TLS 1.0 client's compatible hello; the public exploits send "0x02bd". */
  version: string;
  /** The record's length as its header declares it (body, without the header). */
  record_length: number;
  /** Bytes the client sent after this record before the server's first byte (the rest of its first flight). */
  flight_bytes: number;
  /** The declared cipher-spec length (a multiple of 3 when well-formed). */
  cipher_spec_length: number;
  /** The declared session-id length (0 or 16 when well-formed). */
  session_id_length: number;
  /** The declared challenge length (16 to 32 when well-formed). */
  challenge_length: number;
  /** The 3-byte cipher kinds present, in order, as "0x010080"; "0x8f8001" offers PCT 1.0. */
  cipher_kinds: string[];
}

/** Outpost: an SSLv2 SERVER-HELLO. */
export interface Sslv2ServerHelloRecord {
  /** The version field ("0x0002"). */
  version: string;
  /** Whether the server found the client's session in its cache (then it sends no cipher specs). */
  session_id_hit: boolean;
  /** The certificate type (1 is X.509: its fields then fill the record's subject, issuerdn, ...). */
  certificate_type: number;
  /** The certificate's length in bytes. */
  certificate_length: number;
  /** The cipher kinds the server accepts, as "0x010080". */
  cipher_kinds: string[];
  /** The connection id's length (16 to 32 when well-formed). */
  connection_id_length: number;
  /** Its structural anomalies (names as in the record's `anomalies`). */
  anomalies: string[];
}

/** Outpost: an SSLv2 CLIENT-MASTER-KEY. */
export interface Sslv2MasterKeyRecord {
  /** The cipher kind the client chose, as "0x010080". */
  cipher_kind: string;
  /** The clear part of the master key, in bytes. */
  clear_key_length: number;
  /** The encrypted part, in bytes. */
  encrypted_key_length: number;
  /** The key argument (IV), in bytes. */
  key_arg_length: number;
  /** Its structural anomalies. */
  anomalies: string[];
}

/** Outpost: an SSLv2 ERROR message (a server without PCT answers a PCT hello with NO-CIPHER). */
export interface Sslv2ErrorRecord {
  /** The error code: 1 NO-CIPHER, 2 NO-CERTIFICATE, 4 BAD-CERTIFICATE, 6 UNSUPPORTED-CERTIFICATE-TYPE. */
  code: number;
  /** The code's name, or null for a code SSL 2.0 does not define. */
  name: string | null;
  /** Which side sent it: `to_server` (the client) or `to_client` (the server). */
  direction: 'to_server' | 'to_client';
}

/**
 * Outpost: PCT 1.0 on the connection. A client offers PCT inside an SSLv2 CLIENT-HELLO with
 * the cipher kind 8F 80 01, or speaks it natively (version 80 01); a PCT-capable Schannel
 * server switches to PCT when the first kind starts with 8F and its next two bytes are at
 * least 0x8001 (`routed`), which is how the MS04-011 exploit reaches the vulnerable code.
 */
export interface PctRecord {
  /** The client offered PCT: a native PCT CLIENT_HELLO, or an SSLv2 cipher kind starting with 8F. */
  offered: boolean;
  /** The PCT version offered ("0x8001" for PCT 1.0), or null when PCT is not offered. */
  version: string | null;
  /** A PCT-capable Schannel server would switch to PCT for this hello (read from the bytes where the first kind sits, whatever the declared lengths say). */
  routed: boolean;
  /** The client spoke native PCT (a PCT CLIENT_HELLO), not SSLv2. */
  native: boolean;
  /**
   * How the server answered (DOMAIN.md §2): `pct_server_hello` (PCT is enabled), `pct_error`
   * (the PCT code is active; unpatched IIS answers ILLEGAL_MESSAGE), `sslv2_error` or
   * `sslv2_server_hello` (no PCT), `tls` (a TLS record: not PCT), `other` (records of neither
   * kind), `none` (the server sent nothing before the flow ended).
   */
  server_answer: 'pct_server_hello' | 'pct_error' | 'sslv2_server_hello' | 'sslv2_error' | 'tls' | 'other' | 'none';
  /** The native PCT CLIENT_HELLO. */
  client_hello?: PctClientHelloRecord;
  /** The server's PCT SERVER_HELLO. */
  server_hello?: PctServerHelloRecord;
  /** The server's PCT ERROR. */
  error?: PctErrorRecord;
}

/** Outpost: a native PCT 1.0 CLIENT_HELLO. */
export interface PctClientHelloRecord {
  /** The version field ("0x8001"). */
  version: string;
  /** The record's length as its header declares it (body, without the header). */
  record_length: number;
  /** Bytes the client sent after this record before the server's first byte. */
  flight_bytes: number;
  /** The 4-byte cipher specs, as "0x00048003". */
  cipher_specs: string[];
  /** The 2-byte hash specs, as "0x0001". */
  hash_specs: string[];
  /** The 2-byte certificate specs. */
  cert_specs: string[];
  /** The 2-byte key exchange specs. */
  exchange_specs: string[];
}

/** Outpost: a PCT 1.0 SERVER_HELLO (the server has PCT enabled). */
export interface PctServerHelloRecord {
  /** The version field ("0x8001"). */
  version: string;
  /** Whether the server accepts to restart the client's session. */
  restart_ok: boolean;
  /** Whether the server asks for a client certificate. */
  client_auth_requested: boolean;
  /** The cipher spec the server chose, as "0x00048003". */
  cipher_spec: string;
  /** The hash spec it chose, as "0x0001". */
  hash_spec: string;
  /** The certificate spec it chose. */
  cert_spec: string;
  /** The key exchange spec it chose. */
  exchange_spec: string;
  /** The server certificate's length in bytes (an X.509 one fills the record's subject, issuerdn, ...). */
  certificate_length: number;
  /** Its structural anomalies. */
  anomalies: string[];
}

/** Outpost: a PCT 1.0 ERROR message from the server. */
export interface PctErrorRecord {
  /** The error code: 1 BAD_CERTIFICATE, 2 CLIENT_AUTH_FAILED, 3 ILLEGAL_MESSAGE, 4 INTEGRITY_CHECK_FAILED, 5 SERVER_AUTH_FAILED, 6 SPECS_MISMATCH. */
  code: number;
  /** The code's name, or null for a code PCT 1.0 does not define. */
  name: string | null;
  /** Its structural anomalies. */
  anomalies: string[];
}
