import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EndReason, Flow, FlowState } from '../../src/flow/flow.js';
import { eveProto, flowEvent, flowHeader } from '../../src/flow/record.js';
import { TcpSession, TcpState } from '../../src/flow/tcp.js';
import { ping, TcpConnection, UdpFlow } from '../../src/synth/traffic.js';
import { capture, FlowHarness } from './harness.js';

const EMPTY = new Uint8Array(0);

describe('TCP flow record', () => {
  test('a whole connection gives every field, in Suricata’s order', () => {
    const cap = capture();
    const conn = new TcpConnection(cap, '10.0.0.1:40000', '10.0.0.2:80');
    conn.handshake().send('client', 'GET / HTTP/1.0\r\n\r\n');
    cap.wait(2.5);
    conn.send('server', 'HTTP/1.0 200 OK\r\n\r\n').close();
    const h = new FlowHarness({ idSalt: 3 }).feed(cap).finish();
    const flow = h.only();
    const rec = h.record(flow);
    assert.equal(rec.flow_id, 3 * 2 ** 32 + 1);
    assert.deepEqual(rec, {
      timestamp: '2004-04-21T10:00:02.500900+0000',
      flow_id: rec.flow_id,
      event_type: 'flow',
      src_ip: '10.0.0.1',
      src_port: 40000,
      dest_ip: '10.0.0.2',
      dest_port: 80,
      ip_v: 4,
      proto: 'TCP',
      flow: {
        pkts_toserver: 6,
        pkts_toclient: 4,
        bytes_toserver: rec.flow.bytes_toserver,
        bytes_toclient: rec.flow.bytes_toclient,
        start: '2004-04-21T10:00:00.000000+0000',
        end: '2004-04-21T10:00:02.500900+0000',
        age: 2,
        state: 'closed',
        reason: 'shutdown',
        alerted: false,
      },
      tcp: { tcp_flags: '1b', tcp_flags_ts: '1b', tcp_flags_tc: '1b', syn: true, fin: true, psh: true, ack: true, state: 'closed' },
    });
    assert.deepEqual(Object.keys(rec), ['timestamp', 'flow_id', 'event_type', 'src_ip', 'src_port', 'dest_ip', 'dest_port', 'ip_v', 'proto', 'flow', 'tcp']);
    assert.deepEqual(Object.keys(rec.flow), ['pkts_toserver', 'pkts_toclient', 'bytes_toserver', 'bytes_toclient', 'start', 'end', 'age', 'state', 'reason', 'alerted']);
    assert.deepEqual(Object.keys(rec.tcp!), ['tcp_flags', 'tcp_flags_ts', 'tcp_flags_tc', 'syn', 'fin', 'psh', 'ack', 'state']);
    // 10 frames of Ethernet + IPv4 + TCP (14 + 20 + 20 = 54 bytes, 66 with the SYN options), plus payloads.
    assert.equal(rec.flow.bytes_toserver, 66 + 54 * 5 + 18);
    assert.equal(rec.flow.bytes_toclient, 66 + 54 * 3 + 19);
    assert.equal(JSON.parse(JSON.stringify(rec)).tcp.state, 'closed');
  });

  test('flags are hex per direction and each flag boolean appears only when its bit was seen', () => {
    const cap = capture();
    const conn = new TcpConnection(cap, '10.0.0.1:40000', '10.0.0.2:80');
    conn.packet('client', { seq: 1, flags: 'SEC' }, EMPTY);
    conn.packet('server', { seq: 9, ack: 2, flags: 'SAE' }, EMPTY);
    conn.packet('client', { seq: 2, ack: 10, flags: 'AU' }, Buffer.from('!'));
    const h = new FlowHarness().feed(cap).finish();
    const tcp = h.record(h.only()).tcp!;
    assert.deepEqual(tcp, { tcp_flags: 'f2', tcp_flags_ts: 'f2', tcp_flags_tc: '52', syn: true, ack: true, urg: true, ecn: true, cwr: true, state: 'established' });
    for (const absent of ['fin', 'rst', 'psh', 'midstream', 'ts_gap', 'tc_gap']) assert.equal(absent in tcp, false, absent);
  });

  test('rst, midstream and both gap notes appear when they happened, after the state', () => {
    const cap = capture();
    const conn = new TcpConnection(cap, '10.0.0.1:40000', '10.0.0.2:80');
    conn.segment('client', 0, 'a').segment('client', 5, 'b').segment('server', 0, 'c').segment('server', 9, 'd').reset('server');
    const h = new FlowHarness().feed(cap).finish();
    const tcp = h.record(h.only()).tcp!;
    assert.deepEqual(tcp, { tcp_flags: '1c', tcp_flags_ts: '18', tcp_flags_tc: '1c', rst: true, psh: true, ack: true, state: 'closed', midstream: true, ts_gap: true, tc_gap: true });
    assert.deepEqual(Object.keys(tcp).slice(-4), ['state', 'midstream', 'ts_gap', 'tc_gap']);
  });

  test('a flow that never sent a flag in one direction writes 00 for it', () => {
    const cap = capture();
    new TcpConnection(cap, '10.0.0.1:40000', '10.0.0.2:80').packet('client', { seq: 1, flags: 'S' }, EMPTY);
    const h = new FlowHarness().feed(cap).finish();
    const rec = h.record(h.only());
    assert.deepEqual(rec.tcp, { tcp_flags: '02', tcp_flags_ts: '02', tcp_flags_tc: '00', syn: true, state: 'syn_sent' });
    assert.equal(rec.flow.state, 'new');
  });

  test('every TCP state and end reason has its Suricata name', () => {
    const flow = new Flow();
    flow.proto = 6;
    flow.tcp = new TcpSession();
    const names: string[] = [];
    for (const s of Object.values(TcpState)) {
      flow.tcp.state = s;
      names.push(flowEvent(flow, EndReason.SHUTDOWN).tcp!.state);
    }
    assert.deepEqual(names, ['none', 'syn_sent', 'syn_recv', 'established', 'fin_wait1', 'fin_wait2', 'time_wait', 'last_ack', 'close_wait', 'closing', 'closed']);
    const reasons = Object.values(EndReason).map((r) => flowEvent(flow, r).flow.reason);
    assert.deepEqual(reasons, ['timeout', 'shutdown', 'forced', 'tcp_reuse']);
    const states = Object.values(FlowState).map((s) => {
      flow.state = s;
      return flowEvent(flow, EndReason.TIMEOUT).flow.state;
    });
    assert.deepEqual(states, ['new', 'established', 'closed']);
  });
});

describe('other flow records', () => {
  test('UDP records carry ports and no tcp object', () => {
    const cap = capture({ start: 1082541600.25 });
    new UdpFlow(cap, '10.0.0.1:5353', '10.0.0.2:53').send('client', 'query').send('server', 'answer');
    const h = new FlowHarness().feed(cap).finish();
    const rec = h.record(h.only());
    assert.equal('tcp' in rec, false);
    assert.deepEqual([rec.src_port, rec.dest_port, rec.proto], [5353, 53, 'UDP']);
    assert.deepEqual([rec.flow.start, rec.flow.end, rec.flow.age, rec.flow.state], ['2004-04-21T10:00:00.250000+0000', '2004-04-21T10:00:00.250100+0000', 0, 'established']);
    assert.equal(rec.flow.bytes_toserver, 14 + 20 + 8 + 5);
    assert.equal(rec.flow.bytes_toclient, 14 + 20 + 8 + 6);
  });

  test('ICMP records carry types and codes but no ports; keys come in Suricata’s order', () => {
    const cap = capture();
    ping(cap, '10.0.0.1', '10.0.0.2', 1, 1);
    const h = new FlowHarness().feed(cap).finish();
    const rec = h.record(h.only());
    assert.deepEqual(Object.keys(rec), ['timestamp', 'flow_id', 'event_type', 'src_ip', 'dest_ip', 'ip_v', 'proto', 'icmp_type', 'icmp_code', 'response_icmp_type', 'response_icmp_code', 'flow']);
  });

  test('VLAN ids are written outermost first, one or two', () => {
    for (const vlans of [[5], [5, 6]]) {
      const cap = capture({ vlans });
      new UdpFlow(cap, '10.0.0.1:1', '10.0.0.2:2').send('client', 'x');
      const h = new FlowHarness().feed(cap).finish();
      assert.deepEqual(h.record(h.only()).vlan, vlans);
    }
    const cap = capture();
    new UdpFlow(cap, '10.0.0.1:1', '10.0.0.2:2').send('client', 'x');
    const h = new FlowHarness().feed(cap).finish();
    assert.equal('vlan' in h.record(h.only()), false);
  });

  test('age counts whole seconds between the first and last packet', () => {
    const cap = capture({ start: 1082541600.9 });
    const udp = new UdpFlow(cap, '10.0.0.1:1', '10.0.0.2:2');
    udp.send('client', 'x');
    cap.wait(0.2);
    udp.send('client', 'y');
    const h = new FlowHarness().feed(cap).finish();
    const rec = h.record(h.only());
    assert.equal(rec.flow.age, 1, '10:00:00.9 to 10:00:01.1 crosses one second boundary');
    assert.equal(rec.flow.end, '2004-04-21T10:00:01.100100+0000');
  });

  test('flowHeader names the protocol, the app protocol once known, and no ports for other protocols', () => {
    const flow = new Flow();
    flow.proto = 47;
    flow.ipVersion = 6;
    flow.addr.set([0x20010db8, 0, 0, 1, 0x20010db8, 0, 0, 2]);
    flow.appProto = 'gre-thing';
    flow.clientPort = 1;
    assert.deepEqual(flowHeader(flow, 'anomaly', 1082541600, 123456789), {
      timestamp: '2004-04-21T10:00:00.123456+0000',
      flow_id: 0,
      event_type: 'anomaly',
      src_ip: '2001:db8::1',
      dest_ip: '2001:db8::2',
      ip_v: 6,
      proto: '47',
      app_proto: 'gre-thing',
    });
    assert.deepEqual([1, 6, 17, 58, 132].map(eveProto), ['ICMP', 'TCP', 'UDP', 'IPv6-ICMP', '132']);
  });

  test('timestamps stay exact to the microsecond over thousands of crafted frames', () => {
    const cap = capture();
    const udp = new UdpFlow(cap, '10.0.0.1:1', '10.0.0.2:2');
    for (let i = 0; i < 5000; i++) udp.send('client', 'x');
    cap.wait(0.000001);
    udp.send('client', 'last');
    const h = new FlowHarness().feed(cap).finish();
    assert.equal(h.record(h.only()).flow.end, '2004-04-21T10:00:00.500001+0000');
  });

  test('alerted is carried as set by later stages', () => {
    const cap = capture();
    new UdpFlow(cap, '10.0.0.1:1', '10.0.0.2:2').send('client', 'x');
    const h = new FlowHarness().feed(cap);
    h.only().alerted = true;
    h.finish();
    assert.equal(h.record(h.only()).flow.alerted, true);
  });
});
