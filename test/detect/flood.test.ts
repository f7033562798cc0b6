import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openByteSource, readCapture } from '../../src/capture/index.js';
import { IpProto, Packet, TcpFlag } from '../../src/decode/packet.js';
import { createFloodDetector, FLOOD_DEFAULTS, looksRandom } from '../../src/detect/flood.js';
import type { FloodEvent } from '../../src/events/behaviour.js';
import type { EveEvent } from '../../src/events/types.js';
import { createProtocols } from '../../src/protocols/index.js';
import { Pipeline } from '../../src/sensor/pipeline.js';
import { SynthCapture, TcpConnection, UdpFlow } from '../../src/synth/traffic.js';
import { replayFrames, shared } from '../helpers.js';
import { homeNet, ofType } from './harness.js';

/** Runs crafted frames through the whole sensor (flood detector only), with the DNS analyzer writing `dnsVersion` records. */
function run(cap: SynthCapture, flood: Record<string, number | boolean | readonly number[]> = {}, dnsVersion: 2 | 3 = 2): { events: EveEvent[]; floods: FloodEvent[]; counters: Record<string, number> } {
  const events: EveEvent[] = [];
  const off = { enabled: false };
  const pipeline = new Pipeline((e) => events.push(e), {
    flow: { idSalt: 1 },
    app: { protocols: createProtocols(undefined, { dnsVersion }) },
    behaviour: { home: homeNet(), detectors: { scan: off, ircbot: off, backdoor: off, pct: off, flood }, correlate: false },
  });
  replayFrames(cap, pipeline.frame);
  pipeline.finish();
  return { events, floods: ofType(events, 'flood'), counters: pipeline.behaviour!.counters() };
}

/** Runs a capture file through the whole sensor with every detector, HOME_NET as given. */
async function runFile(path: string, home: string): Promise<FloodEvent[]> {
  const events: EveEvent[] = [];
  const pipeline = new Pipeline((e) => events.push(e), { app: { protocols: createProtocols() }, behaviour: { home: homeNet(home), correlate: false } });
  await readCapture(await openByteSource(path), pipeline.frame);
  pipeline.finish();
  return ofType(events, 'flood');
}

/** A DNS message with one question; a response carries `rcode` and, when asked, `pad` bytes of TXT answer. */
function dnsMessage(id: number, name: string, o: { response?: boolean; rcode?: number; qtype?: number; pad?: number } = {}): Buffer {
  const qname = Buffer.concat([...name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(o.response ? 0x8180 | (o.rcode ?? 0) : 0x0100, 2);
  head.writeUInt16BE(1, 4);
  const question = Buffer.concat([qname, Buffer.from([0, o.qtype ?? 1, 0, 1])]);
  if (!o.response || o.pad === undefined) return Buffer.concat([head, question]);
  // TXT answers of up to 255 bytes each: the padding an ANY response carries.
  const answers: Buffer[] = [];
  let left = o.pad;
  while (left > 0) {
    const n = Math.min(255, left);
    const rr = Buffer.alloc(12 + 1 + n, 0x61);
    rr.writeUInt16BE(0xc00c, 0);
    rr.writeUInt16BE(16, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(300, 6);
    rr.writeUInt16BE(n + 1, 10);
    rr[12] = n;
    answers.push(rr);
    left -= n;
  }
  head.writeUInt16BE(answers.length, 6);
  return Buffer.concat([head, question, ...answers]);
}

/** A deterministic pseudo-random stream (xorshift), so crafted traffic is the same every run. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

function randomLabel(next: () => number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < 8; i++) s += alphabet[next() % alphabet.length];
  return s;
}

/** A bot's water torture: one internal host sends `qps` queries a second for `seconds` to an outside resolver, random labels under victim.example, each answered NXDOMAIN. */
function waterTorture(qps: number, seconds: number): SynthCapture {
  const cap = new SynthCapture(null);
  const next = prng(7);
  const step = 1 / qps;
  for (let i = 0; i < qps * seconds; i++) {
    const flow = new UdpFlow(cap, `192.168.1.10:${20000 + (i % 20000)}`, '198.51.100.53:53');
    const name = `${randomLabel(next)}.victim.example`;
    flow.send('client', dnsMessage(i & 0xffff, name));
    flow.send('server', dnsMessage(i & 0xffff, name, { response: true, rcode: 3 }));
    cap.wait(step - 0.0002);
  }
  return cap;
}

/** A packet crafted in place and handed straight to the detector, as the pipeline hands its reused Packet. */
function synPacket(p: Packet, src: number, dst: number, port: number, time: number): Packet {
  p.ipVersion = 4;
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
  p.srcPort = 1024 + (src & 0xffff) % 60000;
  p.dstPort = port;
  p.ipTotalLen = 40;
  p.tsSec = Math.floor(time);
  p.tsNsec = Math.round((time - Math.floor(time)) * 1e9);
  return p;
}

const V4 = (a: number, b: number, c: number, d: number): number => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

describe('flood detector', () => {
  test('corpus: the spoofed SYN flood at 10.10.10.10:25565 is exactly one inbound SYN flood', async (t) => {
    const path = shared(t, 'corpus', 'dos', 'pkt.TCP.synflood.spoofed.pcap');
    if (path === null) return;
    // tshark: 37841 SYNs, all to 10.10.10.10:25565, from 37623 distinct (spoofed, public) sources,
    // none answered; a 4 s burst, a 9 s pause, then ~80/s for 10 s. HOME_NET is the target's /8.
    const floods = await runFile(path, '10.0.0.0/8');
    assert.equal(floods.length, 1, JSON.stringify(floods.map((f) => f.flood)));
    const f = floods[0]!;
    assert.equal(f.flood.kind, 'syn');
    assert.equal(f.flood.direction, 'inbound');
    assert.deepEqual([f.flood.target, f.flood.target_port, f.dest_ip, f.dest_port, f.proto], ['10.10.10.10', 25565, '10.10.10.10', 25565, 'TCP']);
    assert.ok(f.flood.packets >= 37000 && f.flood.packets <= 37841, `packets ${f.flood.packets}`);
    assert.equal(f.flood.bytes, f.flood.packets * 40, 'bare 40-byte SYNs');
    assert.ok(f.flood.source_count > 33000 && f.flood.source_count < 41000, `source_count ${f.flood.source_count}`);
    assert.equal(f.flood.sources.length, 16);
    assert.equal(f.src_ip, f.flood.sources[0]);
    assert.equal(f.flood.answered, 0);
    assert.ok(f.flood.rate > 1000, `rate ${f.flood.rate}`);
    assert.equal(f.flood.start, '2021-04-28T10:30:21.099510+0000');
    assert.equal(f.timestamp, f.flood.start);
  });

  test('corpus: dosattack.pcap (100 SYNs, each from a random source to a random host and port in 16 ms) floods no one target', async (t) => {
    const path = shared(t, 'corpus', 'dos', 'dosattack.pcap');
    if (path === null) return;
    // tshark: 100 distinct destinations, one SYN each: spoofed noise, not a flood of any target.
    assert.deepEqual(await runFile(path, '192.168.0.0/16'), []);
  });

  test('the same spoofed SYN flood with its target outside HOME_NET is external', async (t) => {
    const path = shared(t, 'corpus', 'dos', 'pkt.TCP.synflood.spoofed.pcap');
    if (path === null) return;
    const floods = await runFile(path, '192.168.0.0/16');
    assert.deepEqual(floods.map((f) => [f.flood.kind, f.flood.direction]), [['syn', 'external']]);
  });

  for (const version of [2, 3] as const) {
    test(`a bot's random-subdomain DNS flood at an outside resolver, answered NXDOMAIN, is one outbound DNS flood (dns v${version} records)`, () => {
      const { floods } = run(waterTorture(200, 3), {}, version);
      assert.equal(floods.length, 1, JSON.stringify(floods.map((f) => f.flood)));
      const f = floods[0]!;
      assert.equal(f.flood.kind, 'dns');
      assert.equal(f.flood.direction, 'outbound');
      assert.deepEqual([f.src_ip, f.dest_ip, f.dest_port, f.proto], ['192.168.1.10', '198.51.100.53', 53, 'UDP']);
      assert.deepEqual([f.flood.target, f.flood.target_port, f.flood.source_count, f.flood.sources], ['198.51.100.53', 53, 1, ['192.168.1.10']]);
      const d = f.flood.dns!;
      assert.equal(d.queries, 600);
      assert.equal(f.flood.packets, 600);
      assert.ok(Math.abs(d.distinct_names - 600) < 60, `distinct_names ${d.distinct_names}`);
      assert.equal(d.random_subdomain, true);
      assert.equal(d.zone, 'victim.example');
      assert.equal(d.nxdomain_ratio, 1);
      assert.equal(f.flood.answered, 600);
      assert.ok(f.flood.rate > 150 && f.flood.rate < 250, `rate ${f.flood.rate}`);
    });
  }

  test('NXDOMAIN answers alone give the shape: repeated names all answered NXDOMAIN are a DNS flood; random labels without the rate are not', () => {
    const cap = new SynthCapture(null);
    for (let i = 0; i < 600; i++) {
      const flow = new UdpFlow(cap, `192.168.1.10:${30000 + i}`, '198.51.100.53:53');
      flow.send('client', dnsMessage(i, 'no-such-host.example.org'));
      flow.send('server', dnsMessage(i, 'no-such-host.example.org', { response: true, rcode: 3 }));
      cap.wait(0.005 - 0.0002);
    }
    const { floods } = run(cap);
    assert.equal(floods.length, 1);
    assert.equal(floods[0]!.flood.dns!.random_subdomain, false);
    assert.equal(floods[0]!.flood.dns!.nxdomain_ratio, 1);
    assert.equal(floods[0]!.flood.dns!.zone, undefined);
    // 20 queries a second (below dns-shaped-rate 50) are not a flood, whatever their shape.
    assert.deepEqual(run(waterTorture(20, 3)).floods, []);
  });

  test('a busy but ordinary DNS server (50 clients, popular names, answered) is not a flood, even with a low UDP rate threshold', () => {
    const cap = new SynthCapture(null);
    const names = Array.from({ length: 20 }, (_, i) => `www.site${i}.example`);
    for (let i = 0; i < 1200; i++) {
      const flow = new UdpFlow(cap, `192.168.2.${1 + (i % 50)}:${40000 + i}`, '192.168.1.53:53');
      const name = names[i % names.length]!;
      flow.send('client', dnsMessage(i, name));
      flow.send('server', dnsMessage(i, name, { response: true, rcode: i % 10 === 0 ? 3 : 0 }));
      cap.wait(1 / 400 - 0.0002);
    }
    const { floods, counters } = run(cap, { 'udp-rate': 100 });
    assert.ok(counters['flood.dns_records']! >= 2400, 'the detector did see the DNS records');
    assert.deepEqual(floods, []);
    // The same traffic is a flood once its rate is over dns-rate: the records are judged.
    assert.equal(run(cap, { 'dns-rate': 100 }).floods.length, 1);
  });

  test('a busy web server (300 connections a second from 100 clients, every handshake completed) is not a SYN flood', () => {
    const cap = new SynthCapture(null);
    for (let i = 0; i < 900; i++) {
      new TcpConnection(cap, `198.18.${i % 100}.7:${20000 + i}`, '192.168.1.80:80').handshake().send('client', 'GET / HTTP/1.1\r\nHost: a\r\n\r\n').close();
      cap.wait(1 / 300 - 0.0008);
    }
    const { floods, counters } = run(cap);
    assert.equal(counters['flood.syn'], 900);
    assert.deepEqual(floods, []);
  });

  test('the same SYN rate left unanswered is an inbound SYN flood from many sources', () => {
    const cap = new SynthCapture(null);
    for (let i = 0; i < 900; i++) {
      new TcpConnection(cap, `198.18.${i % 100}.7:${20000 + i}`, '192.168.1.80:80').packet('client', { seq: 1, flags: 'S' }, new Uint8Array(0));
      cap.wait(1 / 300 - 0.0001);
    }
    const { floods } = run(cap, {}, 2);
    assert.equal(floods.length, 1);
    const f = floods[0]!.flood;
    assert.deepEqual([f.kind, f.direction, f.target, f.target_port, f.packets, f.answered], ['syn', 'inbound', '192.168.1.80', 80, 900, 0]);
    assert.ok(Math.abs(f.source_count - 100) <= 10, `source_count ${f.source_count} for 100 sources`);
  });

  test('a UDP flood at one host (no replies) is one inbound UDP flood; packets and bytes are counted', () => {
    const cap = new SynthCapture(null);
    const payload = Buffer.alloc(512, 0x41);
    for (let i = 0; i < 15000; i++) new UdpFlow(cap, `203.0.113.9:${1024 + (i % 16)}`, '192.168.1.20:7777').send('client', payload);
    const { floods } = run(cap);
    assert.equal(floods.length, 1, JSON.stringify(floods.map((f) => f.flood)));
    const f = floods[0]!;
    assert.deepEqual([f.flood.kind, f.flood.direction, f.flood.target, f.flood.target_port, f.flood.sources, f.flood.answered], ['udp', 'inbound', '192.168.1.20', 7777, ['203.0.113.9'], 0]);
    assert.equal(f.flood.packets, 15000);
    assert.equal(f.flood.bytes, 15000 * (20 + 8 + 512));
    assert.ok(f.flood.rate > 9000, `rate ${f.flood.rate}`);
  });

  test('a long flood is one event across windows; after a pause longer than quiet-windows a new flood is a second event', () => {
    const cap = new SynthCapture(null);
    const burst = (seconds: number): void => {
      for (let i = 0; i < seconds * 100; i++) {
        new UdpFlow(cap, '192.168.1.66:5000', '198.51.100.20:9999').send('client', 'x'.repeat(64));
        cap.wait(0.01 - 0.0001);
      }
    };
    // 36 s (windows of 10 s from 1082541600: four of them), a 34 s pause (three windows), 5 s more.
    burst(36);
    cap.wait(34);
    burst(5);
    const { floods } = run(cap, { 'udp-rate': 50 });
    assert.equal(floods.length, 2, JSON.stringify(floods.map((f) => f.flood)));
    const [a, b] = [floods[0]!.flood, floods[1]!.flood];
    assert.deepEqual([a.kind, a.direction, a.packets, a.windows], ['udp', 'outbound', 3600, 4]);
    assert.ok(a.duration > 35 && a.duration < 36.5, `duration ${a.duration}`);
    assert.ok(Math.abs(a.rate - 100) < 5, `rate ${a.rate}`);
    assert.deepEqual([b.packets, b.windows], [500, 1]);
    assert.ok(b.start > a.end);
  });

  test('DNS amplification through an open resolver inside: one outbound amplification at the spoofed victim, with the byte ratio', () => {
    const cap = new SynthCapture(null);
    for (let i = 0; i < 300; i++) {
      const flow = new UdpFlow(cap, `203.0.113.50:${10000 + i}`, '192.168.1.53:53');
      flow.send('client', dnsMessage(i, 'example.org', { qtype: 255 }));
      flow.send('server', dnsMessage(i, 'example.org', { response: true, qtype: 255, pad: 1300 }));
      cap.wait(0.01 - 0.0002);
    }
    const { floods } = run(cap);
    assert.equal(floods.length, 1, JSON.stringify(floods.map((f) => f.flood)));
    const f = floods[0]!;
    assert.equal(f.flood.kind, 'amplification');
    assert.equal(f.flood.direction, 'outbound', 'our reflector sends the flood out');
    assert.deepEqual([f.src_ip, f.dest_ip, f.flood.target, f.flood.target_port, f.flood.sources], ['192.168.1.53', '203.0.113.50', '203.0.113.50', 53, ['192.168.1.53']]);
    const a = f.flood.amplification!;
    // Requests are counted once the victim is followed, from the first response on: 299 of 300.
    assert.equal(a.request_bytes, 299 * (20 + 8 + 12 + 13 + 4));
    assert.ok(a.response_bytes > 300 * 1300, `response_bytes ${a.response_bytes}`);
    assert.equal(a.ratio, Math.round((a.response_bytes / a.request_bytes) * 100) / 100);
    assert.ok(a.ratio > 20, `ratio ${a.ratio}`);
    assert.equal(f.flood.packets, 300);
  });

  test('NTP monlist-shaped responses from three reflectors at a HOME_NET host are inbound amplification (requests unseen: ratio 0)', () => {
    const cap = new SynthCapture(null);
    const reflectors = ['198.51.100.1', '198.51.100.2', '198.51.100.3'];
    const monlist = Buffer.alloc(440, 0);
    monlist[0] = 0xd7;
    monlist[3] = 0x2a;
    for (let i = 0; i < 1200; i++) {
      new UdpFlow(cap, `${reflectors[i % 3]}:123`, '192.168.1.30:47000').send('client', monlist);
      cap.wait(0.0025 - 0.0001);
    }
    const { floods } = run(cap);
    assert.equal(floods.length, 1, JSON.stringify(floods.map((f) => f.flood)));
    const f = floods[0]!.flood;
    assert.deepEqual([f.kind, f.direction, f.target, f.target_port, f.source_count, f.sources], ['amplification', 'inbound', '192.168.1.30', 123, 3, reflectors]);
    assert.deepEqual(f.amplification, { request_bytes: 0, response_bytes: 1200 * 468, ratio: 0 });
  });

  test('ordinary NTP (48-byte request, 48-byte answer) is not amplification', () => {
    const cap = new SynthCapture(null);
    for (let i = 0; i < 3000; i++) {
      const flow = new UdpFlow(cap, `192.168.3.${1 + (i % 200)}:123`, '192.168.1.123:123');
      flow.send('client', Buffer.alloc(48, 0x23)).send('server', Buffer.alloc(48, 0x24));
    }
    assert.deepEqual(run(cap, { 'amplification-byte-rate': 1000 }).floods, []);
  });

  test('bounded state: a SYN flood from a million spoofed sources holds one target entry and is one flood', () => {
    const events: EveEvent[] = [];
    const d = createFloodDetector({ emit: (e) => events.push(e), home: homeNet() }, FLOOD_DEFAULTS);
    const p = new Packet();
    const next = prng(99);
    const target = V4(192, 168, 1, 10);
    let most = 0;
    for (let i = 0; i < 1_000_000; i++) {
      d.packet!(synPacket(p, next(), target, 80, 1082541600 + i / 50_000), null, 0);
      if ((i & 0xffff) === 0) most = Math.max(most, d.counters.targets!);
    }
    d.finish!();
    assert.ok(most <= 1, `targets held ${most}`);
    const floods = ofType(events, 'flood');
    assert.equal(floods.length, 1);
    const f = floods[0]!.flood;
    assert.equal(f.packets, 1_000_000);
    assert.equal(f.windows, 2);
    assert.equal(f.sources.length, 16);
    // The sketch's standard error is 6.5%; the traffic is the same every run, so this is not flaky.
    assert.ok(f.source_count > 800_000 && f.source_count < 1_200_000, `source_count ${f.source_count}`);
    assert.equal(d.counters.floods, 0);
    assert.equal(d.counters.evicted_targets, 0);
  });

  test('bounded state: a million spoofed targets stay under max-targets, evictions are counted, and the real flood among them is still found', () => {
    const events: EveEvent[] = [];
    const d = createFloodDetector({ emit: (e) => events.push(e), home: homeNet() }, { ...FLOOD_DEFAULTS, 'max-targets': 1000 });
    const p = new Packet();
    const next = prng(5);
    const victim = V4(192, 168, 1, 10);
    let most = 0;
    for (let i = 0; i < 1_000_000; i++) {
      const toVictim = i % 10 === 0;
      d.packet!(synPacket(p, next(), toVictim ? victim : next(), toVictim ? 80 : next() & 0xffff, 1082541600 + i / 100_000), null, 0);
      most = Math.max(most, d.counters.targets!);
    }
    d.finish!();
    assert.ok(most <= 1000, `targets held ${most}`);
    assert.ok(d.counters.evicted_targets! > 800_000, `evicted ${d.counters.evicted_targets}`);
    const floods = ofType(events, 'flood');
    assert.deepEqual(floods.map((f) => [f.flood.target, f.flood.target_port, f.flood.packets]), [['192.168.1.10', 80, 100_000]]);
  });

  test('open floods are capped: past max-floods the oldest is written early and counted', () => {
    const events: EveEvent[] = [];
    const d = createFloodDetector({ emit: (e) => events.push(e), home: homeNet() }, { ...FLOOD_DEFAULTS, 'max-floods': 2, 'syn-rate': 1 });
    const p = new Packet();
    for (let k = 0; k < 5; k++) for (let i = 0; i < 20; i++) d.packet!(synPacket(p, V4(203, 0, 113, i), V4(192, 168, 9, k), 80, 1082541600 + k * 0.1 + i * 0.001), null, 0);
    d.tick!(1082541610);
    assert.equal(d.counters.evicted_floods, 3);
    assert.ok(d.counters.floods! <= 2);
    d.finish!();
    assert.equal(ofType(events, 'flood').length, 5);
  });

  test('IPv6 targets are tracked and written in IPv6 text', () => {
    const cap = new SynthCapture(null);
    for (let i = 0; i < 2000; i++) new TcpConnection(cap, `[2001:db8:1::${(i % 500).toString(16)}]:${30000 + i}`, '[2001:db8::80]:443').packet('client', { seq: 1, flags: 'S' }, new Uint8Array(0));
    const { floods } = run(cap);
    assert.equal(floods.length, 1);
    assert.deepEqual([floods[0]!.flood.target, floods[0]!.ip_v, floods[0]!.flood.direction], ['2001:db8::80', 6, 'external']);
    assert.ok(Math.abs(floods[0]!.flood.source_count - 500) <= 50, `source_count ${floods[0]!.flood.source_count} for 500 sources`);
  });

  test('hostile records and packets never throw out of a hook', () => {
    const d = createFloodDetector({ emit: () => undefined, home: homeNet() }, FLOOD_DEFAULTS);
    const bad: unknown[] = [
      { event_type: 'dns', timestamp: '', dns: null },
      { event_type: 'dns', timestamp: '', dest_ip: 'not-an-address', dns: { type: 'query', rrname: 'a.b.c' } },
      { event_type: 'dns', timestamp: '', dest_ip: '10.0.0.1', dns: { type: 'query', rrname: 42 } },
      { event_type: 'dns', timestamp: '', dest_ip: '10.0.0.1', dns: { type: 'request', queries: 'nope' } },
      { event_type: 'dns', timestamp: '', dest_ip: '10.0.0.1', dns: { type: 'request', queries: [null, 7, { rrname: 'x'.repeat(5000) + '.a.b' }] } },
      { event_type: 'dns', timestamp: '', dest_ip: { toString: 1 }, dns: { type: 'answer', rcode: 'NXDOMAIN' } },
      { event_type: 'dns', timestamp: '', dest_ip: '2001:db8::53', dns: { type: 'response', rcode: null } },
    ];
    for (const ev of bad) assert.doesNotThrow(() => d.record!(ev as EveEvent));
    const p = new Packet();
    p.ipVersion = 4;
    p.proto = IpProto.UDP;
    p.tsSec = 2 ** 40;
    p.dstPort = 70000;
    assert.doesNotThrow(() => d.packet!(p, null, 0));
    p.tsSec = -5;
    assert.doesNotThrow(() => d.packet!(p, null, 1));
    assert.doesNotThrow(() => d.tick!(Number.NaN));
    assert.doesNotThrow(() => d.finish!());
    assert.equal(d.counters.errors, 0);
  });

  test('random-looking labels: machine-made yes, words and short names no', () => {
    for (const l of ['a8f3k2', 'x7kq9zpw', 'qzxvbnmt', '3f2a9c1e7d']) assert.equal(looksRandom(l), true, l);
    for (const l of ['www', 'mail', 'images', 'download', 'a8f3k', 'x'.repeat(64)]) assert.equal(looksRandom(l), false, l);
  });

  test('the detector can be switched off', () => {
    assert.deepEqual(run(waterTorture(200, 3), { enabled: false }).floods, []);
  });
});
