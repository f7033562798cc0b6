import type { Keyword } from '../keyword.js';
import { RuleError } from '../syntax.js';

/**
 * Flowbits: named flags on a flow that rules set and test. set, unset and toggle act after
 * the whole rule matched; isset and isnotset are conditions, checked before the rule's own sets
 * (so `isset,x; set,x` does not satisfy itself). Names may be grouped with | (any of) or & (all of).
 * flowbits:noalert makes the rule silent.
 */
export const flowbits: Keyword = {
  name: 'flowbits',
  summary: 'Set, unset, toggle or test named flags on the flow; noalert makes the rule silent.',
  syntax: 'flowbits:set|unset|toggle|isset|isnotset,<name>[|<name>...|&<name>...] | flowbits:noalert',
  apply(b, value) {
    if (value === null) throw new RuleError('flowbits needs an operation');
    const comma = value.indexOf(',');
    const op = (comma < 0 ? value : value.slice(0, comma)).trim().toLowerCase();
    const arg = comma < 0 ? '' : value.slice(comma + 1).trim();
    if (op === 'noalert') {
      if (arg !== '') throw new RuleError('flowbits:noalert takes no name');
      b.noalert = true;
      return;
    }
    if (arg === '') throw new RuleError(`flowbits:${op} needs a name`);
    if (arg.includes('|') && arg.includes('&')) throw new RuleError('flowbits: a group uses either | or &, not both');
    const names = arg.split(/[|&]/).map((n) => n.trim());
    // Suricata takes any name without whitespace or the group and list separators ("traffic/id/mozilla" included).
    for (const n of names) if (!/^[^\s|&,;"]+$/.test(n)) throw new RuleError(`flowbits: "${n}" is not a valid name`);
    switch (op) {
      case 'set':
      case 'unset':
      case 'toggle':
        if (arg.includes('|') && op !== 'set' && op !== 'unset' && op !== 'toggle') throw new RuleError(`flowbits:${op} cannot use a | group`);
        b.flowbitActions.push({ op, names });
        break;
      case 'isset':
      case 'isnotset':
        b.flowbitChecks.push({ op, names, any: !arg.includes('&') });
        break;
      default:
        throw new RuleError(`flowbits: "${op}" is not set, unset, toggle, isset, isnotset or noalert`);
    }
  },
};
