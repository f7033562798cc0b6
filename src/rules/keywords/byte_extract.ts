import type { PositionalStep } from '../builder.js';
import { continueFrom, type InspectContext, type PayloadStep } from '../inspect.js';
import type { Keyword } from '../keyword.js';
import { RuleError } from '../syntax.js';
import {
  applyBitmask, bitmask, extractField, fieldStart, namedOption, NeedsDceRpc, once, parseSigned, parseUnsigned, splitOptionList, toSlot, type Base,
  type Bitmask, type U64,
} from './bytes.js';

/** 8 bytes is 64 bits, the widest binary value. */
const MAX_BINARY_BYTES = 8;
/**
 * Text limits per base, Suricata's (detect-byte-extract.c): the longest text that still fits
 * 64 bits in octal ("01777777777777777777777") and decimal ("18446744073709551615"); 14 for hex
 * is Suricata's own, lower, figure, kept so that the same rules load.
 */
const MAX_STRING_BYTES: Record<8 | 10 | 16, number> = { 8: 23, 10: 20, 16: 14 };
/** Suricata stores the offset as an int16. */
const MIN_OFFSET = -32768;
const MAX_OFFSET = 32767;
/** multiplier: Suricata's uint16 range, 1..65535. */
const MAX_MULTIPLIER = 65535;

const OPTIONS = new Set(['relative', 'multiplier', 'big', 'little', 'string', 'hex', 'dec', 'oct', 'align', 'dce', 'bitmask', 'slice']);
const SYNTAX = 'byte_extract:<bytes>,<offset>,<name>[,relative][,multiplier <n>][,big|little][,string[,hex|dec|oct]][,align 2|4][,dce][,bitmask <mask>]';

/**
 * Reads a number from the buffer into a variable that later options use by name (offset, depth,
 * distance, within, byte_test values, isdataat, ...). Moves the cursor to just after the bytes
 * it read, relative or not: Suricata's DetectByteExtractDoMatch always sets buffer_offset to
 * ptr + extbytes (for text, only as far as the digits went).
 */
export class ByteExtractStep implements PositionalStep {
  readonly keyword = 'byte_extract';
  /** Unused: the read is at one place, so there is nothing to retry. */
  retry = false;

  constructor(
    readonly nbytes: number,
    readonly offset: number,
    readonly slot: number,
    readonly name: string,
    readonly relative: boolean,
    readonly string: boolean,
    readonly base: Base,
    readonly little: boolean,
    readonly multiplier: number,
    readonly align: 0 | 2 | 4,
    readonly mask: Bitmask | null,
  ) {}

  /** Extracts into ctx.vars; the cursor after the field, or -1 for no match. */
  extract(ctx: InspectContext, cursor: number): number {
    const pos = fieldStart(ctx, cursor, this.relative, this.offset, this.nbytes);
    if (pos < 0) return -1;
    const field = extractField(ctx, pos, this.nbytes, this);
    if (field === null) return -1;
    let v: U64 = this.mask === null ? field.value : applyBitmask(field.value, this.mask);
    if (typeof v === 'number' && v * this.multiplier <= Number.MAX_SAFE_INTEGER - 4) {
      v *= this.multiplier;
      if (this.align !== 0 && v % this.align !== 0) v += this.align - (v % this.align);
    } else {
      let w = BigInt.asUintN(64, BigInt(v) * BigInt(this.multiplier));
      const a = BigInt(this.align);
      if (a !== 0n && w % a !== 0n) w = BigInt.asUintN(64, w + a - (w % a));
      v = w;
    }
    ctx.vars[this.slot] = toSlot(v);
    return pos + field.used;
  }

  match(ctx: InspectContext, cursor: number, steps: readonly PayloadStep[], index: number): boolean {
    const to = this.extract(ctx, cursor);
    return to >= 0 && continueFrom(ctx, to, steps, index + 1);
  }
}

export const byteExtract: Keyword = {
  name: 'byte_extract',
  summary: 'Read a number from the buffer into a named variable for later options (offset, depth, distance, within, byte_test, ...); moves the cursor past it.',
  syntax: SYNTAX,
  apply(b, value) {
    const args = splitOptionList(value, 'byte_extract', SYNTAX);
    if (args.length < 3) throw new RuleError(`byte_extract: needs at least 3 arguments (${SYNTAX})`);
    let relative = false;
    let string = false;
    let base: 8 | 10 | 16 | null = null;
    let little = false;
    let multiplier = 1;
    let align: 0 | 2 | 4 = 0;
    let mask: Bitmask | null = null;
    const seen = new Set<string>();
    for (const arg of args.slice(3)) {
      const { name, rest } = namedOption(arg);
      once(seen, name, 'byte_extract');
      if (!OPTIONS.has(name)) throw new RuleError(`byte_extract: unknown option "${arg}" (relative, multiplier <n>, big, little, string, hex, dec, oct, align 2|4, dce, bitmask <mask>)`);
      const takesValue = name === 'multiplier' || name === 'align' || name === 'bitmask';
      if (takesValue && rest === '') throw new RuleError(`byte_extract: ${name} needs a value`);
      if (!takesValue && rest !== '') throw new RuleError(`byte_extract: "${arg}": ${name} takes no value`);
      switch (name) {
        case 'relative': relative = true; break;
        case 'string': string = true; break;
        case 'hex': case 'dec': case 'oct':
          if (base !== null) throw new RuleError(`byte_extract: two bases given (${arg} after another)`);
          base = name === 'hex' ? 16 : name === 'dec' ? 10 : 8;
          break;
        case 'big': case 'little':
          if (seen.has(name === 'big' ? 'little' : 'big')) throw new RuleError('byte_extract: both big and little given');
          little = name === 'little';
          break;
        case 'multiplier':
          multiplier = parseSigned(rest, 'byte_extract', 'multiplier', 10, 1, MAX_MULTIPLIER);
          break;
        case 'align':
          // Round up to a 2- or 4-byte boundary: the only values Suricata accepts.
          if (rest !== '2' && rest !== '4') throw new RuleError(`byte_extract: align ${rest} must be 2 or 4`);
          align = rest === '2' ? 2 : 4;
          break;
        case 'bitmask': {
          // Snort 3's byte_extract option (Suricata 7 does not take it): masked and shifted before the multiplier.
          const m = parseUnsigned(rest, 'byte_extract', 'bitmask', 0);
          if (typeof m === 'bigint' || m > 0xffffffff) throw new RuleError(`byte_extract: bitmask ${rest} is wider than 32 bits`);
          mask = bitmask(m);
          break;
        }
        case 'dce': throw new NeedsDceRpc('byte_extract');
        case 'slice': throw new RuleError('byte_extract: slice is not supported (Suricata refuses it too)');
        default:
          throw new RuleError(`byte_extract: unknown option "${arg}" (relative, multiplier <n>, big, little, string, hex, dec, oct, align 2|4, dce, bitmask <mask>)`);
      }
    }
    if (base !== null && !string) throw new RuleError('byte_extract: a base (hex, dec, oct) needs "string"');
    if (string && (seen.has('big') || seen.has('little'))) throw new RuleError('byte_extract: string and an endianness (big, little) cannot be combined');
    // "string" alone is decimal here (Suricata's byte_extract default), unlike byte_test's base 0.
    const textBase = base ?? 10;
    const nbytesText = args[0]!;
    if (!/^\d+$/.test(nbytesText)) throw new RuleError(`byte_extract: byte count "${nbytesText}" is not a number`);
    const nbytes = Number(nbytesText);
    const limit = string ? MAX_STRING_BYTES[textBase] : MAX_BINARY_BYTES;
    if (nbytes > limit) {
      throw new RuleError(`byte_extract: cannot read ${nbytes} bytes ${string ? `of base-${textBase} text (at most ${limit}: the longest that fits 64 bits)` : 'as binary (at most 8: 64 bits); add "string" for text numbers'}`);
    }
    const offset = parseSigned(args[1]!, 'byte_extract', 'offset', 10, MIN_OFFSET, MAX_OFFSET);
    const name = args[2]!;
    const slot = b.defineVariable(name, 'byte_extract');
    b.addStep(new ByteExtractStep(nbytes, offset, slot, name, relative, string, textBase, little, multiplier, align, mask), true);
  },
};
