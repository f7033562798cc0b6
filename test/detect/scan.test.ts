import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openByteSource, readCapture } from '../../src/capture/index.js';
import { IpProto, Layer, Packet, TcpFlag } from '../../src/decode/packet.js';
import { createScanDetector, SCAN_DEFAULTS, shapeOf } from '../../src/detect/scan.js';
import type { ScanEvent } from '../../src/events/behaviour.js';
import type { EveEvent } from '../../src/events/types.js';
import { Flow } from '../../src/flow/flow.js';
import { createProtocols } from '../../src/protocols/index.js';
import { Pipeline } from '../../src/sensor/pipeline.js';
import { ipv4 } from '../../src/synth/headers.js';
import { ping, SynthCapture, TcpConnection, UdpFlow } from '../../src/synth/traffic.js';
import { textToWords } from '../../src/wire/address.js';
import { replayFrames, shared } from '../helpers.js';
import { homeNet, ofType, runBehaviour } from './harness.js';

const HOME = '192.168.0.0/16,10.0.0.0/8,172.16.0.0/12';

/** Crafted traffic through the whole sensor with only the scan detector (options over its defaults). */
function scans(craft: (cap: SynthCapture) => void, options: Partial<typeof SCAN_DEFAULTS> = {}, home = HOME): { scans: ScanEvent[]; counters: Record<string, number> } {
  const cap = new SynthCapture(null);
  craft(cap);
  const { events, pipeline } = runBehaviour(cap, { home, correlate: false, detectors: { scan: options, flood: { enabled: false }, ircbot: { enabled: false }, backdoor: { enabled: false }, pct: { enabled: false } } });
  return { scans: ofType(events, 'scan') as ScanEvent[], counters: pipeline.behaviour!.counters() };
}

/** A capture from the corpus through the whole sensor; the scan records. */
async function corpusScans(path: string): Promise<ScanEvent[]> {
  const events: EveEvent[] = [];
  const pipeline = new Pipeline((e) => events.push(e), { app: { protocols: createProtocols() }, behaviour: { home: homeNet(HOME), correlate: false } });
  await readCapture(await openByteSource(path), pipeline.frame);
  pipeline.finish();
  return ofType(events, 'scan') as ScanEvent[];
}

/** One TCP probe with the given flags; the target answers `answer` (flag letters) or stays silent (null). */
function tcpProbe(cap: SynthCapture, src: string, dst: string, flags: string, answer: string | null, sport = 40000): void {
  const c = new TcpConnection(cap, src.includes(':') ? `[${src}]:${sport}` : `${src}:${sport}`, dst, { clientIsn: 7000 });
  c.packet('client', { seq: 7000, flags }, new Uint8Array(0));
  if (answer !== null) c.packet('server', { seq: answer.includes('S') ? 9000 : 0, ack: 7001, flags: answer }, new Uint8Array(0));
}

/** A connection a client makes that the server answers: handshake, a request, a reply, close. */
function answered(cap: SynthCapture, client: string, server: string): void {
  const c = new TcpConnection(cap, client, server);
  c.handshake().send('client', 'GET / HTTP/1.1\r\nHost: example\r\n\r\n').send('server', 'HTTP/1.1 204 No Content\r\n\r\n').close();
}

test('synscan.pcap: exactly one vertical SYN scan from 172.16.0.8 of a thousand ports', async (t) => {
  const path = shared(t, 'corpus', 'scans', 'synscan.pcap');
  if (path === null) return;
  const found = await corpusScans(path);
  assert.equal(found.length, 1, JSON.stringify(found.map((e) => e.scan)));
  const s = found[0]!.scan;
  assert.equal(found[0]!.src_ip, '172.16.0.8');
  assert.equal(s.scanner, '172.16.0.8');
  assert.equal(s.shape, 'vertical');
  assert.equal(s.kind, 'syn');
  assert.equal(s.target_count, 1);
  assert.deepEqual(s.targets, ['64.13.134.52']);
  assert.equal(found[0]!.dest_ip, '64.13.134.52');
  assert.equal(s.port_count, 1000);
  assert.equal(s.ports.length, 32);
  assert.equal(s.direction, 'outbound');
  assert.equal(s.slow, false);
  // 22, 53 and 80 answered SYN-ACK (each retransmitted); the rest were closed (RST) or filtered.
  assert.equal(s.open, 3);
  // nmap probed most ports twice, the second time from another source port (a new conversation).
  assert.equal(s.probes, 1994);
  // Packet time to the microsecond, as tcpdump shows the first and last probes.
  assert.equal(found[0]!.timestamp, '2010-07-04T20:24:16.274870+0000');
  assert.equal(s.start, found[0]!.timestamp);
  assert.equal(s.end, '2010-07-04T20:24:21.416441+0000');
  assert.ok(s.rate > 1, `rate ${s.rate}`);
});

test('tcp_0_1000 (masscan, ports 0-1000): exactly one vertical scan of all 1001 ports', async (t) => {
  const path = shared(t, 'corpus', 'scans', 'tcp_0_1000_20190821.pcap');
  if (path === null) return;
  const found = await corpusScans(path);
  assert.equal(found.length, 1, JSON.stringify(found.map((e) => e.scan)));
  const s = found[0]!.scan;
  assert.equal(s.scanner, '172.31.15.102');
  assert.equal(s.shape, 'vertical');
  assert.equal(s.kind, 'syn');
  assert.deepEqual(s.targets, ['198.124.152.15']);
  assert.equal(s.port_count, 1001);
  assert.equal(s.probes, 1001);
  assert.equal(s.open, 0);
  assert.equal(s.direction, 'outbound');
  assert.equal(s.start, '2019-08-21T18:16:47.841604+0000');
  assert.equal(s.end, '2019-08-21T18:16:57.888982+0000');
});

test('portscan.pcap: one internal vertical SYN scan of 29 ports, none answered', async (t) => {
  const path = shared(t, 'corpus', 'scans', 'portscan.pcap');
  if (path === null) return;
  const found = await corpusScans(path);
  assert.equal(found.length, 1);
  const s = found[0]!.scan;
  assert.equal(s.scanner, '10.100.25.14');
  assert.deepEqual(s.targets, ['10.100.18.12']);
  assert.equal(s.shape, 'vertical');
  assert.equal(s.kind, 'syn');
  assert.equal(s.port_count, 29);
  assert.deepEqual(s.ports.slice(0, 5), [139, 135, 445, 80, 22]);
  assert.equal(s.open, 0);
  assert.equal(s.direction, 'internal');
});

test('nmap -p 80 runs (two ports on one host, most connections answered) and one VNC client are not scans', async (t) => {
  for (const name of ['nmap_80_vanilla.pcap', 'nmap_80_all.pcap', 'nmap_80_w_service_detection.pcap', 'vnc-scanner.pcap']) {
    const path = shared(t, 'corpus', 'scans', name);
    if (path === null) return;
    const found = await corpusScans(path);
    assert.deepEqual(
      found.map((e) => e.scan),
      [],
      name,
    );
  }
});

test('vertical SYN scan: closed ports answer RST, one event with the ports in probe order', () => {
  const { scans: found } = scans((cap) => {
    for (let port = 1; port <= 40; port++) tcpProbe(cap, '203.0.113.9', `192.168.1.5:${port}`, 'S', port === 22 ? 'SA' : 'RA');
  });
  assert.equal(found.length, 1);
  const s = found[0]!.scan;
  assert.equal(s.shape, 'vertical');
  assert.equal(s.kind, 'syn');
  assert.equal(s.direction, 'inbound');
  assert.equal(s.port_count, 40);
  assert.equal(s.probes, 40);
  assert.equal(s.open, 1);
  assert.deepEqual(s.ports.slice(0, 3), [1, 2, 3]);
  assert.equal(found[0]!.proto, 'TCP');
});

test('horizontal scan: one port across many hosts, unanswered', () => {
  const { scans: found } = scans((cap) => {
    for (let h = 1; h <= 60; h++) tcpProbe(cap, '10.1.1.1', `198.51.100.${h}:445`, 'S', null);
  });
  assert.equal(found.length, 1);
  const s = found[0]!.scan;
  assert.equal(s.shape, 'horizontal');
  assert.equal(s.direction, 'outbound');
  assert.equal(s.target_count, 60);
  assert.equal(s.targets.length, 16);
  assert.deepEqual(s.ports, [445]);
  assert.equal(found[0]!.dest_port, 445);
  assert.equal(found[0]!.dest_ip, undefined);
});

test('block scan: many ports across many hosts', () => {
  const { scans: found } = scans((cap) => {
    for (let h = 1; h <= 30; h++) for (let port = 20; port < 40; port++) tcpProbe(cap, '198.51.100.7', `10.0.5.${h}:${port}`, 'S', 'RA');
  });
  assert.equal(found.length, 1);
  assert.equal(found[0]!.scan.shape, 'block');
  assert.equal(found[0]!.scan.target_count, 30);
  assert.equal(found[0]!.scan.port_count, 20);
  assert.equal(found[0]!.scan.probes, 600);
});

test('FIN, NULL, XMAS and ACK scans are told apart by their flags', () => {
  const kinds: Array<[string, string]> = [
    ['F', 'fin'],
    ['', 'null'],
    ['FPU', 'xmas'],
    ['A', 'ack'],
  ];
  for (const [flags, kind] of kinds) {
    const { scans: found } = scans((cap) => {
      for (let port = 1000; port < 1030; port++) tcpProbe(cap, '203.0.113.50', `192.168.7.7:${port}`, flags, port % 2 === 0 ? 'R' : null);
    });
    assert.equal(found.length, 1, kind);
    assert.equal(found[0]!.scan.kind, kind);
    assert.equal(found[0]!.scan.shape, 'vertical');
    assert.equal(found[0]!.scan.open, 0);
  }
});

test('connect scan: open ports get full handshakes then a close', () => {
  const { scans: found } = scans((cap) => {
    for (let port = 1; port <= 30; port++) {
      if (port % 5 === 0) {
        const c = new TcpConnection(cap, `10.9.9.9:${50000 + port}`, `10.9.9.10:${port}`);
        c.handshake().reset('client');
      } else tcpProbe(cap, '10.9.9.9', `10.9.9.10:${port}`, 'S', 'RA', 50000 + port);
    }
  });
  assert.equal(found.length, 1);
  assert.equal(found[0]!.scan.kind, 'connect');
  assert.equal(found[0]!.scan.open, 6);
  assert.equal(found[0]!.scan.direction, 'internal');
});

test('UDP scan: ports that answer are open, the rest silent', () => {
  const { scans: found } = scans((cap) => {
    for (let port = 100; port < 130; port++) {
      const u = new UdpFlow(cap, '203.0.113.77:53000', `192.168.3.3:${port}`).send('client', 'x');
      if (port === 123) u.send('server', 'y');
    }
  });
  assert.equal(found.length, 1);
  const s = found[0]!.scan;
  assert.equal(s.kind, 'udp');
  assert.equal(s.port_count, 30);
  assert.equal(s.open, 1);
  assert.equal(found[0]!.proto, 'UDP');
});

test('ICMP echo sweep: horizontal, no ports', () => {
  const { scans: found } = scans((cap) => {
    for (let h = 1; h <= 40; h++) ping(cap, '203.0.113.3', `192.168.50.${h}`, 77, h, h <= 5);
  });
  assert.equal(found.length, 1);
  const s = found[0]!.scan;
  assert.equal(s.kind, 'icmp');
  assert.equal(s.shape, 'horizontal');
  assert.equal(s.port_count, 0);
  assert.deepEqual(s.ports, []);
  assert.equal(s.target_count, 40);
  assert.equal(s.open, 5);
  assert.equal(found[0]!.proto, 'ICMP');
});

test('a TCP scan and a UDP scan by the same host are two records', () => {
  const { scans: found } = scans((cap) => {
    for (let port = 1; port <= 20; port++) {
      tcpProbe(cap, '203.0.113.8', `192.168.1.1:${port}`, 'S', 'RA');
      new UdpFlow(cap, '203.0.113.8:4000', `192.168.1.1:${port}`).send('client', 'x');
    }
  });
  assert.deepEqual(found.map((e) => e.scan.kind).sort(), ['syn', 'udp']);
});

test('IPv6 vertical scan', () => {
  const { scans: found } = scans((cap) => {
    for (let port = 1; port <= 20; port++) tcpProbe(cap, '2001:db8::66', `[2001:db8:1::5]:${port}`, 'S', 'RA');
  });
  assert.equal(found.length, 1);
  assert.equal(found[0]!.scan.scanner, '2001:db8::66');
  assert.deepEqual(found[0]!.scan.targets, ['2001:db8:1::5']);
  assert.equal(found[0]!.ip_v, 6);
  assert.equal(found[0]!.scan.direction, 'external');
});

test('a scan over many short windows is one record, written when it stops', () => {
  const { scans: found, counters } = scans((cap) => {
    // 20 new ports a minute for ten minutes, then ordinary answered traffic.
    for (let m = 0; m < 10; m++) {
      for (let i = 0; i < 20; i++) {
        tcpProbe(cap, '203.0.113.20', `192.168.2.2:${m * 20 + i + 1}`, 'S', 'RA');
        cap.wait(2.9);
      }
    }
    cap.wait(300);
    answered(cap, '203.0.113.20:50000', '192.168.2.2:80');
  });
  assert.equal(found.length, 1, JSON.stringify(found.map((e) => e.scan)));
  const s = found[0]!.scan;
  assert.equal(s.port_count, 200);
  assert.equal(s.probes, 200);
  assert.ok(s.duration > 500 && s.duration < 600, `duration ${s.duration}`);
  assert.ok(s.rate > 0.3 && s.rate < 0.4, `rate ${s.rate}`);
  assert.equal(counters['scan.scans'], 1);
});

test('a scan is written at the window boundary after it stops, before the capture ends', () => {
  const cap = new SynthCapture(null);
  for (let port = 1; port <= 30; port++) tcpProbe(cap, '203.0.113.21', `192.168.2.3:${port}`, 'S', 'RA');
  cap.wait(150);
  // Unrelated traffic moves packet time on.
  answered(cap, '192.168.9.9:50000', '192.168.9.10:80');
  const events: EveEvent[] = [];
  const pipeline = new Pipeline((e) => events.push(e), { flow: { idSalt: 1 }, app: { protocols: createProtocols() }, behaviour: { home: homeNet(HOME), correlate: false } });
  replayFrames(cap, pipeline.frame);
  assert.equal(ofType(events, 'scan').length, 1, 'reported on a window boundary, not only at finish');
  pipeline.finish();
  assert.equal(ofType(events, 'scan').length, 1, 'and not again at finish');
});

test('slow scan: too slow for the short window, found over the long one', () => {
  const { scans: found } = scans((cap) => {
    // One new port every 100 s for 40 ports: under 1 a minute.
    for (let port = 1; port <= 40; port++) {
      tcpProbe(cap, '203.0.113.30', `192.168.4.4:${port}`, 'S', 'RA');
      cap.wait(100);
    }
  });
  assert.equal(found.length, 1, JSON.stringify(found.map((e) => e.scan)));
  const s = found[0]!.scan;
  assert.equal(s.slow, true);
  assert.equal(s.shape, 'vertical');
  assert.ok(s.port_count >= 30, `port_count ${s.port_count}`);
});

test('a few probes a minute stay under both windows', () => {
  const { scans: found } = scans((cap) => {
    for (let port = 1; port <= 10; port++) {
      tcpProbe(cap, '203.0.113.31', `192.168.4.5:${port}`, 'S', 'RA');
      cap.wait(120);
    }
  });
  assert.deepEqual(found, []);
});

test('a browser opening many connections to one server is not a scan', () => {
  const { scans: found } = scans((cap) => {
    for (let i = 0; i < 80; i++) answered(cap, `192.168.1.20:${40000 + i}`, '93.184.216.34:443');
    // Some of them refused as well: still one host, one port.
    for (let i = 0; i < 40; i++) tcpProbe(cap, '192.168.1.20', '93.184.216.34:443', 'S', 'RA', 41000 + i);
  });
  assert.deepEqual(found, []);
});

test('a NAT gateway: many answered connections to many servers on 80 and 443 is not a scan', () => {
  const { scans: found } = scans((cap) => {
    for (let h = 1; h <= 120; h++) {
      answered(cap, `192.168.1.1:${30000 + h}`, `198.51.${h % 7}.${h}:${h % 2 === 0 ? 80 : 443}`);
      // A few servers are down.
      if (h % 10 === 0) tcpProbe(cap, '192.168.1.1', `203.0.113.${h}:443`, 'S', null, 31000 + h);
    }
  });
  assert.deepEqual(found, []);
});

test('the same probes, unanswered, are a scan: the failed share is what decides', () => {
  const { scans: found } = scans((cap) => {
    for (let h = 1; h <= 120; h++) tcpProbe(cap, '192.168.1.1', `198.51.${h % 7}.${h}:${h % 2 === 0 ? 80 : 443}`, 'S', h % 4 === 0 ? 'SA' : null, 30000 + h);
  });
  assert.equal(found.length, 1);
  assert.equal(found[0]!.scan.shape, 'horizontal');
  assert.deepEqual(found[0]!.scan.ports, [443, 80]);
  assert.equal(found[0]!.scan.open, 30);
});

test('thresholds come from options', () => {
  const craft = (cap: SynthCapture): void => {
    for (let port = 1; port <= 10; port++) tcpProbe(cap, '203.0.113.40', `192.168.1.9:${port}`, 'S', 'RA');
  };
  assert.equal(scans(craft).scans.length, 0);
  assert.equal(scans(craft, { 'short-ports': 10 }).scans.length, 1);
  assert.equal(scans(craft, { enabled: false, 'short-ports': 10 }).scans.length, 0);
});

test('server acknowledgements picked up mid-connection are not an ACK scan', () => {
  const { scans: found } = scans((cap) => {
    for (let i = 0; i < 60; i++) {
      const c = new TcpConnection(cap, `198.51.100.${i + 1}:${40000 + i}`, '192.168.1.80:443');
      c.packet('server', { seq: 1, ack: 1, flags: 'A' }, new Uint8Array(0));
    }
  });
  assert.deepEqual(found, []);
});

test('shapeOf: ports make it vertical, hosts horizontal, both block', () => {
  assert.equal(shapeOf(1, 100, 25, 15), 'vertical');
  assert.equal(shapeOf(100, 1, 25, 15), 'horizontal');
  assert.equal(shapeOf(100, 100, 25, 15), 'block');
});

/** A detector alone, with packets and flows made by hand (fast enough for a million sources). */
function bare(options: Partial<typeof SCAN_DEFAULTS> = {}): { det: ReturnType<typeof createScanDetector>; out: ScanEvent[] } {
  const out: ScanEvent[] = [];
  const det = createScanDetector({ emit: (e) => out.push(e as ScanEvent), home: homeNet(HOME) }, { ...SCAN_DEFAULTS, ...options });
  return { det, out };
}

function synPacket(p: Packet, flow: Flow, src: number, dst: number, dport: number, time: number): void {
  p.ipVersion = 4;
  p.layer = Layer.TRANSPORT;
  p.proto = IpProto.TCP;
  p.tcpFlags = TcpFlag.SYN;
  p.addr[0] = 0;
  p.addr[1] = 0;
  p.addr[2] = 0xffff;
  p.addr[3] = src >>> 0;
  p.addr[4] = 0;
  p.addr[5] = 0;
  p.addr[6] = 0xffff;
  p.addr[7] = dst >>> 0;
  p.srcPort = 40000;
  p.dstPort = dport;
  p.tsSec = Math.floor(time);
  p.tsNsec = Math.round((time - Math.floor(time)) * 1e9);
  flow.proto = IpProto.TCP;
  flow.addr.set(p.addr);
  flow.pktsToServer = 1;
  flow.pktsToClient = 0;
}

test('a million spoofed sources: state stays under its caps, what was dropped is counted', () => {
  const { det, out } = bare();
  const p = new Packet();
  const flow = new Flow();
  const target = new Uint32Array(8);
  textToWords('192.168.1.1', target, 0);
  const t0 = 1082541600;
  let maxSources = 0;
  for (let i = 0; i < 1_000_000; i++) {
    synPacket(p, flow, 0x0b000000 + i * 7, target[3]!, 80, t0 + i / 20000);
    det.packet!(p, flow, 0);
    if ((i & 1023) === 0) {
      det.tick!(p.tsSec);
      maxSources = Math.max(maxSources, det.counters.sources!);
    }
  }
  assert.ok(maxSources <= SCAN_DEFAULTS['max-sources'], `sources ${maxSources}`);
  assert.ok(det.counters.sources! <= SCAN_DEFAULTS['max-sources']);
  assert.ok(det.counters.evicted_sources! > 0, 'the cap was reached and counted');
  assert.ok(det.counters.keys! <= 2 * SCAN_DEFAULTS['max-sources']);
  assert.equal(det.counters.probes, 1_000_000);
  det.finish!();
  assert.equal(out.length, 0, 'one probe per source is no scan');
  assert.equal(det.counters.sources, 0);
  assert.equal(det.counters.keys, 0);
});

test('a scanner of every host and port keeps no more than its per-source and total caps', () => {
  const { det, out } = bare({ 'max-keys-per-source': 1000, 'max-keys': 1500, 'max-sources': 10 });
  const p = new Packet();
  const flow = new Flow();
  const t0 = 1082541600;
  for (let i = 0; i < 200_000; i++) {
    synPacket(p, flow, 0xcb007100 + (i % 3), 0x0a000000 + i, i & 0xffff, t0 + i / 10000);
    det.packet!(p, flow, 0);
    assert.ok(det.counters.keys! <= 1500 + 2 * 10);
  }
  assert.ok(det.counters.evicted_keys! > 0);
  det.finish!();
  // Three scanners, each a block scan; counts past the caps still grow with each new probe.
  assert.equal(out.length, 3);
  for (const e of out) {
    assert.equal(e.scan.shape, 'block');
    assert.ok(e.scan.target_count > 60000, `targets ${e.scan.target_count}`);
  }
});

test('hostile packets never throw out of the hooks', () => {
  const { det } = bare();
  const p = new Packet();
  const flow = new Flow();
  const b = ipv4({ src: '1.2.3.4', dst: '5.6.7.8', proto: 6 }, new Uint8Array(3));
  p.data = b;
  for (const proto of [-1, 0, 6, 17, 1, 58, 255]) {
    for (const frames of [0, 1, 3]) {
      p.proto = proto;
      p.frames = frames;
      p.tsSec = Number.NaN;
      p.tcpFlags = 0xff;
      flow.proto = proto;
      flow.pktsToServer = frames;
      flow.pktsToClient = 0;
      det.packet!(p, flow, 0);
      flow.pktsToClient = frames;
      det.packet!(p, flow, 1);
      det.packet!(p, null, 0);
    }
  }
  det.tick!(Number.NaN);
  det.tick!(1e12);
  det.finish!();
  assert.equal(det.counters.sources, 0);
  assert.equal(det.counters.errors, 0, 'handled, not swallowed: the hooks catch, so a throw would show here');
});

test('a scan straddling a window boundary is judged over both windows (28 ports at one a second, from :46)', () => {
  for (const offset of [0, 46]) {
    const found = scans((cap) => {
      cap.time = 1083319200 + offset;
      for (let port = 1; port <= 28; port++) {
        tcpProbe(cap, '203.0.113.9', `192.168.1.5:${port}`, 'S', null);
        cap.time += 1;
      }
    });
    assert.equal(found.scans.length, 1, `starting at :${offset}`);
    assert.equal(found.scans[0]!.scan.port_count, 28);
  }
});

test('a real scan survives a spoofed SYN flood filling the scanner table: one-probe sources go first', () => {
  const found = scans(
    (cap) => {
      cap.time = 1083319200;
      for (let port = 1; port <= 100; port++) tcpProbe(cap, '203.0.113.9', `192.168.1.5:${port}`, 'S', 'RA');
      for (let i = 0; i < 3000; i++) tcpProbe(cap, `198.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, '192.168.1.80:80', 'S', null, 1024 + (i % 60000));
    },
    { 'max-sources': 1000 },
  );
  assert.deepEqual(found.scans.map((s) => [s.scan.scanner, s.scan.port_count]), [['203.0.113.9', 100]]);
  assert.ok(found.counters['scan.evicted_sources']! >= 2000);
});
