import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  formatProblem,
  parseClassificationConfig,
  parseReferenceConfig,
  parseThresholdConfig,
  type RateFilterDirective,
  type SuppressDirective,
  type ThresholdDirective,
} from '../../src/rules/config-files.js';
import { DEFAULT_VARS } from '../../src/rules/vars.js';
import { shared } from '../helpers.js';

function v4(text: string, at: number, words = new Uint32Array(8)): Uint32Array {
  const [a, b, c, d] = text.split('.').map(Number) as [number, number, number, number];
  words[at + 2] = 0xffff;
  words[at + 3] = ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
  return words;
}

describe('classification.config', () => {
  test('name, description (commas allowed) and priority; names are looked up lower-cased', () => {
    const c = parseClassificationConfig(
      '# comment\n\nconfig classification: Trojan-Activity,A Network Trojan was detected, 1\nconfig classification:odd,Has, a comma,2\n',
      'classification.config',
    );
    assert.deepEqual(c.problems, []);
    assert.deepEqual(c.classes.get('trojan-activity'), { description: 'A Network Trojan was detected', priority: 1 });
    assert.deepEqual(c.classes.get('odd'), { description: 'Has, a comma', priority: 2 });
  });

  test('bad lines give file:line and the expected form; the other lines still load; the first definition wins', () => {
    const c = parseClassificationConfig(
      [
        'config classification: good,Good,2',
        'config classificaton: typo,Typo,1',
        'config classification: no-priority,Missing',
        'config classification: 9lives,Starts with a digit,1',
        'config classification: loud,Too loud,0',
        'config classification: good,Again,1',
        'config classification: also-good,Also good,3',
      ].join('\n'),
      'etc/classification.config',
    );
    assert.deepEqual([...c.classes.keys()], ['good', 'also-good']);
    assert.equal(c.classes.get('good')!.priority, 2);
    const messages = c.problems.map(formatProblem);
    assert.equal(messages.length, 5);
    assert.match(messages[0]!, /^etc\/classification\.config:2: not a classification: expected "config classification: <name>,<description>,<priority>"/);
    assert.match(messages[1]!, /^etc\/classification\.config:3: expected "config classification:/);
    assert.match(messages[2]!, /^etc\/classification\.config:4: classification name "9lives" must start with a letter/);
    assert.match(messages[3]!, /^etc\/classification\.config:5: classification loud: priority "0" must be a whole number from 1 \(highest\) to 255/);
    assert.match(messages[4]!, /^etc\/classification\.config:6: classification good is defined again; the first definition is kept/);
  });

  test('ET Open’s classification.config loads whole, with the known entries', (t) => {
    const path = shared(t, 'rules', 'et-open-suricata5-2024-04-21', 'classification.config');
    if (path === null) return;
    const c = parseClassificationConfig(readFileSync(path, 'utf8'), path);
    assert.deepEqual(c.problems, []);
    assert.equal(c.classes.size, 42);
    assert.deepEqual(c.classes.get('trojan-activity'), { description: 'A Network Trojan was detected', priority: 1 });
    assert.deepEqual(c.classes.get('bad-unknown'), { description: 'Potentially Bad Traffic', priority: 2 });
    assert.deepEqual(c.classes.get('not-suspicious'), { description: 'Not Suspicious Traffic', priority: 3 });
    assert.deepEqual(c.classes.get('tcp-connection'), { description: 'A TCP connection was detected', priority: 4 });
    assert.deepEqual(c.classes.get('command-and-control'), { description: 'Malware Command and Control Activity Detected', priority: 1 });
    assert.deepEqual(c.classes.get('web-application-activity'), { description: 'access to a potentially vulnerable web application', priority: 2 });
  });
});

describe('reference.config', () => {
  test('system and URL prefix per line; bad lines give file:line and the expected form', () => {
    const r = parseReferenceConfig(
      'config reference: bugtraq   http://www.securityfocus.com/bid/\nconfig reference: CVE http://cve.mitre.org/cgi-bin/cvename.cgi?name=\nconfig reference: url\nreference: x http://x/\n',
      'reference.config',
    );
    assert.equal(r.systems.get('bugtraq'), 'http://www.securityfocus.com/bid/');
    assert.equal(r.systems.get('cve'), 'http://cve.mitre.org/cgi-bin/cvename.cgi?name=');
    assert.deepEqual(r.problems.map(formatProblem), [
      'reference.config:3: expected "config reference: <system> <url prefix>" (a system name, a space, then the URL prefix)',
      'reference.config:4: not a reference system: expected "config reference: <system> <url prefix>"',
    ]);
  });
});

describe('threshold.config', () => {
  test('every directive parses into its typed entry, in file order', () => {
    const c = parseThresholdConfig(
      [
        '# Limit to 1 alert every 10 seconds for each source host',
        'threshold gen_id 1, sig_id 2404000, type limit, track by_src, count 1, seconds 10',
        'event_filter gen_id 0, sig_id 0, type both, track by_flow, count 10, seconds 60',
        'rate_filter gen_id 1, sig_id 1000, track by_rule, count 100, seconds 60, new_action alert, timeout 30',
        'suppress gen_id 1, sig_id 2002087',
        'suppress gen_id 1, sig_id 2003614, track by_src, ip 217.110.97.128/25',
        'suppress gen_id 1, sig_id 2003615, track by_either, ip [10.0.0.0/8, $HOME_NET, fe80::/10]',
      ].join('\n'),
      'threshold.config',
    );
    assert.deepEqual(c.problems, []);
    assert.equal(c.directives.length, 6);
    const [th, ev, rate, sup, supIp, supList] = c.directives as [ThresholdDirective, ThresholdDirective, RateFilterDirective, SuppressDirective, SuppressDirective, SuppressDirective];
    assert.deepEqual({ ...th, location: undefined }, { kind: 'threshold', directive: 'threshold', gid: 1, sid: 2404000, threshold: { type: 'limit', track: 'by_src', count: 1, seconds: 10 }, location: undefined });
    assert.equal(th.location.line, 2);
    assert.deepEqual(ev.threshold, { type: 'both', track: 'by_flow', count: 10, seconds: 60 });
    assert.equal(ev.directive, 'event_filter');
    assert.deepEqual({ ...rate, location: undefined }, { kind: 'rate_filter', gid: 1, sid: 1000, track: 'by_rule', count: 100, seconds: 60, newAction: 'alert', timeout: 30, location: undefined });
    assert.deepEqual([sup.track, sup.ip, sup.matcher], [null, null, null]);
    assert.equal(supIp.track, 'by_src');
    assert.ok(supIp.matcher!(v4('217.110.97.200', 0), 0));
    assert.ok(!supIp.matcher!(v4('217.110.97.100', 0), 0));
    assert.equal(supList.ip, '[10.0.0.0/8, $HOME_NET, fe80::/10]');
    assert.ok(supList.matcher!(v4('192.168.7.7', 0), 0), '$HOME_NET is expanded');
    assert.ok(!supList.matcher!(v4('8.8.8.8', 0), 0));
  });

  test('a line continued with a backslash is one directive, reported at its first line', () => {
    const c = parseThresholdConfig('\n\nthreshold gen_id 1 \\\n, sig_id 10, type limit, track by_src, \\  \ncount 1, seconds 60\nsuppress gen_id 1, sig_id 11, \\\n track by_dst, ip 1.2.3.4\n', 'threshold.config');
    assert.deepEqual(c.problems, []);
    assert.equal(c.directives.length, 2);
    assert.equal(c.directives[0]!.location.line, 3);
    assert.equal(c.directives[1]!.location.line, 6);
  });

  test('bad lines give file:line and what is allowed; the other lines still load', () => {
    const c = parseThresholdConfig(
      [
        'threshold gen_id 1, sig_id 1, type limit, track by_src, count 1, seconds 60',
        'treshold gen_id 1, sig_id 2, type limit, track by_src, count 1, seconds 60',
        'threshold gen_id 0, sig_id 3, type limit, track by_src, count 1, seconds 60',
        'threshold gen_id 1, sig_id 4, type backoff, track by_flow, count 1, multiplier 10',
        'threshold gen_id 1, sig_id 5, type limit, track by_src, count 0, seconds 60',
        'rate_filter gen_id 1, sig_id 6, track by_src, count 1, seconds 60, new_action drop',
        'rate_filter gen_id 1, sig_id 7, track by_src, count 1, seconds 60, new_action block, timeout 5',
        'suppress gen_id 1, sig_id 8, track by_rule, ip 1.2.3.4',
        'suppress gen_id 1, sig_id 9, track by_src, ip $NO_SUCH_NET',
        'suppress gen_id 1, sig_id 10, track by_src',
        'suppress sig_id 11',
        'event_filter gen_id 1, sig_id 12, type threshold, track by_dst, count 10, seconds 60',
      ].join('\n'),
      'rules/threshold.config',
    );
    assert.deepEqual(
      c.directives.map((d) => d.sid),
      [1, 12],
    );
    const messages = c.problems.map(formatProblem);
    const expected: RegExp[] = [
      /^rules\/threshold\.config:2: unknown directive "treshold"; a line is one of: threshold gen_id G, sig_id S, type limit\|threshold\|both, /,
      /^rules\/threshold\.config:3: threshold: sig_id 3 needs its gen_id \(1 for text rules\)/,
      /^rules\/threshold\.config:4: threshold: type "backoff" is not limit, threshold, both$/,
      /^rules\/threshold\.config:5: threshold: count must be at least 1$/,
      /^rules\/threshold\.config:6: rate_filter: missing timeout; expected "rate_filter gen_id G, sig_id S, track /,
      /^rules\/threshold\.config:7: rate_filter: new_action "block" is not alert, drop, pass, log, sdrop, reject$/,
      /^rules\/threshold\.config:8: suppress: track "by_rule" is not by_src, by_dst, by_either$/,
      /^rules\/threshold\.config:9: suppress: ip \$NO_SUCH_NET: unknown address variable \$NO_SUCH_NET$/,
      /^rules\/threshold\.config:10: suppress: after sig_id expected nothing or ", track by_src\|by_dst\|by_either, ip /,
      /^rules\/threshold\.config:11: suppress: expected "suppress gen_id G, sig_id S, \.\.\."/,
    ];
    assert.equal(messages.length, expected.length, messages.join('\n'));
    expected.forEach((re, i) => assert.match(messages[i]!, re));
  });

  test('suppress addresses use the given rule variables', () => {
    const vars = { addressGroups: { ...DEFAULT_VARS.addressGroups, SCANNERS: '[198.51.100.0/24]' }, portGroups: DEFAULT_VARS.portGroups };
    const c = parseThresholdConfig('suppress gen_id 1, sig_id 5, track by_src, ip $SCANNERS\n', 'threshold.config', vars);
    assert.deepEqual(c.problems, []);
    const s = c.directives[0] as SuppressDirective;
    assert.ok(s.matcher!(v4('198.51.100.9', 0), 0));
    assert.ok(!s.matcher!(v4('198.51.101.9', 0), 0));
  });
});
