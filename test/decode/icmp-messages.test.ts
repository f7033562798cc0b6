import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Layer } from '../../src/decode/index.js';
import { icmpv4, icmpv6, ipv4, ipv6, udp } from '../../src/synth/headers.js';
import { decodeOne, eventNames, text } from './craft.js';

const S4 = '192.0.2.10';
const D4 = '192.0.2.20';
const S6 = 'fe80::1';
const D6 = 'fe80::2';
const RAW = { linktype: 101 };

function v4(msg: Buffer): Buffer {
  return ipv4({ src: S4, dst: D4, proto: 1 }, msg);
}

function v6(msg: Buffer): Buffer {
  return ipv6({ src: S6, dst: D6, nextHeader: 58 }, msg);
}

/** The start of a datagram that caused an error: its IPv4 header and 8 bytes of UDP. */
function quoted4(): Buffer {
  return ipv4({ src: D4, dst: S4, proto: 17 }, udp(5000, 53, Buffer.alloc(0), D4, S4)).subarray(0, 28);
}

function quoted6(): Buffer {
  return ipv6({ src: D6, dst: S6, nextHeader: 17 }, udp(5000, 53, Buffer.alloc(0), D6, S6));
}

test('ICMPv4 echo request and reply carry their identifier and sequence', () => {
  for (const type of [8, 0]) {
    const { p, d } = decodeOne(v4(icmpv4(type, 0, (0x1234 << 16) | 0x0007, Buffer.from('ping'))), RAW);
    assert.deepEqual(eventNames(p), []);
    assert.equal(p.layer, Layer.TRANSPORT);
    assert.equal(p.icmpType, type);
    assert.equal(p.icmpCode, 0);
    assert.equal(p.icmpId, 0x1234);
    assert.equal(p.icmpSeq, 7);
    assert.equal(text(p.payload()), 'ping');
    assert.equal(d.counters.icmp, 1);
  }
});

test('ICMPv4 timestamp and address-mask messages carry an identifier too', () => {
  const { p } = decodeOne(v4(icmpv4(13, 0, (9 << 16) | 10, Buffer.alloc(12))), RAW);
  assert.equal(p.icmpId, 9);
  assert.equal(p.icmpSeq, 10);
  const mask = decodeOne(v4(icmpv4(17, 0, (3 << 16) | 4, Buffer.alloc(4))), RAW).p;
  assert.equal(mask.icmpId, 3);
});

test('an ICMPv4 error quoting a whole header raises nothing and has no identifier', () => {
  const { p } = decodeOne(v4(icmpv4(3, 3, 0, quoted4())), RAW);
  assert.deepEqual(eventNames(p), []);
  assert.equal(p.icmpType, 3);
  assert.equal(p.icmpCode, 3);
  assert.equal(p.icmpId, -1);
  assert.equal(p.icmpSeq, -1);
  assert.equal(p.payloadLen, 28);
});

test('an unknown ICMPv4 type raises icmpv4.unknown_type; an unknown code icmpv4.unknown_code', () => {
  assert.deepEqual(eventNames(decodeOne(v4(icmpv4(99, 0, 0, Buffer.alloc(4))), RAW).p), ['icmpv4.unknown_type']);
  assert.deepEqual(eventNames(decodeOne(v4(icmpv4(3, 16, 0, quoted4())), RAW).p), ['icmpv4.unknown_code']);
  assert.deepEqual(eventNames(decodeOne(v4(icmpv4(8, 1, 0, Buffer.alloc(4))), RAW).p), ['icmpv4.unknown_code']);
  assert.deepEqual(eventNames(decodeOne(v4(icmpv4(11, 1, 0, quoted4())), RAW).p), []);
  assert.deepEqual(eventNames(decodeOne(v4(icmpv4(11, 2, 0, quoted4())), RAW).p), ['icmpv4.unknown_code']);
});

test('an ICMPv4 error quoting less than an IPv4 header raises icmpv4.ipv4_trunc_pkt', () => {
  for (const type of [3, 4, 5, 11, 12]) {
    const { p } = decodeOne(v4(icmpv4(type, 0, 0, quoted4().subarray(0, 12))), RAW);
    assert.deepEqual(eventNames(p), ['icmpv4.ipv4_trunc_pkt'], `type ${type}`);
    assert.equal(p.layer, Layer.TRANSPORT);
  }
});

test('an ICMPv4 error quoting something other than IPv4 raises icmpv4.ipv4_unknown_ver', () => {
  const q = quoted4();
  q[0] = 0x65;
  assert.deepEqual(eventNames(decodeOne(v4(icmpv4(3, 1, 0, q)), RAW).p), ['icmpv4.ipv4_unknown_ver']);
});

test('an ICMPv4 error cut by the snaplen raises nothing', () => {
  const whole = v4(icmpv4(3, 1, 0, quoted4()));
  const { p } = decodeOne(whole.subarray(0, 20 + 8 + 6), { ...RAW, wirelen: whole.length });
  assert.deepEqual(eventNames(p), []);
  assert.equal(p.icmpType, 3);
});

test('fewer than 8 bytes of ICMPv4 raise icmpv4.pkt_too_small', () => {
  const { p } = decodeOne(ipv4({ src: S4, dst: D4, proto: 1 }, Buffer.from([8, 0, 0, 0, 0, 1])), RAW);
  assert.deepEqual(eventNames(p), ['icmpv4.pkt_too_small']);
  assert.equal(p.layer, Layer.NETWORK);
});

test('ICMPv6 echo request and reply carry their identifier and sequence', () => {
  for (const type of [128, 129]) {
    const { p, d } = decodeOne(v6(icmpv6(type, 0, (0xabcd << 16) | 0x0102, Buffer.from('ping6'), S6, D6)), RAW);
    assert.deepEqual(eventNames(p), []);
    assert.equal(p.icmpType, type);
    assert.equal(p.icmpId, 0xabcd);
    assert.equal(p.icmpSeq, 0x0102);
    assert.equal(text(p.payload()), 'ping6');
    assert.equal(d.counters.icmp, 1);
  }
});

test('neighbour discovery with code 0 raises nothing and has no identifier', () => {
  const { p } = decodeOne(v6(icmpv6(135, 0, 0, Buffer.alloc(16), S6, D6)), RAW);
  assert.deepEqual(eventNames(p), []);
  assert.equal(p.icmpId, -1);
});

test('an unknown ICMPv6 type raises icmpv6.unknown_type; an unknown code icmpv6.unknown_code', () => {
  assert.deepEqual(eventNames(decodeOne(v6(icmpv6(99, 0, 0, Buffer.alloc(4), S6, D6)), RAW).p), ['icmpv6.unknown_type']);
  assert.deepEqual(eventNames(decodeOne(v6(icmpv6(127, 0, 0, Buffer.alloc(4), S6, D6)), RAW).p), ['icmpv6.unknown_type']);
  assert.deepEqual(eventNames(decodeOne(v6(icmpv6(128, 1, 0, Buffer.alloc(4), S6, D6)), RAW).p), ['icmpv6.unknown_code']);
  assert.deepEqual(eventNames(decodeOne(v6(icmpv6(135, 1, 0, Buffer.alloc(16), S6, D6)), RAW).p), ['icmpv6.unknown_code']);
  assert.deepEqual(eventNames(decodeOne(v6(icmpv6(1, 9, 0, quoted6(), S6, D6)), RAW).p), ['icmpv6.unknown_code']);
  assert.deepEqual(eventNames(decodeOne(v6(icmpv6(138, 255, 0, Buffer.alloc(8), S6, D6)), RAW).p), []);
});

test('an ICMPv6 error quoting a whole IPv6 header raises nothing', () => {
  for (const type of [1, 2, 3, 4]) {
    const { p } = decodeOne(v6(icmpv6(type, 0, 0, quoted6(), S6, D6)), RAW);
    assert.deepEqual(eventNames(p), [], `type ${type}`);
  }
});

test('an ICMPv6 error quoting less than an IPv6 header raises icmpv6.ipv6_trunc_pkt', () => {
  const { p } = decodeOne(v6(icmpv6(3, 0, 0, quoted6().subarray(0, 30), S6, D6)), RAW);
  assert.deepEqual(eventNames(p), ['icmpv6.ipv6_trunc_pkt']);
  assert.equal(p.layer, Layer.TRANSPORT);
});

test('an ICMPv6 error quoting something other than IPv6 raises icmpv6.ipv6_unknown_version', () => {
  const q = quoted6();
  q[0] = 0x45;
  assert.deepEqual(eventNames(decodeOne(v6(icmpv6(2, 0, 1280, q, S6, D6)), RAW).p), ['icmpv6.ipv6_unknown_version']);
});

test('fewer than 4 bytes of ICMPv6 raise icmpv6.pkt_too_small', () => {
  const { p } = decodeOne(ipv6({ src: S6, dst: D6, nextHeader: 58 }, Buffer.from([128, 0, 0])), RAW);
  assert.deepEqual(eventNames(p), ['icmpv6.pkt_too_small']);
});

test('ICMPv6 carried by IPv4 raises ipv4.icmpv6; ICMPv4 carried by IPv6 raises ipv6.icmpv4', () => {
  const a = decodeOne(ipv4({ src: S4, dst: D4, proto: 58 }, icmpv6(128, 0, 1, Buffer.alloc(0), S6, D6)), RAW).p;
  assert.deepEqual(eventNames(a), ['ipv4.icmpv6']);
  assert.equal(a.icmpType, 128);
  const b = decodeOne(ipv6({ src: S6, dst: D6, nextHeader: 1 }, icmpv4(8, 0, 1, Buffer.alloc(0))), RAW).p;
  assert.deepEqual(eventNames(b), ['ipv6.icmpv4']);
  assert.equal(b.icmpType, 8);
});
