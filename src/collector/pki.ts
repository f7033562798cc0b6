import { createPrivateKey, createPublicKey, X509Certificate as NodeCertificate, webcrypto } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type * as X509 from '@peculiar/x509';

/**
 * The collector's TLS identity (docs/network.md, Trust). On first start it makes its own CA and
 * a server certificate signed by it, both ECDSA P-256, under DATA/pki/; sensors pin the CA at
 * enrolment, so later starts must reuse the same CA. The server certificate is re-issued from
 * that CA when it no longer covers the listen host or is about to expire: the pin still holds.
 * With `collector.tls` naming a certificate and key, those are served instead and the
 * certificate file (or a separate CA file) is what sensors pin.
 */

/** What the HTTPS listener serves and what enrolment hands to sensors. */
export interface CollectorTls {
  /** Server certificate chain (PEM). */
  cert: string;
  /** Server private key (PEM). */
  key: string;
  /** The PEM sensors pin: the generated CA, or the given CA/certificate. */
  ca: string;
  /** SHA-256 of the pinned certificate's DER, lowercase hex without separators. */
  caFingerprint: string;
  /** Whether this start made a new CA (first start). */
  created: boolean;
}

/** Where to find or make the identity. */
export interface PkiOptions {
  /** The data directory: generated files go to DATA/pki/. */
  data: string;
  /** The host the collector listens on: a SAN of the generated server certificate. */
  listenHost: string;
  /** An operator's own certificate (PEM file, possibly with its chain) and key; null: generate. */
  cert?: string | null;
  key?: string | null;
  /** A CA file sensors should pin when `cert` is not self-signed; default: the `cert` file. */
  ca?: string | null;
  /** Clock, for tests (ms). */
  now?: number;
}

/** A CA outlives every sensor enrolled under it; re-enrolling a fleet is what ten years avoids. */
const CA_YEARS = 10;
/** The server certificate is cheap to re-issue from the CA, so it need not outlive it; two years. */
const SERVER_DAYS = 730;
/** Re-issue the server certificate this long before it expires, so a long-running collector never serves an expired one after a restart. */
const RENEW_BEFORE_DAYS = 30;
const DAY_MS = 86_400_000;
const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

/**
 * @peculiar/x509, loaded on first use (only the collector's first start makes certificates). Its
 * dependency injection (tsyringe) needs the Reflect metadata polyfill loaded before it.
 */
let x509Module: Promise<typeof X509> | undefined;
function loadX509(): Promise<typeof X509> {
  x509Module ??= (async () => {
    await import('reflect-metadata');
    const lib = await import('@peculiar/x509');
    lib.cryptoProvider.set(webcrypto);
    return lib;
  })();
  return x509Module;
}

/** Loads the collector's TLS identity, making it on first start. Throws with a message naming the file on a damaged one. */
export async function loadOrCreatePki(opts: PkiOptions): Promise<CollectorTls> {
  if (opts.cert != null || opts.key != null) return givenIdentity(opts);
  const now = opts.now ?? Date.now();
  const dir = join(opts.data, 'pki');
  const files = { ca: join(dir, 'ca.pem'), caKey: join(dir, 'ca.key'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key') };
  mkdirSync(dir, { recursive: true, mode: 0o700 });

  let created = false;
  let caPem: string;
  let caKey: CryptoKey;
  if (existsSync(files.ca) && existsSync(files.caKey)) {
    caPem = readText(files.ca);
    caKey = await importKey(readText(files.caKey), files.caKey);
  } else {
    const made = await makeCa(now);
    caPem = made.pem;
    caKey = made.keys.privateKey;
    writeKey(files.caKey, await exportKey(made.keys.privateKey));
    writeAtomic(files.ca, caPem, 0o644);
    created = true;
  }
  const caCert = parseCert(caPem, files.ca);

  const hosts = sanHosts(opts.listenHost);
  let certPem = existsSync(files.cert) && existsSync(files.key) && !created ? readText(files.cert) : null;
  let keyPem = certPem === null ? '' : readText(files.key);
  if (certPem !== null && !serverCertFits(parseCert(certPem, files.cert), keyPem, caCert, hosts, now)) certPem = null;
  if (certPem === null) {
    const made = await makeServerCert(caPem, caKey, hosts, now);
    keyPem = await exportKey(made.keys.privateKey);
    writeKey(files.key, keyPem);
    writeAtomic(files.cert, made.pem, 0o644);
    certPem = made.pem;
  }
  return { cert: certPem, key: keyPem, ca: caPem, caFingerprint: fingerprintOf(caCert), created };
}

/** SHA-256 fingerprint of a PEM certificate (lowercase hex, no separators): what `outpost sensor enroll --ca-fingerprint` compares. */
export function certFingerprint(pem: string): string {
  return fingerprintOf(parseCert(pem, 'certificate'));
}

function fingerprintOf(cert: NodeCertificate): string {
  return cert.fingerprint256.replace(/:/g, '').toLowerCase();
}

function givenIdentity(opts: PkiOptions): CollectorTls {
  if (opts.cert == null || opts.key == null) throw new Error('collector.tls needs both cert and key (PEM files)');
  const cert = readText(opts.cert);
  const key = readText(opts.key);
  const ca = opts.ca != null ? readText(opts.ca) : cert;
  parseCert(cert, opts.cert);
  return { cert, key, ca, caFingerprint: fingerprintOf(parseCert(ca, opts.ca ?? opts.cert)), created: false };
}

/** The names the server certificate covers: the usual loopback names, this host, and the listen host. */
function sanHosts(listenHost: string): string[] {
  const hosts = ['localhost', '127.0.0.1', '::1', hostname()];
  // A wildcard listen address is not a name anyone connects to.
  if (listenHost !== '' && listenHost !== '0.0.0.0' && listenHost !== '::') hosts.push(listenHost);
  return [...new Set(hosts.filter((h) => h !== ''))];
}

/** Whether the stored server certificate can be served again: issued by this CA, matching its key (a crash between the two writes leaves them apart), not expiring, covering every host. */
function serverCertFits(cert: NodeCertificate, keyPem: string, ca: NodeCertificate, hosts: readonly string[], now: number): boolean {
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return false;
  try {
    const spki = (k: ReturnType<typeof createPublicKey>): string => k.export({ type: 'spki', format: 'der' }).toString('hex');
    if (spki(createPublicKey(createPrivateKey(keyPem))) !== spki(cert.publicKey)) return false;
  } catch {
    return false;
  }
  if (Date.parse(cert.validTo) - RENEW_BEFORE_DAYS * DAY_MS < now) return false;
  return hosts.every((h) => (isIP(h) !== 0 ? cert.checkIP(h) !== undefined : cert.checkHost(h) !== undefined));
}

async function makeCa(now: number): Promise<{ pem: string; keys: CryptoKeyPair }> {
  const x509 = await loadX509();
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_YEARS);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=Outpost collector CA (${hostname().replace(/[,=+<>#;"\\]/g, '-')})`,
    notBefore: new Date(now - DAY_MS),
    notAfter,
    keys,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { pem: cert.toString('pem'), keys };
}

async function makeServerCert(caPem: string, caKey: CryptoKey, hosts: readonly string[], now: number): Promise<{ pem: string; keys: CryptoKeyPair }> {
  const x509 = await loadX509();
  const ca = new x509.X509Certificate(caPem);
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=${(hosts.find((h) => isIP(h) === 0 && h !== 'localhost') ?? 'localhost').replace(/[,=+<>#;"\\]/g, '-')}`,
    issuer: ca.subject,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + SERVER_DAYS * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(hosts.map((h) => ({ type: isIP(h) !== 0 ? 'ip' : 'dns', value: h }))),
      await x509.AuthorityKeyIdentifierExtension.create(ca.publicKey),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { pem: cert.toString('pem'), keys };
}

/** A positive 16-byte serial (RFC 5280 allows up to 20 octets; the top bit clear keeps it positive). */
function randomSerial(): string {
  const b = webcrypto.getRandomValues(new Uint8Array(16));
  b[0] = b[0]! & 0x7f;
  return Buffer.from(b).toString('hex');
}

async function exportKey(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key)).toString('base64');
  return `-----BEGIN PRIVATE KEY-----\n${der.replace(/.{1,64}/g, '$&\n')}-----END PRIVATE KEY-----\n`;
}

async function importKey(pem: string, file: string): Promise<CryptoKey> {
  try {
    const der = createPrivateKey(pem).export({ type: 'pkcs8', format: 'der' });
    return await webcrypto.subtle.importKey('pkcs8', der, EC, false, ['sign']);
  } catch (err) {
    throw new Error(`${file}: not an ECDSA P-256 private key in PKCS#8 PEM (${(err as Error).message})`);
  }
}

function parseCert(pem: string, file: string): NodeCertificate {
  try {
    return new NodeCertificate(pem);
  } catch (err) {
    throw new Error(`${file}: not a PEM certificate (${(err as Error).message})`);
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
}

function writeKey(file: string, pem: string): void {
  writeAtomic(file, pem, 0o600);
}

/** Writes through a temporary file and a rename, so a crash never leaves half a key or certificate. */
function writeAtomic(file: string, text: string, mode: number): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, file);
}
