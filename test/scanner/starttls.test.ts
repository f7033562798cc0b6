import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { Honeypot } from '../../src/honeypot/index.js';
import { scan, StarttlsDialogue, type StarttlsProtocol } from '../../src/scanner/index.js';

/** A plain-text SMTP server on 127.0.0.1 that grants (or refuses) STARTTLS, then relays the connection to `tlsPort`. */
async function smtpServer(t: TestContext, tlsPort: number, grant: boolean): Promise<number> {
  const server = createServer((s: Socket) => {
    s.on('error', () => {});
    s.write('220 mx.example ESMTP\r\n');
    let text = '';
    const onData = (d: Buffer): void => {
      text += d.toString('latin1');
      while (text.includes('\n')) {
        const line = text.slice(0, text.indexOf('\n')).trim();
        text = text.slice(text.indexOf('\n') + 1);
        if (/^EHLO /i.test(line)) s.write(`250-mx.example\r\n${grant ? '250-STARTTLS\r\n' : ''}250 8BITMIME\r\n`);
        else if (/^STARTTLS$/i.test(line)) {
          if (!grant) {
            s.end('502 5.5.1 not supported\r\n');
            return;
          }
          s.off('data', onData);
          s.write('220 2.0.0 Ready to start TLS\r\n');
          const upstream = connect(tlsPort, '127.0.0.1');
          upstream.on('error', () => s.destroy());
          s.pipe(upstream).pipe(s);
          return;
        } else s.write('500 what\r\n');
      }
    };
    s.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  return (server.address() as { port: number }).port;
}

test('SMTP STARTTLS: the probes go after the upgrade, so a PCT-enabled mail server is found (the case SID 2528 watched)', async (t) => {
  const hp = new Honeypot({ pct: { host: '127.0.0.1', port: 0 } }, () => {});
  const [addr] = await hp.start();
  t.after(() => hp.stop());
  const port = await smtpServer(t, addr!.port, true);
  const report = await scan({ targets: [`127.0.0.1:${port}`], starttls: { [port]: 'smtp' }, readTimeoutMs: 1500 });
  const pct = report.findings.find((f) => f.id === 'PCT')!;
  assert.equal(pct.severity, 'CRITICAL', JSON.stringify(report.findings));
  assert.equal(report.findings.find((f) => f.id === 'service')!.finding, 'SSL/TLS');
  const direct = await scan({ targets: [`127.0.0.1:${port}`], starttls: false, readTimeoutMs: 500, retries: 0 });
  assert.match(direct.findings.find((f) => f.id === 'service')!.finding, /^not SSL/, 'without STARTTLS the port is plain SMTP');
});

test('a refused STARTTLS is reported as not SSL, with the server\'s answer', async (t) => {
  const port = await smtpServer(t, 1, false);
  const report = await scan({ targets: [`127.0.0.1:${port}`], starttls: { [port]: 'smtp' }, readTimeoutMs: 1000, retries: 0 });
  const service = report.findings.find((f) => f.id === 'service')!;
  assert.match(service.finding, /^not SSL \(SMTP: STARTTLS refused or not offered: "502 5\.5\.1 not supported"\)$/);
  assert.equal(report.findings.length, 1, 'no protocol findings for a service that does not speak SSL');
});

test('the STARTTLS dialogues of IMAP, POP3 and LDAP', () => {
  const run = (protocol: StarttlsProtocol, server: string[]): string[] => {
    const d = new StarttlsDialogue(protocol);
    const out: string[] = [];
    const opening = d.opening();
    if (opening !== null) out.push(`send ${opening.toString('hex').slice(0, 12)}`);
    let got = Buffer.alloc(0);
    for (const chunk of server) {
      got = Buffer.concat([got, chunk.startsWith('hex:') ? Buffer.from(chunk.slice(4), 'hex') : Buffer.from(chunk, 'latin1')]);
      const s = d.step(got);
      out.push(s.kind === 'send' ? `send ${s.bytes.toString('latin1').trim()}` : s.kind === 'refused' ? `refused ${s.reason}` : s.kind);
    }
    return out;
  };
  assert.deepEqual(run('imap', ['* OK IMAP4rev1 ready\r\n', '* CAPABILITY IMAP4rev1\r\n', 'a1 OK Begin TLS\r\n']), ['send a1 STARTTLS', 'wait', 'ready']);
  assert.deepEqual(run('imap', ['* OK ready\r\n', 'a1 BAD no\r\n']), ['send a1 STARTTLS', 'refused STARTTLS refused or not offered: "a1 BAD no"']);
  assert.deepEqual(run('pop3', ['+OK POP3 ready\r\n', '+OK Begin TLS\r\n']), ['send STLS', 'ready']);
  assert.deepEqual(run('pop3', ['+OK ready\r\n', '-ERR no\r\n'])[1], 'refused STARTTLS refused or not offered: "-ERR no"');
  // LDAP: the client speaks first; an ExtendedResponse with resultCode 0 grants, 2 (protocolError) refuses.
  assert.deepEqual(run('ldap', ['hex:300c02010178070a010004000400']), ['send 301d02010177', 'ready']);
  assert.deepEqual(run('ldap', ['hex:300c02010178070a010204000400']), ['send 301d02010177', 'refused LDAP StartTLS refused (resultCode 2)']);
  assert.deepEqual(run('smtp', ['220-mx\r\n220 mx ESMTP\r\n', '250-mx\r\n250 STARTTLS\r\n', '220 go\r\n']), ['send EHLO outpost.scanner', 'send STARTTLS', 'ready']);
});

test('--rate spaces connections: 10 closed-port probes at 20 a second take about half a second, not a few milliseconds', async () => {
  const started = performance.now();
  const ports = Array.from({ length: 10 }, (_, i) => `127.0.0.1:${i + 1}`);
  const report = await scan({ targets: ports, rate: 20, retries: 0, concurrency: 10 });
  const elapsed = performance.now() - started;
  assert.equal(report.endpoints.length, 10);
  assert.ok(elapsed >= 400, `10 connections at 20/s took ${elapsed.toFixed(0)} ms`);
});
