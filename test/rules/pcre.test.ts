import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { RuleBuilder } from '../../src/rules/builder.js';
import { splitRuleFile } from '../../src/rules/file.js';
import { continueFrom, InspectContext, MAX_STEPS_PER_INSPECTION } from '../../src/rules/inspect.js';
import { content, CONTENT_MODIFIERS } from '../../src/rules/keywords/content.js';
import { parsePcreOption, pcre, PcreStep } from '../../src/rules/keywords/pcre.js';
import { PcreRegex, RegexRefusedError, UnsupportedKeywordError } from '../../src/rules/regex.js';
import { parseRuleSyntax, RuleError } from '../../src/rules/syntax.js';
import { shared } from '../helpers.js';

/** Options applied in order, as the rule compiler applies them: [keyword, value]. */
type Options = Array<[string, string | null]>;

const KEYWORDS = { content, pcre, ...CONTENT_MODIFIERS };

function build(options: Options): RuleBuilder {
  const b = new RuleBuilder('tcp', new Map());
  for (const [name, value] of options) KEYWORDS[name as keyof typeof KEYWORDS].apply(b, value);
  return b;
}

/** True when the payload steps match `payload` (bytes as a latin1 string). */
function inspect(options: Options, payload: string, ctx = new InspectContext()): boolean {
  const steps = build(options).inspections.get('payload') ?? [];
  const buf = Buffer.from(payload, 'latin1');
  ctx.set(buf, 0, buf.length);
  return continueFrom(ctx, 0, steps, 0);
}

describe('pcre option syntax', () => {
  test('the regex runs from the first slash to the last; modifiers follow; ! negates', () => {
    assert.deepEqual(parsePcreOption('"/a\\/b/i"'), { negated: false, pattern: 'a\\/b', modifiers: 'i', flags: { caseless: true }, relative: false, buffer: null });
    const o = parsePcreOption('!"/^x/smR"');
    assert.equal(o.negated, true);
    assert.equal(o.relative, true);
    assert.deepEqual(o.flags, { dotall: true, multiline: true });
    assert.equal(parsePcreOption('"/a/BO"').pattern, 'a', 'B (raw bytes) and O (match limits) are accepted');
    assert.deepEqual(parsePcreOption('"/a/AEGx"').flags, { anchored: true, dollarEndOnly: true, ungreedy: true, extended: true });
    assert.equal(parsePcreOption('"m?^Argument\\s+/?smi"').pattern, '^Argument\\s+/', "Snort's m<delimiter> form");
  });

  test('a buffer letter picks the HTTP buffer the regex searches', () => {
    const picks: Record<string, string> = { U: 'http.uri', I: 'http.uri.raw', P: 'http.request_body', Q: 'http.response_body', H: 'http.header', D: 'http.header.raw', M: 'http.method', C: 'http.cookie', S: 'http.stat_code', Y: 'http.stat_msg', V: 'http.user_agent', W: 'http.host', Z: 'http.host.raw' };
    for (const [m, name] of Object.entries(picks)) assert.equal(parsePcreOption(`"/a/${m}i"`).buffer?.name, name, m);
    assert.equal(parsePcreOption('"/a/i"').buffer, null);
    assert.throws(() => parsePcreOption('"/a/UH"'), /"H" picks http.header, but "U" already picked http.uri/);
    assert.throws(() => parsePcreOption('"/a/K"'), (e: unknown) => e instanceof UnsupportedKeywordError && e.keyword === 'pcre/K');
  });

  test('a buffer-letter pcre goes to that buffer and makes the rule an HTTP rule; the current buffer stays', () => {
    const b = build([['content', '"x"'], ['pcre', '"/^\\/admin/U"'], ['content', '"y"']]);
    assert.equal(b.appProto, 'http');
    assert.equal(b.inspections.get('http.uri')!.length, 1);
    assert.equal(b.inspections.get('payload')!.length, 2);
    assert.throws(() => build([['pcre', '"/a/UR"']]), /R modifier needs a content or pcre before it in http.uri/);
  });

  test('mistakes are rule errors', () => {
    assert.throws(() => parsePcreOption('"/a/q"'), (e: unknown) => e instanceof RuleError && !(e instanceof UnsupportedKeywordError) && /not a pcre modifier/.test(e.message));
    assert.throws(() => parsePcreOption('"a"'), RuleError);
    assert.throws(() => parsePcreOption('"/a/'), RuleError);
    assert.throws(() => pcre.apply(new RuleBuilder('tcp', new Map()), null), RuleError);
    assert.throws(() => build([['pcre', '"/a/R"']]), /R modifier needs a content or pcre before it/);
    assert.throws(() => build([['pcre', '"/(a/"']]), RuleError);
  });

  test('a pcre is a positional step in the current buffer, and equal patterns share one compiled regex', () => {
    const b = build([['pcre', '"/abc/i"'], ['pcre', '"/abc/i"']]);
    const steps = b.inspections.get('payload')!;
    assert.equal(steps.length, 2);
    assert.ok(steps[0] instanceof PcreStep && steps[1] instanceof PcreStep);
    assert.equal((steps[0] as PcreStep).regex, (steps[1] as PcreStep).regex);
    assert.equal(b.hasPositional(), true);
  });
});

describe('pcre matching', () => {
  test('without R the whole buffer is searched, whatever matched before', () => {
    assert.ok(inspect([['content', '"b"'], ['pcre', '"/a/"']], 'ab'));
    assert.ok(inspect([['pcre', '"/^GET /"']], 'GET /'));
    assert.equal(inspect([['pcre', '"/^GET /"']], ' GET /'), false);
  });

  test('with R the subject starts at the previous match end, so ^ anchors there', () => {
    const rule: Options = [['content', '"foo"'], ['pcre', '"/^bar/R"']];
    assert.ok(inspect(rule, 'foobar'));
    assert.equal(inspect(rule, 'foo bar'), false);
    assert.equal(inspect(rule, 'barfoo'), false);
    assert.ok(inspect([['content', '"a"'], ['pcre', '"/b/R"']], 'bab'));
    assert.equal(inspect([['content', '"a"'], ['pcre', '"/b/R"']], 'ba'), false, 'a b before the cursor does not count');
  });

  test('a match moves the cursor to its end, for the relative steps after it', () => {
    const rule: Options = [['pcre', '"/a+/"'], ['content', '"b"'], ['distance', '0'], ['within', '1']];
    assert.ok(inspect(rule, 'xaab'));
    assert.equal(inspect(rule, 'xaacb'), false);
    assert.ok(inspect([['content', '"a"'], ['pcre', '"/x$/R"'], ['content', '"|0a|"'], ['distance', '0'], ['within', '1']], 'ax\n'), '$ before a final newline ends the match before it');
  });

  test('when a later relative step fails the pcre is searched again one byte after its match start', () => {
    const rule: Options = [['pcre', '"/a./"'], ['content', '"z"'], ['distance', '0'], ['within', '1']];
    assert.ok(inspect(rule, 'axayz'));
    const relative: Options = [['content', '"x"'], ['pcre', '"/a./R"'], ['content', '"z"'], ['distance', '0'], ['within', '1']];
    assert.ok(inspect(relative, 'xa1a2z'));
    assert.equal(inspect(relative, 'a2zxa1'), false);
    // The retry stays in the relative subject: ^ still means the cursor, so there is no second chance.
    assert.equal(inspect([['content', '"x"'], ['pcre', '"/^a./R"'], ['content', '"z"'], ['distance', '0'], ['within', '1']], 'xa1a2z'), false);
  });

  test('without a relative step after it, the first match is final', () => {
    assert.equal(inspect([['pcre', '"/a./"'], ['content', '"z"'], ['offset', '4'], ['depth', '1']], 'axayz'), true);
    const steps = build([['pcre', '"/a./"'], ['content', '"z"']]).inspections.get('payload')!;
    assert.equal((steps[0] as PcreStep).retry, false);
  });

  test('a negated pcre matches when the regex does not, keeps the cursor, and is never retried', () => {
    assert.ok(inspect([['pcre', '!"/evil/"']], 'good'));
    assert.equal(inspect([['pcre', '!"/evil/"']], 'so evil'), false);
    const keeps: Options = [['content', '"a"'], ['pcre', '!"/^b/R"'], ['content', '"c"'], ['distance', '0'], ['within', '1']];
    assert.ok(inspect(keeps, 'ac'));
    assert.equal(inspect(keeps, 'ab'), false);
    assert.ok(inspect([['content', '"a"'], ['pcre', '!"/^b/R"'], ['content', '"q"'], ['distance', '0'], ['within', '1']], 'abaq'), 'the content before it retries');
    const ctx = new InspectContext();
    assert.equal(inspect([['pcre', '!"/x/"'], ['content', '"z"'], ['distance', '0']], 'ab', ctx), false);
    assert.ok(ctx.work < 10, `negated pcre looped: ${ctx.work} steps`);
  });

  test('a capped search that cannot tell is no match, negated or not', () => {
    const pattern = '(\\w)(?=x).*y.*\\1z';
    const re = new PcreRegex(pattern, { dotall: true });
    assert.ok(re.cap < 65536);
    const beyond = 'ax' + 'y'.repeat(re.cap) + 'az';
    assert.equal(inspect([['pcre', `"/${pattern}/s"`]], beyond), false);
    assert.equal(inspect([['pcre', `!"/${pattern}/s"`]], beyond), false, 'not seen is not the same as absent');
    assert.equal(inspect([['pcre', `!"/${pattern}/s"`]], 'ax'), true);
  });

  test('retrying over a long buffer stops at the inspection budget', () => {
    const ctx = new InspectContext();
    const started = performance.now();
    assert.equal(inspect([['pcre', '"/a/"'], ['content', '"z"'], ['distance', '0'], ['within', '1']], 'a'.repeat(65536), ctx), false);
    assert.ok(ctx.work > MAX_STEPS_PER_INSPECTION, `stopped after ${ctx.work} steps`);
    assert.ok(performance.now() - started < 5_000, 'hang detector');
  });
});

/** Every pcre value in the enabled rules of the .rules files in `dir`. */
function pcreOptions(dir: string): string[] {
  const out: string[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.rules')).sort()) {
    for (const r of splitRuleFile(readFileSync(join(dir, f), 'latin1'))) {
      if (r.disabled) continue;
      let syntax;
      try {
        syntax = parseRuleSyntax(r.text);
      } catch {
        continue;
      }
      for (const o of syntax.options) if (o.name === 'pcre' && o.value !== null) out.push(o.value);
    }
  }
  return out;
}

const COST_REASONS = new Set(['backtracking too costly', 'exponential backtracking']);

interface Coverage {
  total: number;
  http: number;
  /** Translated exactly: loadable, or refused only for its cost. */
  translated: number;
  loadable: number;
  capped: number;
  refused: Map<string, number>;
}

function coverage(values: readonly string[]): Coverage {
  const c: Coverage = { total: values.length, http: 0, translated: 0, loadable: 0, capped: 0, refused: new Map() };
  for (const v of values) {
    try {
      const o = parsePcreOption(v);
      const re = new PcreRegex(o.pattern, o.flags);
      c.translated++;
      c.loadable++;
      if (re.cap !== Infinity) c.capped++;
    } catch (e) {
      if (e instanceof UnsupportedKeywordError) {
        c.http++;
        continue;
      }
      const reason = e instanceof RegexRefusedError ? e.reason : e instanceof RuleError ? `invalid (${e.message.replace(/ at offset \d+/, '')})` : `crash: ${String(e)}`;
      if (e instanceof RegexRefusedError && COST_REASONS.has(e.reason)) c.translated++;
      c.refused.set(reason, (c.refused.get(reason) ?? 0) + 1);
    }
  }
  return c;
}

function report(name: string, c: Coverage): void {
  const base = c.total - c.http;
  const pct = (n: number): string => `${((100 * n) / base).toFixed(1)}%`;
  console.log(`${name}: ${c.total} pcre options, ${c.http} with an HTTP modifier (unsupported for now), ${base} others:`);
  console.log(`  translated exactly ${c.translated} (${pct(c.translated)}); loadable within the cost budget ${c.loadable} (${pct(c.loadable)}), ${c.capped} of them capped`);
  for (const [reason, n] of [...c.refused].sort((a, b) => b[1] - a[1])) console.log(`  refused: ${reason}: ${n}`);
}

describe('real rule sets', () => {
  test('ET Open (Suricata 5, 2024-04-21): at least 97% of the pcre options without an HTTP modifier translate', (t) => {
    const dir = shared(t, 'rules', 'et-open-suricata5-2024-04-21');
    if (dir === null) return;
    const c = coverage(pcreOptions(dir));
    report('ET Open 2024-04-21', c);
    assert.ok(c.total > 4000);
    assert.ok([...c.refused.keys()].every((r) => !r.startsWith('crash')));
    assert.ok(c.translated >= 0.97 * (c.total - c.http), `translated ${c.translated} of ${c.total - c.http}`);
    assert.ok(c.loadable >= 0.94 * (c.total - c.http), `loadable ${c.loadable} of ${c.total - c.http}`);
  });

  test('Snort 2.2.0 (2004): its pcre options translate', (t) => {
    const dir = shared(t, 'rules', 'snort-2.2.0-2004');
    if (dir === null) return;
    const c = coverage(pcreOptions(dir));
    report('Snort 2.2.0', c);
    assert.ok(c.total > 200);
    assert.ok(c.translated >= 0.97 * (c.total - c.http));
  });
});
