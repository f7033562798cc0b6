import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import type { HoneypotEvent } from '../../src/events/honeypot.js';
import { Honeypot, payloadPath, sha256Hex, type HoneypotOptions } from '../../src/honeypot/index.js';
import { parseLegacyFlight } from '../../src/protocols/tls/parse.js';
import { pctClientHello, pctExploitFixture, sslv2ClientHello } from '../../src/synth/pct.js';
import { tempDir } from '../helpers.js';

/** Bound on every wait in these tests. */
const WAIT_MS = 5000;

/** Starts a honeypot on 127.0.0.1 ephemeral ports, stopped when the test ends. */
async function startHoneypot(t: TestContext, options: HoneypotOptions = {}): Promise<{ hp: Honeypot; events: HoneypotEvent[]; pctPort: number; ports: number[]; next: () => Promise<HoneypotEvent> }> {
  const events: HoneypotEvent[] = [];
  const waiters: ((ev: HoneypotEvent) => void)[] = [];
  let read = 0;
  const hp = new Honeypot({ pct: { host: '127.0.0.1', port: 0 }, ...options }, (ev) => {
    events.push(ev);
    waiters.shift()?.(ev);
  });
  t.after(() => hp.stop());
  const addrs = await hp.start();
  const next = (): Promise<HoneypotEvent> => {
    const i = read++;
    if (events[i] !== undefined) return Promise.resolve(events[i]);
    return withTimeout(new Promise((resolve) => waiters.push(resolve)), 'a honeypot event');
  };
  return { hp, events, pctPort: addrs.find((a) => a.service === 'pct')?.port ?? 0, ports: addrs.filter((a) => a.service === 'listener').map((a) => a.port), next };
}

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), WAIT_MS)))]).finally(() => clearTimeout(timer));
}

/** An SSLv2/PCT record is complete in `b` (2-byte header). */
const wholeRecord = (b: Buffer): boolean => b.length >= 2 && b.length >= (((b[0]! & 0x7f) << 8) | b[1]!) + 2;

/** Sends bytes, then collects the reply until the server closes or `complete` says it is all there. */
function exchange(port: number, bytes: Buffer, complete: (reply: Buffer) => boolean = () => false): Promise<{ reply: Buffer; socket: Socket }> {
  return withTimeout(
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const s = connect(port, '127.0.0.1', () => s.write(bytes));
      const done = (): void => resolve({ reply: Buffer.concat(chunks), socket: s });
      s.on('data', (c: Buffer) => {
        chunks.push(c);
        if (complete(Buffer.concat(chunks))) done();
      });
      s.on('close', done);
      s.on('error', reject);
    }),
    'the reply',
  );
}

test('a native PCT CLIENT_HELLO gets a well-formed SERVER_HELLO and a probe event', async (t) => {
  const { pctPort, next } = await startHoneypot(t);
  const hello = pctClientHello();
  const { reply: all, socket } = await exchange(pctPort, hello, wholeRecord);
  socket.end();
  assert.equal(all[2], 0x02);
  assert.deepEqual([...all.subarray(4, 6)], [0x80, 0x01]);
  assert.deepEqual(parseLegacyFlight(all)?.anomalies, []);
  const ev = await next();
  assert.equal(ev.event_type, 'honeypot');
  assert.equal(ev.src_ip, '127.0.0.1');
  assert.equal(ev.dest_port, pctPort);
  assert.equal(ev.proto, 'TCP');
  assert.equal(ev.honeypot.service, 'pct');
  assert.equal(ev.honeypot.pct?.classification, 'probe');
  assert.equal(ev.honeypot.pct?.answered, 'pct_server_hello');
  assert.equal(ev.honeypot.bytes, hello.length);
  assert.equal(ev.honeypot.sha256, sha256Hex(hello));
  assert.equal(ev.honeypot.first_bytes, hello.subarray(0, 64).toString('hex'));
  assert.equal(ev.honeypot.truncated, false);
  assert.match(ev.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+0000$/);
});

test('the harmless exploit fixture yields exploit_attempt with its sha256, and the payload is stored 0600', async (t) => {
  const dir = tempDir(t);
  const { pctPort, next, hp } = await startHoneypot(t, { store: { dir } });
  const fixture = pctExploitFixture();
  const { socket } = await exchange(pctPort, fixture, wholeRecord);
  socket.end();
  const ev = await next();
  assert.equal(ev.honeypot.pct?.classification, 'exploit_attempt');
  assert.ok(ev.honeypot.pct?.anomalies.includes('session_id_length_invalid'));
  assert.equal(ev.honeypot.sha256, sha256Hex(fixture));
  assert.equal(ev.honeypot.stored, 'stored');
  const path = payloadPath(dir, ev.honeypot.sha256);
  assert.ok(existsSync(path));
  assert.deepEqual(readFileSync(path), fixture);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(hp.counters.exploit_attempts, 1);
});

test('the exploit flight after the record is captured whole, and judged longer than the record', async (t) => {
  const { pctPort, next } = await startHoneypot(t);
  const flight = Buffer.concat([pctExploitFixture(), Buffer.alloc(1800, 0x90)]);
  const { socket } = await exchange(pctPort, flight, wholeRecord);
  socket.end();
  const ev = await next();
  assert.equal(ev.honeypot.bytes, flight.length);
  assert.equal(ev.honeypot.pct?.classification, 'exploit_attempt');
  assert.ok(ev.honeypot.pct?.anomalies.includes('flight_longer_than_record'));
});

test('a plain SSLv2 hello gets the SSLv2 ERROR and the connection is closed', async (t) => {
  const { pctPort, next } = await startHoneypot(t);
  const { reply } = await exchange(pctPort, sslv2ClientHello());
  assert.deepEqual([...reply], [0x80, 0x03, 0x00, 0x00, 0x01]);
  const ev = await next();
  assert.equal(ev.honeypot.pct?.answered, 'sslv2_error');
  assert.equal(ev.honeypot.pct?.classification, undefined);
  assert.equal(ev.honeypot.end, 'answered');
});

test('a generic listener records the first bytes a client sends', async (t) => {
  const { ports, next } = await startHoneypot(t, { pct: null, listeners: [{ host: '127.0.0.1', port: 0 }] });
  const port = ports[0]!;
  const bytes = Buffer.from('GET /scripts/..%c0%af../winnt/system32/cmd.exe?/c+dir HTTP/1.0\r\n\r\n');
  const s = connect(port, '127.0.0.1', () => s.end(bytes));
  s.on('error', () => undefined);
  const ev = await next();
  assert.equal(ev.honeypot.service, 'listener');
  assert.equal(ev.dest_port, port);
  assert.equal(ev.honeypot.bytes, bytes.length);
  assert.equal(ev.honeypot.first_bytes, bytes.subarray(0, 64).toString('hex'));
  assert.equal(ev.honeypot.pct, undefined);
  assert.equal(ev.honeypot.end, 'client_closed');
});

for (const service of ['pct', 'listener'] as const) {
  test(`a client streaming 10 MB to the ${service} service is cut at the capture cap, with memory bounded and the event truncated`, async (t) => {
    const cap = 64 * 1024;
    const options: HoneypotOptions = service === 'pct' ? { limits: { captureBytes: cap } } : { pct: null, listeners: [{ host: '127.0.0.1', port: 0 }], limits: { captureBytes: cap } };
    const { pctPort, ports, next, hp } = await startHoneypot(t, options);
    const before = process.memoryUsage();
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    const total = 10 * 1024 * 1024;
    let sent = 0;
    const s = connect(service === 'pct' ? pctPort : ports[0]!, '127.0.0.1');
    s.on('error', () => undefined); // the honeypot resets us at the cap
    t.after(() => s.destroy());
    const pump = (): void => {
      while (sent < total && !s.destroyed) {
        sent += chunk.length;
        if (!s.write(chunk)) return void s.once('drain', pump);
      }
      if (sent >= total) s.end();
    };
    // The PCT service answers a hello and then captures the endless "flight" behind it.
    s.on('connect', () => {
      if (service === 'pct') s.write(pctClientHello());
      pump();
    });
    const ev = await next();
    s.destroy();
    assert.equal(ev.honeypot.truncated, true);
    assert.equal(ev.honeypot.end, 'cap');
    assert.equal(ev.honeypot.bytes, cap);
    if (service === 'pct') assert.equal(ev.honeypot.pct?.answered, 'pct_server_hello');
    assert.ok(hp.counters.peak_held_bytes! <= cap, `held ${hp.counters.peak_held_bytes}`);
    assert.equal(hp.counters.capped, 1);
    const grown = process.memoryUsage().arrayBuffers - before.arrayBuffers;
    assert.ok(grown < 8 * 1024 * 1024, `array buffers grew by ${grown} bytes`);
    assert.ok(sent < total, 'the client was cut off before sending everything');
  });
}

test('stop() closes every open socket, and each still yields its event', async (t) => {
  const { pctPort, ports, hp, events } = await startHoneypot(t, { listeners: [{ host: '127.0.0.1', port: 0 }] });
  const sockets: Socket[] = [];
  const closed: Promise<void>[] = [];
  for (const port of [pctPort, pctPort, ports[0]!]) {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    closed.push(withTimeout(new Promise<void>((resolve) => s.on('close', () => resolve())), 'the socket to close'));
    await withTimeout(new Promise<void>((resolve) => s.on('connect', () => resolve())), 'connect');
    s.write(Buffer.from([0x80])); // half a header: the service waits
    sockets.push(s);
  }
  for (let i = 0; i < 50 && hp.openConnections < 3; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(hp.openConnections, 3);
  await withTimeout(hp.stop(), 'stop');
  await Promise.all(closed);
  assert.equal(hp.openConnections, 0);
  assert.equal(events.length, 3);
  assert.ok(events.every((e) => e.honeypot.end === 'shutdown'));
});

test('connections over the cap are refused and counted', async (t) => {
  const { pctPort, hp } = await startHoneypot(t, { limits: { maxConnections: 1 } });
  const a = connect(pctPort, '127.0.0.1');
  a.on('error', () => undefined);
  t.after(() => a.destroy());
  await withTimeout(new Promise<void>((resolve) => a.on('connect', () => resolve())), 'connect');
  for (let i = 0; i < 50 && hp.openConnections < 1; i++) await new Promise((r) => setTimeout(r, 10));
  const b = connect(pctPort, '127.0.0.1');
  b.on('error', () => undefined);
  await withTimeout(new Promise<void>((resolve) => b.on('close', () => resolve())), 'the refused socket to close');
  assert.equal(hp.counters.refused, 1);
});

test('an idle client is closed at the idle limit', async (t) => {
  const { pctPort, next } = await startHoneypot(t, { limits: { idleMs: 100 } });
  const s = connect(pctPort, '127.0.0.1');
  s.on('error', () => undefined);
  t.after(() => s.destroy());
  const ev = await next();
  assert.equal(ev.honeypot.end, 'timeout');
  assert.equal(ev.honeypot.bytes, 0);
  assert.equal(ev.honeypot.pct?.answered, 'closed');
});
