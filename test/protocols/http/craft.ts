import type { HttpEvent } from '../../../src/protocols/http/events.js';
import type { HttpLimits } from '../../../src/protocols/http/limits.js';
import { HttpParser } from '../../../src/protocols/http/parse.js';
import type { HttpMessage, HttpTransaction } from '../../../src/protocols/http/transaction.js';
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
