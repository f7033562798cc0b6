import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { RuleBuilder } from '../../src/rules/builder.js';
import { splitRuleFile } from '../../src/rules/file.js';
import { continueFrom, InspectContext, type PayloadStep } from '../../src/rules/inspect.js';
import type { Keyword } from '../../src/rules/keyword.js';
import { ContentStep } from '../../src/rules/keywords/content.js';
import { ByteExtractStep } from '../../src/rules/keywords/byte_extract.js';
import { ByteJumpStep } from '../../src/rules/keywords/byte_jump.js';
import { ByteMathStep } from '../../src/rules/keywords/byte_math.js';
import { ByteTestStep } from '../../src/rules/keywords/byte_test.js';
import { NeedsDceRpc, strtoull } from '../../src/rules/keywords/bytes.js';
import { BYTE_KEYWORDS } from '../../src/rules/keywords/bytes-group.js';
import { KEYWORDS_BY_NAME } from '../../src/rules/keywords/index.js';
import { parseRuleSyntax, RuleError } from '../../src/rules/syntax.js';
import { shared } from '../helpers.js';

const BYTE_BY_NAME = new Map(BYTE_KEYWORDS.map((k) => [k.name, k] as const));
const keyword = (name: string): Keyword | undefined => BYTE_BY_NAME.get(name) ?? KEYWORDS_BY_NAME.get(name);

/** Applies a rule's options (Suricata text, without the header) to a fresh builder. */
function build(options: string): { b: RuleBuilder; steps: PayloadStep[] } {
  const syntax = parseRuleSyntax(`alert tcp any any -> any any (${options})`);
  const b = new RuleBuilder('tcp', new Map());
  for (const o of syntax.options) {
    const k = keyword(o.name);
    if (k === undefined) throw new Error(`test uses unknown keyword ${o.name}`);
    k.apply(b, o.value);
  }
  return { b, steps: b.inspections.get('payload') ?? [] };
}

function bytes(payload: string | number[]): Uint8Array {
  return typeof payload === 'string' ? Uint8Array.from(Buffer.from(payload, 'latin1')) : Uint8Array.from(payload);
}

function context(payload: string | number[], start = 0): InspectContext {
  const buf = bytes(payload);
  const ctx = new InspectContext();
  ctx.set(buf, start, buf.length);
  return ctx;
}

/** True when the rule's payload steps match the payload. */
function matches(options: string, payload: string | number[], start = 0): boolean {
  return continueFrom(context(payload, start), 0, build(options).steps, 0);
}

function rejects(options: string, message: RegExp): void {
  assert.throws(() => build(options), (e: unknown) => e instanceof RuleError && message.test(e.message), `expected a RuleError matching ${message} for: ${options}`);
}

test('byte keyword parse errors say what is wrong', () => {
  rejects('byte_test:2,=>,1,0;', /"=>" is not an operator/);
  rejects('byte_test:2,,1,0;', /empty argument/);
  rejects('byte_test:2, ,1,0;', /empty argument/);
  rejects('byte_test:9,=,1,0;', /cannot read 9 bytes as binary \(at most 8/);
  rejects('byte_test:24,=,1,0,string,dec;', /at most 23/);
  rejects('byte_test:2,=,1,0,sideways;', /unknown option "sideways"/);
  rejects('byte_test:2,=,1;', /at least 4 arguments/);
  rejects('byte_test:2,=,len,0;', /value "len" is not a number nor a byte_extract\/byte_math variable/);
  rejects('byte_test:2,=,1,where;', /offset "where" is not a number nor/);
  rejects('byte_test:2,=,1,0,hex;', /needs "string"/);
  rejects('byte_test:2,=,1,0,big,little;', /both big and little/);
  rejects('byte_test:2,=,1,0,relative,relative;', /given twice/);
  rejects('byte_test:2,=,1,0,bitmask 0x1ffffffff;', /wider than 32 bits/);
  rejects('byte_test:2,=,12x,0;', /value "12x" is not a number/);

  rejects('byte_jump:9,0;', /at most 8/);
  rejects('byte_jump:24,0,string;', /at most 23/);
  rejects('byte_jump:2,0,backwards;', /unknown option "backwards"/);
  rejects('byte_jump:2,len;', /offset "len" is not a number nor/);
  rejects('byte_jump:2,0,from_beginning,from_end;', /cannot be used together/);
  rejects('byte_jump:2,0,multiplier 0;', /multiplier 0 is outside 1 to 65535/);
  rejects('byte_jump:2,0,post_offset -70000;', /outside -65535 to 65535/);
  rejects('byte_jump:2,70000;', /outside -65535 to 65535/);
  rejects('byte_jump:2,0,multiplier;', /multiplier needs a value/);

  rejects('byte_extract:9,0,x;', /at most 8/);
  rejects('byte_extract:21,0,x,string,dec;', /at most 20/);
  rejects('byte_extract:15,0,x,string,hex;', /at most 14/);
  rejects('byte_extract:2,0,x,string,big;', /cannot be combined/);
  rejects('byte_extract:2,0,x,align 3;', /align 3 must be 2 or 4/);
  rejects('byte_extract:2,0,x,color red;', /unknown option "color red"/);
  rejects('byte_extract:2,40000,x;', /outside -32768 to 32767/);
  rejects('byte_extract:2,0,9lives;', /not a valid variable name/);
  rejects('byte_extract:2,0;', /at least 3 arguments/);

  rejects('byte_math:bytes 11,offset 0,oper +,rvalue 1,result r;', /bytes 11 must be 1 to 10/);
  rejects('byte_math:bytes 5,offset 0,oper <<,rvalue 1,result r;', /more than 4/);
  rejects('byte_math:bytes 2,offset 0,oper %,rvalue 1,result r;', /oper "%" is not one of/);
  rejects('byte_math:bytes 2,offset 0,oper +,rvalue nope,result r;', /rvalue "nope" is not a number nor/);
  rejects('byte_math:bytes 2,offset 0,oper +,rvalue 1;', /missing result/);
  rejects('byte_math:bytes 2,offset 0,oper +,rvalue 1,result r,color red;', /unknown option "color red"/);
  rejects('byte_math:bytes 2,offset 0,oper +,rvalue 4294967296,result r;', /from 0 to 4294967295/);
  rejects('byte_math:bytes 2,offset 0,oper +,rvalue 1,result r,bitmask zz;', /not a hex value/);
  rejects('byte_math:bytes 2,offset 0,offset 1,oper +,rvalue 1,result r;', /given twice/);
});

test('dce is refused with a RuleError that names the missing DCE/RPC analyzer', () => {
  for (const options of ['byte_test:4,>,256,0,dce;', 'byte_jump:4,-4,relative,dce,align;', 'byte_extract:4,0,x,dce;', 'byte_math:bytes 4,offset 0,oper +,rvalue 1,result r,endian dce;', 'byte_math:bytes 4,offset 0,oper +,rvalue 1,result r,dce;']) {
    assert.throws(() => build(options), (e: unknown) => e instanceof NeedsDceRpc && e instanceof RuleError && /DCE\/RPC/.test(e.message), options);
  }
});

test('strtoull follows C: white space, sign, 0x prefix, base 0 octal, digits only as far as they go, overflow is no value', () => {
  const t = (s: string, base: 0 | 8 | 10 | 16): unknown => strtoull(bytes(s), 0, s.length, base);
  assert.deepEqual(t('  123abc', 10), { value: 123, used: 5 });
  assert.deepEqual(t('0x1F', 16), { value: 31, used: 4 });
  assert.deepEqual(t('1f', 16), { value: 31, used: 2 });
  assert.deepEqual(t('017', 8), { value: 15, used: 3 });
  assert.deepEqual(t('010', 0), { value: 8, used: 3 });
  assert.deepEqual(t('0x10', 0), { value: 16, used: 4 });
  assert.deepEqual(t('0xz', 16), { value: 0, used: 1 });
  assert.deepEqual(t('-1', 10), { value: 18446744073709551615n, used: 2 });
  assert.deepEqual(t('18446744073709551615', 10), { value: 18446744073709551615n, used: 20 });
  assert.equal(t('18446744073709551616', 10), null);
  assert.equal(t('abc', 10), null);
  assert.equal(t('', 10), null);
});

test('byte_test reads big and little endian binary values of 1 to 8 bytes', () => {
  assert.equal(matches('byte_test:2,=,258,0;', [1, 2]), true);
  assert.equal(matches('byte_test:2,=,513,0,little;', [1, 2]), true);
  assert.equal(matches('byte_test:2,=,513,0;', [1, 2]), false);
  assert.equal(matches('byte_test:3,=,0x010203,1;', [9, 1, 2, 3]), true);
  assert.equal(matches('byte_test:4,=,0x04030201,0,little;', [1, 2, 3, 4]), true);
  assert.equal(matches('byte_test:8,=,0xffffffffffffffff,0;', [255, 255, 255, 255, 255, 255, 255, 255]), true);
  assert.equal(matches('byte_test:8,=,0xfffffffffffffffe,0;', [255, 255, 255, 255, 255, 255, 255, 255]), false);
  assert.equal(matches('byte_test:8,>,9007199254740992,0;', [0, 0x20, 0, 0, 0, 0, 0, 1]), true);
  assert.equal(matches('byte_test:7,=,0x01000000000001,0;', [1, 0, 0, 0, 0, 0, 1]), true);
  // 0 bytes reads nothing and the value is 0.
  assert.equal(matches('byte_test:0,=,0,0;', [7]), true);
});

test('byte_test operators, negation, and ! alone meaning "not equal"', () => {
  const five = [5];
  const cases: Array<[string, boolean]> = [
    ['<,6', true], ['<,5', false], ['>,4', true], ['>,5', false], ['=,5', true], ['=,4', false],
    ['<=,5', true], ['<=,4', false], ['>=,5', true], ['>=,6', false], ['&,4', true], ['&,2', false], ['^,5', false], ['^,4', true],
    ['!<,6', false], ['!>,5', true], ['!=,5', false], ['!=,4', true], ['!,5', false], ['!,4', true], ['!&,2', true], ['! &,4', false],
  ];
  for (const [opValue, want] of cases) assert.equal(matches(`byte_test:1,${opValue},0;`, five), want, `byte_test:1,${opValue},0 on 5`);
  // & and ^ past 32 bits.
  assert.equal(matches('byte_test:8,&,0x100000000,0;', [0, 0, 0, 1, 0, 0, 0, 0]), true);
  assert.equal(matches('byte_test:8,&,0x200000000,0;', [0, 0, 0, 1, 0, 0, 0, 0]), false);
});

test('byte_test string dec, hex, oct and the automatic base', () => {
  assert.equal(matches('byte_test:6,=,123,0,string,dec;', '  123abc'), true);
  assert.equal(matches('byte_test:2,=,31,0,string,hex;', '1f'), true);
  assert.equal(matches('byte_test:4,=,31,0,string,hex;', '0x1F'), true);
  assert.equal(matches('byte_test:3,=,15,0,string,oct;', '017'), true);
  assert.equal(matches('byte_test:4,=,16,0,string;', '0x10'), true);
  assert.equal(matches('byte_test:3,=,8,0,string;', '010'), true);
  assert.equal(matches('content:"LEN:"; byte_test:5,>,256,0,relative,string,dec;', 'LEN:01000'), true);
  assert.equal(matches('content:"LEN:"; byte_test:5,>,256,0,relative,string,dec;', 'LEN:00256'), false);
  // Only nbytes characters are read: "1234" of "12345".
  assert.equal(matches('byte_test:4,=,1234,0,string,dec;', '12345'), true);
  // No digits: never a match, negated or not.
  assert.equal(matches('byte_test:3,=,0,0,string,dec;', 'abc'), false);
  assert.equal(matches('byte_test:3,!=,5,0,string,dec;', 'abc'), false);
  // 0 bytes with string: the whole number at the offset.
  assert.equal(matches('byte_test:0,=,123456,1,string,dec;', 'x123456;'), true);
  // A rule value with a leading 0 is octal, as Suricata's strtoull base 0 reads it.
  assert.equal(matches('byte_test:1,=,010,0;', [8]), true);
});

test('byte_test bitmask is applied, then the result is shifted right by the mask\'s trailing zeros', () => {
  assert.equal(matches('byte_test:2,=,1,0,bitmask 0x8000;', [0x80, 0x05]), true);
  assert.equal(matches('byte_test:2,=,0,0,bitmask 0x8000;', [0x7f, 0xff]), true);
  assert.equal(matches('byte_test:2,=,3,0,bitmask 0x00f0;', [0x12, 0x34]), true);
  assert.equal(matches('byte_test:2,=,1,1,relative,little,bitmask 0x8000;', 'x\x05\x80'), true);
  assert.equal(matches('byte_test:2,=,0x34,0,bitmask 255;', [0x12, 0x34]), true);
});

test('byte_test relative reads after the previous content and a failed test retries the content further on', () => {
  assert.equal(matches('content:"ABC"; byte_test:1,=,7,0,relative;', 'xxABC\x07'), true);
  assert.equal(matches('content:"ABC"; byte_test:1,=,7,1,relative;', 'ABC\x00\x07'), true);
  assert.equal(matches('content:"B"; byte_test:1,=,0x41,-2,relative;', 'AB'), true);
  assert.equal(matches('content:"A"; byte_test:1,=,2,0,relative;', 'A\x01A\x02'), true);
  const { steps } = build('content:"A"; byte_test:1,=,2,0,relative;');
  assert.ok(steps[0] instanceof ContentStep && steps[0].retry, 'the content is marked to retry');
  // byte_test does not move the cursor: the next relative content starts after "ABC".
  assert.equal(matches('content:"ABC"; byte_test:1,=,7,0,relative; content:"|07|"; distance:0; within:1;', 'ABC\x07'), true);
});

test('reading past the buffer never throws: it is no match', () => {
  assert.equal(matches('byte_test:4,=,0,2;', [0, 0, 0]), false);
  assert.equal(matches('content:"C"; byte_test:1,>,0,0,relative;', 'ABC'), false);
  assert.equal(matches('byte_test:1,=,0,-1;', [0]), false);
  assert.equal(matches('byte_test:1,=,0,0;', []), false);
  assert.equal(matches('byte_jump:4,2;', [0, 0, 0]), false);
  assert.equal(matches('byte_extract:4,2,x;', [0, 0, 0]), false);
  assert.equal(matches('byte_math:bytes 4,offset 2,oper +,rvalue 1,result r;', [0, 0, 0]), false);
  assert.equal(matches('byte_test:23,=,0,0,string;', '1'), false);
});

test('byte keywords read from the context start, not from the start of the backing array', () => {
  assert.equal(matches('byte_test:2,=,258,0;', 'zzz\x01\x02', 3), true);
  assert.equal(matches('byte_jump:1,0; content:"X"; distance:0; within:1;', 'zz\x02abX', 2), true);
});

test('byte_jump moves the cursor: from the field end, from_beginning, from_end, with multiplier, align and post_offset', () => {
  // [len=3] a b c X: jump lands on X.
  assert.equal(matches('byte_jump:1,0; content:"X"; distance:0; within:1;', '\x03abcX'), true);
  assert.equal(matches('byte_jump:1,0; content:"X"; distance:0; within:1;', '\x02abcX'), false);
  assert.equal(matches('content:"L"; byte_jump:2,0,relative,little; content:"X"; distance:0; within:1;', 'L\x02\x00abX'), true);
  assert.equal(matches('byte_jump:1,0,multiplier 2; content:"X"; distance:0; within:1;', '\x02abcdX'), true);
  // align rounds 5 up to 8: field end 1 + 8 = 9.
  assert.equal(matches('byte_jump:1,0,align; content:"X"; distance:0; within:1;', '\x05abcdefghX'), true);
  assert.equal(matches('byte_jump:1,2,from_beginning; content:"X"; distance:0; within:1;', 'ab\x04.X'), true);
  // Suricata's example: 0 bytes, from_end, post_offset -8: the last 8 bytes.
  assert.equal(matches('byte_jump:0,0,from_end,post_offset -8; content:"|6c 33 33 74|"; distance:0; within:4;', 'xxxxxxxxl33tyyyy'), true);
  assert.equal(matches('byte_jump:0,0,from_end,post_offset -8; content:"|6c 33 33 74|"; distance:0; within:4;', 'xxxxxxxxxl33tyyy'), false);
  assert.equal(matches('byte_jump:1,0,post_offset -2; content:"X"; distance:0; within:1;', '\x04abXd'), true);
  assert.equal(matches('byte_jump:1,0,string,dec; content:"X"; distance:0; within:1;', '3abcX'), true);
  assert.equal(matches('byte_jump:2,0,bitmask 0x0ff0; content:"X"; distance:0; within:1;', '\x00\x20abX'), true);
});

test('byte_jump targets: before the start clamps to the start, the end itself is allowed, past the end is no match', () => {
  const ctx = context('\x01abc');
  const jump = (options: string): number => (build(options).steps[0] as ByteJumpStep).target(ctx, 0);
  assert.equal(jump('byte_jump:1,0,post_offset -100;'), 0);
  assert.equal(jump('byte_jump:1,0,post_offset 2;'), 4);
  assert.equal(jump('byte_jump:1,0,post_offset 3;'), -1);
  assert.equal(jump('byte_jump:1,0,from_end;'), -1);
  assert.equal(jump('byte_jump:1,0,from_end,post_offset -1;'), 4);
  // An 8-byte value of -5 (two's complement) jumps backwards, as C's int64 cast does.
  const back = context([0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfb]);
  assert.equal((build('byte_jump:8,4;').steps[0] as ByteJumpStep).target(back, 0), 7);
  assert.equal(matches('byte_jump:1,0,post_offset 2;', '\x01abc'), true);
  assert.equal(matches('byte_jump:1,0,post_offset 3;', '\x01abc'), false);
  assert.equal(matches('byte_jump:1,0,post_offset 2; isdataat:!1,relative;', '\x01abc'), true);
});

test('byte_extract stores the value and moves the cursor past the bytes it read', () => {
  const run = (options: string, payload: string | number[]): { value: number; cursor: number } => {
    const { steps } = build(options);
    const ctx = context(payload);
    const step = steps[0] as ByteExtractStep;
    const cursor = step.extract(ctx, 0);
    return { value: ctx.vars[step.slot]!, cursor };
  };
  assert.deepEqual(run('byte_extract:2,1,x;', [9, 1, 2, 7]), { value: 258, cursor: 3 });
  assert.deepEqual(run('byte_extract:2,1,x,little;', [9, 1, 2, 7]), { value: 513, cursor: 3 });
  assert.deepEqual(run('byte_extract:1,0,x,multiplier 3;', [5]), { value: 15, cursor: 1 });
  assert.deepEqual(run('byte_extract:1,0,x,multiplier 3,align 4;', [1]), { value: 4, cursor: 1 });
  assert.deepEqual(run('byte_extract:1,0,x,align 2;', [3]), { value: 4, cursor: 1 });
  assert.deepEqual(run('byte_extract:4,0,x,string,dec;', '12;;X'), { value: 12, cursor: 2 });
  assert.deepEqual(run('byte_extract:2,0,x,string,hex;', 'ff'), { value: 255, cursor: 2 });
  assert.deepEqual(run('byte_extract:3,0,x,string,oct;', '777'), { value: 511, cursor: 3 });
  assert.deepEqual(run('byte_extract:2,0,x,bitmask 0x0ff0;', [0x12, 0x34]), { value: 0x23, cursor: 2 });
  assert.deepEqual(run('byte_extract:1,0,x;', []), { value: 0, cursor: -1 });
});

test('byte_extract feeds a content\'s offset, depth, distance and within', () => {
  assert.equal(matches('byte_extract:1,0,off; content:"Z"; offset:off; depth:1;', '\x03abZ'), true);
  assert.equal(matches('byte_extract:1,0,off; content:"Z"; offset:off; depth:1;', '\x02abZ'), false);
  assert.equal(matches('byte_extract:1,0,d; content:"Z"; depth:d;', '\x03aZ'), true);
  assert.equal(matches('byte_extract:1,0,d; content:"Z"; depth:d;', '\x02aZ'), false);
  assert.equal(matches('content:"L"; byte_extract:1,0,n,relative; content:"P"; distance:n; within:1;', 'L\x02abP'), true);
  assert.equal(matches('content:"L"; byte_extract:1,0,n,relative; content:"P"; distance:n; within:1;', 'L\x01abP'), false);
  assert.equal(matches('content:"L"; byte_extract:1,0,n,relative; content:"P"; distance:0; within:n;', 'L\x03abP'), true);
  assert.equal(matches('content:"L"; byte_extract:1,0,n,relative; content:"P"; distance:0; within:n;', 'L\x02abP'), false);
  // Cursor after an absolute byte_extract is the end of the field.
  assert.equal(matches('byte_extract:2,1,x; content:"Q"; distance:0; within:1;', '?\x00\x05Q'), true);
  // The variable feeds byte_test's value and offset, and byte_jump's offset.
  assert.equal(matches('byte_extract:1,0,v; byte_test:1,=,v,1;', [5, 5]), true);
  assert.equal(matches('byte_extract:1,0,v; byte_test:1,=,v,1;', [5, 6]), false);
  assert.equal(matches('byte_extract:1,0,at; byte_test:1,=,0x2a,at;', [3, 0, 0, 0x2a]), true);
  assert.equal(matches('byte_extract:1,0,at; byte_jump:1,at,from_beginning; content:"X"; distance:0; within:1;', [2, 0, 4, 0, 0x58]), true);
  // The earlier content is retried when the extracted length does not fit.
  assert.equal(matches('content:"L"; byte_extract:1,0,n,relative; content:"P"; distance:n; within:1;', 'L\x09xL\x01aP'), true);
});

test('byte_math computes into a variable in 64-bit arithmetic and moves the cursor past the bytes read', () => {
  const run = (options: string, payload: string | number[]): { value: number; cursor: number } => {
    const { steps } = build(options);
    const ctx = context(payload);
    const step = steps.at(-1) as ByteMathStep;
    let cursor = 0;
    for (const s of steps.slice(0, -1)) cursor = (s as ByteExtractStep).extract(ctx, cursor);
    cursor = step.compute(ctx, cursor);
    return { value: ctx.vars[step.slot]!, cursor };
  };
  const two = [0x01, 0x00];
  assert.deepEqual(run('byte_math:bytes 2,offset 0,oper +,rvalue 10,result r;', two), { value: 266, cursor: 2 });
  assert.deepEqual(run('byte_math:bytes 2,offset 0,oper -,rvalue 6,result r;', two), { value: 250, cursor: 2 });
  assert.deepEqual(run('byte_math:bytes 2,offset 0,oper *,rvalue 3,result r;', two), { value: 768, cursor: 2 });
  assert.deepEqual(run('byte_math:bytes 2,offset 0,oper /,rvalue 3,result r;', two), { value: 85, cursor: 2 });
  assert.deepEqual(run('byte_math:bytes 2,offset 0,oper <<,rvalue 2,result r;', two), { value: 1024, cursor: 2 });
  assert.deepEqual(run('byte_math:bytes 2,offset 0,oper >>,rvalue 4,result r;', two), { value: 16, cursor: 2 });
  assert.deepEqual(run('byte_math:bytes 2,offset 0,oper /,rvalue 0,result r;', two), { value: 0, cursor: -1 });
  assert.deepEqual(run('byte_math:bytes 2,offset 0,oper +,rvalue 0,result r,endian little;', two), { value: 1, cursor: 2 });
  assert.deepEqual(run('byte_math:bytes 3,offset 1,oper +,rvalue 1,result r,string dec;', 'x41;'), { value: 42, cursor: 3 });
  assert.deepEqual(run('byte_math:bytes 2,offset 0,oper +,rvalue 0,result r,bitmask 0ff0;', [0x12, 0x34]), { value: 0x23, cursor: 2 });
  assert.deepEqual(run('byte_math:bytes 1,offset 0,oper -,rvalue 2,result r;', [1]), { value: 2 ** 64, cursor: 1 });
  assert.deepEqual(run('byte_extract:1,0,k; byte_math:bytes 1,offset 1,oper *,rvalue k,result r;', [3, 7]), { value: 21, cursor: 2 });
  // Named arguments in any order, Snort 3 and Suricata alike.
  assert.deepEqual(run('byte_math:result r,rvalue 1,oper +,offset 0,bytes 1;', [4]), { value: 5, cursor: 1 });
});

test('byte_math feeds byte_test as in Suricata\'s documentation example', () => {
  // byte_extract:1,0,ev,relative; byte_math:bytes 1,offset 1,oper +,rvalue ev,result var; byte_test:2,=,var,13
  const payload = [2, 5, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7];
  assert.equal(matches('byte_extract:1,0,ev,relative; byte_math:bytes 1,offset 1,oper +,rvalue ev,result var; byte_test:2,=,var,13;', payload), true);
  payload[14] = 8;
  assert.equal(matches('byte_extract:1,0,ev,relative; byte_math:bytes 1,offset 1,oper +,rvalue ev,result var; byte_test:2,=,var,13;', payload), false);
});

test('steps are built with the right kind: byte_jump, byte_extract and byte_math set the cursor; byte_test does not', () => {
  const { b, steps } = build('content:"A"; byte_test:1,=,1,0,relative; byte_jump:1,0,relative; byte_extract:1,0,x,relative; byte_math:bytes 1,offset 0,oper +,rvalue 1,result y,relative;');
  assert.ok(steps[1] instanceof ByteTestStep);
  assert.ok(steps[2] instanceof ByteJumpStep);
  assert.ok(steps[3] instanceof ByteExtractStep);
  assert.ok(steps[4] instanceof ByteMathStep);
  assert.deepEqual(b.variables, ['x', 'y']);
  assert.equal(steps.every((s) => s.relative || s === steps[0]), true);
});

/** Every byte_test/byte_jump/byte_extract/byte_math/isdataat/bsize option of the enabled rules in a rule set directory. */
function* byteOptions(dir: string): Generator<{ file: string; line: number; build: () => Map<string, unknown[]> }> {
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.rules')).sort()) {
    for (const r of splitRuleFile(readFileSync(join(dir, name), 'latin1'))) {
      if (r.disabled || !/(byte_test|byte_jump|byte_extract|byte_math|isdataat|bsize)\s*:/.test(r.text)) continue;
      yield {
        file: name,
        line: r.line,
        build: () => {
          // Applies the rule's options in order (so variables and buffers are as the rule sets them);
          // only the byte keywords are judged, the rest are applied when Outpost knows them.
          const outcome = new Map<string, unknown[]>();
          const syntax = parseRuleSyntax(r.text);
          const b = new RuleBuilder(syntax.proto, new Map());
          b.snort3 = syntax.options.some((o) => o.name === 'service' || (o.name === 'content' && o.value !== null && /"\s*,/.test(o.value)));
          let unknownBefore = false;
          for (const o of syntax.options) {
            const k = keyword(o.name);
            if (k === undefined) unknownBefore = true;
            // bsize measures a sticky buffer; when that buffer's keyword is not implemented yet, bsize cannot be judged.
            const judged = BYTE_BY_NAME.has(o.name) && !(o.name === 'bsize' && unknownBefore);
            try {
              k?.apply(b, o.value);
              if (judged) outcome.set(`${o.name}:${o.value ?? ''}`, [...(outcome.get(`${o.name}:${o.value ?? ''}`) ?? []), null]);
            } catch (err) {
              if (judged) outcome.set(`${o.name}:${o.value ?? ''}`, [...(outcome.get(`${o.name}:${o.value ?? ''}`) ?? []), err]);
            }
          }
          return outcome;
        },
      };
    }
  }
}

test('the byte keywords of the enabled rules in the shared rule sets parse (>= 99%)', (t) => {
  const sets = ['et-open-suricata5-2024-04-21', 'snort-2.2.0-2004', 'snort3-community'];
  const dirs = sets.map((s) => [s, shared(t, 'rules', s)] as const);
  if (dirs.some(([, d]) => d === null)) return;
  let total = 0;
  let failed = 0;
  let dce = 0;
  for (const [set, dir] of dirs) {
    let setTotal = 0;
    let setFailed = 0;
    let setDce = 0;
    const failures: string[] = [];
    for (const rule of byteOptions(dir!)) {
      let outcome: Map<string, unknown[]>;
      try {
        outcome = rule.build();
      } catch {
        continue; // the rule text itself does not split: not a byte keyword's doing
      }
      for (const [option, results] of outcome) {
        for (const err of results) {
          setTotal++;
          if (err === null) continue;
          setFailed++;
          if (err instanceof NeedsDceRpc) setDce++;
          failures.push(`  ${rule.file}:${rule.line} ${option} -> ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }
    console.log(`${set}: ${setTotal - setFailed}/${setTotal} byte keyword options parse (${setFailed} fail, ${setDce} of them dce)`);
    for (const f of failures) console.log(f);
    total += setTotal;
    failed += setFailed;
    dce += setDce;
  }
  console.log(`all: ${total - failed}/${total} parse (${(((total - failed) / total) * 100).toFixed(2)}%), ${dce} refusals are dce`);
  assert.ok(total > 3000, `expected thousands of byte keyword options, found ${total}`);
  assert.ok((total - failed) / total >= 0.99, `${failed} of ${total} byte keyword options fail to parse`);
});
