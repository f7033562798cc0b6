import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Layer } from '../../src/decode/index.js';
import { bsdNull, ethernet, ipv4, ipv6, linuxSll, linuxSll2, udp } from '../../src/synth/headers.js';
import { decodeOne, dstAddr, eventNames, srcAddr, text } from './craft.js';

const V4 = { src: '192.0.2.1', dst: '198.51.100.2' };
const V6 = { src: '2001:db8::1', dst: '2001:db8::2' };

function udp4(): Buffer {
  return ipv4({ ...V4, proto: 17 }, udp(5353, 53, Buffer.from('query4'), V4.src, V4.dst));
}

function udp6(): Buffer {
  return ipv6({ ...V6, nextHeader: 17 }, udp(5353, 53, Buffer.from('query6'), V6.src, V6.dst));
}

function assertUdp4(p: ReturnType<typeof decodeOne>['p']): void {
  assert.deepEqual(eventNames(p), []);
  assert.equal(p.layer, Layer.TRANSPORT);
  assert.equal(p.ipVersion, 4);
  assert.equal(srcAddr(p), V4.src);
  assert.equal(dstAddr(p), V4.dst);
  assert.equal(p.proto, 17);
  assert.equal(p.srcPort, 5353);
  assert.equal(p.dstPort, 53);
  assert.equal(text(p.payload()), 'query4');
}

function assertUdp6(p: ReturnType<typeof decodeOne>['p']): void {
  assert.deepEqual(eventNames(p), []);
  assert.equal(p.layer, Layer.TRANSPORT);
  assert.equal(p.ipVersion, 6);
  assert.equal(srcAddr(p), V6.src);
  assert.equal(dstAddr(p), V6.dst);
  assert.equal(p.srcPort, 5353);
  assert.equal(text(p.payload()), 'query6');
}

test('ethernet carries IPv4 and IPv6 up to the transport layer', () => {
  const a = decodeOne(ethernet(udp4()));
  assertUdp4(a.p);
  assert.equal(a.p.etherType, 0x0800);
  assert.equal(a.p.vlanCount, 0);
  assert.equal(a.p.l3Off, 14);
  assert.equal(a.d.counters.ipv4, 1);
  assert.equal(a.d.counters.udp, 1);
  const b = decodeOne(ethernet(udp6(), { type: 0x86dd }));
  assertUdp6(b.p);
  assert.equal(b.p.etherType, 0x86dd);
  assert.equal(b.d.counters.ipv6, 1);
});

test('an ethernet frame shorter than its header raises ethernet.pkt_too_small', () => {
  const { p, d } = decodeOne(ethernet(udp4()).subarray(0, 13));
  assert.deepEqual(eventNames(p), ['ethernet.pkt_too_small']);
  assert.equal(p.layer, Layer.NONE);
  assert.equal(d.counters.unknownLinkType, 0);
  assert.equal(d.counters.nonIp, 0);
});

test('one 802.1Q tag is read into vlan0', () => {
  const frame = ethernet(udp4(), { vlans: [100] });
  assert.equal(frame.readUInt16BE(12), 0x8100);
  const { p } = decodeOne(frame);
  assertUdp4(p);
  assert.equal(p.vlanCount, 1);
  assert.equal(p.vlan0, 100);
  assert.equal(p.vlan1, 0);
  assert.equal(p.l3Off, 18);
});

test('QinQ (802.1ad outer tag) reads both ids, outermost first', () => {
  const frame = ethernet(udp4(), { vlans: [100, 200] });
  assert.equal(frame.readUInt16BE(12), 0x88a8);
  assert.equal(frame.readUInt16BE(16), 0x8100);
  const { p } = decodeOne(frame);
  assertUdp4(p);
  assert.equal(p.vlanCount, 2);
  assert.equal(p.vlan0, 100);
  assert.equal(p.vlan1, 200);
});

test('the pre-standard 0x9100 QinQ tag is followed too, and the priority bits are not part of the id', () => {
  const frame = ethernet(udp6(), { vlans: [7, 8], type: 0x86dd });
  frame.writeUInt16BE(0x9100, 12);
  frame.writeUInt16BE(0xe000 | 7, 14); // PCP 7
  const { p } = decodeOne(frame);
  assertUdp6(p);
  assert.equal(p.vlan0, 7);
  assert.equal(p.vlan1, 8);
});

test('three stacked tags are decoded; only the two outer ids are kept', () => {
  const { p } = decodeOne(ethernet(udp4(), { vlans: [10, 20, 30] }));
  assertUdp4(p);
  assert.equal(p.vlanCount, 3);
  assert.equal(p.vlan0, 10);
  assert.equal(p.vlan1, 20);
});

test('four stacked tags raise vlan.too_many_layers and stop at the link layer', () => {
  const { p, d } = decodeOne(ethernet(udp4(), { vlans: [10, 20, 30, 40] }));
  assert.deepEqual(eventNames(p), ['vlan.too_many_layers']);
  assert.equal(p.layer, Layer.LINK);
  assert.equal(p.ipVersion, 0);
  assert.equal(d.counters.ipv4, 0);
  assert.equal(d.counters.events.reduce((a, b) => a + b, 0), 1);
});

test('a VLAN tag cut short raises vlan.header_too_small', () => {
  const frame = ethernet(Buffer.from([0x00, 0x64]), { type: 0x8100 });
  const { p } = decodeOne(frame);
  assert.deepEqual(eventNames(p), ['vlan.header_too_small']);
  assert.equal(p.ipVersion, 0);
});

test('Linux cooked capture v1 (113) and v2 (276) carry IPv4 and IPv6', () => {
  assertUdp4(decodeOne(linuxSll(udp4()), { linktype: 113 }).p);
  assertUdp6(decodeOne(linuxSll(udp6(), 0x86dd), { linktype: 113 }).p);
  assertUdp4(decodeOne(linuxSll2(udp4()), { linktype: 276 }).p);
  assertUdp6(decodeOne(linuxSll2(udp6(), 0x86dd), { linktype: 276 }).p);
  const v2 = decodeOne(linuxSll2(udp4()), { linktype: 276 }).p;
  assert.equal(v2.l3Off, 20);
});

test('a cooked header cut short raises sll.pkt_too_small', () => {
  assert.deepEqual(eventNames(decodeOne(linuxSll(udp4()).subarray(0, 15), { linktype: 113 }).p), ['sll.pkt_too_small']);
  assert.deepEqual(eventNames(decodeOne(linuxSll2(udp4()).subarray(0, 19), { linktype: 276 }).p), ['sll.pkt_too_small']);
});

test('raw IP (101) picks the version from the first nibble', () => {
  assertUdp4(decodeOne(udp4(), { linktype: 101 }).p);
  assertUdp6(decodeOne(udp6(), { linktype: 101 }).p);
  const bad = udp4();
  bad[0] = 0x55;
  assert.deepEqual(eventNames(decodeOne(bad, { linktype: 101 }).p), ['ipraw.invalid_ip_version']);
  assert.deepEqual(eventNames(decodeOne(new Uint8Array(0), { linktype: 101 }).p), ['ipraw.invalid_ip_version']);
});

test('LINKTYPE_IPV4 (228) and LINKTYPE_IPV6 (229) are raw IP of one version', () => {
  assertUdp4(decodeOne(udp4(), { linktype: 228 }).p);
  assertUdp6(decodeOne(udp6(), { linktype: 229 }).p);
  assert.deepEqual(eventNames(decodeOne(udp6(), { linktype: 228 }).p), ['ipv4.wrong_ip_version']);
  const big4 = ipv4({ ...V4, proto: 17 }, udp(1, 2, Buffer.alloc(40), V4.src, V4.dst));
  assert.deepEqual(eventNames(decodeOne(big4, { linktype: 229 }).p), ['ipv6.wrong_ip_version']);
});

test('BSD loopback (0) reads AF_INET in either byte order', () => {
  for (const bigEndian of [false, true]) {
    const { p } = decodeOne(bsdNull(udp4(), 2, bigEndian), { linktype: 0 });
    assertUdp4(p);
    assert.equal(p.l3Off, 4);
  }
});

test('BSD loopback (0) knows the AF_INET6 values of the BSDs and macOS (24, 28, 30) in either byte order', () => {
  for (const family of [24, 28, 30]) {
    for (const bigEndian of [false, true]) {
      assertUdp6(decodeOne(bsdNull(udp6(), family, bigEndian), { linktype: 0 }).p);
    }
  }
});

test('BSD loopback with an unknown family raises ltnull.unsupported_type; a short header ltnull.pkt_too_small', () => {
  assert.deepEqual(eventNames(decodeOne(bsdNull(udp4(), 7), { linktype: 0 }).p), ['ltnull.unsupported_type']);
  assert.deepEqual(eventNames(decodeOne(Buffer.from([2, 0, 0]), { linktype: 0 }).p), ['ltnull.pkt_too_small']);
});

test('DLT_LOOP (108) stores the family big-endian only', () => {
  assertUdp4(decodeOne(bsdNull(udp4(), 2, true), { linktype: 108 }).p);
  assertUdp6(decodeOne(bsdNull(udp6(), 24, true), { linktype: 108 }).p);
  assertUdp6(decodeOne(bsdNull(udp6(), 30, true), { linktype: 108 }).p);
  // Little-endian 2 read big-endian is 0x02000000: not a family.
  assert.deepEqual(eventNames(decodeOne(bsdNull(udp4(), 2, false), { linktype: 108 }).p), ['ltnull.unsupported_type']);
});

test('an unknown link type is counted, not raised as an anomaly', () => {
  const { p, d } = decodeOne(udp4(), { linktype: 147 });
  assert.deepEqual(eventNames(p), []);
  assert.equal(p.layer, Layer.NONE);
  assert.equal(p.ipVersion, 0);
  assert.equal(d.counters.unknownLinkType, 1);
  assert.equal(d.counters.nonIp, 0);
  assert.equal(d.counters.frames, 1);
});

test('ARP is counted as non-IP, with no event', () => {
  const arp = Buffer.alloc(28);
  arp.writeUInt16BE(1, 0);
  arp.writeUInt16BE(0x0800, 2);
  const { p, d } = decodeOne(ethernet(arp, { type: 0x0806 }));
  assert.deepEqual(eventNames(p), []);
  assert.equal(p.etherType, 0x0806);
  assert.equal(p.layer, Layer.LINK);
  assert.equal(d.counters.nonIp, 1);
  assert.equal(d.counters.unknownLinkType, 0);
  assert.equal(d.counters.ipv4, 0);
});

test('an IPv4 frame cut by the snaplen before the IP header ends is not counted as non-IP', () => {
  const frame = ethernet(udp4());
  const { p, d } = decodeOne(frame.subarray(0, 24), { wirelen: frame.length });
  assert.deepEqual(eventNames(p), []);
  assert.equal(p.truncated, true);
  assert.equal(d.counters.truncated, 1);
  assert.equal(d.counters.nonIp, 0);
});
