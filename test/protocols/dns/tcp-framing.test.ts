import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDnsMessage, splitTcpDnsMessages } from '../../../src/protocols/dns/parse.js';
import { prng } from '../../helpers.js';
import { everyTypeResponse, labels, message, u16 } from './build.js';

const framed = (m: Uint8Array): Buffer => Buffer.concat([u16(m.length), m]);

test('whole messages in one buffer are all found and all consumed', () => {
  const a = message({ questions: [{ name: labels('a.example'), type: 1 }] });
  const b = everyTypeResponse();
  const buf = Buffer.concat([framed(a), framed(b)]);
  const r = splitTcpDnsMessages(buf, 0, buf.length);
  assert.deepEqual(r.messages, [{ off: 2, len: a.length }, { off: 2 + a.length + 2, len: b.length }]);
  assert.equal(r.consumed, buf.length);
  assert.equal(r.needed, 0);
});

test('an incomplete prefix or message is left unconsumed, with what the next one needs', () => {
  const a = message({ questions: [{ name: labels('a.example'), type: 1 }] });
  const one = Buffer.concat([framed(a), Buffer.from([0x00])]);
  assert.deepEqual(splitTcpDnsMessages(one, 0, one.length), { messages: [{ off: 2, len: a.length }], consumed: a.length + 2, needed: 2 });
  const part = framed(a).subarray(0, 10);
  assert.deepEqual(splitTcpDnsMessages(part, 0, part.length), { messages: [], consumed: 0, needed: a.length + 2 });
  assert.deepEqual(splitTcpDnsMessages(Buffer.alloc(0), 0, 0), { messages: [], consumed: 0, needed: 0 });
});

test('a zero length prefix is skipped, as Suricata does', () => {
  const a = message({ questions: [{ name: labels('a.example'), type: 1 }] });
  const buf = Buffer.concat([Buffer.from([0, 0]), framed(a), Buffer.from([0, 0])]);
  const r = splitTcpDnsMessages(buf, 0, buf.length);
  assert.deepEqual(r.messages, [{ off: 4, len: a.length }]);
  assert.equal(r.consumed, buf.length);
});

test('offsets are within the given window of a larger buffer', () => {
  const a = message({ questions: [{ name: labels('a.example'), type: 1 }] });
  const buf = Buffer.concat([Buffer.from('xyz'), framed(a), framed(a), Buffer.from('tail')]);
  const r = splitTcpDnsMessages(buf, 3, 2 * (a.length + 2));
  assert.deepEqual(r.messages, [{ off: 5, len: a.length }, { off: 5 + a.length + 2, len: a.length }]);
  assert.equal(r.consumed, 2 * (a.length + 2));
  assert.deepEqual(splitTcpDnsMessages(buf, -4, Number.NaN), { messages: [], consumed: 0, needed: 0 });
});

test('a stream fed in random pieces (seeded) yields every message once, in order, each parsing as sent', () => {
  const rand = prng(53);
  const sent: Buffer[] = [];
  for (let i = 0; i < 200; i++) sent.push(i % 7 === 0 ? everyTypeResponse() : message({ id: i, questions: [{ name: labels(`host${i}.example`), type: 1 }] }));
  const stream = Buffer.concat(sent.flatMap((m, i) => (i % 13 === 0 ? [Buffer.from([0, 0]), framed(m)] : [framed(m)])));
  const got: Buffer[] = [];
  let held: Buffer = Buffer.alloc(0);
  let at = 0;
  while (at < stream.length) {
    const n = 1 + Math.floor(rand() * 700);
    held = Buffer.concat([held, stream.subarray(at, at + n)]);
    at += n;
    const r = splitTcpDnsMessages(held, 0, held.length);
    for (const m of r.messages) got.push(Buffer.from(held.subarray(m.off, m.off + m.len)));
    held = Buffer.from(held.subarray(r.consumed));
    assert.ok(held.length <= 65537, 'what stays held is at most one message and its prefix');
    if (held.length > 0) assert.ok(r.needed > held.length, 'what is needed is more than what is held');
  }
  assert.equal(held.length, 0);
  assert.equal(got.length, sent.length);
  got.forEach((m, i) => {
    assert.ok(m.equals(sent[i]!), `message ${i}`);
    const p = parseDnsMessage(m, 0, m.length);
    assert.equal(p.valid, true);
    if (i % 7 !== 0) assert.equal(p.questions[0]!.name.text, `host${i}.example`);
  });
});
