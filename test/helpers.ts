import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { Frame } from '../src/capture/frame.js';
import type { ByteSource } from '../src/capture/source.js';
import type { SynthCapture } from '../src/synth/traffic.js';

/** The repository root (tests run from dist/test/..., compiled). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The shared material beside the repository (../shared), or OUTPOST_SHARED. */
export const sharedDir = resolve(process.env.OUTPOST_SHARED ?? join(repoRoot, '..', 'shared'));

/** The compiled `outpost` command. */
export const outpostBin = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

/**
 * CI sets OUTPOST_REQUIRE=1: then a missing tool fails the test instead of skipping it, so a
 * required check can never pass by being skipped.
 */
const required = process.env.OUTPOST_REQUIRE === '1';

/**
 * Path under ../shared, or null when the shared material is absent: the test is then skipped
 * with a message saying so (the only skip the project allows for it).
 */
export function shared(t: TestContext, ...parts: string[]): string | null {
  const p = join(sharedDir, ...parts);
  if (existsSync(p)) return p;
  t.skip(`${p} is absent (the shared material beside the repository)`);
  return null;
}

/** True when a command is on PATH; otherwise skips the test (or fails it under OUTPOST_REQUIRE). */
export function tool(t: TestContext, name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    const why = `${name} is not installed`;
    if (required) throw new Error(`required: ${why} (.ci/run installs it)`);
    t.skip(why);
    return false;
  }
}

/** A fresh temporary directory, removed when the test ends. */
export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A capture held in memory, as a byte source for readCapture. */
export function bufferSource(name: string, bytes: Uint8Array, chunk = 1 << 20): ByteSource {
  let pos = 0;
  return {
    name,
    size: bytes.length,
    get position() {
      return pos;
    },
    read(buf, offset, length) {
      const n = Math.min(length, bytes.length - pos, chunk);
      buf.set(bytes.subarray(pos, pos + n), offset);
      pos += n;
      return Promise.resolve(n);
    },
    close() {},
  };
}

/** A small seeded PRNG (mulberry32), so randomised tests replay exactly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Hands every frame of a crafted in-memory capture to `sink` (a pipeline's frame), numbered from 1, as a capture reader would. */
export function replayFrames(cap: SynthCapture, sink: (frame: Frame) => void): void {
  const frame = new Frame();
  let n = 0;
  for (const f of cap.frames!) {
    frame.data = f.frame;
    frame.offset = 0;
    frame.caplen = f.frame.length;
    frame.wirelen = f.frame.length;
    frame.tsSec = Math.floor(f.time);
    frame.tsNsec = Math.round((f.time - Math.floor(f.time)) * 1e9);
    frame.linktype = cap.linktype;
    frame.number = ++n;
    sink(frame);
  }
}
