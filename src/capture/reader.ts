import { CaptureDamage, CaptureOpenError } from './damage.js';
import { Frame, type FrameSink } from './frame.js';
import type { CaptureParser } from './parser.js';
import { PcapParser } from './pcap.js';
import { PcapngParser } from './pcapng.js';
import type { ByteSource } from './source.js';

/** What reading one capture produced. */
export interface CaptureSummary {
  file: string;
  format: 'pcap' | 'pcapng';
  frames: number;
  /** Captured bytes (sum of caplen). */
  bytes: number;
  linktypes: number[];
  /** Set when the capture is corrupt or ends mid-record; frames before it were delivered. */
  damage: CaptureDamage | null;
}

export interface ReadOptions {
  /** Called now and then with bytes consumed, for progress bars. */
  onProgress?: (position: number) => void;
  /** Stops reading at the next window boundary. */
  signal?: AbortSignal;
}

/**
 * The reader's window. Records are parsed in place; only a record that straddles the
 * end of the window is moved to its start. 4 MiB keeps reads large without holding much.
 */
const WINDOW_BYTES = 4 * 1024 * 1024;
/** Smallest window: room for any ordinary record, so only jumbo frames make it grow. */
const MIN_WINDOW_BYTES = 64 * 1024;

/**
 * Reads one capture from a byte source and hands every frame to the sink. The format
 * (pcap or pcapng) is chosen by magic number. Never throws for damaged content: damage is
 * returned in the summary after everything before it has been delivered.
 */
export async function readCapture(source: ByteSource, sink: FrameSink, options: ReadOptions = {}): Promise<CaptureSummary> {
  const reads = new AbortableReads(source, options.signal);
  try {
    return await readAll(source, reads, sink, options);
  } finally {
    reads.dispose();
    source.close();
  }
}

async function readAll(source: ByteSource, reads: AbortableReads, sink: FrameSink, options: ReadOptions): Promise<CaptureSummary> {
  // A small capture (a test, a honeypot session) needs no 4 MiB window: zeroing one costs more than reading it.
  let window = new Uint8Array(source.size !== null && source.size < WINDOW_BYTES ? Math.max(MIN_WINDOW_BYTES, source.size) : WINDOW_BYTES);
  let have = 0;
  let fileOffset = 0; // file offset of window[0]
  let parser: CaptureParser | null = null;
  let frames = 0;
  let bytes = 0;
  const frame = new Frame();
  const counting: FrameSink = (f) => {
    frames++;
    bytes += f.caplen;
    sink(f);
  };
  let damage: CaptureDamage | null = null;
  let sinceTurn = 0; // bytes read since the event loop last had a turn

  for (;;) {
    if (options.signal !== undefined) {
      if (sinceTurn >= WINDOW_BYTES) {
        // A file is read with synchronous reads that never give the event loop a turn, so a
        // SIGINT handler could not run (and abort) until the end: give it one per window read.
        sinceTurn = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      if (options.signal.aborted) break;
    }
    let n: number;
    try {
      n = await reads.read(window, have, window.length - have);
    } catch (err) {
      // A decompressor or pipe failing mid-way: what came before stands.
      damage = new CaptureDamage(source.name, fileOffset + have, readErrorReason(err));
      break;
    }
    if (n < 0) break; // aborted while waiting for input (an idle pipe)
    sinceTurn += n;
    if (n === 0) {
      if (parser === null && have === 0) throw new CaptureOpenError(source.name, 'is empty');
      if (have > 0) {
        if (parser === null) parser = chooseParser(source.name, window, have);
        damage = new CaptureDamage(source.name, fileOffset, `capture ends inside a record (${have} bytes left over, ${parser.needed} needed)`);
      }
      break;
    }
    have += n;
    if (parser === null) {
      if (have < 4) continue;
      parser = chooseParser(source.name, window, have);
    }
    const used = parser.parse(window, 0, have, fileOffset, frame, counting);
    if (parser.damage !== null) {
      damage = new CaptureDamage(source.name, parser.damage.offset, parser.damage.reason);
      break;
    }
    if (used > 0) {
      window.copyWithin(0, used, have);
      have -= used;
      fileOffset += used;
    }
    if (parser.needed > window.length) {
      // One record larger than the window: grow to fit it (parsers cap record sizes).
      const bigger = new Uint8Array(parser.needed);
      bigger.set(window.subarray(0, have));
      window = bigger;
    } else if (window.length > WINDOW_BYTES && have < WINDOW_BYTES && parser.needed <= WINDOW_BYTES) {
      // Shrink back once the large record has passed, so one giant block does not pin memory.
      const smaller = new Uint8Array(WINDOW_BYTES);
      smaller.set(window.subarray(0, have));
      window = smaller;
    }
    options.onProgress?.(source.position);
  }
  return {
    file: source.name,
    format: parser?.format ?? 'pcap',
    frames,
    bytes,
    linktypes: parser === null ? [] : [...parser.linktypes],
    damage,
  };
}

/**
 * Reads that give up with -1 when the signal fires: a pipe with nothing to say must not keep
 * a stopped reader waiting. One listener serves every read, so none pile up.
 */
class AbortableReads {
  private wake: ((n: number) => void) | null = null;
  private readonly onAbort = (): void => this.wake?.(-1);

  constructor(
    private readonly source: ByteSource,
    private readonly signal: AbortSignal | undefined,
  ) {
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  read(buf: Uint8Array, offset: number, length: number): Promise<number> {
    if (this.signal === undefined) return this.source.read(buf, offset, length);
    if (this.signal.aborted) return Promise.resolve(-1);
    return new Promise<number>((resolve, reject) => {
      this.wake = resolve;
      this.source.read(buf, offset, length).then(resolve, reject);
    });
  }

  dispose(): void {
    this.wake = null;
    this.signal?.removeEventListener('abort', this.onAbort);
  }
}

function chooseParser(name: string, head: Uint8Array, have: number): CaptureParser {
  const b = head.subarray(0, have);
  if (PcapParser.sniff(b)) return new PcapParser();
  if (PcapngParser.sniff(b)) return new PcapngParser();
  const hex = Array.from(b.subarray(0, 4), (x) => x.toString(16).padStart(2, '0')).join(' ');
  throw new CaptureOpenError(name, `not a pcap or pcapng capture (first bytes ${hex})`);
}

function readErrorReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'Z_BUF_ERROR' || /unexpected end/i.test(e.message ?? '')) return 'gzip stream ends early (truncated .gz)';
  if (typeof e.code === 'string' && e.code.startsWith('Z_')) return `gzip stream is corrupt (${e.message})`;
  return e.message ?? String(err);
}
