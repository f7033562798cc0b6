import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { readCapture } from '../../src/capture/reader.js';
import { openByteSource } from '../../src/capture/source.js';
import type { AlertEvent } from '../../src/events/types.js';
import { RuleSet } from '../../src/rules/ruleset.js';
import { DEFAULT_VARS, withHomeNet } from '../../src/rules/vars.js';
import { Pipeline } from '../../src/sensor/pipeline.js';
import { pctClientHello, pctExploitFixture, sslv2ClientHello } from '../../src/synth/pct.js';
import { SynthCapture, TcpConnection } from '../../src/synth/traffic.js';
import { shared, tempDir } from '../helpers.js';

/**
 * The 2004 rules that caught the MS04-011 PCT exploit, and the 2005 revision's offsets
 * (../shared/DOMAIN.md §3): SID 2515 rev 9 tests the 2-byte fields at 6, 8 and 10; rev 13
 * moved them to 5, 7 and 9, the real field boundaries.
 */
const REV13 =
  'alert tcp $EXTERNAL_NET any -> $HTTP_SERVERS 443 (msg:"WEB-MISC PCT Client_Hello overflow attempt"; flow:to_server,established; content:"|01|"; depth:1; offset:2; ' +
  'byte_test:2,>,0,5; byte_test:2,!,0,7; byte_test:2,!,16,7; byte_test:2,>,20,9; content:"|8F|"; depth:1; offset:11; byte_test:2,>,32768,0,relative; ' +
  'reference:bugtraq,10116; reference:cve,2003-0719; classtype:attempted-admin; sid:1002515; rev:13;)';

async function alerts(capture: string, rules: RuleSet): Promise<AlertEvent[]> {
  const out: AlertEvent[] = [];
  const pipeline = new Pipeline((e) => (e.event_type === 'alert' ? out.push(e) : undefined), {
    detect: { rules: rules.rules, alert: { categories: rules.ctx.classifications } },
  });
  const summary = await readCapture(await openByteSource(capture), pipeline.frame);
  pipeline.finish();
  assert.equal(summary.damage, null);
  return out;
}

function rules2004(dir: string, homeNet: string): RuleSet {
  const set = RuleSet.load([dir], { vars: withHomeNet(DEFAULT_VARS, homeNet, false) });
  set.loadText(REV13, 'rev13.rules');
  return set;
}

/** An attacker outside sends one hello to port 443 of a victim inside, after a handshake. */
function helloCapture(path: string, hello: Buffer): void {
  const cap = new SynthCapture(path);
  const c = new TcpConnection(cap, '203.0.113.66:1042', '192.168.1.10:443').handshake();
  c.send('client', hello);
  c.close();
  cap.close();
}

const sids = (a: AlertEvent[]): number[] => a.map((x) => x.alert.signature_id);

test('the 2004 Snort set loads, with the PCT rules 2515-2519 and 2528', (t) => {
  const dir = shared(t, 'rules', 'snort-2.2.0-2004');
  if (dir === null) return;
  const set = rules2004(dir, '192.168.1.0/24');
  const loaded = new Set(set.rules.map((r) => r.sid));
  for (const sid of [2515, 2516, 2517, 2518, 2519, 2528]) assert.ok(loaded.has(sid), `sid ${sid} loads`);
  const r2515 = set.rules.find((r) => r.sid === 2515)!;
  assert.equal(r2515.rev, 9);
  assert.deepEqual(r2515.references.find((x) => x.type === 'cve'), { type: 'cve', value: '2003-0719' });
});

test('SID 2515 (rev 9) and the rev 13 offsets both alert on the harmless PCT fixture sent to 443', async (t) => {
  const dir = shared(t, 'rules', 'snort-2.2.0-2004');
  if (dir === null) return;
  const capture = join(tempDir(t), 'pct-fixture.pcap');
  helloCapture(capture, pctExploitFixture());
  const got = await alerts(capture, rules2004(dir, '192.168.1.0/24'));
  assert.ok(sids(got).includes(2515), `alerts: ${sids(got).join(',')}`);
  assert.ok(sids(got).includes(1002515));
  const a = got.find((x) => x.alert.signature_id === 2515)!;
  assert.equal(a.alert.signature, 'WEB-MISC PCT Client_Hello overflow attempt');
  assert.equal(a.alert.category, 'Attempted Administrator Privilege Gain');
  assert.equal(a.src_ip, '203.0.113.66');
  assert.equal(a.dest_port, 443);
});

test('neither revision alerts on a well-formed native PCT CLIENT_HELLO (a scanner\'s probe)', async (t) => {
  const dir = shared(t, 'rules', 'snort-2.2.0-2004');
  if (dir === null) return;
  const capture = join(tempDir(t), 'pct-hello.pcap');
  helloCapture(capture, pctClientHello());
  const got = sids(await alerts(capture, rules2004(dir, '192.168.1.0/24')));
  assert.ok(!got.includes(2515) && !got.includes(1002515), `alerts: ${got.join(',')}`);
});

test('neither revision alerts on a plain SSLv2 hello, nor on one offering PCT the well-formed way', async (t) => {
  const dir = shared(t, 'rules', 'snort-2.2.0-2004');
  if (dir === null) return;
  for (const hello of [sslv2ClientHello(), sslv2ClientHello({ offerPct: true })]) {
    const capture = join(tempDir(t), 'sslv2.pcap');
    helloCapture(capture, hello);
    const got = sids(await alerts(capture, rules2004(dir, '192.168.1.0/24')));
    assert.ok(!got.includes(2515) && !got.includes(1002515), `alerts: ${got.join(',')}`);
  }
});

test('neither revision alerts on the real SSLv2 capture in the corpus (with its server inside HOME_NET)', async (t) => {
  const dir = shared(t, 'rules', 'snort-2.2.0-2004');
  const capture = shared(t, 'corpus', 'tls', 'ssl-v2.pcap');
  if (dir === null || capture === null) return;
  const set = rules2004(dir, '91.227.4.92/32');
  const got = sids(await alerts(capture, set));
  assert.ok(!got.includes(2515) && !got.includes(1002515), `alerts: ${got.join(',')}`);
});
