/**
 * Rules on TLS buffers through the pipeline (RuleSet, detection engine, alerts): each sticky
 * buffer reaches what the handshake said, alerts carry the transaction's id and its tls object,
 * and a buffer the handshake did not provide matches nothing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TlsRecord } from '../../../src/events/tls.js';
import { ja3 } from '../../../src/protocols/tls/ja3.js';
import { parseClientHello } from '../../../src/protocols/tls/parse.js';
import { pctExploitFixture } from '../../../src/synth/pct.js';
import { TcpConnection } from '../../../src/synth/traffic.js';
import { applicationData, changeCipherSpec, clientHelloMessage, clientHelloRecord, hostCertificate, serverFlight } from './flights.js';
import { runCrafted } from './harness.js';

const HELLO = { host: 'www.example.com', alpns: ['http/1.1'] };
const expectedJa3 = ja3(parseClientHello(clientHelloMessage(HELLO).subarray(4)))!;

function handshakeWith(rules: string): ReturnType<typeof runCrafted> {
  return runCrafted((cap) => {
    const c = new TcpConnection(cap, '192.0.2.10:1047', '198.51.100.5:443');
    c.handshake();
    c.send('client', clientHelloRecord(HELLO));
    c.send('server', serverFlight({ certs: [hostCertificate('www.example.com'), hostCertificate('Example CA')] }));
    c.send('client', changeCipherSpec());
    c.send('server', Buffer.concat([changeCipherSpec(), applicationData(200)]));
    c.close();
  }, rules);
}

test('rules on tls.sni, tls.cert_subject, ja3.hash, ja3.string, tls.certs and tls.version alert once each, with tx_id 0 and the tls object', () => {
  const rules = [
    'alert tls any any -> any any (msg:"sni"; tls.sni; content:"example.com"; sid:1;)',
    'alert tls any any -> any any (msg:"subject"; tls.cert_subject; content:"CN=www.example.com"; sid:2;)',
    `alert tls any any -> any any (msg:"ja3"; ja3.hash; content:"${expectedJa3.hash}"; sid:3;)`,
    'alert tls any any -> any any (msg:"ja3 string"; ja3.string; content:"771,"; startswith; sid:4;)',
    'alert tls any any -> any any (msg:"issuer"; tls.cert_issuer; content:"CN=Example CA"; endswith; sid:5;)',
    'alert tls any any -> any any (msg:"chain"; tls.certs; content:"Example CA"; sid:6;)',
    'alert tls any any -> any any (msg:"version"; tls.version:1.2; sid:7;)',
    'alert tls any any -> any any (msg:"old sticky name"; tls_sni; content:"www.example"; sid:8;)',
    'alert tls any any -> any any (msg:"fingerprint"; tls.cert_fingerprint; pcre:"/^([0-9a-f]{2}:){19}[0-9a-f]{2}$/"; sid:9;)',
  ].join('\n');
  const r = handshakeWith(rules);
  assert.deepEqual(r.alerts.map((a) => a.alert.signature_id).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  for (const a of r.alerts) {
    assert.equal(a.tx_id, 0, `sid ${a.alert.signature_id}`);
    assert.equal(a.app_proto, 'tls');
    const tls = (a as unknown as { tls: TlsRecord }).tls;
    assert.equal(tls.sni, 'www.example.com', `sid ${a.alert.signature_id} carries the tls object`);
    assert.equal(tls.ja3?.hash, expectedJa3.hash);
  }
  const dir = (sid: number): string | undefined => r.alerts.find((a) => a.alert.signature_id === sid)?.direction;
  assert.equal(dir(1), 'to_server', 'tls.sni is inspected with the request');
  assert.equal(dir(2), 'to_client', 'tls.cert_subject with the response');
  const subjectAlert = (r.alerts.find((a) => a.alert.signature_id === 2) as unknown as { tls: TlsRecord }).tls;
  assert.equal(subjectAlert.subject, 'C=US, O=Example Org, CN=www.example.com', 'the response-side alert shows the certificate');
  assert.equal(r.tls.length, 1);
});

test('rules that should not match do not: another SNI, a negated present value, a certificate buffer on a flow without one', () => {
  const rules = [
    'alert tls any any -> any any (msg:"other sni"; tls.sni; content:"example.org"; sid:11;)',
    'alert tls any any -> any any (msg:"negated"; tls.sni; content:!"www.example.com"; sid:12;)',
    'alert tls any any -> any any (msg:"version"; tls.version:1.3; sid:13;)',
    'alert tls any any -> any any (msg:"ja3s"; ja3s.hash; content:"00000000000000000000000000000000"; sid:14;)',
  ].join('\n');
  assert.deepEqual(handshakeWith(rules).alerts, []);
  const noCert = runCrafted((cap) => {
    const c = new TcpConnection(cap, '192.0.2.10:1047', '198.51.100.5:443');
    c.handshake();
    c.send('client', pctExploitFixture());
    c.close();
  }, 'alert tls any any -> any any (msg:"no subject"; tls.cert_subject; content:!"x"; sid:15;)\nalert tls any any -> any any (msg:"sslv2 client"; tls.version:sslv2; sid:16;)');
  assert.deepEqual(
    noCert.alerts.map((a) => a.alert.signature_id),
    [16],
    "a missing buffer matches no content, negated or not; the SSLv2 hello's version is the transaction's before the server speaks",
  );
});
