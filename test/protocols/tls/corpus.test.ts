/**
 * The corpus TLS captures, reassembled by the real decoder and flow table, parsed here and
 * compared field by field with tshark (and, for certificate fields tshark prints differently,
 * with openssl reading the certificates tshark extracted).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test, type TestContext } from 'node:test';
import { certificateInfo } from '../../../src/protocols/tls/cert.js';
import { ja3, ja3s } from '../../../src/protocols/tls/ja3.js';
import {
  HandshakeType,
  parseCertificateMessage,
  parseClientHello,
  parseLegacyFlight,
  parseLegacyRecord,
  parseServerHello,
  recordFormat,
  TlsDirection,
  type ClientHello,
  type LegacyParsed,
  type ServerHello,
} from '../../../src/protocols/tls/parse.js';
import { splitLegacyRecords, type Sslv2ClientHello, type Sslv2ClientMasterKey, type Sslv2ServerHello } from '../../../src/protocols/tls/sslv2.js';
import { shared, tool } from '../../helpers.js';
import { flightsOf, streamOf, tcpConversations, type Conversation } from './build.js';

/** What we read from one direction of one connection. */
interface DirectionView {
  format: string;
  /** SSLv2/PCT records, up to the point where they are encrypted. */
  legacy: LegacyParsed[];
  clientHellos: ClientHello[];
  serverHellos: ServerHello[];
  /** Each Certificate message's DER list (an SSLv2 SERVER-HELLO's certificate counts as a list of one). */
  certificates: Uint8Array[][];
}

function view(conv: Conversation, dir: number): DirectionView {
  const bytes = streamOf(conv, dir);
  const v: DirectionView = { format: recordFormat(bytes), legacy: [], clientHellos: [], serverHellos: [], certificates: [] };
  let tlsFrom = v.format === 'tls' ? 0 : -1;
  if (v.format === 'sslv2' || v.format === 'pct') {
    const first = parseLegacyFlight(flightsOf(conv, dir)[0]!);
    assert.ok(first !== null);
    v.legacy.push(first);
    const m = first.message;
    if (m.type === 'client_hello' && 'cipherKinds' in m && m.version >> 8 === 3) {
      tlsFrom = first.recordLength; // an SSLv3/TLS client's compatible hello: TLS records follow
    } else {
      const split = splitLegacyRecords(bytes, first.recordLength);
      assert.equal(split.error, null, 'SSLv2 records all the way');
      assert.equal(first.recordLength + split.consumed, bytes.length, 'SSLv2 records end where the stream ends');
      // After the client's master key (and so the server's hello), every SSLv2 record is encrypted.
      if (dir === 0) for (const r of split.records.slice(0, 1)) v.legacy.push(parseLegacyRecord(r));
    }
    if (m.type === 'server_hello' && 'certificate' in m) v.certificates.push([m.certificate]);
  }
  if (tlsFrom >= 0) {
    const d = new TlsDirection();
    const out = d.push(bytes.subarray(tlsFrom));
    assert.equal(out.error, null, 'TLS records all the way');
    assert.equal(d.records.pending, 0, 'TLS records end where the stream ends');
    for (const msg of out.messages) {
      if (msg.type === HandshakeType.CLIENT_HELLO) v.clientHellos.push(parseClientHello(msg.body));
      else if (msg.type === HandshakeType.SERVER_HELLO) v.serverHellos.push(parseServerHello(msg.body));
      else if (msg.type === HandshakeType.CERTIFICATE) {
        const certs = parseCertificateMessage(msg.body);
        assert.deepEqual(certs.anomalies, []);
        v.certificates.push(certs.certificates);
      }
    }
  }
  return v;
}

function tshark(file: string, filter: string, fields: string[]): string[][] {
  const out = execFileSync('tshark', ['-r', file, '-Y', filter, '-T', 'fields', '-E', 'separator=|', ...fields.flatMap((f) => ['-e', f])], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return out
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split('|'));
}

const hex4 = (v: number): string => `0x${v.toString(16).padStart(4, '0')}`;
const hex6 = (v: number): string => `0x${v.toString(16).padStart(6, '0')}`;

/** openssl's short names where x509-parser (Suricata) prints others. */
const OPENSSL_TO_SURICATA: Record<string, string> = { emailAddress: 'Email', street: 'streetAddress', GN: 'givenName', SN: 'surname', jurisdictionC: 'msJurisdictionCountry', jurisdictionST: 'msJurisdictionStateOrProvince', jurisdictionL: 'msJurisdictionLocality' };

/** openssl's reading of one DER certificate, its names put in Suricata's words. */
function opensslFields(der: Uint8Array): { subject: string; issuer: string; serial: string; fingerprint: string; notBefore: string; notAfter: string } {
  const out = execFileSync('openssl', ['x509', '-inform', 'DER', '-noout', '-subject', '-issuer', '-serial', '-fingerprint', '-sha1', '-startdate', '-enddate', '-nameopt', 'sep_comma_plus_space,sname,utf8'], { input: der, encoding: 'utf8' });
  const get = (key: string): string => {
    const line = out.split('\n').find((l) => l.startsWith(`${key}=`));
    assert.ok(line !== undefined, `openssl printed ${key}`);
    return line.slice(key.length + 1);
  };
  const names = (dn: string): string => dn.replace(/(^|, | \+ )([A-Za-z]+)=/g, (_m, sep: string, key: string) => `${sep}${OPENSSL_TO_SURICATA[key] ?? key}=`);
  return { subject: names(get('subject')), issuer: names(get('issuer')), serial: get('serial'), fingerprint: get('sha1 Fingerprint'), notBefore: get('notBefore'), notAfter: get('notAfter') };
}

interface Analysed {
  file: string;
  convs: Array<{ conv: Conversation; client: DirectionView; server: DirectionView }>;
}

async function analyse(t: TestContext, name: string): Promise<Analysed | null> {
  const file = shared(t, 'corpus', 'tls', name);
  if (file === null || !tool(t, 'tshark')) return null;
  const convs = (await tcpConversations(file)).map((conv) => ({ conv, client: view(conv, 0), server: view(conv, 1) }));
  return { file, convs };
}

const byClientPort = (a: Analysed, port: string | number): Analysed['convs'][number] => {
  const c = a.convs.find((x) => x.conv.clientPort === Number(port));
  assert.ok(c !== undefined, `a connection from client port ${port}`);
  return c;
};

/** Compares every TLS ClientHello, ServerHello and Certificate tshark sees with ours. */
function compareTls(a: Analysed): { clientHellos: number; serverHellos: number; certificateMessages: number } {
  const ch = tshark(a.file, 'tls.handshake.type == 1 && tls.record.content_type == 22', ['tcp.srcport', 'tls.handshake.version', 'tls.handshake.ciphersuite', 'tls.handshake.extensions_server_name', 'tls.handshake.extensions.supported_version', 'tls.handshake.ja3_full', 'tls.handshake.ja3']);
  for (const [port, version, ciphers, sni, versions, ja3Full, ja3Hash] of ch) {
    const ours = byClientPort(a, port!).client.clientHellos;
    assert.equal(ours.length, 1, `one ClientHello from ${port}`);
    const h = ours[0]!;
    assert.deepEqual(h.anomalies, []);
    assert.equal(hex4(h.version), version);
    assert.equal(h.cipherSuites.map(hex4).join(','), ciphers);
    assert.equal(h.serverName ?? '', sni);
    assert.equal(h.supportedVersions.map(hex4).join(','), versions);
    assert.deepEqual(ja3(h), { string: ja3Full, hash: ja3Hash });
  }
  const sh = tshark(a.file, 'tls.handshake.type == 2 && tls.record.content_type == 22', ['tcp.dstport', 'tls.handshake.version', 'tls.handshake.ciphersuite', 'tls.handshake.extensions.supported_version', 'tls.handshake.ja3s_full', 'tls.handshake.ja3s']);
  for (const [port, version, cipher, selected, ja3sFull, ja3sHash] of sh) {
    const ours = byClientPort(a, port!).server.serverHellos;
    assert.equal(ours.length, 1, `one ServerHello to ${port}`);
    const s = ours[0]!;
    assert.deepEqual(s.anomalies, []);
    assert.equal(hex4(s.version), version);
    assert.equal(hex4(s.cipherSuite), cipher);
    assert.equal(s.selectedVersion === null ? '' : hex4(s.selectedVersion), selected);
    assert.deepEqual(ja3s(s), { string: ja3sFull, hash: ja3sHash });
  }
  const certs = compareCertificates(a);
  return { clientHellos: ch.length, serverHellos: sh.length, certificateMessages: certs };
}

/** tshark's certificate bytes, serials and times against ours; with `openssl`, every certificate's fields against openssl's. */
function compareCertificates(a: Analysed, openssl = false): number {
  const rows = tshark(a.file, 'tls.handshake.certificate', ['tcp.dstport', 'tls.handshake.certificate', 'x509af.serialNumber', 'x509af.utcTime']);
  for (const [port, certsHex, serials, times] of rows) {
    const ours = byClientPort(a, port!).server.certificates;
    assert.equal(ours.length, 1, `one certificate list to ${port}`);
    const list = ours[0]!;
    assert.deepEqual(
      list.map((c) => Buffer.from(c).toString('hex')),
      certsHex!.split(','),
      'the same DER certificates, in order',
    );
    const tsTimes = times!.split(',');
    list.forEach((der, i) => {
      const info = certificateInfo(der);
      assert.equal(info.problem, null);
      assert.equal(info.serial!.replace(/:/g, '').toLowerCase(), serials!.split(',')[i], 'serial bytes as tshark shows them');
      // tshark prints "2011-11-06 20:47:37 (UTC)": notBefore and notAfter of each certificate in turn.
      assert.equal(`${info.notbefore!.replace('T', ' ')} (UTC)`, tsTimes[2 * i]);
      assert.equal(`${info.notafter!.replace('T', ' ')} (UTC)`, tsTimes[2 * i + 1]);
      if (!openssl) return;
      const o = opensslFields(der);
      assert.equal(info.subject, o.subject);
      assert.equal(info.issuerdn, o.issuer);
      assert.equal(info.serial!.replace(/:/g, '').replace(/^(00)+(?=.)/, ''), o.serial);
      assert.equal(info.fingerprint, o.fingerprint.toLowerCase());
      assert.equal(new Date(`${info.notbefore}Z`).getTime(), new Date(o.notBefore).getTime());
      assert.equal(new Date(`${info.notafter}Z`).getTime(), new Date(o.notAfter).getTime());
    });
  }
  return rows.length;
}

/** tshark's SSLv2 handshake rows against ours. */
function compareSslv2(a: Analysed): number {
  const rows = tshark(a.file, 'tls.handshake.cipherspec || tls.handshake.challenge_length || tls.handshake.connection_id_length || tls.handshake.clear_key_length', [
    'tcp.srcport',
    'tcp.dstport',
    'tls.handshake.type',
    'tls.handshake.version',
    'tls.handshake.cipherspec',
    'tls.handshake.session_id_length',
    'tls.handshake.challenge_length',
    'tls.handshake.connection_id_length',
    'tls.handshake.cert_type',
    'tls.handshake.session_id_hit',
    'tls.handshake.clear_key_length',
    'tls.handshake.encrypted_key_length',
    'tls.handshake.key_arg_length',
  ]);
  for (const [sport, dport, type, version, kinds, sidLen, chLen, connLen, certType, hit, clearLen, encLen, argLen] of rows) {
    const fromClient = dport === '443';
    const conv = byClientPort(a, fromClient ? sport! : dport!);
    const side = fromClient ? conv.client : conv.server;
    const rec = side.legacy.find((l) => l.format === 'sslv2' && l.message.type === { '1': 'client_hello', '2': 'client_master_key', '4': 'server_hello' }[type!]);
    assert.ok(rec !== undefined, `our SSLv2 message of type ${type}`);
    assert.deepEqual(rec.anomalies, [], `type ${type}: well formed`);
    const m = rec.message;
    if (m.type === 'client_hello') {
      const h = m as Sslv2ClientHello;
      assert.deepEqual([hex4(h.version), h.cipherKinds.map(hex6).join(','), String(h.sessionIdLength), String(h.challengeLength)], [version, kinds, sidLen, chLen]);
      assert.equal(rec.pct.offered, false, 'PCT not offered');
      assert.equal(rec.pct.routed, false);
    } else if (m.type === 'server_hello') {
      const s = m as Sslv2ServerHello;
      assert.deepEqual([hex4(s.version), s.cipherKinds.map(hex6).join(','), String(s.connectionId.length), String(s.certificateType), s.sessionIdHit ? '1' : '0'], [version, kinds, connLen, certType, hit]);
    } else {
      const k = m as Sslv2ClientMasterKey;
      assert.deepEqual([hex6(k.cipherKind), String(k.clearKeyLength), String(k.encryptedKeyLength), String(k.keyArgLength)], [kinds, clearLen, encLen, argLen]);
    }
  }
  return rows.length;
}

test('ssl-v2.pcap is plain SSLv2 with PCT not offered: hellos, master key and certificate agree with tshark', async (t) => {
  const a = await analyse(t, 'ssl-v2.pcap');
  if (a === null) return;
  assert.equal(a.convs.length, 1);
  const { client, server } = a.convs[0]!;
  assert.deepEqual([client.format, server.format], ['sslv2', 'sslv2']);
  assert.equal(client.legacy[0]!.message.type, 'client_hello');
  assert.equal(server.legacy[0]!.message.type, 'server_hello');
  assert.equal(compareSslv2(a), 3, 'client hello, server hello, client master key');
  assert.equal(compareCertificates(a), 1);
  const info = certificateInfo(server.certificates[0]![0]!);
  assert.equal(info.subject, 'C=US, ST=Virginia, L=Herndon, O=Parallels, OU=Plesk, CN=plesk, Email=info@plesk.com');
  assert.equal(info.serial, '4E:B6:F2:69');
  assert.equal(info.notbefore, '2011-11-06T20:47:37');
});

test('ssl.v3.pcap: an SSLv2-compatible hello then TLS records, and two TLS handshakes, agree with tshark (versions, ciphers, JA3, JA3S, certificates)', async (t) => {
  const a = await analyse(t, 'ssl.v3.pcap');
  if (a === null) return;
  assert.equal(a.convs.length, 3);
  const first = a.convs.find((c) => c.client.format === 'sslv2');
  assert.ok(first !== undefined, 'one connection opens with an SSLv2-format hello');
  assert.equal((first.client.legacy[0]!.message as Sslv2ClientHello).version, 0x0301);
  assert.equal(first.client.legacy[0]!.pct.offered, false);
  assert.equal(first.client.clientHellos.length, 0, 'no JA3 for an SSLv2-format hello (tshark has none either)');
  assert.equal(compareSslv2(a), 1);
  const n = compareTls(a);
  assert.deepEqual(n, { clientHellos: 2, serverHellos: 3, certificateMessages: 3 });
});

test('tls1.2.pcap: ClientHello, ServerHello and the three-certificate chain agree with tshark', async (t) => {
  const a = await analyse(t, 'tls1.2.pcap');
  if (a === null) return;
  assert.deepEqual(compareTls(a), { clientHellos: 1, serverHellos: 1, certificateMessages: 1 });
  const { client, server } = a.convs[0]!;
  assert.equal(client.clientHellos[0]!.serverName, null, 'this hello carries no SNI (tshark shows none)');
  assert.deepEqual(client.clientHellos[0]!.ecPointFormats, [0, 1, 2]);
  const leaf = certificateInfo(server.certificates[0]![0]!);
  assert.equal(leaf.subject, 'C=US, postalCode=94568, ST=CA, L=Dublin, streetAddress=Suite 400, streetAddress=4140 Dublin Boulevard, O=Taleo Inc., OU=Web, OU=Comodo PremiumSSL Wildcard, CN=*.taleo.net');
  assert.equal(leaf.issuerdn, 'C=GB, ST=Greater Manchester, L=Salford, O=COMODO CA Limited, CN=COMODO High-Assurance Secure Server CA');
  assert.equal(leaf.serial, '00:99:FA:A8:03:7A:4E:B2:FA:EF:84:EB:5E:55:D5:B8:C8');
  assert.equal(leaf.fingerprint, '33:67:a1:82:4a:60:13:c0:2a:3e:25:bb:e4:da:86:33:87:fa:f1:34');
  assert.deepEqual([leaf.notbefore, leaf.notafter], ['2011-05-04T00:00:00', '2016-07-04T23:59:59']);
});

test('every corpus certificate\'s subject, issuer, serial, SHA-1 and validity agree with openssl reading the DER tshark extracted', async (t) => {
  if (!tool(t, 'openssl')) return;
  let certificateMessages = 0;
  for (const name of ['ssl-v2.pcap', 'ssl.v3.pcap', 'tls1.2.pcap']) {
    const a = await analyse(t, name);
    if (a === null) return;
    certificateMessages += compareCertificates(a, true);
  }
  assert.equal(certificateMessages, 5);
});
