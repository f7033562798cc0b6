/**
 * Suricata's own DNS tests (suricata-verify): their captures through Outpost's pipeline, and the
 * checks Suricata passed, read from their test.yaml and applied field for field. Outpost answers
 * as Suricata 8 and later (checks for older versions are skipped, as suricata-verify skips them),
 * logging the EVE dns version the test asks for (SURICATA_EVE_DNS_VERSION, 3 otherwise).
 * Where Outpost departs, the field is named here with the reason, and checked as Outpost has it.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { shared } from '../../helpers.js';
import { matching, runFile, type Eve, type Run } from './harness.js';

interface Filter {
  count?: number;
  match?: Record<string, unknown>;
  requires?: Record<string, unknown>;
}

interface Departure {
  /** Match keys left out of the check (by prefix), and why. */
  omit: string[];
  why: string;
}

/** The version Outpost answers as, for the checks' `requires`. */
const ANSWERS_AS = [8, 0, 0];

function versionOf(v: unknown): number[] {
  return String(v).split('.').map(Number);
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

function applies(requires: Record<string, unknown> | undefined): boolean {
  if (requires === undefined) return true;
  if ('min-version' in requires && compare(ANSWERS_AS, versionOf(requires['min-version'])) < 0) return false;
  if ('lt-version' in requires && compare(ANSWERS_AS, versionOf(requires['lt-version'])) >= 0) return false;
  return true;
}

/**
 * Runs one suricata-verify test: its capture (its own, or the one `pcap:` names), its rules, the
 * dns version it asks for; then every filter check that applies to Suricata 8, as Suricata
 * counts (records matching every field). Returns the run and how many checks were applied.
 */
async function verify(t: TestContext, dir: string, departures: Array<(m: Record<string, unknown>) => Departure | null> = []): Promise<{ run: Run; applied: number } | null> {
  const base = shared(t, 'conformance', 'suricata-verify', 'tests', dir);
  if (base === null) return null;
  const spec = parseYaml(readFileSync(join(base, 'test.yaml'), 'utf8')) as { pcap?: string; env?: Record<string, unknown>; checks: Array<{ filter?: Filter }> };
  const pcap = spec.pcap !== undefined ? join(base, spec.pcap) : join(base, 'input.pcap');
  const rulesFile = join(base, 'test.rules');
  const version = spec.env?.SURICATA_EVE_DNS_VERSION === 2 ? 2 : 3;
  const run = await runFile(pcap, { dns: { version, alertVersion: 3 }, ...(existsSync(rulesFile) ? { rules: readFileSync(rulesFile, 'utf8') } : {}) });
  let applied = 0;
  for (const [i, check] of spec.checks.entries()) {
    const f = check.filter;
    if (f === undefined || !applies(f.requires)) continue;
    let match = { ...(f.match ?? {}) };
    for (const depart of departures) {
      const d = depart(match);
      if (d === null) continue;
      match = Object.fromEntries(Object.entries(match).filter(([k]) => !d.omit.some((o) => k === o || k.startsWith(`${o}.`))));
      t.diagnostic(`${dir} check ${i + 1}: without ${d.omit.join(', ')}: ${d.why}`);
    }
    const got = matching(run.events, match);
    assert.equal(got.length, f.count, `${dir} check ${i + 1}: ${JSON.stringify(f.match)}: ${got.length} records match`);
    applied++;
  }
  assert.ok(applied > 0, `${dir}: some check applies`);
  t.diagnostic(`${dir} (${dirname(pcap).split('/').pop()}/${pcap.split('/').pop()}, dns v${version}): ${applied} checks pass`);
  return { run, applied };
}

const isDns = (m: Record<string, unknown>): boolean => m.event_type === 'dns';
const isAlert = (m: Record<string, unknown>): boolean => m.event_type === 'alert';

test('dns/bug-990: a lone UDP query, version 3 (Suricata 8): the request record and the flow, field for field', async (t) => {
  await verify(t, 'dns/bug-990');
});

test('dns/v2/bug-990: the same capture in version 2: the query record, field for field', async (t) => {
  await verify(t, 'dns/v2/bug-990');
});

test('dns/dns-incomplete: a TCP query split across two segments on port 5353; one request record; the dns_query rule alerts once', async (t) => {
  const r = await verify(t, 'dns/dns-incomplete');
  if (r === null) return;
  const alert = r.run.alerts[0]!;
  assert.equal(alert.tx_id, 2, 'the request that completed in the second segment is the third transaction');
  assert.deepEqual((alert.dns as { queries: unknown }).queries, [{ rrname: 'google.com', rrtype: 'TXT' }]);
});

test('dns/v2/dns-incomplete: the same in version 2', async (t) => {
  await verify(t, 'dns/v2/dns-incomplete');
});

test('dns/task-7018-ids-dns-stream-rule: DNS over TCP in version 2: every query and answer record, field for field', async (t) => {
  // Suricata hands a TCP side's data to its parser when the other side acknowledges it; Outpost's
  // reassembly hands it over as it arrives: the records come one frame earlier.
  const tcpTiming = (m: Record<string, unknown>): Departure | null =>
    isDns(m) && m.proto === 'TCP' && 'pcap_cnt' in m ? { omit: ['pcap_cnt'], why: 'data is parsed when it arrives, not when acknowledged (checked below)' } : null;
  // The rule is a payload rule: Suricata (detect.guess-applayer-tx) ties its alert to a transaction; Outpost's engine does not.
  const payloadAlert = (m: Record<string, unknown>): Departure | null =>
    isAlert(m) ? { omit: ['pcap_cnt', 'tx_id', 'dns'], why: 'a payload rule\'s alert carries no transaction in Outpost (detect.guess-applayer-tx)' } : null;
  // The flow record's TCP details (regions) are the stream engine's, not DNS's.
  const flowRecord = (m: Record<string, unknown>): Departure | null =>
    m.event_type === 'flow' ? { omit: ['tcp.ts_max_regions', 'tcp.tc_max_regions'], why: 'the stream engine does not write region counts' } : null;
  const r = await verify(t, 'dns/task-7018-ids-dns-stream-rule', [tcpTiming, payloadAlert, flowRecord]);
  if (r === null) return;
  const dns = r.run.dns as Eve[];
  assert.deepEqual(dns.map((e) => [e.pcap_cnt, (e.dns as { type: string }).type]), [[4, 'query'], [6, 'answer'], [8, 'query'], [9, 'answer'], [10, 'query'], [11, 'answer']], 'each record at the frame that carried its message (Suricata: 5, 7, 9, 10, 11, 12)');
});

test('dns/dns-query/dns-detect-query-02, -03, -04: dns_query rules on UDP and TCP queries, not on responses, with pcre', async (t) => {
  for (const d of ['dns-detect-query-02', 'dns-detect-query-03', 'dns-detect-query-04']) await verify(t, `dns/dns-query/${d}`);
});
