import { isMainThread, parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import type { Frame } from '../capture/frame.js';
import { BATCH_BYTES, BatchWriter, frameSpace } from './batch.js';
import { workerFor } from './dispatch.js';
import { Inputs, type FrameRouter, type GroupKind, type InputSpec } from './inputs.js';
import type { ReaderMessage } from './worker.js';

/**
 * The reader thread: it reads the inputs, hashes each frame's address pair to pick a worker,
 * and copies the frame into that worker's batch; nothing else, so that it is never the slowest
 * thread. A full batch (or one 50 ms old) is transferred to its worker, which gives it back when
 * done. Each worker has at most BATCH_POOL batches: when they are all out, a file input waits for
 * one to come back (no loss), and a live input drops the frame and counts it (an internal drop:
 * a queue that grew instead would only move the loss later, and take the memory with it).
 */

/**
 * Batches per worker: in flight plus the one being filled. 16 × 256 KiB = 4 MiB per worker, some
 * 7,000 mean-sized frames: a worker's hiccup (a GC pause of tens of ms at 100 kpps) is absorbed
 * without drops, and memory stays bounded.
 */
export const BATCH_POOL = 16;
/** Longest a frame waits in a part-filled batch (ms): latency on a quiet live link. */
const BATCH_AGE_MS = 50;
/** How long a blocked file reader sleeps between looks at the stop flag (ms). */
const WAIT_SLICE_MS = 200;

/** What the main thread gives the reader (workerData). */
export interface ReaderSetup {
  kind: 'outpost-reader';
  inputs: InputSpec;
  /** One channel per worker: batches and group markers out, free batches back. */
  ports: MessagePort[];
  /** Int32 per worker, bumped by the worker when it gives a batch back. */
  returned: SharedArrayBuffer;
  /** Float64 counters the main thread reads: see {@link ReaderCounter}. */
  counters: SharedArrayBuffer;
  /** Int32 [0]: set to 1 by the main thread to stop (seen even while the reader is blocked). */
  control: SharedArrayBuffer;
}

/** Slots of the reader's shared counters. */
export const ReaderCounter = { frames: 0, bytes: 1, internalDrops: 2, captureDrops: 3, damaged: 4, groups: 5 } as const;
export const READER_COUNTERS = 6;

/** Reader → main. */
export type ReaderNotice =
  | { t: 'group'; id: number; kind: GroupKind; name: string }
  | { t: 'group-end'; id: number }
  | { t: 'notice'; message: string }
  /** Every finite input is read and there is nothing else (no interface, no watch). */
  | { t: 'idle' }
  | { t: 'stopped' };

/** Main → reader. */
export type ReaderControl = { t: 'stop' } | { t: 'confirm'; id: number };

/** The frame path: hashing, batching, the pool and its backpressure. */
export class Dispatcher implements FrameRouter {
  private readonly writers: Array<BatchWriter | null>;
  private readonly free: ArrayBuffer[][];
  private readonly allocated: number[];
  private readonly n: number;
  private readonly returned: Int32Array;
  private readonly control: Int32Array;
  private readonly counters: Float64Array;
  private nextGroup = 1;
  private sinceAgeCheck = 0;

  constructor(
    private readonly ports: MessagePort[],
    returned: SharedArrayBuffer,
    counters: SharedArrayBuffer,
    control: SharedArrayBuffer,
    private readonly toMain: (m: ReaderNotice) => void,
  ) {
    this.n = ports.length;
    this.writers = ports.map(() => null);
    this.free = ports.map(() => []);
    this.allocated = ports.map(() => 0);
    this.returned = new Int32Array(returned);
    this.counters = new Float64Array(counters);
    this.control = new Int32Array(control);
  }

  begin(kind: GroupKind, name: string, iface?: string): number {
    const id = this.nextGroup++;
    this.counters[ReaderCounter.groups]!++;
    this.toMain({ t: 'group', id, kind, name });
    const m: ReaderMessage = { t: 'group', id, kind, ...(iface !== undefined ? { iface } : {}) };
    for (const p of this.ports) p.postMessage(m);
    return id;
  }

  end(group: number): void {
    for (let w = 0; w < this.n; w++) {
      this.send(w);
      this.ports[w]!.postMessage({ t: 'end', id: group } satisfies ReaderMessage);
    }
    this.toMain({ t: 'group-end', id: group });
  }

  frame(f: Frame, group: number, live: boolean): void {
    const c = this.counters;
    c[ReaderCounter.frames]!++;
    c[ReaderCounter.bytes]! += f.wirelen;
    const w = workerFor(f.data, f.offset, f.caplen, f.linktype, this.n);
    if (frameSpace(f.caplen) > BATCH_BYTES) return this.oversized(w, f, group, live);
    let b = this.writers[w];
    if (b !== null && b !== undefined && !b.fits(f.caplen)) {
      this.send(w);
      b = null;
    }
    if (b === null || b === undefined) {
      b = this.acquire(w, live);
      if (b === null) {
        // A file's frame is refused only when the sensor is stopping: not a drop, the reading stops.
        if (live) c[ReaderCounter.internalDrops]!++;
        return;
      }
      this.writers[w] = b;
    }
    const now = performance.now();
    b.put(f, group, now);
    if (++this.sinceAgeCheck >= 256) {
      this.sinceAgeCheck = 0;
      this.sendAged(now);
    }
  }

  /** Sends every batch holding a frame older than BATCH_AGE_MS (the reader's timer calls it too). */
  sendAged(now = performance.now()): void {
    for (let w = 0; w < this.n; w++) {
      const b = this.writers[w];
      if (b != null && b.count > 0 && now - b.firstAt >= BATCH_AGE_MS) this.send(w);
    }
  }

  /** Sends every part-filled batch. */
  sendAll(): void {
    for (let w = 0; w < this.n; w++) this.send(w);
  }

  private send(w: number): void {
    const b = this.writers[w];
    if (b == null || b.count === 0) return;
    this.writers[w] = null;
    this.ports[w]!.postMessage({ t: 'batch', buf: b.buf, used: b.used } satisfies ReaderMessage, [b.buf]);
  }

  /**
   * A frame larger than a batch (a jumbo snaplen): a batch of its own, sized to it. It takes a
   * pool slot like any batch (the pooled buffer is let go), and frees the slot when it comes back.
   */
  private oversized(w: number, f: Frame, group: number, live: boolean): void {
    this.send(w);
    if (this.acquire(w, live) === null) {
      if (live) this.counters[ReaderCounter.internalDrops]!++;
      return;
    }
    const b = new BatchWriter(new ArrayBuffer(frameSpace(f.caplen)));
    b.put(f, group, performance.now());
    this.writers[w] = b;
    this.send(w);
  }

  /**
   * A batch for worker `w`: a returned one, else a new one while the pool allows, else (live)
   * null, or (file) the next one the worker gives back, waiting for it.
   */
  private acquire(w: number, live: boolean): BatchWriter | null {
    this.collect(w);
    let buf = this.free[w]!.pop();
    if (buf === undefined && this.allocated[w]! < BATCH_POOL) {
      this.allocated[w]!++;
      buf = new ArrayBuffer(BATCH_BYTES);
    }
    while (buf === undefined) {
      if (live || Atomics.load(this.control, 0) !== 0) return null;
      const seen = Atomics.load(this.returned, w);
      this.collect(w);
      buf = this.free[w]!.pop();
      if (buf === undefined) Atomics.wait(this.returned, w, seen, WAIT_SLICE_MS);
    }
    return new BatchWriter(buf);
  }

  /** Takes back the batches worker `w` has returned; an oversized one frees its pool slot instead. */
  private collect(w: number): void {
    const port = this.ports[w]!;
    for (;;) {
      const m = receiveMessageOnPort(port) as { message: { t: 'free'; buf: ArrayBuffer } } | undefined;
      if (m === undefined) return;
      if (m.message.buf.byteLength === BATCH_BYTES) this.free[w]!.push(m.message.buf);
      else this.allocated[w]!--;
    }
  }
}

function run(setup: ReaderSetup, parent: MessagePort): void {
  const toMain = (m: ReaderNotice): void => parent.postMessage(m);
  const dispatcher = new Dispatcher(setup.ports, setup.returned, setup.counters, setup.control, toMain);
  const counters = new Float64Array(setup.counters);
  const inputs = new Inputs(setup.inputs, dispatcher, {
    notice: (message) => toMain({ t: 'notice', message }),
    damaged: () => counters[ReaderCounter.damaged]!++,
    captureDrops: (n) => (counters[ReaderCounter.captureDrops]! += n),
  });
  const ager = setInterval(() => dispatcher.sendAged(), BATCH_AGE_MS);
  let stopping = false;
  parent.on('message', (m: ReaderControl) => {
    if (m.t === 'confirm') inputs.confirm(m.id);
    else if (m.t === 'stop' && !stopping) {
      stopping = true;
      void inputs.stop().then(() => {
        clearInterval(ager);
        dispatcher.sendAll();
        toMain({ t: 'stopped' });
      });
    }
  });
  void inputs.finite.then(() => {
    dispatcher.sendAll();
    toMain({ t: 'idle' });
  });
  inputs.start();
}

if (!isMainThread && parentPort !== null && (workerData as { kind?: string } | null)?.kind === 'outpost-reader') {
  run(workerData as ReaderSetup, parentPort as unknown as MessagePort);
}
