import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { isIP } from 'node:net';
import { dirname } from 'node:path';
import { connect, type DetailedPeerCertificate, type TLSSocket } from 'node:tls';
import { API, type ApiError, type EnrollReply, type SensorCredentials } from '../api/contract.js';

/**
 * Enrolment (`outpost sensor enroll`) and the credentials file it writes. The enrolment request
 * is the one request that cannot be checked against a pinned CA, because it is what fetches the
 * CA (docs/network.md, Trust). So:
 * - with `caFingerprint` (the collector prints its CA's SHA-256 at start), the served certificate
 *   chain is checked against it before the token is sent; when the collector serves only its leaf
 *   certificate (the CA is not in the chain), the check is made on the CA in the reply instead;
 * - without it, trust on first use: the CA's fingerprint is returned for the user to compare;
 * - either way, the CA in the reply must have signed the certificate the collector served, or the
 *   credentials are not kept.
 */

/** How long the enrolment may take before it is given up (ms): a collector that does not answer is not one. */
const ENROLL_TIMEOUT_MS = 15000;
/** An enrolment reply is a few KiB (the CA's PEM); more is not our collector. */
const REPLY_MAX = 256 * 1024;

/** What {@link enroll} needs. */
export interface EnrollOptions {
  /** https://HOST:PORT of the collector. */
  collector: string;
  token: string;
  name: string;
  /** The CA's SHA-256 (hex, colons and case ignored), to check before trusting; null: trust on first use. */
  caFingerprint: string | null;
}

/** What enrolment gave. */
export interface EnrollResult {
  credentials: SensorCredentials;
  /** SHA-256 of the pinned CA (lowercase hex, as the collector prints it). */
  fingerprint: string;
  /** How the CA was trusted: checked against --ca-fingerprint before the token went out, after (the CA is not served), or on first use. */
  trust: 'fingerprint-before' | 'fingerprint-after' | 'first-use';
}

/** SHA-256 fingerprint of a certificate: lowercase hex, no separators. */
export function fingerprintOf(cert: X509Certificate): string {
  return cert.fingerprint256.replace(/:/g, '').toLowerCase();
}

/** A fingerprint as a user may type it (AB:CD:…, abcd…): lowercase hex, or null when it is not 64 hex digits. */
export function normalizeFingerprint(text: string): string | null {
  const hex = text.replace(/[:\s]/g, '').toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? hex : null;
}

/** Enrols with the collector. Throws an Error whose message says what went wrong and what to do. */
export async function enroll(o: EnrollOptions): Promise<EnrollResult> {
  let url: URL;
  try {
    url = new URL(o.collector);
  } catch {
    throw new Error(`--collector "${o.collector}" is not a URL (https://HOST:PORT)`);
  }
  if (url.protocol !== 'https:') throw new Error(`--collector must be https:// (the collector serves HTTPS only), not ${url.protocol}`);
  const want = o.caFingerprint === null ? null : normalizeFingerprint(o.caFingerprint);
  if (o.caFingerprint !== null && want === null) throw new Error(`--ca-fingerprint "${o.caFingerprint}" is not a SHA-256 fingerprint (64 hex digits, colons allowed)`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 443);

  const socket = await openTls(host, port);
  try {
    const served = servedChain(socket);
    if (served.length === 0) throw new Error(`${url.origin} served no certificate`);
    let trust: EnrollResult['trust'] = 'first-use';
    if (want !== null) {
      if (served.some((c) => fingerprintOf(c) === want)) trust = 'fingerprint-before';
      else if (isSelfSigned(served[served.length - 1]!)) {
        throw new Error(
          `${url.origin} is not the collector you named: its certificate chain (${served.map(fingerprintOf).join(', ')}) does not include the CA fingerprint ${want}; the token was not sent`,
        );
      } else trust = 'fingerprint-after';
    }
    const reply = await postEnroll(socket, url, { token: o.token, name: o.name });
    const ca = parseCa(reply.ca);
    const fingerprint = fingerprintOf(ca);
    if (!signedBy(served, ca)) {
      throw new Error(`the CA in ${url.origin}'s reply (SHA-256 ${fingerprint}) did not sign the certificate it serves: refusing to pin it (is something between you and the collector?)`);
    }
    if (want !== null && trust === 'fingerprint-after' && fingerprint !== want) {
      throw new Error(`the collector's CA has SHA-256 ${fingerprint}, not ${want}: refusing to pin it. The token was sent before this could be checked (the collector does not serve its CA); revoke the sensor it enrolled (outpost collector sensor list)`);
    }
    return {
      credentials: { collector: url.origin, sensor_id: reply.sensor_id, secret: reply.secret, ca: reply.ca, name: o.name },
      fingerprint,
      trust,
    };
  } finally {
    socket.destroy();
  }
}

function openTls(host: string, port: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    // Not verified here: nothing is pinned yet. The chain is checked by hand before anything is sent.
    const socket = connect({ host, port, rejectUnauthorized: false, ...(isIP(host) === 0 ? { servername: host } : {}), ALPNProtocols: ['http/1.1'] });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`https://${host}:${port}: no TLS handshake within ${ENROLL_TIMEOUT_MS / 1000} s`));
    }, ENROLL_TIMEOUT_MS);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Error(`cannot reach https://${host}:${port}: ${err.code ?? err.message}`));
    });
  });
}

/** The served certificates, leaf first, up to the root (or as far as the server sent). */
function servedChain(socket: TLSSocket): X509Certificate[] {
  const out: X509Certificate[] = [];
  const seen = new Set<string>();
  let c: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  while (c !== undefined && c.raw !== undefined && out.length < 10) {
    const fp = c.fingerprint256;
    if (seen.has(fp)) break;
    seen.add(fp);
    out.push(new X509Certificate(c.raw));
    c = c.issuerCertificate;
  }
  return out;
}

function isSelfSigned(c: X509Certificate): boolean {
  return c.checkIssued(c) && c.verify(c.publicKey);
}

/** Whether `ca` is in the served chain or signed one of its certificates. */
function signedBy(chain: readonly X509Certificate[], ca: X509Certificate): boolean {
  const fp = fingerprintOf(ca);
  return chain.some((c) => fingerprintOf(c) === fp || (c.checkIssued(ca) && c.verify(ca.publicKey)));
}

function parseCa(pem: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw new Error(`the collector's reply has no valid CA certificate (${(err as Error).message})`);
  }
}

/** POSTs the enrolment over the checked socket; the reply, checked for shape. */
function postEnroll(socket: TLSSocket, url: URL, body: { token: string; name: string }): Promise<EnrollReply> {
  const data = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        method: 'POST',
        host: url.hostname,
        port: url.port,
        path: API.enroll,
        headers: { 'content-type': 'application/json', 'content-length': data.length },
        createConnection: () => socket,
        timeout: ENROLL_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= REPLY_MAX) chunks.push(c);
        });
        res.on('error', (err) => reject(new Error(`enrolment reply broken off: ${err.message}`)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = null;
          }
          if (res.statusCode !== 200) {
            const e = json as Partial<ApiError> | null;
            const why = typeof e?.reason === 'string' ? `${e.error ?? 'error'}: ${e.reason}` : text.slice(0, 200) || 'no reason given';
            reject(new Error(`the collector refused the enrolment (HTTP ${res.statusCode}, ${why})`));
            return;
          }
          const r = json as Partial<EnrollReply> | null;
          if (r === null || typeof r.sensor_id !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(r.sensor_id) || typeof r.secret !== 'string' || r.secret.length < 16 || typeof r.ca !== 'string') {
            reject(new Error('the collector answered 200 but not with {sensor_id, secret, ca}: is that URL an Outpost collector?'));
            return;
          }
          resolve({ sensor_id: r.sensor_id, secret: r.secret, ca: r.ca });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no reply within ${ENROLL_TIMEOUT_MS / 1000} s`)));
    req.on('error', (err) => reject(new Error(`enrolment request failed: ${err.message}`)));
    req.end(data);
  });
}

/** Reads the credentials file: null when there is none; throws with the path when it is damaged. */
export function readCredentials(path: string): SensorCredentials | null {
  if (!existsSync(path)) return null;
  let data: Partial<SensorCredentials>;
  try {
    data = JSON.parse(readFileSync(path, 'utf8')) as Partial<SensorCredentials>;
  } catch (err) {
    throw new Error(`${path}: not a credentials file (${(err as Error).message}); enrol again with outpost sensor enroll --force`);
  }
  for (const k of ['collector', 'sensor_id', 'secret', 'ca', 'name'] as const) {
    if (typeof data?.[k] !== 'string' || data[k] === '') throw new Error(`${path}: the credentials lack "${k}"; enrol again with outpost sensor enroll --force`);
  }
  return data as SensorCredentials;
}

/** Whether the credentials file can be read by others than its owner (it holds the signing secret). */
export function credentialsTooOpen(path: string): boolean {
  try {
    return (statSync(path).mode & 0o077) !== 0;
  } catch {
    return false;
  }
}

/** Writes the credentials with mode 0600 (directories made 0700), refusing to replace a file unless `force`. */
export function writeCredentials(path: string, creds: SensorCredentials, force: boolean): void {
  if (existsSync(path) && !force) throw new Error(`${path} exists (this sensor is enrolled already); add --force to replace it`);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(creds, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600); // the umask cannot widen it, but an existing tmp file's mode would stand
  renameSync(tmp, path);
}
