import { v6Key, type AddressSet } from './addresses.js';
import type { Rule } from './rule.js';

/**
 * Rules found by address instead of by content: the rules that have no fast pattern but name a
 * narrow set of addresses (threat lists: ET's compromised, CI Army, Tor and botcc rules list
 * thousands of hosts). Each rule is indexed on its narrower address side; a packet's source and
 * destination are each looked up once (a binary search over address segments), instead of every
 * such rule testing its list on every packet. Suricata's IP-only engine does the same with a radix
 * tree.
 */
export class AddressIndex {
  /** Segment i covers IPv4 addresses [starts[i], starts[i+1]). */
  private readonly starts: Float64Array;
  private readonly lists: Rule[][];
  /** Indexed rules by the single IPv6 addresses their side lists. */
  private readonly v6 = new Map<string, Rule[]>();
  readonly size: number;

  constructor(entries: Array<{ rule: Rule; set: AddressSet }>) {
    this.size = entries.length;
    for (const { rule, set } of entries) for (const k of set.v6Singles ?? []) this.v6.set(k, [...(this.v6.get(k) ?? []), rule]);
    const events: Array<[number, number, Rule]> = [];
    for (const { rule, set } of entries) {
      for (let i = 0; i < set.v4.length; i += 2) {
        events.push([set.v4[i]!, 1, rule], [set.v4[i + 1]! + 1, -1, rule]);
      }
    }
    events.sort((a, b) => a[0] - b[0]);
    const starts: number[] = [0];
    const lists: Rule[][] = [[]];
    const active = new Map<Rule, number>();
    for (let i = 0; i < events.length; ) {
      const at = events[i]![0];
      for (; i < events.length && events[i]![0] === at; i++) {
        const [, d, r] = events[i]!;
        const n = (active.get(r) ?? 0) + d;
        if (n === 0) active.delete(r);
        else active.set(r, n);
      }
      starts.push(at);
      lists.push([...active.keys()]);
    }
    this.starts = Float64Array.from(starts);
    this.lists = lists;
  }

  /** Adds the rules whose indexed side holds the address (IPv4-mapped words) to `out`, once each by `seen`/`mark`. */
  lookup(words: Uint32Array, at: number, seen: Uint32Array, mark: number, out: Rule[]): void {
    let list: Rule[];
    if (words[at] === 0 && words[at + 1] === 0 && words[at + 2] === 0xffff) {
      const x = words[at + 3]!;
      const s = this.starts;
      let a = 0;
      let b = s.length - 1;
      while (a < b) {
        const m = (a + b + 1) >>> 1;
        if (s[m]! <= x) a = m;
        else b = m - 1;
      }
      list = this.lists[a]!;
    } else {
      const found = this.v6.get(v6Key(words, at));
      if (found === undefined) return;
      list = found;
    }
    for (const r of list) {
      if (seen[r.order] === mark) continue;
      seen[r.order] = mark;
      out.push(r);
    }
  }
}

/**
 * Addresses a rule's narrower side covers at most, for it to be indexed by address: a /8. Past it
 * (HOME_NET, EXTERNAL_NET, any) the rule is as good as checked on every packet anyway.
 */
export const MAX_INDEXED_ADDRESSES = 1 << 24;

/** The side to index a rule by, or null when both sides are broad. */
export function narrowSide(rule: Rule): AddressSet | null {
  // A side qualifies when its IPv4 part is small and its IPv6 part, if any, is single addresses.
  const sides = [rule.srcSet, rule.dstSet].filter((s): s is AddressSet => s !== null && s.v6Singles !== null && s.v4Count <= MAX_INDEXED_ADDRESSES);
  if (sides.length === 0) return null;
  return sides.reduce((a, b) => (b.v4Count < a.v4Count ? b : a));
}
