import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeScenario } from '../../src/synth/scenarios/index.js';
import { repoRoot, tempDir } from '../helpers.js';
import { runOutpost } from './run.js';

test("outpost analyze on the seed-bot story: --json-summary lists the bot verdict and counts the detectors' records; the summary tells the story", (t) => {
  const dir = tempDir(t);
  const capture = join(dir, 'seed-bot.pcap');
  const info = writeScenario('seed-bot', capture);
  const json = runOutpost(['analyze', capture, '--rules', join(repoRoot, 'rules', 'outpost.rules'), '--home-net', info.homeNet, '--out', join(dir, 'out'), '--json-summary', '-q']);
  assert.equal(json.status, 0, json.stderr);
  const s = JSON.parse(json.stdout) as { events: Record<string, number>; verdicts: Array<Record<string, unknown>> };
  assert.equal(s.verdicts.length, 1);
  const v = s.verdicts[0]!;
  assert.equal(v.host, info.victim);
  assert.equal(v.verdict, 'bot');
  assert.deepEqual(v.stages, ['E1', 'E2', 'E3', 'E4', 'E5', 'flood', 'backdoor']);
  assert.deepEqual(v.cc, { ip: info.cc.server, port: info.cc.port, channel: info.cc.channel, nick: info.cc.nick });
  assert.equal(v.evidence, undefined, 'the evidence is in eve.json, not the summary');
  for (const type of ['scan', 'flood', 'ircbot', 'backdoor', 'pct', 'verdict']) assert.ok((s.events[type] ?? 0) >= 1, `events.${type}`);
  const text = runOutpost(['analyze', capture, '--rules', join(repoRoot, 'rules', 'outpost.rules'), '--home-net', info.homeNet, '--out', join(dir, 'out2')]);
  assert.match(text.stderr, new RegExp(`${info.victim.replaceAll('.', '\\.')}: BOT \\(confidence 0\\.\\d+, stages E1 E2 E3 E4 E5 flood backdoor, C&C ${info.cc.server.replaceAll('.', '\\.')}:${info.cc.port}`));
  assert.match(text.stderr, /E2 +MS04-011 PCT exploit attempt/);
});
