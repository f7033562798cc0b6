import { parseIpv4, parseIpv6 } from '../wire/address.js';
import { RuleError } from './syntax.js';

/**
 * Address groups: `any`, addresses, CIDRs, ranges (a-b), `$VARS`, `[groups]`, and `!` negation
 * at any level, for IPv4 and IPv6 together. A group becomes a set of intervals over the 128-bit
 * space (IPv4 as ::ffff:a.b.c.d), then a matcher over the packet's address words.
 */

type Interval = [bigint, bigint];
const MAX = (1n << 128n) - 1n;
const V4_BASE = 0xffffn << 32n;

/** Recursion limit on variables: deeper nesting is a loop in the configuration. */
const MAX_DEPTH = 16;

function normalize(list: Interval[]): Interval[] {
  const sorted = [...list].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: Interval[] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && lo <= last[1] + 1n) {
      if (hi > last[1]) last[1] = hi;
    } else out.push([lo, hi]);
  }
  return out;
}

function complement(set: Interval[]): Interval[] {
  const out: Interval[] = [];
  let at = 0n;
  for (const [lo, hi] of set) {
    if (lo > at) out.push([at, lo - 1n]);
    at = hi + 1n;
  }
  if (at <= MAX) out.push([at, MAX]);
  return out;
}

function subtract(a: Interval[], b: Interval[]): Interval[] {
  return intersect(a, complement(b));
}

function intersect(a: Interval[], b: Interval[]): Interval[] {
  const out: Interval[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const lo = a[i]![0] > b[j]![0] ? a[i]![0] : b[j]![0];
    const hi = a[i]![1] < b[j]![1] ? a[i]![1] : b[j]![1];
    if (lo <= hi) out.push([lo, hi]);
    if (a[i]![1] < b[j]![1]) i++;
    else j++;
  }
  return out;
}

function addressValue(text: string): { value: bigint; bits: number } | null {
  const v4 = parseIpv4(text);
  if (v4 !== null) return { value: V4_BASE | BigInt(v4), bits: 32 };
  const v6 = parseIpv6(text);
  if (v6 === null) return null;
  let v = 0n;
  for (const b of v6) v = (v << 8n) | BigInt(b);
  return { value: v, bits: 128 };
}

function parseElement(text: string): Interval[] {
  if (text === 'any') return [[0n, MAX]];
  const dash = text.indexOf('-');
  if (dash > 0 && !text.includes('/')) {
    const a = addressValue(text.slice(0, dash));
    const b = addressValue(text.slice(dash + 1));
    if (a === null || b === null || a.bits !== b.bits || a.value > b.value) throw new RuleError(`"${text}" is not an address range`);
    return [[a.value, b.value]];
  }
  const [addr, len] = text.split('/');
  const a = addressValue(addr!);
  if (a === null) throw new RuleError(`"${text}" is not an IP address, CIDR or range`);
  if (len === undefined) return [[a.value, a.value]];
  let prefix: number;
  if (/^\d+$/.test(len)) prefix = Number(len);
  else {
    // Snort also accepts a dotted netmask: 10.0.0.0/255.0.0.0
    const mask = parseIpv4(len);
    if (mask === null || a.bits !== 32) throw new RuleError(`"${text}" has a bad prefix length`);
    prefix = 32 - Math.log2((~mask >>> 0) + 1);
    if (!Number.isInteger(prefix)) throw new RuleError(`"${text}" has a netmask that is not a prefix`);
  }
  if (prefix > a.bits) throw new RuleError(`"${text}": a /${prefix} prefix is longer than the address`);
  const hostBits = BigInt(a.bits - prefix);
  const lo = (a.value >> hostBits) << hostBits;
  return [[lo, lo | ((1n << hostBits) - 1n)]];
}

/** Splits a group's inside on commas at depth 0. */
function splitGroup(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '[') depth++;
    if (ch === ']') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim() !== '') parts.push(cur.trim());
  return parts;
}

/** Resolves a group text to its intervals. `vars` names address groups; cycles and unknown names are errors. */
export function addressIntervals(text: string, vars: Record<string, string>, depth = 0): Interval[] {
  if (depth > MAX_DEPTH) throw new RuleError(`address variables nest deeper than ${MAX_DEPTH}: is there a loop?`);
  let t = text.trim();
  if (t === '') throw new RuleError('empty address');
  let negated = false;
  while (t.startsWith('!')) {
    negated = !negated;
    t = t.slice(1).trim();
  }
  let set: Interval[];
  if (t.startsWith('[')) {
    if (!t.endsWith(']')) throw new RuleError(`"${text}": unbalanced [ ]`);
    const positives: Interval[] = [];
    const negatives: Interval[] = [];
    let sawPositive = false;
    for (const part of splitGroup(t.slice(1, -1))) {
      if (part.startsWith('!')) negatives.push(...addressIntervals(part.slice(1), vars, depth + 1));
      else {
        sawPositive = true;
        positives.push(...addressIntervals(part, vars, depth + 1));
      }
    }
    // A group of only negations means "everything but these" (Suricata's reading).
    const base = sawPositive ? normalize(positives) : [[0n, MAX] as Interval];
    set = subtract(base, normalize(negatives));
  } else if (t.startsWith('$')) {
    const name = t.slice(1);
    const value = vars[name];
    if (value === undefined) throw new RuleError(`unknown address variable $${name}`);
    set = addressIntervals(value, vars, depth + 1);
  } else {
    set = parseElement(t);
  }
  set = normalize(set);
  return negated ? complement(set) : set;
}

/** Matches a packet address held as four words (IPv4-mapped for IPv4). */
export type AddressMatcher = (words: Uint32Array, at: number) => boolean;

/** A compiled address group: its matcher, and its IPv4 part as sorted ranges for indexing. */
export interface AddressSet {
  match: AddressMatcher;
  /** IPv4 ranges [lo0, hi0, lo1, hi1, ...], sorted and disjoint. */
  v4: Float64Array;
  /** IPv4 addresses covered. */
  v4Count: number;
  /** Some IPv6 space (beyond ::ffff:0:0/96) is covered. */
  hasV6: boolean;
  /** The IPv6 part when it is single addresses only (keys as v6Key gives them); null when it holds ranges. */
  v6Singles: string[] | null;
}

/** A key for an IPv6 address held as four words. */
export function v6Key(w: Uint32Array | number[], at: number): string {
  return `${w[at]}:${w[at + 1]}:${w[at + 2]}:${w[at + 3]}`;
}

/**
 * Compiles a group to a matcher, or null for "any" (the caller skips the check). IPv4 intervals
 * become sorted number pairs found by binary search (threat lists name thousands of addresses);
 * IPv6 intervals compare word by word.
 */
export function compileAddress(text: string, vars: Record<string, string>): AddressMatcher | null {
  return compileAddressSet(text, vars)?.match ?? null;
}

export function compileAddressSet(text: string, vars: Record<string, string>): AddressSet | null {
  const set = addressIntervals(text, vars);
  if (set.length === 1 && set[0]![0] === 0n && set[0]![1] === MAX) return null;
  const v4: number[] = [];
  const v6: Array<[number[], number[]]> = [];
  const v4Lo = V4_BASE;
  const v4Hi = V4_BASE | 0xffffffffn;
  let v4Count = 0;
  let hasV6 = false;
  let v6Singles: string[] | null = [];
  for (const [lo, hi] of set) {
    // The part inside ::ffff:0:0/96 is IPv4.
    const a = lo > v4Lo ? lo : v4Lo;
    const b = hi < v4Hi ? hi : v4Hi;
    if (a <= b) {
      v4.push(Number(a - V4_BASE), Number(b - V4_BASE));
      v4Count += Number(b - a) + 1;
    }
    if (lo < v4Lo || hi > v4Hi) {
      hasV6 = true;
      // Neighbouring addresses in a list merge into small ranges: up to 256 stay indexable as singles.
      if (v6Singles !== null && hi - lo < 256n) for (let x = lo; x <= hi; x++) v6Singles.push(v6Key(words(x), 0));
      else v6Singles = null;
    }
    v6.push([words(lo), words(hi)]);
  }
  const v4Ranges = Float64Array.from(v4);
  const match: AddressMatcher = (w, at) => {
    if (w[at] === 0 && w[at + 1] === 0 && w[at + 2] === 0xffff) return inRanges(v4Ranges, w[at + 3]!);
    for (const [lo, hi] of v6) if (compareWords(w, at, lo) >= 0 && compareWords(w, at, hi) <= 0) return true;
    return false;
  };
  return { match, v4: v4Ranges, v4Count, hasV6, v6Singles };
}

/** Binary search of sorted [lo, hi] pairs. */
export function inRanges(r: Float64Array, x: number): boolean {
  let a = 0;
  let b = r.length / 2 - 1;
  while (a <= b) {
    const m = (a + b) >>> 1;
    if (x < r[m * 2]!) b = m - 1;
    else if (x > r[m * 2 + 1]!) a = m + 1;
    else return true;
  }
  return false;
}

function words(v: bigint): number[] {
  return [Number((v >> 96n) & 0xffffffffn), Number((v >> 64n) & 0xffffffffn), Number((v >> 32n) & 0xffffffffn), Number(v & 0xffffffffn)];
}

function compareWords(w: Uint32Array, at: number, x: number[]): number {
  for (let i = 0; i < 4; i++) {
    const d = w[at + i]! - x[i]!;
    if (d !== 0) return d;
  }
  return 0;
}
