import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { repoRoot } from './capture.js';

/**
 * Sums self time per function from a V8 .cpuprofile (what `node --cpu-prof` writes) and prints
 * the top functions as a markdown table:
 *
 *   node dist/bench/profile-summary.js bench/data/profiles [--top 15] [--by name]
 *
 * A directory means its newest .cpuprofile. Functions are told apart by name and location;
 * `--by name` merges all functions of one name (every anonymous closure into one row, say).
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame }>;
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  location: string;
  micros: number;
}

/** Self time per function, most first, and the total sampled time (both in microseconds). */
export function selfTimes(profile: CpuProfile, byName: boolean): { rows: SelfTime[]; total: number } {
  const frames = new Map<number, CallFrame>();
  for (const n of profile.nodes) frames.set(n.id, n.callFrame);
  const rows = new Map<string, SelfTime>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    // timeDeltas[i] is the time since the previous sample; it is charged to this sample's frame.
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    const cf = frames.get(profile.samples[i]!);
    if (cf === undefined) continue;
    const name = cf.functionName === '' ? '(anonymous)' : cf.functionName;
    const location = cf.url === '' ? '' : `${shortUrl(cf.url)}:${cf.lineNumber + 1}`;
    const key = byName ? name : `${name} ${location}`;
    const row = rows.get(key) ?? { name, location: byName ? '' : location, micros: 0 };
    row.micros += dt;
    rows.set(key, row);
  }
  return { rows: [...rows.values()].sort((a, b) => b.micros - a.micros), total };
}

function shortUrl(url: string): string {
  if (!url.startsWith('file://')) return url;
  return relative(repoRoot, fileURLToPath(url));
}

function newestProfile(path: string): string {
  if (!statSync(path).isDirectory()) return path;
  const files = readdirSync(path)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(path, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (files.length === 0) throw new Error(`no .cpuprofile in ${path}`);
  return files[0]!;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '15' }, by: { type: 'string', default: 'location' } },
  });
  if (positionals.length !== 1) {
    process.stderr.write('usage: node dist/bench/profile-summary.js <file.cpuprofile | directory> [--top N] [--by name|location]\n');
    process.exit(2);
  }
  const file = newestProfile(resolve(positionals[0]!));
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const { rows, total } = selfTimes(profile, values.by === 'name');
  const top = rows.slice(0, Number(values.top));
  const shown = top.reduce((a, r) => a + r.micros, 0);
  process.stdout.write(`${relative(process.cwd(), file)}: ${(total / 1000).toFixed(0)} ms sampled; the top ${top.length} hold ${((shown / total) * 100).toFixed(1)}%\n\n`);
  process.stdout.write('| # | self ms | self % | function | where |\n|---:|---:|---:|---|---|\n');
  top.forEach((r, i) => {
    process.stdout.write(`| ${i + 1} | ${(r.micros / 1000).toFixed(0)} | ${((r.micros / total) * 100).toFixed(1)} | \`${r.name}\` | ${r.location} |\n`);
  });
}
