import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { ConfigError, defaultConfig, loadConfig } from '../../src/config/config.js';
import { CORRELATE_DEFAULTS } from '../../src/correlate/index.js';
import { DETECTOR_KINDS } from '../../src/detect/index.js';
import { repoRoot, tempDir } from '../helpers.js';

test('outpost.example.yaml loads and says exactly what the defaults are', () => {
  const example = loadConfig(join(repoRoot, 'outpost.example.yaml'));
  const defaults = defaultConfig(repoRoot);
  assert.deepEqual({ ...example, base: '', flowTimeouts: {} }, { ...defaults, base: '', flowTimeouts: {} });
  assert.deepEqual(example.flowTimeouts.tcp, { new: 60, established: 600, closed: 60 });
  assert.equal(example.stream.reassemblyMemcap, 256 * 1024 * 1024);
  assert.deepEqual(example.httpLimits, { requestBodyLimit: 100 * 1024, responseBodyLimit: 100 * 1024, decompressLayerLimit: 2 });
});

function loadText(t: Parameters<typeof tempDir>[0], text: string): ReturnType<typeof loadConfig> {
  const file = join(tempDir(t), 'outpost.yaml');
  writeFileSync(file, text);
  return loadConfig(file);
}

test('an unknown key is refused with its path and the keys allowed there', (t) => {
  assert.throws(() => loadText(t, 'stream:\n  overlap-polcy: linux\n'), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.match(e.message, /outpost\.yaml: unknown key "stream\.overlap-polcy"; allowed here: overlap-policy, chunk-size, max-flows, reassembly-memcap/);
    return true;
  });
});

test('a bad value names the key and what is allowed', (t) => {
  assert.throws(() => loadText(t, 'stream:\n  overlap-policy: beos\n'), /stream\.overlap-policy: .*bsd/);
  assert.throws(() => loadText(t, 'packet-alert-max: 900\n'), /packet-alert-max: /);
  assert.throws(() => loadText(t, 'defrag:\n  memcap: lots\n'), /defrag\.memcap: a size such as 64kb, 32mb or 1gb/);
});

test('YAML that does not parse is reported with its line', (t) => {
  assert.throws(() => loadText(t, 'vars:\n  address-groups:\n    HOME_NET: [1.2.3.4\n'), /outpost\.yaml:\d+:\d+: not valid YAML/);
});

test('vars from the file override the defaults; EXTERNAL_NET follows HOME_NET unless set', (t) => {
  const c = loadText(t, 'vars:\n  address-groups:\n    HOME_NET: [10.1.0.0/16, 10.2.0.0/16]\n  port-groups:\n    HTTP_PORTS: [80, 8080]\n');
  assert.equal(c.vars.addressGroups.HOME_NET, '[10.1.0.0/16,10.2.0.0/16]');
  assert.equal(c.vars.addressGroups.EXTERNAL_NET, '!$HOME_NET');
  assert.equal(c.vars.portGroups.HTTP_PORTS, '[80,8080]');
  assert.equal(c.externalNetSet, false);
});

test("HTTP limits in Suricata's libhtp layout; X-Forwarded-For off unless enabled", (t) => {
  const c = loadText(t, 'app-layer:\n  protocols:\n    http:\n      libhtp:\n        default-config:\n          response-body-limit: 1mb\n          response-body-decompress-layer-limit: 3\n    dns: { enabled: no }\n');
  assert.deepEqual(c.httpLimits, { requestBodyLimit: 100 * 1024, responseBodyLimit: 1024 * 1024, decompressLayerLimit: 3 });
  assert.equal(c.appProtocols.has('dns'), false);
  assert.equal(c.eve.xff, null);
  const x = loadText(t, 'outputs:\n  eve:\n    xff: { enabled: yes, mode: overwrite }\n');
  assert.deepEqual(x.eve.xff, { mode: 'overwrite', deployment: 'reverse', header: 'X-Forwarded-For' });
  assert.throws(() => loadText(t, 'outputs:\n  eve:\n    xff: { enabled: yes, mode: replace }\n'), /outputs\.eve\.xff\.mode/);
});

test('outpost.example.yaml lists every detector and correlator option with its default', () => {
  const doc = parseYaml(readFileSync(join(repoRoot, 'outpost.example.yaml'), 'utf8')) as { detect: Record<string, Record<string, unknown>>; correlate: Record<string, unknown> };
  const plain = (v: unknown): unknown => (v === 'yes' ? true : v === 'no' ? false : v);
  for (const k of DETECTOR_KINDS) {
    for (const [option, value] of Object.entries(k.defaults)) assert.deepEqual(plain(doc.detect[k.name]?.[option]), value, `detect.${k.name}.${option}`);
    assert.deepEqual(Object.keys(doc.detect[k.name] ?? {}).sort(), Object.keys(k.defaults).sort(), `detect.${k.name} has no other keys`);
  }
  for (const [option, value] of Object.entries(CORRELATE_DEFAULTS)) assert.deepEqual(plain(doc.correlate[option]), value, `correlate.${option}`);
});

test('detector options are checked against their defaults: unknown keys and wrong types are refused with the key', (t) => {
  assert.throws(() => loadText(t, 'detect:\n  scan:\n    short-portz: 10\n'), /detect\.scan\.short-portz/);
  assert.throws(() => loadText(t, 'detect:\n  flood:\n    window: fast\n'), /detect\.flood\.window/);
  assert.throws(() => loadText(t, 'detect:\n  telepathy: {}\n'), /detect\.telepathy/);
  const c = loadText(t, 'detect:\n  scan: { short-ports: 40, enabled: no }\ncorrelate: { window: 600 }\n');
  assert.equal(c.behaviour.detectors.scan!['short-ports'], 40);
  assert.equal(c.behaviour.detectors.scan!.enabled, false);
  assert.equal(c.behaviour.detectors.flood!.window, 10, 'the others keep their defaults');
  assert.equal(c.behaviour.correlate.window, 600);
});

test('the honeypot section: the PCT service (or off), listeners, the store relative to the file; bad addresses named', (t) => {
  const c = loadText(t, 'honeypot:\n  pct: 127.0.0.1:8443\n  listen: ["127.0.0.1:2323", "[::1]:2222"]\n  store: payloads\n');
  assert.equal(c.honeypot.pct, '127.0.0.1:8443');
  assert.deepEqual(c.honeypot.listen, ['127.0.0.1:2323', '[::1]:2222']);
  assert.ok(c.honeypot.store!.endsWith('/payloads'));
  assert.equal(loadText(t, 'honeypot:\n  pct: off\n').honeypot.pct, null);
  assert.throws(() => loadText(t, 'honeypot:\n  listen: [telnet]\n'), /honeypot\.listen\.0: .*HOST:PORT/);
});
