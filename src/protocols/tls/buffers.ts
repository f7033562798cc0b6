/**
 * What rules may inspect on a TLS transaction, by the buffer names of src/rules/buffers.ts.
 * Strings are the record's (log.ts), as UTF-8 bytes; a buffer the handshake did not provide is
 * null, so no content matches it, negated or not.
 */
import type { TlsTransaction } from './session.js';

/** The buffers a TLS transaction fills. */
export const TLS_BUFFERS = [
  'tls.sni',
  'tls.cert_subject',
  'tls.cert_issuer',
  'tls.cert_serial',
  'tls.cert_fingerprint',
  'tls.certs',
  'ja3.hash',
  'ja3.string',
  'ja3s.hash',
  'ja3s.string',
  'tls.version',
] as const;

const utf8 = (s: string | null | undefined): Uint8Array | null => (s == null ? null : Buffer.from(s, 'utf8'));

/**
 * A single-valued buffer. `tls.version` is two bytes, big-endian: the version the server
 * speaks (its ServerHello's, supported_versions first; 0x0002 for an SSLv2 server, 0x8001 for
 * PCT), or before the server says anything, the client's (supported_versions' first valid
 * entry, else its hello's version field). The certificate buffers are the server's first
 * certificate's fields, as the record writes them.
 */
export function txBuffer(tx: TlsTransaction, name: string): Uint8Array | null {
  const cert = tx.serverCerts?.first ?? null;
  switch (name) {
    case 'tls.sni':
      return tx.sni;
    case 'tls.cert_subject':
      return utf8(cert?.subject);
    case 'tls.cert_issuer':
      return utf8(cert?.issuerdn);
    case 'tls.cert_serial':
      return utf8(cert?.serial);
    case 'tls.cert_fingerprint':
      return utf8(cert?.fingerprint);
    case 'ja3.hash':
      return utf8(tx.ja3?.hash);
    case 'ja3.string':
      return utf8(tx.ja3?.string);
    case 'ja3s.hash':
      return utf8(tx.ja3s?.hash);
    case 'ja3s.string':
      return utf8(tx.ja3s?.string);
    case 'tls.version': {
      const v = tx.serverVersion() || (tx.clientVersion ?? 0);
      return v === 0 ? null : Uint8Array.of(v >>> 8, v & 0xff);
    }
    default:
      return null;
  }
}

/** A multi-valued buffer: `tls.certs` is each DER certificate of the server's chain, in order. */
export function txBuffers(tx: TlsTransaction, name: string): readonly Uint8Array[] | null {
  if (name !== 'tls.certs') return null;
  const ders = tx.serverCerts?.ders ?? [];
  return ders.length === 0 ? null : ders;
}
