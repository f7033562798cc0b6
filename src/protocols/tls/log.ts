/**
 * The EVE `tls` object (its type and the meaning of every field: src/events/tls.ts), built from
 * a transaction: Suricata's fields in the order output-json-tls.c writes them with `extended:
 * yes` (JsonTlsLogFields), then Outpost's SSLv2 and PCT fields.
 */
import type { PctRecord, Sslv2Record, TlsClientCertRecord, TlsRecord } from '../../events/tls.js';
import { versionName } from './parse.js';
import type { ServerAnswer, TlsTransaction } from './session.js';

const hex = (v: number, digits: number): string => `0x${(v >>> 0).toString(16).padStart(digits, '0')}`;

const SSLV2_ERROR_NAMES: Readonly<Record<number, string>> = { 1: 'NO-CIPHER', 2: 'NO-CERTIFICATE', 4: 'BAD-CERTIFICATE', 6: 'UNSUPPORTED-CERTIFICATE-TYPE' };

/** Options: an alert's copy leaves out session_resumed, as Suricata's alert metadata (JsonTlsLogJSONExtended) does. */
export interface TlsRecordOptions {
  alert?: boolean;
}

/** The transaction's `tls` object as it stands. */
export function tlsRecord(tx: TlsTransaction, options: TlsRecordOptions = {}): TlsRecord {
  const cert = tx.serverCerts?.first ?? null;
  const sans = tx.serverCerts?.sans ?? [];
  const clientAlpns = (tx.clientHello?.alpn ?? []).filter((a) => a !== '');
  const serverAlpn = tx.serverHello?.alpn ?? '';
  const client = clientCert(tx);
  const sslv2 = sslv2Record(tx);
  const pct = pctRecord(tx);
  return {
    ...(cert?.subject != null ? { subject: cert.subject } : {}),
    ...(cert?.issuerdn != null ? { issuerdn: cert.issuerdn } : {}),
    ...(sans.length > 0 ? { subjectaltname: sans } : {}),
    ...(options.alert !== true && tx.sessionResumed ? { session_resumed: true } : {}),
    ...(cert?.serial != null ? { serial: cert.serial } : {}),
    ...(cert !== null ? { fingerprint: cert.fingerprint } : {}),
    ...(tx.sni !== null ? { sni: Buffer.from(tx.sni).toString('latin1') } : {}),
    version: versionName(tx.serverVersion()),
    ...(cert?.notbefore != null ? { notbefore: cert.notbefore } : {}),
    ...(cert?.notafter != null ? { notafter: cert.notafter } : {}),
    ...(tx.ja3 !== null ? { ja3: { hash: tx.ja3.hash, string: tx.ja3.string } } : {}),
    ...(tx.ja3s !== null ? { ja3s: { hash: tx.ja3s.hash, string: tx.ja3s.string } } : {}),
    ...(clientAlpns.length > 0 ? { client_alpns: clientAlpns } : {}),
    ...(serverAlpn !== '' ? { server_alpns: [serverAlpn] } : {}),
    ...(client !== null ? { client } : {}),
    ...(sslv2 !== null ? { sslv2 } : {}),
    ...(pct !== null ? { pct } : {}),
    ...(tx.legacyClientHello !== null ? { anomalies: [...tx.legacyClientHello.anomalies] } : {}),
  };
}

/** Suricata writes the client object only for a client certificate with a subject or an issuer. */
function clientCert(tx: TlsTransaction): TlsClientCertRecord | null {
  const c = tx.clientCerts?.first ?? null;
  if (c === null || (c.subject === null && c.issuerdn === null)) return null;
  return {
    ...(c.subject !== null ? { subject: c.subject } : {}),
    ...(c.issuerdn !== null ? { issuerdn: c.issuerdn } : {}),
    fingerprint: c.fingerprint,
    ...(c.serial !== null ? { serial: c.serial } : {}),
    ...(c.notbefore !== null ? { notbefore: c.notbefore } : {}),
    ...(c.notafter !== null ? { notafter: c.notafter } : {}),
  };
}

function sslv2Record(tx: TlsTransaction): Sslv2Record | null {
  const out: Sslv2Record = {};
  const c = tx.legacyClientHello;
  if (c !== null && c.format === 'sslv2' && c.message.type === 'client_hello' && 'cipherKinds' in c.message) {
    const m = c.message;
    out.client_hello = {
      version: hex(m.version, 4),
      record_length: c.header.length,
      flight_bytes: tx.flightBytes,
      cipher_spec_length: m.cipherSpecLength,
      session_id_length: m.sessionIdLength,
      challenge_length: m.challengeLength,
      cipher_kinds: m.cipherKinds.map((k) => hex(k, 6)),
    };
  }
  const s = tx.legacyServer;
  if (s !== null && s.format === 'sslv2' && s.message.type === 'server_hello' && 'certificateType' in s.message) {
    const m = s.message;
    out.server_hello = {
      version: hex(m.version, 4),
      session_id_hit: m.sessionIdHit,
      certificate_type: m.certificateType,
      certificate_length: m.certificate.length,
      cipher_kinds: m.cipherKinds.map((k) => hex(k, 6)),
      connection_id_length: m.connectionId.length,
      anomalies: [...s.anomalies],
    };
  }
  const k = tx.legacyMasterKey;
  if (k !== null && k.message.type === 'client_master_key') {
    const m = k.message;
    out.client_master_key = { cipher_kind: hex(m.cipherKind, 6), clear_key_length: m.clearKeyLength, encrypted_key_length: m.encryptedKeyLength, key_arg_length: m.keyArgLength, anomalies: [...k.anomalies] };
  }
  const e = tx.sslv2Error;
  if (e !== null) out.error = { code: e.code, name: SSLV2_ERROR_NAMES[e.code] ?? null, direction: e.dir === 0 ? 'to_server' : 'to_client' };
  return Object.keys(out).length > 0 ? out : null;
}

function pctRecord(tx: TlsTransaction): PctRecord | null {
  const c = tx.legacyClientHello;
  const s = tx.legacyServer;
  if (c === null && s?.format !== 'pct') return null;
  const offer = c?.pct ?? null;
  const out: PctRecord = {
    offered: offer?.offered ?? false,
    version: offer?.version != null ? hex(offer.version, 4) : null,
    routed: offer?.routed ?? false,
    native: c?.format === 'pct',
    server_answer: serverAnswer(tx),
  };
  if (c !== null && c.format === 'pct' && c.message.type === 'client_hello' && 'cipherSpecs' in c.message) {
    const m = c.message;
    out.client_hello = {
      version: hex(m.version, 4),
      record_length: c.header.length,
      flight_bytes: tx.flightBytes,
      cipher_specs: m.cipherSpecs.map((v) => hex(v, 8)),
      hash_specs: m.hashSpecs.map((v) => hex(v, 4)),
      cert_specs: m.certSpecs.map((v) => hex(v, 4)),
      exchange_specs: m.exchangeSpecs.map((v) => hex(v, 4)),
    };
  }
  if (s !== null && s.format === 'pct') {
    const m = s.message;
    if (m.type === 'server_hello' && 'restartOk' in m) {
      out.server_hello = {
        version: hex(m.version, 4),
        restart_ok: m.restartOk,
        client_auth_requested: m.clientAuthRequested,
        cipher_spec: hex(m.cipherSpec, 8),
        hash_spec: hex(m.hashSpec, 4),
        cert_spec: hex(m.certSpec, 4),
        exchange_spec: hex(m.exchangeSpec, 4),
        certificate_length: m.certificate.length,
        anomalies: [...s.anomalies],
      };
    } else if (m.type === 'error' && 'codeName' in m) {
      out.error = { code: m.code, name: m.codeName, anomalies: [...s.anomalies] };
    }
  }
  return out;
}

/** How the server answered an SSLv2-format client (DOMAIN.md §2's table). */
function serverAnswer(tx: TlsTransaction): ServerAnswer {
  const s = tx.legacyServer;
  if (s !== null) {
    const t = s.message.type;
    if (s.format === 'pct') return t === 'server_hello' ? 'pct_server_hello' : t === 'error' ? 'pct_error' : 'other';
    return t === 'server_hello' ? 'sslv2_server_hello' : t === 'error' ? 'sslv2_error' : 'other';
  }
  if (tx.serverFormat === null) return 'none';
  return tx.serverFormat === 'tls' ? 'tls' : 'other';
}
