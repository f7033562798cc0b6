import type { PositionalStep } from '../builder.js';
import { continueFrom, type InspectContext, type PayloadStep } from '../inspect.js';
import type { Keyword } from '../keyword.js';
import { RuleError } from '../syntax.js';
import {
  applyBitmask, bitmask, extractField, fieldStart, namedOption, NeedsDceRpc, once, parseCountOrVariable, parseSigned, parseUnsigned, resolveNumber,
  splitOptionList, type Base, type Bitmask, type U64,
} from './bytes.js';

/** 8 bytes is 64 bits, the widest binary value. */
const MAX_BINARY_BYTES = 8;
/** 23 characters is the longest number that fits 64 bits ("01777777777777777777777" in octal), Suricata's limit. */
const MAX_STRING_BYTES = 23;
/** offset and post_offset: Suricata accepts -65535..65535 (StringParseI32RangeCheck), a 64 KiB buffer either way. */
const MAX_OFFSET = 65535;
/** multiplier: Suricata's uint16 range, 1..65535. */
const MAX_MULTIPLIER = 65535;

const OPTIONS = new Set(['relative', 'multiplier', 'big', 'little', 'string', 'hex', 'dec', 'oct', 'align', 'from_beginning', 'from_end', 'post_offset', 'dce', 'bitmask']);
const SYNTAX = 'byte_jump:<bytes>,<offset>[,relative][,multiplier <n>][,big|little][,string[,hex|dec|oct]][,align][,from_beginning|from_end][,post_offset <n>][,dce][,bitmask <mask>]';

/**
 * Reads a length from the buffer and moves the cursor past it: by default to the end of the
 * field plus the value, or from the buffer start (from_beginning) or end (from_end). The value
 * is masked, multiplied, rounded up to 4 (align), then post_offset is added, all in 64-bit
 * wrap-around arithmetic as Suricata's DetectBytejumpDoMatch does. A target before the buffer
 * start is pulled back to the start; one past the end is no match (the end itself is allowed).
 */
export class ByteJumpStep implements PositionalStep {
  readonly keyword = 'byte_jump';
  /** Unused: a byte_jump lands in exactly one place, so there is nothing to retry. */
  retry = false;

  constructor(
    readonly nbytes: number | { variable: number; name: string },
    readonly offset: number | { variable: number; name: string },
    readonly relative: boolean,
    readonly string: boolean,
    readonly base: Base,
    readonly little: boolean,
    readonly multiplier: number,
    readonly align: boolean,
    readonly from: 'field' | 'beginning' | 'end',
    readonly postOffset: number,
    readonly mask: Bitmask | null,
  ) {}

  /** The cursor after the jump, or -1 for no match. */
  target(ctx: InspectContext, cursor: number): number {
    const n = resolveNumber(this.nbytes, ctx);
    if (n < 0 || n > (this.string ? MAX_STRING_BYTES : MAX_BINARY_BYTES)) return -1;
    const pos = fieldStart(ctx, cursor, this.relative, resolveNumber(this.offset, ctx), n, true);
    if (pos < 0) return -1;
    const field = extractField(ctx, pos, n, this);
    if (field === null) return -1;
    const len = ctx.length;
    const val: U64 = this.mask === null ? field.value : applyBitmask(field.value, this.mask);
    let jump: number;
    if (typeof val === 'number' && val * this.multiplier <= Number.MAX_SAFE_INTEGER - 4) {
      let v = val * this.multiplier;
      if (this.align && v % 4 !== 0) v += 4 - (v % 4);
      jump = v + this.postOffset;
    } else {
      // Past 2^53: C's uint64 arithmetic, then read as int64 (a huge value can jump backwards).
      let v = BigInt.asUintN(64, BigInt(val) * BigInt(this.multiplier));
      if (this.align && v % 4n !== 0n) v = BigInt.asUintN(64, v + 4n - (v % 4n));
      jump = Number(BigInt.asIntN(64, v + BigInt(this.postOffset)));
    }
    const to = this.from === 'beginning' ? jump : this.from === 'end' ? len + jump : pos + field.used + jump;
    if (to > len) return -1;
    return to < 0 ? 0 : to;
  }

  match(ctx: InspectContext, cursor: number, steps: readonly PayloadStep[], index: number): boolean {
    const to = this.target(ctx, cursor);
    return to >= 0 && continueFrom(ctx, to, steps, index + 1);
  }
}

export const byteJump: Keyword = {
  name: 'byte_jump',
  summary: 'Read a length from the buffer and move the cursor by it; later relative keywords start at the jump target.',
  syntax: SYNTAX,
  apply(b, value) {
    const args = splitOptionList(value, 'byte_jump', SYNTAX);
    if (args.length < 2) throw new RuleError(`byte_jump: needs at least 2 arguments (${SYNTAX})`);
    let relative = false;
    let string = false;
    let base: Base | null = null;
    let little = false;
    let align = false;
    let from: 'field' | 'beginning' | 'end' = 'field';
    let multiplier = 1;
    let postOffset = 0;
    let mask: Bitmask | null = null;
    const seen = new Set<string>();
    for (const arg of args.slice(2)) {
      const { name, rest } = namedOption(arg);
      once(seen, name, 'byte_jump');
      if (!OPTIONS.has(name)) {
        throw new RuleError(`byte_jump: unknown option "${arg}" (relative, multiplier <n>, big, little, string, hex, dec, oct, align, from_beginning, from_end, post_offset <n>, dce, bitmask <mask>)`);
      }
      const takesValue = name === 'multiplier' || name === 'post_offset' || name === 'bitmask';
      if (takesValue && rest === '') throw new RuleError(`byte_jump: ${name} needs a value`);
      if (!takesValue && rest !== '') throw new RuleError(`byte_jump: "${arg}": ${name} takes no value`);
      switch (name) {
        case 'relative': relative = true; break;
        case 'string': string = true; break;
        case 'hex': case 'dec': case 'oct':
          if (base !== null) throw new RuleError(`byte_jump: two bases given (${arg} after another)`);
          base = name === 'hex' ? 16 : name === 'dec' ? 10 : 8;
          break;
        case 'big': case 'little':
          if (seen.has(name === 'big' ? 'little' : 'big')) throw new RuleError('byte_jump: both big and little given');
          little = name === 'little';
          break;
        case 'align': align = true; break;
        case 'from_beginning': case 'from_end':
          if (from !== 'field') throw new RuleError('byte_jump: from_beginning and from_end cannot be used together');
          from = name === 'from_beginning' ? 'beginning' : 'end';
          break;
        case 'multiplier':
          multiplier = parseSigned(rest, 'byte_jump', 'multiplier', 10, 1, MAX_MULTIPLIER);
          break;
        case 'post_offset':
          postOffset = parseSigned(rest, 'byte_jump', 'post_offset', 10, -MAX_OFFSET, MAX_OFFSET);
          break;
        case 'bitmask': {
          const m = parseUnsigned(rest, 'byte_jump', 'bitmask', 0);
          // A 32-bit mask, as byte_test's (Suricata's DetectBytejumpData.bitmask is a uint32).
          if (typeof m === 'bigint' || m > 0xffffffff) throw new RuleError(`byte_jump: bitmask ${rest} is wider than 32 bits`);
          mask = bitmask(m);
          break;
        }
        case 'dce': throw new NeedsDceRpc('byte_jump');
        default:
          throw new RuleError(`byte_jump: unknown option "${arg}" (relative, multiplier <n>, big, little, string, hex, dec, oct, align, from_beginning, from_end, post_offset <n>, dce, bitmask <mask>)`);
      }
    }
    if (base !== null && !string) throw new RuleError('byte_jump: a base (hex, dec, oct) needs "string"');
    const limit = string ? MAX_STRING_BYTES : MAX_BINARY_BYTES;
    // 0 bytes is allowed: `byte_jump:0,0,from_end,post_offset -8` is Suricata's own example.
    const nbytes = parseCountOrVariable(b, args[0]!, 'byte_jump', 'byte count', (t) => {
      if (!/^\d+$/.test(t)) throw new RuleError(`byte_jump: byte count "${t}" is not a number`);
      const n = Number(t);
      if (n > limit) throw new RuleError(`byte_jump: cannot read ${n} bytes ${string ? 'of text (at most 23: the longest 64-bit number, in octal)' : 'as binary (at most 8: 64 bits); add "string" for text numbers'}`);
      return n;
    });
    const offset = parseCountOrVariable(b, args[1]!, 'byte_jump', 'offset', (t) => parseSigned(t, 'byte_jump', 'offset', 10, -MAX_OFFSET, MAX_OFFSET));
    // "string" without a base: Suricata passes base 0 (0x.. hex, leading 0 octal, else decimal).
    b.addStep(new ByteJumpStep(nbytes, offset, relative, string, base ?? 0, little, multiplier, align, from, postOffset, mask), true);
  },
};
