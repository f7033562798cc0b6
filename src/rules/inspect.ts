/**
 * Payload inspection: running a rule's steps (content, pcre, byte_test, ...) over one buffer,
 * with Suricata's semantics. Steps run in order; each may move the cursor (the end of its match),
 * which relative steps (distance, within, relative) start from. When a later step fails, an
 * earlier content is retried at its next occurrence, but only when something after it depends
 * on where it matched: the recursion Suricata's content inspection does, bounded per call.
 */

/** A number in a rule option, or a byte_extract/byte_math variable read when the step runs. */
export type RuleNumber = number | { variable: number; name: string };

export function resolve(n: RuleNumber, ctx: InspectContext): number {
  return typeof n === 'number' ? n : (ctx.vars[n.variable] ?? 0);
}

/** The buffer being inspected and what the steps leave for each other. */
export class InspectContext {
  buf: Uint8Array = new Uint8Array(0);
  /** The inspected bytes are buf[start, end); positions are relative to start. */
  start = 0;
  end = 0;
  /** byte_extract / byte_math values, by variable index. */
  readonly vars = new Float64Array(16);
  /** Steps run so far in this inspection: the backtracking budget. */
  work = 0;
  private lowered: Uint8Array | null = null;
  private text: string | null = null;

  /** Points the context at a buffer and forgets what was derived from the last one. */
  set(buf: Uint8Array, start: number, end: number): void {
    this.buf = buf;
    this.start = start;
    this.end = end;
    this.lowered = null;
    this.text = null;
    this.work = 0;
  }

  get length(): number {
    return this.end - this.start;
  }

  /** The buffer lowercased (ASCII only), made once per buffer when a nocase step first needs it. */
  lower(): Uint8Array {
    if (this.lowered === null) {
      const n = this.end - this.start;
      const out = new Uint8Array(n);
      const b = this.buf;
      const s = this.start;
      for (let i = 0; i < n; i++) {
        const c = b[s + i]!;
        out[i] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
      }
      this.lowered = out;
    }
    return this.lowered;
  }

  /** The buffer's bytes as a string of char codes 0-255, for regular expressions. */
  latin1(): string {
    if (this.text === null) this.text = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.start, this.end - this.start).toString('latin1');
    return this.text;
  }

  /** A view of the inspected bytes (position 0 = start). */
  view(): Uint8Array {
    return this.buf.subarray(this.start, this.end);
  }
}

/**
 * A compiled payload keyword. `match` tries the step at `cursor` and, for every way it
 * matches, continues with the following steps (through `continueFrom`), returning true as soon
 * as the rest of the rule matches.
 */
export interface PayloadStep {
  /** The option name, for messages and `rules keywords`. */
  readonly keyword: string;
  /** Its position depends on the previous step's (distance, within, relative). */
  readonly relative: boolean;
  match(ctx: InspectContext, cursor: number, steps: readonly PayloadStep[], index: number): boolean;
}

/**
 * A cap on step evaluations per inspection. Backtracking over many occurrences of several
 * relative contents multiplies; 65,536 steps is far past any real rule on a 64 KiB buffer and
 * stops a crafted payload from making one rule cost seconds. Hitting it counts as no match.
 */
export const MAX_STEPS_PER_INSPECTION = 65536;

/** Runs steps[index...] from `cursor`; true when all of them match. */
export function continueFrom(ctx: InspectContext, cursor: number, steps: readonly PayloadStep[], index: number): boolean {
  if (index >= steps.length) return true;
  if (++ctx.work > MAX_STEPS_PER_INSPECTION) return false;
  return steps[index]!.match(ctx, cursor, steps, index);
}

/** True when some step after `index` depends on where the steps up to `index` matched. */
export function laterStepIsRelative(steps: readonly PayloadStep[], index: number): boolean {
  for (let i = index + 1; i < steps.length; i++) if (steps[i]!.relative) return true;
  return false;
}
