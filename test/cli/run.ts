import { spawnSync } from 'node:child_process';
import { outpostBin } from '../helpers.js';

export interface OutpostRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the compiled `outpost` to the end, bounded in time, with optional standard input and environment. */
export function runOutpost(args: string[], options: { input?: Buffer; env?: NodeJS.ProcessEnv } = {}): OutpostRun {
  const r = spawnSync(process.execPath, [outpostBin, ...args], {
    input: options.input ?? Buffer.alloc(0),
    env: options.env ?? process.env,
    timeout: 60_000,
    maxBuffer: 256 << 20,
  });
  if (r.error !== undefined) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** The JSON records of EVE output. */
export function records(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export function flows(stdout: string): Array<Record<string, unknown>> {
  return records(stdout).filter((r) => r.event_type === 'flow');
}

/** "src_ip:src_port -> dest_ip:dest_port proto" of every flow, sorted: what a capture's flows are, in short. */
export function flowKeys(stdout: string): string[] {
  return flows(stdout)
    .map((f) => `${String(f.src_ip)}:${String(f.src_port)} -> ${String(f.dest_ip)}:${String(f.dest_port)} ${String(f.proto)}`)
    .sort();
}

/** EVE output with flow ids removed: they are random per run, everything else must match. */
export function withoutFlowIds(stdout: string): string {
  return stdout.replace(/"flow_id":\d+,/g, '');
}
