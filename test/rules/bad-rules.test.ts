import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { RuleSet } from '../../src/rules/ruleset.js';
import { tempDir } from '../helpers.js';

const GOOD = 'alert tcp any any -> any 80 (msg:"good"; content:"GET"; sid:100; rev:1;)';

/** Loads a file with one bad rule between two good ones; returns the report. */
function loadWithBad(t: Parameters<typeof tempDir>[0], bad: string): ReturnType<typeof RuleSet.load>['report'] {
  const dir = tempDir(t);
  const file = join(dir, 'local.rules');
  writeFileSync(file, `# a comment\n${GOOD}\n${bad}\nalert udp any any -> any 53 (msg:"after"; content:"x"; sid:101;)\n`);
  return RuleSet.load([file]).report;
}

const CASES: Array<{ what: string; rule: string; reason: RegExp }> = [
  { what: 'an unbalanced quote', rule: 'alert tcp any any -> any any (msg:"broken; content:"x"; sid:1;)', reason: /unbalanced quote/ },
  { what: 'an unknown keyword', rule: 'alert tcp any any -> any any (msg:"x"; contnet:"x"; sid:2;)', reason: /unknown keyword "contnet"/ },
  { what: 'a bad variable', rule: 'alert tcp $NO_SUCH_NET any -> any any (msg:"x"; content:"x"; sid:3;)', reason: /unknown address variable \$NO_SUCH_NET/ },
  { what: 'a bad port variable', rule: 'alert tcp any $NOPE -> any any (msg:"x"; content:"x"; sid:4;)', reason: /unknown port variable \$NOPE/ },
  { what: 'a duplicate sid', rule: 'alert tcp any any -> any any (msg:"again"; content:"y"; sid:100;)', reason: /duplicate signature 1:100: already defined at .*local\.rules:2/ },
  { what: 'a missing sid', rule: 'alert tcp any any -> any any (msg:"x"; content:"x";)', reason: /no sid/ },
  { what: 'a bad action', rule: 'alrt tcp any any -> any any (msg:"x"; sid:5;)', reason: /not a rule action/ },
  { what: 'a bad direction', rule: 'alert tcp any any <- any any (msg:"x"; sid:6;)', reason: /not a direction \(->, <> or =>\)/ },
  { what: 'a transactional rule without application buffers', rule: 'alert tcp any any => any any (msg:"x"; content:"a"; sid:6;)', reason: /needs application buffers/ },
  { what: 'a content modifier without content', rule: 'alert tcp any any -> any any (msg:"x"; nocase; sid:7;)', reason: /needs a content/ },
  { what: 'depth shorter than its content', rule: 'alert tcp any any -> any any (msg:"x"; content:"abcdef"; depth:3; sid:8;)', reason: /shorter than its 6-byte content/ },
  { what: 'a bad hex section', rule: 'alert tcp any any -> any any (msg:"x"; content:"|4G|"; sid:9;)', reason: /not a hex digit/ },
  { what: 'a bad CIDR', rule: 'alert tcp 10.0.0.0/33 any -> any any (msg:"x"; sid:10;)', reason: /prefix/ },
];

for (const c of CASES) {
  test(`${c.what} is reported with file:line and the reason, and the rest of the file loads`, (t) => {
    const r = loadWithBad(t, c.rule);
    assert.equal(r.errors.length, 1, JSON.stringify(r.errors));
    const e = r.errors[0]!;
    assert.match(e.file, /local\.rules$/);
    assert.equal(e.line, 3, 'the bad rule is on line 3');
    assert.match(e.message, c.reason);
    assert.equal(r.loaded, 2, 'the good rules before and after still load');
  });
}

test('a column points at the offending option', (t) => {
  const r = loadWithBad(t, 'alert tcp any any -> any any (msg:"x"; contnet:"x"; sid:2;)');
  const col = r.errors[0]!.column!;
  assert.equal('alert tcp any any -> any any (msg:"x"; contnet:"x"; sid:2;)'.slice(col - 1, col - 1 + 7), 'contnet');
});

test('commented-out rules count as disabled, prose comments do not count at all', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'x.rules');
  writeFileSync(file, `# This file is about web attacks.\n#alert tcp any any -> any 80 (msg:"off"; content:"a"; sid:1;)\n# alert udp any any -> any 53 (msg:"off too"; sid:2;)\n${GOOD}\n`);
  const r = RuleSet.load([file]).report;
  assert.equal(r.total, 3);
  assert.equal(r.disabled, 2);
  assert.equal(r.loaded, 1);
});

test('a rule continued over several lines with backslashes loads as one rule', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'x.rules');
  writeFileSync(file, 'alert tcp any any -> any 80 (msg:"multi"; \\\n  content:"GET"; \\\n  sid:7;)\n');
  const set = RuleSet.load([file]);
  assert.equal(set.report.loaded, 1);
  assert.equal(set.rules[0]!.msg, 'multi');
  assert.equal(set.rules[0]!.location.line, 1);
});

test('a keyword Outpost knows but does not implement yet is counted as unsupported, by keyword, not as an error', (t) => {
  const r = loadWithBad(t, 'alert tcp any any -> any 80 (msg:"x"; content:"/admin"; base64_decode; sid:11;)');
  assert.equal(r.errors.length, 0);
  assert.deepEqual(r.unsupported, { base64_decode: 1 });
  assert.equal(r.loaded, 2);
});

test('a directory loads its .rules files in name order and ignores other files', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'b.rules'), 'alert tcp any any -> any any (msg:"b"; content:"b"; sid:2;)\n');
  writeFileSync(join(dir, 'a.rules'), 'alert tcp any any -> any any (msg:"a"; content:"a"; sid:1;)\n');
  writeFileSync(join(dir, 'notes.txt'), 'alert tcp any any -> any any (msg:"no"; sid:3;)\n');
  const set = RuleSet.load([dir]);
  assert.deepEqual(set.report.files.map((f) => f.file.slice(dir.length + 1)), ['a.rules', 'b.rules']);
  assert.deepEqual(set.rules.map((r) => r.sid), [1, 2]);
});
