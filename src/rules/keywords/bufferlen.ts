import type { Keyword } from '../keyword.js';
import { RuleError } from '../syntax.js';
import { BsizeStep } from './bsize.js';
import { parseUint } from './uint.js';

/**
 * Snort 3's bufferlen: the length of the current buffer (the sticky buffer's, or the payload's).
 * Its ranges are `A<>B` (exclusive) and `A<=>B` (inclusive); ",relative" (the length left after
 * the cursor) is not supported.
 */
export const bufferlen: Keyword = {
  name: 'bufferlen',
  summary: 'Snort 3: the length of the current buffer: N, !N, <N, <=N, >N, >=N, A<>B (exclusive) or A<=>B (inclusive).',
  syntax: 'bufferlen:[!|<|>|<=|>=]N or A<>B or A<=>B',
  apply(b, value) {
    if (value === null) throw new RuleError('bufferlen needs a length');
    if (/,\s*relative\s*$/.test(value)) throw new RuleError('bufferlen: ",relative" is not supported');
    const inclusive = /^\s*(\d+)\s*<=>\s*(\d+)\s*$/.exec(value);
    const test = inclusive === null ? parseUint('bufferlen', value, 65535) : parseUint('bufferlen', `${Number(inclusive[1]) - 1}<>${Number(inclusive[2]) + 1}`, 65536);
    b.addStep(new BsizeStep(test), false);
  },
};
