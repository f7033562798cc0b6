import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { isGrease, ja3, ja3s } from '../../../src/protocols/tls/ja3.js';
import { negotiatedVersion, parseCertificateMessage, parseClientHello, parseServerHello, versionName } from '../../../src/protocols/tls/parse.js';
import { SynthCapture, TcpConnection } from '../../../src/synth/traffic.js';
import { tempDir, tool } from '../../helpers.js';
import { alpn, clientHelloBody, extension, handshake, modernClientHello, record, serverHelloBody, sni, supportedVersions, tls13ServerHello, u16, u24, vec16, vec24 } from './build.js';

test('a TLS 1.3 ClientHello with GREASE: fields, and JA3 built by hand from its lists', () => {
  const { body, expectedJa3 } = modernClientHello('www.example.org');
  const h = parseClientHello(body);
  assert.deepEqual(h.anomalies, []);
  assert.equal(h.malformed, false);
  assert.equal(h.version, 0x0303);
  assert.equal(h.sessionId.length, 32);
  assert.equal(h.cipherSuites.length, 16);
  assert.deepEqual(h.compressionMethods, [0]);
  assert.equal(h.serverName, 'www.example.org');
  assert.deepEqual(h.alpn, ['h2', 'http/1.1']);
  assert.deepEqual(h.supportedVersions, [0xdada, 0x0304, 0x0303]);
  assert.deepEqual(h.supportedGroups, [0x6a6a, 29, 23, 24]);
  assert.deepEqual(h.ecPointFormats, [0]);
  assert.deepEqual(h.signatureAlgorithms, [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]);
  const fp = ja3(h);
  assert.ok(fp !== null);
  assert.equal(fp.string, expectedJa3);
  assert.match(fp.hash, /^[0-9a-f]{32}$/);
});

test('JA3 of a hello without extensions ends in three empty fields; GREASE values are exactly the 16 of RFC 8701', () => {
  const h = parseClientHello(clientHelloBody({ version: 0x0301, ciphers: [0x39, 0x4, 0x0a0a], extensions: null }));
  assert.equal(ja3(h)!.string, '769,57-4,,,');
  const grease = Array.from({ length: 0x10000 }, (_, v) => v).filter(isGrease);
  assert.deepEqual(grease, [0x0a0a, 0x1a1a, 0x2a2a, 0x3a3a, 0x4a4a, 0x5a5a, 0x6a6a, 0x7a7a, 0x8a8a, 0x9a9a, 0xaaaa, 0xbaba, 0xcaca, 0xdada, 0xeaea, 0xfafa]);
});

test('a TLS 1.3 ServerHello: legacy version 0x0303, chosen version from supported_versions, JA3S from the legacy field', () => {
  const { body, expectedJa3s } = tls13ServerHello();
  const s = parseServerHello(body);
  assert.deepEqual(s.anomalies, []);
  assert.equal(s.version, 0x0303);
  assert.equal(s.selectedVersion, 0x0304);
  assert.equal(negotiatedVersion(s), 0x0304);
  assert.equal(versionName(negotiatedVersion(s)), 'TLS 1.3');
  assert.equal(s.cipherSuite, 0x1301);
  assert.equal(s.helloRetryRequest, false);
  assert.equal(ja3s(s)!.string, expectedJa3s);
  const hrr = parseServerHello(serverHelloBody({ random: Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex'), cipher: 0x1301, extensions: [extension(43, u16(0x0304))] }));
  assert.equal(hrr.helloRetryRequest, true);
  // A TLS 1.3 draft server (version 7f 12) sent no session id and no compression.
  const draft = parseServerHello(Buffer.concat([u16(0x7f12), Buffer.alloc(32), u16(0x1301), vec16(extension(43, u16(0x7f12)))]));
  assert.deepEqual([draft.cipherSuite, draft.anomalies.length, versionName(draft.version)], [0x1301, 0, 'TLS 1.3 draft-18']);
});

test('Suricata\'s version names', () => {
  assert.deepEqual([0x0002, 0x0300, 0x0301, 0x0302, 0x0303, 0x0304, 0x7f1c, 0x7f05, 0, 0xfefd].map(versionName), [
    'SSLv2',
    'SSLv3',
    'TLSv1',
    'TLS 1.1',
    'TLS 1.2',
    'TLS 1.3',
    'TLS 1.3 draft-28',
    'TLS 1.3 draft-<16',
    'UNDETERMINED',
    '0xfefd',
  ]);
});

test('hello anomalies: truncation, overrunning extensions, duplicates, SNI rules, trailing bytes', () => {
  const base = { ciphers: [0x1301, 0x1302] };
  const body = clientHelloBody({ ...base, extensions: [sni('a.example')] });
  const cut = parseClientHello(body.subarray(0, 36));
  assert.deepEqual([cut.malformed, cut.anomalies], [true, ['hello_truncated']]);
  assert.equal(ja3(cut), null, 'no fingerprint from a hello that ran out');
  const overrun = parseClientHello(body.subarray(0, body.length - 2));
  assert.deepEqual([overrun.malformed, overrun.anomalies], [true, ['extensions_length_overrun']]);
  const dup = parseClientHello(clientHelloBody({ ...base, extensions: [sni('first.example'), sni('second.example')] }));
  assert.deepEqual([dup.serverName, dup.anomalies], ['first.example', ['extension_duplicate']]);
  const long = parseClientHello(clientHelloBody({ ...base, extensions: [sni('x'.repeat(256))] }));
  assert.deepEqual([long.serverName, long.anomalies], [null, ['sni_too_long']]);
  const otherType = parseClientHello(clientHelloBody({ ...base, extensions: [extension(0, vec16(Buffer.concat([Buffer.from([1]), vec16(Buffer.from('abc'))])))] }));
  assert.deepEqual([otherType.serverName, otherType.anomalies], [null, ['sni_type_unknown']]);
  const trailing = parseClientHello(Buffer.concat([body, Buffer.from([0])]));
  assert.deepEqual(trailing.anomalies, ['trailing_bytes']);
  const badAlpn = parseClientHello(clientHelloBody({ ...base, extensions: [extension(16, Buffer.from([0, 5, 2, 0x68, 0x32]))] }));
  assert.deepEqual([badAlpn.alpn, badAlpn.anomalies, badAlpn.malformed], [[], ['extension_malformed'], false], 'a list longer than its extension: nothing taken from it');
  const odd = parseClientHello(Buffer.concat([u16(0x0303), Buffer.alloc(32), Buffer.from([0]), vec16(Buffer.from([0x13, 0x01, 0x13])), Buffer.from([1, 0])]));
  assert.deepEqual(odd.anomalies, ['cipher_suites_length_odd']);
  assert.deepEqual(odd.cipherSuites, [0x1301]);
});

test('Certificate messages: the DER list in order, TLS 1.3 layout, and length faults', () => {
  const certs = [Buffer.alloc(300, 1), Buffer.alloc(20, 2)];
  const body = vec24(Buffer.concat(certs.map(vec24)));
  const m = parseCertificateMessage(body);
  assert.deepEqual(m.anomalies, []);
  assert.deepEqual(m.certificates.map((c) => [c.length, c[0]]), [
    [300, 1],
    [20, 2],
  ]);
  const tls13 = Buffer.concat([Buffer.from([0]), vec24(Buffer.concat(certs.map((c) => Buffer.concat([vec24(c), vec16(Buffer.alloc(0))]))))]);
  assert.equal(parseCertificateMessage(tls13, { tls13: true }).certificates.length, 2);
  assert.deepEqual(parseCertificateMessage(body.subarray(0, 100)).anomalies, ['certificate_list_length_mismatch', 'certificate_list_truncated']);
  assert.deepEqual(parseCertificateMessage(Buffer.concat([u24(3), u24(0)])).anomalies, ['certificate_empty']);
  assert.deepEqual(parseCertificateMessage(Buffer.from([0, 0])).anomalies, ['certificate_list_truncated']);
});

/** tshark's view of the TLS handshakes in a capture: one row per hello. */
function tsharkHellos(file: string, filter: string, fields: string[]): string[][] {
  const out = execFileSync('tshark', ['-r', file, '-Y', filter, '-T', 'fields', '-E', 'separator=|', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split('|'));
}

test('tshark agrees on crafted hellos: SNI, ALPN, supported versions, JA3 and JA3S (GREASE, TLS 1.3)', (t) => {
  if (!tool(t, 'tshark')) return;
  const file = join(tempDir(t), 'hellos.pcap');
  const cap = new SynthCapture(file);
  const hellos = [modernClientHello('www.example.org').body, modernClientHello('pct.example.net').body, clientHelloBody({ version: 0x0301, ciphers: [0x39, 0x2f], extensions: null }), clientHelloBody({ ciphers: [0xc02f], extensions: [alpn(['http/1.1']), supportedVersions([0x0303])] })];
  const server = tls13ServerHello().body;
  hellos.forEach((hello, i) => {
    const c = new TcpConnection(cap, `10.1.1.${i + 2}:${40000 + i}`, '192.0.2.10:443').handshake();
    c.send('client', record(22, handshake(1, hello), 0x0301));
    c.send('server', Buffer.concat([record(22, handshake(2, server)), record(20, Buffer.from([1])), record(23, Buffer.alloc(50, 9))]));
    c.close();
  });
  cap.close();

  const rows = tsharkHellos(file, 'tls.handshake.type == 1', ['tcp.srcport', 'tls.handshake.extensions_server_name', 'tls.handshake.extensions_alpn_str', 'tls.handshake.extensions.supported_version', 'tls.handshake.ja3_full', 'tls.handshake.ja3']);
  assert.equal(rows.length, hellos.length);
  for (const [port, name, alpnText, versions, ja3Full, ja3Hash] of rows) {
    const h = parseClientHello(hellos[Number(port) - 40000]!);
    const fp = ja3(h)!;
    assert.equal(h.serverName ?? '', name, `SNI on port ${port}`);
    assert.equal(h.alpn.join(','), alpnText);
    assert.equal(h.supportedVersions.map((v) => `0x${v.toString(16).padStart(4, '0')}`).join(','), versions);
    assert.equal(fp.string, ja3Full);
    assert.equal(fp.hash, ja3Hash);
  }
  const srows = tsharkHellos(file, 'tls.handshake.type == 2', ['tls.handshake.extensions.supported_version', 'tls.handshake.ja3s_full', 'tls.handshake.ja3s']);
  assert.equal(srows.length, hellos.length);
  const s = parseServerHello(server);
  for (const [version, full, hash] of srows) {
    assert.equal(`0x${s.selectedVersion!.toString(16).padStart(4, '0')}`, version);
    assert.equal(ja3s(s)!.string, full);
    assert.equal(ja3s(s)!.hash, hash);
  }
});
