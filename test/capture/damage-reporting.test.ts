import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CaptureOpenError, openByteSource } from '../../src/capture/index.js';
import { LinkType } from '../../src/capture/linktype.js';
import { PcapngWriter } from '../../src/capture/pcapng-writer.js';
import { PcapWriter } from '../../src/capture/writer.js';
import { tempDir } from '../helpers.js';
import { conversationFrames, readAll } from './craft.js';

const frames = conversationFrames();

/** A pcap of the conversation and the file offset of each record. */
function pcapFile(path: string): number[] {
  const w = new PcapWriter(path);
  const offsets: number[] = [];
  frames.forEach((f, i) => {
    offsets.push(w.written);
    w.write(1000 + i, f);
  });
  offsets.push(w.written);
  w.close();
  return offsets;
}

/** A little-endian pcapng of the conversation and the file offset of each block (the IDB first). */
function pcapngFile(path: string): number[] {
  const w = new PcapngWriter(path);
  w.addInterface({ linktype: LinkType.ETHERNET });
  const offsets = [28];
  let at = 28 + 20;
  frames.forEach((f, i) => {
    offsets.push(at);
    w.packet(0, 1000 + i, f);
    at += 32 + ((f.length + 3) & ~3);
  });
  offsets.push(at);
  w.close();
  return offsets;
}

function cutTo(path: string, length: number): void {
  writeFileSync(path, readFileSync(path).subarray(0, length));
}

test('a pcap cut in the middle of a record: the records before it, then damage at its start', async (t) => {
  const path = join(tempDir(t), 'cut.pcap');
  const offsets = pcapFile(path);
  cutTo(path, offsets[5]! + 16 + 10);
  const { frames: got, summary } = await readAll(path);
  assert.equal(got.length, 5);
  assert.deepEqual(got[4]!.bytes, frames[4]);
  assert.equal(summary.frames, 5);
  assert.equal(summary.damage?.offset, offsets[5]);
  assert.equal(summary.damage?.message, `${path}: damaged at byte offset ${offsets[5]}: capture ends inside a record (26 bytes left over, ${16 + frames[5]!.length} needed)`);
});

test('a pcap cut in the middle of a record header is damage at that header', async (t) => {
  const path = join(tempDir(t), 'cut-header.pcap');
  const offsets = pcapFile(path);
  cutTo(path, offsets[3]! + 7);
  const { frames: got, summary } = await readAll(path);
  assert.equal(got.length, 3);
  assert.equal(summary.damage?.offset, offsets[3]);
  assert.match(summary.damage!.reason, /7 bytes left over, 16 needed/);
});

test('a pcap cut inside its file header is damage at offset 0 with no frames', async (t) => {
  const path = join(tempDir(t), 'cut-file-header.pcap');
  pcapFile(path);
  cutTo(path, 10);
  const { frames: got, summary } = await readAll(path);
  assert.equal(got.length, 0);
  assert.equal(summary.damage?.offset, 0);
  assert.match(summary.damage!.reason, /10 bytes left over, 24 needed/);
});

test('a pcap record claiming an absurd caplen is damage at that record, after the ones before', async (t) => {
  const path = join(tempDir(t), 'absurd.pcap');
  const offsets = pcapFile(path);
  const bytes = readFileSync(path);
  bytes.writeUInt32LE(0x7fffffff, offsets[4]! + 8);
  writeFileSync(path, bytes);
  const { frames: got, summary } = await readAll(path);
  assert.equal(got.length, 4);
  assert.equal(summary.damage?.offset, offsets[4]);
  assert.match(summary.damage!.message, /absurd\.pcap: damaged at byte offset \d+: record claims 2147483647 captured bytes, more than the 262144-byte limit/);
});

test('a pcap header with a 16 MiB snaplen still caps records at 16 MiB', async (t) => {
  const path = join(tempDir(t), 'absurd-big-snaplen.pcap');
  const offsets = pcapFile(path);
  const bytes = readFileSync(path);
  bytes.writeUInt32LE(0xffffffff, 16); // snaplen
  bytes.writeUInt32LE((16 << 20) + 1, offsets[1]! + 8);
  writeFileSync(path, bytes);
  const { frames: got, summary } = await readAll(path);
  assert.equal(got.length, 1);
  assert.match(summary.damage!.reason, /more than the 16777216-byte limit/);
});

for (const [what, len] of [
  ['not a multiple of 4', 70],
  ['shorter than 12', 8],
  ['zero', 0],
] as const) {
  test(`a pcapng block whose length is ${what} is damage at the length field`, async (t) => {
    const path = join(tempDir(t), 'badlen.pcapng');
    const offsets = pcapngFile(path);
    const bytes = readFileSync(path);
    bytes.writeUInt32LE(len, offsets[3]! + 4);
    writeFileSync(path, bytes);
    const { frames: got, summary } = await readAll(path);
    assert.equal(got.length, 2);
    assert.equal(summary.damage?.offset, offsets[3]! + 4);
    assert.match(summary.damage!.message, new RegExp(`badlen\\.pcapng: damaged at byte offset ${offsets[3]! + 4}: block length ${len} is invalid`));
  });
}

test('a pcapng block whose trailer disagrees with its header is damage at the trailer', async (t) => {
  const path = join(tempDir(t), 'trailer.pcapng');
  const offsets = pcapngFile(path);
  const bytes = readFileSync(path);
  const end = offsets[4]!; // block 3 ends where block 4 starts
  bytes.writeUInt32LE(4444, end - 4);
  writeFileSync(path, bytes);
  const { frames: got, summary } = await readAll(path);
  assert.equal(got.length, 2);
  assert.equal(summary.damage?.offset, end - 4);
  assert.match(summary.damage!.reason, /block trailer length 4444 does not match header length \d+/);
});

test('an enhanced packet whose caplen overruns its block is damage at the caplen field', async (t) => {
  const path = join(tempDir(t), 'overrun.pcapng');
  const offsets = pcapngFile(path);
  const bytes = readFileSync(path);
  bytes.writeUInt32LE(5000, offsets[2]! + 20);
  writeFileSync(path, bytes);
  const { frames: got, summary } = await readAll(path);
  assert.equal(got.length, 1);
  assert.equal(summary.damage?.offset, offsets[2]! + 20);
  assert.match(summary.damage!.reason, /captured length 5000 overruns its \d+-byte block/);
});

test('a pcapng cut inside a block: the blocks before it, then damage at its start', async (t) => {
  const path = join(tempDir(t), 'cut.pcapng');
  const offsets = pcapngFile(path);
  cutTo(path, offsets[6]! + 30);
  const { frames: got, summary } = await readAll(path);
  assert.equal(got.length, 5);
  assert.equal(summary.damage?.offset, offsets[6]);
  assert.match(summary.damage!.reason, /capture ends inside a record \(30 bytes left over, \d+ needed\)/);
});

test('a file that is not a capture is an open error showing its first bytes', async (t) => {
  const path = join(tempDir(t), 'notes.txt');
  writeFileSync(path, 'hello, this is text\n');
  await assert.rejects(readAll(path), (err: unknown) => {
    assert.ok(err instanceof CaptureOpenError);
    assert.equal(err.file, path);
    assert.equal(err.message, `${path}: not a pcap or pcapng capture (first bytes 68 65 6c 6c)`);
    return true;
  });
});

test('a file of fewer than four bytes is not a capture', async (t) => {
  const path = join(tempDir(t), 'tiny');
  writeFileSync(path, Buffer.from([0xd4, 0xc3]));
  await assert.rejects(readAll(path), new RegExp(`${path}: not a pcap or pcapng capture \\(first bytes d4 c3\\)`));
});

test('an empty file is an open error saying it is empty', async (t) => {
  const path = join(tempDir(t), 'empty.pcap');
  writeFileSync(path, '');
  await assert.rejects(readAll(path), (err: unknown) => err instanceof CaptureOpenError && err.message === `${path}: is empty`);
});

test('a directory is an open error saying so', async (t) => {
  const path = join(tempDir(t), 'adir.pcap');
  mkdirSync(path);
  await assert.rejects(openByteSource(path), (err: unknown) => err instanceof CaptureOpenError && err.message === `${path}: is a directory, not a capture file`);
});

test('a missing file is an open error saying there is no such file', async (t) => {
  const path = join(tempDir(t), 'missing.pcap');
  await assert.rejects(openByteSource(path), (err: unknown) => err instanceof CaptureOpenError && err.message === `${path}: no such file`);
});
