import {
  appendFileSync,
  closeSync,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { SpoolDropEvent } from '../events/sensor.js';
import { formatTimestamp } from '../events/time.js';
import type { EveEvent } from '../events/types.js';

/**
 * The sensor's durable spool (docs/network.md, src/sensor/NOTES.md "Spool and shipper"): every
 * record gets its sequence number here, is written to append-only segment files, and stays until
 * the collector acknowledges it or the disk budget forces the oldest out.
 *
 * Layout: DIR/NNNNNNNNNNNNNNNNNNNN.seg (the 20-digit seq of its first line), NDJSON lines that
 * each begin `{"seq":N,`; DIR/state.json {acked, dropped, lostThrough, nextSeq, ...} written
 * atomically; DIR/rejected.ndjson (events the collector refused one by one); DIR/lock (the pid).
 *
 * fsync policies (the loss window is what a crash can take of what append() already returned):
 * - `always`: each append is written and fdatasync'd before it returns. Process crash: nothing
 *   lost. Power loss: nothing lost. About one disk flush per event: slow.
 * - `batch` (default): appends are buffered and written + fdatasync'd as a group every
 *   `fsyncInterval` ms, when 1 MiB is buffered, and before read() hands lines to the shipper.
 *   Process crash or power loss: at most the last `fsyncInterval` ms of events (and under 1 MiB).
 *   Nothing that was shipped is ever lost, because read() only serves synced bytes.
 * - `none`: buffered and written like `batch`, never fdatasync'd. Process crash: at most the last
 *   `fsyncInterval` ms. Power loss: whatever the OS had not written back (on Linux up to ~30 s);
 *   if some of it had been shipped, its sequence numbers are given again after the restart and the
 *   collector takes the new events for duplicates. Only where power loss is not a concern.
 * Every loss is visible: a missing seq range makes the next batch carry lost-through, and torn
 * lines found at open are counted (`torn`).
 */

/** Where and how the spool keeps events (SensorConfig.spool). */
export interface SpoolOptions {
  dir: string;
  /** Disk budget in bytes: segments beyond it are dropped, oldest first. At least two segments. */
  budget: number;
  /** Bytes per segment file before a new one is started. */
  segmentSize: number;
  fsync: 'always' | 'batch' | 'none';
  /** ms between group writes under `batch` and `none`. */
  fsyncInterval: number;
}

/** The spool's figures (for sensor_stats and /healthz). */
export interface SpoolStats {
  /** Events held and not yet acknowledged (nor declared lost). */
  depth: number;
  /** Bytes held: segment files plus the unwritten buffer. */
  bytes: number;
  /** The collector's acknowledgement: every seq up to it is stored (or declared lost). */
  acked: number;
  /** The seq the next append gets. */
  nextSeq: number;
  /** Events dropped since the spool was created: disk budget, or a disk that refused writes. */
  dropped: number;
  /** Segment files. */
  segments: number;
  /** Every seq up to this one that is not stored is lost (dropped or refused): what batches tell the collector. */
  lostThrough: number;
  /** Torn or unreadable lines found (after a crash) and left out, never returned. */
  torn: number;
  /** Events the collector refused one by one, kept in rejected.ndjson. */
  rejected: number;
  /** Failed writes (disk full, I/O error) since open; the events stay buffered and are retried. */
  writeErrors: number;
  /** The latest write error, or null. */
  lastError: string | null;
}

/** What read() hands the shipper. */
export interface SpoolBatch {
  /** The events' JSON lines, without newlines, in seq order, consecutive. */
  lines: string[];
  firstSeq: number;
  lastSeq: number;
  /** 0: none. Otherwise every seq up to it (below firstSeq) that the collector lacks is lost. */
  lostThrough: number;
  /** Bytes of the lines with their newlines. */
  bytes: number;
}

/** A group write is flushed at 1 MiB: ~10 ms of a slow disk, so it bounds both the latency of a group and its memory. */
const GROUP_BYTES = 1024 * 1024;
/** One index sample per 64 KiB of segment: a lookup scans at most 64 KiB, and a 1 GiB spool holds 16,384 samples. */
const SAMPLE_BYTES = 64 * 1024;
/** Reads take 1 MiB at a time: a default 4 MiB batch in four reads, with a buffer that is reused. */
const READ_CHUNK = 1024 * 1024;
/** No EVE record comes near 16 MiB (the file store's own cap on a whole file); a bigger one is a bug, refused, and bounds read buffers. */
export const MAX_EVENT_BYTES = 16 * 1024 * 1024;
/** While the disk refuses writes, up to 64 MiB of events wait in memory; later ones are dropped (counted, reported). */
const MAX_PENDING = 64 * 1024 * 1024;
/** Acknowledgements are persisted at most once a second (and always before a segment is deleted): losing one only means a resend, which the collector dedupes. */
const ACK_PERSIST_MS = 1000;
/** rejected.ndjson stops growing at 64 MiB: a collector refusing everything must not fill the disk; beyond it the shipper stops rather than lose events. */
const REJECTED_MAX = 64 * 1024 * 1024;

const SEG_RE = /^(\d{20})\.seg$/;
const SEQ_PREFIX = Buffer.from('{"seq":');

interface Segment {
  firstSeq: number;
  /** Highest seq in it (for a closed segment found at open: the next segment's first seq - 1). 0: none yet. */
  lastSeq: number;
  /** Bytes written to the file. */
  size: number;
  /** Bytes known to be fdatasync'd (what read() may serve under `always` and `batch`). */
  synced: number;
  path: string;
  /** Index samples, flat: seq, offset, seq, offset, ... in increasing order. */
  samples: number[];
}

interface PersistedState {
  acked: number;
  dropped: number;
  lostThrough: number;
  nextSeq: number;
  torn: number;
  rejected: number;
}

interface DropPass {
  dropped: number;
  first: number;
  last: number;
  bytes: number;
}

/** The durable local spool. Synchronous: one owner (the sensor's main thread) appends, the shipper reads and acks. */
export class Spool {
  private readonly opts: SpoolOptions;
  private readonly onDrop: ((ev: SpoolDropEvent) => void) | undefined;
  private readonly segs: Segment[] = [];
  /** fd of the last segment while it is being written; null before its first append. */
  private writeFd: number | null = null;
  /** The group being gathered: whole lines, encoded once at append, in writeBuf[0, pendingBytes). */
  private writeBuf = Buffer.allocUnsafe(GROUP_BYTES + 64 * 1024);
  private pendingBytes = 0;
  private pendingCount = 0;
  private readBuf = Buffer.allocUnsafe(READ_CHUNK);
  private readFd: { seg: Segment; fd: number } | null = null;
  /** Where the previous read stopped: the next read after `after` starts here without a lookup. */
  private cursor: { seg: Segment; offset: number; after: number } | null = null;
  private diskBytes = 0;
  private nextSeq = 1;
  private acked = 0;
  private lostThrough = 0;
  private dropped = 0;
  private torn = 0;
  private rejected = 0;
  private rejectedBytes = 0;
  private writeErrors = 0;
  private lastError: string | null = null;
  /** True after a failed write, until one succeeds: appends then only buffer (the timer retries). */
  private failing = false;
  /** Events appended while failing that did not fit in memory. */
  private failDrop: DropPass | null = null;
  private lastStateWrite = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly dropQueue: SpoolDropEvent[] = [];
  private delivering = false;
  private isClosed = false;

  private constructor(opts: SpoolOptions, onDrop: ((ev: SpoolDropEvent) => void) | undefined) {
    this.opts = opts;
    this.onDrop = onDrop;
  }

  /**
   * Opens (creating) the spool in opts.dir and recovers after a crash: a torn last line is cut off
   * and counted, sequence numbers continue after the highest ever given. Throws with a clear
   * message on bad options, a directory another process holds, or an unreadable state file.
   */
  static open(opts: SpoolOptions, onDrop?: (ev: SpoolDropEvent) => void): Spool {
    checkOptions(opts);
    mkdirSync(opts.dir, { recursive: true });
    takeLock(opts.dir);
    const spool = new Spool(opts, onDrop);
    try {
      spool.recover();
    } catch (err) {
      releaseLock(opts.dir);
      throw err;
    }
    return spool;
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * Gives `ev` the next seq (overwriting any it had), serialises it once as a JSON line with
   * "seq" first, and buffers it (under `always`: writes and syncs it). Returns the seq. Throws
   * only on a programming error (closed spool, a record JSON cannot serialise or over 16 MiB);
   * disk errors are counted in stats() and retried.
   */
  append(ev: EveEvent): number {
    if (this.isClosed) throw new Error(`spool ${this.opts.dir} is closed`);
    const rec = ev as { seq?: number | undefined };
    const had = rec.seq;
    // "seq" goes first in the line so read() finds it without parsing JSON; stringify once without it.
    rec.seq = undefined;
    let body: string;
    try {
      body = JSON.stringify(ev);
    } catch (err) {
      rec.seq = had;
      throw new Error(`spool: record cannot be serialised as JSON (${(err as Error).message})`);
    }
    // UTF-8 takes at least one byte per UTF-16 unit and at most three.
    if (body.length > MAX_EVENT_BYTES || (body.length * 3 > MAX_EVENT_BYTES && Buffer.byteLength(body) + 30 > MAX_EVENT_BYTES)) {
      rec.seq = had;
      throw new RangeError(`spool: a ${ev.event_type} record of ${Buffer.byteLength(body)} bytes is over the ${MAX_EVENT_BYTES}-byte limit`);
    }
    const seq = this.nextSeq;
    rec.seq = seq;
    this.nextSeq = seq + 1;
    if (this.failing && this.pendingBytes > MAX_PENDING) {
      this.countFailDrop(seq, body.length);
      return seq;
    }

    // Encode the line once, straight after the group: `{"seq":N,` over the body's opening brace.
    if (this.pendingBytes === 0 && this.writeBuf.length > 4 * GROUP_BYTES) this.writeBuf = Buffer.allocUnsafe(GROUP_BYTES + 64 * 1024);
    const prefix = body.length > 2 ? `{"seq":${seq},` : `{"seq":${seq}}`;
    const at = this.pendingBytes;
    const room = at + prefix.length + body.length * 3 + 1;
    if (room > this.writeBuf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(room, this.writeBuf.length * 2));
      this.writeBuf.copy(bigger, 0, 0, at);
      this.writeBuf = bigger;
    }
    const buf = this.writeBuf;
    let lineBytes: number;
    if (body.length > 2) {
      const n = buf.write(body, at + prefix.length - 1);
      buf.write(prefix, at, 'latin1');
      lineBytes = prefix.length - 1 + n;
    } else {
      lineBytes = buf.write(prefix, at, 'latin1');
    }
    buf[at + lineBytes] = 10;
    lineBytes++;

    if (!this.failing) {
      const active = this.writeFd !== null ? this.segs[this.segs.length - 1]! : null;
      if (active !== null && active.size + at > 0 && active.size + at + lineBytes > this.opts.segmentSize) {
        this.roll();
        // The group before this line went to the old segment: move the line to the front.
        if (this.pendingBytes === 0 && at > 0) this.writeBuf.copyWithin(0, at, at + lineBytes);
      }
      if (this.diskBytes + this.pendingBytes + lineBytes > this.opts.budget) this.enforceBudget(lineBytes);
    }
    if (this.writeFd === null && !this.failing) this.startSegment(seq);
    if (this.writeFd !== null) {
      const seg = this.segs[this.segs.length - 1]!;
      const offset = seg.size + this.pendingBytes;
      const s = seg.samples;
      if (s.length === 0 || offset - s[s.length - 1]! >= SAMPLE_BYTES) s.push(seq, offset);
      seg.lastSeq = seq;
    }
    // else: no segment could be made (the disk refuses); the line waits in memory and tryWrite indexes it later.
    this.pendingBytes += lineBytes;
    this.pendingCount++;

    if (!this.failing) {
      if (this.opts.fsync === 'always') this.tryWrite(true);
      else if (this.pendingBytes >= GROUP_BYTES) this.tryWrite(this.opts.fsync === 'batch');
    }
    if (this.pendingBytes > 0 && this.timer === null) this.armTimer();
    this.deliverDrops();
    return seq;
  }

  /** Writes the buffered lines (and fdatasyncs them unless the policy is `none`) now. Throws on a disk error (also counted). */
  flush(): void {
    if (this.isClosed) return;
    if (!this.tryWrite(this.opts.fsync !== 'none')) throw new Error(this.lastError ?? 'spool write failed');
    this.deliverDrops();
  }

  /**
   * Events with seq > after (and past anything declared lost), in order and consecutive: at most
   * maxEvents and maxBytes (but always one event, however big); null when there are none. Buffered
   * lines are written (and synced, per the policy) first: only bytes on disk are ever served.
   */
  read(after: number, maxEvents: number, maxBytes: number): SpoolBatch | null {
    if (this.isClosed) throw new Error(`spool ${this.opts.dir} is closed`);
    if (this.pendingBytes > 0 && !this.failing) this.tryWrite(this.opts.fsync !== 'none');
    this.deliverDrops();
    const from = Math.max(after, this.lostThrough);
    const maxN = Math.max(1, Math.floor(maxEvents));
    let idx: number;
    let offset: number;
    const c = this.cursor;
    if (c !== null && c.after === from && this.indexOf(c.seg) >= 0) {
      idx = this.indexOf(c.seg);
      offset = c.offset;
    } else {
      idx = this.segmentFor(from + 1);
      if (idx < 0) {
        if (this.segs.length === 0) return null;
        idx = 0;
        offset = 0;
      } else {
        offset = sampleOffset(this.segs[idx]!, from + 1);
      }
    }

    const lines: string[] = [];
    let bytes = 0;
    let first = 0;
    let last = 0;
    let stopSeg: Segment | null = null;
    let stopOffset = 0;
    scan: while (idx < this.segs.length) {
      const seg = this.segs[idx]!;
      const isActive = idx === this.segs.length - 1 && this.writeFd !== null;
      const limit = isActive && this.opts.fsync !== 'none' ? seg.synced : seg.size;
      let prev = seg.firstSeq - 1;
      stopSeg = seg;
      stopOffset = offset;
      while (offset < limit) {
        const fd = this.readFdFor(seg);
        if (fd === null) break;
        const want = Math.min(this.readBuf.length, limit - offset);
        let n: number;
        try {
          n = readSync(fd, this.readBuf, 0, want, offset);
        } catch {
          n = 0;
        }
        if (n <= 0) break;
        const buf = this.readBuf;
        let p = 0;
        for (;;) {
          const nl = buf.indexOf(10, p);
          if (nl < 0 || nl >= n) break;
          const seq = seqOf(buf, p, nl);
          if (seq <= prev) {
            // Not a line this spool wrote (damage); counted once, when the scan first meets it.
            if (seq !== -2) this.noteDamage(seg, offset + p);
            p = nl + 1;
            continue;
          }
          prev = seq;
          const at = offset + p;
          const s = seg.samples;
          if (at - (s.length === 0 ? -SAMPLE_BYTES : s[s.length - 1]!) >= SAMPLE_BYTES) s.push(seq, at);
          if (seq <= from) {
            p = nl + 1;
            continue;
          }
          const len = nl - p + 1;
          if (lines.length > 0 && (seq !== last + 1 || lines.length >= maxN || bytes + len > maxBytes)) {
            stopOffset = at;
            break scan;
          }
          lines.push(buf.toString('utf8', p, nl));
          bytes += len;
          if (first === 0) first = seq;
          last = seq;
          p = nl + 1;
        }
        if (p === 0) {
          // No newline in the buffer: a line longer than it (grow, up to the event limit), or damage (skip it).
          if (n === this.readBuf.length && this.readBuf.length < MAX_EVENT_BYTES) {
            this.readBuf = Buffer.allocUnsafe(Math.min(this.readBuf.length * 2, MAX_EVENT_BYTES));
            continue;
          }
          this.noteDamage(seg, offset);
          offset = this.skipLine(seg, offset, limit);
          stopOffset = offset;
          continue;
        }
        offset += p;
        stopOffset = offset;
      }
      if (isActive || offset < seg.size) break;
      idx++;
      offset = 0;
      if (idx < this.segs.length) {
        stopSeg = this.segs[idx]!;
        stopOffset = 0;
      }
    }
    if (this.readBuf.length > READ_CHUNK) this.readBuf = Buffer.allocUnsafe(READ_CHUNK);
    if (stopSeg !== null) this.cursor = { seg: stopSeg, offset: stopOffset, after: lines.length > 0 ? last : from };
    if (lines.length === 0) return null;
    // Missing just before the batch (dropped, deleted once acknowledged, or lost in a crash): saying so is
    // always true, and lets a collector that lacks them (a wiped database, say) pass the hole.
    let lost = first > from + 1 ? first - 1 : 0;
    const declared = Math.min(this.lostThrough, first - 1);
    if (declared > this.acked && declared > lost) lost = declared;
    return { lines, firstSeq: first, lastSeq: last, lostThrough: lost, bytes };
  }

  /**
   * The collector stored everything ≤ seq. Persisted (at most once a second, and always before a
   * file is deleted); segments wholly at or below it are deleted. An acknowledgement past every
   * seq given means this spool's numbers were given before (a lost state file): numbering jumps
   * past it so new events are not taken for duplicates.
   */
  ack(seq: number): void {
    if (this.isClosed || !Number.isSafeInteger(seq) || seq <= this.acked) return;
    this.acked = seq;
    if (seq >= this.nextSeq) this.nextSeq = seq + 1;
    const doomed: Segment[] = [];
    for (let i = 0; i < this.segs.length; i++) {
      const seg = this.segs[i]!;
      const active = i === this.segs.length - 1 && this.writeFd !== null;
      if (active || seg.lastSeq > seq || seg.lastSeq === 0) break;
      doomed.push(seg);
    }
    if (doomed.length > 0 || Date.now() - this.lastStateWrite >= ACK_PERSIST_MS) this.writeState();
    for (const seg of doomed) this.deleteSegment(seg);
  }

  /**
   * The collector refused this one event (the shipper halved a refused batch down to it): it is
   * appended to DIR/rejected.ndjson with the reason, counted, and declared lost so the collector's
   * acknowledgement can pass it. Returns false, changing nothing, when rejected.ndjson is full
   * (64 MiB): the event then stays in the spool. Throws on a disk error.
   */
  reject(seq: number, line: string, reason: string): boolean {
    if (this.isClosed) throw new Error(`spool ${this.opts.dir} is closed`);
    const text = `${JSON.stringify({ seq, time: nowTimestamp(), reason, line })}\n`;
    const size = Buffer.byteLength(text);
    if (this.rejectedBytes + size > REJECTED_MAX) return false;
    const path = join(this.opts.dir, 'rejected.ndjson');
    appendFileSync(path, text);
    if (this.opts.fsync !== 'none') syncFile(path);
    this.rejectedBytes += size;
    this.rejected++;
    if (seq > this.lostThrough) this.lostThrough = seq;
    this.writeState();
    return true;
  }

  /** The spool's figures now. */
  stats(): SpoolStats {
    const highest = this.nextSeq - 1;
    return {
      depth: Math.max(0, highest - Math.max(this.acked, this.lostThrough)),
      bytes: this.diskBytes + this.pendingBytes,
      acked: this.acked,
      nextSeq: this.nextSeq,
      dropped: this.dropped,
      segments: this.segs.length,
      lostThrough: this.lostThrough,
      torn: this.torn,
      rejected: this.rejected,
      writeErrors: this.writeErrors,
      lastError: this.lastError,
    };
  }

  /** Writes and syncs what is buffered, persists the state, closes every file. Throws (after closing) if the last write failed. */
  close(): void {
    if (this.isClosed) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const ok = this.tryWrite(true);
    this.deliverDrops();
    this.isClosed = true;
    if (this.writeFd !== null) closeSync(this.writeFd);
    this.writeFd = null;
    this.closeReadFd();
    try {
      this.writeState();
    } finally {
      releaseLock(this.opts.dir);
    }
    if (!ok) throw new Error(`spool closed with ${this.pendingCount} events unwritten: ${this.lastError ?? 'write failed'}`);
  }

  // ---- recovery ----

  private recover(): void {
    const state = readState(this.opts.dir);
    this.acked = state.acked;
    this.dropped = state.dropped;
    this.lostThrough = state.lostThrough;
    this.torn = state.torn;
    this.rejected = state.rejected;
    try {
      this.rejectedBytes = statSync(join(this.opts.dir, 'rejected.ndjson')).size;
    } catch {
      this.rejectedBytes = 0;
    }
    const names = readdirSync(this.opts.dir)
      .filter((n) => SEG_RE.test(n))
      .sort();
    for (const name of names) {
      const path = join(this.opts.dir, name);
      const size = statSync(path).size;
      this.segs.push({ firstSeq: Number(name.slice(0, 20)), lastSeq: 0, size, synced: size, path, samples: [] });
      this.diskBytes += size;
    }
    for (let i = 0; i + 1 < this.segs.length; i++) this.segs[i]!.lastSeq = this.segs[i + 1]!.firstSeq - 1;
    let highest = 0;
    const tail = this.segs[this.segs.length - 1];
    if (tail !== undefined) {
      highest = this.recoverTail(tail);
      if (highest === 0) {
        // Nothing whole in it: an empty segment made just before a crash.
        this.diskBytes -= tail.size;
        unlinkSync(tail.path);
        this.segs.pop();
        highest = this.segs.length > 0 ? this.segs[this.segs.length - 1]!.lastSeq : 0;
      } else {
        tail.lastSeq = highest;
      }
    }
    this.nextSeq = Math.max(highest + 1, state.nextSeq, state.acked + 1, state.lostThrough + 1, 1);
    // Segments wholly acknowledged: a crash interrupted their deletion, or the last one was still being written.
    while (this.segs.length > 0 && this.segs[0]!.lastSeq <= this.acked) this.deleteSegment(this.segs[0]!);
    this.writeState();
  }

  /** Cuts torn or damaged lines off the end of the last segment; returns its last whole line's seq (0: none). */
  private recoverTail(seg: Segment): number {
    const fd = openSync(seg.path, 'r+');
    try {
      let end = seg.size;
      let chunk = Buffer.allocUnsafe(64 * 1024);
      for (;;) {
        if (end === 0) break;
        // The last line ends at `end` if the byte before it is a newline; find where it starts.
        let lineEnd = end;
        let start = -1;
        let scanTo = end;
        let endsWithNewline = false;
        {
          const b = Buffer.allocUnsafe(1);
          readSync(fd, b, 0, 1, end - 1);
          endsWithNewline = b[0] === 10;
        }
        if (endsWithNewline) {
          lineEnd = end - 1;
          scanTo = end - 1;
        }
        while (scanTo > 0 && start < 0) {
          const from = Math.max(0, scanTo - chunk.length);
          const n = readSync(fd, chunk, 0, scanTo - from, from);
          const nl = chunk.lastIndexOf(10, n - 1);
          if (nl >= 0) start = from + nl + 1;
          else if (from === 0) start = 0;
          scanTo = from;
        }
        if (start < 0) start = 0;
        if (endsWithNewline && lineEnd - start <= MAX_EVENT_BYTES) {
          if (chunk.length < lineEnd - start + 1) chunk = Buffer.allocUnsafe(lineEnd - start + 1);
          const n = readSync(fd, chunk, 0, lineEnd - start + 1, start);
          const seq = n === lineEnd - start + 1 ? seqOf(chunk, 0, lineEnd - start) : -1;
          if (seq >= seg.firstSeq && chunk[lineEnd - start - 1] === 0x7d) {
            if (end !== seg.size) {
              ftruncateSync(fd, end);
              this.diskBytes -= seg.size - end;
              seg.size = end;
              seg.synced = end;
            }
            fdatasyncSync(fd);
            return seq;
          }
        }
        // A torn line (no newline: the crash came mid-write) or a damaged one: cut it off, count it.
        this.torn++;
        end = start;
      }
      ftruncateSync(fd, 0);
      this.diskBytes -= seg.size;
      seg.size = 0;
      seg.synced = 0;
      return 0;
    } finally {
      closeSync(fd);
    }
  }

  // ---- writing ----

  private startSegment(seq: number): void {
    const path = join(this.opts.dir, `${String(seq).padStart(20, '0')}.seg`);
    try {
      this.writeFd = openSync(path, 'a');
      if (this.opts.fsync !== 'none') syncDir(this.opts.dir);
    } catch (err) {
      if (this.writeFd !== null) closeSync(this.writeFd);
      this.writeFd = null;
      this.noteWriteError(`cannot create ${path}: ${(err as Error).message}`);
      return;
    }
    const size = fstatSync(this.writeFd).size;
    this.segs.push({ firstSeq: seq, lastSeq: 0, size, synced: size, path, samples: [] });
    this.diskBytes += size;
  }

  /** Finishes the segment being written (written and, unless `none`, synced) so the next append starts another. */
  private roll(): void {
    if (!this.tryWrite(this.opts.fsync !== 'none')) return;
    closeSync(this.writeFd!);
    this.writeFd = null;
  }

  /**
   * Writes the buffered lines to the segment being written, then fdatasyncs when `sync`. On
   * failure the partial write is cut off, the lines stay buffered, the error is counted, and
   * false is returned; the timer retries.
   */
  private tryWrite(sync: boolean): boolean {
    if (this.writeFd === null) {
      if (this.pendingBytes === 0) return true;
      // Buffered while no segment could be made: make one now, named by the first buffered line.
      this.startSegment(seqOf(this.writeBuf, 0, this.writeBuf.indexOf(10)));
      if (this.writeFd === null) return false;
      this.indexPending();
    }
    const seg = this.segs[this.segs.length - 1]!;
    const fd = this.writeFd;
    const n = this.pendingBytes;
    if (n > 0) {
      try {
        let done = 0;
        while (done < n) done += writeSync(fd, this.writeBuf, done, n - done);
      } catch (err) {
        try {
          ftruncateSync(fd, seg.size);
        } catch {
          // The truncate failing too leaves a torn tail: open() cuts it off.
        }
        this.noteWriteError(`cannot write ${seg.path}: ${(err as Error).message}`);
        return false;
      }
      seg.size += n;
      this.diskBytes += n;
      this.pendingBytes = 0;
      this.pendingCount = 0;
    }
    if (sync && seg.synced < seg.size) {
      try {
        fdatasyncSync(fd);
      } catch (err) {
        this.noteWriteError(`cannot sync ${seg.path}: ${(err as Error).message}`);
        return false;
      }
    }
    if (sync || this.opts.fsync === 'none') seg.synced = seg.size;
    if (this.failing) this.recovered();
    return true;
  }

  private noteWriteError(message: string): void {
    this.writeErrors++;
    this.lastError = message;
    this.failing = true;
    if (this.timer === null && !this.isClosed) this.armTimer();
  }

  /** Writes work again: report what the outage dropped. */
  private recovered(): void {
    this.failing = false;
    const pass = this.failDrop;
    this.failDrop = null;
    if (pass !== null) {
      this.writeState();
      this.reportDrop(pass);
    }
  }

  private countFailDrop(seq: number, bytes: number): void {
    const p = this.failDrop ?? { dropped: 0, first: seq, last: seq, bytes: 0 };
    p.dropped++;
    p.last = seq;
    p.bytes += bytes;
    this.failDrop = p;
    this.dropped++;
  }

  /** Indexes lines buffered before their segment existed. */
  private indexPending(): void {
    const seg = this.segs[this.segs.length - 1]!;
    const buf = this.writeBuf;
    for (let p = 0; p < this.pendingBytes; ) {
      const nl = buf.indexOf(10, p);
      const seq = seqOf(buf, p, nl);
      const s = seg.samples;
      if (s.length === 0 || seg.size + p - s[s.length - 1]! >= SAMPLE_BYTES) s.push(seq, seg.size + p);
      seg.lastSeq = seq;
      p = nl + 1;
    }
  }

  private armTimer(): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.isClosed) return;
      this.tryWrite(this.opts.fsync === 'batch' || (this.opts.fsync === 'always' && this.failing));
      if (this.pendingBytes > 0 && this.timer === null) this.armTimer();
      this.deliverDrops();
    }, this.opts.fsyncInterval);
    this.timer.unref();
  }

  // ---- the disk budget ----

  /** Drops whole oldest segments (never the one being written) until `need` more bytes fit. */
  private enforceBudget(need: number): void {
    const pass: DropPass = { dropped: 0, first: 0, last: 0, bytes: 0 };
    while (this.diskBytes + this.pendingBytes + need > this.opts.budget) {
      const oldest = this.segs[0];
      if (oldest === undefined || (this.segs.length === 1 && this.writeFd !== null)) break;
      const from = Math.max(oldest.firstSeq, this.acked + 1, this.lostThrough + 1);
      const to = oldest.lastSeq;
      if (to >= from) {
        pass.dropped += to - from + 1;
        if (pass.first === 0) pass.first = from;
        pass.last = to;
      }
      pass.bytes += oldest.size;
      if (to > this.lostThrough) this.lostThrough = to;
      this.deleteSegment(oldest);
    }
    if (pass.bytes === 0) return;
    this.dropped += pass.dropped;
    this.writeState();
    if (pass.dropped > 0) this.reportDrop(pass);
  }

  private reportDrop(pass: DropPass): void {
    this.dropQueue.push({
      timestamp: nowTimestamp(),
      event_type: 'spool_drop',
      spool_drop: { dropped: pass.dropped, first_seq: pass.first, last_seq: pass.last, bytes: pass.bytes, total_dropped: this.dropped, budget: this.opts.budget },
    });
  }

  /** Hands queued spool_drop records to onDrop, outside any append (onDrop appends them). */
  private deliverDrops(): void {
    if (this.delivering || this.dropQueue.length === 0) return;
    if (this.onDrop === undefined) {
      this.dropQueue.length = 0;
      return;
    }
    this.delivering = true;
    try {
      for (let ev = this.dropQueue.shift(); ev !== undefined; ev = this.dropQueue.shift()) this.onDrop(ev);
    } finally {
      this.delivering = false;
    }
  }

  // ---- reading ----

  private indexOf(seg: Segment): number {
    const i = this.segmentFor(seg.firstSeq);
    return i >= 0 && this.segs[i] === seg ? i : -1;
  }

  /** Index of the last segment whose first seq is ≤ seq; -1 when none. */
  private segmentFor(seq: number): number {
    let lo = 0;
    let hi = this.segs.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.segs[mid]!.firstSeq <= seq) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  private readFdFor(seg: Segment): number | null {
    if (this.readFd !== null && this.readFd.seg === seg) return this.readFd.fd;
    this.closeReadFd();
    try {
      this.readFd = { seg, fd: openSync(seg.path, 'r') };
      return this.readFd.fd;
    } catch {
      return null;
    }
  }

  private closeReadFd(): void {
    if (this.readFd !== null) closeSync(this.readFd.fd);
    this.readFd = null;
  }

  /** Offset just past the newline that ends the (overlong, damaged) line at `offset`, or `limit`. */
  private skipLine(seg: Segment, offset: number, limit: number): number {
    const fd = this.readFdFor(seg);
    let at = offset;
    while (fd !== null && at < limit) {
      const n = readSync(fd, this.readBuf, 0, Math.min(this.readBuf.length, limit - at), at);
      if (n <= 0) break;
      const nl = this.readBuf.indexOf(10);
      if (nl >= 0 && nl < n) return at + nl + 1;
      at += n;
    }
    return limit;
  }

  /** Damage inside a segment (not this spool's line): counted as torn the first time a scan meets it. */
  private noteDamage(seg: Segment, at: number): void {
    const key = `${seg.path}:${at}`;
    if (this.damageSeen.has(key)) return;
    if (this.damageSeen.size < 10_000) this.damageSeen.add(key);
    this.torn++;
  }

  /** Damaged spots already counted (bounded: 10,000, beyond which a spot may be counted twice). */
  private readonly damageSeen = new Set<string>();

  private deleteSegment(seg: Segment): void {
    const i = this.indexOf(seg);
    if (i < 0) return;
    if (this.readFd?.seg === seg) this.closeReadFd();
    if (this.cursor?.seg === seg) this.cursor = null;
    if (i === this.segs.length - 1 && this.writeFd !== null) {
      closeSync(this.writeFd);
      this.writeFd = null;
    }
    try {
      unlinkSync(seg.path);
    } catch {
      // Already gone: the budget is what matters, and the file no longer counts.
    }
    this.diskBytes -= seg.size;
    this.segs.splice(i, 1);
  }

  private writeState(): void {
    const state: PersistedState & { version: 1 } = {
      version: 1,
      acked: this.acked,
      dropped: this.dropped,
      lostThrough: this.lostThrough,
      nextSeq: this.nextSeq,
      torn: this.torn,
      rejected: this.rejected,
    };
    const path = join(this.opts.dir, 'state.json');
    const tmp = `${path}.tmp`;
    try {
      const fd = openSync(tmp, 'w');
      try {
        writeSync(fd, `${JSON.stringify(state)}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, path);
      syncDir(this.opts.dir);
      this.lastStateWrite = Date.now();
    } catch (err) {
      this.noteStateError(`cannot write ${path}: ${(err as Error).message}`);
    }
  }

  private noteStateError(message: string): void {
    this.writeErrors++;
    this.lastError = message;
  }
}

function checkOptions(o: SpoolOptions): void {
  const where = 'sensor.spool';
  if (!Number.isSafeInteger(o.segmentSize) || o.segmentSize < 4096) throw new Error(`${where}.segment-size must be at least 4096 bytes (got ${o.segmentSize})`);
  if (!Number.isSafeInteger(o.budget) || o.budget < 2 * o.segmentSize)
    throw new Error(`${where}.budget (${o.budget} bytes) must hold at least two segments (2 × segment-size = ${2 * o.segmentSize} bytes): raise the budget or lower segment-size`);
  if (!['always', 'batch', 'none'].includes(o.fsync)) throw new Error(`${where}.fsync must be always, batch or none (got ${String(o.fsync)})`);
  if (!(o.fsyncInterval >= 1)) throw new Error(`${where}.fsync-interval must be at least 1 ms (got ${o.fsyncInterval})`);
}

function readState(dir: string): PersistedState {
  const path = join(dir, 'state.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return { acked: 0, dropped: 0, lostThrough: 0, nextSeq: 1, torn: 0, rejected: 0 };
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message}); the spool cannot know which events were acknowledged: move the file aside to start numbering from the segments`);
  }
  const num = (k: string): number => {
    const v = (data as Record<string, unknown>)[k];
    return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : 0;
  };
  if (typeof data !== 'object' || data === null) throw new Error(`${path}: not a spool state object`);
  return { acked: num('acked'), dropped: num('dropped'), lostThrough: num('lostThrough'), nextSeq: Math.max(1, num('nextSeq')), torn: num('torn'), rejected: num('rejected') };
}

/** One process per spool: DIR/lock holds the owner's pid; a lock whose process is gone is taken over. */
function takeLock(dir: string): void {
  const path = join(dir, 'lock');
  let holder = 0;
  try {
    holder = Number(readFileSync(path, 'utf8').trim());
  } catch {
    holder = 0;
  }
  if (Number.isSafeInteger(holder) && holder > 0 && holder !== process.pid && alive(holder)) {
    throw new Error(`spool ${dir} is in use by process ${holder} (${path}); one sensor per spool directory`);
  }
  writeFileSync(path, `${process.pid}\n`);
}

function releaseLock(dir: string): void {
  rmSync(join(dir, 'lock'), { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function syncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The seq of the line buf[start, end) if it begins `{"seq":N` followed by `,` or `}`; -1 otherwise (-2 for an empty line). */
function seqOf(buf: Buffer, start: number, end: number): number {
  if (end === start) return -2;
  const p0 = start + SEQ_PREFIX.length;
  if (end - start < SEQ_PREFIX.length + 2) return -1;
  for (let i = 0; i < SEQ_PREFIX.length; i++) if (buf[start + i] !== SEQ_PREFIX[i]) return -1;
  let v = 0;
  let p = p0;
  while (p < end && p - p0 < 16) {
    const c = buf[p]!;
    if (c < 48 || c > 57) break;
    v = v * 10 + (c - 48);
    p++;
  }
  if (p === p0 || p >= end || (buf[p] !== 0x2c && buf[p] !== 0x7d) || !Number.isSafeInteger(v) || v < 1) return -1;
  return v;
}

/** Sample offset to start scanning from for the first line with seq ≥ target. */
function sampleOffset(seg: Segment, target: number): number {
  const s = seg.samples;
  let lo = 0;
  let hi = s.length / 2 - 1;
  let offset = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (s[mid * 2]! <= target) {
      offset = s[mid * 2 + 1]!;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return offset;
}

/** Now, as an EVE timestamp. */
function nowTimestamp(): string {
  const ms = Date.now();
  return formatTimestamp(Math.floor(ms / 1000), (ms % 1000) * 1_000_000);
}
