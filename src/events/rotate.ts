import { closeSync, existsSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { EveEvent } from './types.js';

/** Options of a {@link RotatingEveWriter}. */
export interface RotateOptions {
  /** Rotate when the file would grow past this many bytes (0: never). */
  rotateSize: number;
  /** Rotated files kept: eve.json.1 (newest) … eve.json.N; older ones are deleted. 0 keeps none. */
  keep: number;
}

/**
 * Buffered bytes written in one system call: large enough that a busy sensor makes few writes,
 * small enough that a reader (tail -f, a shipper like Filebeat) sees records within a flush.
 */
const BLOCK_BYTES = 64 * 1024;

/**
 * Writes EVE records as JSON lines to a file that rotates by size, Suricata-style: when the next
 * line would take the file past `rotateSize`, eve.json becomes eve.json.1, eve.json.1 becomes
 * eve.json.2 and so on up to `keep`, and a new eve.json is started. A line is never split across
 * files (a line longer than rotateSize gets a file of its own). `reopen()` closes and reopens the
 * path for logrotate's copy-less rotation (SIGHUP). A write error (disk full) is counted and the
 * block dropped: the spool, not this file, is the durable copy.
 */
export class RotatingEveWriter {
  private fd: number;
  private size: number;
  private parts: string[] = [];
  private buffered = 0;
  /** Records written. */
  count = 0;
  /** Files rotated away since start. */
  rotations = 0;
  /** Blocks lost to write errors, and the last error's message. */
  errors = 0;
  lastError: string | null = null;

  constructor(
    readonly path: string,
    private readonly options: RotateOptions,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, 'a');
    this.size = fstatSync(this.fd).size;
  }

  /** Buffers one record. */
  write(event: EveEvent | Record<string, unknown>): void {
    this.writeLine(JSON.stringify(event));
  }

  /** Buffers one line (without its newline). */
  writeLine(line: string): void {
    this.parts.push(line);
    this.buffered += Buffer.byteLength(line) + 1;
    this.count++;
    if (this.buffered >= BLOCK_BYTES) this.flush();
  }

  /** Writes what is buffered, rotating first where a line would not fit. */
  flush(): void {
    if (this.parts.length === 0) return;
    const lines = this.parts;
    this.parts = [];
    this.buffered = 0;
    const limit = this.options.rotateSize;
    if (limit <= 0) {
      this.writeText(lines.join('\n') + '\n');
      return;
    }
    let from = 0;
    let bytes = 0;
    for (let i = 0; i < lines.length; i++) {
      const n = Buffer.byteLength(lines[i]!) + 1;
      if (this.size + bytes + n > limit && this.size + bytes > 0) {
        if (i > from) this.writeText(lines.slice(from, i).join('\n') + '\n');
        this.rotate();
        from = i;
        bytes = 0;
      }
      bytes += n;
    }
    if (from < lines.length) this.writeText(lines.slice(from).join('\n') + '\n');
  }

  /** Closes and reopens the path (after logrotate moved it away): records go on into a new file. */
  reopen(): void {
    this.flush();
    closeSync(this.fd);
    this.fd = openSync(this.path, 'a');
    this.size = fstatSync(this.fd).size;
  }

  /** Flushes and closes the file. */
  close(): void {
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
  }

  private writeText(text: string): void {
    const buf = Buffer.from(text);
    let off = 0;
    try {
      while (off < buf.length) off += writeSync(this.fd, buf, off);
    } catch (err) {
      this.errors++;
      this.lastError = (err as Error).message;
    }
    this.size += off;
  }

  /** eve.json → eve.json.1 → … → eve.json.keep; the oldest beyond keep is deleted. */
  private rotate(): void {
    closeSync(this.fd);
    const keep = this.options.keep;
    try {
      if (keep === 0) rmSync(this.path, { force: true });
      else {
        rmSync(`${this.path}.${keep}`, { force: true });
        for (let i = keep - 1; i >= 1; i--) if (existsSync(`${this.path}.${i}`)) renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
        renameSync(this.path, `${this.path}.1`);
      }
    } catch (err) {
      // A rename refused (permissions, a read-only mount): keep writing where we are, and try
      // again only after another rotateSize bytes, not on every line.
      this.errors++;
      this.lastError = (err as Error).message;
      this.fd = openSync(this.path, 'a');
      this.size = 0;
      return;
    }
    this.fd = openSync(this.path, 'a');
    this.size = fstatSync(this.fd).size;
    this.rotations++;
  }
}
