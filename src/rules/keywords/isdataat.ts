import { continueFrom, type InspectContext, type PayloadStep } from '../inspect.js';
import type { Keyword } from '../keyword.js';
import { RuleError } from '../syntax.js';
import { ContentStep } from './content.js';
import { isVariableName, variable } from './bytes.js';

/** Suricata stores the position as a uint16 (StringParseUint16): 0..65535. */
const MAX_POSITION = 65535;
/**
 * A variable this large is treated as "no data there" without comparing, as Suricata does
 * (detect-engine-content-inspection.c: byte_values >= 100000000).
 */
const HUGE_VARIABLE = 100000000;

const SYNTAX = 'isdataat:[!]<n|var>[,relative][,rawbytes]';

/**
 * Is there data at a position? Absolute: byte n exists (n < length). Relative: n more bytes
 * exist after the cursor (cursor + n <= length): one byte more lenient, exactly as Suricata's
 * documentation tables show. `!` inverts. Does not move the cursor.
 */
export class IsdataatStep implements PayloadStep {
  readonly keyword = 'isdataat';

  constructor(
    readonly position: number | { variable: number; name: string },
    readonly relative: boolean,
    readonly negated: boolean,
  ) {}

  test(ctx: InspectContext, cursor: number): boolean {
    let n: number;
    if (typeof this.position === 'number') n = this.position;
    else {
      n = ctx.vars[this.position.variable] ?? 0;
      if (!(n < HUGE_VARIABLE)) return this.negated;
    }
    const len = ctx.length;
    const there = this.relative ? cursor + n <= len : n < len;
    return there !== this.negated;
  }

  match(ctx: InspectContext, cursor: number, steps: readonly PayloadStep[], index: number): boolean {
    return this.test(ctx, cursor) && continueFrom(ctx, cursor, steps, index + 1);
  }
}

export const isdataat: Keyword = {
  name: 'isdataat',
  summary: 'Require (or with ! forbid) data at a position: absolute byte n exists, or n bytes remain after the last match (relative).',
  syntax: SYNTAX,
  apply(b, value) {
    if (value === null || value.trim() === '') throw new RuleError(`isdataat: needs a position: ${SYNTAX}`);
    const args = value.split(',').map((a) => a.trim());
    let first = args[0]!;
    const negated = first.startsWith('!');
    if (negated) first = first.slice(1).trim();
    let relative = false;
    const seen = new Set<string>();
    for (const arg of args.slice(1)) {
      const name = arg.toLowerCase();
      if (seen.has(name)) throw new RuleError(`isdataat: "${arg}" is given twice`);
      seen.add(name);
      // rawbytes: Suricata accepts it and ignores it; Outpost inspects raw bytes anyway.
      if (name === 'relative') relative = true;
      else if (name !== 'rawbytes') throw new RuleError(`isdataat: unknown option "${arg}" (relative, rawbytes)`);
    }
    let position: number | { variable: number; name: string };
    if (isVariableName(first)) position = variable(b, first, 'isdataat', 'position');
    else {
      if (!/^\d+$/.test(first)) throw new RuleError(`isdataat: "${first}" is not a number nor a variable (${SYNTAX})`);
      position = Number(first);
      if (position > MAX_POSITION) throw new RuleError(`isdataat: ${position} is above ${MAX_POSITION}, the largest position Suricata takes`);
    }
    // isdataat:!1,relative right after a content is Suricata's "endswith" on that content
    // (detect-isdataat.c); the same result as evaluating it, but the content then searches only at the end.
    const steps = b.inspections.get(b.buffer);
    const last = steps?.[steps.length - 1];
    if (negated && relative && position === 1 && last instanceof ContentStep && last === b.lastContent) {
      last.endswith = true;
      return;
    }
    b.addStep(new IsdataatStep(position, relative, negated), false);
  },
};
