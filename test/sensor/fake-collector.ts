import { webcrypto } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import type * as X509 from '@peculiar/x509';
import { API, HEADER, parseAuth, verify, type IngestReply, type SensorCredentials } from '../../src/api/contract.js';
import type { AnomalyEvent } from '../../src/events/types.js';

/**
 * A small HTTPS collector double for the spool and shipper tests: it checks the signature,
 * inflates the gzip NDJSON, dedupes on seq in a Set, acknowledges the highest contiguous seq
 * (passing holes the lost-through header declares), and has knobs to misbehave: fail the next
 * requests with a status, store and then drop the connection (a lost reply), refuse the
 * credentials, refuse a given seq with 422, answer slowly, go down and come back on the same port.
 */

/** @peculiar/x509, loaded on first use; its dependency injection needs the Reflect metadata polyfill first. */
let lib: Promise<typeof X509> | undefined;
function x509(): Promise<typeof X509> {
  lib ??= (async () => {
    await import('reflect-metadata');
    const mod = await import('@peculiar/x509');
    mod.cryptoProvider.set(webcrypto);
    return mod;
  })();
  return lib;
}

/** An anomaly record with a body of about `pad` bytes, numbered in its event name: the spool and shipper tests' events. */
export function anomaly(i: number, pad = 100): AnomalyEvent {
  return {
    timestamp: '2004-04-21T10:00:00.000000+0000',
    event_type: 'anomaly',
    src_ip: '192.0.2.1',
    dest_ip: '198.51.100.7',
    anomaly: { type: 'decode', event: `test.${i}.${'x'.repeat(pad)}` },
  };
}

/** A CA and a server certificate for 127.0.0.1 signed by it (PEM). */
export interface TestPki {
  ca: string;
  cert: string;
  key: string;
}

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** Makes a CA and a server certificate (ECDSA P-256) for 127.0.0.1 and localhost. */
export async function makePki(): Promise<TestPki> {
  const x = await x509();
  const now = Date.now();
  const caKeys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const ca = await x.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=fake collector CA',
    notBefore: new Date(now - 86_400_000),
    notAfter: new Date(now + 86_400_000),
    keys: caKeys,
    signingAlgorithm: SIGNING,
    extensions: [new x.BasicConstraintsExtension(true, 0, true), new x.KeyUsagesExtension(x.KeyUsageFlags.keyCertSign, true)],
  });
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: 'CN=127.0.0.1',
    issuer: ca.subject,
    notBefore: new Date(now - 86_400_000),
    notAfter: new Date(now + 86_400_000),
    publicKey: keys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: SIGNING,
    extensions: [
      new x.BasicConstraintsExtension(false, undefined, true),
      new x.SubjectAlternativeNameExtension([
        { type: 'ip', value: '127.0.0.1' },
        { type: 'dns', value: 'localhost' },
      ]),
    ],
  });
  const key = x.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
  return { ca: ca.toString('pem'), cert: cert.toString('pem'), key };
}

let sharedPki: Promise<TestPki> | null = null;

/** One PKI per test process (making keys is the slow part). */
export function testPki(): Promise<TestPki> {
  sharedPki ??= makePki();
  return sharedPki;
}

/** The fake collector. */
export class FakeCollector {
  /** Stored events: seq → the line as received (a set: a resend is not stored twice). */
  readonly stored = new Map<number, string>();
  /** Highest contiguous seq stored or declared lost. */
  acked = 0;
  /** Requests received, by outcome. */
  requests = 0;
  accepted = 0;
  /** Events received again (already stored). */
  duplicates = 0;
  /** Every lost-through header received. */
  readonly lostThrough: number[] = [];
  /** Statuses answered, in order (0: connection dropped). */
  readonly statuses: number[] = [];

  private failing: { n: number; status: number; retryAfter?: number } | null = null;
  private dropping = 0;
  private refuseAll: 401 | 403 | null = null;
  private readonly refuseSeqs = new Set<number>();
  private delay = 0;
  private server: Server | null = null;
  private port = 0;

  private constructor(
    private readonly pki: TestPki,
    readonly sensorId: string,
    readonly secret: string,
  ) {}

  /** Starts on a free loopback port. */
  static async start(sensorId = 's-test', secret = 'f'.repeat(64)): Promise<FakeCollector> {
    const fc = new FakeCollector(await testPki(), sensorId, secret);
    await fc.up();
    return fc;
  }

  /** What `outpost sensor enroll` would have stored for this collector. */
  get credentials(): SensorCredentials {
    return { collector: `https://127.0.0.1:${this.port}`, sensor_id: this.sensorId, secret: this.secret, ca: this.pki.ca, name: 'test-sensor' };
  }

  /** The next n requests are answered `status` (503 by default) without storing anything. */
  failNext(n: number, status = 503, retryAfterSeconds?: number): void {
    this.failing = { n, status, ...(retryAfterSeconds !== undefined ? { retryAfter: retryAfterSeconds } : {}) };
  }

  /** The next n accepted batches are stored, then the connection is dropped without a reply. */
  dropReplies(n: number): void {
    this.dropping = n;
  }

  /** Every request from now on is refused: 401 `unauthenticated` or 403 `revoked`. */
  revoke(status: 401 | 403 = 403): void {
    this.refuseAll = status;
  }

  /** Any batch holding this seq is refused whole with 422 `invalid`. */
  refuseSeq(seq: number): void {
    this.refuseSeqs.add(seq);
  }

  /** Each reply waits this many ms. */
  slow(ms: number): void {
    this.delay = ms;
  }

  /** Goes down: the listener and every open connection are closed (clients see resets). */
  async down(): Promise<void> {
    const s = this.server;
    if (s === null) return;
    this.server = null;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }

  /** Comes (back) up on the same port, with what it stored before. */
  async up(): Promise<void> {
    if (this.server !== null) return;
    const server = createServer({ cert: this.pki.cert, key: this.pki.key }, (req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    this.requests++;
    if (this.delay > 0) await new Promise((r) => setTimeout(r, this.delay).unref());
    const reply = (status: number, data: object, headers: Record<string, string> = {}): void => {
      this.statuses.push(status);
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(data));
    };
    if (req.method !== 'POST' || req.url !== API.events) return reply(404, { error: 'not_found', reason: `${req.method} ${req.url}` });
    if (this.failing !== null && this.failing.n > 0) {
      const f = this.failing;
      f.n--;
      return reply(f.status, { error: f.status === 429 ? 'rate_limited' : 'unavailable', reason: 'told to fail' }, f.retryAfter !== undefined ? { 'retry-after': String(f.retryAfter) } : {});
    }
    const claim = parseAuth(req.headers[HEADER.auth] as string | undefined);
    if (typeof claim === 'string') return reply(401, { error: 'unauthenticated', reason: claim });
    const lostHeader = req.headers[HEADER.lostThrough];
    const signedLost = typeof lostHeader === 'string' ? { lostThrough: Number(lostHeader) } : {};
    if (claim.sensor !== this.sensorId || !verify(this.secret, claim, { method: 'POST', path: API.events, body, ...signedLost })) return reply(401, { error: 'unauthenticated', reason: 'bad signature' });
    if (this.refuseAll === 403) return reply(403, { error: 'revoked', reason: `sensor ${this.sensorId} is revoked` });
    if (this.refuseAll === 401) return reply(401, { error: 'unauthenticated', reason: 'unknown sensor' });
    if (req.headers['content-encoding'] !== 'gzip' || req.headers['content-type'] !== 'application/x-ndjson') return reply(400, { error: 'malformed', reason: 'expected gzip NDJSON' });
    let text: string;
    try {
      text = gunzipSync(body).toString('utf8');
    } catch {
      return reply(400, { error: 'malformed', reason: 'not gzip' });
    }
    const events: { seq: number; line: string }[] = [];
    const lines = text.split('\n');
    if (lines.pop() !== '') return reply(400, { error: 'malformed', reason: 'the body does not end with a newline' });
    for (let i = 0; i < lines.length; i++) {
      let rec: unknown;
      try {
        rec = JSON.parse(lines[i]!);
      } catch {
        return reply(400, { error: 'malformed', reason: `line ${i + 1}: not JSON` });
      }
      const seq = (rec as { seq?: unknown }).seq;
      if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) return reply(422, { error: 'invalid', reason: `line ${i + 1}: seq must be an integer ≥ 1` });
      if (this.refuseSeqs.has(seq)) return reply(422, { error: 'invalid', reason: `line ${i + 1}: seq ${seq} is refused by the test` });
      events.push({ seq, line: lines[i]! });
    }
    const ltHeader = req.headers[HEADER.lostThrough];
    const lt = ltHeader === undefined ? 0 : Number(ltHeader);
    if (ltHeader !== undefined) this.lostThrough.push(lt);
    let stored = 0;
    let duplicates = 0;
    for (const e of events) {
      if (this.stored.has(e.seq)) duplicates++;
      else {
        this.stored.set(e.seq, e.line);
        stored++;
      }
    }
    this.duplicates += duplicates;
    this.accepted++;
    if (Number.isSafeInteger(lt) && lt > this.acked) this.acked = lt;
    while (this.stored.has(this.acked + 1)) this.acked++;
    if (this.dropping > 0) {
      this.dropping--;
      this.statuses.push(0);
      req.socket.destroy();
      return;
    }
    const answer: IngestReply = { acked: this.acked, stored, duplicates };
    reply(200, answer);
  }
}
