import { writeSync } from 'node:fs';
import type { EveEvent } from './types.js';

const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes EVE records as JSON lines to a file descriptor, in blocks of about 64 KiB: one system
 * call per block instead of one per record. A reader that goes away (EPIPE, as with `| head`)
 * stops the output quietly instead of killing the process.
 */
export class EveWriter {
  private parts: string[] = [];
  private size = 0;
  /** Records written. */
  count = 0;
  /** The reader went away; further records are dropped. */
  closed = false;

  constructor(private readonly fd: number) {}

  write(event: EveEvent | Record<string, unknown>): void {
    if (this.closed) return;
    this.writeLine(JSON.stringify(event));
  }

  /** Writes one line of text as is (for human-readable views). */
  writeLine(line: string): void {
    if (this.closed) return;
    this.parts.push(line);
    this.size += line.length + 1;
    this.count++;
    if (this.size >= 65536) this.flush();
  }

  flush(): void {
    if (this.parts.length === 0 || this.closed) return;
    const text = this.parts.join('\n') + '\n';
    this.parts = [];
    this.size = 0;
    const buf = Buffer.from(text);
    let off = 0;
    while (off < buf.length) {
      try {
        off += writeSync(this.fd, buf, off);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') {
          // A non-blocking pipe is full: wait a millisecond for the reader, then try again.
          Atomics.wait(PAUSE, 0, 0, 1);
          continue;
        }
        if (code === 'EPIPE') {
          this.closed = true;
          return;
        }
        throw err;
      }
    }
  }
}
