import { existsSync, readdirSync, readFileSync, renameSync, statSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { Frame } from '../capture/frame.js';
import { CaptureOpenError, openByteSource, readCapture, startLiveCapture, type CaptureSummary, type LiveCapture } from '../capture/index.js';

/**
 * The sensor's inputs: capture files (read in order, as one input), live interfaces (tcpdump,
 * several at once), and a directory watched for new captures (each read once, when complete).
 * Inputs only read frames and hand them to a {@link FrameRouter}; they run in the reader thread.
 */

/** What to read. */
export interface InputSpec {
  files: string[];
  interfaces: string[];
  watch: string | null;
  /** A BPF filter for the live interfaces. */
  bpf: string | null;
  /** Where watch-state.json lives (the spool directory). */
  stateDir: string;
  /** The tcpdump binary (tests); "tcpdump" on PATH by default. */
  tcpdump?: string;
}

/** The kind of an input group. */
export type GroupKind = 'files' | 'live' | 'watch';

/** Where frames go: the reader's dispatch to the workers. */
export interface FrameRouter {
  /** A new input group starts: its frames get the returned id. `iface` names a live interface. */
  begin(kind: GroupKind, name: string, iface?: string): number;
  /** One frame of a group; `live` frames may be dropped when a worker is behind, others wait. */
  frame(f: Frame, group: number, live: boolean): void;
  /** The group's input is over (its flows end now). */
  end(group: number): void;
}

/** What inputs tell the sensor. */
export interface InputEvents {
  /** A line for standard error (a damaged capture, tcpdump's state, a file picked up). */
  notice(message: string): void;
  /** A capture that was damaged or could not be opened (a counter in sensor_stats). */
  damaged(): void;
  /** Packets tcpdump reported dropped by the kernel. */
  captureDrops(n: number): void;
}

/** The capture names a watched directory takes: pcap and pcapng, gzipped or not. Dot-files (temporary names) are not. */
const CAPTURE_NAME = /^[^.].*\.(pcap|pcapng|cap)(\.gz)?$/i;

/** A file is complete once its size and mtime have not changed for this long (ms), as the brief for the watch says. */
export const QUIET_MS = 2000;
/** The fallback scan of a watched directory (ms), for file systems where fs.watch says nothing (NFS, some containers). */
const POLL_MS = 5000;
/** How often a directory with files not yet complete is looked at again (ms). */
const PENDING_POLL_MS = 500;

/** Whether a directory entry's name is one the watch takes. */
export function isCaptureName(name: string): boolean {
  return CAPTURE_NAME.test(name);
}

/** A processed file as watch-state.json remembers it: a file of that name with another size or mtime is new. */
interface Processed {
  size: number;
  mtimeMs: number;
  at: string;
}

/** watch-state.json: the files of the watched directory already read, so a restart does not read them again. */
export class WatchState {
  private readonly files = new Map<string, Processed>();
  private readonly path: string;

  constructor(
    stateDir: string,
    private readonly dir: string,
  ) {
    this.path = join(stateDir, 'watch-state.json');
    if (!existsSync(this.path)) return;
    try {
      const data = JSON.parse(readFileSync(this.path, 'utf8')) as { dir?: unknown; files?: Record<string, Processed> };
      // Another directory's state says nothing about this one.
      if (data.dir === dir && data.files !== undefined && typeof data.files === 'object') {
        for (const [name, p] of Object.entries(data.files)) if (typeof p?.size === 'number' && typeof p.mtimeMs === 'number') this.files.set(name, p);
      }
    } catch {
      // A damaged state file: every capture is new again (read twice rather than never).
    }
  }

  /** Whether this file (by name, size and mtime) was read before. */
  has(name: string, size: number, mtimeMs: number): boolean {
    const p = this.files.get(name);
    return p !== undefined && p.size === size && p.mtimeMs === mtimeMs;
  }

  /** Records a file as read and writes the state (atomically), forgetting files no longer in the directory. */
  add(name: string, size: number, mtimeMs: number): void {
    this.files.set(name, { size, mtimeMs, at: new Date().toISOString() });
    let present: Set<string> | null = null;
    try {
      present = new Set(readdirSync(this.dir));
    } catch {
      present = null;
    }
    if (present !== null) for (const k of this.files.keys()) if (!present.has(k)) this.files.delete(k);
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ dir: this.dir, files: Object.fromEntries(this.files) }, null, 1)}\n`);
    renameSync(tmp, this.path);
  }
}

/** A file found in the watched directory, waiting to be complete. */
interface Candidate {
  size: number;
  mtimeMs: number;
  /** When this size and mtime were first seen (ms). */
  since: number;
}

/**
 * A directory watched for new captures. A file is taken once it is complete: its size and mtime
 * unchanged for QUIET_MS, or, at first sight, an mtime already QUIET_MS old (it arrived by
 * rename, or was there before the sensor started). fs.watch makes pickup prompt; a slow scan
 * catches what it misses. Files read before (watch-state.json) are skipped.
 */
export class DirectoryWatch {
  private readonly candidates = new Map<string, Candidate>();
  /** Taken (queued or being read), by name, with what it was when taken. */
  private readonly taken = new Map<string, { size: number; mtimeMs: number }>();
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** Errors reading the directory, reported once until it reads again. */
  private failing = false;

  constructor(
    readonly dir: string,
    private readonly state: WatchState,
    private readonly onReady: (name: string, size: number, mtimeMs: number) => void,
    private readonly notice: (message: string) => void,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    try {
      this.watcher = watch(this.dir, { persistent: false }, () => this.schedule(50));
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = null;
      });
    } catch (err) {
      this.notice(`watch ${this.dir}: fs.watch unavailable (${(err as Error).message}); scanning every ${POLL_MS / 1000} s`);
    }
    this.scan();
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.close();
    this.watcher = null;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** The file was read (or could not be): it may be taken again only if it changes. */
  release(name: string): void {
    this.taken.delete(name);
  }

  /** Looks at the directory now; called by the timers and fs.watch. */
  scan(): void {
    if (this.stopped) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    let names: string[];
    try {
      names = readdirSync(this.dir).filter(isCaptureName).sort();
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.notice(`watch ${this.dir}: cannot read the directory: ${(err as Error).message}`);
      this.failing = true;
      this.schedule(POLL_MS);
      return;
    }
    const now = this.now();
    const present = new Set(names);
    for (const k of this.candidates.keys()) if (!present.has(k)) this.candidates.delete(k);
    for (const name of names) {
      let st;
      try {
        st = statSync(join(this.dir, name));
      } catch {
        continue; // gone between readdir and stat
      }
      if (!st.isFile()) continue;
      const t = this.taken.get(name);
      if (t !== undefined) continue;
      if (this.state.has(name, st.size, st.mtimeMs)) {
        this.candidates.delete(name);
        continue;
      }
      const c = this.candidates.get(name);
      if (c === undefined) {
        if (now - st.mtimeMs >= QUIET_MS) this.take(name, st.size, st.mtimeMs);
        else this.candidates.set(name, { size: st.size, mtimeMs: st.mtimeMs, since: now });
      } else if (c.size !== st.size || c.mtimeMs !== st.mtimeMs) {
        c.size = st.size;
        c.mtimeMs = st.mtimeMs;
        c.since = now;
      } else if (now - c.since >= QUIET_MS) {
        this.take(name, st.size, st.mtimeMs);
      }
    }
    this.schedule(this.candidates.size > 0 ? PENDING_POLL_MS : POLL_MS);
  }

  private take(name: string, size: number, mtimeMs: number): void {
    this.candidates.delete(name);
    this.taken.set(name, { size, mtimeMs });
    this.onReady(name, size, mtimeMs);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.scan(), ms);
  }
}

/**
 * Runs the inputs: the files in order (one group), each live interface (a group each, side by
 * side), and the watched directory (a group per file, one file at a time). `finite` settles when
 * every file input is read and nothing else runs (no interface, no watch).
 */
export class Inputs {
  private readonly abort = new AbortController();
  private readonly lives: LiveCapture[] = [];
  private readonly running: Array<Promise<unknown>> = [];
  private watch: DirectoryWatch | null = null;
  private state: WatchState | null = null;
  /** Watched files read, waiting for the sensor to say their records are spooled (group id → file). */
  private readonly unconfirmed = new Map<number, { name: string; size: number; mtimeMs: number }>();
  private readonly queue: Array<{ name: string; size: number; mtimeMs: number }> = [];
  /** The watched files' reader while it has work (one file at a time). */
  private watchRun: Promise<void> | null = null;
  private stopping = false;
  /** Settles when the file inputs are done, if they are all there is. */
  readonly finite: Promise<void>;
  private resolveFinite!: () => void;

  constructor(
    private readonly spec: InputSpec,
    private readonly router: FrameRouter,
    private readonly events: InputEvents,
  ) {
    this.finite = new Promise((resolve) => (this.resolveFinite = resolve));
  }

  /** Starts every input. */
  start(): void {
    for (const iface of this.spec.interfaces) this.running.push(this.runLive(iface));
    const files: Promise<unknown> = this.spec.files.length > 0 ? this.readFiles('files', this.spec.files) : Promise.resolve();
    this.running.push(files);
    if (this.spec.watch !== null) {
      this.state = new WatchState(this.spec.stateDir, this.spec.watch);
      this.watch = new DirectoryWatch(this.spec.watch, this.state, (name, size, mtimeMs) => this.enqueue(name, size, mtimeMs), (m) => this.events.notice(m));
      // Files given on the command line first, then what the directory holds.
      void files.then(() => this.watch?.start());
    }
    if (this.spec.interfaces.length === 0 && this.spec.watch === null) void files.then(() => this.resolveFinite());
  }

  /** Stops: live captures drain what tcpdump has written, file reading stops at the next window. Resolves when every group has ended. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.watch?.stop();
    this.queue.length = 0;
    for (const l of this.lives) l.stop();
    this.abort.abort();
    await Promise.allSettled([...this.running, this.watchRun]);
  }

  /** The sensor has spooled every record of a group: a watched file is then remembered as read. */
  confirm(group: number): void {
    const f = this.unconfirmed.get(group);
    if (f === undefined) return;
    this.unconfirmed.delete(group);
    this.remember(f);
  }

  private enqueue(name: string, size: number, mtimeMs: number): void {
    this.queue.push({ name, size, mtimeMs });
    this.watchRun ??= this.drainQueue().finally(() => (this.watchRun = null));
  }

  private async drainQueue(): Promise<void> {
    while (this.queue.length > 0 && !this.stopping) {
      const f = this.queue.shift()!;
      const path = join(this.spec.watch!, f.name);
      this.events.notice(`watch: reading ${path}`);
      const group = await this.readFiles('watch', [path]);
      // The file stays taken (not looked at again) until its records are spooled: confirm().
      // A file cut short by stop() is read again, whole, after a restart.
      if (group !== null) {
        if (!this.abort.signal.aborted) this.unconfirmed.set(group, f);
      } else this.remember(f); // not a capture: remembered, never retried
    }
  }

  private remember(f: { name: string; size: number; mtimeMs: number }): void {
    try {
      this.state?.add(f.name, f.size, f.mtimeMs);
    } catch (err) {
      this.events.notice(`watch: cannot write watch-state.json: ${(err as Error).message} (the file may be read again after a restart)`);
    }
    this.watch?.release(f.name);
  }

  /**
   * Reads captures into one group, in order. Returns the group id, or null when none could be
   * opened (no group was begun). A capture that cannot be opened or is damaged is reported and
   * counted; the frames before the damage stand (as `outpost analyze` does).
   */
  private async readFiles(kind: GroupKind, paths: string[]): Promise<number | null> {
    let group: number | null = null;
    for (const path of paths) {
      if (this.abort.signal.aborted) break;
      let summary: CaptureSummary;
      try {
        const source = await openByteSource(path);
        if (group === null) group = this.router.begin(kind, path);
        const g = group;
        summary = await readCapture(source, (f) => this.router.frame(f, g, false), { signal: this.abort.signal });
      } catch (err) {
        // CaptureOpenError says which file and why; anything else (a read error) gets the path.
        this.events.notice(err instanceof CaptureOpenError ? err.message : `${path}: ${(err as Error).message}`);
        this.events.damaged();
        continue;
      }
      if (summary.damage !== null) {
        this.events.notice(`${summary.damage.message} (the ${summary.frames} frames before it were analysed; the rest is skipped)`);
        this.events.damaged();
      }
    }
    if (group !== null) this.router.end(group);
    return group;
  }

  private async runLive(iface: string): Promise<void> {
    let live: LiveCapture;
    try {
      live = startLiveCapture(iface, this.spec.bpf !== null ? [this.spec.bpf] : [], {
        ...(this.spec.tcpdump !== undefined ? { tcpdump: this.spec.tcpdump } : {}),
        onListening: (m) => this.events.notice(`tcpdump: ${m}`),
      });
    } catch (err) {
      this.events.notice((err as Error).message);
      this.events.damaged();
      return;
    }
    this.lives.push(live);
    const group = this.router.begin('live', iface, iface);
    try {
      // No signal: stopping asks tcpdump to stop, and the packets it already wrote are read.
      await readCapture(live.source, (f) => this.router.frame(f, group, true));
    } catch (err) {
      // tcpdump wrote nothing (it could not start): its own message follows from `done`.
      if (!(err instanceof CaptureOpenError)) this.events.notice(`${iface}: ${(err as Error).message}`);
    }
    try {
      await live.done;
    } catch (err) {
      this.events.notice((err as Error).message);
      this.events.damaged();
    }
    if (live.droppedByKernel !== null && live.droppedByKernel > 0) this.events.captureDrops(live.droppedByKernel);
    this.router.end(group);
  }
}
