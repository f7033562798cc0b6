import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pctClientHello, pctExploitFixture, sslv2ClientHello } from '../../src/synth/pct.js';
import { SynthCapture, TcpConnection } from '../../src/synth/traffic.js';
import { ofType, runBehaviour } from './harness.js';

/** One client hello to a server port, in a capture of its own. */
function hello(bytes: Buffer, port = 443): SynthCapture {
  const cap = new SynthCapture(null);
  new TcpConnection(cap, '203.0.113.66:1042', `192.168.1.10:${port}`).handshake().send('client', bytes).close();
  return cap;
}

describe('pct detector', () => {
  test('the exploit-shaped fixture is an MS04-011 exploit attempt, high, with the anomalies that make it one', () => {
    const { events } = runBehaviour(hello(pctExploitFixture()), { correlate: false });
    const found = ofType(events, 'pct');
    assert.equal(found.length, 1);
    const p = found[0]!.pct;
    assert.equal(p.verdict, 'exploit');
    assert.equal(p.signature, 'MS04-011 PCT exploit attempt');
    assert.equal(p.severity, 'high');
    assert.equal(p.cve, 'CVE-2003-0719');
    assert.equal(p.format, 'sslv2');
    assert.ok(p.anomalies.includes('session_id_length_invalid'), p.anomalies.join(','));
    assert.deepEqual([p.client, p.server, p.port], ['203.0.113.66', '192.168.1.10', 443]);
    assert.deepEqual([found[0]!.src_ip, found[0]!.dest_ip, found[0]!.dest_port], ['203.0.113.66', '192.168.1.10', 443]);
    assert.equal(found[0]!.flow_id, ofType(events, 'tls')[0]!.flow_id, 'tied to the TLS record of the same flow');
  });

  test("a well-formed native PCT hello (a scanner's probe) is only offered, informational", () => {
    const { events } = runBehaviour(hello(pctClientHello(), 636), { correlate: false });
    const found = ofType(events, 'pct');
    assert.equal(found.length, 1);
    assert.deepEqual([found[0]!.pct.verdict, found[0]!.pct.severity, found[0]!.pct.format, found[0]!.pct.anomalies], ['offered', 'informational', 'pct', []]);
    assert.equal(found[0]!.pct.cve, undefined);
  });

  test('an SSLv2 hello offering PCT is offered; a plain SSLv2 hello is nothing', () => {
    assert.equal(ofType(runBehaviour(hello(sslv2ClientHello({ offerPct: true })), { correlate: false }).events, 'pct')[0]?.pct.verdict, 'offered');
    assert.equal(ofType(runBehaviour(hello(sslv2ClientHello()), { correlate: false }).events, 'pct').length, 0);
  });

  test('options: a port list narrows where it looks; offered reports can be turned off; the detector can be disabled', () => {
    assert.equal(ofType(runBehaviour(hello(pctExploitFixture(), 8443), { detectors: { pct: { ports: [443] } }, correlate: false }).events, 'pct').length, 0);
    assert.equal(ofType(runBehaviour(hello(pctClientHello()), { detectors: { pct: { 'report-offered': false } }, correlate: false }).events, 'pct').length, 0);
    assert.equal(ofType(runBehaviour(hello(pctExploitFixture()), { detectors: { pct: { enabled: false } }, correlate: false }).events, 'pct').length, 0);
    assert.equal(ofType(runBehaviour(hello(pctExploitFixture(), 8443), { correlate: false }).events, 'pct').length, 1, 'any port by default: SSL is found by content');
  });
});
