import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Layer } from '../../src/decode/index.js';
import { ethernet, ipv4, tcp, udp, type Ipv4Spec } from '../../src/synth/headers.js';
import { decodeOne, dstAddr, eventNames, frameOf, srcAddr, text } from './craft.js';

const SRC = '10.1.2.3';
const DST = '10.4.5.6';
const RAW = { linktype: 101 };

function udpDatagram(spec: Partial<Ipv4Spec> = {}, data = 'hello'): Buffer {
  return ipv4({ src: SRC, dst: DST, proto: 17, ...spec }, udp(1024, 53, Buffer.from(data), SRC, DST));
}

/** Record route with room for two addresses, pointer at the first slot. */
const RECORD_ROUTE = [0x07, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0];
/** Timestamps only (flag 0), room for two, pointer at the first. */
const TIMESTAMP = [0x44, 12, 5, 0x00, 0, 0, 0, 0, 0, 0, 0, 0];

test('the IPv4 header fields are read into the packet', () => {
  const { p } = decodeOne(udpDatagram({ ttl: 17, tos: 0xb8, id: 0xbeef, dontFragment: true }), RAW);
  assert.deepEqual(eventNames(p), []);
  assert.equal(p.layer, Layer.TRANSPORT);
  assert.equal(srcAddr(p), SRC);
  assert.equal(dstAddr(p), DST);
  assert.equal(p.ttl, 17);
  assert.equal(p.tos, 0xb8);
  assert.equal(p.ipId, 0xbeef);
  assert.equal(p.ipFlagsFrag, 0x4000);
  assert.equal(p.ipTotalLen, 20 + 8 + 5);
  assert.equal(p.l4Off, 20);
});

test('NOP, record-route and timestamp options are walked without events and the transport header follows them', () => {
  const options = Buffer.from([0x01, ...RECORD_ROUTE, ...TIMESTAMP]);
  assert.equal(options.length, 24);
  const { p } = decodeOne(udpDatagram({ options }), RAW);
  assert.deepEqual(eventNames(p), []);
  assert.equal(p.layer, Layer.TRANSPORT);
  assert.equal(p.l4Off, 44);
  assert.equal(p.srcPort, 1024);
  assert.equal(text(p.payload()), 'hello');
});

test('loose and strict source routes are checked like record route', () => {
  const lsrr = [0x83, 7, 4, 192, 0, 2, 9, 0];
  const ssrr = [0x89, 7, 8, 192, 0, 2, 9, 0];
  assert.deepEqual(eventNames(decodeOne(udpDatagram({ options: Buffer.from(lsrr) }), RAW).p), []);
  assert.deepEqual(eventNames(decodeOne(udpDatagram({ options: Buffer.from(ssrr) }), RAW).p), []);
});

test('an option whose length runs past the header raises ipv4.opt_invalid_len', () => {
  const { p } = decodeOne(udpDatagram({ options: Buffer.from([0x07, 40, 4, 0]) }), RAW);
  assert.deepEqual(eventNames(p), ['ipv4.opt_invalid_len']);
  // The header itself is sound: the datagram is still followed.
  assert.equal(p.layer, Layer.TRANSPORT);
  assert.equal(p.srcPort, 1024);
});

test('an option length below 2 raises ipv4.opt_invalid_len', () => {
  const { p } = decodeOne(udpDatagram({ options: Buffer.from([0x82, 1, 0, 0]) }), RAW);
  assert.deepEqual(eventNames(p), ['ipv4.opt_invalid_len']);
});

test('an option type in the last header byte, with no room for its length, raises ipv4.opt_malformed', () => {
  const { p } = decodeOne(udpDatagram({ options: Buffer.from([0x01, 0x01, 0x01, 0x82]) }), RAW);
  assert.deepEqual(eventNames(p), ['ipv4.opt_malformed']);
});

test('a record route too short for its pointer, or pointing off a slot, is invalid', () => {
  assert.deepEqual(eventNames(decodeOne(udpDatagram({ options: Buffer.from([0x07, 2, 0, 0]) }), RAW).p), ['ipv4.opt_invalid_len']);
  assert.deepEqual(eventNames(decodeOne(udpDatagram({ options: Buffer.from([0x07, 7, 3, 0, 0, 0, 0, 0]) }), RAW).p), ['ipv4.opt_malformed']);
  assert.deepEqual(eventNames(decodeOne(udpDatagram({ options: Buffer.from([0x07, 7, 12, 0, 0, 0, 0, 0]) }), RAW).p), ['ipv4.opt_malformed']);
});

test('a timestamp option with a misaligned pointer is malformed; one under 5 bytes has an invalid length', () => {
  assert.deepEqual(eventNames(decodeOne(udpDatagram({ options: Buffer.from([0x44, 8, 6, 0, 0, 0, 0, 0]) }), RAW).p), ['ipv4.opt_malformed']);
  // Flag 1: address and timestamp, 8-byte slots; pointer 9 is mid-slot.
  assert.deepEqual(eventNames(decodeOne(udpDatagram({ options: Buffer.from([0x44, 12, 9, 1, 0, 0, 0, 0, 0, 0, 0, 0]) }), RAW).p), ['ipv4.opt_malformed']);
  assert.deepEqual(eventNames(decodeOne(udpDatagram({ options: Buffer.from([0x44, 12, 13, 1, 0, 0, 0, 0, 0, 0, 0, 0]) }), RAW).p), []);
  assert.deepEqual(eventNames(decodeOne(udpDatagram({ options: Buffer.from([0x44, 4, 5, 0]) }), RAW).p), ['ipv4.opt_invalid_len']);
});

test('the same option twice raises ipv4.opt_duplicate', () => {
  const { p } = decodeOne(udpDatagram({ options: Buffer.from([0x07, 3, 4, 0x07, 3, 4]) }), RAW);
  assert.deepEqual(eventNames(p), ['ipv4.opt_duplicate']);
  assert.equal(p.layer, Layer.TRANSPORT);
});

test('options after an end-of-list are not read', () => {
  const { p } = decodeOne(udpDatagram({ options: Buffer.from([0x00, 0x07, 40, 0]) }), RAW);
  assert.deepEqual(eventNames(p), []);
});

test('a header length under 20 raises ipv4.hlen_too_small, with the addresses still known', () => {
  const { p, d } = decodeOne(udpDatagram({ headerLength: 16 }), RAW);
  assert.deepEqual(eventNames(p), ['ipv4.hlen_too_small']);
  assert.equal(p.layer, Layer.LINK);
  assert.equal(p.ipVersion, 4);
  assert.equal(srcAddr(p), SRC);
  assert.equal(d.counters.ipv4, 0);
});

test('a total length smaller than the header raises ipv4.iplen_smaller_than_hlen', () => {
  const { p } = decodeOne(udpDatagram({ totalLength: 19 }), RAW);
  assert.deepEqual(eventNames(p), ['ipv4.iplen_smaller_than_hlen']);
  assert.equal(p.layer, Layer.LINK);
});

test('a header length past the captured bytes raises ipv4.trunc_pkt, unless the snaplen cut it', () => {
  const h = ipv4({ src: SRC, dst: DST, proto: 17, headerLength: 24, totalLength: 24 }, Buffer.alloc(0));
  assert.equal(h.length, 20);
  assert.deepEqual(eventNames(decodeOne(h, RAW).p), ['ipv4.trunc_pkt']);
  const cut = decodeOne(h, { ...RAW, wirelen: 24 }).p;
  assert.deepEqual(eventNames(cut), []);
  assert.equal(cut.truncated, true);
});

test('fewer than 20 bytes raise ipv4.pkt_too_small, unless the snaplen cut them', () => {
  const whole = udpDatagram();
  assert.deepEqual(eventNames(decodeOne(whole.subarray(0, 19), RAW).p), ['ipv4.pkt_too_small']);
  assert.deepEqual(eventNames(decodeOne(whole.subarray(0, 19), { ...RAW, wirelen: whole.length }).p), []);
});

test('a version other than 4 raises ipv4.wrong_ip_version', () => {
  const b = udpDatagram();
  b[0] = 0x65;
  assert.deepEqual(eventNames(decodeOne(ethernet(b)).p), ['ipv4.wrong_ip_version']);
});

test('a total length beyond the frame raises ipv4.trunc_pkt and stops at the link layer', () => {
  const b = udpDatagram({ totalLength: 200 });
  const { p, d } = decodeOne(b, RAW);
  assert.deepEqual(eventNames(p), ['ipv4.trunc_pkt']);
  assert.equal(p.layer, Layer.LINK);
  assert.equal(d.counters.udp, 0);
});

test('a frame cut by the snaplen raises nothing and is decoded as far as its bytes go', () => {
  const whole = ethernet(udpDatagram({}, 'x'.repeat(100)));
  const caplen = 14 + 20 + 8 + 30;
  const { p, d } = decodeOne(whole.subarray(0, caplen), { wirelen: whole.length });
  assert.deepEqual(eventNames(p), []);
  assert.equal(p.truncated, true);
  assert.equal(p.wirelen, whole.length);
  assert.equal(p.layer, Layer.TRANSPORT);
  assert.equal(p.ipTotalLen, 20 + 8 + 100);
  assert.equal(p.srcPort, 1024);
  assert.equal(p.payloadLen, 30);
  assert.ok(p.payloadOff + p.payloadLen <= caplen);
  assert.equal(d.counters.truncated, 1);
  assert.equal(d.counters.udp, 1);
});

test('ethernet padding past the total length is not payload', () => {
  const ip = udpDatagram({}, 'hi');
  const frame = Buffer.concat([ethernet(ip), Buffer.alloc(60 - 14 - ip.length, 0xee)]);
  assert.equal(frame.length, 60);
  const { p } = decodeOne(frame);
  assert.deepEqual(eventNames(p), []);
  assert.equal(text(p.payload()), 'hi');

  const seg = tcp({ sport: 80, dport: 5000, seq: 1, flags: 'PA' }, Buffer.from('ok'), SRC, DST);
  const tcpIp = ipv4({ src: SRC, dst: DST, proto: 6 }, seg);
  const t = decodeOne(Buffer.concat([ethernet(tcpIp), Buffer.alloc(8, 0xee)])).p;
  assert.equal(text(t.payload()), 'ok');

  const other = ipv4({ src: SRC, dst: DST, proto: 47 }, Buffer.from('gre!'));
  const o = decodeOne(Buffer.concat([ethernet(other), Buffer.alloc(22, 0xee)])).p;
  assert.equal(o.layer, Layer.TRANSPORT);
  assert.equal(o.proto, 47);
  assert.equal(text(o.payload()), 'gre!');
});

test('a packet reused for a non-IP frame keeps nothing of the IP frame before it', () => {
  const { p, d } = decodeOne(udpDatagram({ ttl: 9, id: 77, tos: 4 }), RAW);
  assert.equal(p.ttl, 9);
  d.decode(frameOf(ethernet(Buffer.alloc(28), { type: 0x0806 })), p);
  assert.equal(p.ipVersion, 0);
  assert.equal(p.ttl, 0);
  assert.equal(p.ipId, 0);
  assert.equal(p.tos, 0);
  assert.equal(p.ipTotalLen, 0);
  assert.equal(p.l4Off, 0);
  assert.equal(p.srcPort, 0);
  assert.deepEqual([...p.addr], [0, 0, 0, 0, 0, 0, 0, 0]);
});
