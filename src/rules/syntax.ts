/**
 * Rule text into its parts: the header (action, protocol, addresses, ports, direction) and the
 * option list, without interpreting any of them. Suricata, Snort 2 and Snort 3 share this
 * layout; Snort 3 adds headerless service rules (`alert http (...)`) and comma-separated option
 * arguments (`content:"x",depth 4,nocase`), which are split here too.
 */

/** Where in a rule file something is: 1-based line and column. */
export interface Location {
  file: string;
  line: number;
  column: number;
}

/** A mistake in a rule, with where it is. */
export class RuleError extends Error {
  constructor(
    message: string,
    readonly column = 0,
  ) {
    super(message);
  }
}

export interface RawOption {
  /** Option name as written (lowercased). */
  name: string;
  /** Text after the colon, trimmed; null for a bare option (`nocase;`). */
  value: string | null;
  /** Column of the option name in the rule text. */
  column: number;
}

export interface RuleSyntax {
  action: string;
  proto: string;
  /** Address and port texts; "any" for Snort 3 service rules written without them. */
  src: string;
  srcPorts: string;
  /** "->" or "<>" (Snort 3 and Suricata also accept "<-"? no: only these two). */
  /** `=>`: Suricata 8's transactional rule, matching a request and its response together. */
  direction: '->' | '<>' | '=>';
  dst: string;
  dstPorts: string;
  options: RawOption[];
}

const ACTIONS = new Set(['alert', 'drop', 'pass', 'reject', 'rejectsrc', 'rejectdst', 'rejectboth', 'log', 'sdrop', 'block', 'react', 'rewrite']);

/** True when a line (without its leading '#') looks like a rule: a commented-out rule is a disabled rule, not prose. */
export function looksLikeRule(text: string): boolean {
  const m = /^\s*([a-z]+)\s+\S/.exec(text);
  return m !== null && ACTIONS.has(m[1]!) && text.includes('(') && /\)\s*$/.test(text);
}

/**
 * Splits one rule into header and options. Throws RuleError (with a column) when the text is not
 * a rule: a bad header, an unbalanced quote or parenthesis, an option without a name.
 */
export function parseRuleSyntax(text: string): RuleSyntax {
  const open = text.indexOf('(');
  if (open < 0) throw new RuleError('no option list: a rule ends with (options)', text.length);
  const close = text.lastIndexOf(')');
  if (close < open) throw new RuleError('the option list is not closed with ")"', text.length);
  if (text.slice(close + 1).trim() !== '') throw new RuleError('text after the closing ")"', close + 2);
  const head = text.slice(0, open).trim().split(/\s+/);
  const action = (head[0] ?? '').toLowerCase();
  if (!ACTIONS.has(action)) throw new RuleError(`"${head[0] ?? ''}" is not a rule action (alert, drop, pass, reject, log)`, 1);
  let syntax: RuleSyntax;
  if (head.length === 2) {
    // Snort 3 service rule: alert http ( ... )
    syntax = { action, proto: head[1]!.toLowerCase(), src: 'any', srcPorts: 'any', direction: '->', dst: 'any', dstPorts: 'any', options: [] };
  } else if (head.length === 7) {
    const dir = head[4]!;
    if (dir !== '->' && dir !== '<>' && dir !== '=>') throw new RuleError(`"${dir}" is not a direction (->, <> or =>)`, text.indexOf(dir) + 1);
    syntax = { action, proto: head[1]!.toLowerCase(), src: head[2]!, srcPorts: head[3]!, direction: dir, dst: head[5]!, dstPorts: head[6]!, options: [] };
  } else {
    throw new RuleError(`the header has ${head.length} fields; expected "action proto src sport -> dst dport" (7) or "action service" (2)`, 1);
  }
  syntax.options = splitOptions(text, open + 1, close);
  return syntax;
}

/**
 * Splits the option list as Suricata does: an option ends at the first ';' not escaped with '\'.
 * (A ';' inside a quoted value must be escaped, as in Suricata and Snort; a pcre may hold a bare
 * '"'.) A value that opens a quote must close it: otherwise the rule has an unbalanced quote,
 * reported where the quote starts.
 */
function splitOptions(text: string, from: number, to: number): RawOption[] {
  const out: RawOption[] = [];
  let i = from;
  while (i < to) {
    while (i < to && /\s/.test(text[i]!)) i++;
    if (i >= to) break;
    const start = i;
    for (; i < to; i++) {
      const ch = text[i]!;
      if (ch === '\\') {
        i++;
        continue;
      }
      if (ch === ';') break;
    }
    const body = text.slice(start, Math.min(i, to)).trim();
    i++; // past ';'
    if (body === '') continue;
    const colon = indexOfUnquoted(body, ':');
    const name = (colon < 0 ? body : body.slice(0, colon)).trim().toLowerCase();
    if (!/^[a-z0-9_.-]+$/.test(name)) throw new RuleError(`"${name}" is not an option name`, start + 1);
    const value = colon < 0 ? null : body.slice(colon + 1).trim();
    if (value !== null) {
      const v = value.startsWith('!') ? value.slice(1).trimStart() : value;
      const first = splitArgs(v)[0] ?? '';
      if (v.startsWith('"') && (first.length < 2 || !first.endsWith('"'))) {
        throw new RuleError('unbalanced quote: a quoted value is never closed', start + colon + 2);
      }
    }
    out.push({ name, value, column: start + 1 });
  }
  return out;
}

function indexOfUnquoted(s: string, ch: string): number {
  let q = false;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') {
      i++;
      continue;
    }
    if (s[i] === '"') q = !q;
    else if (!q && s[i] === ch) return i;
  }
  return -1;
}

/**
 * Splits a Snort 3 style argument list on commas outside quotes: `"x",depth 4,nocase` gives
 * ['"x"', 'depth 4', 'nocase']. Also used for Suricata's comma lists (`flow:established,to_server`).
 */
export function splitArgs(value: string): string[] {
  const out: string[] = [];
  let q = false;
  let cur = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === '\\' && i + 1 < value.length) {
      cur += ch + value[i + 1]!;
      i++;
      continue;
    }
    if (ch === '"') q = !q;
    if (ch === ',' && !q) {
      out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += ch;
  }
  out.push(cur.trim());
  return out;
}

/** Removes surrounding quotes, if any. */
export function unquote(value: string): string {
  const v = value.trim();
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}
