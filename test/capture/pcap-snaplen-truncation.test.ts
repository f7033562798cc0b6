import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { PcapWriter } from '../../src/capture/writer.js';
import { tempDir } from '../helpers.js';
import { conversationFrames, readAll, writePcap } from './craft.js';

const frames = conversationFrames();

test('frames cut by a small snaplen come back truncated with their wire length kept', async (t) => {
  const path = join(tempDir(t), 'snap.pcap');
  const w = new PcapWriter(path, { snaplen: 60 });
  frames.forEach((f, i) => w.write(1000 + i, f));
  w.close();
  const { frames: got, summary } = await readAll(path);
  assert.equal(summary.damage, null);
  assert.equal(got.length, frames.length);
  let cut = 0;
  frames.forEach((f, i) => {
    const g = got[i]!;
    assert.equal(g.caplen, Math.min(60, f.length));
    assert.equal(g.wirelen, f.length, `frame ${i + 1} keeps its wire length`);
    assert.equal(g.truncated, f.length > 60);
    assert.deepEqual(g.bytes, f.subarray(0, 60));
    if (g.truncated) cut++;
  });
  // The HTTP segments are longer than 60 bytes, the bare ACKs are not: both kinds are in the file.
  assert.ok(cut > 0 && cut < frames.length, `${cut} of ${frames.length} frames were cut`);
  assert.equal(summary.bytes, frames.reduce((s, f) => s + Math.min(60, f.length), 0));
});

test('a big-endian record with caplen below len is truncated the same way', async (t) => {
  const path = join(tempDir(t), 'snap-be.pcap');
  const f = frames[3]!;
  writePcap(path, [{ sec: 5, frac: 0, data: f.subarray(0, 34), wirelen: f.length }], { bigEndian: true, snaplen: 34 });
  const { frames: got } = await readAll(path);
  assert.equal(got[0]!.caplen, 34);
  assert.equal(got[0]!.wirelen, f.length);
  assert.equal(got[0]!.truncated, true);
});

test('a record whose len is below its caplen (corrupt) reports len = caplen, never a negative cut', async (t) => {
  const path = join(tempDir(t), 'short-len.pcap');
  writePcap(path, [{ sec: 5, frac: 0, data: frames[0]!, wirelen: 10 }]);
  const { frames: got, summary } = await readAll(path);
  assert.equal(summary.damage, null);
  assert.equal(got[0]!.wirelen, frames[0]!.length);
  assert.equal(got[0]!.truncated, false);
});

test('a file snaplen above 256 KiB allows records that large', async (t) => {
  const path = join(tempDir(t), 'jumbo.pcap');
  const big = Buffer.alloc(300_000, 0x5a);
  writePcap(path, [{ sec: 1, frac: 0, data: big }, { sec: 2, frac: 0, data: frames[0]! }], { snaplen: 1 << 20 });
  const { frames: got, summary } = await readAll(path);
  assert.equal(summary.damage, null);
  assert.equal(got.length, 2);
  assert.deepEqual(got[0]!.bytes, big);
});
