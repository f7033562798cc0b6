import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dnsProtocol, probeDns } from '../../../src/protocols/dns/index.js';
import { prng } from '../../helpers.js';
import { everyTypeResponse, labels, message, rd, u16 } from './build.js';

const framed = (m: Uint8Array): Buffer => Buffer.concat([u16(m.length), m]);
/** The layer decides a datagram on its own: "more" is "no" for it. */
const datagram = (data: Uint8Array, port: number): string => {
  const r = probeDns(0, data, port);
  return r === 'more' ? 'no' : r;
};
const query = (name = 'www.example.com', flags = 0x0100): Buffer => message({ id: 0x4a4a, flags, questions: [{ name: labels(name), type: 1 }] });

test('the spec: name, transport, port, buffers', () => {
  assert.equal(dnsProtocol.name, 'dns');
  assert.equal(dnsProtocol.transport, 'both');
  assert.deepEqual(dnsProtocol.ports, [53]);
  assert.deepEqual([...dnsProtocol.buffers], ['dns.query', 'dns.queries.rrname', 'dns.answer.name']);
});

test('port 53, a datagram: Suricata\'s probe, loose (any opcode, several questions, odd classes)', () => {
  assert.equal(datagram(query(), 53), 'yes');
  assert.equal(datagram(everyTypeResponse(), 53), 'yes');
  assert.equal(datagram(query('x', 0x2900), 53), 'yes', 'an update');
  assert.equal(datagram(message({ questions: [{ name: labels('a'), type: 1 }, { name: labels('b'), type: 1, class: 0x8001 }] }), 53), 'yes');
  assert.equal(datagram(Buffer.concat([query(), Buffer.from('trailing')]), 53), 'yes', 'bytes after the last section are ignored');
  assert.equal(datagram(message({ flags: 0x0100, questions: [] }), 53), 'no', 'a query must have a question');
  assert.equal(datagram(query().subarray(0, 20), 53), 'no', 'the question must parse');
  assert.equal(datagram(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 53), 'no');
});

test('port 53, a stream: the first length-prefixed message, or its header while it arrives', () => {
  const f = framed(query());
  assert.equal(probeDns(0, f, 53), 'yes');
  assert.equal(probeDns(0, f.subarray(0, 1), 53), 'more');
  assert.equal(probeDns(0, f.subarray(0, 13), 53), 'more');
  assert.equal(probeDns(0, f.subarray(0, 20), 53), 'yes', 'the header fits the announced length');
  assert.equal(probeDns(0, Buffer.concat([u16(2), Buffer.alloc(20)]), 53), 'no');
});

test('away from port 53: an ordinary query or response, whole, passes', () => {
  assert.equal(probeDns(0, query(), 5353), 'yes');
  assert.equal(probeDns(1, message({ flags: 0x8180, questions: [{ name: labels('a.example'), type: 1 }], answers: [{ name: labels('a.example'), type: 1, rdata: rd.a('192.0.2.1') }] }), 8053), 'yes');
  assert.equal(probeDns(0, framed(query()), 5353), 'yes');
  assert.equal(probeDns(0, framed(query()).subarray(0, 16), 5353), 'more', 'the header is ordinary: wait for the rest');
});

test('away from port 53: anything unusual is not taken for DNS', () => {
  const cases: Array<[string, Buffer]> = [
    ['two questions', message({ questions: [{ name: labels('a'), type: 1 }, { name: labels('b'), type: 1 }] })],
    ['opcode 2', query('x', 0x1100)],
    ['Z set', query('x', 0x0140)],
    ['a query with an answer', message({ flags: 0x0100, questions: [{ name: labels('a'), type: 1 }], answers: [{ name: labels('a'), type: 1, rdata: rd.a('1.2.3.4') }] })],
    ['rcode 9 in a response', message({ flags: 0x8189, questions: [{ name: labels('a'), type: 1 }] })],
    ['class 77', message({ questions: [{ name: labels('a'), type: 1, class: 77 }] })],
    ['trailing bytes', Buffer.concat([query(), Buffer.from([0])])],
    ['cut', query().subarray(0, 25)],
  ];
  for (const [what, b] of cases) assert.equal(datagram(b, 4444), 'no', what);
  assert.equal(probeDns(0, Buffer.concat([u16(300), query('x', 0x1100)]), 4444), 'no', 'a stream whose header is not ordinary is not waited for');
  assert.equal(probeDns(0, Buffer.from('GET /index.html HTTP/1.1\r\n'), 4444), 'no');
  assert.equal(probeDns(0, Buffer.from('SSH-2.0-OpenSSH_9.6\r\n'), 4444), 'no');
});

test('random datagrams are not DNS away from port 53 (seeded, a million tries), and the probe never throws', () => {
  const rand = prng(0xd115);
  let yes = 0;
  for (let i = 0; i < 1_000_000; i++) {
    const len = Math.floor(rand() * (i % 10 === 0 ? 600 : 64));
    const b = new Uint8Array(len);
    for (let j = 0; j < len; j++) b[j] = Math.floor(rand() * 256);
    if (probeDns(i & 1, b, 1024 + (i % 60000)) === 'yes') yes++;
  }
  assert.equal(yes, 0);
});

test('DNS-shaped garbage (a valid header and random body) is still rejected away from 53', () => {
  const rand = prng(77);
  let yes = 0;
  for (let i = 0; i < 200_000; i++) {
    const body = Buffer.alloc(8 + Math.floor(rand() * 60));
    for (let j = 0; j < body.length; j++) body[j] = Math.floor(rand() * 256);
    const b = Buffer.concat([u16(i), u16(i & 1 ? 0x8180 : 0x0100), u16(1), u16(i & 1), u16(0), u16(0), body]);
    if (probeDns(0, b, 6000) === 'yes') yes++;
  }
  // A random body is almost never a name, a type and a class ending exactly at the end.
  assert.ok(yes < 20, `${yes} of 200000`);
});
