import type { Keyword } from '../keyword.js';
import { RuleError } from '../syntax.js';
import { check } from './header.js';

export const sameip: Keyword = {
  name: 'sameip',
  summary: 'Source and destination addresses are the same.',
  syntax: 'sameip',
  apply(b, value) {
    if (value !== null) throw new RuleError('sameip takes no value');
    b.headerChecks.push(check('sameip', 'sameip', (p) => {
      const a = p.addr;
      return p.ipVersion !== 0 && a[0] === a[4] && a[1] === a[5] && a[2] === a[6] && a[3] === a[7];
    }));
  },
};
