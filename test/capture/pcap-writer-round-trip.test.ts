import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { LinkType } from '../../src/capture/linktype.js';
import { PcapWriter } from '../../src/capture/writer.js';
import { tempDir } from '../helpers.js';
import { conversationFrames, readAll } from './craft.js';

const frames = conversationFrames();

test('frames written with exact timestamps are read back identically (microseconds)', async (t) => {
  const path = join(tempDir(t), 'rt.pcap');
  const w = new PcapWriter(path);
  frames.forEach((f, i) => w.writeRecord(1082541600 + i, (i * 104_729) % 1_000_000, f, f.length, f.length + (i % 3)));
  w.close();
  assert.equal(w.frames, frames.length);
  assert.equal(w.written, statSync(path).size, 'written counts every byte of the file');
  const { frames: got, summary } = await readAll(path);
  assert.equal(summary.damage, null);
  assert.equal(got.length, frames.length);
  frames.forEach((f, i) => {
    const g = got[i]!;
    assert.deepEqual(g.bytes, f);
    assert.equal(g.tsSec, 1082541600 + i);
    assert.equal(g.tsNsec, ((i * 104_729) % 1_000_000) * 1000);
    assert.equal(g.wirelen, f.length + (i % 3));
    assert.equal(g.number, i + 1);
  });
});

test('frames written with nanosecond timestamps are read back to the nanosecond', async (t) => {
  const path = join(tempDir(t), 'rt-ns.pcap');
  const w = new PcapWriter(path, { nanoseconds: true, linktype: LinkType.RAW });
  const raw = conversationFrames(LinkType.RAW);
  raw.forEach((f, i) => w.writeRecord(7 + i, 999_999_999 - i, f, f.length, f.length));
  w.close();
  const { frames: got, summary } = await readAll(path);
  assert.deepEqual(summary.linktypes, [LinkType.RAW]);
  raw.forEach((f, i) => {
    assert.deepEqual(got[i]!.bytes, f);
    assert.equal(got[i]!.tsSec, 7 + i);
    assert.equal(got[i]!.tsNsec, 999_999_999 - i);
  });
});

test('write() rounds fractional seconds to the file unit and carries a rounded-up second', async (t) => {
  const path = join(tempDir(t), 'rt-time.pcap');
  const w = new PcapWriter(path);
  w.write(100.25, frames[0]!);
  w.write(200.9999996, frames[1]!); // rounds to 1.000000 s: must become 201.000000, not 200.1000000
  w.close();
  const { frames: got } = await readAll(path);
  assert.deepEqual([got[0]!.tsSec, got[0]!.tsNsec], [100, 250_000_000]);
  assert.deepEqual([got[1]!.tsSec, got[1]!.tsNsec], [201, 0]);
});

test('many frames spanning several write buffers come back in order and complete', async (t) => {
  const path = join(tempDir(t), 'rt-many.pcap');
  const w = new PcapWriter(path);
  const n = 3000; // about 3 MiB: several of the writer's 1 MiB buffers
  for (let i = 0; i < n; i++) {
    const f = Buffer.alloc(1000, i & 0xff);
    f.writeUInt32BE(i, 0);
    w.write(1 + i, f);
  }
  w.close();
  const { frames: got } = await readAll(path);
  assert.equal(got.length, n);
  got.forEach((g, i) => {
    assert.equal(g.bytes.readUInt32BE(0), i);
    assert.equal(g.bytes[999], i & 0xff);
  });
});

test('a record larger than the writer buffer is written whole', async (t) => {
  const path = join(tempDir(t), 'rt-big.pcap');
  const w = new PcapWriter(path, { snaplen: 4 << 20 });
  const big = Buffer.alloc(2 << 20);
  for (let i = 0; i < big.length; i += 4) big.writeUInt32BE(i, i);
  w.write(1, frames[0]!);
  w.write(2, big);
  w.write(3, frames[1]!);
  w.close();
  const { frames: got, summary } = await readAll(path);
  assert.equal(summary.damage, null);
  assert.equal(got.length, 3);
  assert.ok(got[1]!.bytes.equals(big));
  assert.deepEqual(got[2]!.bytes, frames[1]);
});
