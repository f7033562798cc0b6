import { Layer } from '../../decode/packet.js';
import type { Keyword } from '../keyword.js';
import { RuleError } from '../syntax.js';
import { check } from './header.js';

/** Flag letters: Snort's 1 and 2 are the old names of CWR and ECE. */
const BITS: Record<string, number> = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, A: 0x10, U: 0x20, E: 0x40, C: 0x80, '2': 0x40, '1': 0x80 };

function bits(letters: string, whole: string): number {
  let v = 0;
  for (const ch of letters.toUpperCase()) {
    if (ch === '0') continue;
    const bit = BITS[ch];
    if (bit === undefined) throw new RuleError(`flags: "${ch}" in "${whole}" is not a TCP flag (F S R P A U C E, 0 for none)`);
    v |= bit;
  }
  return v;
}

/**
 * TCP flags: exactly these (`SA`), these and any others (`+SA` or `SA+`), any of these (`*SA`),
 * none of these (`!SA`); an optional mask after a comma lists flags to ignore (`S,CE`).
 */
export const flags: Keyword = {
  name: 'flags',
  summary: 'TCP flags: exact (SA), at least (+SA), any of (*SA), none of (!SA); ",mask" names flags to ignore.',
  syntax: 'flags:[+*!]<FSRPAUCE0>[,<ignored flags>]',
  apply(b, value) {
    if (value === null) throw new RuleError('flags needs flag letters');
    const [spec, maskText] = value.split(',').map((s) => s.trim());
    let m = /^([+*!]?)([FSRPAUCE120]+)([+*!]?)$/i.exec(spec ?? '');
    if (m === null) throw new RuleError(`flags: "${value}" is not a flag specification`);
    const mod = m[1] !== '' ? m[1]! : m[3]!;
    const set = bits(m[2]!, value);
    const ignore = maskText !== undefined && maskText !== '' ? bits(maskText, value) : 0;
    m = null;
    let test: (f: number) => boolean;
    if (mod === '+') test = (f) => (f & set) === set;
    else if (mod === '*') test = (f) => (f & set) !== 0;
    else if (mod === '!') test = (f) => (f & set) === 0;
    else test = (f) => (f & ~ignore & 0xff) === set;
    b.headerChecks.push(check(`flags:${mod}${set},${ignore}`, 'flags', (p) => p.proto === 6 && p.layer === Layer.TRANSPORT && test(p.tcpFlags)));
  },
};
