/**
 * Random overlapping fragments, checked byte for byte against a plain model of target-based
 * reassembly: each byte belongs to the fragment that last won it under the policy's rule.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Decoder, Packet } from '../../src/decode/index.js';
import { fragmentIpv4, fragmentIpv6, ipv4, ipv6 } from '../../src/synth/headers.js';
import { frameOf } from './craft.js';

type Rule = (ns: number, ne: number, os: number, oe: number) => boolean;
const RULES: Readonly<Record<string, Rule>> = {
  bsd: (ns, _ne, os) => ns < os,
  'bsd-right': (ns, _ne, os) => ns >= os,
  linux: (ns, _ne, os) => ns <= os,
  windows: (ns, ne, os, oe) => ns < os && ne > oe,
  solaris: (ns, ne, os, oe) => ns < os && ne >= oe,
  first: () => false,
  last: () => true,
};

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

const SPAN = 256;

/** The model: one datagram in reassembly at a time, as the decoder keys them all alike here. */
class Model {
  private owner: number[] = [];
  private segs: Array<[number, number, number]> = [];
  private total = -1;
  private head = false;

  constructor(private readonly rule: Rule) {}

  /** Adds a fragment; returns the payload when it completes the datagram. */
  add(off: number, len: number, more: boolean, value: number): Uint8Array | null {
    if (!more && this.total < 0) this.total = off + len;
    const keep = this.total >= 0 ? Math.min(len, this.total - off) : len;
    if (keep > 0) {
      const me = this.segs.push([off, off + keep, value]) - 1;
      for (let b = off; b < off + keep; b++) {
        const o = this.owner[b];
        if (o === undefined || this.rule(off, off + keep, this.segs[o]![0], this.segs[o]![1])) this.owner[b] = me;
      }
    }
    if (off === 0) this.head = true;
    if (this.total < 0 || !this.head) return null;
    for (let b = 0; b < this.total; b++) if (this.owner[b] === undefined) return null;
    const out = Uint8Array.from({ length: this.total }, (_, b) => this.segs[this.owner[b]!]![2]);
    this.owner = [];
    this.segs = [];
    this.total = -1;
    this.head = false;
    return out;
  }
}

function runPolicy(policy: string, v6: boolean, seed: number): number {
  const rnd = prng(seed);
  const d = new Decoder({ policy });
  const model = new Model(RULES[policy]!);
  const whole = v6 ? ipv6({ src: '2001:db8::7', dst: '2001:db8::8', nextHeader: 253 }, Buffer.alloc(SPAN * 2)) : ipv4({ src: '10.7.7.7', dst: '10.8.8.8', proto: 253, id: 77 }, Buffer.alloc(SPAN * 2));
  const hlen = v6 ? 40 : 20;
  let completed = 0;
  for (let i = 0; i < 3000; i++) {
    const off = 8 * Math.floor(rnd() * (SPAN / 8));
    const len = 8 * (1 + Math.floor(rnd() * 8));
    const more = rnd() > 0.12;
    const value = 1 + (i % 250);
    const data = (): Buffer => Buffer.alloc(len, value);
    const frag = v6 ? fragmentIpv6(whole, 1, [[off, len]], data)[0]! : fragmentIpv4(whole, [[off, len]], data)[0]!;
    // The builder sets more-fragments from the datagram's length: set it as drawn.
    if (v6) frag.writeUInt16BE(off | (more ? 1 : 0), 42);
    else {
      frag.writeUInt16BE((off / 8) | (more ? 0x2000 : 0), 6);
      if (off === 0 && !more) continue; // not a fragment at all
    }
    if (v6 && off === 0 && !more) continue; // an atomic fragment is not reassembled
    const p = new Packet();
    d.decode(frameOf(frag, { linktype: 101, number: i + 1 }), p);
    const expected = model.add(off, len, more, value);
    const what = `${policy} ${v6 ? 'IPv6' : 'IPv4'} seed ${seed} fragment ${i} (${off}+${len}${more ? ' MF' : ''})`;
    assert.equal(p.reassembled, expected !== null, what);
    if (expected !== null) {
      assert.deepEqual(Buffer.from(p.data.subarray(hlen)), Buffer.from(expected), what);
      completed++;
    }
  }
  return completed;
}

for (const policy of Object.keys(RULES)) {
  test(`random overlaps under ${policy} reassemble as the model says, IPv4 and IPv6`, () => {
    for (const seed of [11, 12]) {
      assert.ok(runPolicy(policy, false, seed) > 20);
      assert.ok(runPolicy(policy, true, seed) > 20);
    }
  });
}
