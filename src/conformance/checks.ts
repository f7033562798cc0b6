import { pyStr } from './version.js';
import { isMap } from './suricata-config.js';

/**
 * suricata-verify's checks, evaluated as run.py evaluates them: `filter` (count the eve.json
 * records whose every `match` key holds), `stats` (values in the last stats record) and the
 * one `shell` check the suite uses that can be answered without a shell. Where run.py's Python
 * would raise (a key looked up in None, `__find` on a number), the test fails here too.
 */

/** The check cannot be evaluated: run.py raises ("Internal runtime error") and the test fails. */
export class CheckCrash extends Error {}

/** Python's None, the value of a missing key. */
export const NONE = null;

/**
 * run.py's find_value: a dotted path with `name[i]` indexes; `__len` gives the length (-1 for a
 * value without one); `__contains`, `__find`, `__startswith` and `__endswith` stop the walk and
 * give the value reached (the caller applies them). Missing keys give None (null).
 */
export function findValue(name: string, obj: unknown): unknown {
  let cur = obj;
  for (const part of name.split('.')) {
    if (part === '__len') return pyLen(cur);
    if (part === '__contains' || part === '__find' || part === '__startswith' || part === '__endswith') break;
    const m = /^(.*)\[(\d+)\]$/s.exec(part);
    const key = m !== null ? m[1]! : part;
    if (!pyIn(key, cur)) return NONE;
    cur = (cur as Record<string, unknown>)[key];
    if (m !== null) {
      const i = Number(m[2]);
      if (Array.isArray(cur)) cur = i < cur.length ? cur[i] : NONE;
      else if (typeof cur === 'string') cur = i < [...cur].length ? [...cur][i]! : NONE;
      else return NONE;
    }
  }
  return cur === undefined ? NONE : cur;
}

/** Python's `key in obj` followed by obj[key]: only a dict gets past both; anything else raises or misses. */
function pyIn(key: string, obj: unknown): boolean {
  if (isMap(obj)) return Object.prototype.hasOwnProperty.call(obj, key);
  if (obj === null || obj === undefined) throw new CheckCrash(`argument of type 'NoneType' is not iterable (looking up "${key}")`);
  if (Array.isArray(obj)) {
    if (obj.some((v) => pyEquals(v, key))) throw new CheckCrash(`list indices must be integers or slices, not str ("${key}")`);
    return false;
  }
  if (typeof obj === 'string') {
    if (obj.includes(key)) throw new CheckCrash(`string indices must be integers ("${key}")`);
    return false;
  }
  throw new CheckCrash(`argument of type '${pyType(obj)}' is not iterable (looking up "${key}")`);
}

function pyLen(v: unknown): number {
  if (typeof v === 'string') return [...v].length;
  if (Array.isArray(v)) return v.length;
  if (isMap(v)) return Object.keys(v).length;
  return -1;
}

function pyType(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'str';
  if (Array.isArray(v)) return 'list';
  return 'dict';
}

/** Python's ==: True == 1 and 1 == 1.0; lists and dicts compare deeply; a string never equals a number. */
export function pyEquals(a: unknown, b: unknown): boolean {
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (a === null || b === null) return a === b;
  const num = (v: unknown): number | null => (typeof v === 'number' ? v : typeof v === 'boolean' ? (v ? 1 : 0) : null);
  const na = num(a);
  const nb = num(b);
  if (na !== null || nb !== null) return na !== null && nb !== null && na === nb;
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => pyEquals(v, b[i]));
  }
  if (isMap(a) && isMap(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && pyEquals(a[k], b[k]));
  }
  return false;
}

/** FilterCheck.match: every key of `match` holds for the record. */
export function filterMatches(match: Record<string, unknown>, event: unknown): boolean {
  for (const [key, expected] of Object.entries(match)) {
    if (key === 'has-key' || key === 'not-has-key') {
      // A list means every key named (run.py's older find_value took one key only).
      const keys = Array.isArray(expected) ? expected.map(String) : [pyStr(expected)];
      const present = keys.map((k) => findValue(k, event) !== NONE);
      if (key === 'has-key' ? present.some((p) => !p) : present.some((p) => p)) return false;
      continue;
    }
    const val = findValue(key, event);
    if (key.endsWith('__find') || key.endsWith('__startswith') || key.endsWith('__endswith')) {
      const op = key.slice(key.lastIndexOf('__') + 2);
      if (typeof val !== 'string') throw new CheckCrash(`'${pyType(val)}' object has no attribute '${op === 'find' ? 'find' : op}' (key ${key})`);
      if (typeof expected !== 'string') throw new CheckCrash(`${op} needs a string to look for (key ${key}), got ${pyType(expected)}`);
      if (op === 'find' ? !val.includes(expected) : op === 'startswith' ? !val.startsWith(expected) : !val.endsWith(expected)) return false;
      continue;
    }
    if (key.endsWith('__contains')) {
      if (typeof val === 'string') {
        if (typeof expected !== 'string') throw new CheckCrash(`'in <string>' requires string as left operand, not ${pyType(expected)} (key ${key})`);
        if (!val.includes(expected)) return false;
      } else if (Array.isArray(val)) {
        if (!val.some((v) => pyEquals(v, expected))) return false;
      } else if (isMap(val)) {
        if (!Object.prototype.hasOwnProperty.call(val, pyStr(expected))) return false;
      } else throw new CheckCrash(`argument of type '${pyType(val)}' is not iterable (key ${key})`);
      continue;
    }
    if (!pyEquals(val, expected)) return false;
  }
  return true;
}

/** `cat fast.log | wc -l | xargs`: the one shell check of the suite that needs no shell. */
const FAST_LOG_LINES = /^\s*cat\s+fast\.log\s*\|\s*wc\s+-l\s*(?:\|\s*xargs\s*)?$/;

/** Answers a shell check by recognising it, never by running it: null when not recognised. */
export function answerShell(command: string, outputs: { fastLog: string[] | null }): string | null {
  if (FAST_LOG_LINES.test(command)) return String(outputs.fastLog?.length ?? 0);
  return null;
}

/** Longest string shown whole in a message; longer ones (base64 packets) are cut. */
const SHOWN_CHARS = 48;

/** A value for messages: JSON, long strings cut to their start and length. */
export function show(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'string' && x.length > SHOWN_CHARS ? `${x.slice(0, SHOWN_CHARS - 8)}...(${x.length} chars)` : x));
}

/** Whether one key of a filter holds for a record (a key that cannot be evaluated does not). */
function holds(key: string, expected: unknown, e: Record<string, unknown>): boolean {
  try {
    return filterMatches({ [key]: expected }, e);
  } catch {
    return false;
  }
}

/**
 * Why the records closest to a filter missed it. Among the records of the filter's event_type,
 * the nearest holds the longest run of the filter's keys in order (then the most keys); the
 * message names the first key it misses, with both values, or says that no record holds that
 * key at all. Null when some record matches.
 */
export function nearestMiss(match: Record<string, unknown>, events: ReadonlyArray<Record<string, unknown>>): string | null {
  const type = match.event_type;
  const kind = typeof type === 'string' ? `${type} record` : 'record';
  const pool = typeof type === 'string' ? events.filter((e) => e.event_type === type) : events;
  if (pool.length === 0) return `no ${kind}s`;
  const keys = Object.entries(match);
  let best: { run: number; held: number; e: Record<string, unknown>; miss: [string, unknown] } | null = null;
  for (const e of pool) {
    let run = 0;
    let held = 0;
    let miss: [string, unknown] | null = null;
    for (const [k, v] of keys) {
      if (holds(k, v, e)) {
        held++;
        if (miss === null) run++;
      } else if (miss === null) miss = [k, v];
    }
    if (miss === null) return null;
    if (best === null || run > best.run || (run === best.run && held > best.held)) best = { run, held, e, miss };
  }
  const [k, v] = best!.miss;
  if (k === 'has-key' || k === 'not-has-key') return `nearest ${kind} fails ${k} ${show(v)}`;
  let actual: unknown;
  try {
    actual = findValue(k, best!.e);
  } catch {
    actual = '(cannot be read)';
  }
  const nearest = `nearest ${kind} has ${k} ${actual === NONE ? '(absent)' : show(actual)}`;
  return pool.some((e) => holds(k, v, e)) ? nearest : `no ${kind} has that ${k}; ${nearest}`;
}
