import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyReply } from '../../src/scanner/classify.js';
import { endpointFindings, PCT_REMEDIATION, scanResultJson, type EndpointResults } from '../../src/scanner/findings.js';
import { probeHello, type ProbeKind } from '../../src/scanner/hellos.js';
import type { ProbeResult } from '../../src/scanner/probe.js';

const h = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function answered(probe: ProbeKind, reply: Buffer): ProbeResult {
  const sent = probeHello(probe);
  return { probe, host: '127.0.0.1', port: 443, outcome: 'answered', reply: classifyReply(reply, sent, 'complete'), bytes: reply, sent, elapsedMs: 1, error: null };
}

const serverHello = (v: number): Buffer => {
  const body = Buffer.concat([Buffer.from([v >> 8, v & 0xff]), Buffer.alloc(32), Buffer.from([0, 0x00, 0x2f, 0])]);
  return Buffer.concat([Buffer.from([0x16, 0x03, v & 0xff, 0, body.length + 4, 0x02, 0, 0, body.length]), body]);
};
const alert = h('15 03 01 00 02 02 46');

/** An unpatched IIS 5 as DOMAIN §2 and §4 describe it: ILLEGAL_MESSAGE to PCT, SSLv2, SSLv3 and TLS 1.0. */
function oldIis(): EndpointResults {
  return {
    ip: '127.0.0.1',
    port: 443,
    results: {
      pct: answered('pct', h('80 05 05 00 03 00 00')),
      sslv2_pct: answered('sslv2_pct', h('80 05 05 00 03 00 00')),
      sslv2: answered('sslv2', h('80 0b 04 00 01 00 02 00 00 00 00 00 00')),
      ssl3: answered('ssl3', serverHello(0x0300)),
      tls1: answered('tls1', serverHello(0x0301)),
      tls1_1: answered('tls1_1', serverHello(0x0301)),
      tls1_2: answered('tls1_2', serverHello(0x0301)),
      tls1_3: answered('tls1_3', alert),
    },
  };
}

test('testssl-shaped findings with severities as testssl gives them', () => {
  const findings = endpointFindings(oldIis());
  const by = Object.fromEntries(findings.map((f) => [f.id, f]));
  assert.deepEqual(Object.keys(by).sort(), ['PCT', 'SSLv2', 'SSLv3', 'TLS1', 'TLS1_1', 'TLS1_2', 'TLS1_3', 'service']);
  for (const f of findings) {
    assert.deepEqual(Object.keys(f).sort(), ['cve', 'cvss', 'cwe', 'evidence', 'finding', 'id', 'ip', 'port', 'remediation', 'severity']);
    assert.equal(f.port, '443');
    assert.equal(f.ip, '127.0.0.1');
  }
  assert.equal(by.PCT!.severity, 'CRITICAL');
  assert.equal(by.PCT!.evidence, '80050500030000');
  assert.equal(by.SSLv2!.severity, 'CRITICAL');
  assert.equal(by.SSLv3!.severity, 'HIGH');
  assert.equal(by.TLS1!.severity, 'LOW');
  assert.match(by.TLS1_1!.finding, /not offered \(server chose TLS 1\.0\)/);
  assert.equal(by.TLS1_2!.severity, 'INFO');
  assert.equal(by.TLS1_3!.severity, 'INFO');
  assert.match(by.SSLv3!.remediation, /SSLProtocol -all \+TLSv1\.2 \+TLSv1\.3/);
  assert.match(by.SSLv2!.remediation, /SCHANNEL\\Protocols\\SSL 2\.0\\Server/);
  assert.deepEqual(Object.keys(scanResultJson(findings)), ['scanResult']);
});

test('PCT remediation: the .reg text for server and client, KB 187498, MS04-011 / KB 835732, reboot, how to verify', () => {
  const r = PCT_REMEDIATION;
  assert.match(r, /^Windows Registry Editor Version 5\.00$/m);
  assert.match(r, /\[HKEY_LOCAL_MACHINE\\System\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\PCT 1\.0\\Server\]\n"Enabled"=dword:00000000/);
  assert.match(r, /\\PCT 1\.0\\Client\]\n"Enabled"=dword:00000000/);
  assert.match(r, /KB 187498/);
  assert.match(r, /MS04-011 \(KB 835732\)/);
  assert.match(r, /reboot/);
  assert.match(r, /8F 80 01/);
  assert.match(r, /native PCT 1\.0 CLIENT_HELLO/);
});

test('a PCT SERVER_HELLO to either PCT probe is CRITICAL; no-PCT answers are OK with both replies as evidence', () => {
  const e = oldIis();
  e.results.pct = answered('pct', h('80 03 00 00 01'));
  const hello = Buffer.concat([h('80 38 02 00 80 01'), Buffer.alloc(52)]);
  e.results.sslv2_pct = answered('sslv2_pct', hello);
  const pct = endpointFindings(e).find((f) => f.id === 'PCT')!;
  assert.equal(pct.severity, 'CRITICAL');
  assert.equal(pct.cvss, '10.0');
  assert.match(pct.finding, /SSLv2 CLIENT-HELLO offering PCT/);
  assert.equal(pct.evidence, hello.toString('hex'));
  e.results.sslv2_pct = answered('sslv2_pct', h('80 03 00 00 01'));
  const ok = endpointFindings(e).find((f) => f.id === 'PCT')!;
  assert.equal(ok.severity, 'OK');
  assert.equal(ok.cve, '');
  assert.equal(ok.evidence, '8003000001 8003000001');
});

test('a closed port or a non-SSL service gets only a service finding', () => {
  const sent = probeHello('tls1_2');
  const closed: EndpointResults = { ip: '127.0.0.1', port: 9, results: { tls1_2: { probe: 'tls1_2', host: '127.0.0.1', port: 9, outcome: 'closed', reply: null, bytes: Buffer.alloc(0), sent, elapsedMs: 0, error: 'ECONNREFUSED' } } };
  assert.deepEqual(
    endpointFindings(closed).map((f) => [f.id, f.finding]),
    [['service', 'closed']],
  );
  const banner: EndpointResults = { ip: '127.0.0.1', port: 25, results: { tls1_2: answered('tls1_2', Buffer.from('220 mail ESMTP\r\n')) } };
  const [service, ...rest] = endpointFindings(banner);
  assert.equal(rest.length, 0);
  assert.match(service!.finding, /^not SSL/);
  assert.equal(service!.evidence, Buffer.from('220 mail ESMTP\r\n').toString('hex'));
});
