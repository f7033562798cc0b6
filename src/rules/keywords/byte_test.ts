import { continueFrom, type InspectContext, type PayloadStep } from '../inspect.js';
import type { Keyword } from '../keyword.js';
import { RuleError } from '../syntax.js';
import {
  applyBitmask, bitmask, compare, extractField, fieldStart, isVariableName, namedOption, NeedsDceRpc, once, parseCountOrVariable, parseSigned,
  parseUnsigned, resolveNumber, resolveOperand, splitOptionList, variable, type Base, type Bitmask, type CompareOp, type Operand,
} from './bytes.js';

/** 8 bytes is 64 bits, the widest binary value. */
const MAX_BINARY_BYTES = 8;
/** 23 characters is the longest number that fits 64 bits: "01777777777777777777777" (octal, one leading zero), Suricata's limit. */
const MAX_STRING_BYTES = 23;
/** Offsets are int32 in Suricata (StringParseInt32). */
const MAX_OFFSET = 2147483647;

const SYNTAX = 'byte_test:<bytes>,[!]<op>,<value>,<offset>[,relative][,big|little][,string[,hex|dec|oct]][,dce][,bitmask <mask>]';
const OPS = new Set<CompareOp>(['<', '>', '=', '<=', '>=', '&', '^']);
const OPTIONS = new Set(['relative', 'big', 'little', 'string', 'hex', 'dec', 'oct', 'dce', 'bitmask']);

/**
 * Reads a number from the buffer and compares it. Does not move the cursor (Suricata leaves
 * buffer_offset alone in DetectBytetestDoMatch), so a later relative step starts where the
 * step before byte_test left off.
 */
export class ByteTestStep implements PayloadStep {
  readonly keyword = 'byte_test';

  constructor(
    readonly nbytes: number | { variable: number; name: string },
    readonly op: CompareOp,
    readonly negated: boolean,
    readonly value: Operand,
    readonly offset: number | { variable: number; name: string },
    readonly relative: boolean,
    readonly string: boolean,
    readonly base: Base,
    readonly little: boolean,
    readonly mask: Bitmask | null,
  ) {}

  /** The test alone, without the steps after it. */
  test(ctx: InspectContext, cursor: number): boolean {
    const n = resolveNumber(this.nbytes, ctx);
    if (n < 0 || n > (this.string ? MAX_STRING_BYTES : MAX_BINARY_BYTES)) return false;
    const pos = fieldStart(ctx, cursor, this.relative, resolveNumber(this.offset, ctx), n);
    if (pos < 0) return false;
    const field = extractField(ctx, pos, n, this);
    if (field === null) return false;
    const val = this.mask === null ? field.value : applyBitmask(field.value, this.mask);
    return compare(this.op, val, resolveOperand(this.value, ctx)) !== this.negated;
  }

  match(ctx: InspectContext, cursor: number, steps: readonly PayloadStep[], index: number): boolean {
    return this.test(ctx, cursor) && continueFrom(ctx, cursor, steps, index + 1);
  }
}

export const byteTest: Keyword = {
  name: 'byte_test',
  summary: 'Read a number (binary or text) from the buffer and compare it with a value; does not move the cursor.',
  syntax: SYNTAX,
  apply(b, value) {
    const args = splitOptionList(value, 'byte_test', SYNTAX);
    if (args.length < 4) throw new RuleError(`byte_test: needs at least 4 arguments (${SYNTAX}), got ${args.length}`);
    const [nbytesText, opText, valueText, offsetText] = args as [string, string, string, string];

    let opRest = opText.replace(/\s+/g, '');
    const negated = opRest.startsWith('!');
    if (negated) opRest = opRest.slice(1);
    if (negated && opRest === '') opRest = '=';
    if (!OPS.has(opRest as CompareOp)) throw new RuleError(`byte_test: "${opText}" is not an operator (<, >, =, <=, >=, &, ^, each optionally negated with !)`);

    let relative = false;
    let string = false;
    let base: Base | null = null;
    let little = false;
    let mask: Bitmask | null = null;
    const seen = new Set<string>();
    for (const arg of args.slice(4)) {
      const { name, rest } = namedOption(arg);
      once(seen, name, 'byte_test');
      if (!OPTIONS.has(name)) throw new RuleError(`byte_test: unknown option "${arg}" (relative, big, little, string, hex, dec, oct, dce, bitmask <mask>)`);
      if (name !== 'bitmask' && rest !== '') throw new RuleError(`byte_test: "${arg}": ${name} takes no value`);
      switch (name) {
        case 'relative': relative = true; break;
        case 'string': string = true; break;
        case 'hex': case 'dec': case 'oct':
          if (base !== null) throw new RuleError(`byte_test: two bases given (${arg} after another)`);
          base = name === 'hex' ? 16 : name === 'dec' ? 10 : 8;
          break;
        case 'big': case 'little':
          if (seen.has(name === 'big' ? 'little' : 'big')) throw new RuleError('byte_test: both big and little given');
          little = name === 'little';
          break;
        case 'dce': throw new NeedsDceRpc('byte_test');
        case 'bitmask': {
          if (rest === '') throw new RuleError('byte_test: bitmask needs a value (bitmask 0x0f)');
          // Suricata reads the mask into a uint32 (ByteExtractStringUint32, base from prefix).
          const m = parseUnsigned(rest, 'byte_test', 'bitmask', 0);
          if (typeof m === 'bigint' || m > 0xffffffff) throw new RuleError(`byte_test: bitmask ${rest} is wider than 32 bits`);
          mask = bitmask(m);
          break;
        }
        default:
          throw new RuleError(`byte_test: unknown option "${arg}" (relative, big, little, string, hex, dec, oct, dce, bitmask <mask>)`);
      }
    }
    if (base !== null && !string) throw new RuleError('byte_test: a base (hex, dec, oct) needs "string"');
    const limit = string ? MAX_STRING_BYTES : MAX_BINARY_BYTES;
    const nbytes = parseCountOrVariable(b, nbytesText, 'byte_test', 'byte count', (t) => {
      if (!/^\d+$/.test(t)) throw new RuleError(`byte_test: byte count "${t}" is not a number`);
      const n = Number(t);
      if (n > limit) throw new RuleError(`byte_test: cannot read ${n} bytes ${string ? 'of text (at most 23: the longest 64-bit number, in octal)' : 'as binary (at most 8: 64 bits); add "string" for text numbers'}`);
      return n;
    });
    const testValue: Operand = isVariableName(valueText) ? variable(b, valueText, 'byte_test', 'value') : parseUnsigned(valueText, 'byte_test', 'value', 0);
    const offset = parseCountOrVariable(b, offsetText, 'byte_test', 'offset', (t) => parseSigned(t, 'byte_test', 'offset', 0, -MAX_OFFSET - 1, MAX_OFFSET));
    // "string" without a base: Suricata passes base 0, so 0x.. reads as hex and a leading 0 as octal.
    b.addStep(new ByteTestStep(nbytes, opRest as CompareOp, negated, testValue, offset, relative, string, base ?? 0, little, mask), false);
  },
};
