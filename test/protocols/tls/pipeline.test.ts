/**
 * TLS through the real pipeline (decoder, flow table, reassembly, application layer): the
 * corpus captures, checked against tshark where it reads the same fields, and crafted PCT
 * conversations (src/synth/pct.ts) on usual and unusual ports.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { probeTls, tlsProtocol } from '../../../src/protocols/tls/index.js';
import { TcpConnection } from '../../../src/synth/traffic.js';
import { pctClientHello, pctExploitFixture, sslv2ClientHello } from '../../../src/synth/pct.js';
import { shared, tool } from '../../helpers.js';
import { clientHelloRecord, hostCertificate, pctError, pctServerHello, serverFlight, sslv2NoCipher } from './flights.js';
import { runCrafted, runFile, type Run } from './harness.js';

const appProtos = (r: Run): Array<string | undefined> => r.events.filter((e) => e.event_type === 'flow').map((e) => e.app_proto);

/** tshark's JA3 and JA3S per client port. */
function tsharkFingerprints(file: string): Map<number, { ja3: string; ja3s: string }> {
  const out = execFileSync('tshark', ['-r', file, '-Y', 'tls.handshake.type == 1 || tls.handshake.type == 2', '-T', 'fields', '-E', 'separator=|', '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'tls.handshake.ja3', '-e', 'tls.handshake.ja3s'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const m = new Map<number, { ja3: string; ja3s: string }>();
  for (const line of out.split('\n').filter((l) => l !== '')) {
    const [sport, dport, j3, j3s] = line.split('|');
    const client = j3 !== '' ? Number(sport) : Number(dport);
    const e = m.get(client) ?? { ja3: '', ja3s: '' };
    if (j3 !== '') e.ja3 = j3!;
    if (j3s !== '') e.ja3s = j3s!;
    m.set(client, e);
  }
  return m;
}

test('ssl-v2.pcap: plain SSLv2, PCT not offered, the certificate of the SERVER-HELLO read, no anomalies', async (t) => {
  const file = shared(t, 'corpus', 'tls', 'ssl-v2.pcap');
  if (file === null) return;
  const r = await runFile(file);
  assert.deepEqual(appProtos(r), ['tls']);
  assert.equal(r.anomalies.length, 0);
  assert.equal(r.tls.length, 1);
  const e = r.tls[0]!;
  assert.equal(e.tx_id, 0);
  assert.equal(e.dest_port, 443, 'written from the client');
  const tls = e.tls;
  assert.equal(tls.version, 'SSLv2');
  assert.equal(tls.subject, 'C=US, ST=Virginia, L=Herndon, O=Parallels, OU=Plesk, CN=plesk, Email=info@plesk.com');
  assert.equal(tls.serial, '4E:B6:F2:69');
  assert.equal(tls.notbefore, '2011-11-06T20:47:37');
  assert.deepEqual(tls.pct, { offered: false, version: null, routed: false, native: false, server_answer: 'sslv2_server_hello' });
  assert.deepEqual(tls.anomalies, []);
  const hello = tls.sslv2!.client_hello!;
  assert.equal(hello.version, '0x0002');
  assert.equal(hello.cipher_spec_length, 21);
  assert.equal(hello.flight_bytes, 0);
  assert.equal(hello.cipher_kinds.includes('0x8f8001'), false);
  assert.equal(tls.sslv2!.server_hello!.certificate_type, 1);
  assert.equal(tls.sslv2!.client_master_key!.anomalies.length, 0, 'the master key is read, and is well-formed');
  assert.equal(tls.ja3, undefined);
});

test('ssl.v3.pcap: three TLSv1 connections, one opening with an SSLv2-compatible hello; JA3 and JA3S as tshark computes them', async (t) => {
  const file = shared(t, 'corpus', 'tls', 'ssl.v3.pcap');
  if (file === null || !tool(t, 'tshark')) return;
  const r = await runFile(file);
  assert.deepEqual(appProtos(r), ['tls', 'tls', 'tls']);
  assert.equal(r.anomalies.length, 0);
  assert.equal(r.tls.length, 3);
  const ts = tsharkFingerprints(file);
  for (const e of r.tls) {
    const want = ts.get(e.src_port!)!;
    assert.equal(e.tls.version, 'TLSv1');
    assert.equal(e.tls.subject?.endsWith('CN=www.dresdner-privat.de'), true);
    assert.equal(e.tls.ja3?.hash ?? '', want.ja3, `ja3 of ${e.src_port}`);
    assert.equal(e.tls.ja3s?.hash ?? '', want.ja3s, `ja3s of ${e.src_port}`);
  }
  const compat = r.tls.filter((e) => e.tls.sslv2 !== undefined);
  assert.equal(compat.length, 1);
  assert.equal(compat[0]!.tls.sslv2!.client_hello!.version, '0x0301');
  assert.equal(compat[0]!.tls.pct!.offered, false);
  assert.equal(compat[0]!.tls.pct!.server_answer, 'tls');
});

test('tls1.2.pcap: the leaf certificate fields (as openssl reads them), TLS 1.2, and JA3/JA3S as tshark computes them', async (t) => {
  const file = shared(t, 'corpus', 'tls', 'tls1.2.pcap');
  if (file === null || !tool(t, 'tshark')) return;
  const r = await runFile(file);
  assert.equal(r.tls.length, 1);
  const e = r.tls[0]!;
  const tls = e.tls;
  assert.equal(tls.version, 'TLS 1.2');
  assert.equal(tls.issuerdn, 'C=GB, ST=Greater Manchester, L=Salford, O=COMODO CA Limited, CN=COMODO High-Assurance Secure Server CA');
  assert.equal(tls.serial, '00:99:FA:A8:03:7A:4E:B2:FA:EF:84:EB:5E:55:D5:B8:C8');
  assert.equal(tls.fingerprint, '33:67:a1:82:4a:60:13:c0:2a:3e:25:bb:e4:da:86:33:87:fa:f1:34');
  assert.deepEqual([tls.notbefore, tls.notafter], ['2011-05-04T00:00:00', '2016-07-04T23:59:59']);
  assert.equal(tls.sni, undefined, 'the hello has no SNI');
  const want = tsharkFingerprints(file).get(e.src_port!)!;
  assert.deepEqual([tls.ja3!.hash, tls.ja3s!.hash], [want.ja3, want.ja3s]);
  assert.equal(tls.pct, undefined, 'no PCT object for a TLS client');
  assert.equal(r.anomalies.length, 0);
});

/** One TCP connection: a handshake, then the given writes, then a close. */
function conversation(server: string, writes: Array<['client' | 'server', Uint8Array]>): Run {
  return runCrafted((cap) => {
    const c = new TcpConnection(cap, '192.0.2.10:1047', server);
    c.handshake();
    for (const [from, bytes] of writes) c.send(from, bytes);
    c.close();
  });
}

test('the harmless PCT fixture is recognised by content on 443 and on 4444: PCT routed, a bad session-id length, written as anomalies', () => {
  for (const server of ['198.51.100.5:443', '198.51.100.5:4444']) {
    const r = conversation(server, [['client', pctExploitFixture()]]);
    assert.deepEqual(appProtos(r), ['tls'], server);
    assert.equal(r.tls.length, 1);
    const tls = r.tls[0]!.tls;
    assert.deepEqual(tls.pct, { offered: true, version: '0x8001', routed: true, native: false, server_answer: 'none' });
    assert.deepEqual(tls.anomalies, ['session_id_length_invalid']);
    assert.deepEqual(
      r.anomalies.map((a) => [a.anomaly.type, a.anomaly.event, a.anomaly.app_proto, a.src_port === 443 || a.src_port === 4444 ? 'from server' : 'from client']),
      [['applayer', 'sslv2_session_id_length_invalid', 'tls', 'from client']],
    );
    assert.equal(r.pipeline.anomalies.get('applayer.tls.sslv2_session_id_length_invalid'), 1);
  }
});

test('an exploit-shaped first flight (the fixture, then filler in the same write): longer than the record, and unpatched IIS answers PCT ERROR', () => {
  const r = conversation('198.51.100.5:443', [
    ['client', Buffer.concat([pctExploitFixture(), Buffer.alloc(1800, 0x90)])],
    ['server', pctError(3)],
  ]);
  const tls = r.tls[0]!.tls;
  assert.deepEqual(tls.anomalies, ['session_id_length_invalid', 'flight_longer_than_record']);
  assert.equal(tls.sslv2!.client_hello!.flight_bytes, 1800);
  assert.equal(tls.pct!.server_answer, 'pct_error');
  assert.equal(tls.pct!.error!.name, 'ILLEGAL_MESSAGE');
  assert.equal(tls.version, '0x8001');
});

test('a well-formed native PCT hello on 8443, answered by a PCT SERVER_HELLO: offered, routed, native, no anomalies', () => {
  const r = conversation('198.51.100.5:8443', [
    ['client', pctClientHello()],
    ['server', pctServerHello(hostCertificate('pct.example'))],
  ]);
  assert.deepEqual(appProtos(r), ['tls']);
  assert.equal(r.anomalies.length, 0);
  const tls = r.tls[0]!.tls;
  assert.equal(tls.pct!.offered && tls.pct!.routed && tls.pct!.native, true);
  assert.equal(tls.pct!.server_answer, 'pct_server_hello');
  assert.deepEqual(tls.pct!.client_hello!.cipher_specs, ['0x00048003', '0x00048001']);
  assert.deepEqual(tls.anomalies, []);
  assert.equal(tls.subject, 'C=US, O=Example Org, CN=pct.example');
});

test('an SSLv2 hello offering PCT to a server without PCT: offered, well-formed, "No PCT" (SSLv2 ERROR)', () => {
  const r = conversation('198.51.100.5:636', [
    ['client', sslv2ClientHello({ offerPct: true })],
    ['server', sslv2NoCipher()],
  ]);
  const tls = r.tls[0]!.tls;
  assert.deepEqual(tls.pct, { offered: true, version: '0x8001', routed: true, native: false, server_answer: 'sslv2_error' });
  assert.deepEqual(tls.anomalies, []);
  assert.equal(tls.version, 'SSLv2');
  assert.deepEqual(
    r.anomalies.map((a) => a.anomaly.event),
    ['error_message_encountered'],
  );
});

test('a TLS handshake split across many small segments on an unusual port gives the same record as in one piece', () => {
  const writes: Array<['client' | 'server', Uint8Array]> = [
    ['client', clientHelloRecord({ host: 'split.example' })],
    ['server', serverFlight({ certs: [hostCertificate('split.example')] })],
  ];
  const whole = conversation('198.51.100.5:9999', writes).tls;
  const split = runCrafted((cap) => {
    const c = new TcpConnection(cap, '192.0.2.10:1047', '198.51.100.5:9999', { mss: 7 });
    c.handshake();
    for (const [from, bytes] of writes) c.send(from, bytes);
    c.close();
  }).tls;
  assert.equal(whole.length, 1);
  assert.deepEqual(split.map((e) => e.tls), whole.map((e) => e.tls));
  assert.equal(whole[0]!.tls.sni, 'split.example');
});

test('probe: TLS, SSLv2 and PCT hellos by content on any port, "more" for a short start, "no" for other protocols', () => {
  const cases: Array<[number, Uint8Array, number, string]> = [
    [0, clientHelloRecord(), 4444, 'yes'],
    [1, serverFlight({ certs: [] }), 4444, 'yes'],
    [1, Buffer.from([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28]), 4444, 'yes'],
    [0, pctExploitFixture(), 4444, 'yes'],
    [0, Buffer.from('80620102bd00010001001600', 'hex'), 12345, 'yes'],
    [0, pctClientHello(), 8443, 'yes'],
    [0, sslv2ClientHello(), 993, 'yes'],
    [1, pctError(3), 443, 'yes'],
    [1, sslv2NoCipher(), 443, 'yes'],
    [1, pctServerHello(), 443, 'yes'],
    [0, Buffer.from([0x16, 0x03]), 443, 'more'],
    [0, Buffer.from([0x80]), 443, 'more'],
    [0, Buffer.from([0x17, 0x03, 0x03, 0x00, 0x20]), 443, 'yes'],
    [0, Buffer.from([0x17, 0x03, 0x03, 0x00, 0x20]), 4444, 'no'],
    [0, Buffer.from('GET / HTTP/1.1\r\n'), 443, 'no'],
    [0, Buffer.from('NICK bot\r\n'), 6697, 'no'],
    [0, Buffer.from([0x16, 0x03, 0x01, 0x00, 0x20, 0x02]), 443, 'no'],
    [0, Buffer.from([0x80, 0x23, 0x01, 0x07, 0x02, 0x00, 0x03]), 443, 'no'],
  ];
  for (const [dir, data, port, want] of cases) assert.equal(probeTls(dir, data, port), want, `${Buffer.from(data).subarray(0, 8).toString('hex')} dir ${dir} port ${port}`);
  assert.equal(tlsProtocol.name, 'tls');
  assert.equal(tlsProtocol.transport, 'tcp');
  for (const p of [443, 465, 993, 995, 8443]) assert.ok(tlsProtocol.ports.includes(p));
});
