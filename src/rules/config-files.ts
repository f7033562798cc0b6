import { compileAddress, type AddressMatcher } from './addresses.js';
import { parseCount, parseOptionList, parseThreshold, parseTrack, TRACKS, type Track } from './keywords/threshold.js';
import type { Threshold } from './rule.js';
import { RuleError } from './syntax.js';
import { DEFAULT_VARS, type RuleVars } from './vars.js';

/**
 * The three configuration files that travel with a rule set, in Suricata's formats:
 * classification.config (classtypes), reference.config (reference URL prefixes) and
 * threshold.config (threshold/event_filter, rate_filter, suppress). A bad line gives a problem
 * with file:line and what the line may look like; every other line still loads. The parsers
 * take text so callers decide where it comes from.
 */

/** A line that could not be used. */
export interface ConfigProblem {
  file: string;
  /** 1-based line (where a continued threshold.config line starts). */
  line: number;
  message: string;
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.file}:${p.line}: ${p.message}`;
}

/** Splits into lines, dropping blank lines and `#` comment lines. */
function contentLines(text: string): Array<{ line: number; text: string }> {
  const out: Array<{ line: number; text: string }> = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i]!.trim();
    if (t === '' || t.startsWith('#')) continue;
    out.push({ line: i + 1, text: t });
  }
  return out;
}

// --- classification.config ------------------------------------------------------------------

export interface Classification {
  description: string;
  /** 1 (highest) to 255: the default priority of rules with this classtype. */
  priority: number;
}

export interface ClassificationConfig {
  /** By lower-cased name (Suricata looks classtypes up case-insensitively). */
  classes: Map<string, Classification>;
  problems: ConfigProblem[];
}

const CLASSIFICATION_FORM = 'config classification: <name>,<description>,<priority>';

/**
 * `config classification: name,description,priority` per line (src/util-classification-config.c:
 * the description is everything up to the last comma). The first definition of a name wins, as
 * in Suricata; a later one is reported.
 */
export function parseClassificationConfig(text: string, file: string): ClassificationConfig {
  const classes = new Map<string, Classification>();
  const problems: ConfigProblem[] = [];
  for (const { line, text: t } of contentLines(text)) {
    const head = /^config\s*classification\s*:\s*(.*)$/.exec(t);
    if (head === null) {
      problems.push({ file, line, message: `not a classification: expected "${CLASSIFICATION_FORM}"` });
      continue;
    }
    // The name ends at the first comma, the priority follows the last: the description may hold commas.
    const m = /^([^,]*?)\s*,\s*(.+)\s*,\s*([^,]*?)\s*$/.exec(head[1]!);
    if (m === null) {
      problems.push({ file, line, message: `expected "${CLASSIFICATION_FORM}" (three comma-separated parts)` });
      continue;
    }
    const name = m[1]!;
    if (!/^[a-zA-Z][a-zA-Z0-9_-]*$/.test(name)) {
      problems.push({ file, line, message: `classification name "${name}" must start with a letter and hold only letters, digits, - and _` });
      continue;
    }
    const prio = m[3]!;
    if (!/^\d+$/.test(prio) || Number(prio) < 1 || Number(prio) > 255) {
      problems.push({ file, line, message: `classification ${name}: priority "${prio}" must be a whole number from 1 (highest) to 255` });
      continue;
    }
    const key = name.toLowerCase();
    if (classes.has(key)) {
      problems.push({ file, line, message: `classification ${name} is defined again; the first definition is kept` });
      continue;
    }
    classes.set(key, { description: m[2]!.trim(), priority: Number(prio) });
  }
  return { classes, problems };
}

// --- reference.config -----------------------------------------------------------------------

export interface ReferenceConfig {
  /** URL prefix by lower-cased system name (`reference:cve,...` gives the "cve" prefix). */
  systems: Map<string, string>;
  problems: ConfigProblem[];
}

const REFERENCE_FORM = 'config reference: <system> <url prefix>';

/** `config reference: system url` per line (src/util-reference-config.c). A later definition replaces an earlier one. */
export function parseReferenceConfig(text: string, file: string): ReferenceConfig {
  const systems = new Map<string, string>();
  const problems: ConfigProblem[] = [];
  for (const { line, text: t } of contentLines(text)) {
    const head = /^config\s+reference\s*:\s*(.*)$/.exec(t);
    if (head === null) {
      problems.push({ file, line, message: `not a reference system: expected "${REFERENCE_FORM}"` });
      continue;
    }
    const m = /^(\S+)\s+(\S.*)$/.exec(head[1]!);
    if (m === null) {
      problems.push({ file, line, message: `expected "${REFERENCE_FORM}" (a system name, a space, then the URL prefix)` });
      continue;
    }
    if (!/^[a-zA-Z][a-zA-Z0-9_-]*$/.test(m[1]!)) {
      problems.push({ file, line, message: `reference system "${m[1]}" must start with a letter and hold only letters, digits, - and _` });
      continue;
    }
    systems.set(m[1]!.toLowerCase(), m[2]!);
  }
  return { systems, problems };
}

// --- threshold.config -----------------------------------------------------------------------

/** Where a threshold.config directive came from, for messages. */
export interface ConfigLocation {
  file: string;
  line: number;
}

/**
 * `threshold` or `event_filter` (the same directive): for rule gid:sid, or every rule of a gid
 * (sig_id 0), or every rule (gen_id 0, sig_id 0).
 */
export interface ThresholdDirective {
  kind: 'threshold';
  /** As written, for messages. */
  directive: 'threshold' | 'event_filter';
  gid: number;
  /** 0: every rule of the gid (every rule when gid is 0 too). */
  sid: number;
  threshold: Threshold;
  location: ConfigLocation;
}

/** What a rate_filter changes the rule's action to. log and sdrop parse but Suricata leaves the action unchanged for them. */
export type RateAction = 'alert' | 'drop' | 'pass' | 'log' | 'sdrop' | 'reject';

/**
 * `rate_filter`: the rule still alerts, but once more than `count` matches come within `seconds`,
 * its action becomes `newAction` for `timeout` seconds. Only an inline (IPS) sensor acts on the
 * changed action; the tracker reports it.
 */
export interface RateFilterDirective {
  kind: 'rate_filter';
  gid: number;
  sid: number;
  track: Track;
  count: number;
  seconds: number;
  newAction: RateAction;
  timeout: number;
  location: ConfigLocation;
}

/**
 * `suppress`: without track, the rule(s) never alert (their flowbits and other actions still
 * apply); with track, no alert when the packet's source (by_src), destination (by_dst) or either
 * address is in `ip`.
 */
export interface SuppressDirective {
  kind: 'suppress';
  gid: number;
  sid: number;
  track: 'by_src' | 'by_dst' | 'by_either' | null;
  /** The address text as written (addresses, CIDRs, [lists], $VARS); null without track. */
  ip: string | null;
  /** The compiled `ip`; null for "any" (every address) and without track. */
  matcher: AddressMatcher | null;
  location: ConfigLocation;
}

export type ThresholdConfigDirective = ThresholdDirective | RateFilterDirective | SuppressDirective;

export interface ThresholdConfig {
  /** In file order: the order decides which of several entries for one rule holds (see thresholds.ts). */
  directives: ThresholdConfigDirective[];
  problems: ConfigProblem[];
}

const THRESHOLD_FORMS = [
  'threshold gen_id G, sig_id S, type limit|threshold|both, track by_src|by_dst|by_both|by_rule|by_flow, count N, seconds T',
  'event_filter (as threshold)',
  'rate_filter gen_id G, sig_id S, track by_src|by_dst|by_both|by_rule|by_flow, count N, seconds T, new_action alert|drop|pass|log|sdrop|reject, timeout T',
  'suppress gen_id G, sig_id S[, track by_src|by_dst|by_either, ip <address|CIDR|[list]|$VAR>]',
];

const CONFIG_THRESHOLD = { what: 'threshold', types: ['limit', 'threshold', 'both'] } as const;
const RATE_ACTIONS: readonly RateAction[] = ['alert', 'drop', 'pass', 'log', 'sdrop', 'reject'];

/**
 * Joins continued lines: a line whose last non-blank character is `\` goes on with the next
 * (SCThresholdConfLineIsMultiline), the text before the backslash kept as is.
 */
function thresholdLines(text: string): Array<{ line: number; text: string }> {
  const out: Array<{ line: number; text: string }> = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1;
    let t = lines[i]!;
    if (t.trim() === '' || t.trim().startsWith('#')) continue;
    while (/\\\s*$/.test(t) && i + 1 < lines.length) t = t.replace(/\\\s*$/, '') + lines[++i]!;
    out.push({ line: start, text: t.trim() });
  }
  return out;
}

/**
 * Parses threshold.config (src/util-threshold-config.c). Addresses in suppress lines may use
 * the rule variables ($HOME_NET, ...). A rule the file names but the rule set lacks is not an
 * error here: the file is read before, and independently of, the rules.
 */
export function parseThresholdConfig(text: string, file: string, vars: RuleVars = DEFAULT_VARS): ThresholdConfig {
  const directives: ThresholdConfigDirective[] = [];
  const problems: ConfigProblem[] = [];
  for (const { line, text: t } of thresholdLines(text)) {
    try {
      directives.push(parseDirective(t, { file, line }, vars));
    } catch (err) {
      if (!(err instanceof RuleError)) throw err;
      problems.push({ file, line, message: err.message });
    }
  }
  return { directives, problems };
}

function parseDirective(t: string, location: ConfigLocation, vars: RuleVars): ThresholdConfigDirective {
  const word = /^\S+/.exec(t)![0];
  if (word !== 'threshold' && word !== 'event_filter' && word !== 'rate_filter' && word !== 'suppress') {
    throw new RuleError(`unknown directive "${word}"; a line is one of: ${THRESHOLD_FORMS.join('; ')}`);
  }
  const m = /^\S+\s+gen_id\s+(\d+)\s*,\s*sig_id\s+(\d+)\s*(.*)$/.exec(t);
  if (m === null) throw new RuleError(`${word}: expected "${word} gen_id G, sig_id S, ..." (gen_id and sig_id first, as whole numbers)`);
  const gid = parseCount(m[1]!, word, 'gen_id', 0);
  const sid = parseCount(m[2]!, word, 'sig_id', 0);
  // Suricata refuses this combination: sig_id numbers are only unique within a gen_id.
  if (sid > 0 && gid === 0) throw new RuleError(`${word}: sig_id ${sid} needs its gen_id (1 for text rules); gen_id 0 is only for sig_id 0 (every rule)`);
  const rest = m[3]!.trim();

  if (word === 'suppress') {
    if (rest === '') return { kind: 'suppress', gid, sid, track: null, ip: null, matcher: null, location };
    const s = /^,\s*track\s+(\S+)\s*,\s*ip\s+(\S.*)$/.exec(rest);
    if (s === null) throw new RuleError(`suppress: after sig_id expected nothing or ", track by_src|by_dst|by_either, ip <address|CIDR|[list]|$VAR>"`);
    const track = parseTrack(s[1]!, 'suppress', ['by_src', 'by_dst', 'by_either'] as const);
    const ip = s[2]!.trim();
    let matcher: AddressMatcher | null;
    try {
      matcher = compileAddress(ip, vars.addressGroups);
    } catch (err) {
      if (err instanceof RuleError) throw new RuleError(`suppress: ip ${ip}: ${err.message}`);
      throw err;
    }
    return { kind: 'suppress', gid, sid, track, ip, matcher, location };
  }

  if (!rest.startsWith(',')) throw new RuleError(`${word}: expected options after sig_id, e.g. "${word === 'rate_filter' ? THRESHOLD_FORMS[2] : THRESHOLD_FORMS[0]}"`);
  const options = rest.slice(1);
  if (word === 'rate_filter') {
    const allowed = ['track', 'count', 'seconds', 'new_action', 'timeout'];
    const opts = parseOptionList(options, 'rate_filter', allowed);
    const missing = allowed.filter((n) => !opts.has(n));
    if (missing.length > 0) throw new RuleError(`rate_filter: missing ${missing.join(', ')}; expected "${THRESHOLD_FORMS[2]}"`);
    const action = opts.get('new_action')!.toLowerCase();
    if (!(RATE_ACTIONS as readonly string[]).includes(action)) throw new RuleError(`rate_filter: new_action "${opts.get('new_action')}" is not ${RATE_ACTIONS.join(', ')}`);
    return {
      kind: 'rate_filter',
      gid,
      sid,
      track: parseTrack(opts.get('track')!, 'rate_filter', TRACKS),
      count: parseCount(opts.get('count')!, 'rate_filter', 'count', 1),
      seconds: parseCount(opts.get('seconds')!, 'rate_filter', 'seconds', 0),
      newAction: action as RateAction,
      timeout: parseCount(opts.get('timeout')!, 'rate_filter', 'timeout', 0),
      location,
    };
  }
  const threshold = parseThreshold(options, { ...CONFIG_THRESHOLD, what: word });
  return { kind: 'threshold', directive: word, gid, sid, threshold, location };
}
