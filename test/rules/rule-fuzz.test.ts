import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { test } from 'node:test';
import { RuleSet } from '../../src/rules/ruleset.js';
import { prng, shared } from '../helpers.js';

const FRAGMENTS = ['"', ';', ':', '|', '\\', '(', ')', ',', '!', '$', '[', ']', '-', '<>', ' ', '\n', '0', '-1', '99999999999', 'content', 'pcre', 'byte_test', 'depth', 'within', 'flowbits', 'any'];

/** Mutations of rule text: cut, duplicated, spliced, characters inserted. */
function mutate(text: string, rand: () => number): string {
  const at = Math.floor(rand() * text.length);
  switch (Math.floor(rand() * 5)) {
    case 0: return text.slice(0, at);
    case 1: return text.slice(0, at) + FRAGMENTS[Math.floor(rand() * FRAGMENTS.length)]! + text.slice(at);
    case 2: return text.slice(0, at) + text.slice(at + 1 + Math.floor(rand() * 10));
    case 3: return text.slice(0, at) + text.slice(Math.floor(rand() * text.length));
    default: {
      const chars = [...text];
      for (let i = 0; i < 3; i++) chars[Math.floor(rand() * chars.length)] = String.fromCharCode(Math.floor(rand() * 128));
      return chars.join('');
    }
  }
}

test('20,000 mutated rules never throw: each loads, is unsupported, or is an error with a line', (t) => {
  const file = shared(t, 'rules', 'snort-2.2.0-2004', 'web-misc.rules');
  const et = shared(t, 'rules', 'et-open-suricata5-2024-04-21', 'emerging-exploit.rules');
  if (file === null || et === null) return;
  const seeds = [...readFileSync(file, 'latin1').split('\n'), ...readFileSync(et, 'latin1').split('\n')].filter((l) => l.startsWith('alert'));
  assert.ok(seeds.length > 500);
  const rand = prng(2515);
  let loaded = 0;
  let errors = 0;
  for (let i = 0; i < 20_000; i++) {
    const text = mutate(seeds[i % seeds.length]!, rand);
    const set = new RuleSet();
    const report = set.loadText(text, `fuzz-${i}.rules`);
    loaded += report.loaded;
    errors += report.errors.length;
    for (const e of report.errors) {
      assert.equal(typeof e.message, 'string');
      assert.ok(e.line >= 1, 'every error has a line');
    }
  }
  assert.ok(loaded > 200, `some mutants still load (${loaded})`);
  assert.ok(errors > 1000, `many mutants are errors (${errors})`);
});

test('random bytes as a rules file never throw', () => {
  const rand = prng(11);
  for (let i = 0; i < 2000; i++) {
    const bytes = Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 300) }, () => Math.floor(rand() * 256)));
    new RuleSet().loadText(`alert ${bytes.toString('latin1')}`, 'noise.rules');
  }
  assert.ok(true);
});

