/**
 * The scanner's probes (../shared/DOMAIN.md §2): a native PCT 1.0 CLIENT_HELLO, an SSLv2
 * CLIENT-HELLO offering PCT (kind 8F 80 01 first), a plain SSLv2 CLIENT-HELLO, and TLS
 * ClientHellos pinned to one version each (SSLv3 to TLS 1.3). All are built by hand, so the
 * scanner does not depend on what the local OpenSSL still speaks, and all are well-formed: every
 * declared length adds up to its record. Outpost never sends the exploit shape (DOMAIN.md §3).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';

/** What one probe asks a server; the ids match the findings they feed (findings.ts). */
export type ProbeKind = 'pct' | 'sslv2_pct' | 'sslv2' | 'ssl3' | 'tls1' | 'tls1_1' | 'tls1_2' | 'tls1_3';

/** Every probe, in the order a scan sends them: TLS 1.2 first, as the most likely to get an answer. */
export const PROBE_KINDS: readonly ProbeKind[] = ['tls1_2', 'tls1_3', 'tls1_1', 'tls1', 'ssl3', 'sslv2', 'sslv2_pct', 'pct'];

/** The TLS versions the pinned ClientHellos ask for. */
export const TLS_PROBE_VERSION = { ssl3: 0x0300, tls1: 0x0301, tls1_1: 0x0302, tls1_2: 0x0303, tls1_3: 0x0304 } as const;

export type TlsProbeKind = keyof typeof TLS_PROBE_VERSION;

/** The bytes of one probe (fresh randoms and a fresh key share each call). */
export function probeHello(kind: ProbeKind): Buffer {
  switch (kind) {
    case 'pct':
      return pctClientHello({ challenge: randomBytes(32) });
    case 'sslv2_pct':
      return sslv2ClientHello({ offerPct: true });
    case 'sslv2':
      return sslv2ClientHello();
    default:
      return tlsClientHello(TLS_PROBE_VERSION[kind]);
  }
}

export interface PctHelloSpec {
  /** 4-byte cipher specs (PCT 1.0 CIPHER_SPEC values). */
  ciphers?: number[];
  /** 2-byte hash, certificate and exchange specs. */
  hashes?: number[];
  certs?: number[];
  exchanges?: number[];
  challenge?: Uint8Array;
}

/**
 * A well-formed native PCT 1.0 CLIENT_HELLO (draft-benaloh-pct-00), as a scanner sends it:
 * 2-byte record header, type 01, version 80 01, a zero session id, a 32-byte challenge, offset
 * 00 0A, five lengths, and the spec lists whose lengths add up to the record.
 */
export function pctClientHello(spec: PctHelloSpec = {}): Buffer {
  const ciphers = spec.ciphers ?? [0x00048003, 0x00048001]; // RC4 with 128- and 40-bit keys (values illustrative: any 4-byte specs are well-formed)
  const hashes = spec.hashes ?? [0x0001, 0x0003]; // MD5, SHA
  const certs = spec.certs ?? [0x0001]; // X.509
  const exchanges = spec.exchanges ?? [0x0001]; // RSA
  const challenge = spec.challenge ?? Buffer.alloc(32, 0x5a);
  const lists = Buffer.alloc(ciphers.length * 4 + (hashes.length + certs.length + exchanges.length) * 2);
  let o = 0;
  for (const c of ciphers) o = lists.writeUInt32BE(c >>> 0, o);
  for (const h of [...hashes, ...certs, ...exchanges]) o = lists.writeUInt16BE(h, o);
  const body = Buffer.alloc(80);
  body[0] = 0x01; // CLIENT_HELLO
  body[1] = 0x80; // version 80 01
  body[2] = 0x01;
  body[3] = 0x00; // pad
  // session id (32 zero bytes) at body[4..35]
  Buffer.from(challenge).copy(body, 36, 0, 32);
  body.writeUInt16BE(0x000a, 68); // offset
  body.writeUInt16BE(ciphers.length * 4, 70);
  body.writeUInt16BE(hashes.length * 2, 72);
  body.writeUInt16BE(certs.length * 2, 74);
  body.writeUInt16BE(exchanges.length * 2, 76);
  body.writeUInt16BE(0, 78); // key arg length
  const record = Buffer.concat([body, lists]);
  return Buffer.concat([Buffer.from([0x80 | (record.length >>> 8), record.length & 0xff]), record]);
}

/**
 * An SSLv2 CLIENT-HELLO, optionally offering PCT with the cipher kind 8F 80 01 first (how a
 * PCT-capable client announces itself inside SSLv2). Well-formed: 3-byte kinds, a 16-byte
 * challenge, no session id.
 */
export function sslv2ClientHello(options: { offerPct?: boolean; kinds?: number[] } = {}): Buffer {
  const kinds = options.kinds ?? [0x010080, 0x020080, 0x030080, 0x040080, 0x060040, 0x0700c0];
  const all = options.offerPct === true ? [0x8f8001, ...kinds] : kinds;
  const challenge = Buffer.alloc(16, 0x42);
  const body = Buffer.alloc(9);
  body[0] = 0x01;
  body.writeUInt16BE(0x0002, 1); // SSL 2.0
  body.writeUInt16BE(all.length * 3, 3);
  body.writeUInt16BE(0, 5);
  body.writeUInt16BE(challenge.length, 7);
  const specs = Buffer.alloc(all.length * 3);
  all.forEach((k, i) => specs.writeUIntBE(k, i * 3, 3));
  const record = Buffer.concat([body, specs, challenge]);
  return Buffer.concat([Buffer.from([0x80 | (record.length >>> 8), record.length & 0xff]), record]);
}

// ---------------------------------------------------------------------------------------------
// TLS ClientHellos

/** TLS 1.3 suites (RFC 8446 B.4): AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305. */
const TLS13_SUITES = [0x1301, 0x1302, 0x1303];

/**
 * Suites for SSLv3 to TLS 1.2: ECDHE and RSA with AES-GCM, ChaCha20, AES-CBC, then 3DES and RC4
 * so that an old server finds something it knows. Offering a suite is not using it: the probe
 * stops at the server's first answer.
 */
const LEGACY_SUITES = [
  0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0x009e, 0x009f, 0xc009, 0xc013, 0xc00a, 0xc014, 0x0033, 0x0039, 0x009c, 0x009d, 0x002f, 0x0035, 0x000a, 0x0005, 0x0004,
];

/** EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746): what an SSLv3 hello says instead of an extension. */
const SCSV_RENEGOTIATION = 0x00ff;

/** x25519, secp256r1, secp384r1, secp521r1, ffdhe2048. */
const GROUPS = [0x001d, 0x0017, 0x0018, 0x0019, 0x0100];

/** ECDSA, RSA-PSS and RSA PKCS#1 with SHA-256/384/512, Ed25519, then the SHA-1 pair old servers need. */
const SIGNATURE_ALGORITHMS = [0x0403, 0x0503, 0x0603, 0x0807, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0203, 0x0201];

const u16 = (v: number): Buffer => Buffer.from([(v >>> 8) & 0xff, v & 0xff]);
const vec16 = (b: Buffer): Buffer => Buffer.concat([u16(b.length), b]);
const vec8 = (b: Buffer): Buffer => Buffer.concat([Buffer.from([b.length]), b]);
const u16s = (vs: readonly number[]): Buffer => Buffer.concat(vs.map(u16));
const extension = (type: number, data: Buffer): Buffer => Buffer.concat([u16(type), vec16(data)]);

/** A fresh x25519 public key (32 bytes), for TLS 1.3's key_share. */
function x25519PublicKey(): Buffer {
  const jwk = generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' });
  return Buffer.from(jwk.x ?? '', 'base64url');
}

/**
 * A ClientHello that a server can accept only at `version` (0x0300 SSLv3 to 0x0304 TLS 1.3):
 * below 1.3 the client_version is the version itself and there is no supported_versions, so a
 * server that would pick less answers with a lower ServerHello or an alert; for 1.3 the
 * supported_versions lists 1.3 alone, with x25519 key share, groups and signature algorithms.
 * The record layer says TLS 1.0 (SSLv3 for the SSLv3 probe), as clients do for compatibility.
 */
export function tlsClientHello(version: number): Buffer {
  const tls13 = version >= 0x0304;
  const suites = tls13 ? TLS13_SUITES : [...LEGACY_SUITES, SCSV_RENEGOTIATION];
  const extensions: Buffer[] = [];
  if (version >= 0x0301) {
    extensions.push(extension(0x000a, vec16(u16s(GROUPS)))); // supported_groups
    extensions.push(extension(0x000b, vec8(Buffer.from([0])))); // ec_point_formats: uncompressed
  }
  if (version >= 0x0303) extensions.push(extension(0x000d, vec16(u16s(SIGNATURE_ALGORITHMS))));
  if (tls13) {
    extensions.push(extension(0x002b, vec8(u16(0x0304)))); // supported_versions: 1.3 only
    extensions.push(extension(0x0033, vec16(Buffer.concat([u16(0x001d), vec16(x25519PublicKey())])))); // key_share
    extensions.push(extension(0x002d, vec8(Buffer.from([1])))); // psk_key_exchange_modes: psk_dhe_ke (OpenSSL wants it with 1.3)
  }
  const hello = Buffer.concat([
    u16(tls13 ? 0x0303 : version), // legacy_version: 1.3 hides behind 1.2 (RFC 8446 §4.1.2)
    randomBytes(32),
    vec8(tls13 ? randomBytes(32) : Buffer.alloc(0)), // 1.3 middlebox compatibility: a legacy session id
    vec16(u16s(suites)),
    vec8(Buffer.from([0])), // compression: null
    extensions.length > 0 ? vec16(Buffer.concat(extensions)) : Buffer.alloc(0),
  ]);
  const handshake = Buffer.concat([Buffer.from([0x01, (hello.length >>> 16) & 0xff, (hello.length >>> 8) & 0xff, hello.length & 0xff]), hello]);
  return Buffer.concat([Buffer.from([0x16]), u16(version === 0x0300 ? 0x0300 : 0x0301), vec16(handshake)]);
}
