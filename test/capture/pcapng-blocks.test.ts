import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { LinkType } from '../../src/capture/linktype.js';
import { PcapngWriter } from '../../src/capture/pcapng-writer.js';
import { tempDir } from '../helpers.js';
import { conversationFrames, epbBody, obsoletePacketBody, pcapngBlock, readAll } from './craft.js';

const eth = conversationFrames(LinkType.ETHERNET);
const sll = conversationFrames(LinkType.LINUX_SLL);
const raw = conversationFrames(LinkType.RAW);
const SEC = 1082541600;

for (const bigEndian of [false, true]) {
  const order = bigEndian ? 'big-endian' : 'little-endian';

  test(`${order} section: enhanced packets come back with bytes, lengths and microsecond times`, async (t) => {
    const path = join(tempDir(t), 'epb.pcapng');
    const w = new PcapngWriter(path, { bigEndian });
    const ifid = w.addInterface({ linktype: LinkType.ETHERNET });
    eth.forEach((f, i) => w.packet(ifid, SEC + i + 0.25, f, f.length + i));
    w.close();
    const { frames, summary } = await readAll(path);
    assert.equal(summary.damage, null);
    assert.equal(summary.format, 'pcapng');
    assert.equal(frames.length, eth.length);
    eth.forEach((f, i) => {
      const g = frames[i]!;
      assert.deepEqual(g.bytes, f, `frame ${i + 1}`);
      assert.equal(g.caplen, f.length);
      assert.equal(g.wirelen, f.length + i);
      assert.equal(g.truncated, i > 0);
      assert.equal(g.tsSec, SEC + i);
      assert.equal(g.tsNsec, 250_000_000);
      assert.equal(g.number, i + 1);
    });
  });

  test(`${order} section: if_tsresol 9 gives timestamps exact to the nanosecond`, async (t) => {
    const path = join(tempDir(t), 'ns.pcapng');
    const w = new PcapngWriter(path, { bigEndian });
    w.addInterface({ linktype: LinkType.ETHERNET, tsresol: 9 });
    const le = !bigEndian;
    const nsecs = [0, 1, 123_456_789, 999_999_999];
    nsecs.forEach((ns, i) => w.block(6, epbBody(0, BigInt(SEC + i) * 1_000_000_000n + BigInt(ns), eth[i]!, eth[i]!.length, le)));
    w.close();
    const { frames } = await readAll(path);
    assert.deepEqual(frames.map((f) => [f.tsSec, f.tsNsec]), nsecs.map((ns, i) => [SEC + i, ns]));
  });

  test(`${order} section: if_tsresol 0x80|n counts in 2^-n seconds, below and above microsecond precision`, async (t) => {
    const path = join(tempDir(t), 'pow2.pcapng');
    const w = new PcapngWriter(path, { bigEndian });
    w.addInterface({ linktype: LinkType.ETHERNET, tsresol: 0x80 | 10 }); // 1/1024 s
    w.addInterface({ linktype: LinkType.ETHERNET, tsresol: 0x80 | 30 }); // 1/2^30 s
    const le = !bigEndian;
    w.block(6, epbBody(0, BigInt(SEC) * 1024n + 512n, eth[0]!, eth[0]!.length, le));
    w.block(6, epbBody(0, BigInt(SEC) * 1024n + 256n, eth[1]!, eth[1]!.length, le));
    w.block(6, epbBody(1, (BigInt(SEC) << 30n) + (3n << 28n), eth[2]!, eth[2]!.length, le));
    w.close();
    const { frames } = await readAll(path);
    assert.deepEqual(
      frames.map((f) => [f.iface, f.tsSec, f.tsNsec]),
      [
        [0, SEC, 500_000_000],
        [0, SEC, 250_000_000],
        [1, SEC, 750_000_000],
      ],
    );
  });

  test(`${order} section: if_tsoffset is added to every timestamp, negative ones too`, async (t) => {
    const path = join(tempDir(t), 'offset.pcapng');
    const w = new PcapngWriter(path, { bigEndian });
    w.addInterface({ linktype: LinkType.ETHERNET, tsoffset: 1_000_000_000 });
    w.addInterface({ linktype: LinkType.ETHERNET, tsoffset: -86_400 });
    w.addInterface({ linktype: LinkType.ETHERNET, tsoffset: 2 ** 33 }); // needs the high 32 bits
    const le = !bigEndian;
    w.block(6, epbBody(0, 82_541_600n * 1_000_000n + 5n, eth[0]!, eth[0]!.length, le));
    w.block(6, epbBody(1, BigInt(SEC + 86_400) * 1_000_000n, eth[1]!, eth[1]!.length, le));
    w.block(6, epbBody(2, 7n * 1_000_000n, eth[2]!, eth[2]!.length, le));
    w.close();
    const { frames } = await readAll(path);
    assert.deepEqual(
      frames.map((f) => [f.tsSec, f.tsNsec]),
      [
        [SEC, 5000],
        [SEC, 0],
        [2 ** 33 + 7, 0],
      ],
    );
  });

  test(`${order} section: simple packet blocks read on interface 0, cut to its snaplen, without a time`, async (t) => {
    const path = join(tempDir(t), 'spb.pcapng');
    const w = new PcapngWriter(path, { bigEndian });
    w.addInterface({ linktype: LinkType.ETHERNET, snaplen: 54 });
    w.simplePacket(eth[0]!); // the block holds the whole frame: the snaplen still cuts it
    w.simplePacket(eth[3]!.subarray(0, 54), eth[3]!.length);
    w.simplePacket(eth[2]!.subarray(0, 50)); // shorter than the snaplen, and padded to 52 in the block
    w.close();
    const { frames, summary } = await readAll(path);
    assert.equal(summary.damage, null);
    assert.equal(frames.length, 3);
    assert.deepEqual(frames[0]!.bytes, eth[0]!.subarray(0, 54));
    assert.equal(frames[0]!.wirelen, eth[0]!.length);
    assert.equal(frames[1]!.caplen, 54);
    assert.equal(frames[1]!.wirelen, eth[3]!.length);
    assert.equal(frames[1]!.truncated, true);
    assert.equal(frames[2]!.caplen, 50, 'padding is not taken as packet bytes');
    assert.ok(frames.every((f) => f.iface === 0 && f.tsSec === 0 && f.tsNsec === 0));
  });

  test(`${order} section: the obsolete packet block (type 2) is read like an enhanced one`, async (t) => {
    const path = join(tempDir(t), 'pb.pcapng');
    const w = new PcapngWriter(path, { bigEndian });
    w.addInterface({ linktype: LinkType.RAW });
    w.addInterface({ linktype: LinkType.ETHERNET });
    const le = !bigEndian;
    w.block(2, obsoletePacketBody(1, BigInt(SEC) * 1_000_000n + 42n, eth[0]!, eth[0]!.length + 4, le));
    w.block(2, obsoletePacketBody(0, BigInt(SEC + 1) * 1_000_000n, raw[1]!, raw[1]!.length, le));
    w.close();
    const { frames, summary } = await readAll(path);
    assert.equal(summary.damage, null);
    assert.deepEqual(
      frames.map((f) => [f.iface, f.linktype, f.tsSec, f.tsNsec, f.caplen, f.wirelen]),
      [
        [1, LinkType.ETHERNET, SEC, 42_000, eth[0]!.length, eth[0]!.length + 4],
        [0, LinkType.RAW, SEC + 1, 0, raw[1]!.length, raw[1]!.length],
      ],
    );
    assert.deepEqual(frames[0]!.bytes, eth[0]);
  });
}

test('several interfaces of different link types in one file: each packet carries its own', async (t) => {
  const path = join(tempDir(t), 'multi.pcapng');
  const w = new PcapngWriter(path);
  const e = w.addInterface({ linktype: LinkType.ETHERNET });
  const s = w.addInterface({ linktype: LinkType.LINUX_SLL });
  const r = w.addInterface({ linktype: LinkType.RAW });
  const expected: Array<[number, number, Buffer]> = [];
  for (let i = 0; i < eth.length; i++) {
    const [ifid, lt, f] = i % 3 === 0 ? [e, LinkType.ETHERNET, eth[i]!] : i % 3 === 1 ? [s, LinkType.LINUX_SLL, sll[i]!] : [r, LinkType.RAW, raw[i]!];
    w.packet(ifid, SEC + i, f);
    expected.push([ifid, lt, f]);
  }
  w.close();
  const { frames, summary } = await readAll(path);
  assert.equal(summary.damage, null);
  assert.deepEqual([...summary.linktypes].sort((a, b) => a - b), [LinkType.ETHERNET, LinkType.RAW, LinkType.LINUX_SLL]);
  assert.deepEqual(
    frames.map((f) => [f.iface, f.linktype, f.bytes]),
    expected,
  );
});

test('a second section resets the interfaces: its packets use its own, and may change byte order', async (t) => {
  const dir = tempDir(t);
  const first = join(dir, 'a.pcapng');
  const second = join(dir, 'b.pcapng');
  const a = new PcapngWriter(first);
  a.addInterface({ linktype: LinkType.RAW });
  a.addInterface({ linktype: LinkType.ETHERNET });
  a.packet(1, SEC, eth[0]!);
  a.packet(0, SEC, raw[1]!);
  a.close();
  const b = new PcapngWriter(second, { bigEndian: true });
  b.addInterface({ linktype: LinkType.LINUX_SLL, tsresol: 9 });
  b.packet(0, SEC + 10, sll[2]!);
  b.close();
  const joined = join(dir, 'joined.pcapng');
  writeFileSync(joined, Buffer.concat([readFileSync(first), readFileSync(second)]));
  const { frames, summary } = await readAll(joined);
  assert.equal(summary.damage, null);
  assert.deepEqual(
    frames.map((f) => [f.iface, f.linktype, f.tsSec, f.number]),
    [
      [1, LinkType.ETHERNET, SEC, 1],
      [0, LinkType.RAW, SEC, 2],
      [0, LinkType.LINUX_SLL, SEC + 10, 3],
    ],
  );
  assert.deepEqual(frames[2]!.bytes, sll[2]);
});

test('a packet in a new section naming an interface of the previous one is damage at that packet', async (t) => {
  const path = join(tempDir(t), 'stale.pcapng');
  const w = new PcapngWriter(path);
  w.addInterface({ linktype: LinkType.ETHERNET });
  w.addInterface({ linktype: LinkType.ETHERNET });
  w.packet(1, SEC, eth[0]!);
  w.section();
  w.addInterface({ linktype: LinkType.ETHERNET });
  w.close();
  const before = readFileSync(path).length;
  appendFileSync(path, pcapngBlock(6, epbBody(1, 0n, eth[1]!)));
  const { frames, summary } = await readAll(path);
  assert.equal(frames.length, 1);
  assert.equal(summary.damage?.offset, before + 8);
  assert.match(summary.damage!.reason, /interface 1, but only 1 are described/);
});

test('unknown, custom and statistics blocks are skipped by their length', async (t) => {
  const path = join(tempDir(t), 'custom.pcapng');
  const w = new PcapngWriter(path);
  w.block(0x00000bad, Buffer.alloc(40, 0xee)); // custom block, copiable, before any interface
  w.addInterface({ linktype: LinkType.ETHERNET });
  w.packet(0, SEC, eth[0]!);
  w.block(0x40000bad, Buffer.from('a custom block that must not be copied\0\0')); // 40 bytes
  w.block(5, Buffer.alloc(20)); // interface statistics
  w.block(4, Buffer.from([0, 0, 0, 0])); // name resolution: only the end of records
  w.block(0x12345678, Buffer.alloc(0)); // a type nobody has assigned, with an empty body
  w.packet(0, SEC + 1, eth[1]!);
  w.close();
  const { frames, summary } = await readAll(path);
  assert.equal(summary.damage, null);
  assert.deepEqual(frames.map((f) => [f.number, f.tsSec]), [
    [1, SEC],
    [2, SEC + 1],
  ]);
  assert.deepEqual(frames[1]!.bytes, eth[1]);
});

test('an interface option list that runs past its block ends the options, not the file', async (t) => {
  const path = join(tempDir(t), 'badopt.pcapng');
  const w = new PcapngWriter(path);
  const head = Buffer.alloc(8);
  head.writeUInt16LE(LinkType.ETHERNET, 0);
  head.writeUInt32LE(0, 4);
  const opt = Buffer.alloc(8);
  opt.writeUInt16LE(9, 0); // if_tsresol...
  opt.writeUInt16LE(200, 2); // ...claiming 200 bytes in an 8-byte option area
  opt[4] = 9;
  w.block(1, Buffer.concat([head, opt]));
  w.packet(0, SEC + 0.5, eth[0]!); // written in the default microseconds
  w.close();
  const { frames, summary } = await readAll(path);
  assert.equal(summary.damage, null);
  assert.deepEqual([frames[0]!.tsSec, frames[0]!.tsNsec], [SEC, 500_000_000]);
});

test('a section header with an unknown byte-order magic is damage at the magic', async (t) => {
  const path = join(tempDir(t), 'bom.pcapng');
  const w = new PcapngWriter(path);
  w.close();
  const bytes = readFileSync(path);
  bytes.writeUInt32LE(0x11223344, 8);
  writeFileSync(path, bytes);
  const { frames, summary } = await readAll(path);
  assert.equal(frames.length, 0);
  assert.equal(summary.damage?.offset, 8);
  assert.match(summary.damage!.message, /bom\.pcapng: damaged at byte offset 8: .*byte-order magic 0x11223344/);
});

test('an enhanced packet before any interface description is damage naming the interface', async (t) => {
  const path = join(tempDir(t), 'noidb.pcapng');
  const w = new PcapngWriter(path);
  w.block(6, epbBody(0, 0n, eth[0]!));
  w.close();
  const { frames, summary } = await readAll(path);
  assert.equal(frames.length, 0);
  assert.equal(summary.damage?.offset, 28 + 8);
  assert.match(summary.damage!.reason, /interface 0, but only 0 are described/);
});

test('a simple packet before any interface description is damage', async (t) => {
  const path = join(tempDir(t), 'nospbidb.pcapng');
  const w = new PcapngWriter(path);
  w.simplePacket(eth[0]!);
  w.close();
  const { summary } = await readAll(path);
  assert.equal(summary.damage?.offset, 28);
  assert.match(summary.damage!.reason, /simple packet block before any interface/);
});
