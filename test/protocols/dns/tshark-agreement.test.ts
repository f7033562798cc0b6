import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseDnsMessage, type DnsMessage, type DnsRecord } from '../../../src/protocols/dns/parse.js';
import { SynthCapture, UdpFlow } from '../../../src/synth/traffic.js';
import { shared, tempDir, tool } from '../../helpers.js';
import { everyTypeResponse, labels, message } from './build.js';
import { dnsMessagesIn } from './corpus.js';

/** The fields compared, per frame; several values of one field (or of several messages in one frame) joined with '|'. */
const FIELDS = ['dns.id', 'dns.flags', 'dns.count.queries', 'dns.count.answers', 'dns.count.auth_rr', 'dns.count.add_rr', 'dns.qry.name', 'dns.qry.type', 'dns.a', 'dns.aaaa', 'dns.resp.name', 'dns.resp.type'] as const;
type Row = Record<(typeof FIELDS)[number], string>;

/** tshark's view: frame number to the fields of the DNS it decoded there. */
async function tsharkRows(file: string, fields: readonly string[]): Promise<Map<number, string[]>> {
  const args = ['-n', '-r', file, '-Y', 'dns', '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=|', '-e', 'frame.number', ...fields.flatMap((f) => ['-e', f])];
  const text = await new Promise<string>((resolve, reject) => {
    execFile('tshark', args, { encoding: 'utf8', maxBuffer: 1 << 28 }, (err, stdout) => (err === null ? resolve(stdout) : reject(err)));
  });
  const rows = new Map<number, string[]>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const cols = line.split('\t');
    rows.set(Number(cols[0]), cols.slice(1));
  }
  return rows;
}

const hex4 = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;
/** tshark writes the root name as <Root>; Suricata (and we) as "". */
const shown = (text: string): string => (text === '' ? '<Root>' : text);
const records = (m: DnsMessage): DnsRecord[] => [...m.answers, ...m.authorities, ...m.additionals];
/** tshark compresses IPv6 addresses; Suricata writes all eight groups. Expand tshark's to compare. */
function expandIpv6(text: string): string {
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head === '' ? [] : head!.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => g.padStart(4, '0')).join(':');
}

/** Runs at most `n` of the given jobs at a time. */
function limiter(n: number): <T>(job: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(job: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await job();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

function ourRow(msgs: DnsMessage[]): Row {
  const join = (f: (m: DnsMessage) => string[]): string => msgs.flatMap(f).join('|');
  return {
    'dns.id': join((m) => [hex4(m.header!.id)]),
    'dns.flags': join((m) => [hex4(m.header!.flags)]),
    'dns.count.queries': join((m) => [String(m.header!.qdcount)]),
    'dns.count.answers': join((m) => [String(m.header!.ancount)]),
    'dns.count.auth_rr': join((m) => [String(m.header!.nscount)]),
    'dns.count.add_rr': join((m) => [String(m.header!.arcount)]),
    'dns.qry.name': join((m) => m.questions.map((q) => shown(q.name.text))),
    'dns.qry.type': join((m) => m.questions.map((q) => String(q.type))),
    'dns.a': join((m) => records(m).flatMap((r) => (r.rdata.kind === 'a' && r.rdata.bytes.length === 4 ? [r.rdata.text] : []))),
    'dns.aaaa': join((m) => records(m).flatMap((r) => (r.rdata.kind === 'aaaa' && r.rdata.bytes.length === 16 ? [r.rdata.text] : []))),
    // tshark shows an SRV record's owner as dns.srv.service, .proto and .name instead.
    'dns.resp.name': join((m) => records(m).flatMap((r) => (r.type === 33 ? [] : [shown(r.name.text)]))),
    'dns.resp.type': join((m) => records(m).map((r) => String(r.type))),
  };
}

function theirRow(cols: string[]): Row {
  const row = Object.fromEntries(FIELDS.map((f, i) => [f, cols[i] ?? ''])) as Row;
  row['dns.aaaa'] = row['dns.aaaa'] === '' ? '' : row['dns.aaaa'].split('|').map(expandIpv6).join('|');
  return row;
}

/** Compares every DNS message in a capture with tshark's rows for it, frame by frame; returns how many messages and frames. */
async function agree(file: string, tshark: Promise<Map<number, string[]>>): Promise<{ messages: number; frames: number; queries: number; a: number }> {
  const ours = await dnsMessagesIn(file);
  const byFrame = new Map<number, DnsMessage[]>();
  for (const c of ours) {
    const m = parseDnsMessage(c.payload, 0, c.payload.length);
    assert.equal(m.valid, true, `frame ${c.frame}: the message parses whole (${JSON.stringify(m.problems)})`);
    assert.deepEqual(m.problems, [], `frame ${c.frame}: no problems`);
    byFrame.set(c.frame, [...(byFrame.get(c.frame) ?? []), m]);
  }
  const theirs = await tshark;
  assert.deepEqual([...byFrame.keys()].sort((a, b) => a - b), [...theirs.keys()].sort((a, b) => a - b), 'the same frames carry DNS');
  let queries = 0;
  let a = 0;
  for (const [frame, msgs] of byFrame) {
    const mine = ourRow(msgs);
    assert.deepEqual(mine, theirRow(theirs.get(frame)!), `frame ${frame}`);
    queries += msgs.reduce((n, m) => n + m.questions.length, 0);
    a += mine['dns.a'] === '' ? 0 : mine['dns.a'].split('|').length;
  }
  return { messages: ours.length, frames: byFrame.size, queries, a };
}

test('THE CORPUS CHECK: every DNS message in the corpus decodes to the query names and A answers (and ids, flags, counts, record names and types) tshark decodes', async (t) => {
  const dir = shared(t, 'corpus');
  if (dir === null || !tool(t, 'tshark')) return;
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.pcap') || f.endsWith('.pcapng'))
    .sort();
  assert.ok(files.some((f) => f.startsWith('dns/')), 'the corpus has its dns/ captures');
  // tshark's start-up dominates: start them all, a few at a time, while the subtests compare.
  const run = limiter(Math.max(2, availableParallelism()));
  const results = new Map(files.map((f) => [f, run(() => tsharkRows(join(dir, f), FIELDS))]));
  for (const p of results.values()) p.catch(() => {}); // a failure is reported by the subtest that awaits it
  let total = 0;
  for (const f of files) {
    await t.test(f, async () => {
      const r = await agree(join(dir, f), results.get(f)!);
      if (f.startsWith('dns/')) assert.ok(r.messages > 0, `${f} holds DNS messages`);
      total += r.messages;
      t.diagnostic(`${f}: ${r.messages} DNS messages in ${r.frames} frames, ${r.queries} questions, ${r.a} A records: all agree with tshark`);
    });
  }
  assert.ok(total >= 3, `DNS messages checked: ${total}`);
});

test('a crafted capture with every decoded record type agrees with tshark field by field', async (t) => {
  if (!tool(t, 'tshark')) return;
  const path = join(tempDir(t), 'every-type.pcap');
  const cap = new SynthCapture(path);
  const query = message({ id: 0xbeef, questions: [{ name: labels('example.com'), type: 255 }] });
  const response = everyTypeResponse();
  new UdpFlow(cap, '192.0.2.10:40000', '192.0.2.53:53').send('client', query).send('server', response);
  cap.close();

  const fields = ['dns.cname', 'dns.ns', 'dns.ptr.domain_name', 'dns.mx.preference', 'dns.mx.mail_exchange', 'dns.txt', 'dns.soa.mname', 'dns.soa.rname', 'dns.soa.serial_number', 'dns.soa.refresh_interval', 'dns.soa.retry_interval', 'dns.soa.expire_limit', 'dns.soa.minimum_ttl', 'dns.srv.priority', 'dns.srv.weight', 'dns.srv.port', 'dns.srv.target', 'dns.sshfp.algorithm', 'dns.sshfp.fingerprint.type', 'dns.sshfp.fingerprint', 'dns.opt.code', 'dns.opt.data', 'dns.resp.ttl', 'dns.null'];
  const theirs = (await tsharkRows(path, fields)).get(2);
  assert.ok(theirs !== undefined, 'tshark decodes the response');
  const m = parseDnsMessage(response, 0, response.length);
  const values = new Map<string, string[]>(fields.map((f) => [f, []]));
  const add = (f: string, v: string | number): void => void values.get(f)!.push(String(v));
  for (const r of records(m)) {
    const d = r.rdata;
    if (d.kind !== 'opt') add('dns.resp.ttl', r.ttl);
    if (d.kind === 'cname') add('dns.cname', d.name.text);
    if (d.kind === 'ns') add('dns.ns', d.name.text);
    if (d.kind === 'ptr') add('dns.ptr.domain_name', d.name.text);
    if (d.kind === 'mx') {
      add('dns.mx.preference', d.preference);
      add('dns.mx.mail_exchange', d.exchange.text);
    }
    if (d.kind === 'txt') d.texts.forEach((s) => add('dns.txt', s));
    if (d.kind === 'soa') {
      add('dns.soa.mname', d.mname.text);
      add('dns.soa.rname', d.rname.text);
      add('dns.soa.serial_number', d.serial);
      add('dns.soa.refresh_interval', d.refresh);
      add('dns.soa.retry_interval', d.retry);
      add('dns.soa.expire_limit', d.expire);
      add('dns.soa.minimum_ttl', d.minimum);
    }
    if (d.kind === 'srv') {
      add('dns.srv.priority', d.priority);
      add('dns.srv.weight', d.weight);
      add('dns.srv.port', d.port);
      add('dns.srv.target', d.target.text);
    }
    if (d.kind === 'sshfp') {
      add('dns.sshfp.algorithm', d.algorithm);
      add('dns.sshfp.fingerprint.type', d.fingerprintType);
      add('dns.sshfp.fingerprint', Buffer.from(d.fingerprint).toString('hex'));
    }
    if (d.kind === 'opt') {
      for (const o of d.options) {
        add('dns.opt.code', o.code);
        add('dns.opt.data', o.data.length > 0 ? Buffer.from(o.data).toString('hex') : '<MISSING>'); // tshark's word for a field present but empty
      }
    }
    if (d.kind === 'null') add('dns.null', Buffer.from(d.bytes).toString('hex'));
  }
  const mine = fields.map((f) => values.get(f)!.join('|'));
  assert.deepEqual(Object.fromEntries(fields.map((f, i) => [f, mine[i]])), Object.fromEntries(fields.map((f, i) => [f, theirs[i] ?? ''])));
  // And the common fields, through the same comparison as the corpus.
  const rows = await tsharkRows(path, FIELDS);
  assert.deepEqual(ourRow([parseDnsMessage(query, 0, query.length)]), theirRow(rows.get(1)!));
  assert.deepEqual(ourRow([m]), theirRow(rows.get(2)!));
});
