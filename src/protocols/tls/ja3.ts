/**
 * JA3 and JA3S (salesforce/ja3): decimal values joined by "-", fields joined by ",", GREASE values
 * (RFC 8701) dropped from every list, and the MD5 of the string in lowercase hex.
 *
 * - JA3: version,ciphers,extensions,supported_groups,ec_point_formats
 * - JA3S: version,cipher,extensions
 *
 * The version is the hello's version field, never supported_versions: a TLS 1.3 client's JA3 starts
 * "771," and its 43 (supported_versions) appears among the extensions, as in Suricata and ja3.py.
 * An absent list is an empty field ("769,4-5,,,"). SSLv2-format hellos get no JA3 (ja3.py and
 * Suricata compute it from TLS handshake records only), nor do hellos that ran out mid-field.
 */
import { createHash } from 'node:crypto';
import type { ClientHello, ServerHello } from './parse.js';

export interface Fingerprint {
  string: string;
  /** MD5 of `string`, lowercase hex. */
  hash: string;
}

/** GREASE values: 0x0a0a, 0x1a1a, ... 0xfafa (both bytes equal, low nibble a). */
export function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && v >>> 8 === (v & 0xff);
}

const field = (values: readonly number[]): string =>
  values
    .filter((v) => !isGrease(v))
    .map(String)
    .join('-');

function fingerprint(parts: string[]): Fingerprint {
  const s = parts.join(',');
  return { string: s, hash: createHash('md5').update(s, 'latin1').digest('hex') };
}

export function ja3(hello: ClientHello): Fingerprint | null {
  if (hello.malformed) return null;
  return fingerprint([
    String(hello.version),
    field(hello.cipherSuites),
    field(hello.extensions.map((e) => e.type)),
    field(hello.supportedGroups),
    field(hello.ecPointFormats),
  ]);
}

export function ja3s(hello: ServerHello): Fingerprint | null {
  if (hello.malformed) return null;
  return fingerprint([String(hello.version), field([hello.cipherSuite]), field(hello.extensions.map((e) => e.type))]);
}
