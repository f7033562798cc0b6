import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RuleBuilder } from '../../src/rules/builder.js';
import { continueFrom, InspectContext, type PayloadStep } from '../../src/rules/inspect.js';
import type { Keyword } from '../../src/rules/keyword.js';
import { BsizeStep } from '../../src/rules/keywords/bsize.js';
import { BYTE_KEYWORDS } from '../../src/rules/keywords/bytes-group.js';
import { ContentStep } from '../../src/rules/keywords/content.js';
import { KEYWORDS_BY_NAME } from '../../src/rules/keywords/index.js';
import { IsdataatStep } from '../../src/rules/keywords/isdataat.js';
import { parseRuleSyntax, RuleError } from '../../src/rules/syntax.js';

const BYTE_BY_NAME = new Map(BYTE_KEYWORDS.map((k) => [k.name, k] as const));
const keyword = (name: string): Keyword | undefined => BYTE_BY_NAME.get(name) ?? KEYWORDS_BY_NAME.get(name);

/** Applies a rule's options (without the header) to a fresh builder, starting in `buffer`. */
function build(options: string, buffer = 'payload'): { b: RuleBuilder; steps: PayloadStep[] } {
  const syntax = parseRuleSyntax(`alert tcp any any -> any any (${options})`);
  const b = new RuleBuilder('tcp', new Map());
  b.buffer = buffer;
  for (const o of syntax.options) {
    const k = keyword(o.name);
    if (k === undefined) throw new Error(`test uses unknown keyword ${o.name}`);
    k.apply(b, o.value);
  }
  return { b, steps: b.inspections.get(buffer) ?? [] };
}

function matches(options: string, payload: string | Uint8Array, buffer = 'payload'): boolean {
  const buf = typeof payload === 'string' ? Uint8Array.from(Buffer.from(payload, 'latin1')) : payload;
  const ctx = new InspectContext();
  ctx.set(buf, 0, buf.length);
  return continueFrom(ctx, 0, build(options, buffer).steps, 0);
}

test('isdataat absolute: byte n exists when n < length (n = len-1 yes, len and len+1 no); ! inverts', () => {
  const p = 'abcdefgh';
  assert.equal(matches('isdataat:7;', p), true);
  assert.equal(matches('isdataat:8;', p), false);
  assert.equal(matches('isdataat:9;', p), false);
  assert.equal(matches('isdataat:!7;', p), false);
  assert.equal(matches('isdataat:!8;', p), true);
  assert.equal(matches('isdataat:!9;', p), true);
  assert.equal(matches('isdataat:0;', ''), false);
  assert.equal(matches('isdataat:!0;', ''), true);
});

test('isdataat relative: n more bytes after the cursor when cursor + n <= length (one more than absolute); ! inverts', () => {
  const p = 'abcdefgh';
  // Suricata's documentation table for this payload.
  assert.equal(matches('isdataat:7,relative;', p), true);
  assert.equal(matches('isdataat:8,relative;', p), true);
  assert.equal(matches('isdataat:9,relative;', p), false);
  assert.equal(matches('content:"c"; isdataat:4,relative;', p), true);
  assert.equal(matches('content:"c"; isdataat:5,relative;', p), true);
  assert.equal(matches('content:"c"; isdataat:6,relative;', p), false);
  assert.equal(matches('content:"c"; isdataat:!4,relative;', p), false);
  assert.equal(matches('content:"c"; isdataat:!5,relative;', p), false);
  assert.equal(matches('content:"c"; isdataat:!6,relative;', p), true);
  // The 32-byte table from the same page.
  const p32 = 'x'.repeat(32);
  assert.equal(matches('isdataat:31;', p32), true);
  assert.equal(matches('isdataat:32;', p32), false);
  assert.equal(matches('isdataat:31,relative;', p32), true);
  assert.equal(matches('isdataat:32,relative;', p32), true);
  assert.equal(matches('isdataat:33,relative;', p32), false);
});

test('a relative isdataat that fails makes the content before it try its next occurrence', () => {
  assert.equal(matches('content:"a"; isdataat:!2,relative;', 'axxxxa'), true);
  assert.equal(matches('content:"a"; isdataat:!2,relative;', 'axxxxax'), true);
  assert.equal(matches('content:"a"; isdataat:!2,relative;', 'axxxxaxx'), false);
  assert.equal(matches('content:"a"; isdataat:3,relative;', 'xxxxxxa..a...'), true);
});

test('isdataat:!1,relative right after a content becomes endswith on that content, with the same result', () => {
  const { steps } = build('content:"end"; isdataat:!1,relative;');
  assert.equal(steps.length, 1);
  assert.ok(steps[0] instanceof ContentStep && steps[0].endswith);
  assert.equal(matches('content:"end"; isdataat:!1,relative;', 'the end is not the end'), true);
  assert.equal(matches('content:"end"; isdataat:!1,relative;', 'the end is near'), false);
  // Negated content with the conversion: matches unless the content ends the buffer.
  assert.equal(matches('content:!"end"; isdataat:!1,relative;', 'the end!'), true);
  assert.equal(matches('content:!"end"; isdataat:!1,relative;', 'the end'), false);
  // Anything else stays an isdataat step.
  assert.ok(build('content:"end"; isdataat:!2,relative;').steps[1] instanceof IsdataatStep);
  assert.ok(build('content:"end"; isdataat:1,relative;').steps[1] instanceof IsdataatStep);
  assert.ok(build('byte_jump:1,0; isdataat:!1,relative;').steps[1] instanceof IsdataatStep);
});

test('isdataat takes a byte_extract variable; a huge variable means "no data there"', () => {
  assert.equal(matches('byte_extract:1,0,n; isdataat:n;', '\x03abc'), true);
  assert.equal(matches('byte_extract:1,0,n; isdataat:n;', '\x04abc'), false);
  assert.equal(matches('byte_extract:1,0,n; isdataat:!n;', '\x04abc'), true);
  assert.equal(matches('byte_extract:4,0,n; isdataat:n,relative;', '\xff\xff\xff\xffabcd'), false);
  assert.equal(matches('byte_extract:4,0,n; isdataat:!n,relative;', '\xff\xff\xff\xffabcd'), true);
});

test('isdataat parse: rawbytes is accepted, mistakes are RuleErrors', () => {
  assert.equal(matches('content:"a"; isdataat:1,relative,rawbytes;', 'ab'), true);
  assert.equal(matches('isdataat:1, relative;', 'ab'), true);
  const rejects = (options: string, message: RegExp): void => {
    assert.throws(() => build(options), (e: unknown) => e instanceof RuleError && message.test(e.message), options);
  };
  rejects('isdataat:70000;', /above 65535/);
  rejects('isdataat:5,sideways;', /unknown option "sideways"/);
  rejects('isdataat:nope;', /"nope" is not a number nor a byte_extract\/byte_math variable/);
  rejects('isdataat:-1;', /is not a number/);
  rejects('isdataat;', /needs a position/);
  rejects('isdataat:1,relative,relative;', /given twice/);
});

test('bsize compares the length of the current buffer: =, !, <, <=, >, >= and exclusive ranges', () => {
  const ten = 'x'.repeat(10);
  const cases: Array<[string, boolean]> = [
    ['10', true], ['=10', true], ['9', false], ['!10', false], ['!9', true], ['<10', false], ['<11', true], ['<=10', true], ['<=9', false],
    ['>9', true], ['>10', false], ['>=10', true], ['>=11', false], ['9<>11', true], ['10<>20', false], ['5<>10', false], ['9-11', true],
  ];
  for (const [v, want] of cases) assert.equal(matches(`bsize:${v};`, ten, 'http.uri'), want, `bsize:${v} on 10 bytes`);
  assert.equal(matches('bsize:0;', '', 'http.uri'), true);
});

test('bsize on the packet payload is refused, as Suricata refuses it (dsize is the payload keyword)', () => {
  assert.throws(() => build('bsize:10;'), /needs a sticky buffer/);
});

test('bsize works in a sticky buffer and is not positional', () => {
  const { steps } = build('bsize:<20;', 'http.uri');
  assert.ok(steps[0] instanceof BsizeStep && !steps[0].relative);
  assert.equal(matches('content:"/index"; bsize:11;', '/index.html', 'http.uri'), true);
  assert.equal(matches('content:"/index"; bsize:11;', '/index.htm', 'http.uri'), false);
  // bsize leaves the cursor alone: a relative content after it continues from the previous match.
  assert.equal(matches('content:"/index"; bsize:11; content:".html"; distance:0; within:5;', '/index.html', 'http.uri'), true);
});

test('bsize parse errors are RuleErrors', () => {
  for (const v of ['abc', '', '10<>5', '<']) {
    assert.throws(() => build(`bsize:${v};`, 'http.uri'), (e: unknown) => e instanceof RuleError, `bsize:${v}`);
  }
  assert.throws(() => build('bsize;'), RuleError);
});
