import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { benchInfoPath, ensureBenchCapture, type BenchCaptureInfo } from '../src/synth/bench-capture.js';

/** The repository root (this file runs from dist/bench/). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where the benchmark capture lives; bench/data/ is ignored by git. */
export const BENCH_CAPTURE = resolve(repoRoot, 'bench', 'data', 'bench-1g.pcap');

/** Builds the benchmark capture unless an up-to-date one is already there, saying which on stderr. */
export function benchCapture(path = BENCH_CAPTURE, targetBytes?: number): BenchCaptureInfo {
  const shown = relative(process.cwd(), path) || path;
  let announced = false;
  const { info, generated } = ensureBenchCapture(path, {
    ...(targetBytes !== undefined ? { targetBytes } : {}),
    onProgress: (written, planned) => {
      if (!announced) process.stderr.write(`building ${shown} ...\n`);
      announced = true;
      process.stderr.write(`  ${(written / 1e6).toFixed(0)} of ${(planned / 1e6).toFixed(0)} MB\r`);
    },
  });
  if (generated) process.stderr.write(`${announced ? '\n' : ''}built ${shown} in ${info.generationSeconds} s\n`);
  return info;
}

/**
 * The description of a capture given by path: the default one is built when absent; any other
 * must already have its JSON beside it (as `node dist/bench/capture.js --out PATH` leaves it).
 */
export function captureInfo(path: string): BenchCaptureInfo {
  if (path === BENCH_CAPTURE) return benchCapture(path);
  const infoPath = benchInfoPath(path);
  if (!existsSync(infoPath)) throw new Error(`${infoPath} is missing: make the capture with node dist/bench/capture.js --out ${path}`);
  return JSON.parse(readFileSync(infoPath, 'utf8')) as BenchCaptureInfo;
}

/** One line describing a capture, for the console and RESULTS.md. */
export function describeCapture(info: BenchCaptureInfo): string {
  const k = info.flowsByKind;
  const share = (n: number): string => `${((n / info.packets) * 100).toFixed(0)}%`;
  const p = info.packetsByKind;
  return (
    `${info.bytes.toLocaleString('en-US')} bytes, ${info.packets.toLocaleString('en-US')} packets ` +
    `(mean ${info.meanPacketBytes} captured bytes), ${info.flows.toLocaleString('en-US')} flows ` +
    `(http ${k.http}, tls ${k.tls}, dns ${k.dns}, bulk ${k.bulk}; ${info.ipv6Flows} over IPv6), ` +
    `packets http ${share(p.http)} / tls ${share(p.tls)} / dns ${share(p.dns)} / bulk ${share(p.bulk)}, ` +
    `${info.concurrentFlows} flows open at a time (mean ${info.meanOpenFlows} per packet), ` +
    `${info.durationSeconds} s of packet time, seed 0x${info.seed.toString(16)}, generator v${info.version}`
  );
}

/** Run directly: `node dist/bench/capture.js [--out PATH] [--target BYTES]` builds (or checks) the capture. */
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { out: { type: 'string' }, target: { type: 'string' } } });
  const info = benchCapture(values.out !== undefined ? resolve(values.out) : BENCH_CAPTURE, values.target !== undefined ? Number(values.target) : undefined);
  process.stdout.write(`${describeCapture(info)}\n`);
}

/**
 * The limit every benchmark states its ratio to: the file read with readSync into a 4 MiB buffer,
 * one byte touched per 4 KiB page, the fastest the bytes can arrive in this process.
 */
export function rawRead(path: string): { seconds: number; bytes: number } {
  const t0 = performance.now();
  const fd = openSync(path, 'r');
  const buf = new Uint8Array(4 * 1024 * 1024);
  let bytes = 0;
  let touched = 0;
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    bytes += n;
    for (let i = 0; i < n; i += 4096) touched += buf[i]!;
  }
  closeSync(fd);
  if (touched < 0) throw new Error('unreachable');
  return { seconds: (performance.now() - t0) / 1000, bytes };
}
