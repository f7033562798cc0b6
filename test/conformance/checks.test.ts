import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { filterMatches, findValue, pyEquals } from '../../src/conformance/checks.js';
import { parseVersion, versionCompatible } from '../../src/conformance/version.js';

const v8 = { major: 8, minor: 0, patch: 0 };

describe('run.py version comparisons', () => {
  test('missing parts are 0, or open for an equality test', () => {
    assert.deepEqual(parseVersion('7'), { major: 7, minor: 0, patch: 0 });
    assert.deepEqual(parseVersion(8, 'equal'), { major: 8, minor: null, patch: null });
    assert.deepEqual(parseVersion('8.0.2-dev'), { major: 8, minor: 0, patch: 2 });
  });

  test('8.0.0 against the bounds the suite uses', () => {
    assert.equal(versionCompatible('7.0.12', v8, 'gte'), true);
    assert.equal(versionCompatible(8, v8, 'gte'), true);
    assert.equal(versionCompatible('8.0.2', v8, 'gte'), false);
    assert.equal(versionCompatible(8, v8, 'lt'), false);
    assert.equal(versionCompatible('8.0.5', v8, 'lt'), true);
    assert.equal(versionCompatible('6.0.11', v8, 'gt'), true);
    assert.equal(versionCompatible('8', v8, 'equal'), true);
    assert.equal(versionCompatible('8.1', v8, 'equal'), false);
  });

  test("is_lt compares minor and patch independently, as run.py's does", () => {
    // 8.1.0 < 8.0.6 by run.py's reading (patch 0 < 6): a quirk kept so gating matches upstream.
    assert.equal(versionCompatible('8.0.6', { major: 8, minor: 1, patch: 0 }, 'lt'), true);
  });
});

describe('find_value and matching', () => {
  const ev = { event_type: 'alert', alert: { signature_id: 7, metadata: { a: ['x', 'y'] } }, vlan: [6, 7], payload: 'QUJD', nul: null };

  test('dotted paths, indexes and __len; missing keys are None', () => {
    assert.equal(findValue('alert.signature_id', ev), 7);
    assert.equal(findValue('vlan[1]', ev), 7);
    assert.equal(findValue('vlan[2]', ev), null);
    assert.equal(findValue('alert.metadata.a.__len', ev), 2);
    assert.equal(findValue('payload.__len', ev), 4);
    assert.equal(findValue('alert.nothing', ev), null);
    assert.equal(findValue('alert.signature_id.__len', ev), -1);
  });

  test('a key missing from the record equals an expected None (Python compares None == None)', () => {
    assert.equal(filterMatches({ 'alert.nothing': null }, ev), true);
    assert.equal(filterMatches({ nul: null }, ev), true);
  });

  test('Python equality: True == 1, 7 == 7.0, "7" != 7, lists deeply', () => {
    assert.equal(pyEquals(true, 1), true);
    assert.equal(pyEquals(7, 7.0), true);
    assert.equal(pyEquals('7', 7), false);
    assert.equal(pyEquals([6, 7], [6, 7]), true);
    assert.equal(pyEquals({ a: [1] }, { a: [1] }), true);
    assert.equal(pyEquals({ a: [1] }, { a: [1], b: 2 }), false);
  });

  test('looking into a number raises, as Python would: the check cannot be evaluated', () => {
    assert.throws(() => findValue('alert.signature_id.x', ev), /not iterable/);
    assert.throws(() => filterMatches({ 'alert.signature_id.__find': 'x' }, ev), /no attribute/);
  });
});
