import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Decoder, Layer, Packet } from '../../src/decode/index.js';
import { internetChecksum } from '../../src/wire/checksum.js';
import { ethernet, fragmentIpv4, fragmentIpv6, ipv4, ipv6, ipv6ExtensionHeader, tcp, tcpOptions, udp } from '../../src/synth/headers.js';
import { eventNames, frameOf, text, type FrameSpec } from './craft.js';

const S4 = '203.0.113.5';
const D4 = '203.0.113.9';
const S6 = '2001:db8:f::5';
const D6 = '2001:db8:f::9';

/** 100 bytes a reader can check: every offset holds a different byte. */
const DATA = Buffer.from(Array.from({ length: 100 }, (_, i) => 0x20 + (i % 90)));

function udpDatagram4(id = 0x4242): Buffer {
  return ipv4({ src: S4, dst: D4, proto: 17, id }, udp(7000, 8000, DATA, S4, D4));
}

function udpDatagram6(): Buffer {
  return ipv6({ src: S6, dst: D6, nextHeader: 17 }, udp(7000, 8000, DATA, S6, D6));
}

/** The UDP datagram (108 bytes) in three pieces. */
const THIRDS: Array<[number, number]> = [[0, 48], [48, 48], [96, 12]];

interface Fed {
  packets: Packet[];
  decoder: Decoder;
}

function feed(frames: Buffer[], decoder = new Decoder(), spec: (i: number) => FrameSpec = () => ({})): Fed {
  const packets = frames.map((bytes, i) => {
    const p = new Packet();
    decoder.decode(frameOf(bytes, { linktype: 101, number: i + 1, ...spec(i) }), p);
    return p;
  });
  return { packets, decoder };
}

function assertWholeUdp(p: Packet, frames: Buffer[]): void {
  assert.equal(p.reassembled, true);
  assert.equal(p.fragmentHeld, false);
  assert.equal(p.layer, Layer.TRANSPORT);
  assert.equal(p.srcPort, 7000);
  assert.equal(p.dstPort, 8000);
  assert.deepEqual(Buffer.from(p.payload()), DATA);
  assert.equal(p.frames, frames.length);
  assert.equal(p.wirelen, frames.reduce((n, f) => n + f.length, 0));
}

test('IPv4 fragments in order are held, then reassembled into one UDP datagram', () => {
  const frames = fragmentIpv4(udpDatagram4(), THIRDS);
  const { packets, decoder } = feed(frames);
  for (const p of packets.slice(0, 2)) {
    assert.deepEqual(eventNames(p), []);
    assert.equal(p.fragmentHeld, true);
    assert.equal(p.layer, Layer.NETWORK);
    assert.equal(p.srcPort, 0);
  }
  const last = packets[2]!;
  assert.deepEqual(eventNames(last), []);
  assertWholeUdp(last, frames);
  assert.equal(last.number, 3);
  assert.equal(last.ipId, 0x4242);
  assert.equal(last.ipFlagsFrag, 0);
  assert.equal(last.ipTotalLen, 20 + 108);
  assert.equal(last.l3Off, 0);
  assert.equal(last.data.length, 20 + 108);
  assert.equal(internetChecksum(last.data, 0, 20), 0, 'the rebuilt header checks out');
  assert.equal(decoder.counters.ipv4, 1);
  assert.equal(decoder.counters.udp, 1);
  assert.equal(decoder.counters.frames, 3);
  assert.deepEqual(decoder.defrag.counters, { fragments: 3, reassembled: 1, timeouts: 0, ignored: 0, tooManyFragments: 0 });
  assert.equal(decoder.defrag.trackerCount, 0);
  assert.equal(decoder.defrag.heldBytes, 0);
});

test('IPv4 fragments out of order reassemble the same', () => {
  for (const order of [[2, 0, 1], [2, 1, 0], [1, 2, 0], [0, 2, 1]]) {
    const frames = order.map((k) => fragmentIpv4(udpDatagram4(), THIRDS)[k]!);
    const { packets, decoder } = feed(frames);
    assert.deepEqual(packets.map((p) => p.fragmentHeld), [true, true, false], `order ${order.join('')}`);
    assertWholeUdp(packets[2]!, frames);
    assert.equal(decoder.defrag.trackerCount, 0);
  }
});

test('a duplicated IPv4 fragment is counted among the frames and changes nothing', () => {
  const [a, b, c] = fragmentIpv4(udpDatagram4(), THIRDS) as [Buffer, Buffer, Buffer];
  const frames = [a, b, b, a, c];
  const { packets } = feed(frames);
  assert.deepEqual(packets.map((p) => p.fragmentHeld), [true, true, true, true, false]);
  assert.ok(eventNames(packets[2]!).includes('ipv4.frag_overlap'));
  assertWholeUdp(packets[4]!, frames);
});

test('the datagram is complete only when the last fragment and every hole are in', () => {
  const frames = fragmentIpv4(udpDatagram4(), [[0, 48], [96, 12]]);
  const { packets, decoder } = feed(frames);
  assert.deepEqual(packets.map((p) => p.fragmentHeld), [true, true]);
  assert.equal(decoder.defrag.trackerCount, 1);
  assert.equal(decoder.defrag.heldBytes, 60);
  // Without the offset-0 fragment there is no header to rebuild with.
  const headless = feed(fragmentIpv4(udpDatagram4(), [[48, 48], [96, 12]]));
  assert.deepEqual(headless.packets.map((p) => p.fragmentHeld), [true, true]);
});

test('fragments of different datagrams do not mix', () => {
  const one = fragmentIpv4(udpDatagram4(1), THIRDS);
  const two = fragmentIpv4(udpDatagram4(2), THIRDS);
  const otherSource = fragmentIpv4(ipv4({ src: '203.0.113.6', dst: D4, proto: 17, id: 1 }, udp(7000, 8000, DATA, '203.0.113.6', D4)), THIRDS);
  const { packets, decoder } = feed([one[0]!, two[1]!, otherSource[2]!, two[0]!, one[1]!, otherSource[0]!, one[2]!, two[2]!]);
  assert.equal(packets.filter((p) => p.reassembled).length, 2);
  assert.equal(packets[6]!.reassembled, true);
  assert.equal(packets[7]!.reassembled, true);
  assert.equal(decoder.defrag.trackerCount, 1);
});

test('fragments on different VLANs are different datagrams', () => {
  const frames = fragmentIpv4(udpDatagram4(), THIRDS);
  const d = new Decoder();
  const results = [ethernet(frames[0]!, { vlans: [10] }), ethernet(frames[1]!, { vlans: [20] }), ethernet(frames[2]!, { vlans: [10] })].map((f) => {
    const p = new Packet();
    d.decode(frameOf(f), p);
    return p;
  });
  assert.equal(results[2]!.reassembled, false);
  assert.equal(d.defrag.trackerCount, 2);
});

test('TCP over fragmented IPv4, its header split across fragments, decodes ports, options and payload', () => {
  const body = Buffer.from('The quick brown fox jumps over the lazy dog. '.repeat(5));
  const seg = tcp({ sport: 44321, dport: 25, seq: 1000, ack: 2000, flags: 'PA', options: tcpOptions({ timestamps: [11, 22] }) }, body, S4, D4);
  const datagram = ipv4({ src: S4, dst: D4, proto: 6, id: 9 }, seg);
  const frames = fragmentIpv4(datagram, [[0, 16], [16, 96], [112, seg.length - 112]]);
  const { packets, decoder } = feed(frames);
  assert.deepEqual(packets.map((p) => p.fragmentHeld), [true, true, false]);
  const p = packets[2]!;
  assert.deepEqual(eventNames(p), []);
  assert.equal(p.proto, 6);
  assert.equal(p.srcPort, 44321);
  assert.equal(p.dstPort, 25);
  assert.equal(p.seq, 1000);
  assert.equal(p.ack, 2000);
  assert.equal(p.tsVal, 11);
  assert.equal(p.tsEcr, 22);
  assert.equal(text(p.payload()), body.toString('latin1'));
  assert.equal(p.frames, 3);
  assert.equal(decoder.counters.tcp, 1);
});

test('IPv6 fragments in order, out of order and duplicated reassemble into one UDP datagram', () => {
  const pieces = fragmentIpv6(udpDatagram6(), 0xcafe, THIRDS);
  for (const order of [[0, 1, 2], [2, 1, 0], [1, 0, 1, 0, 2], [2, 0, 0, 1]]) {
    const frames = order.map((k) => pieces[k]!);
    const { packets, decoder } = feed(frames);
    const last = packets[packets.length - 1]!;
    assert.deepEqual(packets.slice(0, -1).map((p) => p.fragmentHeld), order.slice(0, -1).map(() => true), `order ${order.join('')}`);
    assertWholeUdp(last, frames);
    assert.equal(last.ipVersion, 6);
    assert.equal(last.proto, 17);
    assert.equal(last.ipId, 0xcafe);
    assert.equal(last.ipTotalLen, 40 + 108);
    assert.equal(decoder.counters.ipv6, 1);
    assert.equal(decoder.defrag.trackerCount, 0);
  }
});

test('IPv6 fragments behind a hop-by-hop header reassemble', () => {
  const frames = fragmentIpv6(udpDatagram6(), 77, THIRDS).map((f) => {
    const hop = ipv6ExtensionHeader(44, Buffer.from([0x05, 0x02, 0x00, 0x00]));
    const out = Buffer.concat([f.subarray(0, 40), hop, f.subarray(40)]);
    out[6] = 0;
    out.writeUInt16BE(f.readUInt16BE(4) + hop.length, 4);
    return out;
  });
  const { packets } = feed(frames);
  assert.deepEqual(eventNames(packets[2]!), []);
  assertWholeUdp(packets[2]!, frames);
});

test('fragments of different IPv6 identifications do not mix', () => {
  const a = fragmentIpv6(udpDatagram6(), 1, THIRDS);
  const b = fragmentIpv6(udpDatagram6(), 2, THIRDS);
  const { packets, decoder } = feed([a[0]!, b[1]!, a[2]!, b[0]!]);
  assert.equal(packets.some((p) => p.reassembled), false);
  assert.equal(decoder.defrag.trackerCount, 2);
});

test('a fragment cut by the snaplen is not reassembled, and raises nothing', () => {
  const frames = fragmentIpv4(udpDatagram4(), THIRDS);
  const cut = frames[1]!.subarray(0, 40);
  const { packets, decoder } = feed([frames[0]!, cut, frames[2]!], new Decoder(), (i) => (i === 1 ? { wirelen: frames[1]!.length } : {}));
  assert.deepEqual(eventNames(packets[1]!), []);
  assert.equal(packets[1]!.truncated, true);
  assert.equal(packets[2]!.reassembled, false);
  assert.equal(decoder.defrag.counters.fragments, 2);

  const six = fragmentIpv6(udpDatagram6(), 3, THIRDS);
  const r6 = feed([six[0]!, six[1]!, six[2]!.subarray(0, 50)], new Decoder(), (i) => (i === 2 ? { wirelen: six[2]!.length } : {}));
  assert.deepEqual(eventNames(r6.packets[2]!), []);
  assert.equal(r6.packets[2]!.reassembled, false);
  assert.equal(r6.decoder.defrag.counters.fragments, 2);
});

test('fragments arriving within the timeout of the latest one reassemble', () => {
  const frames = fragmentIpv4(udpDatagram4(), THIRDS);
  const times = [1000, 1060, 1119.5];
  const { packets, decoder } = feed(frames, new Decoder(), (i) => ({ tsSec: Math.floor(times[i]!), tsNsec: (times[i]! % 1) * 1e9 }));
  assert.equal(packets[2]!.reassembled, true);
  assert.equal(decoder.defrag.counters.timeouts, 0);
});

test('a datagram waiting more than 60 s of packet time for its next fragment is dropped', () => {
  const frames = fragmentIpv4(udpDatagram4(), THIRDS);
  const times = [1000, 1060.25, 1060.25];
  const { packets, decoder } = feed(frames, new Decoder(), (i) => ({ tsSec: Math.floor(times[i]!), tsNsec: (times[i]! % 1) * 1e9 }));
  assert.equal(packets[2]!.reassembled, false);
  assert.equal(decoder.defrag.counters.timeouts, 1);
  // The late fragments start a datagram of their own, which waits for its head.
  assert.equal(decoder.defrag.trackerCount, 1);
  assert.equal(decoder.defrag.heldBytes, 60);
});

test('advancing the defragmenter clock drops expired datagrams and releases their bytes', () => {
  const d = new Decoder({ timeout: 30 });
  feed(fragmentIpv6(udpDatagram6(), 5, [[0, 48]]), d, () => ({ tsSec: 500 }));
  feed(fragmentIpv4(udpDatagram4(), [[0, 48]]), d, () => ({ tsSec: 520 }));
  assert.equal(d.defrag.trackerCount, 2);
  assert.equal(d.defrag.heldBytes, 96);
  d.defrag.advance(530);
  assert.equal(d.defrag.trackerCount, 2);
  d.defrag.advance(530.5);
  assert.equal(d.defrag.trackerCount, 1);
  assert.equal(d.defrag.heldBytes, 48);
  d.defrag.advance(551);
  assert.equal(d.defrag.trackerCount, 0);
  assert.equal(d.defrag.heldBytes, 0);
  assert.equal(d.defrag.counters.timeouts, 2);
  // The clock does not run backwards.
  d.defrag.advance(10);
  feed(fragmentIpv4(udpDatagram4(), [[0, 48]]), d, () => ({ tsSec: 10 }));
  d.defrag.advance(560);
  assert.equal(d.defrag.trackerCount, 1);
});

test('the first fragment carries all the options and the rebuilt header keeps them; later fragments only the copied ones', () => {
  const options = Buffer.from([0x07, 7, 4, 0, 0, 0, 0, 0x83, 7, 4, 192, 0, 2, 1]);
  const datagram = ipv4({ src: S4, dst: D4, proto: 17, id: 5, tos: 0x10, options }, udp(7000, 8000, DATA, S4, D4));
  assert.equal(datagram[0]! & 0x0f, 9);
  const frames = fragmentIpv4(datagram, THIRDS);
  assert.deepEqual(frames.map((f) => (f[0]! & 0x0f) * 4), [36, 28, 28]);
  assert.deepEqual([...frames[1]!.subarray(20, 27)], [0x83, 7, 4, 192, 0, 2, 1]);
  assert.ok(frames.every((f) => f[1] === 0x10));
  const { packets } = feed(frames);
  const last = packets[2]!;
  assert.deepEqual(eventNames(last), []);
  assertWholeUdp(last, frames);
  assert.equal(last.l4Off, 36);
  assert.deepEqual([...last.data.subarray(20, 34)], [...options]);
  assert.equal(last.ipTotalLen, 36 + 108);
  assert.equal(last.tos, 0x10);
  assert.equal(internetChecksum(last.data, 0, 36), 0);
});
