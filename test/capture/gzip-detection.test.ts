import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { LinkType } from '../../src/capture/linktype.js';
import { PcapngWriter } from '../../src/capture/pcapng-writer.js';
import { PcapWriter } from '../../src/capture/writer.js';
import { tempDir } from '../helpers.js';
import { conversationFrames, readAll } from './craft.js';

const frames = conversationFrames();

function writePlainPcap(path: string, n = frames.length): void {
  const w = new PcapWriter(path);
  for (let i = 0; i < n; i++) w.write(1000 + i, frames[i % frames.length]!);
  w.close();
}

/** Frames with a counter and bytes that gzip cannot squeeze much, so a cut .gz loses only its end. */
function writeNoisyPcap(path: string, n: number): void {
  const w = new PcapWriter(path);
  let x = 12345;
  for (let i = 0; i < n; i++) {
    const f = Buffer.alloc(600);
    for (let j = 0; j < f.length; j++) {
      x = (x * 1103515245 + 12345) >>> 0;
      f[j] = x >>> 24;
    }
    f.writeUInt32BE(i, 0);
    w.write(1000 + i, f);
  }
  w.close();
}

test('a .pcap.gz is read transparently, frame for frame as the plain file', async (t) => {
  const dir = tempDir(t);
  const plain = join(dir, 'x.pcap');
  writePlainPcap(plain);
  const gz = join(dir, 'x.pcap.gz');
  writeFileSync(gz, gzipSync(readFileSync(plain)));
  const a = await readAll(plain);
  const b = await readAll(gz);
  assert.equal(b.summary.damage, null);
  assert.equal(b.summary.format, 'pcap');
  assert.equal(b.frames.length, frames.length);
  assert.deepEqual(b.frames, a.frames, 'offsets are those of the decompressed bytes, as in the plain file');
});

test('a .pcapng.gz is read transparently, frame for frame as the plain file', async (t) => {
  const dir = tempDir(t);
  const plain = join(dir, 'x.pcapng');
  const w = new PcapngWriter(plain, { bigEndian: true });
  w.addInterface({ linktype: LinkType.ETHERNET, tsresol: 9 });
  frames.forEach((f, i) => w.packet(0, 1000 + i, f));
  w.close();
  const gz = join(dir, 'x.pcapng.gz');
  writeFileSync(gz, gzipSync(readFileSync(plain)));
  const a = await readAll(plain);
  const b = await readAll(gz);
  assert.equal(b.summary.damage, null);
  assert.equal(b.summary.format, 'pcapng');
  assert.deepEqual(b.frames, a.frames);
});

test('gzip is recognised by its magic, not the file name', async (t) => {
  const dir = tempDir(t);
  const plain = join(dir, 'plain.pcap');
  writePlainPcap(plain);
  const gzipNamedPcap = join(dir, 'compressed.pcap');
  writeFileSync(gzipNamedPcap, gzipSync(readFileSync(plain)));
  const plainNamedGz = join(dir, 'not-compressed.pcap.gz');
  writeFileSync(plainNamedGz, readFileSync(plain));
  for (const p of [gzipNamedPcap, plainNamedGz]) {
    const { frames: got, summary } = await readAll(p);
    assert.equal(summary.damage, null, p);
    assert.equal(got.length, frames.length, p);
  }
});

test('a gzip of a gzip is not unwrapped twice: the inner gzip is not a capture', async (t) => {
  const dir = tempDir(t);
  const plain = join(dir, 'plain.pcap');
  writePlainPcap(plain);
  const twice = join(dir, 'twice.pcap.gz.gz');
  writeFileSync(twice, gzipSync(gzipSync(readFileSync(plain))));
  await assert.rejects(readAll(twice), /twice\.pcap\.gz\.gz: not a pcap or pcapng capture \(first bytes 1f 8b/);
});

test('a truncated .gz delivers the frames before the cut, then damage naming the file and offset', async (t) => {
  const dir = tempDir(t);
  const plain = join(dir, 'big.pcap');
  const n = 4000; // about 2.4 MB: many gzip blocks
  writeNoisyPcap(plain, n);
  const gz = gzipSync(readFileSync(plain));
  const cut = join(dir, 'cut.pcap.gz');
  writeFileSync(cut, gz.subarray(0, Math.floor(gz.length / 2)));
  const { frames: got, summary } = await readAll(cut);
  assert.ok(summary.damage !== null, 'a cut .gz is damage');
  assert.match(summary.damage.message, /cut\.pcap\.gz: damaged at byte offset \d+: gzip stream ends early/);
  // Half the compressed bytes hold about half the frames; the decompressor may hold back its last block.
  assert.ok(got.length > n / 4 && got.length < n, `${got.length} frames of ${n} before the cut`);
  got.forEach((g, i) => assert.equal(g.bytes.readUInt32BE(0), i, 'frames before the cut are intact and in order'));
  const last = got[got.length - 1]!;
  assert.ok(summary.damage.offset >= last.fileOffset + 16 + last.caplen, 'the damage is after the last frame delivered');
  assert.ok(summary.damage.offset < 24 + n * 616, 'the damage is inside the decompressed capture');
});

test('a .gz with corrupt deflate data delivers what came before and says the stream is corrupt', async (t) => {
  const dir = tempDir(t);
  const plain = join(dir, 'big.pcap');
  writeNoisyPcap(plain, 4000);
  const gz = gzipSync(readFileSync(plain));
  const bad = Buffer.from(gz);
  // Overwrite a run in the middle: the decoder meets an invalid block or a bad checksum.
  bad.fill(0xff, Math.floor(gz.length / 2), Math.floor(gz.length / 2) + 64);
  const path = join(dir, 'bad.pcap.gz');
  writeFileSync(path, bad);
  const { frames: got, summary } = await readAll(path);
  assert.ok(summary.damage !== null);
  assert.match(summary.damage.message, /bad\.pcap\.gz: damaged at byte offset \d+: gzip stream is corrupt/);
  assert.ok(got.length > 0 && got.length < 4000);
  got.forEach((g, i) => assert.equal(g.bytes.readUInt32BE(0), i));
});
