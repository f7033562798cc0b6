import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FLOW_STATE_NAMES, TO_CLIENT, TO_SERVER } from '../../src/flow/flow.js';
import { TCP_STATE_NAMES } from '../../src/flow/tcp.js';
import { TcpConnection, type SynthCapture } from '../../src/synth/traffic.js';
import { capture, FlowHarness } from './harness.js';

const EMPTY = new Uint8Array(0);

/** Feeds what the capture holds and names the TCP and flow state the flow is in. */
function states(h: FlowHarness, cap: SynthCapture): [string, string] {
  h.feed(cap);
  const flow = h.flows.at(-1)!;
  return [TCP_STATE_NAMES[flow.tcp!.state], FLOW_STATE_NAMES[flow.state]];
}

function setup(): { cap: SynthCapture; conn: TcpConnection; h: FlowHarness } {
  const cap = capture();
  return { cap, conn: new TcpConnection(cap, '10.0.0.1:40000', '10.0.0.2:80', { clientIsn: 1000, serverIsn: 5000 }), h: new FlowHarness() };
}

describe('handshake', () => {
  test('SYN, SYN-ACK, ACK: syn_sent, syn_recv, established; the flow is new until established', () => {
    const { cap, conn, h } = setup();
    conn.packet('client', { seq: 1000, flags: 'S' }, EMPTY);
    assert.deepEqual(states(h, cap), ['syn_sent', 'new']);
    conn.packet('server', { seq: 5000, ack: 1001, flags: 'SA' }, EMPTY);
    assert.deepEqual(states(h, cap), ['syn_recv', 'new']);
    conn.packet('client', { seq: 1001, ack: 5001, flags: 'A' }, EMPTY);
    assert.deepEqual(states(h, cap), ['established', 'established']);
    assert.equal(h.only().tcp!.midstream, false);
  });

  test('a retransmitted SYN changes nothing', () => {
    const { cap, conn, h } = setup();
    conn.packet('client', { seq: 1000, flags: 'S' }, EMPTY).packet('client', { seq: 1000, flags: 'S' }, EMPTY);
    assert.deepEqual(states(h, cap), ['syn_sent', 'new']);
    assert.equal(h.flows.length, 1);
    assert.equal(h.ended.length, 0);
  });

  test('server data after the SYN-ACK establishes the connection when the client ACK was not captured', () => {
    const { cap, conn, h } = setup();
    conn.packet('client', { seq: 1000, flags: 'S' }, EMPTY).packet('server', { seq: 5000, ack: 1001, flags: 'SA' }, EMPTY);
    conn.packet('server', { seq: 5001, ack: 1001, flags: 'PA' }, Buffer.from('220 ready\r\n'));
    assert.deepEqual(states(h, cap), ['established', 'established']);
    assert.equal(h.text(h.only(), TO_CLIENT), '220 ready\r\n');
  });
});

describe('closing', () => {
  test('the client closing first goes close_wait, last_ack, closed (Suricata names the server side)', () => {
    const { cap, conn, h } = setup();
    conn.handshake().send('client', 'bye');
    conn.packet('client', { seq: conn.seq('client', 3), ack: conn.seq('server', 0), flags: 'FA' }, EMPTY);
    assert.deepEqual(states(h, cap), ['close_wait', 'established']);
    conn.packet('server', { seq: conn.seq('server', 0), ack: conn.seq('client', 4), flags: 'A' }, EMPTY);
    assert.deepEqual(states(h, cap), ['close_wait', 'established']);
    conn.packet('server', { seq: conn.seq('server', 0), ack: conn.seq('client', 4), flags: 'FA' }, EMPTY);
    assert.deepEqual(states(h, cap), ['last_ack', 'closed']);
    conn.packet('client', { seq: conn.seq('client', 4), ack: conn.seq('server', 1), flags: 'A' }, EMPTY);
    assert.deepEqual(states(h, cap), ['closed', 'closed']);
  });

  test('the server closing first goes fin_wait1, fin_wait2, time_wait, closed', () => {
    const { cap, conn, h } = setup();
    conn.handshake().send('server', 'done');
    conn.packet('server', { seq: conn.seq('server', 4), ack: conn.seq('client', 0), flags: 'FA' }, EMPTY);
    assert.deepEqual(states(h, cap), ['fin_wait1', 'established']);
    conn.packet('client', { seq: conn.seq('client', 0), ack: conn.seq('server', 5), flags: 'A' }, EMPTY);
    assert.deepEqual(states(h, cap), ['fin_wait2', 'established']);
    conn.packet('client', { seq: conn.seq('client', 0), ack: conn.seq('server', 5), flags: 'FA' }, EMPTY);
    assert.deepEqual(states(h, cap), ['time_wait', 'closed']);
    conn.packet('server', { seq: conn.seq('server', 5), ack: conn.seq('client', 1), flags: 'A' }, EMPTY);
    assert.deepEqual(states(h, cap), ['closed', 'closed']);
  });

  test("an ACK that does not reach the FIN does not move fin_wait1 on", () => {
    const { cap, conn, h } = setup();
    conn.handshake().send('server', 'done', { ack: false });
    conn.packet('server', { seq: conn.seq('server', 4), ack: conn.seq('client', 0), flags: 'FA' }, EMPTY);
    conn.packet('client', { seq: conn.seq('client', 0), ack: conn.seq('server', 4), flags: 'A' }, EMPTY);
    assert.deepEqual(states(h, cap), ['fin_wait1', 'established']);
  });

  test('FIN-ACK both ways then the last ACK ends closed, whichever side starts', () => {
    for (const first of ['client', 'server'] as const) {
      const { cap, conn, h } = setup();
      conn.handshake().send('client', 'q').send('server', 'a').close(first);
      assert.deepEqual(states(h, cap), ['closed', 'closed'], `${first} first`);
    }
  });

  test('a close whose last ACK was not captured stays one step short', () => {
    const cases = [['client', 'last_ack'], ['server', 'time_wait']] as const;
    for (const [first, state] of cases) {
      const { cap, conn, h } = setup();
      conn.handshake().close(first);
      cap.frames!.pop();
      assert.deepEqual(states(h, cap), [state, 'closed'], `${first} first`);
    }
  });

  test('a retransmitted FIN changes nothing', () => {
    const { cap, conn, h } = setup();
    conn.handshake();
    const fin = { seq: conn.seq('client', 0), ack: conn.seq('server', 0), flags: 'FA' };
    conn.packet('client', fin, EMPTY).packet('client', fin, EMPTY);
    assert.deepEqual(states(h, cap), ['close_wait', 'established']);
  });

  test('simultaneous FINs without ACKs go closing, then time_wait and closed as each is acknowledged', () => {
    const { cap, conn, h } = setup();
    conn.handshake();
    conn.packet('server', { seq: conn.seq('server', 0), flags: 'F' }, EMPTY);
    conn.packet('client', { seq: conn.seq('client', 0), flags: 'F' }, EMPTY);
    assert.deepEqual(states(h, cap), ['closing', 'established']);
    conn.packet('client', { seq: conn.seq('client', 1), ack: conn.seq('server', 1), flags: 'A' }, EMPTY);
    assert.deepEqual(states(h, cap), ['time_wait', 'closed']);
    conn.packet('server', { seq: conn.seq('server', 1), ack: conn.seq('client', 1), flags: 'A' }, EMPTY);
    assert.deepEqual(states(h, cap), ['closed', 'closed']);
  });

  test('a RST closes the connection from any state', () => {
    for (const from of ['client', 'server'] as const) {
      const { cap, conn, h } = setup();
      conn.handshake().send('client', 'x').reset(from);
      assert.deepEqual(states(h, cap), ['closed', 'closed'], from);
    }
    const { cap, conn, h } = setup();
    conn.packet('client', { seq: 1000, flags: 'S' }, EMPTY).packet('server', { seq: 0, ack: 1001, flags: 'RA' }, EMPTY);
    assert.deepEqual(states(h, cap), ['closed', 'closed'], 'a refused connection');
  });
});

describe('pickup', () => {
  test('a connection picked up mid-stream is established and marked midstream', () => {
    const cap = capture();
    const conn = new TcpConnection(cap, '10.0.0.1:40000', '10.0.0.2:80');
    conn.send('client', 'mid-way').send('server', 'reply');
    const h = new FlowHarness();
    assert.deepEqual(states(h, cap), ['established', 'established']);
    const flow = h.only();
    assert.equal(flow.tcp!.midstream, true);
    assert.equal(h.text(flow, TO_SERVER), 'mid-way');
    assert.equal(h.text(flow, TO_CLIENT), 'reply');
    h.finish();
    assert.equal(h.record(flow).tcp?.midstream, true);
    assert.equal(h.record(flow).src_ip, '10.0.0.1', 'the first sender is the client');
  });

  test('a first packet that is a RST, a bare FIN or has no ACK starts no session, as in Suricata', () => {
    for (const flags of ['R', 'RA', 'F', 'FA', 'FPU', '', 'P']) {
      const { cap, conn, h } = setup();
      conn.packet('client', { seq: 1000, ack: 7, flags }, EMPTY);
      assert.deepEqual(states(h, cap), ['none', 'new'], `flags "${flags}"`);
      h.finish();
      const rec = h.record(h.only());
      assert.equal(rec.tcp?.state, 'none');
      assert.equal(rec.tcp?.midstream, undefined);
    }
  });

  test('after a session-less first packet, the next packet with an ACK picks the connection up', () => {
    const { cap, conn, h } = setup();
    conn.packet('client', { seq: 1000, flags: 'F' }, EMPTY);
    conn.packet('server', { seq: 5000, ack: 1001, flags: 'A' }, EMPTY);
    assert.deepEqual(states(h, cap), ['established', 'established']);
    conn.packet('server', { seq: 5000, ack: 1001, flags: 'FA' }, EMPTY);
    assert.deepEqual(states(h, cap), ['fin_wait1', 'established'], 'the FIN seen before the session does not count');
  });

  test('nothing of a session-less packet is followed: a later pickup below its sequence number still delivers', () => {
    const { cap, conn, h } = setup();
    conn.packet('client', { seq: 900000, flags: 'R' }, EMPTY);
    conn.packet('client', { seq: 1000, ack: 5000, flags: 'PA' }, Buffer.from('data'));
    assert.deepEqual(states(h, cap), ['established', 'established']);
    assert.equal(h.text(h.only(), TO_SERVER), 'data');
    assert.equal(h.count('pkt_retransmission'), 0);
  });

  test('a SYN after a session-less RST on the tuple starts the handshake in the same flow', () => {
    const { cap, conn, h } = setup();
    conn.packet('client', { seq: 900000, ack: 1, flags: 'RA' }, EMPTY);
    conn.packet('client', { seq: 1000, flags: 'S' }, EMPTY);
    assert.deepEqual(states(h, cap), ['syn_sent', 'new']);
    assert.equal(h.ended.length, 0);
  });

  test('a FIN-ACK carrying data picks the connection up mid-stream', () => {
    const { cap, conn, h } = setup();
    conn.packet('client', { seq: 1000, ack: 5000, flags: 'FPA' }, Buffer.from('last words'));
    assert.deepEqual(states(h, cap), ['close_wait', 'established']);
    assert.equal(h.text(h.only(), TO_SERVER), 'last words');
  });

  test('a first packet that is a SYN-ACK makes its receiver the client', () => {
    const { cap, conn, h } = setup();
    conn.packet('server', { seq: 5000, ack: 1001, flags: 'SA' }, EMPTY);
    assert.deepEqual(states(h, cap), ['syn_recv', 'new']);
    const flow = h.only();
    assert.equal(h.table.dir, TO_CLIENT);
    conn.packet('client', { seq: 1001, ack: 5001, flags: 'A' }, EMPTY);
    assert.deepEqual(states(h, cap), ['established', 'established']);
    assert.equal(h.table.dir, TO_SERVER);
    conn.send('client', 'GET');
    h.feed(cap).finish();
    const rec = h.record(flow);
    assert.deepEqual([rec.src_ip, rec.src_port, rec.dest_ip, rec.dest_port], ['10.0.0.1', 40000, '10.0.0.2', 80]);
    assert.equal(rec.flow.pkts_toserver, 2);
    assert.equal(rec.flow.pkts_toclient, 2);
    assert.equal(h.text(flow, TO_SERVER), 'GET');
    assert.equal(rec.tcp?.midstream, true, 'the SYN was not seen');
  });
});

describe('port reuse', () => {
  test('a new SYN with another ISN on the tuple ends the old flow (tcp_reuse) and starts a new one', () => {
    const cap = capture();
    new TcpConnection(cap, '10.0.0.1:40000', '10.0.0.2:80', { clientIsn: 1000 }).handshake().send('client', 'one').close();
    const h = new FlowHarness().feed(cap);
    const old = h.only();
    cap.wait(5);
    new TcpConnection(cap, '10.0.0.1:40000', '10.0.0.2:80', { clientIsn: 900000 }).handshake().send('client', 'two');
    h.feed(cap);
    assert.equal(h.flows.length, 2);
    assert.deepEqual(h.ended.map((e) => [e.flow, e.reason]), [[old, 'tcp_reuse']]);
    assert.equal(h.record(old).flow.reason, 'tcp_reuse');
    assert.equal(h.record(old).tcp?.state, 'closed');
    const fresh = h.flows[1]!;
    assert.notEqual(fresh.id, old.id);
    assert.equal(TCP_STATE_NAMES[fresh.tcp!.state], 'established');
    assert.equal(h.text(fresh, TO_SERVER), 'two');
    assert.equal(h.text(old, TO_SERVER), 'one');
    assert.equal(h.table.size, 1);
  });

  test('the old server opening a connection back on the same tuple is a new flow with it as client', () => {
    const cap = capture();
    new TcpConnection(cap, '10.0.0.1:40000', '10.0.0.2:80').handshake().close();
    new TcpConnection(cap, '10.0.0.2:80', '10.0.0.1:40000', { clientIsn: 77 }).handshake();
    const h = new FlowHarness().feed(cap).finish();
    assert.deepEqual(h.ended.map((e) => e.reason), ['tcp_reuse', 'shutdown']);
    assert.equal(h.ended[1]!.record.src_ip, '10.0.0.2');
    assert.equal(h.ended[1]!.record.src_port, 80);
  });

  test('a retransmitted SYN with the same ISN stays in the flow', () => {
    const cap = capture();
    const conn = new TcpConnection(cap, '10.0.0.1:40000', '10.0.0.2:80', { clientIsn: 1000 });
    conn.packet('client', { seq: 1000, flags: 'S' }, EMPTY);
    cap.wait(1);
    conn.packet('client', { seq: 1000, flags: 'S' }, EMPTY);
    conn.packet('server', { seq: 5000, ack: 1001, flags: 'SA' }, EMPTY).packet('client', { seq: 1001, ack: 5001, flags: 'A' }, EMPTY);
    const h = new FlowHarness().feed(cap).finish();
    assert.equal(h.flows.length, 1);
    assert.deepEqual(h.ended.map((e) => e.reason), ['shutdown']);
    assert.equal(h.ended[0]!.record.flow.pkts_toserver, 3);
    assert.equal(h.ended[0]!.record.tcp?.state, 'established');
  });
});
