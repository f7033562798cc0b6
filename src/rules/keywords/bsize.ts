import { RuleError } from '../syntax.js';
import { continueFrom, type InspectContext, type PayloadStep } from '../inspect.js';
import type { Keyword } from '../keyword.js';
import { parseUint, type UintTest } from './uint.js';

/** Suricata compares bsize as a uint64; 2^53 - 1 is the largest length a number holds exactly, far past any buffer. */
const MAX_SIZE = Number.MAX_SAFE_INTEGER;

/**
 * The length of the current buffer: the sticky buffer's, or the inspected payload's (packet
 * payload or stream chunk) when no sticky buffer is set. Not positional: it neither reads nor
 * moves the cursor.
 */
export class BsizeStep implements PayloadStep {
  readonly keyword = 'bsize';
  readonly relative = false;

  constructor(readonly size: UintTest) {}

  match(ctx: InspectContext, cursor: number, steps: readonly PayloadStep[], index: number): boolean {
    return this.size.test(ctx.length) && continueFrom(ctx, cursor, steps, index + 1);
  }
}

export const bsize: Keyword = {
  name: 'bsize',
  summary: 'The length of the current buffer: N, !N, <N, <=N, >N, >=N, or A<>B (exclusive range).',
  syntax: 'bsize:[!|<|>|<=|>=]N or A<>B',
  apply(b, value) {
    // As Suricata: the size of a sticky buffer; on the raw payload dsize is the keyword.
    if (b.buffer === 'payload') throw new RuleError('bsize needs a sticky buffer before it (for the packet payload, use dsize)');
    b.addStep(new BsizeStep(parseUint('bsize', value, MAX_SIZE)), false);
  },
};
