import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readCapture, type CaptureSummary } from '../../src/capture/reader.js';
import { openByteSource } from '../../src/capture/source.js';
import type { DnsAnswerRecordV2, DnsQueryRecordV2 } from '../../src/events/dns.js';
import type { EveEvent, FileinfoEvent, FlowEvent, IrcEvent } from '../../src/events/types.js';
import type { HttpEvent } from '../../src/events/http.js';
import type { TlsEvent } from '../../src/events/tls.js';
import type { TftpEvent } from '../../src/events/tftp.js';
import { createProtocols } from '../../src/protocols/index.js';
import { Pipeline } from '../../src/sensor/pipeline.js';
import { SCENARIO_START, SCENARIOS, writeScenario, type ScenarioInfos, type ScenarioName } from '../../src/synth/scenarios/index.js';
import { SynthCapture } from '../../src/synth/traffic.js';

/** A scenario written to a pcap and read back through the sensor with every protocol (no behaviour stage). */
interface Run<N extends ScenarioName> {
  info: ScenarioInfos[N];
  summary: CaptureSummary;
  events: EveEvent[];
  path: string;
}

const dir = mkdtempSync(join(tmpdir(), 'outpost-scenarios-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function run<N extends ScenarioName>(name: N, seed?: number): Promise<Run<N>> {
  const path = join(dir, `${name}-${seed ?? 'default'}.pcap`);
  const info = writeScenario(name, path, seed !== undefined ? { seed } : {});
  const events: EveEvent[] = [];
  const pipeline = new Pipeline((e) => events.push(e), { app: { protocols: createProtocols() } });
  const summary = await readCapture(await openByteSource(path), pipeline.frame);
  pipeline.finish();
  return { info, summary, events, path };
}

const of = <T extends EveEvent>(events: EveEvent[], type: T['event_type']): T[] => events.filter((e): e is T => e.event_type === type);
const seconds = (timestamp: string): number => Date.parse(timestamp.replace(/(\.\d{3})\d*/, '$1').replace(/\+0000$/, 'Z')) / 1000;
const phase = (info: { phases: Array<{ name: string; start: number; end: number }> }, name: string): { start: number; end: number } => {
  const p = info.phases.find((x) => x.name === name);
  assert.ok(p !== undefined, `phase ${name}`);
  return p;
};
/** TLS records of the exploit's shape: PCT routing plus structural anomalies. */
const exploitRecords = (events: EveEvent[]): TlsEvent[] => of<TlsEvent>(events, 'tls').filter((e) => e.tls.pct?.routed === true && (e.tls.anomalies?.length ?? 0) > 0);

describe('scenario captures', () => {
  test('SCENARIOS names the three stories; an unknown name says which are known', () => {
    assert.deepEqual(Object.keys(SCENARIOS).sort(), ['benign', 'seed-bot', 'worm']);
    assert.throws(() => writeScenario('nope' as ScenarioName, join(dir, 'nope.pcap')), /unknown scenario "nope": known are seed-bot, worm, benign/);
  });

  test('a scenario writes the same bytes for the same seed and other bytes for another; it starts from the capture\'s clock', async () => {
    const a = await run('worm', 7);
    const b = await run('worm', 7);
    const c = await run('worm', 8);
    const hash = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');
    assert.equal(hash(a.path), hash(b.path));
    assert.notEqual(hash(a.path), hash(c.path));
    const cap = new SynthCapture(null, undefined, { start: 1e9 });
    const info = SCENARIOS.worm(cap, { warmup: 30 });
    assert.equal(cap.frames![0]!.time, 1e9);
    assert.equal(info.start, 1e9);
    assert.equal(info.frames, cap.frames!.length);
    assert.equal(info.end, cap.frames![cap.frames!.length - 1]!.time);
    assert.equal(phase(info, 'exploit').start, 1e9 + 30, 'the warm-up option moves the attack');
  });
});

describe('seed-bot scenario', () => {
  let r: Run<'seed-bot'>;
  before(async () => {
    r = await run('seed-bot');
  });

  test('is a readable capture of the frames it says, in April 2004, with ten minutes of warm-up before the attack', () => {
    assert.equal(r.summary.damage, null);
    assert.equal(r.summary.frames, r.info.frames);
    assert.equal(r.info.start, SCENARIO_START);
    assert.equal(new Date(r.info.start * 1000).toISOString(), '2004-04-30T10:00:00.000Z');
    assert.equal(phase(r.info, 'inbound-scan').start - r.info.start, 600);
    const order = ['inbound-scan', 'exploit', 'egg', 'cc', 'propagation', 'flood', 'backdoor'].map((n) => phase(r.info, n).start);
    assert.deepEqual([...order].sort((x, y) => x - y), order, 'scan, exploit, egg, C&C, propagation, flood, backdoor in that order');
  });

  test('the victim served 80 and 443 to others before the attack, and never 31337', () => {
    const attack = phase(r.info, 'inbound-scan').start;
    const flows = of<FlowEvent>(r.events, 'flow').filter((f) => f.dest_ip === r.info.victim && f.src_ip !== r.info.attacker && seconds(f.flow.start) < attack && f.flow.pkts_toclient > 0);
    const ports = new Set(flows.map((f) => f.dest_port));
    assert.ok(ports.has(80) && ports.has(443), [...ports].join(','));
    assert.ok(flows.length >= 5, `${flows.length} conversations served`);
    assert.ok(!of<FlowEvent>(r.events, 'flow').some((f) => f.dest_ip === r.info.victim && f.dest_port === 31337 && seconds(f.flow.start) < phase(r.info, 'backdoor').start - 0.001));
  });

  test('the inbound scan probes 30 ports of the victim; only 80 and 443 answer open', () => {
    const scan = phase(r.info, 'inbound-scan');
    const probes = of<FlowEvent>(r.events, 'flow').filter((f) => f.src_ip === r.info.attacker && f.dest_ip === r.info.victim && seconds(f.flow.start) >= scan.start - 0.001 && seconds(f.flow.start) <= scan.end);
    assert.equal(new Set(probes.map((f) => f.dest_port)).size, 30);
    const open = probes.filter((f) => f.tcp?.tcp_flags_tc === '12'); // SYN-ACK (then the scanner's RST); refused ports answer RST-ACK, 14
    assert.deepEqual(open.map((f) => f.dest_port).sort((a, b) => a! - b!), [80, 443]);
  });

  test('the exploit: a tls record from the attacker to the victim on 443 with PCT routed and the session-id anomaly', () => {
    const inbound = exploitRecords(r.events).filter((e) => e.src_ip === r.info.attacker && e.dest_ip === r.info.victim);
    assert.equal(inbound.length, 1);
    assert.equal(inbound[0]!.dest_port, 443);
    assert.equal(inbound[0]!.tls.pct!.routed, true);
    assert.ok(inbound[0]!.tls.anomalies!.includes('session_id_length_invalid'), inbound[0]!.tls.anomalies!.join(','));
  });

  test('the egg: GET /x.exe from the attacker on 8080, a PE executable of the stated size', () => {
    const http = of<HttpEvent>(r.events, 'http').filter((e) => e.http.url === r.info.egg.url);
    assert.equal(http.length, 1);
    assert.deepEqual([http[0]!.src_ip, http[0]!.dest_ip, http[0]!.dest_port, http[0]!.http.status], [r.info.victim, r.info.egg.server, 8080, 200]);
    const files = of<FileinfoEvent>(r.events, 'fileinfo').filter((e) => /^PE32/.test(e.fileinfo.magic));
    assert.equal(files.length, 1, 'one executable in the whole capture');
    assert.deepEqual([files[0]!.dest_ip, files[0]!.src_ip, files[0]!.fileinfo.filename, files[0]!.fileinfo.size, files[0]!.fileinfo.state], [r.info.victim, r.info.egg.server, '/x.exe', r.info.egg.size, 'CLOSED']);
    assert.ok(seconds(files[0]!.timestamp) - phase(r.info, 'exploit').start < 60, 'right after the exploit');
  });

  test('the C&C: irc records with the machine-made nick and JOIN with the key, on the odd port', () => {
    const irc = of<IrcEvent>(r.events, 'irc').filter((e) => e.src_ip === r.info.victim);
    const nick = irc.find((e) => e.irc.command === 'NICK');
    const join = irc.find((e) => e.irc.command === 'JOIN');
    assert.equal(nick?.irc.value, '[XP|USA|04211]');
    assert.equal(join?.irc.value, '#hax0r');
    assert.equal(join?.irc.addl, ` with channel key: '${r.info.cc.key}'`);
    assert.deepEqual([join?.dest_ip, join?.dest_port], [r.info.cc.server, r.info.cc.port]);
    assert.ok(r.info.cc.commands.some((c) => c.startsWith('.advscan')) && r.info.cc.commands.some((c) => c.startsWith('.ddos.')));
    const lookup = of<EveEvent & { dns: DnsAnswerRecordV2 }>(r.events, 'dns').find((e) => e.dns.type === 'answer' && e.dns.rrname === r.info.cc.name);
    assert.ok(lookup !== undefined, 'the bot resolved its server first');
  });

  test('the propagation: SYN probes to 50 internal hosts on 443, the exploit to each that answered', () => {
    const p = phase(r.info, 'propagation');
    const probes = of<FlowEvent>(r.events, 'flow').filter((f) => f.src_ip === r.info.victim && f.dest_port === 443 && seconds(f.flow.start) >= p.start - 0.001);
    assert.equal(new Set(probes.map((f) => f.dest_ip)).size, 50);
    assert.ok(probes.every((f) => f.dest_ip!.startsWith('192.168.1.')));
    const out = exploitRecords(r.events).filter((e) => e.src_ip === r.info.victim);
    assert.deepEqual(out.map((e) => e.dest_ip).sort(), [...r.info.propagation.exploited].sort());
    assert.ok(out.length >= 3);
  });

  test('the flood: hundreds of random names under one zone to the third-party server within seconds, answered NXDOMAIN', () => {
    const { flood } = r.info;
    const queries = of<EveEvent & { dns: DnsQueryRecordV2 }>(r.events, 'dns').filter((e) => e.dns.type === 'query' && e.dest_ip === flood.target);
    assert.equal(queries.length, flood.queries);
    assert.ok(queries.every((q) => q.dns.rrname.endsWith(`.${flood.zone}`) && q.src_ip === r.info.victim && q.dns.rrtype === 'A'));
    assert.ok(new Set(queries.map((q) => q.dns.rrname)).size > flood.queries * 0.95, 'random, hardly repeated');
    const times = queries.map((q) => seconds(q.timestamp));
    assert.ok(Math.max(...times) - Math.min(...times) < 6);
    const answers = of<EveEvent & { dns: DnsAnswerRecordV2 }>(r.events, 'dns').filter((e) => e.dns.type === 'answer' && (e.src_ip === flood.target || e.dest_ip === flood.target));
    assert.equal(answers.length, flood.answered);
    assert.ok(answers.every((a) => a.dns.rcode === 'NXDOMAIN'));
    assert.ok(flood.answered < flood.queries && flood.answered > flood.queries / 2);
  });

  test('the backdoor: the attacker connects to 31337 on the victim, which accepts it', () => {
    const flows = of<FlowEvent>(r.events, 'flow').filter((f) => f.dest_port === r.info.backdoor.port);
    assert.equal(flows.length, 1);
    assert.deepEqual([flows[0]!.src_ip, flows[0]!.dest_ip], [r.info.attacker, r.info.victim]);
    assert.ok(flows[0]!.flow.pkts_toclient >= 3 && flows[0]!.tcp?.syn === true && flows[0]!.flow.bytes_toclient > flows[0]!.flow.bytes_toserver, 'SYN-ACK and a shell talking');
  });

  test('nothing in it is malformed but the exploit itself', () => {
    const anomalies = r.events.filter((e) => e.event_type === 'anomaly');
    const exploits = exploitRecords(r.events).length;
    assert.equal(anomalies.length, exploits);
    assert.ok(anomalies.every((a) => JSON.stringify(a).includes('sslv2_session_id_length_invalid')));
  });
});

describe('worm scenario', () => {
  let r: Run<'worm'>;
  before(async () => {
    r = await run('worm');
  });

  test('is a readable capture: the exploit comes in from outside to the first victim on 443', () => {
    assert.equal(r.summary.damage, null);
    assert.equal(r.summary.frames, r.info.frames);
    const inbound = exploitRecords(r.events).filter((e) => e.src_ip === r.info.attacker);
    assert.deepEqual(inbound.map((e) => [e.dest_ip, e.dest_port]), [[r.info.generations[0].host, 443]]);
  });

  test('both generations fetch the body over TFTP from their infector: a PE executable each', () => {
    for (const g of r.info.generations) {
      const rrq = of<TftpEvent>(r.events, 'tftp').filter((e) => e.src_ip === g.host);
      assert.deepEqual(rrq.map((e) => [e.dest_ip, e.dest_port, e.tftp.packet, e.tftp.file]), [[g.infector, 69, 'read', g.egg.file]]);
      const files = of<FileinfoEvent>(r.events, 'fileinfo').filter((e) => e.dest_ip === g.host && e.app_proto === 'tftp');
      assert.equal(files.length, 1);
      assert.match(files[0]!.fileinfo.magic, /^PE32 executable/);
      assert.deepEqual([files[0]!.src_ip, files[0]!.fileinfo.size, files[0]!.fileinfo.state], [g.infector, g.egg.size, 'CLOSED']);
    }
  });

  test('both generations send the same exploit to many hosts inside and outside on 443, fast', () => {
    const [first, second] = r.info.generations;
    assert.ok(first.attacked.includes(second.host), 'the second was infected by the first');
    for (const g of r.info.generations) {
      const out = exploitRecords(r.events).filter((e) => e.src_ip === g.host);
      assert.deepEqual(out.map((e) => e.dest_ip).sort(), [...g.attacked].sort());
      assert.ok(out.every((e) => e.dest_port === 443));
      assert.ok(out.some((e) => e.dest_ip!.startsWith('192.168.1.')) && out.some((e) => !e.dest_ip!.startsWith('192.168.1.')), 'inside and outside');
      const probes = of<FlowEvent>(r.events, 'flow').filter((f) => f.src_ip === g.host && f.dest_port === 443);
      assert.equal(new Set(probes.map((f) => f.dest_ip)).size, g.targets.length);
      assert.ok(g.targets.length >= 60);
      const times = probes.map((f) => seconds(f.flow.start));
      assert.ok(g.targets.length / (Math.max(...times) - Math.min(...times)) > 20, 'more than 20 probes a second');
      assert.ok(Math.min(...times) - g.exploited < 30, 'soon after its own infection');
    }
  });

  test('has no IRC at all', () => {
    assert.equal(of<IrcEvent>(r.events, 'irc').length, 0);
    assert.ok(!r.events.some((e) => e.app_proto === 'irc'));
  });
});

describe('benign scenario', () => {
  let r: Run<'benign'>;
  before(async () => {
    r = await run('benign');
  });

  test('is a readable capture with no anomaly at all', () => {
    assert.equal(r.summary.damage, null);
    assert.equal(r.summary.frames, r.info.frames);
    assert.equal(r.events.filter((e) => e.event_type === 'anomaly').length, 0);
  });

  test('IRC: alice and bob join a channel without a key, and someone will "scan the docs later"', () => {
    const irc = of<IrcEvent>(r.events, 'irc');
    const nicks = irc.filter((e) => e.irc.command === 'NICK').map((e) => e.irc.value);
    assert.deepEqual(nicks, ['alice', 'bob']);
    const joins = irc.filter((e) => e.irc.command === 'JOIN');
    assert.deepEqual(joins.map((e) => [e.irc.value, e.irc.addl]), [[r.info.irc.channel, ''], [r.info.irc.channel, '']]);
    assert.ok(irc.every((e) => e.dest_ip === r.info.irc.server && e.dest_port === 6667));
    assert.ok(readFileSync(r.path).includes('I will scan the docs later'));
  });

  test('TLS: hellos with SNI and no PCT anywhere', () => {
    const tls = of<TlsEvent>(r.events, 'tls');
    assert.ok(tls.length >= 3);
    assert.ok(tls.every((e) => e.tls.pct === undefined && e.tls.anomalies === undefined && e.tls.version === 'TLSv1'));
    const snis = new Set(tls.map((e) => e.tls.sni));
    for (const name of r.info.tlsNames) assert.ok(snis.has(name), name);
  });

  test('DNS at human rates: a few dozen lookups of real names, all answered', () => {
    const queries = of<EveEvent & { dns: DnsQueryRecordV2 }>(r.events, 'dns').filter((e) => e.dns.type === 'query');
    const answers = of<EveEvent & { dns: DnsAnswerRecordV2 }>(r.events, 'dns').filter((e) => e.dns.type === 'answer');
    assert.ok(queries.length >= 24 && queries.length <= 100, `${queries.length} queries`);
    assert.equal(answers.length, queries.length);
    assert.ok(answers.every((a) => a.dns.rcode === 'NOERROR'));
    const times = queries.map((q) => seconds(q.timestamp));
    assert.ok(queries.length / (Math.max(...times) - Math.min(...times)) < 1, 'less than one a second');
    assert.deepEqual(new Set(queries.map((q) => q.dns.rrname)), new Set(r.info.lookups));
  });

  test('web: a browser opens ten connections at once to one server; SSH lasts minutes', () => {
    const flows = of<FlowEvent>(r.events, 'flow');
    const browse = phase(r.info, 'browse');
    const toBrowsed = flows.filter((f) => f.dest_ip === r.info.browsed && f.dest_port === 80 && seconds(f.flow.start) >= browse.start - 0.001 && seconds(f.flow.start) <= browse.end);
    assert.equal(toBrowsed.length, 11, 'the page and ten more');
    assert.ok(of<HttpEvent>(r.events, 'http').filter((e) => e.dest_ip === r.info.browsed).length >= 31);
    const ssh = flows.filter((f) => f.dest_port === 22);
    assert.equal(ssh.length, 1);
    assert.ok(seconds(ssh[0]!.flow.end) - seconds(ssh[0]!.flow.start) >= 240);
    assert.ok(!of<FileinfoEvent>(r.events, 'fileinfo').some((e) => /^PE32|executable/.test(e.fileinfo.magic)));
  });
});
