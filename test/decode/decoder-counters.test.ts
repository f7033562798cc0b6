import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Decoder, Packet } from '../../src/decode/index.js';
import { ethernet, fragmentIpv4, icmpv4, icmpv6, ipv4, ipv6, tcp, udp } from '../../src/synth/headers.js';
import { eventCount, frameOf } from './craft.js';

const S4 = '192.0.2.1';
const D4 = '192.0.2.2';
const S6 = '2001:db8::1';
const D6 = '2001:db8::2';

test('the decoder counts every frame once, in the one bucket it belongs to', () => {
  const d = new Decoder();
  const frames: Array<[Buffer, number?]> = [
    [ethernet(ipv4({ src: S4, dst: D4, proto: 6 }, tcp({ sport: 1, dport: 2, seq: 0, flags: 'S' }, Buffer.alloc(0), S4, D4)))],
    [ethernet(ipv4({ src: S4, dst: D4, proto: 17 }, udp(1, 2, Buffer.from('u'), S4, D4)))],
    [ethernet(ipv4({ src: S4, dst: D4, proto: 1 }, icmpv4(8, 0, 1, Buffer.alloc(0))))],
    [ethernet(ipv6({ src: S6, dst: D6, nextHeader: 58 }, icmpv6(128, 0, 1, Buffer.alloc(0), S6, D6)), { type: 0x86dd })],
    [ethernet(ipv4({ src: S4, dst: D4, proto: 47 }, Buffer.alloc(4)))],
    [ethernet(Buffer.alloc(28), { type: 0x0806 })],
    [Buffer.alloc(30), 147],
    [ethernet(ipv4({ src: S4, dst: D4, proto: 17, totalLength: 500 }, Buffer.alloc(8)))],
  ];
  for (const [bytes, linktype] of frames) d.decode(frameOf(bytes, { linktype: linktype ?? 1 }), new Packet());
  // A datagram in two fragments counts once as IP and once as UDP.
  const datagram = ipv4({ src: S4, dst: D4, proto: 17, id: 1 }, udp(1, 2, Buffer.alloc(40), S4, D4));
  for (const f of fragmentIpv4(datagram, [[0, 24], [24, 24]])) d.decode(frameOf(ethernet(f)), new Packet());
  const c = d.counters;
  assert.equal(c.frames, 10);
  assert.equal(c.ipv4, 5);
  assert.equal(c.ipv6, 1);
  assert.equal(c.tcp, 1);
  assert.equal(c.udp, 2);
  assert.equal(c.icmp, 2);
  assert.equal(c.otherIp, 1);
  assert.equal(c.nonIp, 1);
  assert.equal(c.unknownLinkType, 1);
  assert.equal(c.truncated, 0);
  assert.equal(eventCount(d, 'ipv4.trunc_pkt'), 1);
  assert.equal(c.events.reduce((a, b) => a + b, 0), 1);
});

test('bytes count the wire length, truncated frames the snaplen cuts', () => {
  const d = new Decoder();
  const b = ethernet(ipv4({ src: S4, dst: D4, proto: 17 }, udp(1, 2, Buffer.alloc(100), S4, D4)));
  d.decode(frameOf(b), new Packet());
  d.decode(frameOf(b.subarray(0, 60), { wirelen: b.length }), new Packet());
  assert.equal(d.counters.bytes, 2 * b.length);
  assert.equal(d.counters.truncated, 1);
  assert.equal(d.counters.udp, 2);
});

test('events past the eighth on one packet are still counted on the packet', () => {
  const p = new Packet();
  for (let i = 0; i < 10; i++) p.raise(i);
  assert.equal(p.eventCount, 10);
  assert.deepEqual([...p.events], [0, 1, 2, 3, 4, 5, 6, 7]);
  p.reset();
  assert.equal(p.eventCount, 0);
});
