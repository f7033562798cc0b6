import { RuleError } from './syntax.js';

/**
 * Content strings: `"GET |20|/"`, with `|..|` hex sections and backslash escapes for `"`, `;`,
 * `\` and `:`. Returns the bytes and whether the content was negated (`!"..."`).
 */
export function parseContent(value: string, keyword = 'content'): { bytes: Uint8Array; negated: boolean } {
  let t = value.trim();
  let negated = false;
  if (t.startsWith('!')) {
    negated = true;
    t = t.slice(1).trim();
  }
  if (t.startsWith('"')) {
    if (!t.endsWith('"') || t.length < 2) throw new RuleError(`${keyword}: the string is not closed with a quote`);
    t = t.slice(1, -1);
  }
  const out: number[] = [];
  let hex = false;
  let nibbles = '';
  for (let i = 0; i < t.length; i++) {
    const ch = t[i]!;
    if (ch === '|') {
      if (hex && nibbles.length > 0) throw new RuleError(`${keyword}: odd number of hex digits before "|"`);
      hex = !hex;
      continue;
    }
    if (hex) {
      if (ch === ' ' || ch === '\t') {
        if (nibbles.length === 1) throw new RuleError(`${keyword}: a hex byte needs two digits`);
        continue;
      }
      if (!/[0-9a-fA-F]/.test(ch)) throw new RuleError(`${keyword}: "${ch}" is not a hex digit`);
      nibbles += ch;
      if (nibbles.length === 2) {
        out.push(Number.parseInt(nibbles, 16));
        nibbles = '';
      }
      continue;
    }
    if (ch === '\\' && i + 1 < t.length) {
      out.push(t.charCodeAt(++i) & 0xff);
      continue;
    }
    if (ch === '"') throw new RuleError(`${keyword}: an unescaped quote inside the string (write \\")`);
    const code = t.charCodeAt(i);
    if (code > 0xff) throw new RuleError(`${keyword}: "${ch}" is not a byte; write it as |hex| bytes`);
    out.push(code);
  }
  if (hex) throw new RuleError(`${keyword}: a hex section is not closed with "|"`);
  if (out.length === 0) throw new RuleError(`${keyword}: empty pattern`);
  return { bytes: Uint8Array.from(out), negated };
}

export function lowerAscii(b: Uint8Array): Uint8Array {
  return b.map((c) => (c >= 0x41 && c <= 0x5a ? c | 0x20 : c));
}

/**
 * First position p in [from, to - pat.length] where hay[base + p ...] equals pat, or -1.
 * Scans for the pattern's first byte with the native indexOf, then compares the rest.
 */
export function findPattern(hay: Uint8Array, base: number, from: number, to: number, pat: Uint8Array): number {
  const n = pat.length;
  const last = base + to - n;
  const first = pat[0]!;
  let p = base + (from < 0 ? 0 : from);
  while (p <= last) {
    p = hay.indexOf(first, p);
    if (p < 0 || p > last) return -1;
    let k = 1;
    while (k < n && hay[p + k] === pat[k]) k++;
    if (k === n) return p - base;
    p++;
  }
  return -1;
}

/** Printable text for messages and help: bytes outside 0x20-0x7e as |hex|. */
export function describePattern(b: Uint8Array): string {
  let s = '';
  let inHex = false;
  for (const c of b) {
    const printable = c >= 0x20 && c < 0x7f && c !== 0x7c && c !== 0x22;
    if (printable) {
      if (inHex) s += '|';
      inHex = false;
      s += String.fromCharCode(c);
    } else {
      s += inHex ? ` ${c.toString(16).padStart(2, '0')}` : `|${c.toString(16).padStart(2, '0')}`;
      inHex = true;
    }
  }
  return inHex ? `${s}|` : s;
}
