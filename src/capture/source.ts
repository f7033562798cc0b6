import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { CaptureOpenError } from './damage.js';

/** Where capture bytes come from: a file, a pipe, or a decompressor. */
export interface ByteSource {
  /** The name used in messages: the path, "-" for stdin, or "tcpdump -i IFACE". */
  readonly name: string;
  /** Total bytes when known (a regular, uncompressed file), for progress. */
  readonly size: number | null;
  /** Bytes consumed from the underlying input so far (compressed bytes for .gz), for progress. */
  readonly position: number;
  /** Reads up to `length` bytes into buf at `offset`; resolves to 0 at the end. */
  read(buf: Uint8Array, offset: number, length: number): Promise<number>;
  close(): void;
}

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

/** A regular file read with plain synchronous reads: the fastest path Node has for a file on disk. */
class FileSource implements ByteSource {
  position = 0;
  constructor(
    readonly name: string,
    private readonly fd: number,
    readonly size: number,
  ) {}

  read(buf: Uint8Array, offset: number, length: number): Promise<number> {
    const n = readSync(this.fd, buf, offset, length, null);
    this.position += n;
    return Promise.resolve(n);
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Adapts a stream of chunks to ByteSource reads, copying each chunk once into the reader's window. */
export class StreamSource implements ByteSource {
  readonly size: number | null = null;
  position = 0;
  private readonly chunks: AsyncIterator<Uint8Array>;
  private pending: Uint8Array | null = null;
  private pendingOff = 0;

  constructor(
    readonly name: string,
    stream: AsyncIterable<Uint8Array>,
    private readonly onClose: () => void = () => {},
  ) {
    this.chunks = stream[Symbol.asyncIterator]();
  }

  async read(buf: Uint8Array, offset: number, length: number): Promise<number> {
    while (this.pending === null) {
      const next = await this.chunks.next();
      if (next.done === true) return 0;
      if (next.value.length > 0) {
        this.pending = next.value;
        this.pendingOff = 0;
      }
    }
    const n = Math.min(length, this.pending.length - this.pendingOff);
    buf.set(this.pending.subarray(this.pendingOff, this.pendingOff + n), offset);
    this.pendingOff += n;
    this.position += n;
    if (this.pendingOff >= this.pending.length) this.pending = null;
    return n;
  }

  close(): void {
    this.onClose();
  }
}

/**
 * Opens a capture input: a path, or "-" for standard input. Gzip is recognised by its magic
 * bytes, not by the file name, and decompressed on the fly.
 */
export async function openByteSource(path: string): Promise<ByteSource> {
  if (path === '-') return openStdin();
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new CaptureOpenError(path, describeOpenError(err));
  }
  const st = fstatSync(fd);
  if (st.isDirectory()) {
    closeSync(fd);
    throw new CaptureOpenError(path, 'is a directory, not a capture file');
  }
  if (!st.isFile()) {
    // A FIFO or pipe (as from <(zcat x.pcap)) cannot be peeked at by position: sniff the stream.
    const raw = createReadStream(path, { fd });
    return new SniffedStream(path, raw, () => raw.destroy());
  }
  const head = new Uint8Array(2);
  const n = readSync(fd, head, 0, 2, 0);
  if (n === 2 && head[0] === GZIP_MAGIC_0 && head[1] === GZIP_MAGIC_1) {
    closeSync(fd);
    const raw = createReadStream(path);
    const gunzip = raw.pipe(createGunzip());
    const source = new StreamSource(path, gunzip, () => raw.destroy());
    return withCompressedProgress(source, st.size, () => raw.bytesRead);
  }
  return new FileSource(path, fd, st.size);
}

function withCompressedProgress(source: StreamSource, size: number, position: () => number): ByteSource {
  return {
    name: source.name,
    size,
    get position() {
      return position();
    },
    read: (buf, offset, length) => source.read(buf, offset, length),
    close: () => source.close(),
  };
}

function openStdin(): ByteSource {
  // Closing stops reading standard input, so a reader stopped early lets the process exit.
  return new SniffedStream('-', process.stdin, () => process.stdin.destroy());
}

/**
 * A stream of unknown length: gzip is recognised by its first two bytes, as for files. The
 * bytes are awaited by the first read, not at open, so a reader can give up on a silent pipe.
 */
class SniffedStream implements ByteSource {
  readonly size: number | null = null;
  private inner: StreamSource | null = null;

  constructor(
    readonly name: string,
    private readonly stream: AsyncIterable<Uint8Array>,
    private readonly onClose: () => void,
  ) {}

  get position(): number {
    return this.inner?.position ?? 0;
  }

  async read(buf: Uint8Array, offset: number, length: number): Promise<number> {
    this.inner ??= await this.sniff();
    return this.inner.read(buf, offset, length);
  }

  close(): void {
    this.onClose();
  }

  private async sniff(): Promise<StreamSource> {
    const input = this.stream[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
    let first = await input.next();
    while (first.done !== true && first.value.length < 2) {
      // Gather at least the two magic bytes before choosing a path.
      const more = await input.next();
      if (more.done === true) break;
      first = { done: false, value: Buffer.concat([first.value, more.value]) };
    }
    async function* rest(): AsyncGenerator<Uint8Array> {
      if (first.done !== true) yield first.value;
      for (;;) {
        const r = await input.next();
        if (r.done === true) return;
        yield r.value;
      }
    }
    const head = first.done === true ? new Uint8Array(0) : first.value;
    if (head[0] === GZIP_MAGIC_0 && head[1] === GZIP_MAGIC_1) return new StreamSource(this.name, Readable.from(rest()).pipe(createGunzip()));
    return new StreamSource(this.name, rest());
  }
}

function describeOpenError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory, not a capture file';
  return err instanceof Error ? err.message : String(err);
}
