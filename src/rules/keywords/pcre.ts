import type { PositionalStep } from '../builder.js';
import { continueFrom, MAX_STEPS_PER_INSPECTION, type InspectContext, type PayloadStep } from '../inspect.js';
import type { Keyword } from '../keyword.js';
import { BUFFERS, type BufferSpec } from '../buffers.js';
import { FOUND, NOT_FOUND, PcreRegex, UnsupportedKeywordError, type PcreFlags } from '../regex.js';
import { RuleError } from '../syntax.js';

/** The buffer letters (Snort 2 and Suricata: U for the normalized URI, H for the headers, ...). */
const BUFFER_LETTERS: ReadonlyMap<string, BufferSpec> = new Map(BUFFERS.filter((b) => b.pcre !== undefined).map((b) => [b.pcre!, b]));

/** A pcre option's value, taken apart. */
export interface PcreOption {
  negated: boolean;
  /** The regular expression between the slashes, as written. */
  pattern: string;
  /** The modifiers after the last slash, as written. */
  modifiers: string;
  flags: PcreFlags;
  /** R: searched from the previous match's end. */
  relative: boolean;
  /** The buffer a letter picks (U, H, P, ...), or null for the current one. */
  buffer: BufferSpec | null;
}

/**
 * Splits `[!]"/regex/modifiers"` as Suricata does: the regex runs from the first slash to the
 * last one, modifiers follow (Snort's `m?regex?` too). A buffer letter (U, H, P, ...) picks the
 * buffer the regex searches.
 */
export function parsePcreOption(value: string): PcreOption {
  let t = value.trim();
  let negated = false;
  if (t.startsWith('!')) {
    negated = true;
    t = t.slice(1).trim();
  }
  if (t.startsWith('"')) {
    if (t.length < 2 || !t.endsWith('"')) throw new RuleError('pcre: the pattern is not closed with a quote');
    t = t.slice(1, -1);
  }
  // Snort also takes Perl's m<delimiter>regex<delimiter>, as m?regex?i.
  const perl = /^m[^\sA-Za-z0-9]/.test(t);
  const delimiter = perl ? t[1]! : '/';
  const open = perl ? 2 : 1;
  const close = t.lastIndexOf(delimiter);
  if ((!perl && !t.startsWith('/')) || close < open) throw new RuleError('pcre: write the pattern as "/regex/modifiers"');
  const pattern = t.slice(open, close);
  const modifiers = t.slice(close + 1).trim();
  // Suricata's capture into variables: "/(...)/i, flow:name, pkt:name".
  const capture = /^([A-Za-z]*)\s*,\s*((?:flow|pkt|alert):.*)$/.exec(modifiers);
  if (capture !== null) {
    throw new UnsupportedKeywordError('pcre (capture to variables)', `pcre: capturing into ${capture[2]!.trim()} needs flow and packet variables, which Outpost does not keep`);
  }
  const flags: PcreFlags = {};
  let relative = false;
  let buffer: BufferSpec | null = null;
  for (const m of modifiers) {
    switch (m) {
      case 'i': flags.caseless = true; break;
      case 's': flags.dotall = true; break;
      case 'm': flags.multiline = true; break;
      case 'x': flags.extended = true; break;
      case 'A': flags.anchored = true; break;
      case 'E': flags.dollarEndOnly = true; break;
      case 'G': flags.ungreedy = true; break;
      case 'R': relative = true; break;
      // B (raw bytes): Outpost inspects raw bytes already. O (override the match limits): the
      // limits here are the cost bounds in regex.ts, which no rule may lift.
      case 'B':
      case 'O': break;
      default: {
        if (m === 'K') throw new UnsupportedKeywordError('pcre/K', 'pcre: K inspects Snort\'s raw cookie buffer, which Outpost does not keep (C inspects the cookie)');
        const picked = BUFFER_LETTERS.get(m);
        if (picked === undefined) throw new RuleError(`pcre: "${m}" is not a pcre modifier (i s m x A E G R B O, or a buffer letter: ${[...BUFFER_LETTERS.keys()].join(' ')})`);
        if (buffer !== null && buffer !== picked) throw new RuleError(`pcre: "${m}" picks ${picked.name}, but "${buffer.pcre!}" already picked ${buffer.name}`);
        buffer = picked;
      }
    }
  }
  return { negated, pattern, modifiers, flags, relative, buffer };
}

/** Equal patterns across rules compile once (the RegExp is stateless between searches). */
const compiled = new Map<string, PcreRegex>();

function compile(o: PcreOption): PcreRegex {
  const f = o.flags;
  const key = `${f.caseless === true ? 'i' : ''}${f.dotall === true ? 's' : ''}${f.multiline === true ? 'm' : ''}${f.extended === true ? 'x' : ''}${f.anchored === true ? 'A' : ''}${f.dollarEndOnly === true ? 'E' : ''}${f.ungreedy === true ? 'G' : ''}/${o.pattern}`;
  let re = compiled.get(key);
  if (re === undefined) {
    re = new PcreRegex(o.pattern, f);
    compiled.set(key, re);
  }
  return re;
}

/**
 * What one regex search is charged against the inspection's step budget: a step per 256 steps
 * of the static bound on its work over the subject (regex.ts), so that retrying a pcre over a
 * long buffer runs out of budget as content retries do.
 */
const REGEX_WORK_PER_STEP = 256;

/**
 * One pcre match. The regex is searched from the start of the buffer, or with R from the
 * previous match's end (the subject then starts there, as in Suricata: ^ anchors at the
 * cursor); a match moves the cursor to its end. When a later step is relative and fails, the
 * search resumes one byte after this match's start. A negated pcre matches when the regex does
 * not, leaves the cursor alone and is never retried.
 */
export class PcreStep implements PositionalStep {
  readonly keyword = 'pcre';
  retry = false;

  constructor(
    public buffer: string,
    readonly regex: PcreRegex,
    readonly negated: boolean,
    readonly relative: boolean,
  ) {}

  match(ctx: InspectContext, cursor: number, steps: readonly PayloadStep[], index: number): boolean {
    const text = ctx.latin1();
    const base = this.relative ? Math.min(cursor, text.length) : 0;
    const subject = base === 0 ? text : text.slice(base);
    const re = this.regex;
    const charge = 1 + Math.floor(re.workBound(subject.length) / REGEX_WORK_PER_STEP);
    if (this.negated) {
      ctx.work += charge;
      return ctx.work <= MAX_STEPS_PER_INSPECTION && re.search(subject, 0) === NOT_FOUND && continueFrom(ctx, cursor, steps, index + 1);
    }
    let from = 0;
    for (;;) {
      ctx.work += charge;
      if (ctx.work > MAX_STEPS_PER_INSPECTION || re.search(subject, from) !== FOUND) return false;
      const start = re.start;
      if (continueFrom(ctx, base + re.end, steps, index + 1)) return true;
      if (!this.retry) return false;
      from = start + 1;
      if (from > subject.length) return false;
    }
  }
}

export const pcre: Keyword = {
  name: 'pcre',
  summary: 'Match a Perl-compatible regular expression in the current buffer; R searches from the previous match, ! negates.',
  syntax: 'pcre:[!]"/<regex>/<modifiers>"  (i s m x A E G, R relative, B and O accepted; U I P Q H D M C S Y V W Z pick an HTTP buffer)',
  apply(b, value) {
    if (value === null) throw new RuleError('pcre needs a pattern');
    const o = parsePcreOption(value);
    if (o.buffer === null) {
      if (o.relative && !b.hasPositional()) throw new RuleError('pcre: the R modifier needs a content or pcre before it in the same buffer');
      b.addStep(new PcreStep(b.buffer, compile(o), o.negated, o.relative), true);
      return;
    }
    // A buffer letter: the regex searches that buffer, whatever the current one is (R: after the last match there).
    // Q after file_data stays in file_data: Suricata keeps the response body and file_data on one list.
    const target = o.buffer.name === 'http.response_body' && b.buffer.split('|')[0] === 'file.data' ? b.buffer : o.buffer.name;
    b.requireApp(o.buffer.proto, `pcre/${o.buffer.pcre!}`);
    if (o.relative && !b.hasPositional(target)) throw new RuleError(`pcre: the R modifier needs a content or pcre before it in ${target}`);
    b.addStepTo(target, new PcreStep(target, compile(o), o.negated, o.relative), true);
  },
};
