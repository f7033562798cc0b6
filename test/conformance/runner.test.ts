import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { LinkType } from '../../src/capture/linktype.js';
import { discoverTests, runTest, type TestResult } from '../../src/conformance/index.js';
import { analyzedNames } from '../../src/conformance/needs.js';
import { ipv4 } from '../../src/synth/headers.js';
import { SynthCapture, TcpConnection, UdpFlow } from '../../src/synth/traffic.js';
import { records, runOutpost } from '../cli/run.js';
import { tempDir } from '../helpers.js';

/** One crafted suricata-verify test directory: test.yaml, rules, an optional suricata.yaml, a pcap. */
interface Spec {
  yaml: string;
  rules?: string;
  suricataYaml?: string;
  files?: Record<string, string>;
  /** Crafts the capture (input.pcap); a UDP "hello" from 10.0.0.1 to 10.0.0.2 when absent. */
  craft?: (cap: SynthCapture) => void;
  vlans?: number[];
}

function makeTest(root: string, name: string, spec: Spec): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'test.yaml'), spec.yaml);
  if (spec.rules !== undefined) writeFileSync(join(dir, 'test.rules'), spec.rules);
  if (spec.suricataYaml !== undefined) writeFileSync(join(dir, 'suricata.yaml'), spec.suricataYaml);
  for (const [f, text] of Object.entries(spec.files ?? {})) writeFileSync(join(dir, f), text);
  const cap = new SynthCapture(join(dir, 'input.pcap'), LinkType.ETHERNET, spec.vlans !== undefined ? { vlans: spec.vlans } : {});
  (spec.craft ?? helloUdp)(cap);
  cap.close();
  return dir;
}

function helloUdp(cap: SynthCapture): void {
  new UdpFlow(cap, '10.0.0.1:1234', '10.0.0.2:53').send('client', 'hello world');
}

const HELLO_RULE = 'alert udp any any -> any any (msg:"hello"; content:"hello"; sid:1; rev:1;)\n';

/** Runs one crafted test, answering as Suricata 8.0.0 (the version the gating cases below are written against). */
async function runOne(t: TestContext, spec: Spec, name = 'case'): Promise<TestResult> {
  const root = tempDir(t);
  makeTest(root, name, spec);
  const [tc] = discoverTests(root);
  assert.ok(tc !== undefined);
  return runTest(tc, { root, version: { major: 8, minor: 0, patch: 0 } });
}

const checks = (...filters: string[]): string => `checks:\n${filters.join('')}`;
const filter = (count: number, match: Record<string, string>, extra = ''): string =>
  `  - filter:\n      count: ${count}\n${extra}      match:\n${Object.entries(match).map(([k, v]) => `        ${k}: ${v}\n`).join('')}`;

describe('outcomes', () => {
  test('a test whose checks hold passes', async (t) => {
    const r = await runOne(t, { yaml: checks(filter(1, { event_type: 'alert', 'alert.signature_id': '1' })), rules: HELLO_RULE });
    assert.equal(r.status, 'pass', r.reason);
  });

  test('a count that differs fails, naming the filter and both counts', async (t) => {
    const r = await runOne(t, { yaml: checks(filter(2, { event_type: 'alert' })), rules: HELLO_RULE });
    assert.equal(r.status, 'fail');
    assert.equal(r.category, 'check');
    assert.match(r.reason, /"event_type":"alert".*expected 2, got 1/);
  });

  test('a rule needing an analyzer Outpost does not have skips the test and names the analyzer', async (t) => {
    const r = await runOne(t, { yaml: checks(filter(1, { event_type: 'alert' })), rules: 'alert smtp any any -> any any (content:"x"; sid:1;)\n' });
    assert.equal(r.status, 'skip');
    assert.equal(r.category, 'app-layer');
    assert.match(r.reason, /SMTP analyzer \(not in Outpost\)/);
  });

  test('a check expecting records of a protocol Outpost does not analyze skips, but one expecting none does not', async (t) => {
    const needs = await runOne(t, { yaml: checks(filter(1, { event_type: 'ssh' })), rules: HELLO_RULE });
    assert.equal(needs.status, 'skip');
    assert.match(needs.reason, /SSH analyzer/);
    const none = await runOne(t, { yaml: checks(filter(0, { event_type: 'ssh' }), filter(1, { event_type: 'alert' })), rules: HELLO_RULE });
    assert.equal(none.status, 'pass', none.reason);
  });

  test('the analyzers Outpost runs are known by their EVE names', () => {
    assert.deepEqual([...analyzedNames(['http', 'dns', 'tls', 'ftp', 'ftp-data', 'tftp', 'irc'])].sort(), ['DNS', 'FTP', 'HTTP', 'TFTP', 'TLS']);
  });

  test('a keyword Outpost does not implement skips the test with the keyword as the reason', async (t) => {
    const r = await runOne(t, { yaml: checks(filter(1, { event_type: 'alert' })), rules: 'alert udp any any -> any any (flowint:x,=,1; sid:1;)\n' });
    assert.equal(r.status, 'skip');
    assert.equal(r.category, 'unsupported-keyword');
    assert.match(r.reason, /flowint/);
  });

  test('a rule Outpost refuses fails the test with the parser error', async (t) => {
    const r = await runOne(t, { yaml: checks(filter(1, { event_type: 'alert' })), rules: 'alert udp any any -> any any (content:"x"; nosuchkeyword; sid:1;)\n' });
    assert.equal(r.status, 'fail');
    assert.equal(r.category, 'rule-error');
    assert.match(r.reason, /test\.rules:1.*nosuchkeyword/);
  });

  test('IPS mode (--simulate-ips, or "ips" in the directory name) skips', async (t) => {
    const byArg = await runOne(t, { yaml: `args:\n  - --simulate-ips\n${checks(filter(1, { event_type: 'alert' }))}`, rules: HELLO_RULE });
    assert.equal(byArg.status, 'skip');
    assert.match(byArg.reason, /passive sensor/);
    const byName = await runOne(t, { yaml: checks(filter(1, { event_type: 'alert' })), rules: HELLO_RULE }, 'drop-ips-01');
    assert.equal(byName.status, 'skip');
    assert.equal(byName.category, 'ips');
  });

  test('a feature Outpost lacks skips with the feature named', async (t) => {
    const r = await runOne(t, { yaml: `requires:\n  features:\n    - HAVE_LUA\n${checks(filter(1, { event_type: 'alert' }))}`, rules: HELLO_RULE });
    assert.equal(r.status, 'skip');
    assert.equal(r.reason, 'requires feature HAVE_LUA');
  });

  test('a GRE capture skips: Outpost does not decode the tunnel', async (t) => {
    const gre = Buffer.concat([Buffer.from([0, 0, 0x08, 0x00]), ipv4({ src: '10.1.0.1', dst: '10.1.0.2', proto: 17 }, Buffer.alloc(8))]);
    const r = await runOne(t, {
      yaml: checks(filter(1, { event_type: 'alert' })),
      rules: HELLO_RULE,
      craft: (cap) => cap.send(ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 47 }, gre)),
    });
    assert.equal(r.status, 'skip');
    assert.equal(r.category, 'encapsulation');
    assert.match(r.reason, /GRE/);
  });
});

describe('version gating (answering as Suricata 8.0.0)', () => {
  test('test-level min-version and lt-version skip or run as run.py decides', async (t) => {
    const body = checks(filter(1, { event_type: 'alert' }));
    assert.equal((await runOne(t, { yaml: `requires:\n  min-version: 9\n${body}`, rules: HELLO_RULE })).reason, 'requires at least version 9');
    assert.equal((await runOne(t, { yaml: `requires:\n  lt-version: 8\n${body}`, rules: HELLO_RULE })).reason, 'for version less than 8');
    assert.equal((await runOne(t, { yaml: `requires:\n  min-version: 7.0.12\n${body}`, rules: HELLO_RULE })).status, 'pass');
    assert.equal((await runOne(t, { yaml: `requires:\n  lt-version: 8.0.5\n${body}`, rules: HELLO_RULE })).status, 'pass');
  });

  test('a check gated to another version is skipped, the others still decide', async (t) => {
    const r = await runOne(t, {
      yaml: checks(
        filter(1, { event_type: 'alert' }),
        filter(5, { event_type: 'alert' }, '      requires:\n        min-version: 8.0.2\n'),
        filter(1, { event_type: 'alert' }, '      requires:\n        lt-version: 8.0.2\n'),
      ),
      rules: HELLO_RULE,
    });
    assert.equal(r.status, 'pass', r.reason);
    assert.deepEqual(r.checks, { passed: 2, failed: 0, skipped: 1 });
  });

  test('a test whose every check is for another version is skipped', async (t) => {
    const r = await runOne(t, { yaml: checks(filter(5, { event_type: 'alert' }, '      requires:\n        min-version: 9\n')), rules: HELLO_RULE });
    assert.equal(r.status, 'skip');
  });
});

describe('filter semantics', () => {
  test('dotted paths, list indexes, __len, __startswith, __find and YAML 1.1 booleans', async (t) => {
    const r = await runOne(t, {
      vlans: [6],
      yaml: checks(
        filter(1, { event_type: 'alert', 'vlan[0]': '6', 'alert.signature.__len': '5', 'alert.signature.__startswith': 'hel', 'src_ip.__find': '"0.0.1"' }),
        filter(1, { event_type: 'flow', 'flow.alerted': 'yes' }),
        filter(0, { event_type: 'alert', 'vlan[1]': '6' }),
      ),
      rules: HELLO_RULE,
    });
    assert.equal(r.status, 'pass', r.reason);
  });

  test('has-key and not-has-key, with a single key or a list of keys', async (t) => {
    const r = await runOne(t, {
      yaml: checks(
        filter(1, { 'has-key': 'alert.signature_id' }),
        filter(1, { 'has-key': '[alert.rev, alert.gid]' }),
        filter(0, { 'has-key': 'alert.engine' }),
        filter(1, { event_type: 'alert', 'not-has-key': '[payload, packet]' }),
      ),
      rules: HELLO_RULE,
    });
    assert.equal(r.status, 'pass', r.reason);
  });

  test('a filter without event_type counts every kind of record; numbers equal as Python compares them', async (t) => {
    const r = await runOne(t, { yaml: checks(filter(1, { src_port: '1234', dest_port: '53.0', 'alert.signature': 'hello' })), rules: HELLO_RULE });
    assert.equal(r.status, 'pass', r.reason);
  });
});

describe('configuration', () => {
  test('without a suricata.yaml, Suricata defaults: all EVE types, HOME_NET private ranges', async (t) => {
    const r = await runOne(t, {
      yaml: checks(filter(1, { event_type: 'flow' }), filter(1, { event_type: 'stats' }), filter(1, { event_type: 'alert', 'alert.signature_id': '2' })),
      rules: `${HELLO_RULE}alert udp $HOME_NET any -> $HOME_NET any (msg:"home"; sid:2;)\n`,
    });
    assert.equal(r.status, 'pass', r.reason);
  });

  test('a test suricata.yaml replaces the defaults: its vars, its EVE types, its payload options, its include', async (t) => {
    const r = await runOne(t, {
      yaml: checks(
        filter(0, { event_type: 'flow' }),
        filter(1, { event_type: 'alert', 'alert.signature_id': '2', payload_printable: 'hello world' }),
        filter(2, { event_type: 'alert', 'has-key': 'packet' }),
      ),
      rules: `${HELLO_RULE}alert udp $HOME_NET any -> any any (msg:"home"; sid:2;)\n`,
      files: { 'vars.yaml': 'vars:\n  address-groups:\n    HOME_NET: "[10.0.0.1]"\n' },
      suricataYaml: [
        '%YAML 1.1',
        '---',
        'include: vars.yaml',
        'outputs:',
        '  - eve-log:',
        '      enabled: yes',
        '      filename: eve.json',
        '      types:',
        '        - alert:',
        '            payload-printable: yes',
        '            packet: yes',
        '',
      ].join('\n'),
    });
    assert.equal(r.status, 'pass', r.reason);
  });

  test('host-os-policy gives the receiving host its overlap policy', async (t) => {
    // Held out of order: "XXXX" at offset 4, then "EVIL" at exactly the same place; the hole is filled after.
    const craft = (cap: SynthCapture): void => {
      const c = new TcpConnection(cap, '10.0.0.1:40000', '10.0.0.2:80').handshake();
      c.segment('client', 4, 'XXXX').segment('client', 4, 'EVIL').segment('client', 0, 'AAAA').advance('client', 8);
      c.close();
    };
    const rules = 'alert tcp-stream any any -> any any (msg:"evil"; content:"EVIL"; sid:1;)\n';
    const yaml = checks(filter(1, { event_type: 'alert', 'alert.signature_id': '1' }));
    const policy = (name: string): string => `outputs:\n  - eve-log:\n      enabled: yes\n      types:\n        - alert\nhost-os-policy:\n  windows: [0.0.0.0/0]\n  ${name}: [10.0.0.2]\n`;
    assert.equal((await runOne(t, { yaml, rules, craft, suricataYaml: policy('linux') })).status, 'fail', 'linux keeps the first of two segments that start and end together');
    assert.equal((await runOne(t, { yaml, rules, craft, suricataYaml: policy('old-linux') })).status, 'pass', 'old-linux takes the later one');
  });

  test('stats checks read the final stats record; a counter Outpost lacks fails saying so', async (t) => {
    const ok = await runOne(t, { yaml: 'checks:\n  - stats:\n      decoder.pkts: 1\n      decoder.udp: 1\n      decoder.ethernet: 1\n      detect.alert: 1\n', rules: HELLO_RULE });
    assert.equal(ok.status, 'pass', ok.reason);
    const missing = await runOne(t, { yaml: 'checks:\n  - stats:\n      decoder.vlan: 1\n', rules: HELLO_RULE });
    assert.equal(missing.status, 'fail');
    assert.match(missing.reason, /decoder\.vlan.*no such counter/);
  });
});

describe('shell checks', () => {
  test('the fast.log line count is answered without a shell', async (t) => {
    const r = await runOne(t, { yaml: 'checks:\n  - shell:\n      args: cat fast.log | wc -l | xargs\n      expect: 1\n', rules: HELLO_RULE });
    assert.equal(r.status, 'pass', r.reason);
  });

  test('a requires script is never run: the test is skipped with the script named', async (t) => {
    const root = tempDir(t);
    const marker = join(root, 'ran');
    makeTest(root, 'case', { yaml: `requires:\n  script:\n    - touch ${marker}\n${checks(filter(1, { event_type: 'alert' }))}`, rules: HELLO_RULE });
    const r = await runTest(discoverTests(root)[0]!, { root });
    assert.equal(r.status, 'skip');
    assert.match(r.reason, /touch /);
    assert.equal(existsSync(marker), false);
  });

  test('engine-log and file-compare checks skip the test', async (t) => {
    const engine = await runOne(t, { yaml: checks(filter(1, { event_type: 'engine' }, '      filename: suricata.json\n')), rules: HELLO_RULE });
    assert.equal(engine.category, 'engine-log');
    const compare = await runOne(t, { yaml: 'checks:\n  - file-compare:\n      filename: out.log\n      expected: expected/out.log\n', rules: HELLO_RULE });
    assert.equal(compare.category, 'file-compare');
  });

  test('any other shell check skips the test and is never run', async (t) => {
    const root = tempDir(t);
    const marker = join(root, 'ran');
    makeTest(root, 'case', { yaml: `checks:\n  - shell:\n      args: touch ${marker}\n`, rules: HELLO_RULE });
    const [tc] = discoverTests(root);
    const r = await runTest(tc!, { root });
    assert.equal(r.status, 'skip');
    assert.match(r.reason, /^shell check not supported: touch /);
    assert.equal(existsSync(marker), false);
  });
});

describe('discovery and the command', () => {
  test('every directory with test.yaml is a test, named by its path; the walk stops there', (t) => {
    const root = tempDir(t);
    makeTest(root, 'group/one', { yaml: 'checks: []\n' });
    makeTest(root, 'group/one/inner', { yaml: 'checks: []\n' });
    makeTest(root, 'two', { yaml: 'checks: []\n' });
    mkdirSync(join(root, 'empty'));
    assert.deepEqual(discoverTests(root).map((x) => x.name), ['group/one', 'two']);
  });

  test('--json reports every test; the exit code is 1 only when a test failed', (t) => {
    const root = tempDir(t);
    makeTest(root, 'good', { yaml: checks(filter(1, { event_type: 'alert' })), rules: HELLO_RULE });
    makeTest(root, 'bad', { yaml: checks(filter(3, { event_type: 'alert' })), rules: HELLO_RULE });
    makeTest(root, 'later', { yaml: `requires:\n  min-version: 10\n${checks(filter(1, { event_type: 'alert' }))}`, rules: HELLO_RULE });
    const all = runOutpost(['conformance', root, '--json']);
    assert.equal(all.status, 1, all.stderr);
    const [report] = records(all.stdout) as Array<{ passed: number; failed: number; skipped: number; tests: Array<{ name: string; status: string; reason: string }> }>;
    assert.ok(report !== undefined);
    assert.deepEqual([report.passed, report.failed, report.skipped], [1, 1, 1]);
    assert.deepEqual(report.tests.map((x) => [x.name, x.status]), [['bad', 'fail'], ['good', 'pass'], ['later', 'skip']]);
    const doc = join(root, 'doc.md');
    writeFileSync(doc, '# Results\n\n<!-- generated by outpost conformance: everything below this line is replaced -->\nold report\n');
    const updated = runOutpost(['conformance', root, '--update-doc', doc]);
    assert.equal(updated.status, 1, updated.stderr);
    const text = readFileSync(doc, 'utf8');
    assert.match(text, /^# Results\n/);
    assert.doesNotMatch(text, /old report/);
    assert.match(text, /\| 3 \| 1 \| 1 \| 1 \| 50\.0% \(1 of 2\) \|/);
    assert.match(text, /`bad` \| #1 filter .*expected 3, got 1/);
    const filtered = runOutpost(['conformance', root, '--filter', 'goo']);
    assert.equal(filtered.status, 0, filtered.stderr);
    assert.match(filtered.stdout, /^pass good/m);
    assert.doesNotMatch(filtered.stdout, /bad/);
  });
});
