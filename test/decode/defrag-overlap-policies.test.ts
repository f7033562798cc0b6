/**
 * The target-based fragmentation test vector of Novak and Sturges ("Target-Based Fragmentation
 * Reassembly", 2007), as Suricata's defrag tests use it: nine fragments with holes, then eight
 * that overlap them, and what each operating system's reassembly makes of it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFRAG_POLICIES, Decoder, Packet } from '../../src/decode/index.js';
import { fragmentIpv4, fragmentIpv6, ipv4, ipv6 } from '../../src/synth/headers.js';
import { eventNames, frameOf, text } from './craft.js';

type Fragment = [letter: string, offset: number, length: number];

const FIRST_BATCH: Fragment[] = [
  ['A', 0, 24], ['B', 32, 16], ['C', 48, 24], ['D', 80, 8], ['E', 104, 16], ['F', 120, 24], ['G', 144, 16], ['H', 160, 16], ['I', 176, 8],
];
const SECOND_BATCH: Fragment[] = [
  ['J', 8, 32], ['K', 48, 24], ['L', 72, 24], ['M', 96, 24], ['N', 128, 8], ['O', 152, 8], ['P', 160, 8], ['Q', 176, 16],
];
const PAYLOAD = 192;

/** The reassembled payload in 8-byte blocks, one letter a block, from the paper and Suricata's tests. */
const PUBLISHED: Readonly<Record<string, string>> = {
  bsd: 'AAAJJBCCCLLLMMMFFFGGHHIQ',
  linux: 'AAAJJBKKKLLLMMMFFFGGPHQQ',
  windows: 'AAAJBBCCCLLLMEEFFFGGHHIQ',
  solaris: 'AAAJBBCCCLLLMMMFFFGGHHIQ',
  first: 'AAAJBBCCCLDLMEEFFFGGHHIQ',
  last: 'AJJJJBKKKLLLMMMFNFGOPHQQ',
};

/** Each policy's rule, as documented: does a later fragment's byte replace an earlier one's? */
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

/** A block-by-block model of reassembly under `rule`: which fragment owns each block. */
function model(rule: Rule): string {
  const owner: Array<Fragment | undefined> = new Array(PAYLOAD / 8);
  for (const f of [...FIRST_BATCH, ...SECOND_BATCH]) {
    const [, off, len] = f;
    for (let blk = off / 8; blk < (off + len) / 8; blk++) {
      const old = owner[blk];
      if (old === undefined || rule(off, off + len, old[1], old[1] + old[2])) owner[blk] = f;
    }
  }
  return owner.map((f) => f?.[0] ?? '?').join('');
}

function fill(letter: string, length: number): Buffer {
  return Buffer.alloc(length, letter);
}

function ipv4Fragments(): Buffer[] {
  const datagram = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 253, id: 0x5157 }, Buffer.alloc(PAYLOAD));
  return [...FIRST_BATCH, ...SECOND_BATCH].map(([letter, off, len]) => fragmentIpv4(datagram, [[off, len]], () => fill(letter, len))[0]!);
}

function ipv6Fragments(): Buffer[] {
  const datagram = ipv6({ src: '2001:db8::1', dst: '2001:db8::2', nextHeader: 253 }, Buffer.alloc(PAYLOAD));
  return [...FIRST_BATCH, ...SECOND_BATCH].map(([letter, off, len]) => fragmentIpv6(datagram, 0x5157, [[off, len]], () => fill(letter, len))[0]!);
}

interface Outcome {
  blocks: string;
  overlapFirst: number;
  overlapSecond: number;
  last: Packet;
  decoder: Decoder;
}

function reassemble(policy: string, frames: Buffer[], overlapEvent: string, hlen: number): Outcome {
  const decoder = new Decoder({ policy });
  let overlapFirst = 0;
  let overlapSecond = 0;
  let last = new Packet();
  frames.forEach((bytes, i) => {
    const p = new Packet();
    decoder.decode(frameOf(bytes, { linktype: 101, number: i + 1 }), p);
    const overlapped = eventNames(p).includes(overlapEvent as never);
    if (i < FIRST_BATCH.length) overlapFirst += overlapped ? 1 : 0;
    else overlapSecond += overlapped ? 1 : 0;
    if (i < frames.length - 1) assert.equal(p.fragmentHeld, true, `${policy}: fragment ${i + 1} is held`);
    last = p;
  });
  assert.equal(last.reassembled, true, `${policy}: the last fragment completes the datagram`);
  const data = text(last.data.subarray(hlen, hlen + PAYLOAD));
  assert.equal(last.data.length, hlen + PAYLOAD);
  const blocks = Array.from({ length: PAYLOAD / 8 }, (_, k) => {
    const block = data.slice(k * 8, k * 8 + 8);
    assert.equal(block, block[0]!.repeat(8), `${policy}: block ${k} is one fragment's`);
    return block[0]!;
  }).join('');
  return { blocks, overlapFirst, overlapSecond, last, decoder };
}

test('the block model reproduces every published result, and so can derive bsd-right', () => {
  for (const [policy, expected] of Object.entries(PUBLISHED)) assert.equal(model(RULES[policy]!), expected, policy);
  // bsd-right: the fragment starting higher wins, a tie goes to the later one.
  assert.equal(model(RULES['bsd-right']!), 'AJJJBBKKKLDLMEEFNFGOPHQQ');
});

test('every policy the decoder offers is covered here', () => {
  assert.deepEqual(Object.keys(DEFRAG_POLICIES).sort(), Object.keys(RULES).sort());
});

for (const policy of Object.keys(RULES)) {
  const expected = PUBLISHED[policy] ?? model(RULES[policy]!);

  test(`IPv4 ${policy}: the overlapping fragments reassemble to ${expected}`, () => {
    const r = reassemble(policy, ipv4Fragments(), 'ipv4.frag_overlap', 20);
    assert.equal(r.blocks, expected);
    assert.equal(r.overlapFirst, 0);
    assert.ok(r.overlapSecond > 0);
    assert.equal(r.last.frames, FIRST_BATCH.length + SECOND_BATCH.length);
    assert.equal(r.last.ipTotalLen, 20 + PAYLOAD);
    assert.equal(r.last.proto, 253);
    assert.equal(text(r.last.payload()), text(r.last.data.subarray(20)));
    assert.equal(r.decoder.defrag.counters.reassembled, 1);
    assert.equal(r.decoder.defrag.trackerCount, 0);
    assert.equal(r.decoder.defrag.heldBytes, 0);
  });

  test(`IPv6 ${policy}: the overlapping fragments reassemble to ${expected}`, () => {
    const r = reassemble(policy, ipv6Fragments(), 'ipv6.frag_overlap', 40);
    assert.equal(r.blocks, expected);
    assert.equal(r.overlapFirst, 0);
    assert.ok(r.overlapSecond > 0);
    assert.equal(r.last.frames, FIRST_BATCH.length + SECOND_BATCH.length);
    assert.equal(r.last.ipTotalLen, 40 + PAYLOAD);
    assert.equal(r.last.proto, 253);
    assert.equal(r.last.ipId, 0x5157);
    assert.equal(r.decoder.defrag.trackerCount, 0);
    assert.equal(r.decoder.defrag.heldBytes, 0);
  });
}

test('an unknown policy name is refused with the allowed names', () => {
  assert.throws(() => new Decoder({ policy: 'macos' }), /unknown defrag policy "macos".*bsd-right/);
});
