import { RuleError } from './syntax.js';

/**
 * Port groups: `any`, ports, ranges (`1024:`, `:1023`, `80:90`), `$VARS`, `[groups]` and `!`.
 * A group becomes a sorted list of [lo, hi] ranges.
 */

type Range = [number, number];
const MAX_DEPTH = 16;

function normalize(list: Range[]): Range[] {
  const sorted = [...list].sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

function complement(set: Range[]): Range[] {
  const out: Range[] = [];
  let at = 0;
  for (const [lo, hi] of set) {
    if (lo > at) out.push([at, lo - 1]);
    at = hi + 1;
  }
  if (at <= 65535) out.push([at, 65535]);
  return out;
}

function port(text: string, whole: string): number {
  if (!/^\d+$/.test(text)) throw new RuleError(`"${whole}" is not a port, range or group`);
  const n = Number(text);
  if (n > 65535) throw new RuleError(`port ${n} is above 65535`);
  return n;
}

export function portRanges(text: string, vars: Record<string, string>, depth = 0): Range[] {
  if (depth > MAX_DEPTH) throw new RuleError(`port variables nest deeper than ${MAX_DEPTH}: is there a loop?`);
  let t = text.trim();
  let negated = false;
  while (t.startsWith('!')) {
    negated = !negated;
    t = t.slice(1).trim();
  }
  let set: Range[];
  if (t === 'any') set = [[0, 65535]];
  else if (t.startsWith('[')) {
    if (!t.endsWith(']')) throw new RuleError(`"${text}": unbalanced [ ]`);
    const inner = t.slice(1, -1);
    const parts: string[] = [];
    let d = 0;
    let cur = '';
    for (const ch of inner) {
      if (ch === '[') d++;
      if (ch === ']') d--;
      if (ch === ',' && d === 0) {
        parts.push(cur);
        cur = '';
      } else cur += ch;
    }
    parts.push(cur);
    const pos: Range[] = [];
    const neg: Range[] = [];
    let sawPositive = false;
    for (const p of parts.map((x) => x.trim()).filter((x) => x !== '')) {
      if (p.startsWith('!')) neg.push(...portRanges(p.slice(1), vars, depth + 1));
      else {
        sawPositive = true;
        pos.push(...portRanges(p, vars, depth + 1));
      }
    }
    const base = sawPositive ? normalize(pos) : [[0, 65535] as Range];
    const exclude = complement(normalize(neg));
    set = [];
    for (const [lo, hi] of base) for (const [a, b] of exclude) if (Math.max(lo, a) <= Math.min(hi, b)) set.push([Math.max(lo, a), Math.min(hi, b)]);
  } else if (t.startsWith('$')) {
    const value = vars[t.slice(1)];
    if (value === undefined) throw new RuleError(`unknown port variable ${t}`);
    set = portRanges(value, vars, depth + 1);
  } else if (t.includes(':')) {
    const [a, b] = t.split(':');
    const lo = a === '' ? 0 : port(a!, text);
    const hi = b === '' ? 65535 : port(b!, text);
    if (lo > hi) throw new RuleError(`port range "${text}" runs backwards`);
    set = [[lo, hi]];
  } else set = [[port(t, text), port(t, text)]];
  set = normalize(set);
  if (set.length === 0 && !negated) throw new RuleError(`port group "${text}" matches no port`);
  return negated ? complement(set) : set;
}

export type PortMatcher = (port: number) => boolean;

/** Compiles a group to a matcher, or null for "any". */
export function compilePorts(text: string, vars: Record<string, string>): PortMatcher | null {
  const set = portRanges(text, vars);
  if (set.length === 1 && set[0]![0] === 0 && set[0]![1] === 65535) return null;
  if (set.length === 1 && set[0]![0] === set[0]![1]) {
    const only = set[0]![0];
    return (p) => p === only;
  }
  const flat = Int32Array.from(set.flat());
  return (p) => {
    for (let i = 0; i < flat.length; i += 2) if (p >= flat[i]! && p <= flat[i + 1]!) return true;
    return false;
  };
}

/** The single port a group names, or null (for the prefilter's port grouping). */
export function singlePort(text: string, vars: Record<string, string>): number | null {
  const set = portRanges(text, vars);
  return set.length === 1 && set[0]![0] === set[0]![1] ? set[0]![0] : null;
}
