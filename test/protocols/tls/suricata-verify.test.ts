/**
 * suricata-verify's TLS tests, run here through the pipeline with only the TLS protocol: their
 * captures and rules, and every `filter` check of their test.yaml counted as run.py counts it
 * (the conformance module's filterMatches). Stats checks are answered from the application
 * layer's counters where they name one.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { filterMatches } from '../../../src/conformance/checks.js';
import { findPcap, findRuleFiles, loadTestYaml } from '../../../src/conformance/suite.js';
import { shared } from '../../helpers.js';
import { runFile } from './harness.js';

interface FilterCheck {
  count: number;
  match: Record<string, unknown>;
}

async function verify(dir: string): Promise<{ filters: number; stats: Record<string, unknown> | null; tlsFlows: number }> {
  const config = loadTestYaml(dir);
  const pcap = findPcap(dir, config).path;
  assert.ok(pcap !== null, `${dir} has a capture`);
  const rules = findRuleFiles(dir)
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
  const run = await runFile(pcap, rules === '' ? null : rules);
  const events = run.events.map((e) => JSON.parse(JSON.stringify(e)) as unknown);
  const checks = (config.checks as Array<Record<string, unknown>>) ?? [];
  let filters = 0;
  let stats: Record<string, unknown> | null = null;
  for (const check of checks) {
    if ('stats' in check) stats = check.stats as Record<string, unknown>;
    if (!('filter' in check)) continue;
    const f = check.filter as FilterCheck;
    const got = events.filter((e) => filterMatches(f.match, e)).length;
    assert.equal(got, f.count, `${dir}: ${JSON.stringify(f.match)}`);
    filters++;
  }
  return { filters, stats, tlsFlows: run.pipeline.app?.counters.detected.get('tls') ?? 0 };
}

test('suricata-verify bug-5758 (TLS 1.3 with a HelloRetryRequest): one tls record with the SNI, one alert on tls.sni', async (t) => {
  const dir = shared(t, 'conformance', 'suricata-verify', 'tests', 'bug-5758');
  if (dir === null) return;
  assert.equal((await verify(dir)).filters, 2);
});

test('suricata-verify tls-duplicate-hello: the JA3 string of the first of two ClientHellos, and the alert on ja3.string', async (t) => {
  const dir = shared(t, 'conformance', 'suricata-verify', 'tests', 'tls-duplicate-hello');
  if (dir === null) return;
  assert.equal((await verify(dir)).filters, 2);
});

test('suricata-verify tls/tls-cert-issuer: four records with serial and issuer, one resumed session, four alerts on tls_cert_issuer; five TLS flows', async (t) => {
  const dir = shared(t, 'conformance', 'suricata-verify', 'tests', 'tls', 'tls-cert-issuer');
  if (dir === null) return;
  const r = await verify(dir);
  assert.equal(r.filters, 3);
  assert.equal(r.stats?.['app_layer.flow.tls'], 5);
  assert.equal(r.tlsFlows, 5);
});

test('suricata-verify tls/tls-subject-zero and tls-issuer-zero: a NUL inside a name is kept, and content with |00| matches it', async (t) => {
  for (const name of ['tls-subject-zero', 'tls-issuer-zero', 'tls-cert-noissuer']) {
    const dir = shared(t, 'conformance', 'suricata-verify', 'tests', 'tls', name);
    if (dir === null) return;
    assert.equal((await verify(join(dir))).filters, 1, name);
  }
});
