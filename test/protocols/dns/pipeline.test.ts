/**
 * DNS through the whole sensor: frames decoded, flows tracked and reassembled, the protocol
 * recognised by the application layer, records written, rules run. Checked against crafted
 * conversations, against tshark on the corpus captures, and with rules on DNS buffers.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SynthCapture, TcpConnection, UdpFlow } from '../../../src/synth/traffic.js';
import { shared, tool } from '../../helpers.js';
import { everyTypeResponse, labels, message, rd, u16 } from './build.js';
import { runCrafted, runFile, type Eve } from './harness.js';

const framed = (m: Uint8Array): Buffer => Buffer.concat([u16(m.length), m]);
const query = (id: number, name: string, type = 1): Buffer => message({ id, flags: 0x0100, questions: [{ name: labels(name), type }] });
const answer = (id: number, name: string, ...ips: string[]): Buffer =>
  message({ id, flags: 0x8180, questions: [{ name: labels(name), type: 1 }], answers: ips.map((ip) => ({ name: labels(name), type: 1, ttl: 120, rdata: rd.a(ip) })) });
const dnsOf = (e: Eve): Record<string, unknown> => e.dns as Record<string, unknown>;
const endpoints = (e: Eve): string => `${e.src_ip}:${e.src_port}>${e.dest_ip}:${e.dest_port}`;

test('UDP: a query and its answer give Suricata 7\'s records, with the flow\'s addresses, client first', () => {
  const run = runCrafted((cap) => {
    new UdpFlow(cap, '192.0.2.10:40000', '192.0.2.53:53').send('client', query(0x1111, 'www.example.com')).send('server', answer(0x1111, 'www.example.com', '198.51.100.7', '198.51.100.8'));
  });
  assert.deepEqual(
    run.dns.map((e) => [e.pcap_cnt, endpoints(e), e.app_proto, 'tx_id' in e, dnsOf(e)]),
    [
      [1, '192.0.2.10:40000>192.0.2.53:53', 'dns', false, { type: 'query', id: 0x1111, rrname: 'www.example.com', rrtype: 'A', tx_id: 0, opcode: 0 }],
      [
        2, '192.0.2.10:40000>192.0.2.53:53', 'dns', false,
        {
          version: 2, type: 'answer', id: 0x1111, flags: '8180', qr: true, rd: true, ra: true, opcode: 0, rrname: 'www.example.com', rrtype: 'A', rcode: 'NOERROR',
          answers: [{ rrname: 'www.example.com', rrtype: 'A', ttl: 120, rdata: '198.51.100.7' }, { rrname: 'www.example.com', rrtype: 'A', ttl: 120, rdata: '198.51.100.8' }],
          grouped: { A: ['198.51.100.7', '198.51.100.8'] },
        },
      ],
    ],
  );
  const flow = run.events.find((e) => e.event_type === 'flow')!;
  assert.equal(flow.app_proto, 'dns');
  assert.deepEqual(run.anomalies, []);
});

test('UDP with version 3: one record per message; over IPv6 too', () => {
  const run = runCrafted(
    (cap) => {
      new UdpFlow(cap, '[2001:db8::10]:5300', '[2001:db8::53]:53').send('client', query(7, 'v6.example', 28)).send('server', everyTypeResponse());
    },
    { dns: { version: 3 } },
  );
  assert.deepEqual(run.dns.map((e) => [dnsOf(e).type, dnsOf(e).tx_id, e.src_ip]), [['request', 0, '2001:db8::10'], ['response', 1, '2001:db8::10']]);
});

test('TCP: messages cut across segments, and several in one, come out once each, in order', () => {
  const run = runCrafted((cap) => {
    const c = new TcpConnection(cap, '192.0.2.10:40001', '192.0.2.53:53', { mss: 7 }).handshake();
    c.send('client', Buffer.concat([framed(query(1, 'a.example')), framed(query(2, 'b.example'))]));
    c.send('server', Buffer.concat([framed(answer(1, 'a.example', '192.0.2.1')), framed(answer(2, 'b.example', '192.0.2.2'))]));
    c.close();
  });
  assert.deepEqual(run.dns.map((e) => [dnsOf(e).type, dnsOf(e).rrname, dnsOf(e).id]), [['query', 'a.example', 1], ['query', 'b.example', 2], ['answer', 'a.example', 1], ['answer', 'b.example', 2]]);
  assert.deepEqual(run.dns.map((e) => dnsOf(e).tx_id).filter((x) => x !== undefined), [0, 1], 'query records carry their transaction (0 and 1); the answers are 2 and 3');
  assert.equal(run.events.find((e) => e.event_type === 'flow')!.app_proto, 'dns');
});

test('TCP: after a hole the lost message is skipped and parsing resumes at the next chunk that starts a message', () => {
  const m1 = framed(query(1, 'one.example'));
  const m2 = framed(query(2, 'two.example'));
  const m3 = framed(query(3, 'three.example'));
  const m4 = framed(query(4, 'four.example'));
  const run = runCrafted(
    (cap) => {
      const c = new TcpConnection(cap, '192.0.2.10:40002', '192.0.2.53:53').handshake();
      c.send('client', m1);
      // m2 never arrives; m3 and m4 do, and the server acknowledges past the hole.
      c.segment('client', m1.length + m2.length, m3).segment('client', m1.length + m2.length + m3.length, m4);
      c.advance('client', m2.length + m3.length + m4.length);
      c.packet('server', { seq: c.seq('server', 0), ack: c.seq('client', m1.length + m2.length + m3.length + m4.length), flags: 'A' }, new Uint8Array(0));
      c.close();
    },
    { flow: { maxBufferedBytes: 16 } },
  );
  const gaps = run.anomalies.filter((a) => (a.anomaly as { event: string }).event === 'stream.reassembly_seq_gap');
  assert.ok(gaps.length >= 1, 'the reassembler reported the hole');
  assert.deepEqual(run.dns.map((e) => [dnsOf(e).rrname, dnsOf(e).tx_id]), [['one.example', 0], ['three.example', 1], ['four.example', 2]], 'the next chunk starts a message: parsing resumes there');
  assert.deepEqual(run.anomalies.filter((a) => (a.anomaly as { type: string }).type === 'applayer'), [], 'no DNS event: the hole is not the talker\'s fault');
});

test('a capture that starts with a response is read reversed, as Suricata reverses the flow', () => {
  const run = runCrafted((cap) => {
    new UdpFlow(cap, '192.0.2.53:53', '192.0.2.10:40003').send('client', answer(5, 'late.example', '192.0.2.5')).send('server', query(6, 'next.example'));
  });
  assert.deepEqual(run.dns.map((e) => [dnsOf(e).type, endpoints(e)]), [['answer', '192.0.2.10:40003>192.0.2.53:53'], ['query', '192.0.2.10:40003>192.0.2.53:53']]);
  assert.deepEqual(run.anomalies, []);
});

test('random UDP traffic on other ports is not taken for DNS', () => {
  const run = runCrafted((cap) => {
    for (let i = 0; i < 200; i++) {
      const b = Buffer.alloc(20 + (i % 90));
      for (let j = 0; j < b.length; j++) b[j] = (i * 131 + j * 71 + ((j * j) % 17)) & 0xff;
      new UdpFlow(cap, `192.0.2.${1 + (i % 200)}:${30000 + i}`, `198.51.100.1:${1000 + i}`).send('client', b).send('server', b.subarray(3));
    }
  });
  assert.equal(run.dns.length, 0);
  assert.equal(run.events.filter((e) => e.app_proto === 'dns').length, 0);
});

test('DNS on a port other than 53 is recognised when it is ordinary DNS', () => {
  const run = runCrafted((cap) => {
    new UdpFlow(cap, '192.0.2.10:40004', '192.0.2.53:5353').send('client', query(9, 'odd.example')).send('server', answer(9, 'odd.example', '192.0.2.9'));
  });
  assert.deepEqual(run.dns.map((e) => dnsOf(e).type), ['query', 'answer']);
});

test('a dns.query rule alerts through the pipeline with the transaction id and its dns object', () => {
  const rules = [
    'alert dns any any -> any any (msg:"query example"; dns.query; content:"example"; sid:1;)',
    'alert dns any any -> any any (msg:"old name"; dns_query; content:"WWW."; nocase; sid:2;)',
    'alert dns any any -> any any (msg:"answer name"; dns.answer.name; content:"www.example.com"; sid:3;)',
    'alert dns any any -> any any (msg:"rrname both"; dns.queries.rrname; content:"www"; startswith; sid:4;)',
    'alert dns any any -> any any (msg:"no match"; dns.query; content:"nothere"; sid:5;)',
  ].join('\n');
  const craft = (cap: SynthCapture): void => {
    new UdpFlow(cap, '192.0.2.10:40005', '192.0.2.53:53').send('client', query(0x2222, 'www.example.com')).send('server', answer(0x2222, 'www.example.com', '192.0.2.80'));
  };
  const run = runCrafted(craft, { rules });
  const got = run.alerts.map((a) => [a.alert.signature_id, a.tx_id, a.direction, a.pcap_cnt, a.app_proto]).sort((x, y) => Number(x[0]) - Number(y[0]) || Number(x[1]) - Number(y[1]));
  assert.deepEqual(got, [
    [1, 0, 'to_server', 1, 'dns'],
    [2, 0, 'to_server', 1, 'dns'],
    [3, 1, 'to_client', 2, 'dns'],
    [4, 0, 'to_server', 1, 'dns'],
    [4, 1, 'to_client', 2, 'dns'],
  ]);
  const first = run.alerts.find((a) => a.alert.signature_id === 1)!;
  assert.deepEqual(first.dns, { query: [{ type: 'query', id: 0x2222, rrname: 'www.example.com', rrtype: 'A', tx_id: 0, opcode: 0 }] });
  const third = run.alerts.find((a) => a.alert.signature_id === 3)!;
  assert.equal((third.dns as { answer: { rcode: string } }).answer.rcode, 'NOERROR');
  // Suricata 8's alert object: the version 3 record, without grouped.
  const v3 = runCrafted(craft, { rules, dns: { version: 3 } });
  const a3 = v3.alerts.find((a) => a.alert.signature_id === 3)!;
  assert.deepEqual(a3.dns, {
    version: 3, type: 'response', tx_id: 1, id: 0x2222, flags: '8180', qr: true, rd: true, ra: true, opcode: 0, rcode: 'NOERROR',
    queries: [{ rrname: 'www.example.com', rrtype: 'A' }], answers: [{ rrname: 'www.example.com', rrtype: 'A', ttl: 120, rdata: '192.0.2.80' }],
  });
});

test('an app-layer anomaly comes out as Suricata names it, with a counter', () => {
  const run = runCrafted((cap) => {
    new UdpFlow(cap, '192.0.2.10:40006', '192.0.2.53:53').send('client', query(1, 'ok.example')).send('client', message({ id: 2, flags: 0x8100, questions: [{ name: labels('qr.example'), type: 1 }] }));
  });
  assert.deepEqual(run.anomalies.map((a) => a.anomaly), [{ app_proto: 'dns', type: 'applayer', event: 'not_request', layer: 'proto_parser' }]);
  assert.equal(run.pipeline.anomalies.get('applayer.dns.not_request'), 1);
});

/** tshark's query names and A records per frame. */
async function tsharkNames(file: string): Promise<Map<number, { names: string[]; a: string[] }>> {
  const text = await new Promise<string>((resolve, reject) => {
    execFile('tshark', ['-n', '-r', file, '-Y', 'dns', '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=|', '-e', 'frame.number', '-e', 'dns.qry.name', '-e', 'dns.a'], { encoding: 'utf8' }, (err, out) => (err === null ? resolve(out) : reject(err)));
  });
  const rows = new Map<number, { names: string[]; a: string[] }>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const [frame, names, a] = line.split('\t');
    const list = (s: string | undefined): string[] => (s === undefined || s === '' ? [] : s.split('|'));
    rows.set(Number(frame), { names: list(names).map((n) => (n === '<Root>' ? '' : n)), a: list(a) });
  }
  return rows;
}

test('THE CORPUS CHECK: the dns records of every corpus DNS capture name the same questions and A records tshark decodes', async (t) => {
  const dir = shared(t, 'corpus', 'dns');
  if (dir === null || !tool(t, 'tshark')) return;
  const files = readdirSync(dir).filter((f) => f.endsWith('.pcap') || f.endsWith('.pcapng')).sort();
  assert.ok(files.length >= 2, 'the corpus has its DNS captures');
  for (const f of files) {
    const file = join(dir, f);
    const theirs = await tsharkNames(file);
    const v3 = await runFile(file, { dns: { version: 3 } });
    const ours = new Map<number, { names: string[]; a: string[] }>();
    for (const e of v3.dns) {
      const d = dnsOf(e) as { queries?: Array<{ rrname: string }>; answers?: Array<{ rrtype: string; rdata?: string }>; authorities?: Array<{ rrtype: string; rdata?: string }>; additionals?: Array<{ rrtype: string; rdata?: string }> };
      const row = ours.get(Number(e.pcap_cnt)) ?? { names: [], a: [] };
      row.names.push(...(d.queries ?? []).map((q) => q.rrname));
      row.a.push(...[...(d.answers ?? []), ...(d.authorities ?? []), ...(d.additionals ?? [])].filter((r) => r.rrtype === 'A').map((r) => r.rdata ?? ''));
      ours.set(Number(e.pcap_cnt), row);
    }
    assert.deepEqual([...ours.entries()].sort((x, y) => x[0] - y[0]), [...theirs.entries()].filter(([, r]) => r.names.length > 0).sort((x, y) => x[0] - y[0]), f);
    // Version 2 writes the answer section only: its A records are tshark's first ones, in order.
    const v2 = await runFile(file);
    for (const e of v2.dns.filter((r) => dnsOf(r).type === 'answer')) {
      const a = ((dnsOf(e).answers ?? []) as Array<{ rrtype: string; rdata: string }>).filter((r) => r.rrtype === 'A').map((r) => r.rdata);
      assert.deepEqual(a, theirs.get(Number(e.pcap_cnt))!.a.slice(0, a.length), `${f} frame ${e.pcap_cnt}`);
    }
    t.diagnostic(`${f}: ${v3.dns.length} version 3 records, ${[...ours.values()].reduce((n, r) => n + r.names.length, 0)} names, ${[...ours.values()].reduce((n, r) => n + r.a.length, 0)} A records: as tshark`);
  }
});

test('no capture of the rest of the corpus is taken for DNS', async (t) => {
  const dir = shared(t, 'corpus');
  if (dir === null) return;
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => (f.endsWith('.pcap') || f.endsWith('.pcapng')) && !f.startsWith('dns/'));
  let flows = 0;
  for (const f of files) {
    const run = await runFile(join(dir, f));
    assert.equal(run.dns.length, 0, f);
    assert.equal(run.events.filter((e) => e.app_proto === 'dns').length, 0, f);
    flows += run.events.filter((e) => e.event_type === 'flow').length;
  }
  t.diagnostic(`${files.length} captures, ${flows} flows: none taken for DNS`);
});

test('Suricata\'s dns-events.rules fire on the events the session raises', () => {
  // rules/dns-events.rules from Suricata, as shipped.
  const rules = [
    'alert dns any any -> any any (msg:"SURICATA DNS malformed request data"; flow:to_server; app-layer-event:dns.malformed_data; classtype:protocol-command-decode; sid:2240002; rev:2;)',
    'alert dns any any -> any any (msg:"SURICATA DNS malformed response data"; flow:to_client; app-layer-event:dns.malformed_data; classtype:protocol-command-decode; sid:2240003; rev:2;)',
    'alert dns any any -> any any (msg:"SURICATA DNS Not a request"; flow:to_server; app-layer-event:dns.not_request; classtype:protocol-command-decode; sid:2240004; rev:2;)',
    'alert dns any any -> any any (msg:"SURICATA DNS Not a response"; flow:to_client; app-layer-event:dns.not_response; classtype:protocol-command-decode; sid:2240005; rev:2;)',
    'alert dns any any -> any any (msg:"SURICATA DNS Z flag set"; app-layer-event:dns.z_flag_set; classtype:protocol-command-decode; sid:2240006; rev:2;)',
    'alert dns any any -> any any (msg:"SURICATA DNS Invalid opcode"; app-layer-event:dns.invalid_opcode; classtype:protocol-command-decode; sid:2240007; rev:1;)',
  ].join('\n');
  const run = runCrafted(
    (cap) => {
      new UdpFlow(cap, '192.0.2.10:40007', '192.0.2.53:53')
        .send('client', query(1, 'ok.example'))
        .send('client', message({ id: 2, flags: 0x8100, questions: [{ name: labels('qr.example'), type: 1 }] }))
        .send('server', message({ id: 2, flags: 0x0100, questions: [{ name: labels('noqr.example'), type: 1 }] }))
        .send('client', message({ id: 3, flags: 0x0140 | (8 << 11), questions: [{ name: labels('z.example'), type: 1 }] }))
        .send('client', query(4, 'cut.example').subarray(0, 20))
        .send('server', answer(4, 'cut.example', '192.0.2.4').subarray(0, 30));
    },
    { rules },
  );
  assert.deepEqual(
    run.alerts.map((a) => [a.pcap_cnt, a.alert.signature_id, a.direction]),
    [[2, 2240004, 'to_server'], [3, 2240005, 'to_client'], [4, 2240006, 'to_server'], [4, 2240007, 'to_server'], [5, 2240002, 'to_server'], [6, 2240003, 'to_client']],
  );
});
