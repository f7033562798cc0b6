import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { runProbe, scan, scanResultJson, ScopeError, type Finding } from '../../src/scanner/index.js';
import { parseClientHello, parseLegacyFlight } from '../../src/protocols/tls/parse.js';
import { tempDir, tool } from '../helpers.js';

/** Bounds every wait in this file: a loopback answer takes milliseconds. */
const FAST = { connectTimeoutMs: 2000, readTimeoutMs: 2000, retries: 0 };

async function listen(t: TestContext, onSocket: (s: Socket) => void): Promise<number> {
  const server: Server = createServer(onSocket);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  t.after(() => new Promise<void>((ok) => server.close(() => ok())));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  await new Promise<void>((ok) => server.close(() => ok()));
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}

/** A PCT SERVER_HELLO per DOMAIN §2's layout, with a stand-in 4-byte "certificate". */
function pctServerHello(): Buffer {
  const cert = Buffer.from([0x30, 0x02, 0x05, 0x00]);
  const body = Buffer.alloc(56 + cert.length);
  body[0] = 0x02;
  body.writeUInt16BE(0x8001, 2);
  body.writeUInt32BE(0x00048003, 6);
  body.writeUInt16BE(0x0001, 10);
  body.writeUInt16BE(0x0001, 12);
  body.writeUInt16BE(0x0001, 14);
  body.fill(0x33, 16, 48); // connection id
  body.writeUInt16BE(cert.length, 48);
  cert.copy(body, 56);
  return Buffer.concat([Buffer.from([0x80 | (body.length >> 8), body.length & 0xff]), body]);
}

/** Answers a PCT CLIENT_HELLO or a PCT-offering SSLv2 hello with a PCT SERVER_HELLO; closes on anything else. */
function pctResponder(s: Socket): void {
  s.on('error', () => {});
  s.once('data', (d: Buffer) => {
    const nativePct = d.length > 4 && (d[0]! & 0x80) !== 0 && d[2] === 0x01 && d[3] === 0x80 && d[4] === 0x01;
    const v2Pct = d.length > 13 && (d[0]! & 0x80) !== 0 && d[2] === 0x01 && d[11] === 0x8f && d[12]! >= 0x80;
    if (nativePct || v2Pct) s.end(pctServerHello());
    else s.end();
  });
}

const byId = (findings: Finding[], id: string): Finding | undefined => findings.find((f) => f.id === id);

test('a PCT responder is PCT CRITICAL (CVE-2003-0719, CVSS 10.0) with the SERVER_HELLO as evidence', async (t) => {
  const port = await listen(t, pctResponder);
  const report = await scan({ targets: [`127.0.0.1:${port}`], ...FAST });
  const pct = byId(report.findings, 'PCT');
  assert.ok(pct, JSON.stringify(report.findings));
  assert.equal(pct.severity, 'CRITICAL');
  assert.equal(pct.cve, 'CVE-2003-0719');
  assert.equal(pct.cwe, 'CWE-119');
  assert.equal(pct.cvss, '10.0');
  assert.equal(pct.port, String(port));
  assert.equal(pct.evidence, pctServerHello().toString('hex'));
  assert.match(pct.remediation, /PCT 1\.0\\Server\]\n"Enabled"=dword:00000000/);
  assert.equal(byId(report.findings, 'SSLv2')?.severity, 'OK');
  const json = JSON.parse(JSON.stringify(scanResultJson(report.findings))) as { scanResult: Finding[] };
  assert.equal(json.scanResult.length, report.findings.length);
});

test('a TCP echo service is "not SSL" and a closed port "closed", with no error and no protocol finding', async (t) => {
  const echo = await listen(t, (s) => {
    s.on('error', () => {});
    s.pipe(s);
  });
  const closed = await closedPort();
  const report = await scan({ targets: [`127.0.0.1:${echo}`, `127.0.0.1:${closed}`], ...FAST });
  const services = report.findings.filter((f) => f.id === 'service');
  assert.equal(report.findings.length, 2, JSON.stringify(report.findings));
  assert.match(services.find((f) => f.port === String(echo))!.finding, /^not SSL \(our own bytes came back/);
  assert.equal(services.find((f) => f.port === String(closed))!.finding, 'closed');
  const direct = await runProbe('127.0.0.1', closed, 'tls1_2', FAST);
  assert.equal(direct.outcome, 'closed');
  assert.equal(direct.error, 'ECONNREFUSED');
});

test('a silent server is bounded by the read timeout', async (t) => {
  // Reads and discards, so that it sees our close (a socket nobody reads never learns of it).
  const port = await listen(t, (s) => s.on('error', () => {}).resume());
  const r = await runProbe('127.0.0.1', port, 'pct', { connectTimeoutMs: 1000, readTimeoutMs: 200 });
  assert.equal(r.reply?.kind, 'timeout');
  assert.ok(r.elapsedMs < 1500);
});

test('an out-of-scope target is refused before any traffic', async () => {
  await assert.rejects(scan({ targets: ['192.0.2.10:443'], ...FAST }), (err: unknown) => err instanceof ScopeError && /outside the scope/.test(err.message) && /--scope FILE/.test(err.message));
  await assert.rejects(scan({ targets: ['127.0.0.1', '10.0.0.0/30'], ...FAST }), ScopeError);
});

/** Starts `openssl s_server` with a throwaway certificate; resolves with its port once it accepts. */
async function opensslServer(t: TestContext, protocolFlags: string[]): Promise<number> {
  const dir = tempDir(t);
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore', timeout: 20_000 });
  const port = await closedPort();
  const child = spawn('openssl', ['s_server', '-accept', `127.0.0.1:${port}`, '-cert', cert, '-key', key, '-naccept', '100', '-quiet', ...protocolFlags], { stdio: 'ignore' });
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  t.after(async () => {
    child.kill();
    await exited;
  });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const r = await runProbe('127.0.0.1', port, 'tls1_2', { connectTimeoutMs: 500, readTimeoutMs: 500 });
    if (r.outcome !== 'closed') return port;
    await new Promise((ok) => setTimeout(ok, 100));
  }
  throw new Error('openssl s_server did not start within 10 s');
}

test('openssl s_server with TLS 1.2 and 1.3 only: both offered, no PCT, no SSLv2, nothing older', async (t) => {
  if (!tool(t, 'openssl')) return;
  const port = await opensslServer(t, ['-no_ssl3', '-no_tls1', '-no_tls1_1']);
  const report = await scan({ targets: [`127.0.0.1:${port}`], ...FAST });
  const f = (id: string): Finding => byId(report.findings, id)!;
  assert.equal(f('service').finding, 'SSL/TLS', JSON.stringify(report.findings));
  assert.equal(f('TLS1_2').finding, 'offered');
  assert.equal(f('TLS1_2').severity, 'OK');
  assert.equal(f('TLS1_3').finding, 'offered');
  assert.equal(f('PCT').severity, 'OK');
  assert.equal(f('SSLv2').severity, 'OK');
  for (const id of ['SSLv3', 'TLS1', 'TLS1_1']) assert.match(f(id).finding, /^not offered/, id);
});

test('openssl s_server with TLS 1.0 allowed: TLS1 LOW', async (t) => {
  if (!tool(t, 'openssl')) return;
  const port = await opensslServer(t, ['-tls1', '-cipher', 'DEFAULT:@SECLEVEL=0']);
  const report = await scan({ targets: [`127.0.0.1:${port}`], ...FAST, probes: ['tls1', 'tls1_2'] });
  const tls1 = byId(report.findings, 'TLS1');
  assert.equal(tls1?.severity, 'LOW', JSON.stringify(report.findings));
  assert.equal(tls1.finding, 'offered (deprecated)');
  assert.match(tls1.remediation, /ssl_protocols TLSv1\.2 TLSv1\.3/);
  assert.match(byId(report.findings, 'TLS1_2')!.finding, /^not offered/);
});

test('everything a scan sends is a well-formed hello: never the exploit shape', async (t) => {
  const flights: Buffer[] = [];
  const port = await listen(t, (s) => {
    s.on('error', () => {});
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer) => chunks.push(d));
    // Wait for the whole first flight, then answer nothing: a close is a "no PCT" answer.
    setTimeout(() => {
      flights.push(Buffer.concat(chunks));
      s.end();
    }, 50);
  });
  await scan({ targets: [`127.0.0.1:${port}`], ...FAST });
  assert.equal(flights.length, 8, 'one connection per probe');
  for (const flight of flights) {
    if (flight[0] === 0x16) {
      assert.equal(flight.length, 5 + flight.readUInt16BE(3), 'one TLS record, nothing after it');
      assert.deepEqual(parseClientHello(flight.subarray(9)).anomalies, []);
      continue;
    }
    const parsed = parseLegacyFlight(flight);
    assert.ok(parsed, flight.toString('hex'));
    assert.deepEqual(parsed.anomalies, [], flight.toString('hex'));
    assert.equal(parsed.recordLength, flight.length, 'the flight is exactly one record');
  }
});

/** The TLS versions nmap's ssl-enum-ciphers finds on 127.0.0.1:port ("TLSv1.2", ...). */
function nmapVersions(port: number): string[] {
  const xml = execFileSync('nmap', ['-Pn', '-n', '-p', String(port), '--script', 'ssl-enum-ciphers', '-oX', '-', '127.0.0.1'], { encoding: 'utf8', timeout: 120_000 });
  return [...xml.matchAll(/<table key="(SSLv[23]|TLSv1(?:\.[0-3])?)">/g)].map((m) => m[1]!).sort();
}

/** The versions the scanner reports offered, in nmap's names. */
function offered(findings: readonly Finding[]): string[] {
  const names: Record<string, string> = { SSLv2: 'SSLv2', SSLv3: 'SSLv3', TLS1: 'TLSv1.0', TLS1_1: 'TLSv1.1', TLS1_2: 'TLSv1.2', TLS1_3: 'TLSv1.3' };
  return findings.filter((f) => names[f.id] !== undefined && /^offered/.test(f.finding)).map((f) => names[f.id]!).sort();
}

for (const [label, flags, expected] of [
  ['TLS 1.2 and 1.3', ['-no_ssl3', '-no_tls1', '-no_tls1_1'], ['TLSv1.2', 'TLSv1.3']],
  ['TLS 1.0 to 1.2', ['-no_tls1_3', '-cipher', 'DEFAULT:@SECLEVEL=0'], ['TLSv1.0', 'TLSv1.1', 'TLSv1.2']],
] as const) {
  test(`the TLS versions found agree with nmap's ssl-enum-ciphers (openssl s_server, ${label})`, async (t) => {
    if (!tool(t, 'openssl') || !tool(t, 'nmap')) return;
    const port = await opensslServer(t, [...flags]);
    const report = await scan({ targets: [`127.0.0.1:${port}`], ...FAST });
    const ours = offered(report.findings);
    assert.deepEqual(ours, nmapVersions(port));
    assert.deepEqual(ours, [...expected], 'and both found what the server was told to offer');
  });
}
