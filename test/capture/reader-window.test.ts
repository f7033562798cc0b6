import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openByteSource, readCapture } from '../../src/capture/index.js';
import { LinkType } from '../../src/capture/linktype.js';
import { PcapngWriter } from '../../src/capture/pcapng-writer.js';
import { PcapWriter } from '../../src/capture/writer.js';
import { tempDir } from '../helpers.js';
import { conversationFrames, epbBody, pcapngBlock, readAll } from './craft.js';

/** The reader's window (src/capture/reader.ts). */
const WINDOW = 4 * 1024 * 1024;
const eth = conversationFrames();

/** A frame that says which it is and whose every byte can be checked. */
function numbered(i: number, length: number): Buffer {
  const f = Buffer.alloc(length, (i * 31) & 0xff);
  f.writeUInt32BE(i, 0);
  return f;
}

function checkNumbered(bytes: Buffer, i: number, length: number): void {
  assert.equal(bytes.length, length, `frame ${i} length`);
  assert.equal(bytes.readUInt32BE(0), i, `frame ${i} number`);
  assert.ok(bytes.subarray(4).every((b) => b === ((i * 31) & 0xff)), `frame ${i} payload`);
}

test('records of every size straddling several 4 MiB windows come back whole and in order', async (t) => {
  const path = join(tempDir(t), 'many.pcap');
  const w = new PcapWriter(path);
  const lengths: number[] = [];
  let size = 24;
  for (let i = 0; size < 3 * WINDOW + 12345; i++) {
    const len = 60 + ((i * 7919) % 1455); // sizes that do not divide the window evenly
    lengths.push(len);
    w.write(i, numbered(i, len));
    size += 16 + len;
  }
  w.close();
  const { frames, summary } = await readAll(path);
  assert.equal(summary.damage, null);
  assert.equal(frames.length, lengths.length);
  let offset = 24;
  frames.forEach((f, i) => {
    checkNumbered(f.bytes, i, lengths[i]!);
    assert.equal(f.fileOffset, offset);
    offset += 16 + lengths[i]!;
  });
});

for (const [what, headerStart] of [
  ['a record header', WINDOW - 9],
  ['a record body', WINDOW - 40],
  ['nothing (a record ending exactly at the window end)', WINDOW - 16 - 100],
] as const) {
  test(`a pcap whose window boundary splits ${what} is read whole`, async (t) => {
    const path = join(tempDir(t), 'straddle.pcap');
    const w = new PcapWriter(path, { snaplen: 8 << 20 });
    // One big record so that the next record's header starts at `headerStart`.
    const firstLen = headerStart - 24 - 16;
    w.write(0, numbered(0, firstLen));
    w.write(1, numbered(1, 100));
    w.write(2, numbered(2, 200));
    w.close();
    const { frames, summary } = await readAll(path);
    assert.equal(summary.damage, null);
    assert.deepEqual(frames.map((f) => f.fileOffset), [24, headerStart, headerStart + 116]);
    checkNumbered(frames[0]!.bytes, 0, firstLen);
    checkNumbered(frames[1]!.bytes, 1, 100);
    checkNumbered(frames[2]!.bytes, 2, 200);
  });
}

test('a pcapng block straddling the window boundary is read whole', async (t) => {
  const path = join(tempDir(t), 'straddle.pcapng');
  const w = new PcapngWriter(path);
  w.addInterface({ linktype: LinkType.ETHERNET, snaplen: 0 });
  let size = 28 + 20;
  let i = 0;
  const lengths: number[] = [];
  while (size < 2 * WINDOW + 5000) {
    const len = 61 + ((i * 104729) % 1453);
    w.packet(0, i, numbered(i, len));
    lengths.push(len);
    size += 32 + ((len + 3) & ~3);
    i++;
  }
  w.close();
  const { frames, summary } = await readAll(path);
  assert.equal(summary.damage, null);
  assert.equal(frames.length, lengths.length);
  frames.forEach((f, k) => checkNumbered(f.bytes, k, lengths[k]!));
});

test('a 6 MiB custom block, larger than the window, is skipped and the packets after it read', async (t) => {
  const path = join(tempDir(t), 'bigblock.pcapng');
  const w = new PcapngWriter(path);
  w.addInterface({ linktype: LinkType.ETHERNET });
  w.packet(0, 1, eth[0]!);
  w.block(0x00000bad, Buffer.alloc(6 << 20, 0xcc));
  w.packet(0, 2, eth[1]!);
  w.packet(0, 3, eth[2]!);
  w.close();
  const { frames, summary } = await readAll(path);
  assert.equal(summary.damage, null);
  assert.deepEqual(frames.map((f) => f.tsSec), [1, 2, 3]);
  assert.deepEqual(frames[2]!.bytes, eth[2]);
});

test('a 6 MiB enhanced packet block is delivered whole, and normal packets after it', async (t) => {
  const path = join(tempDir(t), 'bigpacket.pcapng');
  const w = new PcapngWriter(path);
  w.addInterface({ linktype: LinkType.ETHERNET, snaplen: 0 });
  const big = numbered(7, 6 << 20);
  w.packet(0, 1, big);
  w.packet(0, 2, eth[1]!);
  w.close();
  const { frames, summary } = await readAll(path);
  assert.equal(summary.damage, null);
  assert.equal(frames.length, 2);
  checkNumbered(frames[0]!.bytes, 7, 6 << 20);
  assert.deepEqual(frames[1]!.bytes, eth[1]);
});

test('a block of exactly 16 MiB is the largest accepted', async (t) => {
  const path = join(tempDir(t), 'limit.pcapng');
  const w = new PcapngWriter(path);
  w.addInterface({ linktype: LinkType.ETHERNET });
  w.block(0x00000bad, Buffer.alloc((16 << 20) - 12));
  w.packet(0, 9, eth[0]!);
  w.close();
  const { frames, summary } = await readAll(path);
  assert.equal(summary.damage, null);
  assert.deepEqual(frames.map((f) => f.tsSec), [9]);
});

test('a 20 MiB block length is damage at the length field, after the packets before it', async (t) => {
  const path = join(tempDir(t), 'huge.pcapng');
  const w = new PcapngWriter(path);
  w.addInterface({ linktype: LinkType.ETHERNET });
  w.packet(0, 1, eth[0]!);
  w.packet(0, 2, eth[1]!);
  w.close();
  const before = (await readAll(path)).frames;
  const at = before[1]!.fileOffset + 32 + ((eth[1]!.length + 3) & ~3);
  // Only the header of the huge block is written: the reader must not wait for 20 MiB to judge it.
  const head = Buffer.alloc(8);
  head.writeUInt32LE(0x00000bad, 0);
  head.writeUInt32LE(20 << 20, 4);
  appendFileSync(path, Buffer.concat([head, Buffer.alloc(64)]));
  const { frames, summary } = await readAll(path);
  assert.equal(frames.length, 2);
  assert.equal(summary.damage?.offset, at + 4);
  assert.match(summary.damage!.message, new RegExp(`huge\\.pcapng: damaged at byte offset ${at + 4}: block length 20971520 is invalid`));
});

test('an abort signal stops a file read at a window boundary, though file reads never wait', async (t) => {
  const path = join(tempDir(t), 'long.pcap');
  const w = new PcapWriter(path);
  const f = Buffer.alloc(1484);
  const n = 40 * 1024; // 60 MiB: fifteen windows
  for (let i = 0; i < n; i++) w.write(i, f);
  w.close();
  const abort = new AbortController();
  setTimeout(() => abort.abort(), 0);
  let frames = 0;
  const summary = await readCapture(await openByteSource(path), () => frames++, { signal: abort.signal });
  assert.equal(summary.damage, null);
  assert.ok(frames < n / 2, `stopped after ${frames} of ${n} frames`);
});

test('the source is closed when reading throws, as for an empty input', async () => {
  let closed = 0;
  const source = {
    name: 'stub',
    size: 0,
    position: 0,
    read: () => Promise.resolve(0),
    close: () => {
      closed++;
    },
  };
  await assert.rejects(readCapture(source, () => {}), /stub: is empty/);
  assert.equal(closed, 1);
});

test('a thousand empty blocks (12 bytes, the smallest legal) are walked past', async (t) => {
  const path = join(tempDir(t), 'tiny.pcapng');
  const w = new PcapngWriter(path);
  w.addInterface({ linktype: LinkType.ETHERNET });
  for (let i = 0; i < 1000; i++) w.block(0x00000bad, Buffer.alloc(0));
  w.block(6, epbBody(0, 5_000_000n, eth[0]!));
  w.close();
  appendFileSync(path, pcapngBlock(6, epbBody(0, 6_000_000n, eth[1]!)));
  const { frames, summary } = await readAll(path);
  assert.equal(summary.damage, null);
  assert.deepEqual(frames.map((f) => f.tsSec), [5, 6]);
});
