import type { Keyword } from '../keyword.js';
import { RuleError } from '../syntax.js';
import { check } from './header.js';

const BITS: Record<string, number> = { M: 0x2000, D: 0x4000, R: 0x8000 };

/** IPv4 fragmentation bits: M (more fragments), D (don't fragment), R (reserved); modifiers as for flags. */
export const fragbits: Keyword = {
  name: 'fragbits',
  summary: 'IPv4 fragment bits M, D, R: exact, +at least, *any of, !none of.',
  syntax: 'fragbits:[+*!]<MDR>',
  apply(b, value) {
    const m = /^\s*([+*!]?)([MDR]+)([+*!]?)\s*$/i.exec(value ?? '');
    if (m === null) throw new RuleError(`fragbits: "${value}" is not M, D or R with an optional + * !`);
    const mod = m[1] !== '' ? m[1]! : m[3]!;
    let set = 0;
    for (const ch of m[2]!.toUpperCase()) set |= BITS[ch]!;
    const test = mod === '+' ? (f: number) => (f & set) === set : mod === '*' ? (f: number) => (f & set) !== 0 : mod === '!' ? (f: number) => (f & set) === 0 : (f: number) => (f & 0xe000) === set;
    b.headerChecks.push(check(`fragbits:${mod}${set}`, 'fragbits', (p) => p.ipVersion === 4 && test(p.ipFlagsFrag)));
  },
};
