import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_FEATURES, discoverTests, runTest, summarize, TARGET_VERSION, type TestResult } from '../../src/conformance/index.js';
import { shared } from '../helpers.js';

/**
 * The whole of Suricata's own test suite through the runner, as `outpost conformance` runs it:
 * at least 90% of the tests it runs pass, and every skip is for something outside the analyzers
 * and features Outpost has (another protocol, IPS or firewall mode, a tunnel, Lua, ...).
 */
test('suricata-verify: at least 90% of the tests run pass; skips name what Outpost lacks', async (t) => {
  const root = shared(t, 'conformance', 'suricata-verify', 'tests');
  if (root === null) return;
  const results: TestResult[] = [];
  for (const tc of discoverTests(root)) results.push(await runTest(tc, { root, version: TARGET_VERSION, features: new Set(DEFAULT_FEATURES) }));
  const s = summarize(results);
  const rate = s.passed / (s.passed + s.failed);
  t.diagnostic(`passed ${s.passed}, failed ${s.failed}, skipped ${s.skipped}: ${(100 * rate).toFixed(1)}% of the tests run`);
  assert.ok(rate >= 0.9, `pass rate ${(100 * rate).toFixed(1)}% is under 90%; failing: ${results.filter((r) => r.status === 'fail').map((r) => r.name).join(', ')}`);
  for (const r of results.filter((x) => x.status === 'skip')) {
    assert.notEqual(r.reason, '', `${r.name} skipped without a reason`);
    if (r.category === 'app-layer') assert.match(r.reason, /not in Outpost/, `${r.name}: ${r.reason}`);
    assert.doesNotMatch(r.reason, /\b(HTTP|DNS|TLS|FTP|TFTP|IRC) analyzer\b/, `${r.name} skipped for an analyzer Outpost has: ${r.reason}`);
  }
});
