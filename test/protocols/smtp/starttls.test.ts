import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pctExploitFixture, sslv2ClientHello } from '../../../src/synth/pct.js';
import { SynthCapture, TcpConnection } from '../../../src/synth/traffic.js';
import { ofType, runBehaviour } from '../../detect/harness.js';

/** An SMTP dialogue to STARTTLS on port 25, the server's answer `reply`, then `hello` from the client. */
function starttls(reply: string, hello: Buffer, early = false): SynthCapture {
  const cap = new SynthCapture(null);
  const c = new TcpConnection(cap, '203.0.113.66:1042', '192.168.1.25:25').handshake();
  c.send('server', '220 mail.example.com ESMTP\r\n')
    .send('client', 'EHLO attacker.example\r\n')
    .send('server', '250-mail.example.com\r\n250-STARTTLS\r\n250 8BITMIME\r\n');
  if (early) c.send('client', Buffer.concat([Buffer.from('STARTTLS\r\n'), hello]));
  else c.send('client', 'STARTTLS\r\n');
  c.send('server', reply);
  if (!early) c.send('client', hello);
  c.close();
  return cap;
}

describe('SMTP STARTTLS hands the connection to TLS', () => {
  test('the PCT exploit after STARTTLS on port 25 is read by the TLS analyzer and judged an exploit (SID 2528 territory)', () => {
    const { events, pipeline } = runBehaviour(starttls('220 2.0.0 Ready to start TLS\r\n', pctExploitFixture()), { correlate: false });
    const tls = ofType(events, 'tls');
    assert.equal(tls.length, 1);
    assert.equal(tls[0]!.tls.pct?.routed, true);
    assert.equal(tls[0]!.dest_port, 25);
    const pct = ofType(events, 'pct');
    assert.deepEqual(pct.map((e) => [e.pct.verdict, e.pct.port]), [['exploit', 25]]);
    assert.equal(ofType(events, 'flow')[0]!.app_proto, 'tls');
    assert.equal(pipeline.app!.counters.upgraded, 1);
    assert.equal(pipeline.app!.counters.detected.get('smtp'), 1);
  });

  test('a client that sends its hello without waiting for the 220 is handed on whole', () => {
    const { events } = runBehaviour(starttls('220 Ready\r\n', sslv2ClientHello({ offerPct: true }), true), { correlate: false });
    assert.equal(ofType(events, 'tls')[0]?.tls.pct?.offered, true);
  });

  test('a refused STARTTLS (454) leaves the connection as SMTP: the bytes after it are not TLS', () => {
    const { events, pipeline } = runBehaviour(starttls('454 4.7.0 TLS not available\r\n', pctExploitFixture()), { correlate: false });
    assert.equal(ofType(events, 'tls').length, 0);
    assert.equal(ofType(events, 'flow')[0]!.app_proto, 'smtp');
    assert.equal(pipeline.app!.counters.upgraded, 0);
  });

  test('SMTP writes no records of its own, and a line past the cap is an anomaly, not memory', () => {
    const cap = new SynthCapture(null);
    new TcpConnection(cap, '10.0.0.1:1042', '10.0.0.2:25').handshake().send('server', '220 hi\r\n').send('client', `EHLO ${'x'.repeat(10000)}\r\nQUIT\r\n`).close();
    const { events } = runBehaviour(cap, { correlate: false });
    assert.deepEqual([...new Set(events.map((e) => e.event_type))].sort(), ['anomaly', 'flow']);
    assert.equal(ofType(events, 'anomaly')[0]!.anomaly.event, 'LINE_TOO_LONG');
  });
});

test('random and mutated SMTP dialogues: nothing thrown, nothing held past the caps', () => {
  let seed = 0x5eed;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const base = Buffer.from('EHLO a\r\nSTARTTLS\r\n');
  for (let i = 0; i < 300; i++) {
    const cap = new SynthCapture(null);
    const bytes = Buffer.from(base);
    for (let k = 0; k < 4; k++) bytes[rand(bytes.length)] = rand(256);
    const junk = Buffer.from(Array.from({ length: rand(3000) }, () => rand(256)));
    new TcpConnection(cap, '10.0.0.1:1042', '10.0.0.2:25').handshake().send('server', rand(2) === 0 ? '220 x\r\n' : '220-x\r\n220 y\r\n').send('client', bytes).send('server', rand(2) === 0 ? '220 go\r\n' : junk).send('client', junk).close();
    const { pipeline } = runBehaviour(cap, { correlate: false });
    assert.equal(pipeline.app!.counters.parserErrors, 0);
  }
});

test('an FTP server on an odd port greeting with a plain 220 stays FTP; SMTP away from its ports needs "SMTP" in the greeting or EHLO', () => {
  const ftp = new SynthCapture(null);
  new TcpConnection(ftp, '10.0.0.1:40000', '10.0.0.2:2121').handshake().send('server', '220 Welcome to files\r\n').send('client', 'USER anonymous\r\n').send('server', '331 Password\r\n').close();
  assert.equal(ofType(runBehaviour(ftp, { correlate: false }).events, 'flow')[0]!.app_proto, 'ftp');
  const smtp = new SynthCapture(null);
  new TcpConnection(smtp, '10.0.0.1:40000', '10.0.0.2:2525').handshake().send('server', '220 mx.example ESMTP Postfix\r\n').send('client', 'EHLO a\r\n').close();
  assert.equal(ofType(runBehaviour(smtp, { correlate: false }).events, 'flow')[0]!.app_proto, 'smtp');
});

test('"STARTTLS" inside a message body is text: the mail transaction ended the following', () => {
  const cap = new SynthCapture(null);
  new TcpConnection(cap, '10.0.0.1:40000', '10.0.0.2:25')
    .handshake()
    .send('server', '220 mx ESMTP\r\n')
    .send('client', 'EHLO a\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n')
    .send('server', '250 ok\r\n250 ok\r\n354 go\r\n')
    .send('client', 'STARTTLS\r\n')
    .send('server', '220 not really\r\n')
    .send('client', pctExploitFixture())
    .close();
  const { events, pipeline } = runBehaviour(cap, { correlate: false });
  assert.equal(pipeline.app!.counters.upgraded, 0);
  assert.equal(ofType(events, 'tls').length, 0);
});
