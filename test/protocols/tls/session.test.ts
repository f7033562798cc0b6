/**
 * The TLS session against a fake AppOutput: when each side goes to rules, when the record is
 * written and what it says, which events are raised, the format switch after an SSLv2-compatible
 * hello, PCT's fields and flight, and that chunking changes nothing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TlsRecord } from '../../../src/events/tls.js';
import { ja3 } from '../../../src/protocols/tls/ja3.js';
import { parseClientHello } from '../../../src/protocols/tls/parse.js';
import { TlsSession, TLS_EVENTS } from '../../../src/protocols/tls/session.js';
import { pctClientHello, pctExploitFixture, sslv2ClientHello } from '../../../src/synth/pct.js';
import { extension, handshake, record, u16, u8, vec16 } from './build.js';
import { applicationData, changeCipherSpec, clientHelloMessage, clientHelloRecord, heartbeat, hostCertificate, pctError, pctServerHello, sanCertificate, serverFlight, sslv2NoCipher, sslv2ServerHello } from './flights.js';
import { FakeOutput } from './harness.js';

type Step = [0 | 1, Uint8Array];

/** Feeds a conversation in chunks of `chunk` bytes (whole steps when 0), then closes. */
function converse(steps: Step[], chunk = 0, close = true): { out: FakeOutput; session: TlsSession } {
  const out = new FakeOutput();
  const session = new TlsSession(out);
  for (const [dir, bytes] of steps) {
    const n = chunk > 0 ? chunk : bytes.length;
    for (let at = 0; at < bytes.length; at += n) session.data(dir, bytes, at, Math.min(n, bytes.length - at));
  }
  if (close) session.close();
  return { out, session };
}

const tlsOf = (out: FakeOutput): TlsRecord => {
  assert.equal(out.records.length, 1, 'one tls record');
  return out.records[0] as unknown as TlsRecord;
};

const tls12 = (): Step[] => [
  [0, clientHelloRecord({ host: 'www.example.com', alpns: ['h2', 'http/1.1'] })],
  [1, serverFlight({ certs: [hostCertificate('www.example.com'), hostCertificate('Example CA')], alpn: 'h2' })],
  [0, Buffer.concat([record(22, handshake(16, Buffer.alloc(66, 1))), changeCipherSpec(), record(22, Buffer.alloc(40, 9))])],
  [1, Buffer.concat([changeCipherSpec(), record(22, Buffer.alloc(40, 8)), applicationData(500)])],
  [0, applicationData(300)],
];

test('a TLS 1.2 handshake: request inspected at the ClientHello, response at ServerHelloDone, then the record; nothing on close', () => {
  const { out, session } = converse(tls12(), 0, false);
  assert.deepEqual(out.sequence, ['inspect:0', 'inspect:1', 'record:tls']);
  session.close();
  assert.deepEqual(out.sequence, ['inspect:0', 'inspect:1', 'record:tls'], 'close adds nothing');
  const rec = out.calls.find((c) => c.kind === 'record')!;
  assert.equal(rec.kind === 'record' && rec.dir, 0, 'written from the client (LOG_DIR_FLOW)');
  assert.equal(rec.kind === 'record' && rec.txId, 0);
  const t = tlsOf(out);
  const hello = parseClientHello(clientHelloMessage({ host: 'www.example.com', alpns: ['h2', 'http/1.1'] }).subarray(4));
  assert.deepEqual(t, {
    subject: 'C=US, O=Example Org, CN=www.example.com',
    issuerdn: 'C=US, O=Example Org, CN=Example CA',
    serial: '00:9C:FC:DA',
    fingerprint: t.fingerprint,
    sni: 'www.example.com',
    version: 'TLS 1.2',
    notbefore: '2004-04-21T10:00:00',
    notafter: '2005-04-21T10:00:00',
    ja3: ja3(hello)!,
    ja3s: t.ja3s!,
    client_alpns: ['h2', 'http/1.1'],
    server_alpns: ['h2'],
  });
  assert.match(t.fingerprint!, /^([0-9a-f]{2}:){19}[0-9a-f]{2}$/);
  assert.equal(t.ja3s!.string, '771,49199,16');
  assert.deepEqual(Object.keys(t), ['subject', 'issuerdn', 'serial', 'fingerprint', 'sni', 'version', 'notbefore', 'notafter', 'ja3', 'ja3s', 'client_alpns', 'server_alpns'], "Suricata's field order");
  assert.deepEqual(out.anomalies, []);
});

test('the same conversation cut into 1-, 3- and 7-byte chunks gives the same calls and record', () => {
  const whole = converse(tls12()).out;
  for (const chunk of [1, 3, 7]) {
    const cut = converse(tls12(), chunk).out;
    assert.deepEqual(cut.sequence, whole.sequence, `chunk ${chunk}`);
    assert.deepEqual(cut.records, whole.records, `chunk ${chunk}`);
  }
});

test('buffers: sni, certificate fields and chain, JA3/JA3S, version; the chain is released once logged', () => {
  const out = new FakeOutput();
  const s = new TlsSession(out);
  const steps = tls12();
  const ch = steps[0]![1];
  s.data(0, ch, 0, ch.length);
  const tx = s.tx;
  const text = (name: string): string | null => {
    const b = tx.buffer(name, 0);
    return b === null ? null : Buffer.from(b).toString('latin1');
  };
  assert.equal(text('tls.sni'), 'www.example.com');
  assert.equal(text('tls.cert_subject'), null, 'no certificate yet: null, not empty');
  assert.deepEqual(tx.buffer('tls.version', 0), Uint8Array.of(0x03, 0x03), "the ClientHello's version before the server's");
  assert.equal(text('ja3.hash'), tx.ja3!.hash);
  // Before the server's flight completes, inspect what the engine will see at inspect(tx, 1).
  let seen: { subject: string | null; certs: number; version: Uint8Array | null } | null = null;
  out.inspect = (t, dir) => {
    out.calls.push({ kind: 'inspect', dir, tx: t });
    if (dir === 1) seen = { subject: Buffer.from(t.buffer('tls.cert_subject', 1)!).toString(), certs: t.buffers!('tls.certs', 1)!.length, version: t.buffer('tls.version', 1) };
  };
  const sf = steps[1]![1];
  s.data(1, sf, 0, sf.length);
  assert.deepEqual(seen, { subject: 'C=US, O=Example Org, CN=www.example.com', certs: 2, version: Uint8Array.of(3, 3) });
  assert.equal(text('tls.cert_issuer'), 'C=US, O=Example Org, CN=Example CA');
  assert.equal(text('tls.cert_serial'), '00:9C:FC:DA');
  assert.equal(text('ja3s.string'), '771,49199,16');
  assert.equal(tx.buffers('tls.certs', 1), null, 'the DER chain is dropped once logged and both sides inspected');
  assert.equal(s.buffered, 0);
});

test('TLS 1.3 with a HelloRetryRequest: the real ServerHello is the one logged, and the response waits for it', () => {
  const hrrRandom = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');
  const hrr = record(22, handshake(2, Buffer.concat([u16(0x0303), hrrRandom, u8(0), u16(0x1301), u8(0), vec16(Buffer.concat([extension(43, u16(0x0304)), extension(51, u16(29))]))])));
  const sh = record(22, handshake(2, Buffer.concat([u16(0x0303), Buffer.alloc(32, 0x61), u8(0), u16(0x1302), u8(0), vec16(Buffer.concat([extension(43, u16(0x0304)), extension(51, Buffer.concat([u16(29), vec16(Buffer.alloc(32))]))]))])));
  const ch = (): Buffer => clientHelloRecord({ host: 'tls13.example', versions: [0x0304, 0x0303] });
  const { out } = converse([
    [0, ch()],
    [1, Buffer.concat([hrr, changeCipherSpec()])],
    [0, Buffer.concat([changeCipherSpec(), ch()])],
    [1, Buffer.concat([sh, changeCipherSpec(), applicationData(900)])],
  ]);
  assert.deepEqual(out.sequence, ['inspect:0', 'inspect:1', 'record:tls']);
  const t = tlsOf(out);
  assert.equal(t.version, 'TLS 1.3');
  assert.equal(t.ja3s!.string, '771,4866,43-51', 'JA3S of the real ServerHello (cipher 0x1302)');
  assert.equal(t.sni, 'tls13.example');
  assert.equal(t.session_resumed, undefined);
  assert.deepEqual(out.anomalies, [], 'a second ClientHello is not a second SNI extension');
});

test("session resumption: the server echoes the client's session id and sends no certificate", () => {
  const id = Buffer.alloc(32, 0x77);
  const { out } = converse([
    [0, clientHelloRecord({ sessionId: id })],
    [1, Buffer.concat([serverFlight({ sessionId: id, done: false }), changeCipherSpec(), record(22, Buffer.alloc(40, 3))])],
  ]);
  assert.deepEqual(out.sequence, ['inspect:0', 'inspect:1', 'record:tls'], 'the ChangeCipherSpec after the ServerHello completes the response');
  const t = tlsOf(out);
  assert.equal(t.session_resumed, true);
  assert.equal(t.subject, undefined);
  const alertView = (out.calls.find((c) => c.kind === 'inspect')!.tx.alertMetadata!() as { tls: TlsRecord }).tls;
  assert.equal(alertView.session_resumed, undefined, "an alert's tls object leaves session_resumed out, as Suricata's does");
});

test('mutual TLS: the record waits for the client certificate the server asked for, and shows it under client', () => {
  const { out, session } = converse(
    [
      [0, clientHelloRecord()],
      [1, serverFlight({ certs: [hostCertificate('www.example.com')], certificateRequest: true })],
    ],
    0,
    false,
  );
  assert.deepEqual(out.sequence, ['inspect:0', 'inspect:1'], 'no record yet');
  const cc = record(22, Buffer.concat([(() => {
    const c = hostCertificate('client.example');
    return handshake(11, Buffer.concat([Buffer.from([0, 0, c.length + 3]).subarray(0, 0), Buffer.from([(c.length + 3) >>> 16, ((c.length + 3) >>> 8) & 0xff, (c.length + 3) & 0xff]), Buffer.from([c.length >>> 16, (c.length >>> 8) & 0xff, c.length & 0xff]), c]));
  })()]));
  session.data(0, cc, 0, cc.length);
  assert.deepEqual(out.sequence, ['inspect:0', 'inspect:1', 'record:tls']);
  assert.equal(tlsOf(out).client?.subject, 'C=US, O=Example Org, CN=client.example');
});

test('subject alternative names are listed as Suricata prints them', () => {
  const { out } = converse([
    [0, clientHelloRecord()],
    [1, serverFlight({ certs: [sanCertificate('www.example.com', ['www.example.com', 'example.com'], [192, 0, 2, 1])] })],
  ]);
  assert.deepEqual(tlsOf(out).subjectaltname, ['www.example.com', 'example.com', '[192, 0, 2, 1]']);
});

test('an SSLv2-compatible ClientHello followed by TLS records: the client side switches to TLS', () => {
  const v2hello = ((): Buffer => {
    const kinds = Buffer.from([0x00, 0x00, 0x2f, 0x00, 0x00, 0x35]);
    const challenge = Buffer.alloc(16, 0x21);
    const body = Buffer.concat([u8(1), u16(0x0301), u16(kinds.length), u16(0), u16(challenge.length), kinds, challenge]);
    return Buffer.concat([u16(0x8000 | body.length), body]);
  })();
  const { out } = converse([
    [0, v2hello],
    [1, serverFlight({ certs: [hostCertificate('legacy.example')] })],
    [0, Buffer.concat([record(22, handshake(16, Buffer.alloc(130, 2))), changeCipherSpec(), record(22, Buffer.alloc(40, 4))])],
    [1, Buffer.concat([changeCipherSpec(), record(22, Buffer.alloc(40, 5))])],
  ]);
  assert.deepEqual(out.anomalies, [], 'the TLS records after the hello read as TLS, not as SSLv2');
  const t = tlsOf(out);
  assert.equal(t.version, 'TLS 1.2');
  assert.equal(t.subject, 'C=US, O=Example Org, CN=legacy.example');
  assert.equal(t.ja3, undefined, 'no JA3 for an SSLv2-format hello');
  assert.equal(t.sslv2?.client_hello?.version, '0x0301');
  assert.deepEqual(t.pct, { offered: false, version: null, routed: false, native: false, server_answer: 'tls' });
  assert.deepEqual(t.anomalies, []);
});

test("the harmless MS04-011 fixture: SSLv2 with PCT routed, a session-id length of 1, and no answer", () => {
  const { out } = converse([[0, pctExploitFixture()]]);
  assert.deepEqual(out.sequence, ['anomaly:sslv2_session_id_length_invalid', 'inspect:0', 'inspect:1', 'record:tls'], 'the end of the flow completes the response side');
  const t = tlsOf(out);
  assert.equal(t.version, 'UNDETERMINED', 'the server said nothing');
  assert.deepEqual(t.sslv2, { client_hello: { version: '0x0002', record_length: 35, flight_bytes: 0, cipher_spec_length: 3, session_id_length: 1, challenge_length: 22, cipher_kinds: ['0x8f8001'] } });
  assert.deepEqual(t.pct, { offered: true, version: '0x8001', routed: true, native: false, server_answer: 'none' });
  assert.deepEqual(t.anomalies, ['session_id_length_invalid']);
});

test('the first flight: bytes after the hello count until the server speaks, not after; the anomaly is raised before the answer', () => {
  const filler = Buffer.alloc(600);
  const out = new FakeOutput();
  const s = new TlsSession(out);
  const hello = pctExploitFixture();
  s.data(0, hello, 0, hello.length);
  s.data(0, filler, 0, 20);
  assert.deepEqual(out.anomalies, ['sslv2_session_id_length_invalid', 'invalid_sslv2_header'], 'not yet longer than the record (and the zero filler is no SSLv2 record)');
  s.data(0, filler, 20, 100);
  assert.deepEqual(out.anomalies, ['sslv2_session_id_length_invalid', 'invalid_sslv2_header', 'sslv2_flight_longer_than_record'], 'raised as soon as it is certain, before the server answers');
  const answer = pctError(3);
  s.data(1, answer, 0, answer.length);
  s.data(0, filler, 0, 400);
  s.close();
  const t = tlsOf(out);
  assert.equal(t.sslv2!.client_hello!.flight_bytes, 120);
  assert.deepEqual(t.anomalies, ['session_id_length_invalid', 'flight_longer_than_record']);
  assert.equal(t.pct!.server_answer, 'pct_error');
  assert.deepEqual(t.pct!.error, { code: 3, name: 'ILLEGAL_MESSAGE', anomalies: [] });
  assert.equal(t.version, '0x8001');
});

test('a flight that only matches the record once the server answered is not too long', () => {
  const hello = pctExploitFixture();
  const { out } = converse([
    [0, Buffer.concat([hello, Buffer.alloc(30)])],
    [1, sslv2NoCipher()],
    [0, Buffer.alloc(500)],
  ]);
  const t = tlsOf(out);
  assert.equal(t.sslv2!.client_hello!.flight_bytes, 30, '30 bytes is not more than the 37-byte record');
  assert.deepEqual(t.anomalies, ['session_id_length_invalid']);
  assert.equal(t.pct!.server_answer, 'sslv2_error');
  assert.deepEqual(t.sslv2!.error, { code: 1, name: 'NO-CIPHER', direction: 'to_client' });
});

test('a well-formed native PCT hello answered by a PCT SERVER_HELLO: PCT offered and enabled, no anomalies', () => {
  const { out } = converse([
    [0, pctClientHello()],
    [1, pctServerHello(hostCertificate('pct.example'))],
  ]);
  const t = tlsOf(out);
  assert.deepEqual(out.anomalies, []);
  assert.deepEqual(t.pct, {
    offered: true,
    version: '0x8001',
    routed: true,
    native: true,
    server_answer: 'pct_server_hello',
    client_hello: { version: '0x8001', record_length: 96, flight_bytes: 0, cipher_specs: ['0x00048003', '0x00048001'], hash_specs: ['0x0001', '0x0003'], cert_specs: ['0x0001'], exchange_specs: ['0x0001'] },
    server_hello: { version: '0x8001', restart_ok: false, client_auth_requested: false, cipher_spec: '0x00048003', hash_spec: '0x0001', cert_spec: '0x0001', exchange_spec: '0x0001', certificate_length: t.pct!.server_hello!.certificate_length, anomalies: [] },
  });
  assert.deepEqual(t.anomalies, []);
  assert.equal(t.version, '0x8001');
  assert.equal(t.subject, 'C=US, O=Example Org, CN=pct.example', "the PCT server's certificate fills the certificate fields");
  assert.equal(t.sslv2, undefined);
});

test('an SSLv2 hello offering PCT to an SSLv2 server: offered and routed, well-formed, the certificate read', () => {
  const { out } = converse([
    [0, sslv2ClientHello({ offerPct: true })],
    [1, sslv2ServerHello(hostCertificate('v2.example'))],
  ]);
  const t = tlsOf(out);
  assert.deepEqual(out.anomalies, []);
  assert.equal(t.pct!.offered && t.pct!.routed, true);
  assert.equal(t.pct!.server_answer, 'sslv2_server_hello');
  assert.equal(t.version, 'SSLv2');
  assert.equal(t.subject, 'C=US, O=Example Org, CN=v2.example');
  assert.deepEqual(t.anomalies, []);
});

test('after the client master key the SSLv2 records are encrypted and not read', () => {
  const cmk = ((): Buffer => {
    const body = Buffer.concat([u8(2), Buffer.from([0x01, 0x00, 0x80]), u16(11), u16(64), u16(0), Buffer.alloc(75, 1)]);
    return Buffer.concat([u16(0x8000 | body.length), body]);
  })();
  const garbage = Buffer.concat([u16(0x8000 | 20), u8(7), Buffer.alloc(19, 0xee)]); // type 7 would be REQUEST-CERTIFICATE in the clear
  const { out } = converse([
    [0, sslv2ClientHello()],
    [1, sslv2ServerHello(hostCertificate('v2.example'))],
    [0, Buffer.concat([cmk, garbage, garbage])],
  ]);
  const t = tlsOf(out);
  assert.deepEqual(out.anomalies, []);
  assert.deepEqual(t.sslv2!.client_master_key, { cipher_kind: '0x010080', clear_key_length: 11, encrypted_key_length: 64, key_arg_length: 0, anomalies: [] });
});

test("Suricata's record-layer events: type, version, length; each raised once per side, and the side stops there", () => {
  const cases: Array<[string, Buffer]> = [
    ['invalid_record_type', Buffer.from([0x19, 0x03, 0x03, 0x00, 0x02, 0, 0])],
    ['invalid_record_version', Buffer.from([0x17, 0x04, 0x03, 0x00, 0x02, 0, 0])],
    ['invalid_record_length', Buffer.from([0x17, 0x03, 0x03, 0x48, 0x01])],
  ];
  for (const [event, bad] of cases) {
    const { out } = converse([
      [0, clientHelloRecord()],
      [1, serverFlight({ certs: [hostCertificate('a.example')] })],
      [0, Buffer.concat([bad, bad])],
      [0, Buffer.concat([bad, bad])],
    ]);
    assert.deepEqual(out.anomalies, [event]);
    assert.equal(out.calls.find((c) => c.kind === 'anomaly')!.dir, 0);
  }
});

test("Suricata's handshake events: unknown message type, SNI type and length, two SNI extensions, a hello cut short", () => {
  const badSni = (type: number, host: Buffer): Buffer => extension(0, vec16(Buffer.concat([u8(type), vec16(host)])));
  const run = (ch: Buffer): string[] => converse([[0, record(22, ch, 0x0301)]]).out.anomalies;
  assert.deepEqual(run(handshake(99, Buffer.alloc(4))), ['invalid_handshake_message']);
  assert.deepEqual(run(clientHelloMessage({ host: null, extensions: [badSni(1, Buffer.from('x'))] })), ['invalid_sni_type']);
  assert.deepEqual(run(clientHelloMessage({ host: null, extensions: [badSni(0, Buffer.alloc(0))] })), ['invalid_sni_length']);
  assert.deepEqual(run(clientHelloMessage({ host: null, extensions: [badSni(0, Buffer.alloc(256, 0x61))] })), ['invalid_sni_length']);
  assert.deepEqual(run(clientHelloMessage({ host: 'a.example', extensions: [extension(0, vec16(Buffer.concat([u8(0), vec16(Buffer.from('b.example'))])))] })), ['multiple_sni_extensions']);
  const full = clientHelloMessage();
  const cut = Buffer.concat([u8(1), Buffer.from([0, 0, 20]), full.subarray(4, 24)]);
  assert.deepEqual(run(cut), ['handshake_invalid_length']);
  const { out } = converse([[0, record(22, clientHelloMessage({ host: null, extensions: [badSni(0, Buffer.alloc(0))] }), 0x0301)]]);
  assert.equal(tlsOf(out).sni, undefined, 'a rejected SNI is not logged');
});

test("Suricata's certificate, alert and heartbeat events", () => {
  const garbageCert = Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]);
  let r = converse([
    [0, clientHelloRecord()],
    [1, serverFlight({ certs: [garbageCert] })],
  ]).out;
  assert.deepEqual(r.anomalies, ['certificate_invalid_der']);
  assert.equal(tlsOf(r).subject, undefined);
  const truncated = record(22, Buffer.concat([handshake(2, Buffer.concat([u16(0x0303), Buffer.alloc(32), u8(0), u16(0xc02f), u8(0)])), Buffer.from([11, 0, 0, 6, 0, 0, 3, 0, 0, 9]), handshake(14, Buffer.alloc(0))]));
  r = converse([
    [0, clientHelloRecord()],
    [1, truncated],
  ]).out;
  assert.deepEqual(r.anomalies, ['invalid_certificate']);
  r = converse([
    [0, clientHelloRecord()],
    [1, record(21, Buffer.from([2]))],
  ]).out;
  assert.deepEqual(r.anomalies, ['invalid_alert_message']);
  r = converse([
    [0, clientHelloRecord()],
    [0, heartbeat(16384, 3)],
  ]).out;
  assert.deepEqual(r.anomalies, ['overflow_heartbeat_message'], 'a heartbeat claiming more than it carries (CVE-2014-0160)');
  r = converse([
    [0, clientHelloRecord()],
    [0, heartbeat(4, 6)],
  ]).out;
  assert.deepEqual(r.anomalies, ['invalid_heartbeat_message'], 'less than 16 bytes of padding');
  r = converse([
    [0, clientHelloRecord()],
    [1, Buffer.concat([serverFlight({ certs: [hostCertificate('a.example')] }), changeCipherSpec()])],
    [0, record(24, Buffer.alloc(40, 1))],
    [1, record(24, Buffer.alloc(16000, 2))],
  ]).out;
  assert.deepEqual(r.anomalies, ['dataleak_heartbeat_mismatch'], 'an encrypted heartbeat response longer than its request');
  for (const name of r.anomalies) assert.ok((TLS_EVENTS as readonly string[]).includes(name));
});

test('a gap stops the side; the flow still logs what it read', () => {
  const out = new FakeOutput();
  const s = new TlsSession(out);
  const ch = clientHelloRecord();
  s.data(0, ch, 0, ch.length);
  s.gap(1, 1000);
  assert.deepEqual(out.sequence, ['inspect:0', 'inspect:1', 'record:tls'], "the server's side is as complete as it will get");
  const sf = serverFlight({ certs: [hostCertificate('late.example')] });
  s.data(1, sf, 0, sf.length);
  s.close();
  assert.equal(out.records.length, 1);
  assert.equal(tlsOf(out).subject, undefined);
});

test('a flow with nothing readable logs nothing and inspects nothing', () => {
  const { out } = converse([
    [0, Buffer.from('GET / HTTP/1.0\r\n\r\n')],
    [1, Buffer.from('HTTP/1.0 200 OK\r\n\r\n')],
  ]);
  assert.deepEqual(out.sequence, ['anomaly:invalid_record_type', 'anomaly:invalid_record_type']);
});
