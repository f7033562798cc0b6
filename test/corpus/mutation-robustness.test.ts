import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { readCapture } from '../../src/capture/reader.js';
import { CaptureOpenError } from '../../src/capture/damage.js';
import { Pipeline } from '../../src/sensor/pipeline.js';
import { bufferSource, prng, shared } from '../helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Mutations a hostile or damaged capture can show: each returns a new buffer. */
type Mutation = (src: Buffer, rand: () => number) => Buffer;

const int = (rand: () => number, n: number): number => Math.floor(rand() * n);

/** Offsets of pcap records (after the 24-byte file header), for length-field corruption. */
function recordOffsets(b: Buffer): number[] {
  const out: number[] = [];
  const le = b.readUInt32LE(0) === 0xa1b2c3d4 || b.readUInt32LE(0) === 0xa1b23c4d;
  for (let o = 24; o + 16 <= b.length; ) {
    out.push(o);
    const caplen = le ? b.readUInt32LE(o + 8) : b.readUInt32BE(o + 8);
    o += 16 + caplen;
  }
  return out;
}

const MUTATIONS: Record<string, Mutation> = {
  bitFlips(src, rand) {
    const b = Buffer.from(src);
    for (let k = 1 + int(rand, 16); k > 0; k--) {
      const i = int(rand, b.length);
      b[i] = b[i]! ^ (1 << int(rand, 8));
    }
    return b;
  },
  truncation(src, rand) {
    return Buffer.from(src.subarray(0, int(rand, src.length)));
  },
  captureLengthField(src, rand) {
    const b = Buffer.from(src);
    const recs = recordOffsets(b);
    if (recs.length === 0) return b;
    const o = recs[int(rand, recs.length)]!;
    const values = [0, 1, 0xffff, 0x40000, 0xffffffff, int(rand, 3000)];
    b.writeUInt32LE(values[int(rand, values.length)]!, o + 8 + (rand() < 0.5 ? 0 : 4));
    return b;
  },
  headerLengthFields(src, rand) {
    // Rewrites bytes where IP/TCP/UDP length fields sit in typical Ethernet frames.
    const b = Buffer.from(src);
    const recs = recordOffsets(b);
    for (let k = 0; k < 1 + int(rand, 4) && recs.length > 0; k++) {
      const o = recs[int(rand, recs.length)]! + 16;
      const field = [14, 16, 17, 14 + 20 + 12, 14 + 20 + 4, 14 + 20 + 5, 14 + 6][int(rand, 7)]!;
      if (o + field < b.length) b[o + field] = int(rand, 256);
    }
    return b;
  },
  randomOverwrite(src, rand) {
    const b = Buffer.from(src);
    const at = int(rand, b.length);
    const n = Math.min(b.length - at, 1 + int(rand, 64));
    for (let i = 0; i < n; i++) b[at + i] = int(rand, 256);
    return b;
  },
  spliceRecords(src, rand) {
    // A stretch of the file repeated: duplicated packets, out-of-order TCP, resent fragments.
    const a = int(rand, src.length);
    const n = int(rand, Math.min(4096, src.length - a));
    const at = int(rand, src.length);
    return Buffer.concat([src.subarray(0, at), src.subarray(a, a + n), src.subarray(at)]);
  },
};

/** Runs one capture through the whole reader and pipeline; returns the frames read. */
async function run(name: string, bytes: Buffer): Promise<number> {
  const pipeline = new Pipeline(() => {});
  try {
    const summary = await readCapture(bufferSource(name, bytes), pipeline.frame);
    pipeline.finish();
    return summary.frames;
  } catch (err) {
    // Not being a capture at all (a flipped magic number) is a clean refusal, not a crash.
    if (err instanceof CaptureOpenError) return 0;
    throw err;
  }
}

test('10,000 mutated corpus captures are processed with no exception and bounded memory', async (t) => {
  const dir = shared(t, 'corpus');
  if (dir === null) return;
  // Every capture, each cut to 256 KiB so ten thousand runs take seconds, not hours.
  const seeds = readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.pcap'))
    .sort()
    .map((f) => ({ name: f, bytes: readFileSync(join(dir, f)).subarray(0, Math.min(statSync(join(dir, f)).size, 256 * 1024)) }));
  assert.ok(seeds.length >= 20);
  const rand = prng(20040421);
  const names = Object.keys(MUTATIONS);
  const counts = new Map<string, number>();
  gc();
  const heapBefore = heapUsed();
  let peak = heapBefore;
  let frames = 0;
  const iterations = 10_000;
  for (let i = 0; i < iterations; i++) {
    const seed = seeds[i % seeds.length]!;
    const kind = names[int(rand, names.length)]!;
    const mutated = MUTATIONS[kind]!(seed.bytes, rand);
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
    try {
      frames += await run(`${seed.name}#${i}:${kind}`, mutated);
    } catch (err) {
      assert.fail(`${seed.name} mutation ${i} (${kind}) threw: ${(err as Error).stack}`);
    }
    if (i % 500 === 0) peak = Math.max(peak, heapUsed());
  }
  gc();
  const heapAfter = heapUsed();
  for (const kind of names) assert.ok((counts.get(kind) ?? 0) > 1000, `mutation ${kind} was exercised`);
  assert.ok(frames > 100_000, `the mutated captures still carried frames (${frames})`);
  // Nothing may accumulate across captures: what is left after collection is the test's own data.
  assert.ok(heapAfter - heapBefore < 32 * 1024 * 1024, `heap grew by ${((heapAfter - heapBefore) / 1048576).toFixed(1)} MiB`);
  assert.ok(peak - heapBefore < 256 * 1024 * 1024, `peak heap grew by ${((peak - heapBefore) / 1048576).toFixed(1)} MiB`);
});

function heapUsed(): number {
  return process.memoryUsage().heapUsed;
}
