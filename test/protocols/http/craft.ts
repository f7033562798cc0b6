import type { AppOutput, AppSession, Expectation, FileInfo } from '../../../src/protocols/app.js';
import type { HttpEvent } from '../../../src/protocols/http/events.js';
import type { HttpLimits } from '../../../src/protocols/http/limits.js';
import { HttpParser } from '../../../src/protocols/http/parse.js';
import type { HttpMessage, HttpTransaction } from '../../../src/protocols/http/transaction.js';
import type { InspectableTx } from '../../../src/rules/buffers.js';
import { prng } from '../../helpers.js';

/** One direction's bytes: 0 from the client, 1 from the server. */
export type Segment = [dir: 0 | 1, data: Uint8Array | string];

export function bytes(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
}

export function text(data: Uint8Array | null): string | null {
  return data === null ? null : Buffer.from(data).toString('latin1');
}

/** How segments are cut before feeding: whole, in pieces of n bytes, or at random (seeded). */
export type Cutting = 'whole' | number | { seed: number };

function cut(data: Uint8Array, how: Cutting, rnd: () => number): Uint8Array[] {
  if (how === 'whole') return [data];
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < data.length) {
    const n = typeof how === 'number' ? how : 1 + Math.floor(rnd() * 40);
    out.push(data.subarray(at, at + n));
    at += n;
  }
  return out;
}

function message(m: HttpMessage): Record<string, unknown> {
  return {
    progress: m.progress,
    line: text(m.line),
    protocol: text(m.protocol),
    version: m.version,
    headers: m.headers.list.map((h) => [text(h.name), text(h.value), h.folded, h.trailer]),
    fields: m.headers.fields().map((f) => [text(f.name), text(f.value)]),
    headersRaw: text(m.headersRaw.bytes),
    framing: m.framing,
    contentLength: m.contentLength,
    codings: m.codings,
    body: text(m.body.bytes),
    bodyTruncated: m.body.truncated,
    length: m.length,
    wireLength: m.wireLength,
    decodedLength: m.decodedLength,
    gap: m.gap,
    truncated: m.truncated,
  };
}

/** Everything a transaction holds, as plain data (for deep comparison). */
export function snapshot(tx: HttpTransaction): Record<string, unknown> {
  const q = tx.request;
  const r = tx.response;
  return {
    id: tx.id,
    requestSeen: tx.requestSeen,
    http09: tx.http09,
    tunnel: tx.tunnel,
    events: tx.events.map((e) => `${e.dir}:${e.event}`),
    request: {
      ...message(q),
      method: text(q.method),
      methodKnown: q.methodKnown,
      uri: text(q.uri),
      uriNormalized: text(q.uriNormalized),
      host: text(q.host),
      hostRaw: text(q.hostRaw),
      port: q.port,
      expectContinue: q.expectContinue,
      ignoredLines: q.ignoredLines,
    },
    response: {
      ...message(r),
      status: r.status,
      statusRaw: text(r.statusRaw),
      statusMessage: text(r.message),
      continueSeen: r.continueSeen,
      noStatusLine: r.noStatusLine,
    },
  };
}

export interface Run {
  parser: HttpParser;
  /** Transactions in the order they were let go. */
  txs: HttpTransaction[];
  /** Every event reported, with its direction, in order. */
  events: Array<{ event: HttpEvent; dir: 0 | 1; tx: number | null }>;
}

/** Feeds segments (each cut as asked) to a fresh parser, then closes it. */
export function run(segments: readonly Segment[], how: Cutting = 'whole', limits: Partial<HttpLimits> = {}, options: { close?: boolean } = {}): Run {
  const txs: HttpTransaction[] = [];
  const events: Run['events'] = [];
  const parser = new HttpParser(
    {
      onTransactionDone: (tx) => txs.push(tx),
      onEvent: (event, dir, tx) => events.push({ event, dir, tx: tx?.id ?? null }),
    },
    limits,
  );
  const rnd = prng(typeof how === 'object' ? how.seed : 1);
  // Each piece goes in through one reused Buffer, wiped after the call, as a capture reader reuses its
  // own: anything the parser keeps without copying shows up as 0xee.
  let scratch = Buffer.alloc(0);
  for (const [dir, data] of segments) {
    for (const piece of cut(bytes(data), how, rnd)) {
      if (scratch.length < piece.length) scratch = Buffer.alloc(Math.max(piece.length, 2 * scratch.length));
      scratch.set(piece);
      parser.data(dir, scratch.subarray(0, piece.length));
      scratch.fill(0xee, 0, piece.length);
    }
  }
  if (options.close !== false) parser.close();
  return { parser, txs, events };
}

/** The snapshots of a run's transactions. */
export function snapshots(r: Run): Array<Record<string, unknown>> {
  return r.txs.map(snapshot);
}

/** Cuttings a test repeats itself over. */
export const CUTTINGS: readonly Cutting[] = ['whole', 1, 2, 3, 7, 64, { seed: 11 }, { seed: 12 }];

/** What a session reported, in order, through a FakeOutput. */
export type OutputEntry =
  | { kind: 'inspect'; tx: InspectableTx; dir: number }
  | { kind: 'record'; eventType: string; body: Record<string, unknown>; dir: number; txId: number | undefined }
  | { kind: 'anomaly'; event: string; dir: number }
  | { kind: 'file'; info: FileInfo };

/**
 * An AppOutput that writes down everything a session reports. `onInspect` sees each
 * inspection as it happens (buffers then are what rules would see at that point).
 */
export class FakeOutput implements AppOutput {
  /** Hand-overs asked for (STARTTLS), by protocol name. */
  readonly upgrades: string[] = [];

  upgrade(proto: string): void {
    this.upgrades.push(proto);
  }

  readonly log: OutputEntry[] = [];
  readonly fileStore: { enabled: boolean; maxBytes: number };
  onInspect: ((tx: InspectableTx, dir: number) => void) | null = null;

  constructor(fileStore = { enabled: false, maxBytes: 0 }) {
    this.fileStore = fileStore;
  }

  record(eventType: string, body: object, dir: number, txId?: number): void {
    this.log.push({ kind: 'record', eventType, body: body as Record<string, unknown>, dir, txId });
  }

  inspect(tx: InspectableTx, dir: number): void {
    this.log.push({ kind: 'inspect', tx, dir });
    this.onInspect?.(tx, dir);
  }

  anomaly(event: string, dir: number): void {
    this.log.push({ kind: 'anomaly', event, dir });
  }

  file(info: FileInfo): void {
    this.log.push({ kind: 'file', info });
  }

  now(): number {
    return 0;
  }

  expect(_e: Expectation): void {}

  get records(): Array<Record<string, unknown>> {
    return this.log.flatMap((e) => (e.kind === 'record' ? [e.body] : []));
  }

  get files(): FileInfo[] {
    return this.log.flatMap((e) => (e.kind === 'file' ? [e.info] : []));
  }

  get anomalies(): string[] {
    return this.log.flatMap((e) => (e.kind === 'anomaly' ? [`${e.dir}:${e.event}`] : []));
  }

  /** The order of what happened, compactly: "inspect 0:0" (tx 0, side 0), "record 0", "file 0:to_client", "anomaly NAME". */
  get sequence(): string[] {
    return this.log.map((e) => {
      switch (e.kind) {
        case 'inspect':
          return `inspect ${e.tx.id}:${e.dir}`;
        case 'record':
          return `record ${e.txId}`;
        case 'file':
          return `file ${e.info.tx_id}:${e.info.direction}`;
        case 'anomaly':
          return `anomaly ${e.event}`;
      }
    });
  }
}

/** Feeds segments to an AppSession (each cut as asked, through a reused buffer wiped after each call), then closes it. */
export function drive(session: AppSession, segments: readonly Segment[], how: Cutting = 'whole', options: { close?: boolean } = {}): void {
  const rnd = prng(typeof how === 'object' ? how.seed : 1);
  let scratch = Buffer.alloc(0);
  for (const [dir, data] of segments) {
    for (const piece of cut(bytes(data), how, rnd)) {
      if (scratch.length < piece.length + 8) scratch = Buffer.alloc(Math.max(piece.length + 8, 2 * scratch.length));
      // An offset into a larger buffer, as the reassembler hands out views.
      scratch.set(piece, 3);
      session.data(dir, scratch, 3, piece.length);
      scratch.fill(0xee, 0, piece.length + 3);
    }
  }
  if (options.close !== false) session.close();
}

/**
 * The first bytes of a Windows executable, headers only, padded with filler: an MS-DOS stub
 * header ("MZ", e_lfanew at 0x3c), a PE signature and a 32-bit optional header naming the GUI
 * subsystem. There is no code in it: file type sniffing reads these fields and nothing else.
 */
export function fakePeHeader(total = 4096): Uint8Array {
  const b = new Uint8Array(Math.max(total, 0x200)).fill(0x41);
  b[0] = 0x4d;
  b[1] = 0x5a;
  const at = 0x80;
  b.set([at, 0, 0, 0], 0x3c);
  b.set([0x50, 0x45, 0, 0], at);
  b.set([0x4c, 0x01], at + 4); // machine: Intel 80386
  b.set([0x02, 0x01], at + 22); // characteristics: executable image, 32-bit (not a DLL)
  b.set([0x0b, 0x01], at + 24); // optional header magic: PE32
  b.set([0x02, 0x00], at + 24 + 68); // subsystem: Windows GUI
  return b;
}
