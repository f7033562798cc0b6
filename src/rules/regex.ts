/**
 * PCRE patterns, as Suricata and Snort compile them (8-bit, no UTF, the default "C" character
 * tables), translated into JavaScript RegExps that run on a latin1 string: one char per byte.
 * The translation is exact or refused: every set of bytes is spelled out (so \s, \w, `.`,
 * caseless letters and POSIX classes mean on 0-255 what PCRE means), anchors that differ are
 * rewritten with lookarounds, and what JavaScript cannot express (recursion, conditionals, \K,
 * \G inside a pattern, ...) is refused with a reason. docs/regex.md lists every construct.
 *
 * Cost: every pattern gets a static bound on the backtracking of one search as a function of
 * the subject's length (`cost`, `searchBound`). When the bound over 64 KiB is above the budget,
 * searches are capped to the longest subject that fits, and a result the cap could have changed
 * is reported as unknown, never as a match. V8's own fallback to its linear-time engine is
 * enabled too, as a backstop only: in Node 20 it does not count the backtracking of greedy loops
 * (so [^\r\n]+foo stays quadratic) and that engine runs at microseconds a byte. Exact rewrites
 * remove the commonest quadratic and cubic shapes (leadingRun, disambiguate).
 */
import v8 from 'node:v8';
import { RuleError } from './syntax.js';

/**
 * A keyword (or keyword modifier) Outpost knows but cannot run yet, e.g. pcre's U (HTTP URI):
 * the caller counts the rule as unsupported by `keyword` rather than as a mistake.
 */
export class UnsupportedKeywordError extends RuleError {
  constructor(
    readonly keyword: string,
    message: string,
  ) {
    super(message);
  }
}

/** A valid PCRE pattern that cannot run exactly as a JavaScript RegExp; `reason` is short, for counting. */
export class RegexRefusedError extends RuleError {
  constructor(
    readonly reason: string,
    detail: string,
  ) {
    super(`pcre: ${reason}: ${detail}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Cost bounds

/**
 * Backtracks V8 allows a regexp before it reruns the search on its linear-time engine (for the
 * patterns that engine can run). Four times the step budget: a pattern within its bound never
 * gets there, because that engine runs at 1.7-200 us a byte in Node 20 (measured; docs/regex.md) and
 * falling back early made cheap searches a hundred times slower. It only catches a pattern
 * whose static bound would be wrong.
 */
export const BACKTRACKS_BEFORE_LINEAR = 16_000_000;

/**
 * Work allowed for one search, in the steps of the static bound. Measured with crafted subjects
 * (test/rules/regex.test.ts prints some; docs/regex.md has the survey over ET Open): from 0.02
 * to about 2 ns a step, so 4,000,000 steps keep one search under about 8 ms on the worst subject
 * for its pattern, and typical searches far below that.
 */
export const BACKTRACK_STEP_BUDGET = 4_000_000;

/** The largest subject the cap computation considers: an IP packet or a reassembled chunk is below 64 KiB. */
const MAX_SUBJECT = 65536;

/** A cap below this inspects too little to be worth loading: the pattern is refused instead. */
const MIN_CAP = 64;

// Process-wide V8 settings, made once when the module loads. They only add the linear-time
// fallback to regexps compiled after this point (and make the `l` flag parse, which
// canRunLinear uses to ask V8 whether a pattern qualifies); they change no match result.
v8.setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
v8.setFlagsFromString(`--regexp-backtracks-before-fallback=${BACKTRACKS_BEFORE_LINEAR}`);
v8.setFlagsFromString('--enable-experimental-regexp-engine');

/** True when V8's linear-time engine can run `source`: the same check V8 makes before falling back to it. */
export function canRunLinear(source: string, flags = ''): boolean {
  try {
    new RegExp(source, flags + 'l');
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Byte sets

/** 256 bits, one per byte value. */
type ByteSet = Uint32Array;

function emptySet(): ByteSet {
  return new Uint32Array(8);
}

function has(s: ByteSet, c: number): boolean {
  return (s[c >>> 5]! & (1 << (c & 31))) !== 0;
}

function add(s: ByteSet, c: number): void {
  s[c >>> 5]! |= 1 << (c & 31);
}

function byteSet(...ranges: Array<[number, number] | number>): ByteSet {
  const s = emptySet();
  for (const r of ranges) {
    if (typeof r === 'number') add(s, r);
    else for (let c = r[0]; c <= r[1]; c++) add(s, c);
  }
  return s;
}

function complement(s: ByteSet): ByteSet {
  return s.map((w) => ~w >>> 0);
}

function addAll(into: ByteSet, s: ByteSet): void {
  for (let k = 0; k < 8; k++) into[k]! |= s[k]!;
}

function intersects(a: ByteSet, b: ByteSet): boolean {
  for (let k = 0; k < 8; k++) if ((a[k]! & b[k]!) !== 0) return true;
  return false;
}

function otherCase(c: number): number {
  if (c >= 0x41 && c <= 0x5a) return c + 0x20;
  if (c >= 0x61 && c <= 0x7a) return c - 0x20;
  return -1;
}

/** Adds a byte, and its other case when caseless: PCRE's default tables fold ASCII letters only. */
function addByte(s: ByteSet, c: number, caseless: boolean): void {
  add(s, c);
  if (caseless) {
    const o = otherCase(c);
    if (o >= 0) add(s, o);
  }
}

const ALL = byteSet([0, 255]);
const DIGIT = byteSet([0x30, 0x39]);
const WORD = byteSet([0x30, 0x39], [0x41, 0x5a], 0x5f, [0x61, 0x7a]);
/** \s: PCRE2 (and PCRE 8.34+) include VT, as Perl 5.18 does. */
const SPACE = byteSet([0x09, 0x0d], 0x20);
/** \h without UTF: tab, space and NBSP. */
const HSPACE = byteSet(0x09, 0x20, 0xa0);
/** \v without UTF: LF, VT, FF, CR and NEL. */
const VSPACE = byteSet([0x0a, 0x0d], 0x85);
const NOT_NEWLINE = complement(byteSet(0x0a));
const UPPER = byteSet([0x41, 0x5a]);
const LOWER = byteSet([0x61, 0x7a]);
const ALPHA = byteSet([0x41, 0x5a], [0x61, 0x7a]);

/** POSIX classes with PCRE's default ("C" locale) tables. */
const POSIX: Readonly<Record<string, ByteSet>> = {
  alpha: ALPHA,
  lower: LOWER,
  upper: UPPER,
  alnum: byteSet([0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]),
  ascii: byteSet([0, 0x7f]),
  blank: byteSet(0x09, 0x20),
  cntrl: byteSet([0, 0x1f], 0x7f),
  digit: DIGIT,
  graph: byteSet([0x21, 0x7e]),
  print: byteSet([0x20, 0x7e]),
  punct: byteSet([0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]),
  space: SPACE,
  word: WORD,
  xdigit: byteSet([0x30, 0x39], [0x41, 0x46], [0x61, 0x66]),
};

/**
 * Latin-1 letters JavaScript's non-unicode `i` flag folds (é/É, ...) and PCRE's default tables
 * do not. The `i` flag is only used when no set or backreference can see the difference.
 */
const JS_ONLY_FOLDS: ReadonlyArray<[number, number]> = Array.from({ length: 0x1f }, (_, k) => [0xc0 + k, 0xe0 + k] as [number, number]).filter(([u]) => u !== 0xd7);
const LATIN1_LETTERS = byteSet([0xc0, 0xd6], [0xd8, 0xde], [0xe0, 0xf6], [0xf8, 0xfe]);

/** Closed under JavaScript's case folding on 0-255: the `i` flag would not change what it matches. */
function closedUnderJsFolding(s: ByteSet): boolean {
  for (let c = 0x41; c <= 0x5a; c++) if (has(s, c) !== has(s, c + 0x20)) return false;
  for (const [u, l] of JS_ONLY_FOLDS) if (has(s, u) !== has(s, l)) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Syntax tree

type Assertion =
  /** ^ without m, \A */
  | 'start'
  /** $ with E, \z */
  | 'end'
  /** $ without m or E, \Z: the end, or before a newline that is the last byte */
  | 'endOrFinalNewline'
  /** ^ with m: the start, or after a newline that is not the last byte */
  | 'lineStart'
  /** $ with m: before any newline, or at the end */
  | 'lineEnd'
  | 'wordBoundary'
  | 'notWordBoundary'
  /** \G: where the search started */
  | 'searchStart';

type Node =
  | { type: 'set'; bytes: ByteSet }
  | { type: 'seq'; items: Node[] }
  | { type: 'alt'; branches: Node[] }
  /** A group; `user` is its PCRE number when it captures. `js` is its number in the output. */
  | { type: 'group'; body: Node; user: number | null; js: number }
  | { type: 'look'; ahead: boolean; negate: boolean; body: Node }
  /** (?>...), possessive quantifiers and \R: emulated as (?=(...))\N. */
  | { type: 'atomic'; body: Node; js: number }
  | { type: 'repeat'; body: Node; min: number; max: number; greedy: boolean }
  | { type: 'backref'; node: Backref }
  | { type: 'assert'; kind: Assertion }
  /**
   * $, \Z or multiline $ that ends every match it is in: emitted as (\n)?$ or (\n)|$, which
   * the linear engine runs; the match end then moves back over the newline it consumed.
   */
  | { type: 'endNewline'; multiline: boolean; js: number }
  /**
   * A multiline ^ that starts every match: emitted as (?:^|(\n)), or (\n) when searching
   * from a later position; the match start then moves past the newline it consumed.
   */
  | { type: 'lineStartNewline'; js: number };

interface Backref {
  user: number;
  name: string | null;
  caseless: boolean;
  /** The longest text the group can capture (what comparing it costs). */
  width: number;
  /** What the group's text can start with (what the reference can start with). */
  first: First | null;
  /** The bytes the group's text can hold. */
  bytes: ByteSet | null;
  /** The group is never set where it is referenced: the reference never matches. */
  never: boolean;
  /** JavaScript group number wrapping the reference, when the match must be checked (caseless references). */
  js: number;
}

/** Options that can change inside a pattern ((?i), (?s:...), ...). */
interface Mode {
  i: boolean;
  m: boolean;
  s: boolean;
  x: boolean;
  xx: boolean;
  /** Ungreedy: the G modifier, (?U). */
  U: boolean;
  /** (?n): plain parentheses do not capture. */
  n: boolean;
  J: boolean;
}

function invalid(message: string): RuleError {
  return new RuleError(`pcre: ${message}`);
}

/** PCRE2's default limit on nested parentheses. */
const MAX_NESTING = 250;
/** PCRE2's largest repeat count. */
const MAX_REPEAT = 65535;

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isOctal = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '7';
const isHex = (c: string | undefined): boolean => c !== undefined && /[0-9a-fA-F]/.test(c);
/** Whitespace the x option skips (PCRE2, no UTF). */
const isExtendedSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';

type Escape =
  | { kind: 'byte'; value: number }
  | { kind: 'set'; set: ByteSet }
  | { kind: 'node'; node: Node }
  | { kind: 'quote' }
  | { kind: 'nothing' };

class Parser {
  pos = 0;
  groups = 0;
  readonly names = new Map<string, number>();
  readonly backrefs: Backref[] = [];
  private depth = 0;

  constructor(
    private readonly src: string,
    private readonly dollarEndOnly: boolean,
  ) {}

  parse(mode: Mode): Node {
    const node = this.alternation(mode);
    if (this.pos < this.src.length) throw invalid(`unmatched ")" at offset ${this.pos}`);
    for (const b of this.backrefs) {
      if (b.name !== null) {
        const n = this.names.get(b.name);
        if (n === undefined) throw invalid(`reference to a group named "${b.name}" that does not exist`);
        b.user = n;
      }
      if (b.user > this.groups || b.user < 1) throw invalid(`reference to group ${b.user}, but the pattern has ${this.groups}`);
    }
    return node;
  }

  private peek(k = 0): string | undefined {
    return this.src[this.pos + k];
  }

  private alternation(outer: Mode): Node {
    // Option changes inside a group last to its end, across its alternatives (PCRE2).
    const mode = { ...outer };
    const branches = [this.sequence(mode)];
    while (this.peek() === '|') {
      this.pos++;
      branches.push(this.sequence(mode));
    }
    return branches.length === 1 ? branches[0]! : { type: 'alt', branches };
  }

  private skipExtended(mode: Mode): void {
    if (!mode.x) return;
    for (;;) {
      const c = this.peek();
      if (isExtendedSpace(c)) this.pos++;
      else if (c === '#') {
        while (this.pos < this.src.length && this.src[this.pos] !== '\n') this.pos++;
      } else return;
    }
  }

  private literal(items: Node[], code: number, mode: Mode): void {
    // A pattern character above 0xff came from a UTF-8 rule file: PCRE sees its UTF-8 bytes.
    const bytes = code <= 0xff ? [code] : [...Buffer.from(String.fromCharCode(code), 'utf8')];
    for (const b of bytes) {
      const s = emptySet();
      addByte(s, b, mode.i);
      items.push({ type: 'set', bytes: s });
    }
  }

  private sequence(mode: Mode): Node {
    const items: Node[] = [];
    let repeatable = false;
    for (;;) {
      this.skipExtended(mode);
      const c = this.peek();
      if (c === undefined || c === '|' || c === ')') break;
      const quantifier = this.quantifier(mode);
      if (quantifier !== null) {
        const last = items[items.length - 1];
        if (!repeatable || last === undefined) throw invalid(`quantifier at offset ${this.pos - 1} does not follow a repeatable item`);
        if (last.type === 'assert' || last.type === 'look') throw new RegexRefusedError('quantified assertion', `a quantifier on an assertion (offset ${this.pos})`);
        let node: Node = { type: 'repeat', body: last, min: quantifier.min, max: quantifier.max, greedy: quantifier.greedy };
        if (quantifier.possessive) node = { type: 'atomic', body: node, js: 0 };
        items[items.length - 1] = node;
        repeatable = false;
        continue;
      }
      const start = this.pos;
      if (c === '(') {
        const node = this.group(mode);
        if (node !== null) {
          items.push(node);
          repeatable = true;
        }
        continue;
      }
      this.pos++;
      const wasRepeatable: boolean = repeatable;
      repeatable = true;
      switch (c) {
        case '[':
          this.pos--;
          items.push({ type: 'set', bytes: this.characterClass(mode) });
          break;
        case '.':
          items.push({ type: 'set', bytes: mode.s ? ALL : NOT_NEWLINE });
          break;
        case '^':
          items.push({ type: 'assert', kind: mode.m ? 'lineStart' : 'start' });
          break;
        case '$':
          items.push({ type: 'assert', kind: mode.m ? 'lineEnd' : this.dollarEndOnly ? 'end' : 'endOrFinalNewline' });
          break;
        case '\\': {
          this.pos--;
          const e = this.escape(mode, false);
          if (e.kind === 'byte') this.literal(items, e.value, mode);
          else if (e.kind === 'set') items.push({ type: 'set', bytes: e.set });
          else if (e.kind === 'node') items.push(e.node);
          else if (e.kind === 'quote') {
            const end = this.src.indexOf('\\E', this.pos);
            const text = this.src.slice(this.pos, end < 0 ? undefined : end);
            for (let k = 0; k < text.length; k++) this.literal(items, text.charCodeAt(k), mode);
            this.pos = end < 0 ? this.src.length : end + 2;
            if (text.length === 0) repeatable = wasRepeatable;
          } else repeatable = wasRepeatable;
          break;
        }
        default:
          if (c === '*' || c === '+' || c === '?') throw invalid(`quantifier at offset ${start} does not follow a repeatable item`);
          this.literal(items, c.charCodeAt(0), mode);
      }
    }
    return items.length === 1 ? items[0]! : { type: 'seq', items };
  }

  /** A quantifier at the current position, or null (a '{' that is not one is a literal). */
  private quantifier(mode: Mode): { min: number; max: number; greedy: boolean; possessive: boolean } | null {
    const c = this.peek();
    let min: number;
    let max: number;
    if (c === '*') [min, max] = [0, Infinity];
    else if (c === '+') [min, max] = [1, Infinity];
    else if (c === '?') [min, max] = [0, 1];
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.pos, this.pos + 16));
      if (m === null) return null;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      if (min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT)) throw invalid(`a repeat count above ${MAX_REPEAT}`);
      if (max < min) throw invalid(`{${min},${max}}: the numbers are out of order`);
      this.pos += m[0].length - 1;
    } else return null;
    this.pos++;
    let greedy = !mode.U;
    let possessive = false;
    if (this.peek() === '?') {
      greedy = !greedy;
      this.pos++;
    } else if (this.peek() === '+') {
      possessive = true;
      greedy = true;
      this.pos++;
    }
    return { min, max, greedy, possessive };
  }

  private groupName(terminator: string): string {
    const m = /^[A-Za-z_][A-Za-z0-9_]{0,31}/.exec(this.src.slice(this.pos, this.pos + 40));
    if (m === null || this.src[this.pos + m[0].length] !== terminator) throw invalid(`a group name at offset ${this.pos} is not letters, digits and _ closed by ${terminator}`);
    this.pos += m[0].length + 1;
    return m[0];
  }

  private group(mode: Mode): Node | null {
    const open = this.pos;
    this.pos++;
    if (this.peek() === '*') throw new RegexRefusedError('backtracking verb or start option', `(*...) at offset ${open}`);
    let kind: 'capture' | 'group' | 'atomic' | 'look' = 'capture';
    let ahead = true;
    let negate = false;
    let name: string | null = null;
    let inner = mode;
    if (this.peek() === '?') {
      this.pos++;
      const c = this.peek();
      const c2 = this.peek(1);
      if (c === '#') {
        const end = this.src.indexOf(')', this.pos);
        if (end < 0) throw invalid('a (?# comment is not closed');
        this.pos = end + 1;
        return null;
      } else if (c === ':') {
        kind = 'group';
        this.pos++;
      } else if (c === '>') {
        kind = 'atomic';
        this.pos++;
      } else if (c === '=' || c === '!') {
        kind = 'look';
        negate = c === '!';
        this.pos++;
      } else if (c === '<' && (c2 === '=' || c2 === '!')) {
        kind = 'look';
        ahead = false;
        negate = c2 === '!';
        this.pos += 2;
      } else if (c === '<' || c === "'" || (c === 'P' && c2 === '<')) {
        this.pos += c === 'P' ? 2 : 1;
        name = this.groupName(c === "'" ? "'" : '>');
      } else if (c === 'P' && c2 === '=') {
        this.pos += 2;
        const ref = this.groupName(')');
        const b: Backref = { user: 0, name: ref, caseless: mode.i, width: Infinity, first: null, bytes: null, never: false, js: 0 };
        this.backrefs.push(b);
        return { type: 'backref', node: b };
      } else if ((c === 'P' && c2 === '>') || c === 'R' || c === '&' || isDigit(c) || ((c === '+' || c === '-') && isDigit(c2))) {
        throw new RegexRefusedError('recursion or subroutine call', `(?${c}... at offset ${open}`);
      } else if (c === '(') {
        throw new RegexRefusedError('conditional group', `(?(...) at offset ${open}`);
      } else if (c === 'C') {
        throw new RegexRefusedError('callout', `(?C at offset ${open}`);
      } else if (c === '|') {
        throw new RegexRefusedError('branch reset group', `(?| at offset ${open}`);
      } else if (c === '*') {
        throw new RegexRefusedError('non-atomic lookaround', `(?* at offset ${open}`);
      } else {
        // Option settings: (?i) for the rest of the enclosing group, (?i:...) for this group.
        const m = /^(\^)?([imnsxUJ]*)(?:-([imnsxUJ]*))?([:)])/.exec(this.src.slice(this.pos, this.pos + 24));
        if (m === null) throw invalid(`unknown group syntax (?${c ?? ''} at offset ${open}`);
        const target = m[4] === ')' ? mode : { ...mode };
        if (m[1] !== undefined) Object.assign(target, { i: false, m: false, n: false, s: false, x: false, xx: false });
        const apply = (letters: string, on: boolean): void => {
          for (let k = 0; k < letters.length; k++) {
            const f = letters[k]! as 'i' | 'm' | 'n' | 's' | 'x' | 'U' | 'J';
            if (f === 'x') {
              if (on && letters[k + 1] === 'x') {
                target.xx = true;
                k++;
              } else target.xx = false;
            }
            target[f] = on;
          }
        };
        apply(m[2]!, true);
        apply(m[3] ?? '', false);
        this.pos += m[0].length;
        if (m[4] === ')') return null;
        kind = 'group';
        inner = target;
      }
    } else if (mode.n) kind = 'group';

    if (++this.depth > MAX_NESTING) throw invalid(`parentheses nest deeper than ${MAX_NESTING}`);
    let user: number | null = null;
    if (kind === 'capture') {
      user = ++this.groups;
      if (name !== null) {
        if (this.names.has(name)) {
          if (mode.J) throw new RegexRefusedError('duplicate group names', `(?J) and a second group named "${name}"`);
          throw invalid(`two groups are named "${name}"`);
        }
        this.names.set(name, user);
      }
    }
    const body = this.alternation(inner);
    if (this.peek() !== ')') throw invalid(`the group opened at offset ${open} is not closed`);
    this.pos++;
    this.depth--;
    if (kind === 'look' && !ahead) {
      if (maxWidth(body) === Infinity) throw invalid(`the lookbehind at offset ${open} has no maximum length, which PCRE requires`);
      for (const { node } of walk(body)) if (node.type === 'atomic') throw new RegexRefusedError('atomic group in a lookbehind', `at offset ${open}`);
    }
    if (kind === 'look') return { type: 'look', ahead, negate, body };
    if (kind === 'atomic') return { type: 'atomic', body, js: 0 };
    return { type: 'group', body, user, js: 0 };
  }

  private characterClass(mode: Mode): ByteSet {
    const open = this.pos;
    this.pos++;
    let negate = false;
    if (this.peek() === '^') {
      negate = true;
      this.pos++;
    }
    const set = emptySet();
    let first = true;
    let quoting = false;
    // The last single byte added, which a following '-' may turn into a range start.
    let pending = -1;
    for (;;) {
      if (this.pos >= this.src.length) throw invalid(`the character class at offset ${open} is not closed with "]"`);
      const c = this.src[this.pos]!;
      if (quoting) {
        if (c === '\\' && this.peek(1) === 'E') {
          quoting = false;
          this.pos += 2;
          continue;
        }
      } else {
        if (c === ']' && !first) {
          this.pos++;
          break;
        }
        if (mode.xx && (c === ' ' || c === '\t')) {
          this.pos++;
          continue;
        }
        if (c === '\\' && this.peek(1) === 'Q') {
          quoting = true;
          this.pos += 2;
          continue;
        }
        if (c === '\\' && this.peek(1) === 'E') {
          this.pos += 2;
          continue;
        }
      }
      first = false;
      // A range: the previous item was one byte, this is '-', and the class does not end here.
      if (!quoting && c === '-' && pending >= 0 && this.peek(1) !== undefined && this.peek(1) !== ']') {
        this.pos++;
        const hi = this.classAtom(mode, quoting);
        if (hi.kind === 'set') {
          // PCRE1 (Suricata 5, Snort 2) reads [a-\d] as a, '-' and \d; PCRE2 rejects it.
          add(set, 0x2d);
          addAll(set, hi.set);
          pending = -1;
          continue;
        }
        if (hi.value < pending) throw invalid(`the range at offset ${this.pos} runs backwards`);
        for (let b = pending; b <= hi.value; b++) addByte(set, b, mode.i);
        pending = -1;
        continue;
      }
      if (!quoting && c === '[' && this.peek(1) === ':') {
        const m = /^\[:(\^)?([a-z]+):\]/.exec(this.src.slice(this.pos, this.pos + 16));
        if (m !== null) {
          let name = m[2]!;
          // PCRE: with caseless matching, [:lower:] and [:upper:] mean [:alpha:].
          if (mode.i && (name === 'lower' || name === 'upper')) name = 'alpha';
          const cls = POSIX[name];
          if (cls === undefined) throw invalid(`unknown POSIX class [:${m[2]}:]`);
          addAll(set, m[1] === undefined ? cls : complement(cls));
          this.pos += m[0].length;
          pending = -1;
          continue;
        }
      }
      if (!quoting && c === '[' && (this.peek(1) === '.' || this.peek(1) === '=') && /^\[([.=]).*?\1\]/.test(this.src.slice(this.pos))) {
        throw invalid('POSIX collating elements ([.x.], [=x=]) are not supported by PCRE');
      }
      const atom = this.classAtom(mode, quoting);
      if (atom.kind === 'set') {
        addAll(set, atom.set);
        pending = -1;
      } else {
        addByte(set, atom.value, mode.i);
        pending = atom.value;
      }
    }
    return negate ? complement(set) : set;
  }

  /** One byte or one escape inside a class. */
  private classAtom(mode: Mode, quoting: boolean): { kind: 'byte'; value: number } | { kind: 'set'; set: ByteSet } {
    const c = this.src[this.pos]!;
    if (c === '\\' && !quoting) {
      const e = this.escape(mode, true);
      if (e.kind === 'byte' || e.kind === 'set') return e;
      throw invalid(`escape at offset ${this.pos} is not allowed in a character class`);
    }
    this.pos++;
    const code = c.charCodeAt(0);
    if (code <= 0xff) return { kind: 'byte', value: code };
    // A UTF-8 character in a non-UTF class is its bytes, each a member.
    const s = emptySet();
    for (const b of Buffer.from(c, 'utf8')) addByte(s, b, mode.i);
    return { kind: 'set', set: s };
  }

  /** A backslash sequence; pos is at the backslash. */
  private escape(mode: Mode, inClass: boolean): Escape {
    const at = this.pos;
    this.pos++;
    const c = this.src[this.pos];
    if (c === undefined) throw invalid('the pattern ends with a backslash');
    this.pos++;
    const byte = (value: number): Escape => {
      if (value > 0xff) throw invalid(`\\ escape at offset ${at} is above \\xff, which needs UTF mode`);
      return { kind: 'byte', value };
    };
    const set = (s: ByteSet): Escape => ({ kind: 'set', set: s });
    const node = (n: Node): Escape => {
      if (inClass) throw invalid(`\\${c} at offset ${at} is not allowed in a character class`);
      return { kind: 'node', node: n };
    };
    switch (c) {
      case 'a': return byte(0x07);
      case 'e': return byte(0x1b);
      case 'f': return byte(0x0c);
      case 'n': return byte(0x0a);
      case 'r': return byte(0x0d);
      case 't': return byte(0x09);
      case 'd': return set(DIGIT);
      case 'D': return set(complement(DIGIT));
      case 'w': return set(WORD);
      case 'W': return set(complement(WORD));
      case 's': return set(SPACE);
      case 'S': return set(complement(SPACE));
      case 'h': return set(HSPACE);
      case 'H': return set(complement(HSPACE));
      case 'v': return set(VSPACE);
      case 'V': return set(complement(VSPACE));
      case 'N':
        if (inClass) throw invalid('\\N is not allowed in a character class');
        if (this.peek() === '{' && !/^\{\d/.test(this.src.slice(this.pos))) throw invalid('\\N{name} needs UTF mode');
        return set(NOT_NEWLINE);
      case 'C':
        if (inClass) throw invalid('\\C is not allowed in a character class');
        return set(ALL);
      case 'b':
        return inClass ? byte(0x08) : node({ type: 'assert', kind: 'wordBoundary' });
      case 'B': return node({ type: 'assert', kind: 'notWordBoundary' });
      case 'A': return node({ type: 'assert', kind: 'start' });
      case 'z': return node({ type: 'assert', kind: 'end' });
      case 'Z': return node({ type: 'assert', kind: 'endOrFinalNewline' });
      case 'G': return node({ type: 'assert', kind: 'searchStart' });
      case 'R': {
        // \R is atomic in PCRE: (?>\r\n|\n|\x0b|\f|\r|\x85).
        const crlf: Node = { type: 'seq', items: [{ type: 'set', bytes: byteSet(0x0d) }, { type: 'set', bytes: byteSet(0x0a) }] };
        return node({ type: 'atomic', js: 0, body: { type: 'alt', branches: [crlf, { type: 'set', bytes: VSPACE }] } });
      }
      case 'K':
        throw new RegexRefusedError('\\K', `\\K at offset ${at} resets the match start; JavaScript has no equivalent`);
      case 'X':
        throw new RegexRefusedError('\\X', `\\X (extended grapheme cluster) at offset ${at}`);
      case 'p':
      case 'P':
        throw new RegexRefusedError('unicode property', `\\${c} at offset ${at}: character properties need UTF mode`);
      case 'Q':
        return inClass ? { kind: 'nothing' } : { kind: 'quote' };
      case 'E':
        return { kind: 'nothing' };
      case 'x': {
        if (this.peek() === '{') {
          const m = /^\{([0-9a-fA-F]+)\}/.exec(this.src.slice(this.pos));
          if (m === null) throw invalid(`\\x{ at offset ${at} is not hex digits closed by }`);
          this.pos += m[0].length;
          return byte(Number.parseInt(m[1]!, 16));
        }
        let v = 0;
        for (let k = 0; k < 2 && isHex(this.peek()); k++) v = v * 16 + Number.parseInt(this.src[this.pos++]!, 16);
        return byte(v);
      }
      case 'o': {
        const m = /^\{([0-7]+)\}/.exec(this.src.slice(this.pos));
        if (m === null) throw invalid(`\\o at offset ${at} needs octal digits in braces`);
        this.pos += m[0].length;
        return byte(Number.parseInt(m[1]!, 8));
      }
      case 'c': {
        const x = this.src[this.pos++];
        if (x === undefined || x.charCodeAt(0) < 0x20 || x.charCodeAt(0) > 0x7e) throw invalid(`\\c at offset ${at} needs a printable ASCII character after it`);
        return byte(x.toUpperCase().charCodeAt(0) ^ 0x40);
      }
      case 'g':
      case 'k':
        if (inClass) throw invalid(`\\${c} is not allowed in a character class`);
        return node(this.namedBackref(c, at, mode));
    }
    if (isDigit(c)) {
      this.pos--;
      return this.numericEscape(mode, inClass, at);
    }
    if (/[A-Za-z]/.test(c)) throw invalid(`unrecognized escape \\${c} at offset ${at}`);
    // Any other escaped character is itself.
    this.pos--;
    const code = this.src.charCodeAt(this.pos++);
    if (code > 0xff) {
      // Escaping a UTF-8 character: its bytes (only meaningful outside a class as a sequence; rare).
      throw new RegexRefusedError('escaped non-latin1 character', `\\ before U+${code.toString(16)} at offset ${at}`);
    }
    return byte(code);
  }

  /** \1, \12, \012, \0: a backreference or an octal byte, by PCRE's rules. */
  private numericEscape(mode: Mode, inClass: boolean, at: number): Escape {
    const c = this.src[this.pos]!;
    if (c !== '0' && !inClass) {
      const m = /^\d+/.exec(this.src.slice(this.pos))!;
      const n = Number(m[0]);
      // PCRE: a backreference when below 10, starting with 8 or 9, or when that many groups precede it.
      if (n < 10 || c === '8' || c === '9' || n <= this.groups) {
        this.pos += m[0].length;
        const b: Backref = { user: n, name: null, caseless: mode.i, width: Infinity, first: null, bytes: null, never: false, js: 0 };
        this.backrefs.push(b);
        return { kind: 'node', node: { type: 'backref', node: b } };
      }
    }
    if (inClass && (c === '8' || c === '9')) {
      this.pos++;
      return { kind: 'byte', value: c.charCodeAt(0) };
    }
    // Octal: \0 and up to two more digits, or up to three digits.
    let v = 0;
    for (let k = 0; k < 3 && isOctal(this.peek()); k++) v = v * 8 + Number(this.src[this.pos++]);
    if (v > 0xff) throw invalid(`octal escape at offset ${at} is above \\377`);
    return { kind: 'byte', value: v };
  }

  /** \g{n}, \g{-n}, \gn, \g{name}, \k<name>, \k'name', \k{name}. */
  private namedBackref(letter: string, at: number, mode: Mode): Node {
    const rest = this.src.slice(this.pos);
    let m: RegExpExecArray | null;
    let ref: number | string;
    if (letter === 'g' && (rest.startsWith('<') || rest.startsWith("'"))) {
      throw new RegexRefusedError('recursion or subroutine call', `\\g<...> at offset ${at} is a subroutine call`);
    } else if (letter === 'g' && (m = /^(?:\{(-?\d+)\}|(-?\d+))/.exec(rest)) !== null) {
      const n = Number(m[1] ?? m[2]);
      ref = n < 0 ? this.groups + 1 + n : n;
      if (n === 0) throw invalid(`\\g0 at offset ${at} is not a backreference`);
    } else if ((m = letter === 'g' ? /^\{([A-Za-z_]\w*)\}/.exec(rest) : /^(?:<([A-Za-z_]\w*)>|'([A-Za-z_]\w*)'|\{([A-Za-z_]\w*)\})/.exec(rest)) !== null) {
      ref = m[1] ?? m[2] ?? m[3]!;
    } else throw invalid(`\\${letter} at offset ${at} is not followed by a group number or name`);
    this.pos += m[0].length;
    const b: Backref = { user: typeof ref === 'number' ? ref : 0, name: typeof ref === 'string' ? ref : null, caseless: mode.i, width: Infinity, first: null, bytes: null, never: false, js: 0 };
    this.backrefs.push(b);
    return { type: 'backref', node: b };
  }
}

// ---------------------------------------------------------------------------------------------
// Analysis

/** Every node under n (n included), parents before children, in pattern order. */
function* walk(n: Node, parents: Node[] = []): Generator<{ node: Node; parents: Node[] }> {
  yield { node: n, parents };
  const down = [...parents, n];
  switch (n.type) {
    case 'seq': for (const x of n.items) yield* walk(x, down); break;
    case 'alt': for (const x of n.branches) yield* walk(x, down); break;
    case 'group':
    case 'atomic':
    case 'look':
    case 'repeat': yield* walk(n.body, down); break;
  }
}

function minWidth(n: Node): number {
  switch (n.type) {
    case 'set': return 1;
    case 'seq': return n.items.reduce((a, x) => a + minWidth(x), 0);
    case 'alt': return Math.min(...n.branches.map(minWidth));
    case 'group':
    case 'atomic': return minWidth(n.body);
    case 'repeat': return n.min * minWidth(n.body);
    default: return 0;
  }
}

function maxWidth(n: Node): number {
  switch (n.type) {
    case 'set':
    case 'endNewline':
    case 'lineStartNewline': return 1;
    case 'seq': return n.items.reduce((a, x) => a + maxWidth(x), 0);
    case 'alt': return Math.max(...n.branches.map(maxWidth));
    case 'group':
    case 'atomic': return maxWidth(n.body);
    case 'repeat': return n.max === 0 ? 0 : n.max * maxWidth(n.body);
    case 'backref': return n.node.width;
    default: return 0;
  }
}

interface First {
  /** The bytes a non-empty match can start with. */
  bytes: ByteSet;
  /** It can match the empty string. */
  nullable: boolean;
}

const NEWLINE = byteSet(0x0a);
/** Reset once backreferences know their groups (checkBackrefs), which changes what they can start with. */
let firstMemo = new WeakMap<Node, First>();

function first(n: Node): First {
  let f = firstMemo.get(n);
  if (f === undefined) {
    f = firstOf(n);
    firstMemo.set(n, f);
  }
  return f;
}

function firstOf(n: Node): First {
  switch (n.type) {
    case 'set': return { bytes: n.bytes, nullable: false };
    case 'seq': {
      const bytes = emptySet();
      for (const item of n.items) {
        const f = first(item);
        addAll(bytes, f.bytes);
        if (!f.nullable) return { bytes, nullable: false };
      }
      return { bytes, nullable: true };
    }
    case 'alt': {
      const bytes = emptySet();
      let nullable = false;
      for (const b of n.branches) {
        const f = first(b);
        addAll(bytes, f.bytes);
        nullable ||= f.nullable;
      }
      return { bytes, nullable };
    }
    case 'group':
    case 'atomic': return first(n.body);
    case 'repeat': {
      const f = first(n.body);
      return { bytes: f.bytes, nullable: n.min === 0 || f.nullable };
    }
    case 'backref': return n.node.never ? { bytes: emptySet(), nullable: false } : (n.node.first ?? { bytes: ALL, nullable: true });
    case 'endNewline':
    case 'lineStartNewline': return { bytes: NEWLINE, nullable: true };
    default: return { bytes: emptySet(), nullable: true };
  }
}

let lastMemo = new WeakMap<Node, First>();

/** The bytes a non-empty match of `n` can end with, and whether `n` can match empty. */
function last(n: Node): First {
  let f = lastMemo.get(n);
  if (f !== undefined) return f;
  switch (n.type) {
    case 'seq': {
      const bytes = emptySet();
      f = { bytes, nullable: true };
      for (let k = n.items.length - 1; k >= 0; k--) {
        const l = last(n.items[k]!);
        addAll(bytes, l.bytes);
        if (!l.nullable) {
          f = { bytes, nullable: false };
          break;
        }
      }
      break;
    }
    case 'alt': {
      const bytes = emptySet();
      let nullable = false;
      for (const b of n.branches) {
        const l = last(b);
        addAll(bytes, l.bytes);
        nullable ||= l.nullable;
      }
      f = { bytes, nullable };
      break;
    }
    case 'group':
    case 'atomic': f = last(n.body); break;
    case 'repeat': {
      const l = last(n.body);
      f = { bytes: l.bytes, nullable: n.min === 0 || l.nullable };
      break;
    }
    case 'backref': f = n.node.never ? { bytes: emptySet(), nullable: false } : { bytes: n.node.bytes ?? ALL, nullable: true }; break;
    default: f = first(n);
  }
  lastMemo.set(n, f);
  return f;
}

function union(a: ByteSet, b: ByteSet): ByteSet {
  const s = new Uint32Array(a);
  addAll(s, b);
  return s;
}

/** Longest fixed run considered for a period: occurrences of a prefix bound occurrences of the whole. */
const MAX_BLOCK = 32;

/**
 * The byte sets a node matches one after the other when it has a single way to match and a
 * fixed width (sets, fixed-count repeats of them; assertions add nothing). False otherwise.
 */
function fixedSets(n: Node, out: ByteSet[]): boolean {
  if (out.length >= MAX_BLOCK) return true;
  switch (n.type) {
    case 'set': out.push(n.bytes); return true;
    case 'assert': return true;
    case 'lineStartNewline': out.push(NEWLINE); return true;
    case 'group': return fixedSets(n.body, out);
    case 'seq': return n.items.every((x) => fixedSets(x, out));
    case 'repeat':
      if (n.min !== n.max) return false;
      for (let k = 0; k < n.min && out.length < MAX_BLOCK; k++) if (!fixedSets(n.body, out)) return false;
      return true;
    default: return false;
  }
}

/**
 * The smallest shift at which a run of byte sets can overlap itself: two places where it
 * matches are at least this far apart, so it matches in at most ceil(n / period) places of n.
 */
function period(sets: readonly ByteSet[]): number {
  for (let d = 1; d < sets.length; d++) {
    let overlaps = true;
    for (let k = 0; overlaps && k + d < sets.length; k++) overlaps = intersects(sets[k]!, sets[k + d]!);
    if (overlaps) return d;
  }
  return Math.max(1, sets.length);
}

interface Block {
  /** Index of the first item after the fixed run. */
  end: number;
  period: number;
  /** Its first byte set. */
  first: ByteSet;
  /** Two places where it matches can overlap (or it is longer than the part looked at). */
  overlaps: boolean;
}

const blockMemo = new WeakMap<Node, Map<number, Block | null>>();

/** The fixed run of items starting at items[from] (none when items[from] is not fixed). */
function blockAt(seq: Node & { type: 'seq' }, from: number): Block | null {
  let memo = blockMemo.get(seq);
  if (memo === undefined) blockMemo.set(seq, (memo = new Map()));
  let b = memo.get(from);
  if (b === undefined) {
    const sets: ByteSet[] = [];
    let end = from;
    while (end < seq.items.length) {
      const before = sets.length;
      const probe: ByteSet[] = [];
      if (!fixedSets(seq.items[end]!, probe)) break;
      sets.push(...probe.slice(0, MAX_BLOCK - before));
      end++;
    }
    const p = period(sets);
    b = sets.length === 0 ? null : { end, period: p, first: sets[0]!, overlaps: p < sets.length || sets.length >= MAX_BLOCK };
    memo.set(from, b);
  }
  return b;
}

/**
 * What follows a repeat's passes through a fixed run K, when it reads each byte of the subject a
 * bounded number of times over all passes together. After K come items W with one way each,
 * made of bytes and repeats (plainParts), none of which can hold K's last byte: a later pass's K
 * cannot start inside an earlier pass's W, so the W spans of different passes do not overlap and
 * their repeats take each byte once over all passes. Another fixed run and its W may follow, by
 * the same argument. Then possibly:
 * - a repeat V of a byte set that the last run's last byte is not in: the V runs do not overlap
 *   either, so V's ways over all passes add up to the subject's length (plus one a pass);
 * - a backreference whose group cannot hold the byte before it: each comparison starts a run of
 *   the group's bytes that no other pass starts, so the comparisons do not overlap.
 * Returns where the amortized items end, their steps per pass and their steps for all passes.
 */
function amortizedTail(items: readonly Node[], block: Block, itemWays: Float64Array, sufSteps: Float64Array, size: number): { end: number; perPass: number; once: number } | null {
  let runLast = last(items[block.end - 1]!).bytes;
  let end = block.end;
  let perPass = 0;
  let once = 0;
  // The items since the last fixed run: what the byte before a backreference can be.
  let wStart = end;
  // A later pass's K cannot start inside an earlier pass's W when W cannot hold K's last byte,
  // or (K never overlapping itself, so it starts after the earlier K) its first byte.
  let clash = (bytes: ByteSet): boolean => intersects(bytes, runLast) && (block.overlaps || intersects(bytes, block.first));
  for (;;) {
    const start = end;
    for (; end < items.length && itemWays[end] === 1; end++) {
      const bytes = emptySet();
      const parts = plainParts(items[end]!, bytes);
      if (parts === null || clash(bytes)) break;
      perPass += parts.fixed;
      once += 2 * size * parts.repeats;
    }
    // A further fixed run, which the next W is checked against.
    const runStart = end;
    while (end < items.length && itemWays[end] === 1 && fixedSets(items[end]!, [])) {
      perPass++;
      end++;
    }
    if (end > runStart) {
      const lastBytes = last(items[end - 1]!).bytes;
      runLast = lastBytes;
      clash = (bytes) => intersects(bytes, lastBytes);
      wStart = end;
    }
    if (end === start) break;
  }
  const next = items[end];
  if (next?.type === 'repeat' && next.body.type === 'set' && !clash(next.body.bytes)) {
    // Per pass: the rest once for its last way; over all passes: about twice the runs, and the
    // rest once per byte of them.
    return { end: end + 1, perPass: perPass + 1 + sufSteps[end + 1]!, once: once + 2 * size + size * sufSteps[end + 1]! };
  }
  if (next?.type === 'backref' && !next.node.never && next.node.bytes !== null && itemWays[end] === 1) {
    const before = last({ type: 'seq', items: items.slice(wStart, end) });
    const lastBytes = before.nullable ? union(before.bytes, runLast) : before.bytes;
    if (!intersects(lastBytes, next.node.bytes)) return { end: end + 1, perPass: perPass + 1 + sufSteps[end + 1]!, once: once + size };
  }
  return end > block.end ? { end, perPass: perPass + sufSteps[end]!, once } : null;
}

/**
 * A node made of bytes, repeats and groups only (no alternatives, lookarounds or references):
 * its work is a step per byte it checks and two per byte its repeats take. Adds its bytes to
 * `bytes`; null for other nodes.
 */
function plainParts(n: Node, bytes: ByteSet): { repeats: number; fixed: number } | null {
  switch (n.type) {
    case 'set':
      addAll(bytes, n.bytes);
      return { repeats: 0, fixed: 1 };
    case 'assert': return { repeats: 0, fixed: 1 };
    case 'group': return plainParts(n.body, bytes);
    case 'seq': {
      const total = { repeats: 0, fixed: 0 };
      for (const x of n.items) {
        const p = plainParts(x, bytes);
        if (p === null) return null;
        total.repeats += p.repeats;
        total.fixed += p.fixed;
      }
      return total;
    }
    case 'repeat': {
      const p = plainParts(n.body, bytes);
      return p === null ? null : { repeats: p.repeats + 1, fixed: p.fixed + 1 };
    }
    default: return null;
  }
}

/** What can follow a node: bytes, or null when anything (or the end of the subject) can. */
type Follow = ByteSet | null;

/** Nothing follows: the first success ends the search (the pattern's end, a lookaround's, an atomic group's). */
const SEARCH_ENDS: Follow = emptySet();

interface Cost {
  /** Steps to try every way the node can match from one position. */
  steps: number;
  /** How many of those ways the continuation is run for. */
  ways: number;
  /** A repeat without an upper bound over a body that can match in several ways. */
  exponential: boolean;
}

const oneWayMemo = new WeakMap<Node, boolean>();

/** The node can match in at most one way from a given position (whatever follows it). */
function oneWay(n: Node): boolean {
  let r = oneWayMemo.get(n);
  if (r === undefined) {
    switch (n.type) {
      case 'seq': r = n.items.every(oneWay); break;
      case 'alt': {
        const firsts = n.branches.map(first);
        r = n.branches.every(oneWay) && firsts.every((f) => !f.nullable) && firsts.every((f, a) => firsts.every((g, b) => b <= a || !intersects(f.bytes, g.bytes)));
        break;
      }
      case 'group': r = oneWay(n.body); break;
      case 'repeat': r = n.min === n.max && oneWay(n.body); break;
      default: r = true;
    }
    oneWayMemo.set(n, r);
  }
  return r;
}

/**
 * A repeat of a body with one way to match and some width: its counts end at distinct positions
 * (consecutive ones when the body is one byte of `set`).
 */
function distinctEnds(n: Node): { set: ByteSet | null } | null {
  if (n.type === 'group') return distinctEnds(n.body);
  if (n.type !== 'repeat' || minWidth(n.body) === 0 || !oneWay(n.body)) return null;
  return { set: n.body.type === 'set' ? n.body.bytes : null };
}

/**
 * A static bound on backtracking for a subject of `size` bytes. Sequences multiply (each way of
 * an item runs the rest), alternatives add, a repeat multiplies by its count range. Refinements
 * keep common patterns from looking worse than they are, each a counting argument:
 * - a repeat whose body cannot start with what follows it hands on one way (at every other count
 *   the continuation fails on its first byte);
 * - alternatives with disjoint first bytes let only one branch past its first byte;
 * - a repeat followed by a fixed run of bytes with period p: its counts end at distinct
 *   positions, and the run matches at no more than one in p of them.
 * `follow` is what the continuation must start with, or null when it may match empty.
 */
const ONE_STEP: Cost = Object.freeze({ steps: 1, ways: 1, exponential: false });

function cost(n: Node, size: number, follow: Follow): Cost {
  switch (n.type) {
    case 'set':
    case 'assert':
    case 'endNewline':
    case 'lineStartNewline': return ONE_STEP;
    case 'backref': return { steps: n.node.never ? 1 : Math.min(size, n.node.width) + 1, ways: 1, exponential: false };
    case 'look': {
      const c = cost(n.body, size, SEARCH_ENDS);
      return { steps: c.steps + 1, ways: 1, exponential: c.exponential };
    }
    case 'atomic': {
      const c = cost(n.body, size, SEARCH_ENDS);
      return { steps: c.steps + Math.min(size, maxWidth(n.body)), ways: 1, exponential: c.exponential };
    }
    case 'group': return cost(n.body, size, follow);
    case 'seq': return seqCost(n, size, follow);
    case 'alt': {
      const parts = n.branches.map((b) => cost(b, size, follow));
      const firsts = n.branches.map(first);
      const exp = parts.some((p) => p.exponential);
      // At one position only the branches that can start with its byte get past their first
      // byte; the others cost a step each (when a byte is the first thing they check).
      const fail = n.branches.map((b, i) => (startsWithByte(b) ? 1 : parts[i]!.steps));
      let disjoint = firsts.every((f) => !f.nullable);
      for (let a = 0; disjoint && a < firsts.length; a++) {
        for (let b = a + 1; disjoint && b < firsts.length; b++) if (intersects(firsts[a]!.bytes, firsts[b]!.bytes)) disjoint = false;
      }
      if (disjoint) {
        // The common case, without the byte-by-byte count below.
        const failAll = fail.reduce((a, f) => a + f, 0);
        let steps = 0;
        parts.forEach((p, i) => (steps = Math.max(steps, failAll - fail[i]! + p.steps)));
        return { steps, ways: Math.max(...parts.map((p) => p.ways)), exponential: exp };
      }
      let steps = 0;
      let ways = 0;
      for (let c = -1; c < 256; c++) {
        let s = 0;
        let w = 0;
        parts.forEach((p, i) => {
          const f = firsts[i]!;
          if (f.nullable || (c >= 0 && has(f.bytes, c))) {
            s += p.steps;
            w += p.ways;
          } else s += fail[i]!;
        });
        steps = Math.max(steps, s);
        ways = Math.max(ways, w);
      }
      return { steps, ways: Math.max(1, ways), exponential: exp };
    }
    case 'repeat': {
      const w = minWidth(n.body);
      const count = Math.min(n.max, w > 0 ? Math.floor(size / w) : size);
      const bodyFirst = first(n.body);
      // After an iteration comes another iteration or the continuation.
      const inner = cost(n.body, size, follow === null ? null : union(bodyFirst.bytes, follow));
      const choices = Math.max(1, count - n.min + 1);
      const single = follow !== null && !bodyFirst.nullable && !intersects(bodyFirst.bytes, follow);
      if (inner.ways <= 1) return { steps: count * inner.steps + choices, ways: single ? 1 : choices, exponential: inner.exponential };
      // An ambiguous body: iteration k runs once for each way of the k - 1 before it.
      let steps = 0;
      let ways = 0;
      let reach = 1;
      for (let k = 0; k <= count && Number.isFinite(reach); k++) {
        if (k >= n.min) ways += reach;
        if (k < count) steps += reach * inner.steps;
        reach *= inner.ways;
      }
      if (!Number.isFinite(reach) && count > 0) steps = ways = Infinity;
      return { steps: steps + 1, ways: single ? 1 : ways, exponential: inner.exponential || n.max === Infinity };
    }
  }
}

/** The node checks a byte before anything else: failing on it costs one step. */
function startsWithByte(n: Node): boolean {
  switch (n.type) {
    case 'set': return true;
    case 'seq': return n.items.length > 0 && startsWithByte(n.items[0]!);
    case 'group': return startsWithByte(n.body);
    case 'repeat': return n.min >= 1 && startsWithByte(n.body);
    case 'alt': return n.branches.every(startsWithByte);
    default: return false;
  }
}

/**
 * A sequence, right to left: steps(a rest) = steps(a) + ways(a) * steps(rest), each item costed
 * with what can follow it. For a repeat of a byte set A whose counts end at consecutive
 * positions, two tighter counts apply (the smaller is taken):
 * - at every end but the last the next byte is in A, so the rest only runs past items that
 *   cannot start with an A byte (each matching empty) up to one that can;
 * - when a fixed run K follows, K starts at no more than one end in its period (and what
 *   follows K may be amortized over all of them, see amortizedTail).
 */
function seqCost(n: Node & { type: 'seq' }, size: number, follow: Follow): Cost {
  const items = n.items;
  const sufSteps = new Float64Array(items.length + 1);
  const sufWays = new Float64Array(items.length + 1).fill(1);
  const itemSteps = new Float64Array(items.length);
  const itemWays = new Float64Array(items.length);
  let exp = false;
  let tail: First = { bytes: emptySet(), nullable: true };
  for (let k = items.length - 1; k >= 0; k--) {
    const item = items[k]!;
    const after = tail.nullable ? (follow === null ? null : union(tail.bytes, follow)) : tail.bytes;
    const c = cost(item, size, after);
    itemSteps[k] = c.steps;
    itemWays[k] = c.ways;
    exp ||= c.exponential;
    let steps = c.steps + c.ways * sufSteps[k + 1]!;
    let ways = c.ways * sufWays[k + 1]!;
    const ends = c.ways > 1 ? distinctEnds(item) : null;
    if (ends !== null && ends.set !== null) {
      const inside = insideEnds(items, k, ends.set, itemSteps, sufSteps, sufWays);
      steps = Math.min(steps, c.steps + (c.ways - 1) * inside.steps + sufSteps[k + 1]!);
      ways = Math.min(ways, (c.ways - 1) * inside.ways + sufWays[k + 1]!);
    }
    const block = ends !== null ? blockAt(n, k + 1) : null;
    if (ends !== null && block !== null) {
      const passes = ends.set !== null ? Math.ceil(c.ways / block.period) : Math.min(c.ways, Math.ceil(size / block.period) + 1);
      const amortized = amortizedTail(items, block, itemWays, sufSteps, size);
      if (passes < c.ways || amortized !== null) {
        const blockSteps = sufSteps[k + 1]! - sufSteps[block.end]!;
        let perPass = sufSteps[block.end]!;
        let once = 0;
        if (amortized !== null) {
          perPass = amortized.perPass;
          once = amortized.once;
        }
        steps = Math.min(steps, c.steps + c.ways * blockSteps + passes * perPass + once);
        ways = Math.min(ways, passes * sufWays[block.end]!);
      }
    }
    sufSteps[k] = steps;
    sufWays[k] = ways;
    const f = first(item);
    tail = f.nullable ? { bytes: union(f.bytes, tail.bytes), nullable: tail.nullable } : f;
  }
  return { steps: sufSteps[0]!, ways: sufWays[0]!, exponential: exp };
}

/** The rest of a sequence after items[k] when the next byte is in `set`: its steps and ways. */
function insideEnds(items: readonly Node[], k: number, set: ByteSet, itemSteps: Float64Array, sufSteps: Float64Array, sufWays: Float64Array): { steps: number; ways: number } {
  let steps = 0;
  for (let j = k + 1; j < items.length; j++) {
    const item = items[j]!;
    const f = first(item);
    if (intersects(f.bytes, set)) return { steps: steps + sufSteps[j]!, ways: sufWays[j]! };
    if (!f.nullable) return { steps: steps + 1, ways: 0 };
    // It can only match empty here.
    steps += item.type === 'set' || (item.type === 'repeat' && item.body.type === 'set') ? 1 : itemSteps[j]!;
  }
  return { steps, ways: 1 };
}

/** True when the pattern can only match at the position the search starts from (or at 0). */
function anchoredAtStart(n: Node): boolean {
  switch (n.type) {
    case 'assert': return n.kind === 'start' || n.kind === 'searchStart';
    case 'seq': return n.items.length > 0 && anchoredAtStart(n.items[0]!);
    case 'alt': return n.branches.every(anchoredAtStart);
    case 'group':
    case 'atomic': return anchoredAtStart(n.body);
    default: return false;
  }
}

/**
 * The bound on one whole search over `size` bytes: a search tries each start position, and at
 * each start each top-level alternative. An alternative anchored at the start is tried in full
 * once. One that begins with a fixed run of bytes costs at most the run's length at a start
 * where the run fails, and gets past it at no more than one start in its period.
 */
function searchBound(root: Node, size: number, sticky: boolean, run: boolean): number {
  if (sticky || anchoredAtStart(root)) return size + cost(root, size, SEARCH_ENDS).steps;
  if (run) {
    // Starts at the first position and where runs begin: the repeat's passes over the runs add up
    // to one pass over the subject. A repeat that can be empty also runs the rest at every start.
    const items = root.type === 'seq' ? root.items : [root];
    const head = items[0] as Node & { type: 'repeat' };
    const rest: Node = { type: 'seq', items: items.slice(1) };
    return 2 * size + 2 * cost(root, size, SEARCH_ENDS).steps + (head.min === 0 ? size * cost(rest, size, SEARCH_ENDS).steps : 0);
  }
  // Trying every start is what a lazy [^]*? in front would do: the sequence rules then count the
  // starts that get past a leading fixed run.
  let top = root;
  while (top.type === 'group') top = top.body;
  let total = size;
  for (const branch of top.type === 'alt' ? top.branches : [top]) {
    if (anchoredAtStart(branch)) total += size + cost(branch, size, SEARCH_ENDS).steps;
    else total += cost(searchForm(branch), size, SEARCH_ENDS).steps;
  }
  return total;
}

const searchForms = new WeakMap<Node, Node>();

function searchForm(branch: Node): Node {
  let f = searchForms.get(branch);
  if (f === undefined) {
    const anyLazy: Node = { type: 'repeat', body: { type: 'set', bytes: ALL }, min: 0, max: Infinity, greedy: false };
    f = { type: 'seq', items: [anyLazy, ...(branch.type === 'seq' ? branch.items : [branch])] };
    searchForms.set(branch, f);
  }
  return f;
}

/** How far past a match's end the pattern's assertions may look (Infinity: unbounded). */
function horizon(n: Node): number {
  switch (n.type) {
    case 'assert': return n.kind === 'start' || n.kind === 'searchStart' ? 0 : 2;
    case 'endNewline': return 2;
    case 'seq': return Math.max(0, ...n.items.map(horizon));
    case 'alt': return Math.max(0, ...n.branches.map(horizon));
    case 'group':
    case 'repeat': return horizon(n.body);
    case 'look': return n.ahead ? maxWidth(n.body) + 2 : horizon(n.body);
    case 'atomic': return maxWidth(n.body) + 2;
    default: return 0;
  }
}

/**
 * Backreferences JavaScript runs as PCRE does. PCRE fails a reference to a group that has not
 * matched; JavaScript matches it as empty, and forgets a group's value at each new iteration of
 * a repeat where PCRE keeps the last one. So a reference must be to a group that has matched
 * whenever the reference is reached; or to one that never has (it then never matches: `never`);
 * or be optional itself (failing and matching empty then lead to the same place). Sets each
 * reference's width, first bytes and possible bytes from its group.
 */
function checkBackrefs(root: Node): void {
  const all = [...walk(root)];
  interface GroupInfo {
    body: Node;
    parents: Node[];
    end: number;
    width: number;
    bytes: ByteSet;
  }
  const groups = new Map<number, GroupInfo>();
  all.forEach(({ node, parents }, index) => {
    if (node.type !== 'group' || node.user === null) return;
    let end = index;
    while (end + 1 < all.length && all[end + 1]!.parents.includes(node)) end++;
    // Bytes it can capture: its sets outside lookarounds, and what the groups it references hold.
    const bytes = emptySet();
    for (const { node: inner, parents: ps } of walk(node.body)) {
      if (ps.some((p) => p.type === 'look') || inner.type === 'look') continue;
      if (inner.type === 'set') addAll(bytes, inner.bytes);
      else if (inner.type === 'backref') addAll(bytes, groups.get(inner.node.user)?.bytes ?? ALL);
    }
    groups.set(node.user, { body: node.body, parents, end, width: maxWidth(node.body), bytes });
  });
  const isLookbehind = (p: Node): boolean => p.type === 'look' && !p.ahead;
  const repeats = (ps: readonly Node[]): boolean => ps.some((p) => p.type === 'repeat' && p.max > 1);
  all.forEach(({ node, parents }, index) => {
    if (node.type !== 'backref') return;
    const b = node.node;
    const g = groups.get(b.user)!;
    const refuse = (why: string): never => {
      throw new RegexRefusedError('backreference JavaScript runs differently', `\\${b.user}: ${why}`);
    };
    if (parents.some(isLookbehind) || g.parents.some(isLookbehind)) refuse('inside a lookbehind, which JavaScript matches backwards');
    let k = 0;
    while (k < g.parents.length && k < parents.length && g.parents[k] === parents[k]) k++;
    const shared = parents.slice(0, k);
    // Not yet closed, or in another alternative: never set, unless an enclosing repeat set it before.
    if (g.end >= index || shared[k - 1]?.type === 'alt') {
      if (repeats(shared)) refuse('the group is only set by an earlier iteration of a repeat, which JavaScript forgets');
      b.never = true;
      b.width = 0;
      return;
    }
    let optional = false;
    for (let i = parents.length - 1; i >= 0; i--) {
      const p = parents[i]!;
      if (p.type === 'group' && p.user === null) continue;
      optional = p.type === 'repeat' && p.min === 0;
      break;
    }
    const below = g.parents.slice(k);
    if (below.some((p) => p.type === 'look' && p.negate)) refuse('the group is in a negative lookahead');
    const conditional = below.some((p) => p.type === 'alt' || (p.type === 'repeat' && p.min === 0));
    if (conditional && (!optional || repeats(below))) refuse('the group may not have matched where it is referenced');
    b.width = g.width;
    b.bytes = g.bytes;
  });
  firstMemo = new WeakMap();
  lastMemo = new WeakMap();
  for (const { node } of all) if (node.type === 'backref' && !node.node.never) node.node.first = first(groups.get(node.node.user)!.body);
  firstMemo = new WeakMap();
}

// ---------------------------------------------------------------------------------------------
// Exact rewrites: cheaper for V8's backtracking, and fit for its linear engine

/** $, \Z and multiline $ with nothing after them in any match become endNewline. */
function rewriteTerminalEnds(n: Node): Node {
  switch (n.type) {
    case 'assert':
      return n.kind === 'endOrFinalNewline' || n.kind === 'lineEnd' ? { type: 'endNewline', multiline: n.kind === 'lineEnd', js: 0 } : n;
    case 'seq': {
      const last = n.items[n.items.length - 1];
      return last === undefined ? n : { type: 'seq', items: [...n.items.slice(0, -1), rewriteTerminalEnds(last)] };
    }
    case 'alt': return { type: 'alt', branches: n.branches.map(rewriteTerminalEnds) };
    case 'group': {
      n.body = rewriteTerminalEnds(n.body);
      return n;
    }
    default: return n;
  }
}

/**
 * A multiline ^ that begins every branch, with something after it that is never empty, becomes
 * lineStartNewline (^A|^B is ^(?:A|B)). Non-empty: a match can then never start after the final
 * newline, where PCRE's multiline ^ does not match.
 */
function rewriteLeadingLineStart(root: Node): Node {
  const rest = (n: Node): Node | null => {
    if (n.type === 'seq' && n.items[0]?.type === 'assert' && n.items[0].kind === 'lineStart') {
      return n.items.length === 2 ? n.items[1]! : { type: 'seq', items: n.items.slice(1) };
    }
    return null;
  };
  const branches = root.type === 'alt' ? root.branches : [root];
  const rests = branches.map(rest);
  if (rests.some((r) => r === null || minWidth(r) === 0)) return root;
  const body: Node = rests.length === 1 ? rests[0]! : { type: 'group', user: null, js: 0, body: { type: 'alt', branches: rests as Node[] } };
  return { type: 'seq', items: [{ type: 'lineStartNewline', js: 0 }, body] };
}

function sameSet(a: ByteSet, b: ByteSet): boolean {
  for (let k = 0; k < 8; k++) if (a[k] !== b[k]) return false;
  return true;
}

type Run = Node & { type: 'repeat'; body: Node & { type: 'set' } };

function isRun(x: Node | undefined): x is Run {
  return x?.type === 'repeat' && x.body.type === 'set' && x.max === Infinity && x.greedy;
}

/**
 * A*B?A* (A, B byte sets, B outside A, greedy) as A*(?:BA*)?: without the B the two repeats
 * split one run of A in every way, and V8 tries each split (quadratic in the run, and it
 * multiplies with what follows). Exact: both try the same end positions, farthest first.
 * Common in rules as \s*[\x22\x27]?\s* and \s*\{?\s*.
 */
function disambiguate(n: Node): Node {
  switch (n.type) {
    case 'seq': {
      // Nested sequences (and non-capturing groups around them) are one sequence.
      const items = n.items.map(disambiguate).flatMap((x) => (x.type === 'seq' ? x.items : x.type === 'group' && x.user === null && x.body.type === 'seq' ? x.body.items : [x]));
      for (let k = 0; k + 2 < items.length; k++) {
        const a = items[k];
        const o = items[k + 1]!;
        const b = items[k + 2];
        if (!isRun(a) || !isRun(b) || b.min !== 0 || !sameSet(a.body.bytes, b.body.bytes)) continue;
        if (o.type !== 'repeat' || o.min !== 0 || o.max !== 1 || !o.greedy || o.body.type !== 'set' || intersects(o.body.bytes, a.body.bytes)) continue;
        const optional: Node = { type: 'repeat', min: 0, max: 1, greedy: true, body: { type: 'group', user: null, js: 0, body: { type: 'seq', items: [o.body, b] } } };
        items.splice(k + 1, 2, optional);
      }
      return { type: 'seq', items };
    }
    case 'alt': return { type: 'alt', branches: n.branches.map(disambiguate) };
    case 'group': return { ...n, body: disambiguate(n.body) };
    case 'atomic': return { ...n, body: disambiguate(n.body) };
    case 'look': return { ...n, body: disambiguate(n.body) };
    case 'repeat': return { ...n, body: disambiguate(n.body) };
    default: return n;
  }
}

/**
 * V8's linear engine copies a counted repeat's body once per count and allows at most 16 copies;
 * X{n,} takes n + 1 (Node 20's V8), so there n is at most 15.
 */
const LINEAR_MAX_COUNT = 16;
/** Chunks a split repeat may become: past this the pattern text grows more than the gain is worth. */
const MAX_CHUNKS = 128;

function hasCapture(n: Node): boolean {
  switch (n.type) {
    case 'group': return n.user !== null || hasCapture(n.body);
    case 'atomic':
    case 'endNewline':
    case 'lineStartNewline': return true;
    case 'seq': return n.items.some(hasCapture);
    case 'alt': return n.branches.some(hasCapture);
    case 'look':
    case 'repeat': return hasCapture(n.body);
    default: return false;
  }
}

/** Mandatory repeats of one byte written out up to this count: V8 runs a counted loop several times slower. */
const MAX_UNROLL = 256;

/**
 * Counted repeats, exactly (a fixed count offers no choice to backtrack into): the mandatory
 * part of a repeated byte set written out, X{3,5} as XXXX{0,2}, since V8 checks written-out bytes
 * several times faster than a counted loop; other counts above V8's linear-engine limit as
 * chunks, Y{40} as Y{16}Y{16}Y{8}, so V8 can fall back to that engine. Counted ranges stay
 * whole: split, Y{0,40} would be exact too but give a backtracking search many splits of the
 * same total to try.
 */
function splitRepeats(n: Node): Node {
  switch (n.type) {
    case 'seq': return { type: 'seq', items: n.items.map(splitRepeats) };
    case 'alt': return { type: 'alt', branches: n.branches.map(splitRepeats) };
    case 'group':
    case 'atomic':
    case 'look': return { ...n, body: splitRepeats(n.body) };
    case 'repeat': {
      const body = splitRepeats(n.body);
      if (body.type === 'set' && n.min > 1 && n.min <= MAX_UNROLL) {
        const items: Node[] = Array.from({ length: n.min }, () => body);
        if (n.max > n.min) items.push({ type: 'repeat', body, min: 0, max: n.max - n.min, greedy: n.greedy });
        return { type: 'seq', items };
      }
      const fits = n.max === Infinity ? n.min < LINEAR_MAX_COUNT : n.max <= LINEAR_MAX_COUNT;
      if (fits || hasCapture(body) || n.min / LINEAR_MAX_COUNT > MAX_CHUNKS) return { ...n, body };
      const parts: Node[] = [];
      let min = n.min;
      let max = n.max;
      while (min > LINEAR_MAX_COUNT || (max === Infinity && min >= LINEAR_MAX_COUNT)) {
        parts.push({ type: 'repeat', body, min: LINEAR_MAX_COUNT, max: LINEAR_MAX_COUNT, greedy: n.greedy });
        min -= LINEAR_MAX_COUNT;
        max -= LINEAR_MAX_COUNT;
      }
      parts.push({ type: 'repeat', body, min, max, greedy: n.greedy });
      return parts.length === 1 ? parts[0]! : { type: 'seq', items: parts };
    }
    default: return n;
  }
}

/**
 * A pattern that begins with an unbounded repeat of a byte set X: a match that starts inside a
 * run of X bytes means one from the run's first byte (the repeat can take the extra bytes), which
 * a search reaches first. So after its first position a search only needs to try positions that
 * do not follow an X byte: (?<!X) in front. Without this a subject of X bytes costs V8 time
 * quadratic in its length (the repeat rescans the run from every position), whatever follows.
 */
function leadingRun(root: Node): ByteSet | null {
  const head = root.type === 'seq' ? root.items[0] : root;
  return head?.type === 'repeat' && head.max === Infinity && head.body.type === 'set' ? head.body.bytes : null;
}

// ---------------------------------------------------------------------------------------------
// Output

function hex2(c: number): string {
  return c.toString(16).padStart(2, '0');
}

function emitByte(c: number, inClass: boolean): string {
  if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) return String.fromCharCode(c);
  if (!inClass && c === 0x20) return ' ';
  return `\\x${hex2(c)}`;
}

function ranges(s: ByteSet): string {
  let out = '';
  for (let c = 0; c < 256; c++) {
    if (!has(s, c)) continue;
    let e = c;
    while (e + 1 < 256 && has(s, e + 1)) e++;
    out += emitByte(c, true);
    if (e > c + 1) out += '-' + emitByte(e, true);
    else if (e === c + 1) out += emitByte(e, true);
    c = e;
  }
  return out;
}

function emitSet(s: ByteSet): string {
  let count = 0;
  let only = -1;
  for (let c = 0; c < 256; c++) {
    if (has(s, c)) {
      count++;
      only = c;
    }
  }
  if (count === 0) return '[]';
  if (count === 256) return '[^]';
  if (count === 1) return emitByte(only, false);
  const pos = ranges(s);
  const neg = ranges(complement(s));
  return neg.length < pos.length ? `[^${neg}]` : `[${pos}]`;
}

/** Gives every capturing group (the pattern's and the emulations') its number in the output. */
function numberGroups(root: Node): Map<number, number> {
  const users = new Map<number, number>();
  let next = 0;
  for (const { node } of walk(root)) {
    if (node.type === 'atomic' || node.type === 'endNewline' || node.type === 'lineStartNewline') node.js = ++next;
    else if (node.type === 'backref' && node.node.js > 0) node.node.js = ++next;
    else if (node.type === 'group' && node.user !== null) {
      node.js = ++next;
      users.set(node.user, node.js);
    }
  }
  return users;
}

interface EmitContext {
  /** JavaScript group number of each PCRE group. */
  users: ReadonlyMap<number, number>;
  /** Searching from a position after 0: a leading multiline ^ can only be a newline there. */
  later: boolean;
}

function emit(n: Node, cx: EmitContext): string {
  switch (n.type) {
    case 'set': return emitSet(n.bytes);
    case 'seq': return n.items.map((x) => emitAtom(x, cx, false)).join('');
    case 'alt': return n.branches.map((b) => emit(b, cx)).join('|');
    case 'group': return `(${n.user === null ? '?:' : ''}${emit(n.body, cx)})`;
    case 'look': return `(?${n.ahead ? '' : '<'}${n.negate ? '!' : '='}${emit(n.body, cx)})`;
    // JavaScript lookaheads never backtrack into themselves: capturing inside one and consuming
    // the capture is exactly an atomic group.
    case 'atomic': return `(?:(?=(${emit(n.body, cx)}))\\${n.js})`;
    case 'backref': return n.node.never ? '[]' : n.node.js > 0 ? `(\\${cx.users.get(n.node.user)!})` : `(?:\\${cx.users.get(n.node.user)!})`;
    case 'endNewline': return n.multiline ? '(?:(\\n)|$)' : '(?:(\\n)?$)';
    case 'lineStartNewline': return cx.later ? '(\\n)' : '(?:^|(\\n))';
    case 'repeat': {
      const q = n.min === 0 && n.max === Infinity ? '*' : n.min === 1 && n.max === Infinity ? '+' : n.min === 0 && n.max === 1 ? '?' : n.max === Infinity ? `{${n.min},}` : n.min === n.max ? `{${n.min}}` : `{${n.min},${n.max}}`;
      return emitAtom(n.body, cx, true) + q + (n.greedy || n.min === n.max ? '' : '?');
    }
    case 'assert':
      switch (n.kind) {
        case 'start': return '^';
        case 'end': return '$';
        case 'endOrFinalNewline': return '(?=\\n?$)';
        case 'lineStart': return '(?:^|(?<=\\n)(?=[^]))';
        case 'lineEnd': return '(?![^\\n])';
        case 'wordBoundary': return '\\b';
        case 'notWordBoundary': return '\\B';
        case 'searchStart': throw new RegexRefusedError('\\G', '\\G other than at the start of the pattern');
      }
  }
}

/** A node as one quantifiable atom in a sequence. */
function emitAtom(n: Node, cx: EmitContext, quantified: boolean): string {
  const s = emit(n, cx);
  if (n.type === 'alt' || (n.type === 'seq' && (quantified || n.items.length !== 1))) return `(?:${s})`;
  return s;
}

// ---------------------------------------------------------------------------------------------
// The compiled pattern

/** A search's result: found, not found, or not known because the subject was capped. */
export type SearchResult = typeof FOUND | typeof NOT_FOUND | typeof UNKNOWN;
export const FOUND = 1;
export const NOT_FOUND = 0;
export const UNKNOWN = -1;

/** The PCRE modifiers that matter to the regular expression itself (the rest are the keyword's). */
export interface PcreFlags {
  caseless?: boolean;
  dotall?: boolean;
  multiline?: boolean;
  extended?: boolean;
  /** A: the match must start where the search starts. */
  anchored?: boolean;
  /** E: $ matches only at the very end. */
  dollarEndOnly?: boolean;
  /** G: quantifiers are lazy unless followed by ?. */
  ungreedy?: boolean;
}

/** Subject sizes at which a pattern's bound is kept, for charging searches to the inspection budget. */
const BOUND_SIZES = [256, 2048, 16384, MAX_SUBJECT];

/** A PCRE pattern ready to search latin1 strings. */
export class PcreRegex {
  /** The JavaScript RegExp source (for a search from position 0). */
  readonly source: string;
  /** V8 can rerun it on its linear-time engine (after BACKTRACKS_BEFORE_LINEAR backtracks): a backstop only. */
  readonly linear: boolean;
  /** Bytes searched past the start position: Infinity when the bound over 64 KiB fits the budget. */
  readonly cap: number;
  /** How far past a match end its assertions may look (0: none). */
  readonly horizon: number;
  /** The static bound on one search's backtracking steps over the whole (capped) subject. */
  readonly boundSteps: number;
  /** Start of the last match found. */
  start = 0;
  /** End of the last match found. */
  end = 0;
  /** The search from the first position (from every position, unless reNext is set). */
  private readonly re: RegExp;
  /**
   * After the first position: with a leading multiline ^, the form that needs the newline; with
   * a leading run, the form that skips positions inside a run (`run`).
   */
  private readonly reNext: RegExp | null;
  private readonly run: ByteSet | null;
  private readonly sticky: boolean;
  private readonly startGroup: number;
  private readonly endGroups: readonly number[];
  /** workBound at BOUND_SIZES. */
  private readonly bounds: readonly number[];
  /** Backreferences to check after a match made with the `i` flag: group and reference numbers. */
  private readonly checks: ReadonlyArray<{ group: number; ref: number; caseless: boolean }>;

  constructor(
    readonly pattern: string,
    flags: PcreFlags = {},
  ) {
    const mode: Mode = { i: flags.caseless === true, m: flags.multiline === true, s: flags.dotall === true, x: flags.extended === true, xx: false, U: flags.ungreedy === true, n: false, J: false };
    const parser = new Parser(pattern, flags.dollarEndOnly === true);
    let root = parser.parse(mode);
    let sticky = flags.anchored === true;
    // \G first in every branch is an anchored search; anywhere else it is refused when emitted.
    const leadingG = (n: Node): Node | null => {
      if (n.type === 'assert' && n.kind === 'searchStart') return { type: 'seq', items: [] };
      if (n.type === 'seq' && n.items[0]?.type === 'assert' && n.items[0].kind === 'searchStart') return { type: 'seq', items: n.items.slice(1) };
      return null;
    };
    const stripped = (root.type === 'alt' ? root.branches : [root]).map(leadingG);
    if (stripped.every((b) => b !== null)) {
      root = stripped.length === 1 ? stripped[0]! : { type: 'alt', branches: stripped as Node[] };
      sticky = true;
    }
    checkBackrefs(root);
    root = splitRepeats(disambiguate(rewriteLeadingLineStart(rewriteTerminalEnds(root))));
    let jsFlags = '';
    if (parser.backrefs.some((b) => b.caseless && !b.never)) {
      caselessBackrefs(root);
      jsFlags = 'i';
    }
    const users = numberGroups(root);
    this.checks = parser.backrefs.filter((b) => b.js > 0).map((b) => ({ group: users.get(b.user)!, ref: b.js, caseless: b.caseless }));
    let startGroup = 0;
    const endGroups: number[] = [];
    for (const { node } of walk(root)) {
      if (node.type === 'lineStartNewline') startGroup = node.js;
      if (node.type === 'endNewline') endGroups.push(node.js);
    }
    this.startGroup = startGroup;
    this.endGroups = endGroups;
    this.sticky = sticky;
    this.horizon = horizon(root);

    this.source = emit(root, { users, later: false });
    this.linear = canRunLinear(this.source, jsFlags + (sticky ? 'y' : 'g'));
    const later = startGroup > 0 ? emit(root, { users, later: true }) : null;
    this.run = sticky ? null : leadingRun(root);
    if (this.run !== null) {
      // The first position as written (sticky), the others only where a run of X starts.
      this.re = new RegExp(this.source, jsFlags + 'y');
      this.reNext = new RegExp(`(?<!${emitSet(this.run)})(?:${this.source})`, jsFlags + 'g');
    } else {
      this.re = new RegExp(this.source, jsFlags + (sticky ? 'y' : 'g'));
      this.reNext = later === null ? null : new RegExp(later, jsFlags + (sticky ? 'y' : 'g'));
    }

    const bound = (size: number): number => searchBound(root, size, sticky, this.run !== null);
    this.boundSteps = bound(MAX_SUBJECT);
    if (this.boundSteps <= BACKTRACK_STEP_BUDGET) {
      // Uncapped when the bound grows no faster than the subject (a longer buffer than 64 KiB is
      // then no worse per byte); otherwise a buffer beyond 64 KiB is searched in its first 64 KiB.
      this.cap = bound(2 * MAX_SUBJECT) <= 2.05 * this.boundSteps ? Infinity : MAX_SUBJECT;
      this.bounds = BOUND_SIZES.map(bound);
      return;
    }
    if (cost(root, MAX_SUBJECT, SEARCH_ENDS).exponential) {
      throw new RegexRefusedError('exponential backtracking', 'a repeat without an upper bound over something that can match in several ways');
    }
    // The largest subject whose bound fits the budget (to within 3%: each bound is a walk of the pattern).
    let lo = 0;
    let hi = MAX_SUBJECT;
    while (hi - lo > Math.max(8, lo >> 5)) {
      const mid = Math.ceil((lo + hi) / 2);
      if (bound(mid) <= BACKTRACK_STEP_BUDGET) lo = mid;
      else hi = mid - 1;
    }
    if (lo < Math.max(MIN_CAP, minWidth(root))) throw new RegexRefusedError('backtracking too costly', `its backtracking bound allows only ${lo} bytes of subject`);
    this.cap = lo;
    this.boundSteps = bound(lo);
    this.bounds = BOUND_SIZES.map((size) => bound(Math.min(size, lo)));
  }

  /** The bound on the work of one search over `size` bytes, in the steps of the static bound. */
  workBound(size: number): number {
    for (let k = 0; k < BOUND_SIZES.length; k++) if (size <= BOUND_SIZES[k]!) return this.bounds[k]!;
    return this.cap === Infinity ? (this.boundSteps * size) / MAX_SUBJECT : this.boundSteps;
  }

  /**
   * Searches `subject` from `from`. Found: start and end are set. With a cap, a search that
   * found nothing in its window, or a match whose assertions may have looked past the window,
   * is Unknown: the caller counts it as no match either way (negated or not).
   */
  search(subject: string, from: number): SearchResult {
    let s = subject;
    let capped = false;
    if (this.cap < subject.length - from) {
      s = subject.slice(0, from + this.cap);
      capped = true;
    }
    let m: RegExpExecArray | null;
    if (this.run !== null) {
      // Inside a run only the first position is tried as written (see leadingRun).
      m = null;
      if (from > 0 && from <= s.length && has(this.run, s.charCodeAt(from - 1))) {
        this.re.lastIndex = from;
        m = this.re.exec(s);
        from++;
      }
      if (m === null && from <= s.length) {
        this.reNext!.lastIndex = from;
        m = this.reNext!.exec(s);
      }
    } else if (this.reNext !== null && from > 0) {
      // A line start at `from` is a newline at from - 1, which that form consumes.
      this.reNext.lastIndex = from - 1;
      m = this.reNext.exec(s);
    } else {
      this.re.lastIndex = from;
      m = this.re.exec(s);
    }
    if (m === null) return capped ? UNKNOWN : NOT_FOUND;
    let start = m.index;
    let end = m.index + m[0].length;
    if (this.startGroup > 0 && m[this.startGroup] !== undefined) start++;
    for (const g of this.endGroups) {
      if (m[g] !== undefined) {
        end--;
        break;
      }
    }
    if (this.sticky && start !== from) return capped ? UNKNOWN : NOT_FOUND;
    for (const c of this.checks) {
      const g = m[c.group];
      const r = m[c.ref];
      if (g !== undefined && r !== undefined && !sameText(g, r, c.caseless)) return UNKNOWN;
    }
    if (capped && this.horizon > 0 && m.index + m[0].length + this.horizon >= s.length) return UNKNOWN;
    this.start = start;
    this.end = end;
    return FOUND;
  }
}


/** Letters JavaScript's `i` flag folds: ASCII and Latin-1. */
const FOLDED_LETTERS = union(ALPHA, LATIN1_LETTERS);

/**
 * Caseless backreferences run with JavaScript's `i` flag, which folds more than PCRE does. Every
 * set must already be closed under its folding, so the flag changes no set. A reference that may
 * compare letters the flag folds and PCRE would not (Latin-1 ones when caseless, any when
 * case-sensitive) is wrapped in a group and each match is checked: one the check rejects is
 * reported as unknown. The check sees a reference's last comparison only, so such a reference may
 * not repeat, nor sit in a negative lookaround (where a comparison the flag let through hides a
 * match).
 */
function caselessBackrefs(root: Node): void {
  for (const { node } of walk(root)) {
    if (node.type === 'set' && !closedUnderJsFolding(node.bytes)) {
      throw new RegexRefusedError('caseless backreference', 'a caseless backreference with case-sensitive letters elsewhere in the pattern');
    }
  }
  for (const { node, parents } of walk(root)) {
    if (node.type !== 'backref' || node.node.never) continue;
    const b = node.node;
    if (b.bytes !== null && !intersects(b.bytes, b.caseless ? LATIN1_LETTERS : FOLDED_LETTERS)) continue;
    if (parents.some((p) => (p.type === 'repeat' && p.max > 1) || (p.type === 'look' && p.negate))) {
      throw new RegexRefusedError('caseless backreference', `\\${b.user} may compare Latin-1 letters (which JavaScript folds and PCRE does not) inside a repeat or negative lookaround`);
    }
    b.js = 1;
  }
}

/** Equal as PCRE compares a backreference: exactly, or folding ASCII letters when caseless. */
function sameText(a: string, b: string, caseless: boolean): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) {
    const x = a.charCodeAt(k);
    const y = b.charCodeAt(k);
    if (x !== y && !(caseless && otherCase(x) === y)) return false;
  }
  return true;
}
