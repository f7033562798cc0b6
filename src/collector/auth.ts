import { createHash, randomBytes } from 'node:crypto';
import { MAX_SKEW_S, parseAuth, verify, type SignedRequest } from '../api/contract.js';
import type { SensorRow, Store } from './store/store.js';

/**
 * Who may talk to the collector (docs/network.md, Trust): enrolment tokens, enrolment, and the
 * check every signed request passes. Every refusal names its ApiError code and the HTTP status
 * that goes with it; nothing here throws on what a client sends.
 */

/** A refused request: status, ApiError code, and a reason for a person. */
export interface Refusal {
  status: number;
  error: string;
  reason: string;
}

/** Nonces are kept twice the skew window: any request old enough to be forgotten is refused as stale anyway. */
const NONCE_KEEP_MS = 2 * MAX_SKEW_S * 1000;

/**
 * Checks a signed request: the header's form, the sensor, the signature over the bytes as sent,
 * then revocation, the clock and the nonce. The signature is checked before anything that
 * reveals state (revoked) or spends state (the nonce), so an unsigned request learns and costs
 * nothing. Revocation is read from the store on every request: it takes effect at once, on
 * every collector sharing the database.
 */
export async function authenticate(store: Store, header: string | undefined, req: SignedRequest, now = Date.now()): Promise<SensorRow | Refusal> {
  const claim = parseAuth(header);
  if (typeof claim === 'string') return { status: 401, error: 'unauthenticated', reason: claim };
  const sensor = await store.getSensor(claim.sensor);
  // One answer, and the same work, for an unknown sensor and a bad signature: a client without a
  // secret cannot learn which sensor ids exist.
  if (!verify(sensor?.secret ?? DUMMY_SECRET, claim, req) || sensor === undefined) return { status: 401, error: 'unauthenticated', reason: UNAUTHENTICATED };
  if (sensor.revoked !== null) return { status: 403, error: 'revoked', reason: `sensor ${sensor.id} was revoked at ${new Date(sensor.revoked).toISOString()}` };
  const skew = Math.abs(now / 1000 - claim.ts);
  if (skew > MAX_SKEW_S) {
    return { status: 401, error: 'stale', reason: `request time is ${Math.round(skew)} s from the collector's clock (at most ${MAX_SKEW_S} s): check the sensor's clock` };
  }
  if (!(await store.useNonce(sensor.id, claim.nonce, now, now - NONCE_KEEP_MS))) return { status: 409, error: 'replayed', reason: 'nonce already used: a request is never accepted twice' };
  return sensor;
}

const UNAUTHENTICATED = 'unknown sensor or bad signature';
const DUMMY_SECRET = '0'.repeat(64);

/**
 * The checks that need no body, made before it is read: the header's form and a sensor of that
 * id (the full check follows with the body). An unknown sensor gets the same answer as a bad
 * signature will.
 */
export async function preAuthenticate(store: Store, header: string | string[] | undefined): Promise<{ sensor: string } | Refusal> {
  if (typeof header !== 'string') return { status: 401, error: 'unauthenticated', reason: header === undefined ? 'no authorization header' : 'more than one authorization header' };
  const claim = parseAuth(header);
  if (typeof claim === 'string') return { status: 401, error: 'unauthenticated', reason: claim };
  // Revocation and the clock are told after the signature check, to signers only.
  if ((await store.getSensor(claim.sensor)) === undefined) return { status: 401, error: 'unauthenticated', reason: UNAUTHENTICATED };
  return { sensor: claim.sensor };
}

/** Whether authenticate() refused. */
export function isRefusal(r: SensorRow | Refusal): r is Refusal {
  return 'status' in r;
}

/** The store key of a token: its SHA-256, so the database never holds a usable token. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Makes an enrolment token good for `uses` enrolments until `expires` (ms; null: never) and returns it; only its hash is stored. */
export async function createToken(store: Store, opts: { expires: number | null; uses: number; now?: number }): Promise<string> {
  if (!Number.isSafeInteger(opts.uses) || opts.uses < 1) throw new Error(`uses must be a whole number ≥ 1, not ${opts.uses}`);
  // 32 random bytes: guessing one is out of reach, so enrolment needs no attempt limit of its own.
  const token = randomBytes(32).toString('base64url');
  await store.addToken({ hash: tokenHash(token), created: opts.now ?? Date.now(), expires: opts.expires, uses: opts.uses });
  return token;
}

/** Sensor names as `outpost sensor enroll --name` and the config allow them. */
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** A new sensor id: `s-` and 10 base32 characters (50 random bits: collisions are not a concern at fleet sizes, and addSensor refuses one anyway). */
export function newSensorId(): string {
  const b = randomBytes(10);
  let id = 's-';
  for (const byte of b) id += BASE32[byte & 31];
  return id;
}

/**
 * Enrols a sensor with a token: spends one use of it, then stores a new sensor with a fresh
 * secret. The token is checked first, so a bad one leaves no trace but a counter.
 */
export async function enroll(store: Store, body: unknown, now = Date.now()): Promise<{ sensor_id: string; secret: string; name: string } | Refusal> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { status: 400, error: 'malformed', reason: 'the body must be a JSON object {"token": ..., "name": ...}' };
  const { token, name } = body as { token?: unknown; name?: unknown };
  if (typeof token !== 'string' || token === '' || token.length > 512) return { status: 400, error: 'malformed', reason: 'token must be the string `outpost collector token create` printed' };
  if (name !== undefined && (typeof name !== 'string' || !NAME.test(name))) return { status: 400, error: 'malformed', reason: 'name must be 1 to 64 letters, digits, _ . or -' };
  if (!(await store.redeemToken(tokenHash(token), now))) return { status: 403, error: 'bad_token', reason: 'enrolment token unknown, expired or used up: create one with `outpost collector token create`' };
  const id = newSensorId();
  const secret = randomBytes(32).toString('hex');
  const sensorName = typeof name === 'string' ? name : id;
  await store.addSensor({ id, name: sensorName, secret, enrolled: now });
  return { sensor_id: id, secret, name: sensorName };
}
