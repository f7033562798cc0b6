import type { Keyword } from '../keyword.js';
import type { Threshold } from '../rule.js';
import { RuleError } from '../syntax.js';

/**
 * threshold: how often a matching rule alerts. The semantics (what each type returns for each
 * match) live in ../thresholds.ts; this file parses and validates. Suricata 7 takes type
 * limit|threshold|both with track by_src|by_dst|by_both|by_rule; Suricata 8 adds track by_flow
 * and type backoff, which takes a multiplier instead of seconds and needs track by_flow
 * (doc/userguide/rules/thresholding.rst). The options may come in any order, each exactly once.
 */

export type Track = Threshold['track'];

export const TRACKS: readonly Track[] = ['by_src', 'by_dst', 'by_both', 'by_rule', 'by_flow'];

/** Counts are uint32 in Suricata; a larger number is a typo, not a threshold. */
const MAX_U32 = 0xffffffff;

/**
 * Splits `name value, name value, ...` into a map. Each option once; unknown names and
 * duplicates are errors that name what is allowed.
 */
export function parseOptionList(text: string, what: string, allowed: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') throw new RuleError(`${what}: an empty option (a stray comma?); expected ${allowed.join(', ')}`);
    const m = /^(\S+)\s+(\S+)$/.exec(item);
    if (m === null) throw new RuleError(`${what}: "${item}" is not "<option> <value>"; options are ${allowed.join(', ')}`);
    const name = m[1]!;
    if (!allowed.includes(name)) throw new RuleError(`${what}: unknown option "${name}"; options are ${allowed.join(', ')}`);
    if (out.has(name)) throw new RuleError(`${what}: "${name}" is given twice`);
    out.set(name, m[2]!);
  }
  return out;
}

/** A whole number in [min, 2^32-1]. */
export function parseCount(text: string, what: string, name: string, min: number): number {
  if (!/^\d+$/.test(text)) throw new RuleError(`${what}: ${name} "${text}" is not a whole number`);
  const n = Number(text);
  if (n < min) throw new RuleError(`${what}: ${name} must be at least ${min}`);
  if (n > MAX_U32) throw new RuleError(`${what}: ${name} ${text} is above 4294967295`);
  return n;
}

export function parseTrack<T extends string>(text: string, what: string, allowed: readonly T[]): T {
  const t = text.toLowerCase();
  if (!(allowed as readonly string[]).includes(t)) throw new RuleError(`${what}: track "${text}" is not ${allowed.join(', ')}`);
  return t as T;
}

/** Where a threshold is written: a rule may use every type; threshold.config only limit, threshold and both. */
export interface ThresholdDialect {
  what: string;
  types: readonly Threshold['type'][];
}

export const RULE_DIALECT: ThresholdDialect = { what: 'threshold', types: ['limit', 'threshold', 'both', 'backoff'] };

/** Parses `type X, track Y, count N, seconds T` (or `multiplier M` for backoff), in any order. */
export function parseThreshold(text: string, dialect: ThresholdDialect = RULE_DIALECT): Threshold {
  const what = dialect.what;
  const backoffAllowed = dialect.types.includes('backoff');
  // multiplier is always accepted here so that a backoff where it is not allowed is reported as the type it is.
  const opts = parseOptionList(text, what, ['type', 'track', 'count', 'seconds', 'multiplier']);
  const typeText = opts.get('type');
  const trackText = opts.get('track');
  const countText = opts.get('count');
  if (typeText === undefined || trackText === undefined || countText === undefined) {
    const missing = ['type', 'track', 'count'].filter((n) => !opts.has(n));
    throw new RuleError(`${what}: missing ${missing.join(', ')}; needs type, track, count and seconds${backoffAllowed ? ' (multiplier instead of seconds for type backoff)' : ''}`);
  }
  const type = typeText.toLowerCase() as Threshold['type'];
  if (!dialect.types.includes(type)) throw new RuleError(`${what}: type "${typeText}" is not ${dialect.types.join(', ')}`);
  const track = parseTrack(trackText, what, TRACKS);
  const count = parseCount(countText, what, 'count', 1);
  const secondsText = opts.get('seconds');
  const multiplierText = opts.get('multiplier');
  if (type === 'backoff') {
    if (secondsText !== undefined) throw new RuleError(`${what}: type backoff takes a multiplier, not seconds`);
    if (multiplierText === undefined) throw new RuleError(`${what}: type backoff needs a multiplier (count 1, multiplier 10 alerts on matches 1, 10, 100, ...)`);
    // Suricata 8: "backoff can only be used with track by_flow" (rules/thresholding.rst).
    if (track !== 'by_flow') throw new RuleError(`${what}: type backoff needs track by_flow`);
    return { type, track, count, seconds: 0, multiplier: parseCount(multiplierText, what, 'multiplier', 1) };
  }
  if (multiplierText !== undefined) throw new RuleError(`${what}: multiplier is only for type backoff`);
  if (secondsText === undefined) throw new RuleError(`${what}: missing seconds; needs type, track, count and seconds`);
  return { type, track, count, seconds: parseCount(secondsText, what, 'seconds', 0) };
}

export const threshold: Keyword = {
  name: 'threshold',
  summary:
    'Limits how often the rule alerts, counted per source, destination, address pair, rule or flow: limit (first N per T s), threshold (every Nth in T s), both (once per T s after N), backoff (Suricata 8: matches C, C*M, C*M^2, ... of a flow).',
  syntax: 'threshold: type limit|threshold|both, track by_src|by_dst|by_both|by_rule|by_flow, count N, seconds T | threshold: type backoff, track by_flow, count C, multiplier M',
  apply(b, value) {
    if (b.threshold !== null) throw new RuleError('threshold: a rule may have only one threshold');
    if (b.detectionFilter !== null) throw new RuleError('threshold: a rule may not have both threshold and detection_filter');
    if (value === null || value.trim() === '') throw new RuleError(`threshold needs options: ${threshold.syntax}`);
    b.threshold = parseThreshold(value);
  },
};
