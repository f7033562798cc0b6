import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { gzipSync } from 'node:zlib';
import { openByteSource, readCapture } from '../../src/capture/index.js';
import { PcapWriter } from '../../src/capture/writer.js';
import { tempDir, tool } from '../helpers.js';
import { conversationFrames, readAll } from './craft.js';

const frames = conversationFrames();

/** A FIFO with a writer feeding it `bytes` from another process, as `<(zcat x.pcap)` does. */
function fifoFedWith(t: TestContext, dir: string, bytes: Buffer): string {
  const data = join(dir, 'data');
  writeFileSync(data, bytes);
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const writer = spawn('sh', ['-c', 'cat "$1" > "$2"', 'sh', data, fifo], { stdio: 'ignore' });
  t.after(() => {
    if (writer.exitCode === null) writer.kill('SIGKILL');
  });
  return fifo;
}

function pcapBytes(dir: string): Buffer {
  const path = join(dir, 'x.pcap');
  const w = new PcapWriter(path);
  frames.forEach((f, i) => w.write(100 + i, f));
  w.close();
  return readFileSync(path);
}

test('a FIFO is read from its first byte (no byte is lost to sniffing the format)', async (t) => {
  if (!tool(t, 'mkfifo')) return;
  const dir = tempDir(t);
  const { frames: got, summary } = await readAll(fifoFedWith(t, dir, pcapBytes(dir)));
  assert.equal(summary.damage, null);
  assert.equal(got.length, frames.length);
  assert.deepEqual(got.map((f) => f.bytes), frames);
});

test('a FIFO carrying gzip is decompressed, as a .gz file is', async (t) => {
  if (!tool(t, 'mkfifo')) return;
  const dir = tempDir(t);
  const { frames: got, summary } = await readAll(fifoFedWith(t, dir, gzipSync(pcapBytes(dir))));
  assert.equal(summary.damage, null);
  assert.deepEqual(got.map((f) => f.bytes), frames);
});

test('a FIFO cut mid-record is damage at the record, named by the FIFO path', async (t) => {
  if (!tool(t, 'mkfifo')) return;
  const dir = tempDir(t);
  const all = pcapBytes(dir);
  const fifo = fifoFedWith(t, dir, all.subarray(0, all.length - 5));
  const { frames: got, summary } = await readAll(fifo);
  assert.equal(got.length, frames.length - 1);
  assert.equal(summary.damage?.file, fifo);
  assert.equal(summary.damage?.offset, all.length - 16 - frames[frames.length - 1]!.length);
});

test('an abort signal ends the read of a FIFO whose writer never writes', async (t) => {
  if (!tool(t, 'mkfifo')) return;
  const dir = tempDir(t);
  const fifo = join(dir, 'silent');
  execFileSync('mkfifo', [fifo]);
  const writer = spawn('sh', ['-c', 'exec sleep 30 > "$1"', 'sh', fifo], { stdio: 'ignore' });
  t.after(() => writer.kill('SIGKILL'));
  const abort = new AbortController();
  setTimeout(() => abort.abort(), 200);
  let timer: NodeJS.Timeout | undefined;
  const summary = await Promise.race([
    // Opening must not wait for the first bytes either: that wait could not be aborted.
    openByteSource(fifo).then((source) => readCapture(source, () => {}, { signal: abort.signal })),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the read did not end on abort')), 10_000);
    }),
  ]).finally(() => clearTimeout(timer));
  assert.equal(summary.frames, 0);
  assert.equal(summary.damage, null);
});
