import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The sensor–collector API, the one thing both sides import: paths, headers, the per-request
 * signature, and the shapes of replies. The collector must not import sensor internals nor the
 * sensor the collector's, so what they agree on lives here (docs/network.md).
 *
 * Every request a sensor makes after enrolment is signed like DShield's submissions: an
 * HMAC-SHA256 with the sensor's secret over the method, the path, a timestamp, a nonce, the
 * SHA-256 of the body exactly as sent (compressed) and the lost-through header's value (empty
 * when absent). A signature older or newer than MAX_SKEW_S,
 * or a nonce already seen within that window, is refused: a captured request cannot be replayed.
 */

/** API paths. */
export const API = {
  enroll: '/api/v1/enroll',
  events: '/api/v1/events',
  docs: '/api/docs',
  metrics: '/metrics',
  healthz: '/healthz',
} as const;

/** Request headers beyond the standard ones (lower case, as Node gives them). */
export const HEADER = {
  /** `OUTPOST-HMAC-SHA256 sensor=ID, ts=UNIX_SECONDS, nonce=HEX, sig=HEX`. */
  auth: 'authorization',
  /**
   * On an events batch: every sequence number up to this one that the collector has not stored
   * is lost on the sensor (dropped when its spool's disk budget ran out), so the acknowledgement
   * may pass over them.
   */
  lostThrough: 'x-outpost-lost-through',
} as const;

/** The authorization scheme's name. */
export const AUTH_SCHEME = 'OUTPOST-HMAC-SHA256';

/** How far (seconds) a request's timestamp may be from the collector's clock. */
export const MAX_SKEW_S = 300;

/** The parts of a signed request. */
export interface SignedRequest {
  method: string;
  /** The path, without query string. */
  path: string;
  /** The body as sent (for events: the gzip bytes). */
  body: Uint8Array;
  /** The `X-Outpost-Lost-Through` header's value, when sent: it moves the acknowledgement, so it is signed too. */
  lostThrough?: number;
}

/** A parsed authorization header. */
export interface AuthClaim {
  sensor: string;
  ts: number;
  nonce: string;
  sig: string;
}

function mac(secret: string, req: SignedRequest, ts: number, nonce: string): string {
  const bodyHash = createHash('sha256').update(req.body).digest('hex');
  return createHmac('sha256', secret).update(`${req.method.toUpperCase()}\n${req.path}\n${ts}\n${nonce}\n${bodyHash}\n${req.lostThrough ?? ''}`).digest('hex');
}

/** The authorization header value for a request, signed now (or at `now`, seconds). */
export function sign(sensor: string, secret: string, req: SignedRequest, now = Math.floor(Date.now() / 1000)): string {
  const nonce = randomBytes(16).toString('hex');
  return `${AUTH_SCHEME} sensor=${sensor}, ts=${now}, nonce=${nonce}, sig=${mac(secret, req, now, nonce)}`;
}

/** Reads an authorization header; a string is the reason it is not one. */
export function parseAuth(header: string | undefined): AuthClaim | string {
  if (header === undefined || header === '') return 'no authorization header';
  if (!header.startsWith(`${AUTH_SCHEME} `)) return `authorization scheme must be ${AUTH_SCHEME}`;
  const fields = new Map<string, string>();
  for (const part of header.slice(AUTH_SCHEME.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const sensor = fields.get('sensor');
  const ts = Number(fields.get('ts'));
  const nonce = fields.get('nonce');
  const sig = fields.get('sig');
  if (sensor === undefined || !/^[A-Za-z0-9_-]{1,64}$/.test(sensor)) return 'authorization lacks a valid sensor id';
  if (!Number.isSafeInteger(ts)) return 'authorization lacks a valid ts';
  if (nonce === undefined || !/^[0-9a-f]{16,64}$/.test(nonce)) return 'authorization lacks a valid nonce (16 to 64 hex digits)';
  if (sig === undefined || !/^[0-9a-f]{64}$/.test(sig)) return 'authorization lacks a valid sig (64 hex digits)';
  return { sensor, ts, nonce, sig };
}

/** Whether the claim's signature is the secret's over this request (constant time). */
export function verify(secret: string, claim: AuthClaim, req: SignedRequest): boolean {
  const want = Buffer.from(mac(secret, req, claim.ts, claim.nonce), 'hex');
  const got = Buffer.from(claim.sig, 'hex');
  return want.length === got.length && timingSafeEqual(want, got);
}

/** POST /api/v1/enroll: the request body. */
export interface EnrollRequest {
  /** The enrolment token `outpost collector token create` printed. */
  token: string;
  /** The sensor's name (its host name by default). */
  name?: string;
}

/** POST /api/v1/enroll: the reply. */
export interface EnrollReply {
  sensor_id: string;
  /** The sensor's signing secret (hex). Shown once; the sensor keeps it in a 0600 file. */
  secret: string;
  /** The collector's CA certificate (PEM): the sensor pins it for every later request. */
  ca: string;
}

/** POST /api/v1/events: the reply to an accepted batch. */
export interface IngestReply {
  /** The highest sequence number up to which every event of this sensor is stored (or declared lost). */
  acked: number;
  /** Events of this batch newly stored. */
  stored: number;
  /** Events of this batch already stored before (a resend). */
  duplicates: number;
}

/** Every refusal's body (4xx and 5xx). */
export interface ApiError {
  /** A short code: `unauthenticated`, `revoked`, `replayed`, `too_large`, `malformed`, `invalid`, `wrong_sensor`, `rate_limited`, ... */
  error: string;
  /** What was wrong, for a person. */
  reason: string;
}

/** What `outpost sensor enroll` keeps (mode 0600). */
export interface SensorCredentials {
  /** https://HOST:PORT of the collector. */
  collector: string;
  sensor_id: string;
  secret: string;
  /** The pinned CA certificate (PEM). */
  ca: string;
  name: string;
}
