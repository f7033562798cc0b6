import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pipeline } from 'node:stream';
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { createGunzip } from 'node:zlib';
import { EXPORT_TYPES, formatDShieldLine, MAX_LINE_BYTES, parseDShieldLine, toIngestEvent } from '../collector/dshield.js';
import { openStore } from '../collector/store/index.js';
import type { IngestEvent, Store } from '../collector/store/store.js';
import { Exit, UsageError } from './exit.js';

export const IMPORT_USAGE = `usage: outpost import dshield FILE [--data DIR | --database URL] [--sensor NAME]

Imports a DShield-format firewall log (tab-separated: date with UTC offset, submitter, count,
source IP, source port, target IP, target port, protocol, TCP flags) into the collector's store
as \`firewall\` records, then recounts the rollups. FILE "-" reads standard input; gzip input
(.gz) is recognised by its magic bytes and inflated.

The records belong to a pseudo-sensor \`import-NAME\`, registered on first use (\`collector
sensor list\` shows it; it has a random secret nobody holds, so it can only be fed by import).
Its sequence numbers continue from the last import's, so importing the same file twice stores
it twice.

Lines that are not DShield format are refused and counted; the first 10 are shown with their
line numbers. They never stop the import.

options:
      --data DIR          the collector's data directory (SQLite at DIR/outpost.db; default ./data)
      --database URL      a PostgreSQL store (postgres://...) instead
      --sensor NAME       the pseudo-sensor's name (letters, digits, - and _; default dshield)
  -h, --help              this help

Exit codes: 0 every line imported, 1 some lines refused or the input broke off (everything
before was imported), 2 usage, 3 FILE unreadable or the store could not be opened.`;

export const EXPORT_USAGE = `usage: outpost export dshield --date YYYY-MM-DD [--data DIR | --database URL] [--out FILE] [--userid N]

Writes one UTC day's records in DShield's firewall-log format (times in UTC, +00:00), oldest
first, to standard output or FILE. Records written: imported \`firewall\` records as they were
read; alerts (count 1); scans that name a single target (count = probes, flags from the probe
kind); floods with a single sender (count = packets). Flow and protocol records are not: they
describe all traffic, not attacks (src/collector/dshield.ts says why).

options:
      --date YYYY-MM-DD   the UTC day
      --data DIR          the collector's data directory (default ./data)
      --database URL      a PostgreSQL store (postgres://...) instead
      --out FILE          write here instead of standard output
      --userid N          the DShield user id for records that carry none (default 0)
  -h, --help              this help

Exit codes: 0 written, 1 the store could not be read, 2 usage.`;

/** Lines shown of those refused; the rest are only counted. */
const SHOW_REFUSED = 10;
/** Records per store.ingest call: one transaction each. */
const BATCH = 1000;
/** Lines held at once to sort a window oldest first; a busier window is split in two. ~150 bytes each. */
const WINDOW_LINES = 100_000;
/** Export windows start an hour wide, so a day is never read in one piece. */
const HOUR_MS = 3_600_000;
/** Records per searchEvents page (the store's cap). */
const PAGE = 1000;

interface StoreFlags {
  data?: string | undefined;
  database?: string | undefined;
}

function storeOptions(o: StoreFlags): { data: string; database: string | null } {
  if (o.data !== undefined && o.database !== undefined) throw new UsageError('give --data or --database, not both');
  if (o.database !== undefined && !/^postgres(ql)?:\/\//.test(o.database)) throw new UsageError(`--database: "${o.database}" is not a postgres:// URL`);
  return { data: resolve(o.data ?? 'data'), database: o.database ?? null };
}

async function open(command: string, opts: { data: string; database: string | null }): Promise<Store | null> {
  try {
    return await openStore(opts);
  } catch (err) {
    process.stderr.write(`outpost ${command}: cannot open the store (${opts.database !== null ? 'PostgreSQL' : opts.data}): ${(err as Error).message}\n`);
    return null;
  }
}

function parse(argv: string[], options: NonNullable<Parameters<typeof parseArgs>[0]>['options']): ReturnType<typeof parseArgs> {
  try {
    return parseArgs({ args: argv, allowPositionals: true, options });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** The bytes of `src`, inflated when they start with gzip's magic. A damaged stream throws while iterating. */
async function* inflateIfGzip(src: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const it = src[Symbol.asyncIterator]();
  let head: Buffer = Buffer.alloc(0);
  while (head.length < 2) {
    const n = await it.next();
    if (n.done === true) break;
    head = head.length === 0 ? n.value : Buffer.concat([head, n.value]);
  }
  async function* rest(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    for (;;) {
      const n = await it.next();
      if (n.done === true) return;
      yield n.value;
    }
  }
  if (head[0] !== 0x1f || head[1] !== 0x8b) {
    yield* rest();
    return;
  }
  const gunzip = createGunzip();
  // pipeline passes a source error on to gunzip, so iterating gunzip throws it.
  pipeline(rest(), gunzip, () => {});
  for await (const chunk of gunzip) yield chunk as Buffer;
}

/** A failure reading the input (as opposed to storing it). */
class InputError extends Error {}

/** The items of `src`; a failure of the source itself is rethrown as an InputError. */
async function* asInput<X>(src: AsyncIterable<X>): AsyncGenerator<X> {
  try {
    yield* src;
  } catch (err) {
    throw new InputError((err as Error).message);
  }
}

/** The lines of a byte stream (newline removed), each at most `max` bytes; a longer line is skipped whole and given as null. */
async function* linesOf(chunks: AsyncIterable<Buffer>, max: number): AsyncGenerator<string | null> {
  let parts: Buffer[] = [];
  let len = 0;
  let over = false;
  for await (const chunk of chunks) {
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(0x0a, pos);
      const end = nl < 0 ? chunk.length : nl;
      if (!over) {
        if (len + end - pos > max) {
          over = true;
          parts = [];
          len = 0;
        } else if (end > pos) {
          parts.push(chunk.subarray(pos, end));
          len += end - pos;
        }
      }
      if (nl < 0) break;
      yield over ? null : parts.length === 1 ? parts[0]!.toString('utf8') : Buffer.concat(parts, len).toString('utf8');
      parts = [];
      len = 0;
      over = false;
      pos = nl + 1;
    }
  }
  if (over || len > 0) yield over ? null : Buffer.concat(parts, len).toString('utf8');
}

/** The import's pseudo-sensor, registered on first use; its next sequence number. */
async function importSensor(store: Store, name: string): Promise<{ id: string; next: number }> {
  const id = `import-${name}`;
  let sensor = await store.getSensor(id);
  if (sensor === undefined) {
    try {
      await store.addSensor({ id, name, secret: randomBytes(32).toString('hex'), enrolled: Date.now() });
    } catch (err) {
      // Another import registered it at the same moment: use theirs.
      if ((await store.getSensor(id)) === undefined) throw err;
    }
    sensor = await store.getSensor(id);
    if (sensor === undefined) throw new Error(`sensor ${id} was registered but cannot be read back`);
  }
  return { id, next: sensor.acked + 1 };
}

/** `outpost import dshield FILE ...`: argv is what follows `import`. */
export async function runImport(argv: string[]): Promise<number> {
  const parsed = parse(argv, {
    data: { type: 'string' },
    database: { type: 'string' },
    sensor: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  const o = parsed.values as { data?: string; database?: string; sensor?: string; help: boolean };
  if (o.help) {
    process.stdout.write(`${IMPORT_USAGE}\n`);
    return Exit.OK;
  }
  const [format, file, ...extra] = parsed.positionals;
  if (format === undefined) throw new UsageError('no format given (outpost import dshield FILE)');
  if (format !== 'dshield') throw new UsageError(`unknown format "${format}" (only dshield)`);
  if (file === undefined) throw new UsageError('no FILE given ("-" for standard input)');
  if (extra.length > 0) throw new UsageError(`one FILE at a time (got also ${extra.join(' ')})`);
  const name = o.sensor ?? 'dshield';
  // 57: sensor ids are at most 64 characters (src/api/contract.ts), less "import-".
  if (!/^[A-Za-z0-9_-]{1,57}$/.test(name)) throw new UsageError(`--sensor: "${name}" must be 1 to 57 letters, digits, - or _`);
  const storeOpts = storeOptions(o);

  if (file !== '-') {
    try {
      if (!statSync(file).isFile()) throw new Error('not a file');
    } catch (err) {
      process.stderr.write(`outpost import: cannot read ${file}: ${(err as Error).message}\n`);
      return Exit.INPUT;
    }
  }
  const store = await open('import', storeOpts);
  if (store === null) return Exit.INPUT;
  const label = file === '-' ? 'standard input' : file;
  let stored = 0;
  let duplicates = 0;
  let refused = 0;
  let broken: string | null = null;
  try {
    const sensor = await importSensor(store, name);
    let seq = sensor.next;
    let batch: IngestEvent[] = [];
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const r = await store.ingest(sensor.id, batch, Date.now());
      stored += r.stored;
      duplicates += r.duplicates;
      batch = [];
    };
    const input = file === '-' ? (process.stdin as AsyncIterable<Buffer>) : (createReadStream(file) as AsyncIterable<Buffer>);
    let n = 0;
    try {
      for await (const line of asInput(linesOf(inflateIfGzip(input), MAX_LINE_BYTES))) {
        n++;
        const ev = line === null ? `line is longer than ${MAX_LINE_BYTES} bytes` : line === '' || line === '\r' ? null : parseDShieldLine(line);
        if (ev === null) continue;
        if (typeof ev === 'string') {
          refused++;
          if (refused <= SHOW_REFUSED) process.stderr.write(`${label}:${n}: ${ev}\n`);
          continue;
        }
        batch.push(toIngestEvent(ev, sensor.id, seq++));
        if (batch.length === BATCH) await flush();
      }
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      broken = `${label}: input broke off after line ${n}: ${err.message}`;
    }
    await flush();
    await store.touchSensor(sensor.id, Date.now());
    await store.rollup(Date.now());
  } catch (err) {
    process.stderr.write(`outpost import: store: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await store.close();
  }
  if (refused > SHOW_REFUSED) process.stderr.write(`... and ${refused - SHOW_REFUSED} more lines refused\n`);
  if (broken !== null) process.stderr.write(`outpost import: ${broken}\n`);
  const dup = duplicates > 0 ? `, ${duplicates} already stored` : '';
  process.stderr.write(`imported ${stored} records from ${label} (${refused} lines refused${dup})\n`);
  return refused > 0 || broken !== null ? Exit.DAMAGED : Exit.OK;
}

/** One exported line with what orders it. */
interface Dated {
  ts: number;
  sensor: string;
  seq: number;
  line: string;
}

/** The DShield lines of [from, to), oldest first; null when more than `cap` (the caller splits the window). */
async function windowLines(store: Store, from: number, to: number, userid: string, cap: number, tally: { skipped: number }): Promise<Dated[] | null> {
  const out: Dated[] = [];
  let skipped = 0;
  for (const type of EXPORT_TYPES) {
    let cursor: string | null = null;
    do {
      const page = await store.searchEvents({ from, to, event_type: type, limit: PAGE, ...(cursor !== null ? { cursor } : {}) });
      for (const e of page.events) {
        let line: string | null = null;
        try {
          line = formatDShieldLine(JSON.parse(e.json), userid);
        } catch {
          // a stored record that is not JSON: counted with the unexpressible ones
        }
        if (line === null) skipped++;
        else out.push({ ts: e.ts, sensor: e.sensor_id, seq: e.seq, line });
      }
      // A window one millisecond wide cannot be split: it is held whatever its size.
      if (out.length > cap && to - from > 1) return null;
      cursor = page.next;
    } while (cursor !== null);
  }
  tally.skipped += skipped;
  out.sort((a, b) => a.ts - b.ts || (a.sensor < b.sensor ? -1 : a.sensor > b.sensor ? 1 : 0) || a.seq - b.seq);
  return out;
}

/** Writes text, waiting when the stream's buffer is full; rejects once the stream has failed (a closed pipe). */
function writer(stream: Writable): { write(text: string): Promise<void>; end(): Promise<void> } {
  let failed: Error | null = null;
  stream.on('error', (err: Error) => {
    failed = err;
  });
  return {
    async write(text) {
      if (failed !== null) throw failed;
      if (!stream.write(text)) {
        await new Promise<void>((res, rej) => {
          const done = (): void => {
            stream.off('drain', done);
            stream.off('error', fail);
            res();
          };
          const fail = (err: Error): void => {
            stream.off('drain', done);
            rej(err);
          };
          stream.on('drain', done);
          stream.once('error', fail);
        });
      }
    },
    end() {
      if (stream === process.stdout) return failed !== null ? Promise.reject(failed) : Promise.resolve();
      return new Promise((res, rej) => {
        if (failed !== null) return rej(failed);
        stream.once('error', rej);
        stream.end(() => res());
      });
    },
  };
}

/** `outpost export dshield --date D ...`: argv is what follows `export`. */
export async function runExport(argv: string[]): Promise<number> {
  const parsed = parse(argv, {
    date: { type: 'string' },
    data: { type: 'string' },
    database: { type: 'string' },
    out: { type: 'string' },
    userid: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  const o = parsed.values as { date?: string; data?: string; database?: string; out?: string; userid?: string; help: boolean };
  if (o.help) {
    process.stdout.write(`${EXPORT_USAGE}\n`);
    return Exit.OK;
  }
  const [format, ...extra] = parsed.positionals;
  if (format === undefined) throw new UsageError('no format given (outpost export dshield --date YYYY-MM-DD)');
  if (format !== 'dshield') throw new UsageError(`unknown format "${format}" (only dshield)`);
  if (extra.length > 0) throw new UsageError(`unexpected ${extra.join(' ')}`);
  if (o.date === undefined) throw new UsageError('--date YYYY-MM-DD is required');
  const m = /^(\d{4})-(\d\d)-(\d\d)$/.exec(o.date);
  const day = m === null ? NaN : Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (m === null || Number.isNaN(day) || new Date(day).toISOString().slice(0, 10) !== o.date) throw new UsageError(`--date: "${o.date}" is not a date YYYY-MM-DD`);
  const userid = o.userid ?? '0';
  if (!/^\d{1,20}$/.test(userid)) throw new UsageError(`--userid: "${userid}" is not a DShield user id (digits)`);
  const storeOpts = storeOptions(o);

  const store = await open('export', storeOpts);
  if (store === null) return 1;
  const out = writer(o.out !== undefined ? createWriteStream(o.out) : process.stdout);
  const tally = { skipped: 0 };
  let written = 0;
  let pending = '';
  const emit = async (from: number, to: number): Promise<void> => {
    const lines = await windowLines(store, from, to, userid, WINDOW_LINES, tally);
    if (lines === null) {
      const mid = Math.floor((from + to) / 2);
      await emit(from, mid);
      await emit(mid, to);
      return;
    }
    for (const l of lines) {
      pending += `${l.line}\n`;
      // Written in pieces of about 64 KiB: few syscalls, bounded memory.
      if (pending.length >= 65536) {
        await out.write(pending);
        pending = '';
      }
    }
    written += lines.length;
  };
  try {
    for (let from = day; from < day + 24 * HOUR_MS; from += HOUR_MS) await emit(from, from + HOUR_MS);
    if (pending !== '') await out.write(pending);
    await out.end();
  } catch (err) {
    process.stderr.write(`outpost export: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await store.close();
  }
  const skipped = tally.skipped > 0 ? ` (${tally.skipped} records not expressible as DShield lines)` : '';
  process.stderr.write(`exported ${written} lines for ${o.date}${skipped}\n`);
  return Exit.OK;
}
