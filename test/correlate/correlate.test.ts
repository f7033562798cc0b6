import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCorrelator, STAGE_TABLE } from '../../src/correlate/index.js';
import { secondsOf as timeOf } from '../../src/events/time.js';
import { timestampOf } from '../../src/detect/util.js';
import type { VerdictEvent } from '../../src/events/behaviour.js';
import type { EveEvent } from '../../src/events/types.js';
import { homeNet } from '../detect/harness.js';
import { repoRoot } from '../helpers.js';

const T0 = Date.UTC(2004, 3, 30, 10, 0, 0) / 1000;
let seq = 0;

/** Crafted records, as the detectors and the analyzers write them (only what the correlator reads). */
const at = (dt: number, ev: Record<string, unknown>): EveEvent => ({ timestamp: timestampOf(T0 + dt), seq: ++seq, ...ev }) as unknown as EveEvent;
const scan = (dt: number, scanner: string, targets: string[], port: number | null = null): EveEvent =>
  at(dt, { event_type: 'scan', src_ip: scanner, scan: { shape: targets.length > 1 ? 'horizontal' : 'vertical', kind: 'syn', scanner, direction: 'inbound', target_count: targets.length, targets, port_count: port === null ? 30 : 1, ports: port === null ? [21, 22, 80] : [port], probes: 40, start: '', end: '', duration: 1, rate: 40, slow: false, open: 1 } });
const pct = (dt: number, client: string, server: string): EveEvent =>
  at(dt, { event_type: 'pct', src_ip: client, dest_ip: server, dest_port: 443, flow_id: 7, pct: { verdict: 'exploit', signature: 'MS04-011 PCT exploit attempt', severity: 'high', cve: 'CVE-2003-0719', format: 'sslv2', anomalies: ['session_id_length_invalid'], client, server, port: 443 } });
const egg = (dt: number, from: string, to: string, proto = 'http', magic = 'PE32 executable (GUI) Intel 80386, for MS Windows'): EveEvent =>
  at(dt, { event_type: 'fileinfo', src_ip: from, src_port: 8080, dest_ip: to, app_proto: proto, fileinfo: { filename: '/x.exe', magic, gaps: false, state: 'CLOSED', sha256: '00', stored: false, size: 4096, tx_id: 0 } });
const ircbot = (dt: number, client: string): EveEvent =>
  at(dt, { event_type: 'ircbot', src_ip: client, ircbot: { client, server: '198.51.100.7', server_port: 6667, nick: '[XP|USA|04211]', channel: '#hax0r', keyed: true, signs: ['machine_nick', 'keyed_channel', 'command: .advscan'], score: 0.9, commands: ['.advscan'], channel_hosts: 1 } });
const flood = (dt: number, source: string): EveEvent =>
  at(dt, { event_type: 'flood', src_ip: source, flood: { kind: 'dns', direction: 'outbound', target: '198.51.100.53', target_port: 53, source_count: 1, sources: [source], packets: 900, bytes: 60000, rate: 300, start: '', end: '' } });
const backdoor = (dt: number, host: string): EveEvent =>
  at(dt, { event_type: 'backdoor', src_ip: '203.0.113.66', dest_ip: host, backdoor: { host, port: 31337, proto: 'TCP', client: '203.0.113.66', reason: 'new_listener', known_ports: [80, 443] } });

function correlate(events: EveEvent[], settings = {}): VerdictEvent[] {
  const out: VerdictEvent[] = [];
  const c = createCorrelator({ emit: (e) => out.push(e as VerdictEvent), home: homeNet('192.168.1.0/24') }, settings);
  let last = 0;
  for (const e of events) {
    const t = Math.floor(timeOf(e.timestamp));
    if (t > last) c.tick!((last = t));
    c.record!(e);
  }
  c.finish!();
  return out;
}

describe('infection dialogs', () => {
  test("the seed's story: scan, exploit, egg, IRC C&C, then commanded scan, flood and backdoor is one bot verdict with every stage", () => {
    const v = correlate([
      scan(0, '203.0.113.66', ['192.168.1.10']),
      pct(10, '203.0.113.66', '192.168.1.10'),
      egg(20, '203.0.113.66', '192.168.1.10'),
      ircbot(30, '192.168.1.10'),
      scan(60, '192.168.1.10', ['192.168.1.11', '192.168.1.12'], 443),
      pct(61, '192.168.1.10', '192.168.1.12'),
      flood(90, '192.168.1.10'),
      backdoor(120, '192.168.1.10'),
    ]);
    assert.equal(v.length, 1);
    const r = v[0]!.verdict;
    assert.deepEqual([r.host, r.verdict], ['192.168.1.10', 'bot']);
    assert.deepEqual(r.stages, ['E1', 'E2', 'E3', 'E4', 'E5', 'flood', 'backdoor']);
    assert.deepEqual(r.cc, { ip: '198.51.100.7', port: 6667, channel: '#hax0r', nick: '[XP|USA|04211]' });
    assert.equal(r.flood_target, '198.51.100.53');
    assert.equal(r.backdoor_port, 31337);
    assert.deepEqual(r.propagation_targets, ['192.168.1.11', '192.168.1.12']);
    assert.ok(r.confidence > 0.9 && r.confidence < 1);
    assert.deepEqual(r.evidence.map((e) => e.stage), ['E1', 'E2', 'E3', 'E4', 'E5', 'E5', 'flood', 'backdoor']);
    assert.ok(r.evidence.every((e) => typeof e.seq === 'number'), 'each step names the record it came from');
    assert.equal(v[0]!.src_ip, '192.168.1.10');
  });

  test('a worm: the same exploit in, then out to many hosts, no C&C; the second generation is judged too', () => {
    const v = correlate([
      pct(0, '203.0.113.9', '192.168.1.20'),
      egg(5, '203.0.113.9', '192.168.1.20', 'tftp', 'data'),
      pct(30, '192.168.1.20', '192.168.1.21'),
      pct(31, '192.168.1.20', '10.9.9.9'),
      pct(60, '192.168.1.21', '192.168.1.22'),
      pct(61, '192.168.1.21', '192.168.1.23'),
    ]);
    const byHost = new Map(v.map((e) => [e.verdict.host, e.verdict]));
    assert.equal(byHost.get('192.168.1.20')?.verdict, 'worm');
    assert.equal(byHost.get('192.168.1.21')?.verdict, 'worm');
    assert.deepEqual(byHost.get('192.168.1.20')?.propagation, { port: 443, targets: 2 });
    assert.equal(byHost.has('192.168.1.22'), false, 'an exploit received alone is not an infection');
  });

  test("an exploit's record written after the egg's (a TLS record comes at its flow's end) still gives the egg its context", () => {
    const v = correlate([egg(20, '203.0.113.66', '192.168.1.10'), pct(10, '203.0.113.66', '192.168.1.10')]);
    assert.equal(v.length, 1);
    assert.deepEqual(v[0]!.verdict.stages, ['E2', 'E3']);
    assert.deepEqual(v[0]!.verdict.evidence.map((e) => e.stage), ['E2', 'E3'], 'evidence in time order');
  });

  test('one stage alone, or an executable download with no exploit before it, declares nothing', () => {
    assert.deepEqual(correlate([scan(0, '203.0.113.66', ['192.168.1.10']), pct(5, '203.0.113.66', '192.168.1.10')]), []);
    assert.deepEqual(correlate([egg(0, '93.184.216.34', '192.168.1.30')]), [], 'a user downloading an installer');
    assert.deepEqual(correlate([ircbot(0, '192.168.1.40')]), []);
  });

  test('C&C then a scan is a bot; stages further apart than the window are not joined; two later stages without C&C or exploit are an infection of unknown kind', () => {
    const v = correlate([ircbot(0, '192.168.1.40'), scan(100, '192.168.1.40', ['10.0.0.1', '10.0.0.2'], 445)]);
    assert.equal(v.length, 1);
    assert.equal(v[0]!.verdict.verdict, 'bot', 'C&C then a scan that follows it');
    const apart = correlate([ircbot(0, '192.168.1.41'), scan(7200, '192.168.1.41', ['10.0.0.1', '10.0.0.2'], 445)]);
    assert.deepEqual(apart, []);
    // An egg from a host that scanned this one (no exploit seen), then a backdoor and an outbound scan.
    const unknown = correlate([scan(0, '203.0.113.66', ['192.168.1.42']), egg(1, '203.0.113.66', '192.168.1.42'), backdoor(30, '192.168.1.42'), scan(40, '192.168.1.42', ['10.0.0.1', '10.0.0.2'])]);
    assert.equal(unknown.length, 1);
    assert.equal(unknown[0]!.verdict.verdict, 'infected');
  });

  test('a verdict is written once the dialog settles, and again only when it changes', () => {
    const v = correlate([pct(0, '203.0.113.66', '192.168.1.10'), egg(10, '203.0.113.66', '192.168.1.10'), scan(2000, '203.0.113.70', ['192.168.1.99']), ircbot(2500, '192.168.1.10'), flood(2600, '192.168.1.10')]);
    assert.deepEqual(v.map((e) => e.verdict.verdict), ['infected', 'bot']);
    assert.equal(v[0]!.timestamp, timestampOf(T0 + 10), 'the first, settled after 300 s of quiet, is dated by its last evidence');
  });

  test('hosts followed are capped: the least recently active go first, counted', () => {
    const out: VerdictEvent[] = [];
    const c = createCorrelator({ emit: (e) => out.push(e as VerdictEvent), home: homeNet('10.0.0.0/8') }, { 'max-hosts': 1000 });
    for (let i = 0; i < 200000; i++) c.record!(scan(0, '203.0.113.66', [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`]));
    assert.equal(c.counters.hosts, 1000);
    assert.equal(c.counters.evicted_hosts, 199000);
    c.finish!();
    assert.deepEqual(out, []);
  });
});

test('EVE timestamps read back to the second and microsecond', () => {
  assert.equal(timeOf('2004-04-30T10:00:01.250000+0000'), T0 + 1.25);
  assert.equal(timeOf('2004-04-30T12:00:01.000000+0200'), T0 + 1);
  assert.equal(timeOf('nonsense'), 0);
});

test('docs/behaviour.md carries the stage mapping table as the code has it', () => {
  const doc = readFileSync(join(repoRoot, 'docs', 'behaviour.md'), 'utf8');
  for (const [what, stage] of STAGE_TABLE) assert.ok(doc.includes(`| ${what} | ${stage} |`), `docs/behaviour.md lacks the row for ${what}`);
});

test('quiet is measured from when evidence arrives: a scan record dated by its start does not settle the dialog early', () => {
  const out: VerdictEvent[] = [];
  const c = createCorrelator({ emit: (e) => out.push(e as VerdictEvent), home: homeNet('192.168.1.0/24') }, {});
  const arrive = (t: number, ev: EveEvent): void => {
    c.tick!(T0 + t);
    c.record!(ev);
  };
  arrive(1900, ircbot(1900, '192.168.1.50'));
  arrive(2000, scan(1000, '192.168.1.50', ['10.0.0.1', '10.0.0.2'], 445));
  for (let t = 2001; t < 2100; t++) c.tick!(T0 + t);
  assert.equal(out.length, 0, 'not settled a second after the late record');
  arrive(2100, flood(2100, '192.168.1.50'));
  for (let t = 2101; t <= 2500; t++) c.tick!(T0 + t);
  c.finish!();
  assert.deepEqual(out.map((v) => [v.verdict.verdict, v.verdict.stages.join(',')]), [['bot', 'E4,E5,flood']]);
});

test('dialogs that never declare are forgotten once idle past the window', () => {
  const c = createCorrelator({ emit: () => {}, home: homeNet('192.168.1.0/24') }, { window: 100 });
  c.tick!(T0);
  c.record!(scan(0, '203.0.113.66', ['192.168.1.7']));
  assert.equal(c.counters.hosts, 1);
  c.tick!(T0 + 50);
  assert.equal(c.counters.hosts, 1);
  c.tick!(T0 + 200);
  assert.equal(c.counters.hosts, 0);
  assert.equal(c.counters.expired_hosts, 1);
});
