import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Layer, TcpFlag } from '../../src/decode/index.js';
import { u32be } from '../../src/wire/bytes.js';
import { ethernet, ipv4, ipv6, tcp, tcpOptions, udp, type TcpSpec } from '../../src/synth/headers.js';
import { decodeOne, eventNames, text } from './craft.js';

const SRC = '172.16.0.1';
const DST = '172.16.0.2';
const RAW = { linktype: 101 };

function tcp4(spec: Partial<TcpSpec> = {}, data = ''): Buffer {
  const seg = tcp({ sport: 33000, dport: 443, seq: 0x80000001, ack: 0xfffffffe, flags: 'PA', window: 1234, ...spec }, Buffer.from(data), SRC, DST);
  return ipv4({ src: SRC, dst: DST, proto: 6 }, seg);
}

test('the TCP header fields are read into the packet', () => {
  const { p } = decodeOne(tcp4({ flags: 'UAPRSFEC' }, 'data'), RAW);
  assert.deepEqual(eventNames(p), []);
  assert.equal(p.layer, Layer.TRANSPORT);
  assert.equal(p.srcPort, 33000);
  assert.equal(p.dstPort, 443);
  assert.equal(p.seq, 0x80000001);
  assert.equal(p.ack, 0xfffffffe);
  assert.equal(p.window, 1234);
  assert.equal(p.tcpFlags, 0xff);
  assert.equal(p.tcpFlags & TcpFlag.CWR, TcpFlag.CWR);
  assert.equal(p.mss, -1);
  assert.equal(p.wscale, -1);
  assert.equal(p.sackPermitted, false);
  assert.equal(p.tsVal, -1);
  assert.equal(p.sackBlocks, 0);
  assert.equal(text(p.payload()), 'data');
});

test('MSS, window scale, SACK-permitted and timestamps are read from a SYN', () => {
  const options = tcpOptions({ mss: 1460, wscale: 7, sackPermitted: true, timestamps: [0xdeadbeef, 42] });
  const { p } = decodeOne(tcp4({ flags: 'S', options }), RAW);
  assert.deepEqual(eventNames(p), []);
  assert.equal(p.mss, 1460);
  assert.equal(p.wscale, 7);
  assert.equal(p.sackPermitted, true);
  assert.equal(p.tsVal, 0xdeadbeef);
  assert.equal(p.tsEcr, 42);
  assert.equal(p.payloadOff, 20 + 20 + options.length);
  assert.equal(p.payloadLen, 0);
});

test('SACK blocks are located in the packet', () => {
  const blocks: Array<[number, number]> = [[1000, 2000], [3000, 4000], [0xfffffff0, 0x10]];
  const { p } = decodeOne(tcp4({ options: tcpOptions({ timestamps: [1, 2], sack: blocks }) }, 'x'), RAW);
  assert.deepEqual(eventNames(p), []);
  assert.equal(p.sackBlocks, 3);
  const read: Array<[number, number]> = [];
  for (let i = 0; i < p.sackBlocks; i++) read.push([u32be(p.data, p.sackOff + i * 8), u32be(p.data, p.sackOff + i * 8 + 4)]);
  assert.deepEqual(read, blocks);
  assert.equal(p.tsVal, 1);
  assert.equal(text(p.payload()), 'x');
});

test('an option of the wrong size for its kind raises tcp.opt_invalid_len and is not read', () => {
  const mss = decodeOne(tcp4({ options: Buffer.from([2, 3, 5, 0]) }), RAW).p;
  assert.deepEqual(eventNames(mss), ['tcp.opt_invalid_len']);
  assert.equal(mss.mss, -1);
  const ws = decodeOne(tcp4({ options: Buffer.from([3, 4, 7, 0]) }), RAW).p;
  assert.deepEqual(eventNames(ws), ['tcp.opt_invalid_len']);
  assert.equal(ws.wscale, -1);
  const sack = decodeOne(tcp4({ options: Buffer.from([5, 6, 0, 0, 0, 1, 0, 0]) }), RAW).p;
  assert.deepEqual(eventNames(sack), ['tcp.opt_invalid_len']);
  assert.equal(sack.sackBlocks, 0);
  const ts = decodeOne(tcp4({ options: Buffer.from([8, 6, 0, 0, 0, 1, 0, 0]) }), RAW).p;
  assert.deepEqual(eventNames(ts), ['tcp.opt_invalid_len']);
  assert.equal(ts.tsVal, -1);
});

test('an option length under 2, past the header, or missing raises tcp.opt_invalid_len, and the segment is still followed', () => {
  for (const options of [[3, 1, 0, 0], [8, 40, 0, 0], [1, 1, 1, 2]]) {
    const { p } = decodeOne(tcp4({ options: Buffer.from(options) }, 'z'), RAW);
    assert.deepEqual(eventNames(p), ['tcp.opt_invalid_len'], `options ${options.join(',')}`);
    assert.equal(p.layer, Layer.TRANSPORT);
    assert.equal(text(p.payload()), 'z');
  }
});

test('an option given twice raises tcp.opt_duplicate', () => {
  const { p } = decodeOne(tcp4({ flags: 'S', options: Buffer.from([2, 4, 5, 0xb4, 2, 4, 2, 0x18]) }), RAW);
  assert.deepEqual(eventNames(p), ['tcp.opt_duplicate']);
});

test('options after end-of-list are not read', () => {
  const { p } = decodeOne(tcp4({ options: Buffer.from([0, 2, 4, 5, 0xb4, 0, 0, 0]) }), RAW);
  assert.deepEqual(eventNames(p), []);
  assert.equal(p.mss, -1);
});

test('a data offset under 5 words raises tcp.hlen_too_small', () => {
  const { p, d } = decodeOne(tcp4({ headerLength: 16 }, 'abcd'), RAW);
  assert.deepEqual(eventNames(p), ['tcp.hlen_too_small']);
  assert.equal(p.layer, Layer.NETWORK);
  assert.equal(d.counters.tcp, 0);
});

test('a data offset past the segment raises tcp.invalid_optlen, unless the snaplen cut it', () => {
  const b = tcp4({ headerLength: 40 }, 'abc');
  const { p } = decodeOne(b, RAW);
  assert.deepEqual(eventNames(p), ['tcp.invalid_optlen']);
  assert.equal(p.layer, Layer.NETWORK);
  const whole = tcp4({ options: tcpOptions({ mss: 1400, timestamps: [5, 6] }) }, 'abc');
  const cut = decodeOne(whole.subarray(0, 20 + 30), { ...RAW, wirelen: whole.length }).p;
  assert.deepEqual(eventNames(cut), []);
  assert.equal(cut.truncated, true);
  assert.equal(cut.layer, Layer.NETWORK);
});

test('fewer than 20 bytes of TCP raise tcp.pkt_too_small', () => {
  const short = ipv4({ src: SRC, dst: DST, proto: 6 }, Buffer.alloc(19));
  assert.deepEqual(eventNames(decodeOne(short, RAW).p), ['tcp.pkt_too_small']);
});

test('TCP over IPv6 is read the same way', () => {
  const s6 = '2001:db8::a';
  const d6 = '2001:db8::b';
  const seg = tcp({ sport: 1, dport: 2, seq: 3, flags: 'S', options: tcpOptions({ mss: 1220 }) }, Buffer.alloc(0), s6, d6);
  const { p } = decodeOne(ipv6({ src: s6, dst: d6, nextHeader: 6 }, seg), RAW);
  assert.deepEqual(eventNames(p), []);
  assert.equal(p.mss, 1220);
  assert.equal(p.l4Off, 40);
});

test('the tcp builder pads raw options to whole words so the data offset covers them', () => {
  const seg = tcp({ sport: 1, dport: 2, seq: 3, flags: 'A', options: Buffer.from([1, 1, 1]) }, Buffer.from('pay'), SRC, DST);
  assert.equal(seg[12]! >>> 4, 6);
  assert.equal(seg.length, 24 + 3);
  const { p } = decodeOne(ipv4({ src: SRC, dst: DST, proto: 6 }, seg), RAW);
  assert.deepEqual(eventNames(p), []);
  assert.equal(text(p.payload()), 'pay');
});

function udp4(data: string, lengthOverride?: number): Buffer {
  return ipv4({ src: SRC, dst: DST, proto: 17 }, udp(68, 67, Buffer.from(data), SRC, DST, lengthOverride));
}

test('the UDP length field bounds the payload', () => {
  const { p } = decodeOne(udp4('0123456789', 8 + 3), RAW);
  assert.deepEqual(eventNames(p), []);
  assert.equal(p.layer, Layer.TRANSPORT);
  assert.equal(p.srcPort, 68);
  assert.equal(p.dstPort, 67);
  assert.equal(text(p.payload()), '012');
});

test('a UDP length under 8 raises udp.hlen_too_small', () => {
  const { p, d } = decodeOne(udp4('abc', 7), RAW);
  assert.deepEqual(eventNames(p), ['udp.hlen_too_small']);
  assert.equal(p.layer, Layer.NETWORK);
  assert.equal(d.counters.udp, 0);
});

test('a UDP length past the datagram raises udp.hlen_invalid, unless the snaplen cut it', () => {
  const b = udp4('abc', 100);
  assert.deepEqual(eventNames(decodeOne(b, RAW).p), ['udp.hlen_invalid']);
  const whole = udp4('a'.repeat(92));
  const { p } = decodeOne(whole.subarray(0, 20 + 8 + 10), { ...RAW, wirelen: whole.length });
  assert.deepEqual(eventNames(p), []);
  assert.equal(p.layer, Layer.TRANSPORT);
  assert.equal(p.payloadLen, 10);
});

test('fewer than 8 bytes of UDP raise udp.pkt_too_small', () => {
  const short = ipv4({ src: SRC, dst: DST, proto: 17 }, Buffer.alloc(7));
  assert.deepEqual(eventNames(decodeOne(short, RAW).p), ['udp.pkt_too_small']);
});

test('a snaplen that cut only the ethernet padding excuses no lie in the transport header', () => {
  // A 54-byte TCP frame padded to 60 on the wire, captured with snaplen 54 (tcpdump -s 54).
  const lying = ethernet(tcp4({ headerLength: 24 }));
  assert.equal(lying.length, 54);
  const t = decodeOne(lying, { wirelen: 60 }).p;
  assert.equal(t.truncated, true);
  assert.deepEqual(eventNames(t), ['tcp.invalid_optlen']);
  const sound = decodeOne(ethernet(tcp4()), { wirelen: 60 }).p;
  assert.deepEqual(eventNames(sound), []);
  assert.equal(sound.layer, Layer.TRANSPORT);
  const u = decodeOne(ethernet(udp4('ab', 30)), { wirelen: 60 }).p;
  assert.deepEqual(eventNames(u), ['udp.hlen_invalid']);
});
