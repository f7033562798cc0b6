/**
 * The EVE dns records, field for field and in Suricata's field order (JSON text is compared, so
 * order counts): version 2 and 3, every record type the parser decodes, flags, rcodes, truncation.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dnsAlertMetadata, dnsRecords, type DnsLogVersion, type DnsSide } from '../../../src/protocols/dns/index.js';
import { parseDnsMessage } from '../../../src/protocols/dns/parse.js';
import { everyTypeResponse, labels, message, rd } from './build.js';

const records = (b: Uint8Array, side: DnsSide, txId: number, version: DnsLogVersion): unknown[] => dnsRecords(parseDnsMessage(b, 0, b.length), side, txId, version);
/** Same fields, same values, same order. */
const same = (actual: unknown, expected: unknown): void => assert.equal(JSON.stringify(actual), JSON.stringify(expected));

const EVERY_ANSWERS = [
  { rrname: 'example.com', rrtype: 'A', ttl: 60, rdata: '192.0.2.1' },
  { rrname: 'example.com', rrtype: 'AAAA', ttl: 60, rdata: '2001:0db8:0000:0000:0000:0000:0000:0001' },
  { rrname: 'www.example.com', rrtype: 'CNAME', ttl: 300, rdata: 'example.com' },
  { rrname: 'example.com', rrtype: 'NS', ttl: 300, rdata: 'ns1.example.com' },
  { rrname: '1.2.0.192.in-addr.arpa', rrtype: 'PTR', ttl: 300, rdata: 'host.example.com' },
  { rrname: 'example.com', rrtype: 'MX', ttl: 300, rdata: 'mail.example.com' },
  { rrname: 'example.com', rrtype: 'TXT', ttl: 300, rdata: 'v=spf1 -all' },
  { rrname: 'example.com', rrtype: 'TXT', ttl: 300, rdata: '' },
  { rrname: 'example.com', rrtype: 'TXT', ttl: 300, rdata: 'second' },
  { rrname: '_sip._tcp.example.com', rrtype: 'SRV', ttl: 300, srv: { priority: 1, weight: 2, port: 5060, name: 'sip.example.com' } },
  { rrname: 'example.com', rrtype: 'SSHFP', ttl: 300, sshfp: { fingerprint: '00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33', algo: 1, type: 2 } },
  { rrname: 'example.com', rrtype: 'NULL', ttl: 300, rdata: 'null-data' },
  { rrname: 'example.com', rrtype: '65534', ttl: 300 },
];
const EVERY_GROUPED = {
  A: ['192.0.2.1'],
  AAAA: ['2001:0db8:0000:0000:0000:0000:0000:0001'],
  CNAME: ['example.com'],
  NS: ['ns1.example.com'],
  PTR: ['host.example.com'],
  MX: ['mail.example.com'],
  TXT: ['v=spf1 -all', '', 'second'],
  SRV: [{ priority: 1, weight: 2, port: 5060, name: 'sip.example.com' }],
  SSHFP: [{ fingerprint: '00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33', algo: 1, type: 2 }],
  NULL: ['null-data'],
};
const EVERY_AUTHORITIES = [
  { rrname: 'example.com', rrtype: 'SOA', ttl: 3600, soa: { mname: 'ns1.example.com', rname: 'hostmaster.example.com', serial: 2024010101, refresh: 7200, retry: 900, expire: 1209600, minimum: 300 } },
];

test('version 2 answer: every decoded type, detailed and grouped, authorities; no additionals (as Suricata 7)', () => {
  same(records(everyTypeResponse(), 1, 5, 2), [
    {
      version: 2, type: 'answer', id: 0xbeef, flags: '8580', qr: true, aa: true, rd: true, ra: true, opcode: 0,
      rrname: 'example.com', rrtype: 'ANY', rcode: 'NOERROR', answers: EVERY_ANSWERS, grouped: EVERY_GROUPED, authorities: EVERY_AUTHORITIES,
    },
  ]);
});

test('version 3 response: the same sections, the queries, and the additionals with the OPT options as hex', () => {
  same(records(everyTypeResponse(), 1, 5, 3), [
    {
      version: 3, type: 'response', tx_id: 5, id: 0xbeef, flags: '8580', qr: true, aa: true, rd: true, ra: true, opcode: 0, rcode: 'NOERROR',
      queries: [{ rrname: 'example.com', rrtype: 'ANY' }], answers: EVERY_ANSWERS, grouped: EVERY_GROUPED, authorities: EVERY_AUTHORITIES,
      additionals: [{ rrname: '', rrtype: 'OPT', ttl: 0x8000, opt: [{ code: 10, data: '0102030405060708' }, { code: 3, data: '' }] }],
    },
  ]);
});

test('version 2 requests: one query record per question; version 3: one request record with every question', () => {
  const q = message({ id: 0x1a2b, flags: 0x0100, questions: [{ name: labels('a.example'), type: 1 }, { name: labels('b.example'), type: 15 }, { name: labels('c.example'), type: 4242 }] });
  same(records(q, 0, 3, 2), [
    { type: 'query', id: 0x1a2b, rrname: 'a.example', rrtype: 'A', tx_id: 3, opcode: 0 },
    { type: 'query', id: 0x1a2b, rrname: 'b.example', rrtype: 'MX', tx_id: 3, opcode: 0 },
    { type: 'query', id: 0x1a2b, rrname: 'c.example', rrtype: '4242', tx_id: 3, opcode: 0 },
  ]);
  same(records(q, 0, 3, 3), [
    {
      version: 3, type: 'request', tx_id: 3, id: 0x1a2b, flags: '100', rd: true, opcode: 0, rcode: 'NOERROR',
      queries: [{ rrname: 'a.example', rrtype: 'A' }, { rrname: 'b.example', rrtype: 'MX' }, { rrname: 'c.example', rrtype: '4242' }],
    },
  ]);
});

test('flags are lowercase hex without padding; each flag bit only when set; rcodes by name, then by number', () => {
  const flagsOf = (flags: number, version: DnsLogVersion): unknown => {
    const r = records(message({ flags, questions: [{ name: labels('x'), type: 1 }] }), 1, 0, version)[0] as Record<string, unknown>;
    return Object.fromEntries(Object.entries(r).filter(([k]) => ['flags', 'qr', 'aa', 'tc', 'rd', 'ra', 'z', 'opcode', 'rcode'].includes(k)));
  };
  same(flagsOf(0x0000, 2), { flags: '0', opcode: 0, rcode: 'NOERROR' });
  same(flagsOf(0x87c3, 2), { flags: '87c3', qr: true, aa: true, tc: true, rd: true, ra: true, z: true, opcode: 0, rcode: 'NXDOMAIN' });
  same(flagsOf(0xa805, 3), { flags: 'a805', qr: true, opcode: 5, rcode: 'REFUSED' });
  const names = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE', '11', '12', '13', '14', '15'];
  names.forEach((name, rcode) => assert.equal((flagsOf(0x8000 | rcode, 3) as { rcode: string }).rcode, name));
  // The AD and CD bits are in flags only.
  same(flagsOf(0x0130, 3), { flags: '130', rd: true, opcode: 0, rcode: 'NOERROR' });
});

test('truncated names carry *_truncated flags where Suricata puts them', () => {
  const long = Array.from({ length: 18 }, () => 'z'.repeat(63)).join('.');
  const b = message({
    flags: 0x8180,
    questions: [{ name: labels(long), type: 1 }],
    answers: [
      { name: labels(long), type: 5, rdata: labels(long) },
      { name: labels('s.example'), type: 6, rdata: rd.soa(labels(long), labels(long), 1, 2, 3, 4, 5) },
    ],
  });
  const cut = long.slice(0, 1025);
  const [v2] = records(b, 1, 0, 2) as Array<Record<string, unknown>>;
  same(Object.keys(v2!).slice(0, 12), ['version', 'type', 'id', 'flags', 'qr', 'rd', 'ra', 'opcode', 'rrname', 'rrname_truncated', 'rrtype', 'rcode']);
  const answers = v2!.answers as Array<Record<string, unknown>>;
  same(answers[0], { rrname: cut, rrname_truncated: true, rrtype: 'CNAME', ttl: 300, rdata: cut, rdata_truncated: true });
  same(answers[1], { rrname: 's.example', rrtype: 'SOA', ttl: 300, soa: { mname: cut, mname_truncated: true, rname: cut, rname_truncated: true, serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 5 } });
  const [v3] = records(b, 1, 0, 3) as Array<Record<string, unknown>>;
  same(v3!.queries, [{ rrname: cut, rrtype: 'A', rrname_truncated: true }]);
  const q = records(message({ flags: 0x0140, questions: [{ name: labels(long), type: 1 }] }), 0, 9, 2);
  same(q, [{ type: 'query', id: 0x1234, rrname: cut, rrname_truncated: true, rrtype: 'A', tx_id: 9, z: true, opcode: 0 }]);
});

test('zero-length data: addresses, names and NULL as "", TXT as no entry, other types without data; OPT without options left out of additionals', () => {
  const b = message({
    flags: 0x8180,
    questions: [{ name: labels('e.example'), type: 255 }],
    answers: [1, 28, 5, 16, 10, 99, 4242].map((type) => ({ name: labels('e.example'), type, rdata: Buffer.alloc(0) })),
    additionals: [{ name: labels(''), type: 41, class: 1232, ttl: 0, rdata: Buffer.alloc(0) }],
  });
  const [v3] = records(b, 1, 0, 3) as Array<Record<string, unknown>>;
  same(v3!.answers, [
    { rrname: 'e.example', rrtype: 'A', ttl: 300, rdata: '' },
    { rrname: 'e.example', rrtype: 'AAAA', ttl: 300, rdata: '' },
    { rrname: 'e.example', rrtype: 'CNAME', ttl: 300, rdata: '' },
    { rrname: 'e.example', rrtype: 'NULL', ttl: 300, rdata: '' },
    { rrname: 'e.example', rrtype: 'SPF', ttl: 300 },
    { rrname: 'e.example', rrtype: '4242', ttl: 300 },
  ]);
  same(v3!.grouped, { A: [''], AAAA: [''], CNAME: [''], TXT: [], NULL: [''] });
  assert.equal('additionals' in v3!, false);
});

test('answers give grouped, possibly empty; a section that is empty is left out', () => {
  const unknownOnly = message({ flags: 0x8180, questions: [{ name: labels('u.example'), type: 65534 }], answers: [{ name: labels('u.example'), type: 65534, rdata: Buffer.from([1, 2]) }] });
  const [r] = records(unknownOnly, 1, 0, 2) as Array<Record<string, unknown>>;
  same(r!.grouped, {});
  const nx = message({ flags: 0x8183, questions: [{ name: labels('nx.example'), type: 1 }] });
  same(records(nx, 1, 0, 2), [{ version: 2, type: 'answer', id: 0x1234, flags: '8183', qr: true, rd: true, ra: true, opcode: 0, rrname: 'nx.example', rrtype: 'A', rcode: 'NXDOMAIN' }]);
});

test('names that are not UTF-8 are written with \\xNN escapes; control bytes stay for the JSON writer', () => {
  const b = message({ questions: [{ name: Buffer.from([3, 0x61, 0xff, 0x01, 0]), type: 1 }] });
  same(records(b, 0, 0, 2), [{ type: 'query', id: 0x1234, rrname: 'a\\xff\u0001', rrtype: 'A', tx_id: 0, opcode: 0 }]);
});

test('alert metadata lists only questions of types Suricata names', () => {
  const q = message({ questions: [{ name: labels('a.example'), type: 1 }, { name: labels('b.example'), type: 65000 }] });
  const m = parseDnsMessage(q, 0, q.length);
  same(dnsAlertMetadata(m, 0, 1, 3), { dns: { version: 3, type: 'request', tx_id: 1, id: 0x1234, flags: '100', rd: true, opcode: 0, rcode: 'NOERROR', queries: [{ rrname: 'a.example', rrtype: 'A' }] } });
  same(dnsAlertMetadata(m, 0, 1, 2), { dns: { query: [{ type: 'query', id: 0x1234, rrname: 'a.example', rrtype: 'A', tx_id: 1, opcode: 0 }] } });
  const unknownAnswer = message({ flags: 0x8180, questions: [{ name: labels('b.example'), type: 65000 }] });
  same(dnsAlertMetadata(parseDnsMessage(unknownAnswer, 0, unknownAnswer.length), 1, 2, 2), { dns: { query: [] } });
});
