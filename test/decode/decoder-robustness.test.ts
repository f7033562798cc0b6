/**
 * Hostile bytes are never an exception: random frames, truncations and mutations of every
 * crafted packet type go through one decoder (so the fragment table sees them too), and the
 * packet's offsets always stay inside the bytes they point into.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Frame } from '../../src/capture/frame.js';
import { DECODE_EVENT_NAMES, Decoder, Layer, Packet } from '../../src/decode/index.js';
import {
  bsdNull, ethernet, fragmentIpv4, fragmentIpv6, icmpv4, icmpv6, ipv4, ipv6, ipv6ExtensionHeader, linuxSll, linuxSll2, tcp, tcpOptions, udp,
} from '../../src/synth/headers.js';

/** Mulberry32: a small seeded PRNG, so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const S4 = '10.9.8.7';
const D4 = '10.9.8.6';
const S6 = '2001:db8:77::1';
const D6 = '2001:db8:77::2';

interface Sample {
  name: string;
  linktype: number;
  bytes: Buffer;
}

function samples(): Sample[] {
  const body = Buffer.from('payload '.repeat(20));
  const syn = tcp({ sport: 1234, dport: 80, seq: 1, flags: 'S', options: tcpOptions({ mss: 1460, wscale: 7, sackPermitted: true, timestamps: [1, 0] }) }, Buffer.alloc(0), S4, D4);
  const sack = tcp({ sport: 80, dport: 1234, seq: 9, ack: 2, flags: 'A', options: tcpOptions({ sack: [[1, 2], [3, 4]] }) }, body, S4, D4);
  const tcp4 = ipv4({ src: S4, dst: D4, proto: 6, options: Buffer.from([1, 0x07, 7, 4, 0, 0, 0, 0]) }, syn);
  const tcp4b = ipv4({ src: S4, dst: D4, proto: 6 }, sack);
  const udp4 = ipv4({ src: S4, dst: D4, proto: 17, id: 3 }, udp(53, 5353, body, S4, D4));
  const icmpErr = ipv4({ src: S4, dst: D4, proto: 1 }, icmpv4(3, 1, 0, udp4.subarray(0, 28)));
  const echo = ipv4({ src: S4, dst: D4, proto: 1 }, icmpv4(8, 0, 0x10001, body));
  const tcp6 = ipv6({ src: S6, dst: D6, nextHeader: 0 }, Buffer.concat([
    ipv6ExtensionHeader(43, Buffer.from([5, 2, 0, 0])),
    ipv6ExtensionHeader(60, Buffer.concat([Buffer.from([2, 1, 0, 0, 0, 0]), Buffer.alloc(16)])),
    ipv6ExtensionHeader(6, Buffer.alloc(4)),
    tcp({ sport: 1, dport: 2, seq: 3, flags: 'PA' }, body, S6, D6),
  ]));
  const udp6 = ipv6({ src: S6, dst: D6, nextHeader: 17 }, udp(1, 2, body, S6, D6));
  const icmp6 = ipv6({ src: S6, dst: D6, nextHeader: 58 }, icmpv6(1, 3, 0, udp6.subarray(0, 60), S6, D6));
  const out: Sample[] = [
    { name: 'ethernet tcp4', linktype: 1, bytes: ethernet(tcp4) },
    { name: 'qinq tcp4', linktype: 1, bytes: ethernet(tcp4b, { vlans: [5, 6] }) },
    { name: 'ethernet udp4', linktype: 1, bytes: ethernet(udp4, { vlans: [1] }) },
    { name: 'raw icmp error', linktype: 101, bytes: icmpErr },
    { name: 'ipv4 echo', linktype: 228, bytes: echo },
    { name: 'ethernet tcp6', linktype: 1, bytes: ethernet(tcp6, { type: 0x86dd }) },
    { name: 'sll udp6', linktype: 113, bytes: linuxSll(udp6, 0x86dd) },
    { name: 'sll2 icmp6', linktype: 276, bytes: linuxSll2(icmp6, 0x86dd) },
    { name: 'null udp4', linktype: 0, bytes: bsdNull(udp4, 2) },
    { name: 'loop tcp6', linktype: 108, bytes: bsdNull(tcp6, 30, true) },
    { name: 'ipv6 raw', linktype: 229, bytes: udp6 },
  ];
  for (const f of fragmentIpv4(udp4, [[0, 64], [64, 64], [128, udp4.length - 20 - 128]])) out.push({ name: 'frag4', linktype: 101, bytes: f });
  for (const f of fragmentIpv6(udp6, 99, [[0, 64], [56, 64], [120, udp6.length - 40 - 120]])) out.push({ name: 'frag6', linktype: 1, bytes: ethernet(f, { type: 0x86dd }) });
  return out;
}

const LINKTYPES = [0, 1, 101, 108, 113, 228, 229, 276, 147];

function checkPacket(p: Packet, f: Frame, what: string): void {
  const n = p.data.length;
  const ok = (cond: boolean, msg: string): void => assert.ok(cond, `${what}: ${msg}`);
  ok(p.payloadLen >= 0 && p.payloadOff >= 0, `payload ${p.payloadOff}+${p.payloadLen}`);
  ok(p.payloadOff + p.payloadLen <= n, `payload ${p.payloadOff}+${p.payloadLen} past ${n}`);
  ok(p.eventCount >= 0, 'event count');
  for (let i = 0; i < Math.min(p.eventCount, p.events.length); i++) ok(p.events[i]! < DECODE_EVENT_NAMES.length, 'event code');
  if (!p.reassembled) {
    ok(p.data === f.data, 'data is the frame buffer');
    // Nothing outside the captured bytes: not the bytes before the frame, not the ones after it.
    if (p.payloadLen > 0) ok(p.payloadOff >= f.offset && p.payloadOff + p.payloadLen <= f.offset + f.caplen, 'payload within the frame');
    if (p.layer >= Layer.NETWORK) ok(p.l3Off >= f.offset && p.l3Off < f.offset + f.caplen, 'l3 within the frame');
  }
  if (p.layer === Layer.TRANSPORT && (p.proto === 6 || p.proto === 17)) ok(p.l4Off >= p.l3Off && p.l4Off + 8 <= p.payloadOff, 'transport header before its payload');
  if (p.sackBlocks > 0) ok(p.sackOff + p.sackBlocks * 8 <= n, 'sack blocks within data');
  ok(p.frames >= 1, 'frames');
}

function run(seed: number, iterations: number, make: (rnd: () => number, all: Sample[]) => { bytes: Uint8Array; linktype: number; wirelen?: number; offset?: number }): void {
  const rnd = prng(seed);
  const all = samples();
  const d = new Decoder({ memcap: 64 * 1024, maxTrackers: 64 });
  const p = new Packet();
  const f = new Frame();
  for (let i = 0; i < iterations; i++) {
    const m = make(rnd, all);
    const offset = m.offset ?? 0;
    const buf = new Uint8Array(offset + m.bytes.length + 8).fill(0xa5);
    buf.set(m.bytes, offset);
    f.data = buf;
    f.offset = offset;
    f.caplen = m.bytes.length;
    f.wirelen = m.wirelen ?? m.bytes.length;
    f.linktype = m.linktype;
    f.tsSec = 1000 + Math.floor(i / 50);
    f.tsNsec = 0;
    f.number = i + 1;
    const what = `seed ${seed} iteration ${i}`;
    try {
      d.decode(f, p);
    } catch (err) {
      assert.fail(`${what} threw ${String(err)} on ${Buffer.from(m.bytes).toString('hex')} (linktype ${m.linktype})`);
    }
    checkPacket(p, f, what);
  }
  assert.equal(d.counters.frames, iterations);
  assert.ok(d.defrag.heldBytes >= 0 && d.defrag.heldBytes <= 64 * 1024);
  assert.ok(d.defrag.trackerCount <= 64);
}

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)]!;
}

test('every crafted packet decodes without an event', () => {
  for (const s of samples()) {
    const d = new Decoder();
    const p = new Packet();
    const f = new Frame();
    f.data = s.bytes;
    f.caplen = f.wirelen = s.bytes.length;
    f.linktype = s.linktype;
    d.decode(f, p);
    assert.equal(p.eventCount, 0, `${s.name}: ${[...p.events.subarray(0, p.eventCount)].map((e) => DECODE_EVENT_NAMES[e]).join(', ')}`);
    if (!s.name.startsWith('frag')) assert.equal(p.layer, Layer.TRANSPORT, s.name);
  }
});

test('random bytes under every link type never throw', () => {
  run(1, 5000, (rnd) => {
    const len = Math.floor(rnd() * 120);
    const bytes = new Uint8Array(len);
    for (let k = 0; k < len; k++) bytes[k] = Math.floor(rnd() * 256);
    // Make a share of them look like IP, so the deeper decoders see junk too.
    if (len > 0 && rnd() < 0.5) bytes[0] = pick(rnd, [0x45, 0x46, 0x4f, 0x60, 0x41]);
    return { bytes, linktype: pick(rnd, LINKTYPES), offset: Math.floor(rnd() * 4) };
  });
});

test('every truncation of every crafted packet never throws, whether or not the snaplen is blamed', () => {
  run(2, 6000, (rnd, all) => {
    const s = pick(rnd, all);
    const cut = Math.floor(rnd() * (s.bytes.length + 1));
    return { bytes: s.bytes.subarray(0, cut), linktype: s.linktype, wirelen: rnd() < 0.5 ? s.bytes.length : cut, offset: Math.floor(rnd() * 3) };
  });
});

test('crafted packets with random bytes changed never throw', () => {
  run(3, 8000, (rnd, all) => {
    const s = pick(rnd, all);
    const bytes = Buffer.from(s.bytes);
    const flips = 1 + Math.floor(rnd() * 6);
    for (let k = 0; k < flips; k++) {
      const at = Math.floor(rnd() * bytes.length);
      bytes[at] = rnd() < 0.5 ? Math.floor(rnd() * 256) : bytes[at]! ^ (1 << Math.floor(rnd() * 8));
    }
    const cut = rnd() < 0.3 ? Math.floor(rnd() * bytes.length) : bytes.length;
    return { bytes: bytes.subarray(0, cut), linktype: s.linktype, wirelen: rnd() < 0.2 ? bytes.length : cut };
  });
});

test('random fragments with random offsets, lengths and overlaps never throw and stay within the memcap', () => {
  run(4, 4000, (rnd) => {
    const v6 = rnd() < 0.5;
    const len = 8 * Math.floor(rnd() * 20) + Math.floor(rnd() * 8);
    const off = 8 * Math.floor(rnd() * (rnd() < 0.1 ? 8192 : 40));
    const data = Buffer.alloc(len, Math.floor(rnd() * 256));
    const id = Math.floor(rnd() * 4);
    let bytes: Buffer;
    if (v6) {
      const whole = ipv6({ src: S6, dst: D6, nextHeader: pick(rnd, [6, 17, 58, 253]) }, Buffer.alloc(8 * 40));
      bytes = fragmentIpv6(whole, id, [[off, len]], () => data)[0]!;
      if (rnd() < 0.3) bytes.writeUInt16BE(off | 1, 42);
    } else {
      bytes = ipv4({ src: S4, dst: D4, proto: pick(rnd, [1, 6, 17, 253]), id, fragmentOffset: off, moreFragments: rnd() < 0.7 }, data);
    }
    return { bytes, linktype: 101 };
  });
});
