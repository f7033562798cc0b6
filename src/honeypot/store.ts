/**
 * Captured payloads on disk, named by SHA-256: `<dir>/<xx>/<sha256>` where xx is the hash's first
 * two hex digits (256 subdirectories keep any one directory small). Files are mode 0600 and
 * directories 0700: payloads are hostile bytes, for analysts only, and are never executed or
 * interpreted. Writes go to a temporary name and are renamed, so a file under its hash is
 * always complete. Caps on one payload's size, on the number of files and on their total bytes;
 * a payload a cap refuses is counted, not stored.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The store's caps. */
export interface PayloadStoreLimits {
  /** Largest payload stored: 1 MiB, well above the services' capture caps (64 KiB), so only a misconfiguration hits it. */
  maxPayloadBytes: number;
  /** Most files: 10,000 distinct payloads is months of a public sensor's unique first flights. */
  maxCount: number;
  /** Most bytes in all: 256 MiB, so a flood of distinct payloads cannot fill the disk. */
  maxTotalBytes: number;
}

export const PAYLOAD_STORE_DEFAULTS: PayloadStoreLimits = { maxPayloadBytes: 1 << 20, maxCount: 10_000, maxTotalBytes: 256 << 20 };

/** What happened to one payload. */
export type StoreOutcome = 'stored' | 'duplicate' | 'skipped';

/** SHA-256 of bytes, lowercase hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Where a payload with this hash lives under `dir`. */
export function payloadPath(dir: string, sha256: string): string {
  return join(dir, sha256.slice(0, 2), sha256);
}

const HASH_NAME = /^[0-9a-f]{64}$/;
const PREFIX_NAME = /^[0-9a-f]{2}$/;

/** Payloads by SHA-256 in a directory, with caps. */
export class PayloadStore {
  readonly dir: string;
  readonly limits: PayloadStoreLimits;
  /** Files and bytes in the store, and what the caps refused. */
  readonly counters = { files: 0, bytes: 0, stored: 0, duplicates: 0, skipped_size: 0, skipped_count: 0, skipped_total: 0, skipped_bytes: 0, write_errors: 0 };
  /** Writes in progress by hash, so two connections with one payload write it once (bounded by the connection cap). */
  private readonly writing = new Map<string, Promise<StoreOutcome>>();

  constructor(dir: string, limits: Partial<PayloadStoreLimits> = {}) {
    this.dir = dir;
    this.limits = { ...PAYLOAD_STORE_DEFAULTS, ...limits };
  }

  /** Creates the directory and counts what is already in it, so the caps hold across restarts. */
  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    let files = 0;
    let bytes = 0;
    for (const prefix of await readdir(this.dir)) {
      if (!PREFIX_NAME.test(prefix)) continue;
      let names: string[];
      try {
        names = await readdir(join(this.dir, prefix));
      } catch {
        continue; // not a directory
      }
      for (const name of names) {
        if (!HASH_NAME.test(name)) continue;
        try {
          bytes += (await stat(join(this.dir, prefix, name))).size;
          files++;
        } catch {
          // removed meanwhile
        }
      }
    }
    this.counters.files = files;
    this.counters.bytes = bytes;
  }

  /** Stores a payload under its hash (computed when not given). Never throws: a write error is counted and reported as skipped. */
  put(bytes: Uint8Array, sha256: string = sha256Hex(bytes)): Promise<StoreOutcome> {
    const pending = this.writing.get(sha256);
    if (pending !== undefined) return pending.then((o) => (o === 'stored' ? this.duplicate() : o));
    const p = this.write(bytes, sha256).finally(() => this.writing.delete(sha256));
    this.writing.set(sha256, p);
    return p;
  }

  private duplicate(): StoreOutcome {
    this.counters.duplicates++;
    return 'duplicate';
  }

  private skip(counter: 'skipped_size' | 'skipped_count' | 'skipped_total', size: number): StoreOutcome {
    this.counters[counter]++;
    this.counters.skipped_bytes += size;
    return 'skipped';
  }

  private async write(bytes: Uint8Array, sha256: string): Promise<StoreOutcome> {
    const path = payloadPath(this.dir, sha256);
    try {
      await stat(path);
      return this.duplicate();
    } catch {
      // not there yet
    }
    const c = this.counters;
    if (bytes.length > this.limits.maxPayloadBytes) return this.skip('skipped_size', bytes.length);
    if (c.files >= this.limits.maxCount) return this.skip('skipped_count', bytes.length);
    if (c.bytes + bytes.length > this.limits.maxTotalBytes) return this.skip('skipped_total', bytes.length);
    // Reserve before the first await, so concurrent writes cannot overrun the caps together.
    c.files++;
    c.bytes += bytes.length;
    const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
    try {
      await mkdir(join(this.dir, sha256.slice(0, 2)), { recursive: true, mode: 0o700 });
      await writeFile(tmp, bytes, { mode: 0o600, flag: 'wx' });
      await rename(tmp, path);
      c.stored++;
      return 'stored';
    } catch {
      c.files--;
      c.bytes -= bytes.length;
      c.write_errors++;
      await unlink(tmp).catch(() => undefined);
      return 'skipped';
    }
  }
}
