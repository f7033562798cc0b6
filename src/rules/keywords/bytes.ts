import type { RuleBuilder } from '../builder.js';
import type { InspectContext } from '../inspect.js';
import { RuleError } from '../syntax.js';

/**
 * What byte_test, byte_jump, byte_extract and byte_math share: reading a number out of the
 * buffer (binary, or text the way Suricata's strtoull does it), the bounds check they all make
 * before reading, bitmasks, unsigned 64-bit comparisons, and parsing their rule arguments.
 *
 * Values are unsigned 64-bit. A number is exact up to 2^53; a wider value travels as a bigint.
 * Variables live in InspectContext.vars (a Float64Array), so a stored value past 2^53 loses its
 * low bits: only possible for 7-8 byte extractions, which no rule in the shared rule sets does.
 */

/** An unsigned 64-bit value: a number when it is at most 2^53, else a bigint. */
export type U64 = number | bigint;

/** A rule argument that is a constant or a byte_extract / byte_math variable read at match time. */
export type Operand = U64 | { variable: number; name: string };

/** strtoull bases: 0 picks by prefix (0x hex, 0 octal, else decimal), as Suricata's "string" without a base does. */
export type Base = 0 | 8 | 10 | 16;

const U64_MAX = (1n << 64n) - 1n;
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A keyword with `dce`: the byte order comes from the DCE/RPC header, which needs the DCE/RPC analyzer. */
export class NeedsDceRpc extends RuleError {
  constructor(readonly keyword: string) {
    super(`${keyword}: dce takes the byte order from the DCE/RPC header; Outpost has no DCE/RPC analyzer yet`);
  }
}

function normalize(v: bigint): U64 {
  return v <= SAFE ? Number(v) : v;
}

/** A value as it goes into a variable slot (Float64Array). */
export function toSlot(v: U64): number {
  return typeof v === 'number' ? v : Number(v);
}

function digit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return 99;
}

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/**
 * C's strtoull over s[from, to): leading white space, an optional sign (minus wraps modulo 2^64),
 * a 0x prefix for base 16 (and base 0), then digits. Returns the value and how many bytes it
 * used, counted from `from` as Suricata's ByteExtractString does; null when there are no digits
 * or the value does not fit 64 bits (strtoull's ERANGE), which Suricata treats as no match.
 */
export function strtoull(s: Uint8Array, from: number, to: number, base: Base): { value: U64; used: number } | null {
  let i = from;
  while (i < to && isSpace(s[i]!)) i++;
  let negative = false;
  if (i < to && (s[i] === 0x2b || s[i] === 0x2d)) {
    negative = s[i] === 0x2d;
    i++;
  }
  let b: number = base;
  if ((b === 0 || b === 16) && i + 2 < to && s[i] === 0x30 && (s[i + 1]! | 0x20) === 0x78 && digit(s[i + 2]!) < 16) {
    i += 2;
    b = 16;
  } else if (b === 0) {
    b = i < to && s[i] === 0x30 ? 8 : 10;
  }
  const first = i;
  while (i < to && digit(s[i]!) < b) i++;
  const n = i - first;
  if (n === 0) return null;
  // Up to these many digits the value stays below 2^53, so plain numbers are exact.
  const exact = b === 10 ? n <= 15 : b === 16 ? n <= 13 : n <= 17;
  let value: U64;
  if (exact) {
    let v = 0;
    for (let k = first; k < i; k++) v = v * b + digit(s[k]!);
    value = v;
  } else {
    let v = 0n;
    const bb = BigInt(b);
    for (let k = first; k < i; k++) v = v * bb + BigInt(digit(s[k]!));
    if (v > U64_MAX) return null;
    value = normalize(v);
  }
  if (negative && value !== 0 && value !== 0n) value = normalize((1n << 64n) - BigInt(value));
  return { value, used: i - from };
}

/** Reads n (0-8) bytes at buf[at] as an unsigned integer. */
export function readUnsigned(buf: Uint8Array, at: number, n: number, little: boolean): U64 {
  if (n <= 6) {
    let v = 0;
    if (little) for (let k = n - 1; k >= 0; k--) v = v * 256 + buf[at + k]!;
    else for (let k = 0; k < n; k++) v = v * 256 + buf[at + k]!;
    return v;
  }
  let v = 0n;
  if (little) for (let k = n - 1; k >= 0; k--) v = (v << 8n) | BigInt(buf[at + k]!);
  else for (let k = 0; k < n; k++) v = (v << 8n) | BigInt(buf[at + k]!);
  return normalize(v);
}

/**
 * Where a byte keyword reads its field, or -1 for no match. The checks are Suricata's
 * (DetectBytetestDoMatch and its siblings): an empty buffer never matches; a relative read
 * needs data left after cursor+offset (byte_jump waives that when it reads 0 bytes); the field
 * may not start before the buffer nor run past its end.
 */
export function fieldStart(ctx: InspectContext, cursor: number, relative: boolean, offset: number, nbytes: number, emptyReadAtEnd = false): number {
  const len = ctx.length;
  if (len === 0) return -1;
  const pos = relative ? cursor + offset : offset;
  const left = len - pos;
  if (relative && left <= 0 && !(emptyReadAtEnd && nbytes === 0)) return -1;
  if (pos < 0 || nbytes > left) return -1;
  return pos;
}

/** How a field is encoded. */
export interface FieldFormat {
  /** Text digits instead of binary. */
  string: boolean;
  base: Base;
  little: boolean;
}

/**
 * Extracts the field at `pos` (relative to ctx.start). Binary: exactly nbytes (0 reads nothing
 * and gives 0; more than 8 never matches, as ByteExtractUint64 refuses it). Text: strtoull
 * over nbytes bytes, or to the end of the buffer when nbytes is 0 (Suricata hands strtoull the
 * unbounded buffer then). `used` is the bytes consumed: for text, only as far as the digits go.
 */
export function extractField(ctx: InspectContext, pos: number, nbytes: number, f: FieldFormat): { value: U64; used: number } | null {
  const at = ctx.start + pos;
  if (f.string) return strtoull(ctx.buf, at, nbytes === 0 ? ctx.end : at + nbytes, f.base);
  // 8 bytes is 64 bits, the widest value Suricata extracts.
  if (nbytes > 8) return null;
  return { value: readUnsigned(ctx.buf, at, nbytes, f.little), used: nbytes };
}

/** A bitmask and the right shift that follows it: one bit per trailing zero of the mask. */
export interface Bitmask {
  mask: number;
  shift: number;
}

export function bitmask(mask: number): Bitmask {
  let shift = 0;
  if (mask !== 0) while (((mask >>> shift) & 1) === 0) shift++;
  return { mask, shift };
}

/** val & mask, then shifted right by the mask's trailing zeros (Suricata: only when the result is non-zero, which is the same). */
export function applyBitmask(val: U64, m: Bitmask): number {
  const low = typeof val === 'bigint' ? Number(val & 0xffffffffn) : val % 4294967296;
  return ((low & m.mask) >>> 0) >>> m.shift;
}

export type CompareOp = '<' | '>' | '=' | '<=' | '>=' | '&' | '^';

/** Unsigned 64-bit comparison; `&` is "any bit in common", `^` is "differ" (Suricata's val ^ value != 0). */
export function compare(op: CompareOp, a: U64, b: U64): boolean {
  if (typeof a === 'number' && typeof b === 'number') {
    switch (op) {
      case '<': return a < b;
      case '>': return a > b;
      case '=': return a === b;
      case '<=': return a <= b;
      case '>=': return a >= b;
      case '^': return a !== b;
      case '&':
        if (a <= 0xffffffff && b <= 0xffffffff) return (a & b) !== 0;
        return (BigInt(a) & BigInt(b)) !== 0n;
    }
  }
  const x = BigInt(a);
  const y = BigInt(b);
  switch (op) {
    case '<': return x < y;
    case '>': return x > y;
    case '=': return x === y;
    case '<=': return x <= y;
    case '>=': return x >= y;
    case '^': return x !== y;
    case '&': return (x & y) !== 0n;
  }
}

/** A variable slot's value as a U64 (slots hold integers; anything else reads as 0). */
export function slotValue(x: number): U64 {
  if (!Number.isFinite(x) || x < 0) return 0;
  return x <= Number.MAX_SAFE_INTEGER ? x : BigInt(Math.trunc(x));
}

export function resolveOperand(op: Operand, ctx: InspectContext): U64 {
  if (typeof op === 'object') return slotValue(ctx.vars[op.variable] ?? 0);
  return op;
}

/** An operand as a plain number (offsets, byte counts): variables past 2^53 become large numbers, which fail bounds checks. */
export function resolveNumber(op: number | { variable: number; name: string }, ctx: InspectContext): number {
  return typeof op === 'number' ? op : (ctx.vars[op.variable] ?? 0);
}

/** True when the text names a variable: Suricata's test is "starts with a letter" (isalpha). */
export function isVariableName(text: string): boolean {
  return /^[A-Za-z_]/.test(text);
}

/** Looks up a byte_extract / byte_math variable defined earlier in the rule. */
export function variable(b: RuleBuilder, name: string, keyword: string, what: string): { variable: number; name: string } {
  const i = b.variables.indexOf(name);
  if (i < 0) throw new RuleError(`${keyword}: ${what} "${name}" is not a number nor a byte_extract/byte_math variable defined earlier in the rule`);
  return { variable: i, name };
}

function textBytes(t: string): Uint8Array {
  return Buffer.from(t, 'latin1');
}

/**
 * An unsigned rule number the way Suricata's strtoull-based parsers read it in `base` (0: 0x..
 * is hex, a leading 0 is octal), but the whole text must be the number (a user's typo is an error).
 */
export function parseUnsigned(text: string, keyword: string, what: string, base: Base): U64 {
  const t = text.trim();
  const r = t === '' ? null : strtoull(textBytes(t), 0, t.length, base);
  if (r === null || r.used !== t.length) throw new RuleError(`${keyword}: ${what} "${t}" is not a number${base === 16 ? ' (hex)' : ''} that fits 64 bits`);
  return r.value;
}

/** A signed rule integer in [min, max], read in `base` like parseUnsigned. */
export function parseSigned(text: string, keyword: string, what: string, base: Base, min: number, max: number): number {
  const t = text.trim();
  const negative = t.startsWith('-');
  const body = negative || t.startsWith('+') ? t.slice(1) : t;
  if (body === '' || body.startsWith('-') || body.startsWith('+') || isSpace(body.charCodeAt(0))) {
    throw new RuleError(`${keyword}: ${what} "${t}" is not a number`);
  }
  const v = parseUnsigned(body, keyword, what, base);
  const n = typeof v === 'bigint' ? Number.POSITIVE_INFINITY : negative ? -v : v;
  if (n < min || n > max) throw new RuleError(`${keyword}: ${what} ${t} is outside ${min} to ${max}`);
  return n;
}

/** A number or, when it starts with a letter, a variable defined earlier in the rule. */
export function parseCountOrVariable(b: RuleBuilder, text: string, keyword: string, what: string, parse: (t: string) => number): number | { variable: number; name: string } {
  const t = text.trim();
  return isVariableName(t) ? variable(b, t, keyword, what) : parse(t);
}

/** Splits a keyword's comma list, trimming each argument and refusing empty ones. */
export function splitOptionList(value: string | null, keyword: string, syntax: string): string[] {
  if (value === null || value.trim() === '') throw new RuleError(`${keyword}: needs arguments: ${syntax}`);
  const args = value.split(',').map((a) => a.trim());
  if (args.some((a) => a === '')) throw new RuleError(`${keyword}: empty argument in "${value}" (${syntax})`);
  return args;
}

/** "name value" options (multiplier 2, post_offset -4, bitmask 0x0f): the name and the rest. */
export function namedOption(arg: string): { name: string; rest: string } {
  const m = /^(\S+)(?:\s+(.*))?$/.exec(arg);
  return { name: (m?.[1] ?? '').toLowerCase(), rest: (m?.[2] ?? '').trim() };
}

/** Refuses an option given twice, which Suricata's newer parsers reject and which is always a slip. */
export function once(seen: Set<string>, name: string, keyword: string): void {
  if (seen.has(name)) throw new RuleError(`${keyword}: "${name}" is given twice`);
  seen.add(name);
}
