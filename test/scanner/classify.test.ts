import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyReply, replyComplete } from '../../src/scanner/classify.js';
import { probeHello, tlsClientHello } from '../../src/scanner/hellos.js';

const h = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const pctProbe = probeHello('pct');

/** A PCT SERVER_HELLO per DOMAIN §2: 02, pad, 80 01, restart, auth, cipher(4), hash, cert, exchange, connection id(32), four lengths. */
function pctServerHello(): Buffer {
  const body = Buffer.alloc(56);
  body[0] = 0x02;
  body.writeUInt16BE(0x8001, 2);
  body.writeUInt32BE(0x00048003, 6);
  body.writeUInt16BE(1, 10);
  body.writeUInt16BE(1, 12);
  body.writeUInt16BE(1, 14);
  return Buffer.concat([Buffer.from([0x80, body.length]), body]);
}

/** A TLS ServerHello record; `selected` adds supported_versions (TLS 1.3). */
function tlsServerHello(version: number, selected?: number): Buffer {
  const ext = selected === undefined ? Buffer.alloc(0) : Buffer.from([0x00, 0x06, 0x00, 0x2b, 0x00, 0x02, selected >> 8, selected & 0xff]);
  const body = Buffer.concat([Buffer.from([version >> 8, version & 0xff]), Buffer.alloc(32, 7), Buffer.from([0]), Buffer.from([0x13, 0x01, 0x00]), ext]);
  const hs = Buffer.concat([Buffer.from([0x02, 0, body.length >> 8, body.length & 0xff]), body]);
  return Buffer.concat([Buffer.from([0x16, 0x03, 0x03, hs.length >> 8, hs.length & 0xff]), hs]);
}

test('DOMAIN §2 table: each PCT answer classifies as the table says', () => {
  assert.equal(classifyReply(pctServerHello(), pctProbe, 'complete').kind, 'pct_enabled');
  const illegal = classifyReply(h('80 05 05 00 03 00 00'), pctProbe, 'complete');
  assert.equal(illegal.kind, 'pct_illegal_message');
  assert.equal(illegal.code, 3);
  assert.equal(classifyReply(h('80 05 05 00 06 00 00'), pctProbe, 'complete').kind, 'pct_active');
  const noPct = classifyReply(h('80 03 00 00 01'), pctProbe, 'complete');
  assert.equal(noPct.kind, 'sslv2_error');
  assert.equal(noPct.code, 1);
  assert.equal(classifyReply(h('80 0b 04 00 01 00 02 00 00 00 00 00 00'), pctProbe, 'complete').kind, 'sslv2_server_hello');
  assert.equal(classifyReply(h('15 03 01 00 02 02 28'), pctProbe, 'complete').kind, 'tls_alert');
  assert.equal(classifyReply(h(''), pctProbe, 'close').kind, 'close');
  assert.equal(classifyReply(h(''), pctProbe, 'timeout').kind, 'timeout');
  assert.equal(classifyReply(h(''), pctProbe, 'reset').kind, 'reset');
});

test('a TLS ServerHello carries the negotiated version, supported_versions first', () => {
  const sent = tlsClientHello(0x0303);
  const v12 = classifyReply(tlsServerHello(0x0303), sent, 'complete');
  assert.equal(v12.kind, 'tls_server_hello');
  assert.equal(v12.version, 0x0303);
  assert.equal(classifyReply(tlsServerHello(0x0303, 0x0304), sent, 'complete').version, 0x0304);
  assert.equal(classifyReply(tlsServerHello(0x0301), sent, 'complete').version, 0x0301);
  // Cut after the version: still a ServerHello of that version.
  assert.equal(classifyReply(tlsServerHello(0x0300).subarray(0, 12), sent, 'timeout').version, 0x0300);
});

test('our own bytes coming back are an echo; a text banner is not SSL', () => {
  const sent = tlsClientHello(0x0303);
  assert.equal(classifyReply(sent, sent, 'complete').kind, 'echo');
  assert.equal(classifyReply(sent.subarray(0, 40), sent, 'timeout').kind, 'echo');
  assert.equal(classifyReply(Buffer.from('220 mail ESMTP\r\n'), sent, 'complete').kind, 'not_ssl');
  assert.equal(classifyReply(Buffer.from('HTTP/1.1 400 Bad Request\r\n'), pctProbe, 'close').kind, 'not_ssl');
});

test('replyComplete waits for the first record, all of an echo, and stops at once on non-SSL bytes', () => {
  const sent = tlsClientHello(0x0303);
  const hello = tlsServerHello(0x0303);
  assert.equal(replyComplete(hello.subarray(0, 20), sent), false);
  assert.equal(replyComplete(hello, sent), true);
  assert.equal(replyComplete(sent.subarray(0, 10), sent), false);
  assert.equal(replyComplete(sent, sent), true);
  assert.equal(replyComplete(h('80 05 05 00'), pctProbe), false);
  assert.equal(replyComplete(h('80 05 05 00 03 00 00'), pctProbe), true);
  assert.equal(replyComplete(Buffer.from('220 '), sent), true);
});

test('hostile replies never throw', () => {
  let seed = 1;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  const sent = probeHello('tls1_3');
  for (let i = 0; i < 3000; i++) {
    const len = rnd() % 64;
    const b = Buffer.alloc(len);
    for (let j = 0; j < len; j++) b[j] = rnd();
    if (len > 0 && i % 3 === 0) b[0] = [0x16, 0x15, 0x80, 0x81][i % 4]!;
    if (len > 1 && i % 5 === 0) b[1] = 0x03;
    for (const end of ['close', 'reset', 'timeout', 'complete'] as const) classifyReply(b, sent, end);
    replyComplete(b, sent);
  }
});
