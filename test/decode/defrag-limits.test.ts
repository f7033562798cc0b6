import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Decoder, Packet } from '../../src/decode/index.js';
import { fragmentIpv4, fragmentIpv6, ipv4, ipv6 } from '../../src/synth/headers.js';
import { eventCount, eventNames, frameOf } from './craft.js';

const S4 = '198.18.0.1';
const D4 = '198.18.0.2';
const S6 = '2001:db8:e::1';
const D6 = '2001:db8:e::2';

function decode(d: Decoder, bytes: Buffer): Packet {
  const p = new Packet();
  d.decode(frameOf(bytes, { linktype: 101 }), p);
  return p;
}

/** A 96-byte raw datagram of protocol 253 with identification `id`. */
function datagram4(id: number): Buffer {
  return ipv4({ src: S4, dst: D4, proto: 253, id }, Buffer.alloc(96, id & 0xff));
}

function datagram6(): Buffer {
  return ipv6({ src: S6, dst: D6, nextHeader: 253 }, Buffer.alloc(96, 6));
}

test('a new datagram that would pass the memcap is ignored with ipv4.frag_ignored', () => {
  const d = new Decoder({ memcap: 100 });
  assert.equal(decode(d, fragmentIpv4(datagram4(1), [[0, 48]])[0]!).fragmentHeld, true);
  assert.equal(decode(d, fragmentIpv4(datagram4(2), [[0, 48]])[0]!).fragmentHeld, true);
  assert.equal(d.defrag.heldBytes, 96);
  const p = decode(d, fragmentIpv4(datagram4(3), [[0, 48]])[0]!);
  assert.deepEqual(eventNames(p), ['ipv4.frag_ignored']);
  assert.equal(d.defrag.counters.ignored, 1);
  assert.equal(eventCount(d, 'ipv4.frag_ignored'), 1);
  assert.equal(d.defrag.trackerCount, 2);
  assert.equal(d.defrag.heldBytes, 96);
  // A held datagram's next fragment past the cap is ignored too.
  const more = decode(d, fragmentIpv4(datagram4(1), [[48, 48]])[0]!);
  assert.deepEqual(eventNames(more), ['ipv4.frag_ignored']);
  assert.equal(d.defrag.counters.ignored, 2);
  assert.equal(more.reassembled, false);
});

test('memory freed by a completed datagram is available again', () => {
  const d = new Decoder({ memcap: 100 });
  decode(d, fragmentIpv4(datagram4(1), [[0, 48]])[0]!);
  assert.equal(decode(d, fragmentIpv4(datagram4(1), [[48, 48]])[0]!).reassembled, true);
  assert.equal(d.defrag.heldBytes, 0);
  decode(d, fragmentIpv4(datagram4(2), [[0, 48]])[0]!);
  assert.equal(decode(d, fragmentIpv4(datagram4(2), [[48, 48]])[0]!).reassembled, true);
  assert.equal(d.defrag.counters.ignored, 0);
});

test('IPv6 fragments past the memcap raise ipv6.frag_ignored', () => {
  const d = new Decoder({ memcap: 40 });
  const p = decode(d, fragmentIpv6(datagram6(), 1, [[0, 48]])[0]!);
  assert.deepEqual(eventNames(p), ['ipv6.frag_ignored']);
  assert.equal(d.defrag.counters.ignored, 1);
  assert.equal(eventCount(d, 'ipv6.frag_ignored'), 1);
  assert.equal(d.defrag.trackerCount, 0);
});

test('past the tracker limit new datagrams are ignored while the held ones still complete', () => {
  const d = new Decoder({ maxTrackers: 2 });
  decode(d, fragmentIpv4(datagram4(1), [[0, 48]])[0]!);
  decode(d, fragmentIpv6(datagram6(), 2, [[0, 48]])[0]!);
  const third = decode(d, fragmentIpv4(datagram4(3), [[0, 48]])[0]!);
  assert.deepEqual(eventNames(third), ['ipv4.frag_ignored']);
  const fourth = decode(d, fragmentIpv6(datagram6(), 4, [[0, 48]])[0]!);
  assert.deepEqual(eventNames(fourth), ['ipv6.frag_ignored']);
  assert.equal(d.defrag.counters.ignored, 2);
  assert.equal(d.defrag.trackerCount, 2);
  assert.equal(decode(d, fragmentIpv4(datagram4(1), [[48, 48]])[0]!).reassembled, true);
  assert.equal(decode(d, fragmentIpv6(datagram6(), 2, [[48, 48]])[0]!).reassembled, true);
  assert.equal(d.defrag.trackerCount, 0);
});

test('an IPv4 fragment reaching past 65535 bytes raises ipv4.frag_pkt_too_large and is not held', () => {
  const d = new Decoder();
  const big = ipv4({ src: S4, dst: D4, proto: 1, id: 7, fragmentOffset: 65528 }, Buffer.alloc(16));
  const p = decode(d, big);
  assert.deepEqual(eventNames(p), ['ipv4.frag_pkt_too_large']);
  assert.equal(d.defrag.trackerCount, 0);
  assert.equal(d.defrag.heldBytes, 0);
  // The largest fragment that still fits is held.
  const fits = ipv4({ src: S4, dst: D4, proto: 1, id: 7, fragmentOffset: 65504, moreFragments: true }, Buffer.alloc(8));
  assert.deepEqual(eventNames(decode(d, fits)), []);
  assert.equal(d.defrag.trackerCount, 1);
});

test('an IPv6 fragment reaching past 65535 bytes raises ipv6.frag_pkt_too_large and is not held', () => {
  const d = new Decoder();
  const [frag] = fragmentIpv6(datagram6(), 8, [[65528, 16]], () => Buffer.alloc(16));
  const p = decode(d, frag!);
  assert.deepEqual(eventNames(p), ['ipv6.frag_pkt_too_large']);
  assert.equal(d.defrag.trackerCount, 0);
});

test('the ping of death, fragments adding up past 65535, is never reassembled', () => {
  const d = new Decoder();
  const payload = Buffer.alloc(65536 - 20 + 8);
  const pieces: Array<[number, number]> = [];
  for (let o = 0; o < payload.length; o += 1480) pieces.push([o, Math.min(1480, payload.length - o)]);
  const frames = fragmentIpv4(Buffer.concat([ipv4({ src: S4, dst: D4, proto: 1, id: 0xdead, totalLength: 0xffff }, Buffer.alloc(0)), payload]), pieces);
  const results = frames.map((f) => decode(d, f));
  assert.equal(results.some((p) => p.reassembled), false);
  assert.deepEqual(eventNames(results[results.length - 1]!), ['ipv4.frag_pkt_too_large']);
});

test('a datagram sent in more than 1024 fragments is dropped', () => {
  const d = new Decoder();
  const whole = ipv4({ src: S4, dst: D4, proto: 253, id: 0x400 }, Buffer.alloc(8 * 1100));
  const pieces: Array<[number, number]> = [];
  for (let k = 1; k <= 1025; k++) pieces.push([k * 8, 8]);
  const frames = fragmentIpv4(whole, pieces);
  const results = frames.map((f) => decode(d, f));
  assert.ok(results.slice(0, 1024).every((p) => p.eventCount === 0));
  assert.equal(d.defrag.trackerCount, 0);
  assert.deepEqual(eventNames(results[1024]!), ['ipv4.frag_ignored']);
  assert.equal(d.defrag.counters.tooManyFragments, 1);
  assert.equal(d.defrag.heldBytes, 0);
  // The head and tail arriving now cannot complete what was dropped.
  const rest = fragmentIpv4(whole, [[0, 8], [8 * 1026, 8 * 1100 - 8 * 1026]]).map((f) => decode(d, f));
  assert.equal(rest.some((p) => p.reassembled), false);
});

test('1024 fragments, duplicates included, still reassemble', () => {
  const d = new Decoder();
  const whole = ipv4({ src: S4, dst: D4, proto: 253, id: 0x401 }, Buffer.alloc(64, 9));
  const [head, tail] = fragmentIpv4(whole, [[0, 32], [32, 32]]) as [Buffer, Buffer];
  for (let k = 0; k < 1023; k++) assert.equal(decode(d, head).fragmentHeld, true);
  const last = decode(d, tail);
  assert.equal(last.reassembled, true);
  assert.equal(last.frames, 1024);
  assert.equal(last.wirelen, 1023 * head.length + tail.length);
});

test('fragments that fit one by one but make a datagram past 65535 with the first header options raise ipv4.frag_pkt_too_large', () => {
  const d = new Decoder();
  const options = Buffer.alloc(40, 1); // NOPs: a 60-byte header
  const head = ipv4({ src: S4, dst: D4, proto: 253, id: 0xb16, options, moreFragments: true }, Buffer.alloc(8));
  const middle = ipv4({ src: S4, dst: D4, proto: 253, id: 0xb16, fragmentOffset: 8, moreFragments: true }, Buffer.alloc(65472));
  const tail = ipv4({ src: S4, dst: D4, proto: 253, id: 0xb16, fragmentOffset: 65480 }, Buffer.alloc(32));
  assert.deepEqual(eventNames(decode(d, head)), []);
  assert.deepEqual(eventNames(decode(d, middle)), []);
  const last = decode(d, tail);
  assert.deepEqual(eventNames(last), ['ipv4.frag_pkt_too_large']);
  assert.equal(last.reassembled, false);
  assert.equal(d.defrag.trackerCount, 0);
  assert.equal(d.defrag.heldBytes, 0);
});
