/**
 * Suricata's own expectations (suricata-verify tests with captures, in ../shared/conformance):
 * each capture runs through the sensor with the test's rules and settings, and the checks of its
 * test.yaml that are about HTTP (http and fileinfo records, alerts from rules on HTTP buffers)
 * must hold field for field. Left out, each with its reason below: keys that belong to other
 * rooms (packet numbers and flow counters at alert time depend on when reassembly hands data
 * over, which is the stream's business, not HTTP's).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createHttpProtocol, httpProtocol } from '../../../src/protocols/http/index.js';
import type { ProtocolSpec } from '../../../src/protocols/app.js';
import { shared } from '../../helpers.js';
import { analyzeCapture, type Record_ } from '../analyze.js';

type Match = Record<string, string | number | boolean>;
interface Check {
  count: number;
  match: Match;
}

/** A value at a dotted path ("http.hostname", "vlan[0]"), or undefined. */
function at(e: unknown, path: string): unknown {
  let v: unknown = e;
  for (const part of path.split('.')) {
    const m = /^([^[]+)(?:\[(\d+)\])?$/.exec(part);
    if (m === null || v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[m[1]!];
    if (m[2] !== undefined) v = Array.isArray(v) ? (v as unknown[])[Number(m[2])] : undefined;
  }
  return v;
}

/** Suricata writes IPv6 addresses in full ("fe80:0000:...:ab42"); Outpost compressed: compare them expanded. */
function expandIp(s: string): string {
  if (!s.includes(':')) return s;
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head === '' ? [] : head!.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => g.padStart(4, '0').toLowerCase()).join(':');
}

function matches(e: Record_, match: Match): boolean {
  return Object.entries(match).every(([k, want]) => {
    const got = at(e, k);
    if (typeof want === 'string' && typeof got === 'string' && k.endsWith('_ip')) return expandIp(got) === expandIp(want);
    return got === want;
  });
}

/** The test's rule files (test.rules, or whatever *.rules it has). */
function rulesOf(dir: string): string {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.rules'))
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n');
}

interface Case {
  name: string;
  pcap: string;
  /** The test's own rules, or those of its rules that are about HTTP. */
  rules?: (text: string) => string;
  protocols?: ProtocolSpec[];
  checks: Check[];
}

const CASES: Case[] = [
  {
    name: 'bug-814',
    pcap: 'input.pcap',
    checks: [
      {
        // Left out: pcap_cnt, flow.bytes_* and flow.pkts_* (when the stream hands the request over).
        count: 1,
        match: {
          'alert.action': 'allowed',
          'alert.category': '',
          'alert.gid': 1,
          'alert.rev': 1,
          'alert.severity': 3,
          'alert.signature': 'TEST',
          'alert.signature_id': 1,
          app_proto: 'http',
          dest_ip: 'fe80:0000:0000:0000:020c:29ff:faf2:ab42',
          dest_port: 80,
          event_type: 'alert',
          'http.hostname': 'www.net1.bg',
          'http.http_method': 'GET',
          'http.http_user_agent': 'Mozilla/4.75 (Nikto/2.1.4) (Evasions:None) (Test:000003)',
          'http.length': 0,
          'http.protocol': 'HTTP/1.1',
          'http.url': '/cgi-bin/cart32.exe',
          proto: 'TCP',
          src_ip: 'fe80:0000:0000:0000:020c:29ff:fef3:cf38',
          src_port: 58307,
          tx_id: 0,
          'vlan[0]': 1111,
        },
      },
      {
        count: 1,
        match: {
          dest_ip: 'fe80:0000:0000:0000:020c:29ff:faf2:ab42',
          dest_port: 80,
          event_type: 'http',
          'http.hostname': 'www.net1.bg',
          'http.http_method': 'GET',
          'http.http_user_agent': 'Mozilla/4.75 (Nikto/2.1.4) (Evasions:None) (Test:000003)',
          'http.length': 0,
          'http.protocol': 'HTTP/1.1',
          'http.url': '/cgi-bin/cart32.exe',
          proto: 'TCP',
          src_ip: 'fe80:0000:0000:0000:020c:29ff:fef3:cf38',
          src_port: 58307,
          tx_id: 0,
          'vlan[0]': 1111,
        },
      },
    ],
  },
  {
    name: 'bug-3286-01-no-evasion',
    pcap: 'without_evasion.pcap',
    // Left out: the alert of its rule, a plain stream content match (the stream's business).
    rules: () => '',
    checks: [
      { count: 1, match: { event_type: 'fileinfo', 'fileinfo.state': 'CLOSED' } },
      { count: 1, match: { event_type: 'http', 'http.status': 200, 'http.length': 14 } },
    ],
  },
  {
    name: 'bug-6269-01',
    pcap: 'input.pcap',
    checks: [
      { count: 1, match: { event_type: 'http', 'http.url': '/test_lastline_blocking' } },
      { count: 1, match: { event_type: 'alert', 'alert.signature_id': 1 } },
    ],
  },
  {
    name: 'bug-7851-01',
    pcap: 'connect.pcap',
    checks: [
      { count: 0, match: { event_type: 'alert' } },
      { count: 1, match: { event_type: 'http', 'http.http_method': 'CONNECT', 'http.url': '/' } },
    ],
  },
  {
    name: 'decode-sll2-02',
    pcap: 'input.pcap',
    checks: [
      // Left out: packet_info.linktype_name (the alert's packet details, not HTTP's).
      { count: 1, match: { event_type: 'alert', 'alert.signature_id': 1 } },
      { count: 1, match: { event_type: 'http', 'http.hostname': '192.168.1.21', 'http.http_method': 'GET' } },
    ],
  },
  {
    name: 'http-async',
    pcap: 'input.pcap',
    checks: [
      { count: 1, match: { event_type: 'http', 'http.url': '/1', 'http.status': 200 } },
      { count: 1, match: { event_type: 'http', 'http.url': '/2', 'http.status': 200 } },
      { count: 1, match: { event_type: 'alert', 'alert.signature_id': 1 } },
      { count: 1, match: { event_type: 'alert', 'alert.signature_id': 2 } },
    ],
  },
  {
    name: 'http-encoding-identity',
    pcap: 'test.pcap',
    checks: [
      { count: 1, match: { event_type: 'alert', 'alert.signature_id': 1 } },
      { count: 0, match: { event_type: 'anomaly', 'anomaly.event': 'ABNORMAL_CE_HEADER' } },
    ],
  },
  {
    name: 'http-body-inspect',
    pcap: 'http-aptget-ids-02-s2.pcap',
    // The test runs with --set app-layer.protocols.http.libhtp.default-config.response-body-limit=1mb.
    protocols: [createHttpProtocol({ limits: { responseBodyLimit: 1024 * 1024 } })],
    checks: [
      { count: 1, match: { event_type: 'alert', 'alert.signature_id': 1, tx_id: 0 } },
      { count: 1, match: { event_type: 'http' } },
    ],
  },
];

describe("suricata-verify: Suricata's HTTP expectations on its captures", () => {
  for (const c of CASES) {
    test(c.name, async (t) => {
      const dir = shared(t, 'conformance', 'suricata-verify', 'tests', c.name);
      if (dir === null) return;
      const text = rulesOf(dir);
      const rules = c.rules === undefined ? text : c.rules(text);
      const { events } = await analyzeCapture(join(dir, c.pcap), { protocols: c.protocols ?? [httpProtocol], ...(rules.trim() !== '' ? { rules } : {}) });
      for (const check of c.checks) {
        const found = events.filter((e) => matches(e, check.match));
        const near = events.filter((e) => e.event_type === check.match.event_type).map((e) => JSON.stringify(e));
        assert.equal(found.length, check.count, `${JSON.stringify(check.match)}\nrecords of that type:\n${near.join('\n')}`);
      }
    });
  }
});
