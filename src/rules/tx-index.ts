import { APP_PROTOCOL_NAMES, BUFFERS_BY_NAME } from './buffers.js';
import { MIN_PATTERN, PatternSet } from './prefilter.js';
import type { Inspection, Rule } from './rule.js';

/** A buffer the prefilter scans, on one side of a transaction, with the fast patterns found in it. */
export interface TxPrefilter {
  /** Any inspection with this key (buffer and transforms): how to get the bytes. */
  inspection: Inspection;
  /** Which side's buffer: 0 request, 1 response. */
  side: number;
  patterns: PatternSet;
}

/** The transaction rules for one application protocol and one side's completion. */
export class TxGroup {
  /** In evaluation order. */
  readonly rules: Rule[];
  readonly prefilters: TxPrefilter[] = [];
  /** Rules without a fast pattern the prefilter can use: evaluated on every transaction. */
  readonly always: Rule[] = [];

  constructor(rules: Rule[], dir: number) {
    this.rules = [...rules].sort((a, b) => a.order - b.order);
    const byKey = new Map<string, { inspection: Inspection; side: number; rules: Rule[] }>();
    for (const r of this.rules) {
      const fp = r.fastPattern;
      const inspection = fp === null ? undefined : r.inspections.find((i) => i.key === fp.buffer);
      if (fp === null || inspection === undefined || inspection.buffer === 'payload' || fp.bytes.length < MIN_PATTERN) {
        this.always.push(r);
        continue;
      }
      const side = bufferSide(inspection.buffer, dir);
      const k = `${side}\u0000${fp.buffer}`;
      let entry = byKey.get(k);
      if (entry === undefined) {
        entry = { inspection, side, rules: [] };
        byKey.set(k, entry);
      }
      entry.rules.push(r);
    }
    for (const { inspection, side, rules: list } of byKey.values()) {
      const patterns = new PatternSet();
      for (const r of list) patterns.add(r.order, r.fastPattern!.bytes);
      patterns.build();
      this.prefilters.push({ inspection, side, patterns });
    }
  }
}

/** Which side's buffer an inspection reads when the rule runs on `dir`'s completion. */
export function bufferSide(buffer: string, dir: number): number {
  const spec = BUFFERS_BY_NAME.get(buffer);
  return spec === undefined || spec.dir === 'both' ? dir : spec.dir === 'to_server' ? 0 : 1;
}

/** Transaction rules by application protocol and side: [request group, response group]. */
export function buildTxGroups(rules: readonly Rule[]): Map<string, [TxGroup, TxGroup]> {
  const protocols = new Set(APP_PROTOCOL_NAMES.values());
  const groups = new Map<string, [TxGroup, TxGroup]>();
  const txRules = rules.filter((r) => r.txDirs !== 0);
  for (const proto of protocols) {
    // A rule without a protocol (file.name) runs on the transactions of every protocol that has its buffers.
    const mine = txRules.filter((r) => r.appProto === proto || r.appProto === null);
    if (mine.length === 0) continue;
    groups.set(proto, [new TxGroup(mine.filter((r) => (r.txDirs & 1) !== 0), 0), new TxGroup(mine.filter((r) => (r.txDirs & 2) !== 0), 1)]);
  }
  return groups;
}
