import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Layer } from '../../src/decode/index.js';
import { ethernet, ipv6, ipv6ExtensionHeader, tcp, udp } from '../../src/synth/headers.js';
import { decodeOne, dstAddr, eventNames, srcAddr, text } from './craft.js';

const SRC = '2001:db8:1::10';
const DST = '2001:db8:2::20';
const RAW = { linktype: 101 };
const HOP = 0;
const TCP = 6;
const UDP = 17;
const ROUTING = 43;
const FRAGMENT = 44;
const AH = 51;
const NONE = 59;
const DSTOPTS = 60;

/** Hop-by-hop or destination options carrying a router-alert option (padded to 8 bytes with PadN). */
function options(next: number): Buffer {
  return ipv6ExtensionHeader(next, Buffer.from([0x05, 0x02, 0x00, 0x00]));
}

/** A routing header of `type` with one segment address (type 2 is Mobile IPv6's). */
function routing(next: number, type = 2): Buffer {
  return ipv6ExtensionHeader(next, Buffer.concat([Buffer.from([type, 1, 0, 0, 0, 0]), Buffer.alloc(16, 0xab)]));
}

/** An authentication header with a 12-byte ICV: 24 bytes, length field (24 / 4) - 2. */
function auth(next: number): Buffer {
  const h = Buffer.alloc(24);
  h[0] = next;
  h[1] = 24 / 4 - 2;
  h.writeUInt32BE(0x1000, 4); // SPI
  h.writeUInt32BE(1, 8); // sequence
  return h;
}

function fragmentHeader(next: number, offset: number, more: boolean, id: number, reserved = 0): Buffer {
  const h = Buffer.alloc(8);
  h[0] = next;
  h[1] = reserved;
  h.writeUInt16BE(offset | (more ? 1 : 0), 2);
  h.writeUInt32BE(id, 4);
  return h;
}

function tcpSegment(data = 'GET /'): Buffer {
  return tcp({ sport: 40000, dport: 80, seq: 7, flags: 'PA' }, Buffer.from(data), SRC, DST);
}

/** An IPv6 packet whose first next-header is `first`, then `chain` (extension headers and the upper layer). */
function packet(first: number, ...chain: Buffer[]): Buffer {
  return ipv6({ src: SRC, dst: DST, nextHeader: first }, Buffer.concat(chain));
}

test('the IPv6 header fields are read into the packet', () => {
  const b = packet(UDP, udp(5000, 53, Buffer.from('q'), SRC, DST));
  b.writeUInt32BE(0x6b812345, 0); // traffic class 0xb8, flow label 0x12345
  b[7] = 33;
  const { p } = decodeOne(b, RAW);
  assert.deepEqual(eventNames(p), []);
  assert.equal(srcAddr(p), SRC);
  assert.equal(dstAddr(p), DST);
  assert.equal(p.tos, 0xb8);
  assert.equal(p.ttl, 33);
  assert.equal(p.ipTotalLen, 40 + 8 + 1);
  assert.equal(p.proto, UDP);
  assert.equal(p.layer, Layer.TRANSPORT);
});

test('hop-by-hop, routing, destination options and AH are walked in a chain to TCP', () => {
  const chain = [options(ROUTING), routing(DSTOPTS), options(AH), auth(TCP), tcpSegment()];
  const { p } = decodeOne(ethernet(packet(HOP, ...chain), { type: 0x86dd }));
  assert.deepEqual(eventNames(p), []);
  assert.equal(p.layer, Layer.TRANSPORT);
  assert.equal(p.proto, TCP);
  assert.equal(p.l4Off, 14 + 40 + 8 + 24 + 8 + 24);
  assert.equal(p.srcPort, 40000);
  assert.equal(p.dstPort, 80);
  assert.equal(p.seq, 7);
  assert.equal(text(p.payload()), 'GET /');
});

test('a second hop-by-hop header raises ipv6.exthdr_dupl_hh', () => {
  const { p } = decodeOne(packet(HOP, options(HOP), options(TCP), tcpSegment()), RAW);
  assert.deepEqual(eventNames(p), ['ipv6.exthdr_dupl_hh']);
  assert.equal(p.srcPort, 40000);
});

test('a second routing header raises ipv6.exthdr_dupl_rh', () => {
  const { p } = decodeOne(packet(ROUTING, routing(ROUTING), routing(TCP), tcpSegment()), RAW);
  assert.deepEqual(eventNames(p), ['ipv6.exthdr_dupl_rh']);
});

test('a second AH raises ipv6.exthdr_dupl_ah', () => {
  const { p } = decodeOne(packet(AH, auth(AH), auth(TCP), tcpSegment()), RAW);
  assert.deepEqual(eventNames(p), ['ipv6.exthdr_dupl_ah']);
  assert.equal(p.l4Off, 40 + 48);
});

test('destination options may come once before the routing header and once after it, no more', () => {
  const legal = decodeOne(packet(DSTOPTS, options(ROUTING), routing(DSTOPTS), options(TCP), tcpSegment()), RAW).p;
  assert.deepEqual(eventNames(legal), []);
  assert.equal(legal.srcPort, 40000);
  const twice = decodeOne(packet(DSTOPTS, options(DSTOPTS), options(TCP), tcpSegment()), RAW).p;
  assert.deepEqual(eventNames(twice), ['ipv6.exthdr_dupl_dh']);
  const twiceAfter = decodeOne(packet(ROUTING, routing(DSTOPTS), options(DSTOPTS), options(TCP), tcpSegment()), RAW).p;
  assert.deepEqual(eventNames(twiceAfter), ['ipv6.exthdr_dupl_dh']);
  const thrice = decodeOne(packet(DSTOPTS, options(ROUTING), routing(DSTOPTS), options(DSTOPTS), options(TCP), tcpSegment()), RAW).p;
  assert.deepEqual(eventNames(thrice), ['ipv6.exthdr_dupl_dh']);
});

test('a routing header of type 0 raises ipv6.rh_type_0 (RFC 5095 deprecated it)', () => {
  const { p } = decodeOne(packet(ROUTING, routing(TCP, 0), tcpSegment()), RAW);
  assert.deepEqual(eventNames(p), ['ipv6.rh_type_0']);
  assert.equal(p.layer, Layer.TRANSPORT);
});

test('an extension header longer than the datagram raises ipv6.trunc_exthdr', () => {
  const hop = options(TCP);
  hop[1] = 3; // claims 32 bytes
  const { p, d } = decodeOne(packet(HOP, hop), RAW);
  assert.deepEqual(eventNames(p), ['ipv6.trunc_exthdr']);
  assert.equal(p.layer, Layer.NETWORK);
  assert.equal(d.counters.tcp, 0);
});

test('fewer than 8 bytes where an extension header should be raise ipv6.trunc_exthdr', () => {
  const { p } = decodeOne(packet(ROUTING, Buffer.from([TCP, 0, 2, 0])), RAW);
  assert.deepEqual(eventNames(p), ['ipv6.trunc_exthdr']);
});

test('an extension header cut by the snaplen raises nothing', () => {
  const whole = packet(HOP, ipv6ExtensionHeader(TCP, Buffer.alloc(28)), tcpSegment());
  const { p } = decodeOne(whole.subarray(0, 40 + 12), { ...RAW, wirelen: whole.length });
  assert.deepEqual(eventNames(p), []);
  assert.equal(p.layer, Layer.NETWORK);
});

test('an option running past its header raises ipv6.exthdr_invalid_optlen', () => {
  const hop = options(TCP);
  hop[3] = 9; // router alert claims 9 bytes of data in an 8-byte header
  const { p } = decodeOne(packet(HOP, hop, tcpSegment()), RAW);
  assert.deepEqual(eventNames(p), ['ipv6.exthdr_invalid_optlen']);
  assert.equal(p.srcPort, 40000);
});

test('no next header (59) with nothing after it is quiet; with data after it raises ipv6.data_after_none_header', () => {
  const quiet = decodeOne(packet(NONE), RAW).p;
  assert.deepEqual(eventNames(quiet), []);
  assert.equal(quiet.proto, NONE);
  assert.equal(quiet.layer, Layer.NETWORK);
  const noisy = decodeOne(packet(DSTOPTS, options(NONE), Buffer.from('hidden')), RAW).p;
  assert.deepEqual(eventNames(noisy), ['ipv6.data_after_none_header']);
  assert.equal(noisy.proto, NONE);
  assert.equal(noisy.layer, Layer.NETWORK);
});

test('an atomic fragment (offset 0, M clear) raises ipv6.exthdr_useless_fh and is decoded whole', () => {
  const { p, d } = decodeOne(packet(FRAGMENT, fragmentHeader(TCP, 0, false, 0x1234), tcpSegment('atomic')), RAW);
  assert.deepEqual(eventNames(p), ['ipv6.exthdr_useless_fh']);
  assert.equal(p.layer, Layer.TRANSPORT);
  assert.equal(p.fragmentHeld, false);
  assert.equal(p.reassembled, false);
  assert.equal(p.proto, TCP);
  assert.equal(text(p.payload()), 'atomic');
  assert.equal(d.defrag.trackerCount, 0);
  assert.equal(d.counters.tcp, 1);
});

test('two fragment headers raise ipv6.exthdr_dupl_fh; a non-zero reserved byte ipv6.fh_non_zero_reserved_field', () => {
  const dup = decodeOne(packet(FRAGMENT, fragmentHeader(FRAGMENT, 0, false, 1), fragmentHeader(TCP, 0, false, 1), tcpSegment()), RAW).p;
  assert.deepEqual(eventNames(dup), ['ipv6.exthdr_useless_fh', 'ipv6.exthdr_dupl_fh', 'ipv6.exthdr_useless_fh']);
  assert.equal(dup.srcPort, 40000);
  const res = decodeOne(packet(FRAGMENT, fragmentHeader(TCP, 0, false, 1, 0x7f), tcpSegment()), RAW).p;
  assert.deepEqual(eventNames(res), ['ipv6.fh_non_zero_reserved_field', 'ipv6.exthdr_useless_fh']);
});

test('a chain longer than the walk allows is not taken as a transport header', () => {
  const chain: Buffer[] = [];
  for (let i = 0; i < 20; i++) chain.push(routing(ROUTING));
  const { p } = decodeOne(packet(ROUTING, ...chain), RAW);
  assert.notEqual(p.layer, Layer.TRANSPORT);
  assert.ok(p.eventCount > 0);
});

test('ESP is followed by addresses and protocol only', () => {
  const esp = Buffer.alloc(24, 0x5a);
  const { p } = decodeOne(packet(50, esp), RAW);
  assert.deepEqual(eventNames(p), []);
  assert.equal(p.layer, Layer.TRANSPORT);
  assert.equal(p.proto, 50);
  assert.equal(p.payloadLen, 24);
});

test('fewer than 40 bytes raise ipv6.pkt_too_small; a payload length past the frame ipv6.trunc_pkt', () => {
  const whole = packet(UDP, udp(1, 2, Buffer.from('abc'), SRC, DST));
  assert.deepEqual(eventNames(decodeOne(whole.subarray(0, 39), RAW).p), ['ipv6.pkt_too_small']);
  assert.deepEqual(eventNames(decodeOne(whole.subarray(0, 39), { ...RAW, wirelen: whole.length }).p), []);
  const lying = Buffer.from(whole);
  lying.writeUInt16BE(500, 4);
  const { p } = decodeOne(lying, RAW);
  assert.deepEqual(eventNames(p), ['ipv6.trunc_pkt']);
  assert.equal(p.layer, Layer.LINK);
});

test('an IPv6 frame cut by the snaplen is decoded as far as its bytes go', () => {
  const whole = ethernet(packet(TCP, tcpSegment('y'.repeat(200))), { type: 0x86dd });
  const { p } = decodeOne(whole.subarray(0, 14 + 40 + 20 + 50), { wirelen: whole.length });
  assert.deepEqual(eventNames(p), []);
  assert.equal(p.layer, Layer.TRANSPORT);
  assert.equal(p.payloadLen, 50);
});

test('ethernet padding past the IPv6 payload length is not payload', () => {
  const ip = packet(UDP, udp(1, 2, Buffer.from('v6'), SRC, DST));
  const { p } = decodeOne(Buffer.concat([ethernet(ip, { type: 0x86dd }), Buffer.alloc(10, 0xee)]));
  assert.deepEqual(eventNames(p), []);
  assert.equal(text(p.payload()), 'v6');
});
