import type { PositionalStep } from '../builder.js';
import { continueFrom, type InspectContext, type PayloadStep } from '../inspect.js';
import type { Keyword } from '../keyword.js';
import { RuleError } from '../syntax.js';
import {
  bitmask, extractField, fieldStart, isVariableName, NeedsDceRpc, once, parseSigned, resolveNumber, resolveOperand, splitOptionList, toSlot, variable,
  type Bitmask, type Operand,
} from './bytes.js';

/**
 * bytes: 1..10, Suricata's range (rust/src/detect/byte_math.rs). Binary reads past 8 bytes
 * never match (64 bits is the widest value), so 9-10 only make sense with "string".
 */
const MAX_BYTES = 10;
/** With << and >> Suricata allows at most 4 bytes, a 32-bit operand. */
const MAX_SHIFT_BYTES = 4;
/** offset: -65535..65535, Suricata's range. */
const MAX_OFFSET = 65535;
/** rvalue: a uint32 in Suricata. */
const MAX_RVALUE = 0xffffffff;

const SYNTAX = 'byte_math:bytes <n|var>,offset <n>,oper <+|-|*|/|<<|>>>,rvalue <n|var>,result <name>[,relative][,endian big|little][,string hex|dec|oct][,dce][,bitmask <hex mask>]';

const OPTIONS = new Set(['bytes', 'offset', 'oper', 'rvalue', 'result', 'relative', 'endian', 'dce', 'string', 'bitmask']);

export type MathOp = '+' | '-' | '*' | '/' | '<<' | '>>';
const OPS = new Set<MathOp>(['+', '-', '*', '/', '<<', '>>']);

/**
 * Reads a number, combines it with rvalue in 64-bit wrap-around arithmetic, masks it, and stores
 * it in a variable. Like byte_extract it moves the cursor to just after the bytes it read
 * (Suricata's DetectByteMathDoMatch sets buffer_offset = ptr + extbytes). Division by zero never
 * matches, as Suricata documents.
 */
export class ByteMathStep implements PositionalStep {
  readonly keyword = 'byte_math';
  /** Unused: the read is at one place, so there is nothing to retry. */
  retry = false;

  constructor(
    readonly nbytes: number | { variable: number; name: string },
    readonly offset: number,
    readonly op: MathOp,
    readonly rvalue: Operand,
    readonly slot: number,
    readonly result: string,
    readonly relative: boolean,
    readonly string: boolean,
    readonly base: 8 | 10 | 16,
    readonly little: boolean,
    readonly mask: Bitmask | null,
  ) {}

  /** Computes into ctx.vars; the cursor after the field, or -1 for no match. */
  compute(ctx: InspectContext, cursor: number): number {
    const n = resolveNumber(this.nbytes, ctx);
    if (n < 1 || n > MAX_BYTES) return -1;
    const pos = fieldStart(ctx, cursor, this.relative, this.offset, n);
    if (pos < 0) return -1;
    const field = extractField(ctx, pos, n, this);
    if (field === null) return -1;
    let v = BigInt(field.value);
    const r = BigInt(resolveOperand(this.rvalue, ctx));
    switch (this.op) {
      case '+': v = BigInt.asUintN(64, v + r); break;
      case '-': v = BigInt.asUintN(64, v - r); break;
      case '*': v = BigInt.asUintN(64, v * r); break;
      case '/':
        if (r === 0n) return -1;
        v = v / r;
        break;
      case '<<': v = r >= 64n ? 0n : BigInt.asUintN(64, v << r); break;
      case '>>': v = r >= 64n ? 0n : v >> r; break;
    }
    if (this.mask !== null) v = (v & BigInt(this.mask.mask)) >> BigInt(this.mask.shift);
    ctx.vars[this.slot] = toSlot(v);
    return pos + field.used;
  }

  match(ctx: InspectContext, cursor: number, steps: readonly PayloadStep[], index: number): boolean {
    const to = this.compute(ctx, cursor);
    return to >= 0 && continueFrom(ctx, to, steps, index + 1);
  }
}

export const byteMath: Keyword = {
  name: 'byte_math',
  summary: 'Read a number, combine it with a value (+ - * / << >>) and store the result in a named variable; moves the cursor past the bytes read.',
  syntax: SYNTAX,
  apply(b, value) {
    const args = splitOptionList(value, 'byte_math', SYNTAX);
    let nbytesText: string | null = null;
    let offset: number | null = null;
    let op: MathOp | null = null;
    let rvalueText: string | null = null;
    let result: string | null = null;
    let relative = false;
    let string = false;
    let base: 8 | 10 | 16 = 10;
    let little = false;
    let mask: Bitmask | null = null;
    const seen = new Set<string>();
    for (const arg of args) {
      const m = /^(\S+)(?:\s+(.*))?$/.exec(arg);
      const name = (m?.[1] ?? '').toLowerCase();
      const rest = (m?.[2] ?? '').trim();
      if (!OPTIONS.has(name)) throw new RuleError(`byte_math: unknown option "${arg}" (${SYNTAX})`);
      once(seen, name === 'dce' ? 'endian' : name, 'byte_math');
      const takesValue = name !== 'relative' && name !== 'dce';
      if (takesValue && rest === '') throw new RuleError(`byte_math: ${name} needs a value (${SYNTAX})`);
      if (!takesValue && rest !== '') throw new RuleError(`byte_math: "${arg}": ${name} takes no value`);
      switch (name) {
        case 'bytes': nbytesText = rest; break;
        case 'offset': offset = parseSigned(rest, 'byte_math', 'offset', 10, -MAX_OFFSET, MAX_OFFSET); break;
        case 'oper':
          if (!OPS.has(rest as MathOp)) throw new RuleError(`byte_math: oper "${rest}" is not one of + - * / << >>`);
          op = rest as MathOp;
          break;
        case 'rvalue': rvalueText = rest; break;
        case 'result': result = rest; break;
        case 'relative': relative = true; break;
        case 'endian':
          if (rest === 'dce') throw new NeedsDceRpc('byte_math');
          if (rest !== 'big' && rest !== 'little') throw new RuleError(`byte_math: endian "${rest}" is not big, little or dce`);
          little = rest === 'little';
          break;
        case 'dce': throw new NeedsDceRpc('byte_math');
        case 'string':
          if (rest !== 'hex' && rest !== 'dec' && rest !== 'oct') throw new RuleError(`byte_math: string "${rest}" is not hex, dec or oct`);
          string = true;
          base = rest === 'hex' ? 16 : rest === 'dec' ? 10 : 8;
          break;
        case 'bitmask': {
          // Suricata reads byte_math's mask as hex, with or without 0x, into a uint32.
          const hex = rest.replace(/^0x/i, '');
          if (!/^[0-9a-f]{1,8}$/i.test(hex)) throw new RuleError(`byte_math: bitmask "${rest}" is not a hex value of at most 32 bits`);
          mask = bitmask(Number.parseInt(hex, 16));
          break;
        }
        default:
          throw new RuleError(`byte_math: unknown option "${arg}" (${SYNTAX})`);
      }
    }
    const missing = [['bytes', nbytesText], ['offset', offset], ['oper', op], ['rvalue', rvalueText], ['result', result]].filter(([, v]) => v === null).map(([k]) => k);
    if (missing.length > 0) throw new RuleError(`byte_math: missing ${missing.join(', ')} (${SYNTAX})`);
    if (relative && b.buffer !== 'payload' && !b.hasPositional()) throw new RuleError('byte_math: relative needs an earlier content or pcre in this buffer');
    const nbytes = isVariableName(nbytesText!) ? variable(b, nbytesText!, 'byte_math', 'bytes') : Number(nbytesText);
    if (typeof nbytes === 'number') {
      if (!/^\d+$/.test(nbytesText!) || nbytes < 1 || nbytes > MAX_BYTES) throw new RuleError(`byte_math: bytes ${nbytesText} must be 1 to ${MAX_BYTES}`);
      if ((op === '<<' || op === '>>') && nbytes > MAX_SHIFT_BYTES) throw new RuleError(`byte_math: bytes ${nbytes} is more than ${MAX_SHIFT_BYTES}, the most << and >> take`);
    }
    let rvalue: Operand;
    if (isVariableName(rvalueText!)) rvalue = variable(b, rvalueText!, 'byte_math', 'rvalue');
    else {
      // Decimal only: Suricata parses rvalue with str::parse::<u64>, so 0x.. is not a number there.
      if (!/^\d+$/.test(rvalueText!) || Number(rvalueText) > MAX_RVALUE) throw new RuleError(`byte_math: rvalue "${rvalueText}" is not a decimal number from 0 to ${MAX_RVALUE} nor a variable`);
      rvalue = Number(rvalueText);
    }
    const slot = b.defineVariable(result!, 'byte_math');
    b.addStep(new ByteMathStep(nbytes, offset!, op!, rvalue, slot, result!, relative, string, base, little, mask), true);
  },
};
