import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageChannel, Worker } from 'node:worker_threads';
import { Frame } from '../../src/capture/frame.js';
import { LinkType } from '../../src/capture/linktype.js';
import { BATCH_BYTES, frameSpace } from '../../src/sensor/batch.js';
import { flowHash, NOT_IP, workerFor } from '../../src/sensor/dispatch.js';
import { BATCH_POOL, Dispatcher, READER_COUNTERS, ReaderCounter } from '../../src/sensor/reader.js';
import { bsdNull, ethernet, fragmentIpv4, fragmentIpv6, ipv4, ipv6, linuxSll, linuxSll2, tcp, udp } from '../../src/synth/headers.js';
import { prng } from '../helpers.js';

const hashOf = (frame: Uint8Array, linktype: number): number => flowHash(frame, 0, frame.length, linktype);

function tcpPacket(src: string, dst: string, sport: number, dport: number): Buffer {
  const seg = tcp({ sport, dport, seq: 1, flags: 'S' }, new Uint8Array(0), src, dst);
  return src.includes(':') ? ipv6({ src, dst, nextHeader: 6 }, seg) : ipv4({ src, dst, proto: 6 }, seg);
}

test('both directions of a flow hash alike on every link type', () => {
  const pairs: Array<[string, string]> = [
    ['192.168.1.20', '93.184.216.34'],
    ['10.0.0.1', '10.0.0.2'],
    ['2001:db8::20', '2001:db8::80'],
    ['fe80::1', '2001:db8:ffff::1234'],
  ];
  for (const [a, b] of pairs) {
    const v6 = a.includes(':');
    const there = tcpPacket(a, b, 40000, 443);
    const back = tcpPacket(b, a, 443, 40000);
    const wraps: Array<[number, (p: Buffer) => Buffer]> = [
      [LinkType.ETHERNET, (p) => ethernet(p, { type: v6 ? 0x86dd : 0x0800 })],
      [LinkType.ETHERNET, (p) => ethernet(p, { type: v6 ? 0x86dd : 0x0800, vlans: [10, 20] })],
      [LinkType.LINUX_SLL, (p) => linuxSll(p, v6 ? 0x86dd : 0x0800)],
      [LinkType.LINUX_SLL2, (p) => linuxSll2(p, v6 ? 0x86dd : 0x0800)],
      [LinkType.NULL, (p) => bsdNull(p, v6 ? 30 : 2)],
      [LinkType.RAW, (p) => p],
      [v6 ? LinkType.IPV6 : LinkType.IPV4, (p) => p],
    ];
    const expected = hashOf(there, LinkType.RAW);
    assert.notEqual(expected, NOT_IP);
    for (const [lt, wrap] of wraps) {
      assert.equal(hashOf(wrap(there), lt), expected, `${a} → ${b} on link type ${lt}`);
      assert.equal(hashOf(wrap(back), lt), expected, `${b} → ${a} on link type ${lt}`);
    }
  }
});

test('every fragment of a datagram goes where its flow goes', () => {
  const src = '192.168.1.30';
  const dst = '192.168.1.1';
  const flow = ethernet(ipv4({ src, dst, proto: 17 }, udp(5000, 5001, Buffer.from('first'), src, dst)));
  const big = ipv4({ src, dst, proto: 17, id: 0x4242 }, udp(5000, 5001, Buffer.alloc(3000, 0x61), src, dst));
  const frags = fragmentIpv4(big, [[0, 1480], [1480, 1480], [2960, 48]]).map((f) => ethernet(f));
  for (const f of frags) assert.equal(hashOf(f, LinkType.ETHERNET), hashOf(flow, LinkType.ETHERNET));
  // A later fragment has no ports: a port hash would have sent it elsewhere.
  for (let workers = 2; workers <= 8; workers++) {
    const w = workerFor(flow, 0, flow.length, LinkType.ETHERNET, workers);
    for (const f of frags) assert.equal(workerFor(f, 0, f.length, LinkType.ETHERNET, workers), w);
  }
  const s6 = '2001:db8::30';
  const d6 = '2001:db8::1';
  const big6 = ipv6({ src: s6, dst: d6, nextHeader: 17 }, udp(5000, 5001, Buffer.alloc(3000, 0x62), s6, d6));
  const reply6 = ethernet(ipv6({ src: d6, dst: s6, nextHeader: 17 }, udp(5001, 5000, Buffer.from('r'), d6, s6)), { type: 0x86dd });
  for (const f of fragmentIpv6(big6, 7, [[0, 1448], [1448, 1448], [2896, 112]])) {
    assert.equal(hashOf(ethernet(f, { type: 0x86dd }), LinkType.ETHERNET), hashOf(reply6, LinkType.ETHERNET));
  }
});

test('frames that are not IP, or too short to show their addresses, go to worker 0', () => {
  const arp = ethernet(Buffer.alloc(28), { type: 0x0806 });
  assert.equal(hashOf(arp, LinkType.ETHERNET), NOT_IP);
  assert.equal(workerFor(arp, 0, arp.length, LinkType.ETHERNET, 4), 0);
  const cut = ethernet(Buffer.from([0x45, 0, 0, 20, 0, 0]));
  assert.equal(hashOf(cut, LinkType.ETHERNET), NOT_IP);
  assert.equal(hashOf(new Uint8Array(3), LinkType.ETHERNET), NOT_IP);
  assert.equal(hashOf(Buffer.from([0x70, 0, 0, 0]), LinkType.RAW), NOT_IP);
  assert.equal(hashOf(tcpPacket('1.2.3.4', '5.6.7.8', 1, 2), 9999), NOT_IP);
  // Four stacked VLAN tags: the decoder refuses them too.
  const deep = ethernet(tcpPacket('1.2.3.4', '5.6.7.8', 1, 2), { vlans: [1, 2, 3, 4] });
  assert.equal(hashOf(deep, LinkType.ETHERNET), NOT_IP);
  // A frame that starts inside a larger buffer is read at its offset, not at 0.
  const pkt = ethernet(tcpPacket('1.2.3.4', '5.6.7.8', 1, 2));
  const inside = Buffer.concat([Buffer.alloc(7, 0xff), pkt, Buffer.alloc(5, 0xee)]);
  assert.equal(flowHash(inside, 7, pkt.length, LinkType.ETHERNET), hashOf(pkt, LinkType.ETHERNET));
});

test('random address pairs spread evenly over the workers', () => {
  const rnd = prng(0x5eed);
  const pairs = 40000;
  for (const workers of [2, 3, 4, 7]) {
    const counts = new Array<number>(workers).fill(0);
    const frame = ethernet(tcpPacket('0.0.0.0', '0.0.0.0', 1024, 80));
    for (let i = 0; i < pairs; i++) {
      for (let k = 0; k < 8; k++) frame[14 + 12 + k] = Math.floor(rnd() * 256);
      counts[workFor(frame, workers)]!++;
    }
    const mean = pairs / workers;
    // 40,000 draws: one standard deviation is about 1% of the mean for 2 workers, 1.5% for 7; 5% is far outside chance.
    for (const c of counts) assert.ok(Math.abs(c - mean) / mean < 0.05, `workers ${workers}: ${counts.join(' ')}`);
  }
  // Sequential addresses (one /16 talking to one server), the common real shape, spread too.
  const counts = [0, 0];
  for (let i = 0; i < 20000; i++) {
    const f = ethernet(tcpPacket(`10.1.${(i >> 8) & 255}.${i & 255}`, '192.168.1.10', 1024, 80));
    counts[workFor(f, 2)]!++;
  }
  assert.ok(Math.abs(counts[0]! - counts[1]!) / 20000 < 0.05, counts.join(' '));
  // IPv6 pairs that differ only in their last word.
  const v6 = [0, 0, 0];
  for (let i = 0; i < 30000; i++) v6[workFor(ethernet(tcpPacket(`2001:db8::${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}`, '2001:db8::1', 1, 2), { type: 0x86dd }), 3)]!++;
  for (const c of v6) assert.ok(Math.abs(c - 10000) / 10000 < 0.05, v6.join(' '));
});

function workFor(frame: Uint8Array, workers: number): number {
  return workerFor(frame, 0, frame.length, LinkType.ETHERNET, workers);
}

test('the reader drops live frames when a worker is behind, and waits for it on files', async () => {
  const frame = new Frame();
  frame.data = ethernet(tcpPacket('10.0.0.1', '10.0.0.2', 1, 2), {});
  frame.caplen = frame.data.length;
  frame.wirelen = frame.caplen;
  frame.linktype = LinkType.ETHERNET;
  const perBatch = Math.floor(BATCH_BYTES / frameSpace(frame.caplen));

  // A worker that never gives batches back: live frames beyond the pool are dropped and counted.
  const stuck = new MessageChannel();
  const counters = new SharedArrayBuffer(8 * READER_COUNTERS);
  const live = new Dispatcher([stuck.port1], new SharedArrayBuffer(4), counters, new SharedArrayBuffer(4), () => undefined);
  const g = live.begin('live', 'lo', 'lo');
  const total = perBatch * (BATCH_POOL + 3);
  for (let i = 0; i < total; i++) live.frame(frame, g, true);
  const c = new Float64Array(counters);
  assert.equal(c[ReaderCounter.frames], total);
  // The pool's batches hold BATCH_POOL × perBatch frames (the last one still filling); the rest are drops.
  assert.equal(c[ReaderCounter.internalDrops], total - BATCH_POOL * perBatch);
  stuck.port1.close();

  // A worker thread that gives each batch back after a while: a file's frames wait, none is lost.
  const slow = new MessageChannel();
  const returned = new SharedArrayBuffer(4);
  const worker = new Worker(
    `const { workerData } = require('node:worker_threads');
     const r = new Int32Array(workerData.returned);
     let batches = 0;
     workerData.port.on('message', (m) => {
       if (m.t === 'batch') {
         batches++;
         setTimeout(() => { workerData.port.postMessage({ t: 'free', buf: m.buf }, [m.buf]); Atomics.add(r, 0, 1); Atomics.notify(r, 0); }, 2);
       } else if (m.t === 'end') { workerData.port.postMessage({ t: 'done', batches }); }
     });`,
    { eval: true, workerData: { port: slow.port2, returned }, transferList: [slow.port2] },
  );
  const fileCounters = new SharedArrayBuffer(8 * READER_COUNTERS);
  const file = new Dispatcher([slow.port1], returned, fileCounters, new SharedArrayBuffer(4), () => undefined);
  const fg = file.begin('files', 'x.pcap');
  const fileFrames = perBatch * (BATCH_POOL * 3);
  for (let i = 0; i < fileFrames; i++) file.frame(frame, fg, false);
  const done = new Promise<number>((resolve) => slow.port1.on('message', (m: { t: string; batches?: number }) => m.t === 'done' && resolve(m.batches!)));
  file.end(fg);
  assert.equal(await done, BATCH_POOL * 3, 'every batch reached the worker');
  const fc = new Float64Array(fileCounters);
  assert.equal(fc[ReaderCounter.internalDrops], 0);
  assert.equal(fc[ReaderCounter.frames], fileFrames);
  await worker.terminate();
  slow.port1.close();
});
