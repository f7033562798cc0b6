import type { Keyword } from '../keyword.js';
import { RuleError } from '../syntax.js';
import { check } from './header.js';

/** IPv4 option numbers (the low 5 bits of the type byte), as ipopts names them. */
const OPTIONS: Record<string, number> = { eol: 0, nop: 1, rr: 7, ts: 4, sec: 2, esec: 5, lsrr: 3, ssrr: 9, satid: 8, any: -1 };

export const ipopts: Keyword = {
  name: 'ipopts',
  summary: 'An IPv4 option is present: rr, eol, nop, ts, sec, esec, lsrr, ssrr, satid, or any (Snort 2\'s lsrre is lsrr).',
  syntax: 'ipopts:<rr|eol|nop|ts|sec|esec|lsrr|ssrr|satid|any>',
  apply(b, value) {
    let name = (value ?? '').trim().toLowerCase();
    // Snort 2's lsrre ("loose source routing, for MS99-038") looks for the same option as lsrr.
    if (name === 'lsrre') name = 'lsrr';
    const n = OPTIONS[name];
    if (n === undefined) throw new RuleError(`ipopts: "${value}" is not one of ${Object.keys(OPTIONS).join(', ')}`);
    b.headerChecks.push(check(`ipopts:${name}`, 'ipopts', (p) => p.ipVersion === 4 && (n < 0 ? p.ipOptions !== 0 : (p.ipOptions & (1 << n)) !== 0)));
  },
};
