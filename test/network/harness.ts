import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { outpostBin } from '../helpers.js';

/**
 * Real `outpost` processes for the network's end-to-end tests: a collector or a sensor started as
 * its own process (so it can be killed with SIGKILL), its output kept, and waits bounded in time.
 */

/** A running `outpost` process and what it has printed so far. */
export interface Proc {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
}

/** Starts `outpost ARGS`; it is killed when the test ends if still running. */
export function startOutpost(t: TestContext, args: string[], env: NodeJS.ProcessEnv = process.env): Proc {
  const child = spawn(process.execPath, [outpostBin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Waits until `check` returns a value (not undefined), polling; throws with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000, everyMs = 50): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Waits for a line matching `re` on the process's stderr; returns the match. Fails early if the process exits. */
export async function waitForLine(p: Proc, re: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
  let exited: number | string | null = null;
  void p.exited.then((c) => (exited = c));
  return waitFor(`${re} from outpost (stderr so far: ${p.stderr().slice(-500)})`, () => {
    const m = re.exec(p.stderr());
    if (m !== null) return m;
    if (exited !== null) throw new Error(`outpost exited (${exited}) before printing ${re}:\n${p.stderr().slice(-2000)}`);
    return undefined;
  }, timeoutMs);
}

/** A TCP port free on loopback right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Kills a process with a signal and waits for it to be gone. */
export async function kill(p: Proc, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | string> {
  p.child.kill(signal);
  return p.exited;
}
