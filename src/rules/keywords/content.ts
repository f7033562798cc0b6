import type { PositionalStep, RuleBuilder } from '../builder.js';
import { continueFrom, resolve, type InspectContext, type PayloadStep, type RuleNumber } from '../inspect.js';
import type { Keyword } from '../keyword.js';
import { findPattern, lowerAscii, parseContent } from '../pattern.js';
import { RuleError, splitArgs } from '../syntax.js';

/**
 * One content match. Window: absolute (offset, depth from offset) or relative to the previous
 * match's end (distance, within from there, as Suricata counts them); startswith pins it to the
 * start of the window, endswith to the end of the buffer. Negated content matches when the
 * pattern is absent from its window and leaves the cursor where it was.
 */
export class ContentStep implements PositionalStep {
  readonly keyword = 'content';
  retry = false;
  nocase = false;
  offset: RuleNumber | null = null;
  depth: RuleNumber | null = null;
  distance: RuleNumber | null = null;
  within: RuleNumber | null = null;
  startswith = false;
  endswith = false;
  rawbytes = false;
  /** fast_pattern given: 'yes', or 'only' (the prefilter hit is the whole match). */
  fastPattern: 'no' | 'yes' | 'only' = 'no';
  /** fast_pattern:offset,length: the part of the pattern the prefilter searches. */
  fastPatternChop: [number, number] | null = null;
  private lowered: Uint8Array | null = null;

  constructor(
    public buffer: string,
    readonly pattern: Uint8Array,
    readonly negated: boolean,
  ) {}

  get relative(): boolean {
    return this.distance !== null || this.within !== null;
  }

  /** The pattern as searched: lowercased for nocase. */
  get needle(): Uint8Array {
    if (!this.nocase) return this.pattern;
    return (this.lowered ??= lowerAscii(this.pattern));
  }

  match(ctx: InspectContext, cursor: number, steps: readonly PayloadStep[], index: number): boolean {
    const len = ctx.length;
    const pat = this.needle;
    let from: number;
    let to = len;
    if (this.relative) {
      const distance = this.distance === null ? 0 : resolve(this.distance, ctx);
      from = cursor + distance;
      if (this.within !== null) to = Math.min(len, cursor + distance + resolve(this.within, ctx));
      if (from < 0) from = 0;
    } else {
      from = this.offset === null ? 0 : resolve(this.offset, ctx);
      if (this.depth !== null) to = Math.min(len, from + resolve(this.depth, ctx));
    }
    if (this.startswith) to = Math.min(to, from + pat.length);
    if (this.endswith) from = Math.max(from, len - pat.length);
    const hay = this.nocase ? ctx.lower() : ctx.buf;
    const base = this.nocase ? 0 : ctx.start;
    let pos = from + pat.length <= to ? findPattern(hay, base, from, to, pat) : -1;
    if (this.endswith && pos >= 0 && pos + pat.length !== len) pos = -1;
    if (this.negated) return pos < 0 && continueFrom(ctx, cursor, steps, index + 1);
    while (pos >= 0) {
      if (continueFrom(ctx, pos + pat.length, steps, index + 1)) return true;
      if (!this.retry || this.startswith || this.endswith) return false;
      pos = pos + 1 + pat.length <= to ? findPattern(hay, base, pos + 1, to, pat) : -1;
    }
    return false;
  }
}

/** The modifiers that may follow a content, as Snort 3 writes them inside its argument list. */
const INLINE_MODIFIERS = new Set(['nocase', 'offset', 'depth', 'distance', 'within', 'fast_pattern', 'rawbytes', 'startswith', 'endswith', 'fast_pattern_offset', 'fast_pattern_length']);

export const content: Keyword = {
  name: 'content',
  summary: 'Match a byte pattern in the current buffer; modifiers (nocase, offset, depth, distance, within, ...) follow it.',
  syntax: 'content:[!]"text|hex bytes|text"  (Snort 3: content:"x",depth 4,nocase)',
  apply(b, value) {
    if (value === null) throw new RuleError('content needs a pattern');
    const args = splitArgs(value);
    const { bytes, negated } = parseContent(args[0]!);
    const step = new ContentStep(b.buffer, bytes, negated);
    b.addStep(step, true);
    b.lastContent = step;
    for (const arg of args.slice(1)) {
      // Snort 3: content:"x",depth 4,nocase. Each argument is a modifier with its value after a space.
      b.snort3 = true;
      const m = /^([a-z_]+)(?:\s+(.+))?$/.exec(arg);
      if (m === null || !INLINE_MODIFIERS.has(m[1]!)) throw new RuleError(`content: "${arg}" is not a content modifier`);
      if (m[1] === 'fast_pattern_offset' || m[1] === 'fast_pattern_length') {
        // Snort 3 spells the chop as two arguments; they refine a fast_pattern already given.
        const n = Number(m[2]);
        if (!Number.isInteger(n) || n < 0) throw new RuleError(`content: ${m[1]} needs a whole number`);
        const chop = step.fastPatternChop ?? [0, bytes.length];
        step.fastPatternChop = m[1] === 'fast_pattern_offset' ? [n, Math.min(chop[1], bytes.length - n)] : [chop[0], n];
        if (step.fastPatternChop[0] + step.fastPatternChop[1] > bytes.length || step.fastPatternChop[1] < 1) throw new RuleError(`content: the fast pattern chop is outside the ${bytes.length}-byte pattern`);
        continue;
      }
      const modifier = CONTENT_MODIFIERS[m[1]!]!;
      modifier.apply(b, m[2] === undefined ? null : m[2].replace(/\s+/g, ','));
    }
  },
};

function contentStep(b: RuleBuilder, keyword: string): ContentStep {
  const c = b.requireContent(keyword);
  if (!(c instanceof ContentStep)) throw new RuleError(`${keyword} applies to a content`);
  return c;
}

function flag(name: string, summary: string, set: (c: ContentStep, b: RuleBuilder) => void): Keyword {
  return {
    name,
    summary,
    syntax: `${name}`,
    apply(b, value) {
      if (value !== null && value !== '') throw new RuleError(`${name} takes no value`);
      set(contentStep(b, name), b);
    },
  };
}

function positioned(name: string, summary: string, relative: boolean, set: (c: ContentStep, n: RuleNumber) => void, min: number): Keyword {
  return {
    name,
    summary,
    syntax: `${name}:<number or byte_extract variable>`,
    apply(b, value) {
      if (value === null) throw new RuleError(`${name} needs a number`);
      const c = contentStep(b, name);
      if (relative && (c.offset !== null || c.depth !== null)) throw new RuleError(`${name} cannot be combined with offset or depth on the same content`);
      if (!relative && (c.distance !== null || c.within !== null)) throw new RuleError(`${name} cannot be combined with distance or within on the same content`);
      const wasRelative = c.relative;
      set(c, b.number(value, name, { min }));
      // Becoming relative makes the previous positional step retryable.
      if (relative && !wasRelative) b.markRelative(c);
    },
  };
}

export const CONTENT_MODIFIERS: Record<string, Keyword> = {
  nocase: flag('nocase', 'The last content matches regardless of ASCII case.', (c) => {
    c.nocase = true;
  }),
  rawbytes: flag('rawbytes', 'Snort 2: match the raw packet, not decoded data. Outpost inspects raw bytes already; accepted as a no-op.', (c) => {
    c.rawbytes = true;
  }),
  startswith: flag('startswith', 'The last content must be at the start of the buffer.', (c) => {
    if (c.offset !== null || c.depth !== null || c.relative) throw new RuleError('startswith cannot be combined with offset, depth, distance or within');
    c.startswith = true;
  }),
  endswith: flag('endswith', 'The last content must end at the end of the buffer.', (c) => {
    c.endswith = true;
  }),
  offset: positioned('offset', 'Start looking for the last content this many bytes into the buffer.', false, (c, n) => (c.offset = n), 0),
  depth: positioned('depth', 'Look for the last content only this many bytes from where the search starts (offset).', false, (c, n) => (c.depth = n), 1),
  distance: positioned('distance', 'Start looking for the last content this many bytes after the previous match (may be negative).', true, (c, n) => (c.distance = n), -65535),
  within: positioned('within', 'The last content must end within this many bytes after the previous match (plus distance).', true, (c, n) => (c.within = n), 1),
  fast_pattern: {
    name: 'fast_pattern',
    summary: 'Use the last content for the multi-pattern prefilter; "only" when the prefilter hit is the whole match; offset,length to use part of it.',
    syntax: 'fast_pattern | fast_pattern:only | fast_pattern:<offset>,<length>',
    apply(b, value) {
      const c = contentStep(b, 'fast_pattern');
      if (c.negated && value !== null) throw new RuleError('fast_pattern:only and chop cannot be used on a negated content');
      if (value === null || value === '') c.fastPattern = 'yes';
      else if (value.trim() === 'only') c.fastPattern = 'only';
      else {
        const m = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(value);
        if (m === null) throw new RuleError(`fast_pattern: "${value}" is not "only" or "offset,length"`);
        const off = Number(m[1]);
        const len = Number(m[2]);
        if (len < 1 || off + len > c.pattern.length) throw new RuleError(`fast_pattern:${off},${len} is outside the ${c.pattern.length}-byte pattern`);
        c.fastPattern = 'yes';
        c.fastPatternChop = [off, len];
      }
      b.fastPatternStep = c;
    },
  },
};
