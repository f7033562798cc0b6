import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FLOW_STATE_NAMES, TO_CLIENT, TO_SERVER } from '../../src/flow/flow.js';
import { ping, SynthCapture, TcpConnection, UdpFlow } from '../../src/synth/traffic.js';
import { capture, FlowHarness } from './harness.js';

/** Wire bytes of the frames the capture holds now, split by sender (the first IPv4/IPv6 source seen is `from`). */
function wireBytes(cap: SynthCapture, from: string): [number, number] {
  let to = 0;
  let back = 0;
  for (const { frame, wirelen } of cap.frames!) {
    const v6 = frame[14]! >>> 4 === 6;
    const src = v6 ? frame.subarray(22, 38) : frame.subarray(26, 30);
    const text = v6 ? Buffer.from(src).toString('hex') : [...src].join('.');
    if (text === from) to += wirelen;
    else back += wirelen;
  }
  return [to, back];
}

describe('bidirectional flows', () => {
  test('both directions of a TCP connection land in one flow with per-direction counts', () => {
    const cap = capture();
    const conn = new TcpConnection(cap, '10.0.0.1:40000', '10.0.0.2:80');
    conn.handshake().send('client', 'x'.repeat(3000)).send('server', 'y'.repeat(100)).close();
    // SYN, ACK, 3 data + 3 ACKs, 1 ACK of the reply, FIN, ACK from the client; SYN-ACK, 3 ACKs, 1 data, FIN-ACK from the server.
    const [toServer, toClient] = wireBytes(cap, '10.0.0.1');
    const h = new FlowHarness().feed(cap).finish();
    const rec = h.record(h.only());
    assert.equal(rec.flow.pkts_toserver, 1 + 1 + 3 + 1 + 2);
    assert.equal(rec.flow.pkts_toclient, 1 + 3 + 1 + 1);
    assert.equal(rec.flow.bytes_toserver, toServer);
    assert.equal(rec.flow.bytes_toclient, toClient);
    assert.ok(toServer > 3000 && toClient > 100);
  });

  test('bytes are the lengths on the wire, not the captured lengths', () => {
    const cap = capture();
    new UdpFlow(cap, '10.0.0.1:5000', '10.0.0.2:53').send('client', 'q');
    cap.send(cap.frames!.pop()!.frame.subarray(14), { wirelen: 1000 });
    const h = new FlowHarness().feed(cap).finish();
    assert.equal(h.record(h.only()).flow.bytes_toserver, 1000);
  });

  test('the same tuple on different VLANs is two flows', () => {
    const h = new FlowHarness();
    for (const vlans of [[10], [20], [10, 30], []]) {
      const cap = capture({ vlans });
      new UdpFlow(cap, '10.0.0.1:5000', '10.0.0.2:53').send('client', 'q').send('server', 'a');
      h.feed(cap);
    }
    assert.equal(h.flows.length, 4);
    h.finish();
    assert.deepEqual(h.ended.map((e) => e.record.vlan ?? []).sort(), [[], [10], [10, 30], [20]]);
    for (const e of h.ended) assert.deepEqual([e.record.flow.pkts_toserver, e.record.flow.pkts_toclient], [1, 1]);
  });

  test('UDP is new until the reply, then established', () => {
    const cap = capture();
    const udp = new UdpFlow(cap, '10.0.0.1:5000', '10.0.0.2:53');
    const h = new FlowHarness();
    udp.send('client', 'q1').send('client', 'q2');
    h.feed(cap);
    assert.equal(FLOW_STATE_NAMES[h.only().state], 'new');
    udp.send('server', 'a');
    h.feed(cap);
    assert.equal(FLOW_STATE_NAMES[h.only().state], 'established');
    assert.equal(h.table.dir, TO_CLIENT);
  });

  test('ICMP echo request and reply share one flow, types and codes in the record', () => {
    const cap = capture();
    ping(cap, '10.0.0.1', '10.0.0.2', 7, 1);
    ping(cap, '10.0.0.1', '10.0.0.2', 7, 2);
    const h = new FlowHarness().feed(cap).finish();
    const rec = h.record(h.only());
    assert.equal(rec.proto, 'ICMP');
    assert.deepEqual([rec.src_ip, rec.dest_ip], ['10.0.0.1', '10.0.0.2']);
    assert.equal('src_port' in rec || 'dest_port' in rec, false, 'ICMP has no ports');
    assert.deepEqual([rec.icmp_type, rec.icmp_code, rec.response_icmp_type, rec.response_icmp_code], [8, 0, 0, 0]);
    assert.deepEqual([rec.flow.pkts_toserver, rec.flow.pkts_toclient, rec.flow.state], [2, 2, 'established']);
  });

  test('an ICMP echo reply seen first makes its receiver the client', () => {
    const cap = capture();
    ping(cap, '10.0.0.1', '10.0.0.2', 7, 1);
    cap.frames!.shift();
    ping(cap, '10.0.0.1', '10.0.0.2', 7, 2);
    const h = new FlowHarness().feed(cap).finish();
    const rec = h.record(h.only());
    assert.deepEqual([rec.src_ip, rec.dest_ip], ['10.0.0.1', '10.0.0.2']);
    assert.deepEqual([rec.flow.pkts_toserver, rec.flow.pkts_toclient], [1, 2]);
    assert.deepEqual([rec.icmp_type, rec.response_icmp_type], [8, 0]);
  });

  test('an unanswered ICMP echo has no response type', () => {
    const cap = capture();
    ping(cap, '10.0.0.1', '10.0.0.2', 7, 1, false);
    const h = new FlowHarness().feed(cap).finish();
    const rec = h.record(h.only());
    assert.deepEqual([rec.icmp_type, rec.icmp_code], [8, 0]);
    assert.equal('response_icmp_type' in rec, false);
    assert.equal('response_icmp_code' in rec, false);
    assert.equal(rec.flow.state, 'new');
  });

  test('ICMPv6 echo request and reply share one flow', () => {
    const cap = capture();
    ping(cap, '2001:db8::1', '2001:db8::2', 9, 1);
    const h = new FlowHarness().feed(cap).finish();
    const rec = h.record(h.only());
    assert.equal(rec.proto, 'IPv6-ICMP');
    assert.deepEqual([rec.icmp_type, rec.icmp_code, rec.response_icmp_type, rec.response_icmp_code], [128, 0, 129, 0]);
  });

  test('IPv6 TCP flows are bidirectional and written with RFC 5952 addresses', () => {
    const cap = capture();
    const conn = new TcpConnection(cap, '[2001:db8::10]:40000', '[2001:db8:0:0:1::20]:443');
    conn.handshake().send('client', 'hello').send('server', 'world').close('server');
    const h = new FlowHarness().feed(cap).finish();
    const flow = h.only();
    assert.equal(flow.ipVersion, 6);
    const rec = h.record(flow);
    assert.deepEqual([rec.src_ip, rec.src_port, rec.dest_ip, rec.dest_port, rec.proto], ['2001:db8::10', 40000, '2001:db8::1:0:0:20', 443, 'TCP']);
    assert.equal(rec.tcp?.state, 'closed');
    assert.equal(h.text(flow, TO_SERVER), 'hello');
    assert.equal(h.text(flow, TO_CLIENT), 'world');
  });

  test('an IPv4 and an IPv6 flow with matching low address bits are different flows', () => {
    const cap = capture();
    new UdpFlow(cap, '10.0.0.1:1', '10.0.0.2:2').send('client', 'a');
    new UdpFlow(cap, '[::a00:1]:1', '[::a00:2]:2').send('client', 'b');
    new UdpFlow(cap, '[::ffff:10.0.0.1]:1', '[::ffff:10.0.0.2]:2').send('client', 'c');
    const h = new FlowHarness().feed(cap);
    assert.equal(h.flows.length, 3, 'an IPv6 packet with IPv4-mapped addresses is not the IPv4 flow');
    assert.deepEqual(h.flows.map((f) => f.ipVersion), [4, 6, 6]);
  });
});

describe('keys and hashing', () => {
  test('the flow hash is the same whichever direction created the flow', () => {
    const tuples: Array<[string, string]> = [
      ['10.0.0.1:40000', '10.0.0.2:80'],
      ['192.168.1.7:53', '8.8.8.8:53'],
      ['[2001:db8::1]:1234', '[2001:db8::2]:4321'],
    ];
    const hashes = new Set<number>();
    for (const [a, b] of tuples) {
      const one = capture();
      new UdpFlow(one, a, b).send('client', 'x');
      const two = capture();
      new UdpFlow(two, a, b).send('server', 'x');
      const h1 = new FlowHarness().feed(one).only().hash;
      const h2 = new FlowHarness().feed(two).only().hash;
      assert.equal(h1, h2, `${a} <-> ${b}`);
      assert.ok(Number.isInteger(h1) && h1 >= 0 && h1 < 2 ** 30);
      hashes.add(h1);
    }
    assert.equal(hashes.size, tuples.length, 'different tuples hash differently');
  });

  test('swapping only the ports, or the protocol, is another flow', () => {
    const cap = capture();
    new UdpFlow(cap, '10.0.0.1:1000', '10.0.0.2:2000').send('client', 'a');
    new UdpFlow(cap, '10.0.0.1:2000', '10.0.0.2:1000').send('client', 'b');
    new TcpConnection(cap, '10.0.0.1:1000', '10.0.0.2:2000').send('client', 'c');
    const h = new FlowHarness().feed(cap);
    assert.equal(h.flows.length, 3);
    assert.equal(h.table.size, 3);
  });

  test('many flows sharing hash buckets are all found again', () => {
    const h = new FlowHarness({ maxFlows: 16 });
    const cap = capture();
    for (let i = 0; i < 16; i++) new UdpFlow(cap, `10.0.${i}.1:${1000 + i}`, '10.1.0.1:53').send('client', 'q');
    for (let i = 15; i >= 0; i--) new UdpFlow(cap, `10.0.${i}.1:${1000 + i}`, '10.1.0.1:53').send('server', 'a');
    h.feed(cap).finish();
    assert.equal(h.flows.length, 16);
    for (const e of h.ended) assert.deepEqual([e.record.flow.pkts_toserver, e.record.flow.pkts_toclient, e.reason], [1, 1, 'shutdown']);
  });
});

describe('flow ids', () => {
  test('flow ids are unique, integers, and below 2^51', () => {
    for (const idSalt of [undefined, 0x7ffff, 0]) {
      const h = idSalt === undefined ? new FlowHarness({}, true) : new FlowHarness({ idSalt });
      const cap = capture();
      for (let i = 0; i < 500; i++) new UdpFlow(cap, `10.${i >> 8}.${i & 255}.1:1`, '10.255.0.1:2').send('client', 'q');
      h.feed(cap);
      const ids = h.flows.map((f) => f.id);
      assert.equal(new Set(ids).size, 500);
      for (const id of ids) assert.ok(Number.isSafeInteger(id) && id > 0 && id < 2 ** 51, `${id}`);
    }
  });

  test('two tables without a salt give different ids (random per run)', () => {
    const ids = new Set<number>();
    for (let i = 0; i < 4; i++) {
      const cap = capture();
      new UdpFlow(cap, '10.0.0.1:1', '10.0.0.2:2').send('client', 'q');
      ids.add(new FlowHarness({}, true).feed(cap).only().id);
    }
    assert.ok(ids.size > 1);
  });
});

describe('timeouts (packet time)', () => {
  /** A probe packet on another flow, `after` seconds after the capture's clock now, to move time on. */
  function probe(cap: SynthCapture, after: number): void {
    cap.wait(after);
    new UdpFlow(cap, '10.9.9.9:9', '10.9.9.8:9').send('client', 'tick');
  }

  function endedAt(setup: (cap: SynthCapture) => void, after: number, options = {}): string[] {
    const cap = capture();
    setup(cap);
    const h = new FlowHarness(options).feed(cap);
    const first = h.flows[0]!;
    probe(cap, after);
    h.feed(cap);
    return h.ended.filter((e) => e.flow === first).map((e) => e.reason);
  }

  const established = (cap: SynthCapture): void => void new TcpConnection(cap, '10.0.0.1:40000', '10.0.0.2:80').handshake().send('client', 'x');
  const synOnly = (cap: SynthCapture): void => void new TcpConnection(cap, '10.0.0.1:40000', '10.0.0.2:80').packet('client', { seq: 1, flags: 'S' }, new Uint8Array(0));
  const closed = (cap: SynthCapture): void => void new TcpConnection(cap, '10.0.0.1:40000', '10.0.0.2:80').handshake().close();
  const udpNew = (cap: SynthCapture): void => void new UdpFlow(cap, '10.0.0.1:5000', '10.0.0.2:53').send('client', 'q');
  const udpEstablished = (cap: SynthCapture): void => void new UdpFlow(cap, '10.0.0.1:5000', '10.0.0.2:53').send('client', 'q').send('server', 'a');
  const icmp = (cap: SynthCapture): void => ping(cap, '10.0.0.1', '10.0.0.2', 1, 1, false);

  for (const [name, setup, timeout] of [
    ['established TCP', established, 600],
    ['new TCP (SYN only)', synOnly, 60],
    ['closed TCP', closed, 60],
    ['new UDP', udpNew, 30],
    ['established UDP', udpEstablished, 300],
    ['new ICMP', icmp, 30],
  ] as const) {
    test(`${name} times out after ${timeout} s idle, not before`, () => {
      assert.deepEqual(endedAt(setup, timeout - 1), [], 'still alive just before');
      assert.deepEqual(endedAt(setup, timeout + 1), ['timeout']);
    });
  }

  test('the record of a timed-out flow ends at its last packet, not at the timeout', () => {
    const cap = capture();
    udpEstablished(cap);
    const h = new FlowHarness().feed(cap);
    probe(cap, 400);
    h.feed(cap);
    const rec = h.record(h.flows[0]!);
    assert.equal(rec.flow.reason, 'timeout');
    assert.equal(rec.flow.end, '2004-04-21T10:00:00.000100+0000');
    assert.equal(rec.flow.age, 0);
  });

  test('custom timeouts replace the defaults per protocol and state', () => {
    const options = { timeouts: { udp: { new: 5 }, tcp: { established: 10 } } };
    assert.deepEqual(endedAt(udpNew, 4, options), []);
    assert.deepEqual(endedAt(udpNew, 6, options), ['timeout']);
    assert.deepEqual(endedAt(established, 11, options), ['timeout']);
    assert.deepEqual(endedAt(udpEstablished, 299, options), [], 'unnamed states keep their defaults');
    assert.deepEqual(endedAt(synOnly, 59, options), []);
  });

  test('activity keeps a flow alive: the timeout counts from its last packet', () => {
    const cap = capture();
    const udp = new UdpFlow(cap, '10.0.0.1:5000', '10.0.0.2:53');
    udp.send('client', 'q').send('server', 'a');
    const h = new FlowHarness().feed(cap);
    for (let i = 0; i < 5; i++) {
      cap.wait(200);
      udp.send('client', 'again');
      h.feed(cap);
    }
    assert.equal(h.ended.length, 0);
    assert.equal(h.flows.length, 1);
  });

  test('advance() times flows out with no packet', () => {
    const cap = capture();
    udpNew(cap);
    const h = new FlowHarness().feed(cap);
    h.table.advance(cap.time + 29);
    assert.equal(h.ended.length, 0);
    h.table.advance(cap.time + 31);
    assert.deepEqual(h.ended.map((e) => e.reason), ['timeout']);
    assert.equal(h.table.size, 0);
  });

  test('a flow that timed out and is seen again is a new flow', () => {
    const cap = capture();
    const udp = new UdpFlow(cap, '10.0.0.1:5000', '10.0.0.2:53');
    udp.send('client', 'q');
    cap.wait(100);
    udp.send('client', 'q');
    const h = new FlowHarness().feed(cap).finish();
    assert.equal(h.flows.length, 2);
    assert.deepEqual(h.ended.map((e) => e.reason), ['timeout', 'shutdown']);
  });

  test('flush ends every flow with reason shutdown', () => {
    const cap = capture();
    udpNew(cap);
    established(cap);
    icmp(cap);
    const h = new FlowHarness().feed(cap).finish();
    assert.deepEqual(h.ended.map((e) => e.reason), ['shutdown', 'shutdown', 'shutdown']);
    assert.equal(h.table.size, 0);
    assert.deepEqual(h.table.counters.ended, [0, 3, 0, 0]);
  });
});

describe('memory caps', () => {
  test('more flows than maxFlows evicts (reason forced), and the table never holds more than the cap', () => {
    const h = new FlowHarness({ maxFlows: 3 });
    const cap = capture();
    let peak = 0;
    for (let i = 0; i < 8; i++) {
      new UdpFlow(cap, `10.0.0.${i + 1}:5000`, '10.0.1.1:53').send('client', 'q');
      h.feed(cap);
      peak = Math.max(peak, h.table.size);
    }
    assert.equal(peak, 3);
    assert.deepEqual(h.ended.map((e) => e.reason), ['forced', 'forced', 'forced', 'forced', 'forced']);
    assert.deepEqual(h.ended.map((e) => e.record.src_ip), ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5'], 'the flows nearest their timeout go first');
    assert.equal(h.table.counters.ended[2], 5);
  });

  test('memcap pressure is the fuller of the flow cap and the reassembly memcap, in percent, with its peak kept', () => {
    const h = new FlowHarness({ maxFlows: 4, reassemblyMemcap: 1000 });
    const cap = capture();
    assert.deepEqual([h.table.pressure, h.table.pressureMax], [0, 0]);
    for (let i = 0; i < 3; i++) new UdpFlow(cap, `10.0.0.${i + 1}:5000`, '10.0.1.1:53').send('client', 'q');
    h.feed(cap);
    assert.deepEqual([h.table.pressure, h.table.pressureMax], [75, 75], 'three flows of four');
    h.table.flush();
    assert.deepEqual([h.table.pressure, h.table.pressureMax], [0, 75], 'the peak stays after the flows end');
  });

  test('eviction picks the flow nearest its own timeout across protocols and states', () => {
    const h = new FlowHarness({ maxFlows: 2 });
    const cap = capture();
    // An established TCP flow (600 s) seen first, then a new UDP flow (30 s) 10 s later.
    new TcpConnection(cap, '10.0.0.1:40000', '10.0.0.2:80').handshake();
    cap.wait(10);
    new UdpFlow(cap, '10.0.0.3:5000', '10.0.0.4:53').send('client', 'q');
    cap.wait(1);
    new UdpFlow(cap, '10.0.0.5:5000', '10.0.0.6:53').send('client', 'q');
    h.feed(cap);
    assert.deepEqual(h.ended.map((e) => [e.record.proto, e.reason]), [['UDP', 'forced']]);
  });

  test('reassemblyMemcap holds across flows: the stream that pushes past it gives up its holes', () => {
    const h = new FlowHarness({ reassemblyMemcap: 100 });
    const cap = capture();
    let peak = 0;
    for (let i = 0; i < 6; i++) {
      const conn = new TcpConnection(cap, `10.0.0.${i + 1}:40000`, '10.0.1.1:80');
      conn.handshake().segment('client', 10, 'x'.repeat(40));
      h.feed(cap);
      peak = Math.max(peak, h.table.heldBytes);
      const live = h.flows.reduce((sum, f) => sum + f.tcp!.streams[0].held.bytes + f.tcp!.streams[1].held.bytes, 0);
      assert.equal(h.table.heldBytes, live, 'the table counts exactly what streams hold');
    }
    assert.ok(peak <= 100, `peak ${peak}`);
    assert.equal(h.table.heldBytes, 80);
    assert.equal(h.count('reassembly_memcap'), 4);
    assert.equal(h.count('reassembly_seq_gap'), 4);
    h.finish();
    assert.equal(h.table.heldBytes, 0);
    for (const f of h.flows) assert.equal(h.text(f, TO_SERVER), '[gap 10]' + 'x'.repeat(40));
  });

  test('held bytes of evicted and timed-out flows are released from the memcap count', () => {
    const h = new FlowHarness({ maxFlows: 1 });
    const cap = capture();
    new TcpConnection(cap, '10.0.0.1:40000', '10.0.1.1:80').handshake().segment('client', 10, 'x'.repeat(40));
    h.feed(cap);
    assert.equal(h.table.heldBytes, 40);
    new TcpConnection(cap, '10.0.0.2:40000', '10.0.1.1:80').handshake();
    h.feed(cap);
    assert.equal(h.table.heldBytes, 0);
    assert.equal(h.ended[0]!.reason, 'forced');
    assert.equal(h.text(h.flows[0]!, TO_SERVER), '[gap 10]' + 'x'.repeat(40), 'an evicted flow still delivers what it held');
  });
});

describe('counters', () => {
  test('flows are counted by protocol, packets without a transport header are not given a flow', () => {
    const cap = capture();
    new UdpFlow(cap, '10.0.0.1:1', '10.0.0.2:2').send('client', 'a').send('server', 'b');
    new TcpConnection(cap, '10.0.0.1:40000', '10.0.0.2:80').handshake();
    ping(cap, '10.0.0.1', '10.0.0.2', 1, 1);
    cap.raw(Buffer.from('020000000002020000000001080600010800060400010200000000010a0000010000000000000a000002', 'hex'));
    const h = new FlowHarness().feed(cap);
    assert.equal(h.table.counters.created, 3);
    assert.deepEqual([...h.table.counters.byProto].sort(), [['icmp', 1], ['tcp', 1], ['udp', 1]]);
    assert.equal(h.table.counters.noFlow, 1);
  });
});
