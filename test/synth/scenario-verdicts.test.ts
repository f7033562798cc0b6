import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readCapture } from '../../src/capture/reader.js';
import { openByteSource } from '../../src/capture/source.js';
import type { BackdoorEvent, FloodEvent, IrcbotEvent, PctEvent, VerdictEvent } from '../../src/events/behaviour.js';
import type { EveEvent } from '../../src/events/types.js';
import { createProtocols } from '../../src/protocols/index.js';
import { compileAddress } from '../../src/rules/addresses.js';
import { DEFAULT_VARS, withHomeNet } from '../../src/rules/vars.js';
import { Pipeline } from '../../src/sensor/pipeline.js';
import { writeScenario, type ScenarioInfos, type ScenarioName } from '../../src/synth/scenarios/index.js';

/**
 * The stories end to end: each scenario's capture through the whole sensor with every detector
 * and the correlator at their defaults, and the verdicts DOMAIN.md §7 says they deserve.
 */

const dir = mkdtempSync(join(tmpdir(), 'outpost-verdicts-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function run<N extends ScenarioName>(name: N): Promise<{ info: ScenarioInfos[N]; events: EveEvent[] }> {
  const path = join(dir, `${name}.pcap`);
  const info = writeScenario(name, path);
  const home = compileAddress('$HOME_NET', withHomeNet(DEFAULT_VARS, info.homeNet, false).addressGroups)!;
  const events: EveEvent[] = [];
  const pipeline = new Pipeline((e) => events.push(e), { app: { protocols: createProtocols() }, behaviour: { home, detectors: {}, correlate: {} } });
  await readCapture(await openByteSource(path), pipeline.frame);
  pipeline.finish();
  return { info, events };
}

const of = <T extends EveEvent>(events: EveEvent[], type: T['event_type']): T[] => events.filter((e): e is T => e.event_type === type);
/** The last verdict written for each host (a verdict is written again when it grows). */
function verdicts(events: EveEvent[]): Map<string, VerdictEvent['verdict']> {
  const out = new Map<string, VerdictEvent['verdict']>();
  for (const v of of<VerdictEvent>(events, 'verdict')) out.set(v.verdict.host, v.verdict);
  return out;
}

describe('seed-bot: the victim is judged a bot', () => {
  let r: { info: ScenarioInfos['seed-bot']; events: EveEvent[] };
  before(async () => {
    r = await run('seed-bot');
  });

  test('one infected host, the victim, a bot with its C&C, flood target and backdoor port', () => {
    const v = verdicts(r.events);
    assert.deepEqual([...v.keys()], [r.info.victim], 'the hosts it only attacked are not infected');
    assert.equal(of<VerdictEvent>(r.events, 'verdict').length, 1, 'exactly one verdict record');
    const bot = v.get(r.info.victim)!;
    assert.equal(bot.verdict, 'bot');
    assert.deepEqual(bot.stages, ['E1', 'E2', 'E3', 'E4', 'E5', 'flood', 'backdoor'], 'every stage present');
    assert.deepEqual([bot.cc?.ip, bot.cc?.port, bot.cc?.channel, bot.cc?.nick], [r.info.cc.server, r.info.cc.port, r.info.cc.channel, r.info.cc.nick]);
    assert.equal(bot.flood_target, r.info.flood.target);
    assert.equal(bot.backdoor_port, r.info.backdoor.port);
  });

  test('the detectors behind it: the exploit, the IRC C&C, the DNS flood, the backdoor', () => {
    const pct = of<PctEvent>(r.events, 'pct').filter((e) => e.pct.verdict === 'exploit');
    assert.ok(pct.some((e) => e.pct.client === r.info.attacker && e.pct.server === r.info.victim));
    assert.deepEqual(pct.filter((e) => e.pct.client === r.info.victim).map((e) => e.pct.server).sort(), [...r.info.propagation.exploited].sort());
    const bot = of<IrcbotEvent>(r.events, 'ircbot');
    assert.ok(bot.some((e) => e.ircbot.client === r.info.victim && e.ircbot.keyed && e.ircbot.nick === r.info.cc.nick));
    const flood = of<FloodEvent>(r.events, 'flood').filter((e) => e.flood.target === r.info.flood.target);
    assert.ok(flood.some((e) => e.flood.kind === 'dns' && e.flood.dns?.random_subdomain === true && e.flood.dns.zone === r.info.flood.zone));
    const door = of<BackdoorEvent>(r.events, 'backdoor');
    assert.deepEqual(door.map((e) => [e.backdoor.host, e.backdoor.port, e.backdoor.client]), [[r.info.victim, 31337, r.info.attacker]]);
  });

  test('the egg counts: E3 is among the stages, though the exploit\'s record is written after it', () => {
    assert.ok(verdicts(r.events).get(r.info.victim)?.stages.includes('E3'));
  });

  test('the bot commands are in the ircbot records (an update follows each new verb)', () => {
    const commands = of<IrcbotEvent>(r.events, 'ircbot').flatMap((e) => e.ircbot.commands);
    assert.ok(commands.includes('.advscan') && commands.some((c) => c.startsWith('.ddos')), commands.join(','));
  });

  test('the propagation is on 443 (the port most of the outbound evidence names)', () => {
    assert.equal(verdicts(r.events).get(r.info.victim)?.propagation?.port, 443);
  });
});

describe('worm: both generations are judged worms', () => {
  let r: { info: ScenarioInfos['worm']; events: EveEvent[] };
  before(async () => {
    r = await run('worm');
  });

  test('two infected hosts, each a worm propagating on 443 with no C&C', () => {
    const v = verdicts(r.events);
    assert.deepEqual([...v.keys()].sort(), r.info.generations.map((g) => g.host).sort());
    for (const g of r.info.generations) {
      const w = v.get(g.host)!;
      assert.equal(w.verdict, 'worm', g.host);
      for (const s of ['E2', 'E3', 'E5']) assert.ok(w.stages.includes(s), `${g.host}: ${s} in ${w.stages.join(',')}`);
      assert.ok(!w.stages.includes('E4'));
      assert.equal(w.cc, undefined);
      assert.equal(w.propagation?.port, 443);
    }
    assert.equal(of<IrcbotEvent>(r.events, 'ircbot').length, 0);
  });
});

describe('benign: nothing is judged', () => {
  let r: { info: ScenarioInfos['benign']; events: EveEvent[] };
  before(async () => {
    r = await run('benign');
  });

  test('no verdict, and no behavioural record at all: not the chat that mentions scanning, not the browser\'s ten connections', () => {
    const found = r.events.filter((e) => ['verdict', 'ircbot', 'pct', 'scan', 'flood', 'backdoor'].includes(e.event_type));
    assert.deepEqual(found.map((e) => JSON.stringify(e).slice(0, 300)), []);
  });
});
