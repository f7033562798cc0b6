import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_HELD_BYTES } from '../../../src/protocols/dns/index.js';
import { everyTypeResponse, labels, message, rd, u16 } from './build.js';
import { session } from './harness.js';

const framed = (m: Uint8Array): Buffer => Buffer.concat([u16(m.length), m]);
const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');
const query = (id: number, name: string, type = 1, flags = 0x0100): Buffer => message({ id, flags, questions: [{ name: labels(name), type }] });
const answer = (id: number, name: string, ip: string, flags = 0x8180): Buffer =>
  message({ id, flags, questions: [{ name: labels(name), type: 1 }], answers: [{ name: labels(name), type: 1, ttl: 60, rdata: rd.a(ip) }] });

test('UDP: a query makes a transaction, logged per question and inspected as a request', () => {
  const { s, got } = session('udp');
  s.data(0, message({ id: 7, questions: [{ name: labels('a.example'), type: 1 }, { name: labels('b.example'), type: 28 }] }), 0, 47);
  assert.deepEqual(
    got.records.map((r) => [r.eventType, r.body, r.dir, r.txId]),
    [
      ['dns', { type: 'query', id: 7, rrname: 'a.example', rrtype: 'A', tx_id: 0, opcode: 0 }, 0, undefined],
      ['dns', { type: 'query', id: 7, rrname: 'b.example', rrtype: 'AAAA', tx_id: 0, opcode: 0 }, 0, undefined],
    ],
  );
  assert.deepEqual(got.order, ['record', 'record', 'inspect:0']);
  const tx = got.inspections[0]!.tx;
  assert.equal(tx.id, 0);
  assert.deepEqual(tx.buffers('dns.query', 0)!.map(text), ['a.example', 'b.example']);
  assert.deepEqual(tx.buffers('dns.queries.rrname', 0)!.map(text), ['a.example', 'b.example']);
  assert.equal(tx.buffers('dns.query', 1), null, 'a request has nothing on the response side');
  assert.equal(tx.buffers('dns.answer.name', 1), null);
  assert.equal(tx.buffer(), null, 'DNS has no single-valued buffer');
  assert.deepEqual(got.anomalies, []);
});

test('a response is a transaction of its own (as in Suricata): ids run query 0, answer 1, query 2', () => {
  const { s, got } = session('udp', 3);
  for (const [dir, m] of [[0, query(1, 'one.example')], [1, answer(1, 'one.example', '192.0.2.1')], [0, query(2, 'two.example')]] as const) s.data(dir, m, 0, m.length);
  assert.deepEqual(got.inspections.map((i) => [i.tx.id, i.dir, i.tx.side]), [[0, 0, 0], [1, 1, 1], [2, 0, 0]]);
  assert.deepEqual(got.records.map((r) => [r.body.type, r.body.tx_id, r.body.id]), [['request', 0, 1], ['response', 1, 1], ['request', 2, 2]]);
  const resp = got.inspections[1]!.tx;
  assert.deepEqual(resp.buffers('dns.answer.name', 1)!.map(text), ['one.example']);
  assert.deepEqual(resp.buffers('dns.queries.rrname', 1)!.map(text), ['one.example']);
  assert.equal(resp.buffers('dns.query', 0), null, 'dns.query is the request side only');
  assert.equal(resp.buffers('dns.queries.rrname', 0), null);
  assert.equal(s.transactions, 3);
});

test('an answer with no matching query, or a reused id, is still its own transaction: Suricata has no unsolicited-response event', () => {
  const { s, got } = session('udp');
  for (const m of [answer(9, 'x.example', '192.0.2.9'), answer(9, 'x.example', '192.0.2.9')]) s.data(1, m, 0, m.length);
  // The first message from the server comes the right way: no reversal, two answers.
  assert.deepEqual(got.records.map((r) => [r.body.type, r.dir]), [['answer', 0], ['answer', 0]]);
  assert.deepEqual(got.anomalies, []);
});

test('buffers stop at the first empty name, as Suricata\'s getters do', () => {
  const { s, got } = session('udp');
  const m = message({ questions: [{ name: labels('a.example'), type: 1 }, { name: labels(''), type: 2 }, { name: labels('c.example'), type: 1 }] });
  s.data(0, m, 0, m.length);
  assert.deepEqual(got.inspections[0]!.tx.buffers('dns.query', 0)!.map(text), ['a.example']);
  assert.equal(got.records.length, 3, 'the log still has every question');
});

test('session-level events: not_request drops the message, not_response keeps it, z_flag_set and invalid_opcode are raised', () => {
  const { s, got } = session('udp');
  const ok = query(1, 'first.example');
  s.data(0, ok, 0, ok.length);
  const qrFromClient = query(2, 'x.example', 1, 0x8100);
  s.data(0, qrFromClient, 0, qrFromClient.length);
  const noQrFromServer = query(3, 'y.example', 1, 0x0100);
  s.data(1, noQrFromServer, 0, noQrFromServer.length);
  const zAndOpcode = query(4, 'z.example', 1, 0x0100 | 0x0040 | (7 << 11));
  s.data(0, zAndOpcode, 0, zAndOpcode.length);
  assert.deepEqual(got.anomalies, [
    { event: 'not_request', dir: 0 },
    { event: 'not_response', dir: 1 },
    { event: 'z_flag_set', dir: 0 },
    { event: 'invalid_opcode', dir: 0 },
  ]);
  assert.deepEqual(got.inspections.map((i) => [i.tx.id, i.dir, i.tx.message.header!.id]), [[0, 0, 1], [1, 1, 3], [2, 0, 4]]);
  const v2 = got.records.map((r) => r.body);
  assert.deepEqual(v2[1], { version: 2, type: 'answer', id: 3, flags: '100', rd: true, opcode: 0, rrname: 'y.example', rrtype: 'A', rcode: 'NOERROR' });
  assert.deepEqual(v2[2], { type: 'query', id: 4, rrname: 'z.example', rrtype: 'A', tx_id: 2, z: true, opcode: 7 });
});

test('parse events from the parser are raised once each, and a malformed message makes no transaction', () => {
  const { s, got } = session('udp');
  // The authority section runs past the end: dropped (invalid_authorities), the message kept.
  const badNs = Buffer.concat([query(5, 'a.example').subarray(0, 4), u16(1), u16(0), u16(1), u16(0), query(5, 'a.example').subarray(12), Buffer.from([0xc0])]);
  s.data(0, badNs, 0, badNs.length);
  // The question itself is cut: malformed_data, nothing logged.
  const cut = query(6, 'b.example').subarray(0, 20);
  const bad = Buffer.concat([cut.subarray(0, 12), cut.subarray(12)]);
  s.data(0, bad, 0, bad.length);
  assert.deepEqual(got.anomalies.map((a) => a.event), ['invalid_authorities', 'malformed_data']);
  assert.equal(got.inspections.length, 1);
  assert.equal(got.records.length, 1);
});

test('UDP: what fails Suricata\'s header check is dropped silently, and the flow goes on', () => {
  const { s, got } = session('udp');
  for (const junk of [Buffer.from('short'), Buffer.alloc(40), message({ counts: [0, 0, 0, 0] }).subarray(0, 12)]) s.data(0, junk, 0, junk.length);
  const ok = query(1, 'after.example');
  s.data(0, ok, 0, ok.length);
  assert.deepEqual(got.anomalies, []);
  assert.deepEqual(got.records.map((r) => r.body.rrname), ['after.example']);
});

test('a flow whose first message is a response from the client side is read reversed, as Suricata\'s probe reverses it', () => {
  const { s, got } = session('udp');
  const a = answer(3, 'r.example', '192.0.2.3');
  s.data(0, a, 0, a.length);
  const q = query(4, 'r2.example');
  s.data(1, q, 0, q.length);
  assert.deepEqual(got.anomalies, []);
  assert.deepEqual(got.records.map((r) => [r.body.type, r.dir]), [['answer', 1], ['query', 1]], 'records swap the flow\'s addresses: client first');
  assert.deepEqual(got.inspections.map((i) => [i.tx.side, i.dir]), [[1, 1], [0, 0]]);
});

test('TCP: length-prefixed messages split anywhere across chunks come out whole, once, in order', () => {
  const msgs = [query(1, 'a.example'), answer(1, 'a.example', '192.0.2.1'), query(2, 'b.example'), everyTypeResponse()];
  const client = Buffer.concat([framed(msgs[0]!), Buffer.from([0, 0]), framed(msgs[2]!)]);
  const server = Buffer.concat([framed(msgs[1]!), framed(msgs[3]!)]);
  for (let cut = 1; cut < client.length; cut++) {
    const { s, got } = session('tcp');
    s.data(0, client.subarray(0, cut), 0, cut);
    s.data(1, server.subarray(0, Math.min(cut, server.length)), 0, Math.min(cut, server.length));
    s.data(0, client.subarray(cut), 0, client.length - cut);
    if (cut < server.length) s.data(1, server.subarray(cut), 0, server.length - cut);
    assert.deepEqual(got.anomalies, [], `cut at ${cut}`);
    const names = got.inspections.map((i) => `${i.tx.side}:${i.tx.message.questions[0]!.name.text}`);
    assert.deepEqual([...names].sort(), ['0:a.example', '0:b.example', '1:a.example', '1:example.com'].sort(), `cut at ${cut}`);
    assert.equal(s.buffered, 0);
  }
});

test('TCP: a byte at a time works, and what is held never exceeds one message and its length', () => {
  const { s, got } = session('tcp');
  const stream = Buffer.concat([framed(query(1, 'slow.example')), framed(everyTypeResponse())]);
  let most = 0;
  for (let i = 0; i < stream.length; i++) {
    s.data(0, stream, i, 1);
    most = Math.max(most, s.buffered);
  }
  assert.ok(most <= everyTypeResponse().length + 2);
  assert.equal(got.inspections.length, 1, 'the query; the response came from the client side with QR set: not_request');
  assert.deepEqual(got.anomalies.map((a) => a.event), ['not_request']);
});

test('TCP: a message announced at 65535 bytes holds at most MAX_HELD_BYTES, and is dropped at the close', () => {
  const { s } = session('tcp');
  const big = Buffer.alloc(40000, 0x41);
  big.writeUInt16BE(0xffff, 0);
  s.data(0, big, 0, big.length);
  s.data(0, big, 0, big.length);
  assert.ok(s.buffered <= MAX_HELD_BYTES);
  s.close();
  assert.equal(s.buffered, 0);
});

test('TCP: a malformed message or one failing the header check is a parser error: the flow\'s DNS stops, as in Suricata', () => {
  {
    const { s, got } = session('tcp');
    const q = framed(query(1, 'a.example'));
    const bad = framed(query(2, 'b.example').subarray(0, 18));
    s.data(0, Buffer.concat([q, bad, framed(query(3, 'c.example'))]), 0, q.length + bad.length + 2 + query(3, 'c.example').length);
    s.data(1, framed(answer(1, 'a.example', '192.0.2.1')), 0, answer(1, 'a.example', '192.0.2.1').length + 2);
    assert.deepEqual(got.anomalies.map((a) => a.event), ['malformed_data']);
    assert.equal(got.inspections.length, 1);
  }
  {
    const { s, got } = session('tcp');
    const junk = framed(Buffer.alloc(30, 0xff));
    s.data(0, junk, 0, junk.length);
    const q = framed(query(1, 'a.example'));
    s.data(0, q, 0, q.length);
    assert.deepEqual(got.anomalies, [], 'no event for what is not DNS');
    assert.equal(got.inspections.length, 0);
  }
});

test('TCP gaps: the partial message is dropped, data is skipped until a chunk starts a message, then parsing resumes', () => {
  const { s, got } = session('tcp');
  const first = framed(query(1, 'before.example'));
  s.data(0, first.subarray(0, 10), 0, 10);
  assert.ok(s.buffered > 0);
  s.gap(0, 100);
  assert.equal(s.buffered, 0, 'the partial message went with the gap');
  const tail = Buffer.from('the rest of something that is not DNS at all');
  s.data(0, tail, 0, tail.length);
  const after = framed(query(2, 'after.example'));
  s.data(0, after, 0, after.length);
  assert.deepEqual(got.inspections.map((i) => i.tx.message.questions[0]!.name.text), ['after.example']);
  assert.deepEqual(got.anomalies, []);
  // The other direction was never gapped.
  const resp = framed(answer(2, 'after.example', '192.0.2.2'));
  s.data(1, resp, 0, resp.length);
  assert.equal(got.inspections.length, 2);
});

test('TCP gaps: a chunk that starts with the header of a message still arriving resynchronises', () => {
  const { s, got } = session('tcp');
  s.gap(1, 50);
  const resp = framed(answer(2, 'split.example', '192.0.2.2'));
  s.data(1, resp.subarray(0, 20), 0, 20);
  s.data(1, resp.subarray(20), 0, resp.length - 20);
  assert.deepEqual(got.inspections.map((i) => [i.tx.side, i.tx.message.questions[0]!.name.text]), [[1, 'split.example']]);
});

test('a message without a question is a transaction but logs nothing (Suricata logs per question)', () => {
  const { s, got } = session('udp', 3);
  const m = message({ id: 1, flags: 0x8180, questions: [], answers: [{ name: labels('x.example'), type: 1, rdata: rd.a('192.0.2.1') }] });
  s.data(1, m, 0, m.length);
  assert.equal(got.records.length, 0);
  assert.equal(got.inspections.length, 1);
});

test('alerts carry the transaction\'s dns object: Suricata 7\'s query/answer pair, or Suricata 8\'s version 3 record', () => {
  {
    const { s, got } = session('udp', 2);
    for (const [dir, m] of [[0, query(1, 'a.example')], [1, answer(1, 'a.example', '192.0.2.1')]] as const) s.data(dir, m, 0, m.length);
    assert.deepEqual(got.inspections[0]!.tx.alertMetadata(), { dns: { query: [{ type: 'query', id: 1, rrname: 'a.example', rrtype: 'A', tx_id: 0, opcode: 0 }] } });
    assert.deepEqual(got.inspections[1]!.tx.alertMetadata(), {
      dns: {
        query: [],
        answer: { version: 2, type: 'answer', id: 1, flags: '8180', qr: true, rd: true, ra: true, opcode: 0, rrname: 'a.example', rrtype: 'A', rcode: 'NOERROR', answers: [{ rrname: 'a.example', rrtype: 'A', ttl: 60, rdata: '192.0.2.1' }], grouped: { A: ['192.0.2.1'] } },
      },
    });
  }
  {
    const { s, got } = session('udp', 2, 3);
    const m = answer(1, 'a.example', '192.0.2.1');
    s.data(1, m, 0, m.length);
    assert.deepEqual(got.inspections[0]!.tx.alertMetadata(), {
      dns: { version: 3, type: 'response', tx_id: 0, id: 1, flags: '8180', qr: true, rd: true, ra: true, opcode: 0, rcode: 'NOERROR', queries: [{ rrname: 'a.example', rrtype: 'A' }], answers: [{ rrname: 'a.example', rrtype: 'A', ttl: 60, rdata: '192.0.2.1' }] },
    });
    assert.equal(got.records[0]!.body.version, 2, 'the log keeps its own version');
  }
});

test('nothing is called after a close, and the session takes data of any length without throwing', () => {
  const { s, got } = session('tcp');
  s.data(0, Buffer.alloc(0), 0, 0);
  s.gap(0, 0);
  s.close();
  assert.deepEqual(got.order, []);
});
