import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { RuleBuilder } from '../../src/rules/builder.js';
import { parseThresholdConfig } from '../../src/rules/config-files.js';
import { splitRuleFile } from '../../src/rules/file.js';
import { detectionFilter } from '../../src/rules/keywords/detection_filter.js';
import { threshold } from '../../src/rules/keywords/threshold.js';
import type { DetectionFilter, Threshold } from '../../src/rules/rule.js';
import { parseRuleSyntax, RuleError } from '../../src/rules/syntax.js';
import { Packet } from '../../src/decode/packet.js';
import { Flow } from '../../src/flow/flow.js';
import { thresholdGate, ThresholdTracker, type ThresholdedRule, type Verdict } from '../../src/rules/thresholds.js';
import { DEFAULT_VARS } from '../../src/rules/vars.js';
import { parseIpv4, parseIpv6 } from '../../src/wire/address.js';
import { shared } from '../helpers.js';

/** Address words in the Packet.addr layout: source at 0..3, destination at 4..7, IPv4 as ::ffff:a.b.c.d. */
function addrs(src: string, dst: string): Uint32Array {
  const out = new Uint32Array(8);
  for (const [text, at] of [[src, 0], [dst, 4]] as const) {
    const v4 = parseIpv4(text);
    if (v4 !== null) {
      out[at + 2] = 0xffff;
      out[at + 3] = v4;
      continue;
    }
    const v6 = parseIpv6(text)!;
    for (let i = 0; i < 4; i++) out[at + i] = ((v6[i * 4]! << 24) | (v6[i * 4 + 1]! << 16) | (v6[i * 4 + 2]! << 8) | v6[i * 4 + 3]!) >>> 0;
  }
  return out;
}

const A_B = addrs('10.0.0.1', '10.0.0.2');

function rule(sid: number, t: Threshold | null, df: DetectionFilter | null = null, gid = 1): ThresholdedRule {
  return { gid, sid, threshold: t, detectionFilter: df };
}

/** Verdicts for matches of one rule at the given times, all A -> B on flow 7. */
function run(tracker: ThresholdTracker, r: ThresholdedRule, times: number[], a = A_B): Verdict[] {
  return times.map((t) => tracker.check(r, t, a, 7, 40000, 80));
}

describe('threshold types (hand-computed sequences)', () => {
  test('limit count 2 seconds 60: matches 1 and 2 alert, then silent until the window ends; after 61 s it alerts again', () => {
    const r = rule(1, { type: 'limit', track: 'by_src', count: 2, seconds: 60 });
    assert.deepEqual(run(new ThresholdTracker(), r, [0, 1, 2, 3, 60, 61, 62, 63]), ['alert', 'alert', 'silent', 'silent', 'silent', 'alert', 'alert', 'silent']);
  });

  test('the window test is inclusive and never slides: the first match after it starts a new one', () => {
    const r = rule(1, { type: 'limit', track: 'by_src', count: 1, seconds: 10 });
    assert.deepEqual(run(new ThresholdTracker(), r, [0, 10, 10.5, 20.5, 20.6]), ['alert', 'silent', 'alert', 'silent', 'alert']);
  });

  test('threshold count 3: every 3rd match in the window alerts (the count restarts, the window does not)', () => {
    const r = rule(1, { type: 'threshold', track: 'by_src', count: 3, seconds: 60 });
    assert.deepEqual(run(new ThresholdTracker(), r, [0, 1, 2, 3, 4, 5, 61, 62, 63]), ['none', 'none', 'alert', 'none', 'none', 'alert', 'none', 'none', 'alert']);
  });

  test('threshold count 3: a window that ends before the 3rd match starts over at 1', () => {
    const r = rule(1, { type: 'threshold', track: 'by_src', count: 3, seconds: 60 });
    assert.deepEqual(run(new ThresholdTracker(), r, [0, 1, 70, 71, 72]), ['none', 'none', 'none', 'none', 'alert']);
  });

  test('threshold count 1 alerts on every match and keeps no entry', () => {
    const tracker = new ThresholdTracker();
    const r = rule(1, { type: 'threshold', track: 'by_src', count: 1, seconds: 60 });
    assert.deepEqual(run(tracker, r, [0, 0, 1, 100]), ['alert', 'alert', 'alert', 'alert']);
    assert.equal(tracker.size, 0);
  });

  test('both count 3: alerts once, on the 3rd match of the window; later matches are silent', () => {
    const r = rule(1, { type: 'both', track: 'by_src', count: 3, seconds: 60 });
    assert.deepEqual(run(new ThresholdTracker(), r, [0, 1, 2, 3, 4, 61, 62, 63, 64]), ['none', 'none', 'alert', 'silent', 'silent', 'none', 'none', 'alert', 'silent']);
  });

  test('both count 1: the first match of each window alerts', () => {
    const r = rule(1, { type: 'both', track: 'by_src', count: 1, seconds: 60 });
    assert.deepEqual(run(new ThresholdTracker(), r, [0, 30, 60, 61, 62]), ['alert', 'silent', 'silent', 'alert', 'silent']);
  });

  test('detection_filter count 2: every match after the 2nd in the window alerts; a new window starts over', () => {
    const r = rule(1, null, { track: 'by_src', count: 2, seconds: 60 });
    assert.deepEqual(run(new ThresholdTracker(), r, [0, 1, 2, 3, 61, 62, 63]), ['none', 'none', 'alert', 'alert', 'none', 'none', 'alert']);
  });

  test('detection_filter count 1: the first match never alerts, the second does', () => {
    const r = rule(1, null, { track: 'by_src', count: 1, seconds: 60 });
    assert.deepEqual(run(new ThresholdTracker(), r, [0, 1, 2]), ['none', 'alert', 'alert']);
  });

  test('a rule without threshold, detection_filter or suppression always alerts and keeps nothing', () => {
    const tracker = new ThresholdTracker();
    assert.deepEqual(run(tracker, rule(1, null), [0, 0, 0]), ['alert', 'alert', 'alert']);
    assert.equal(tracker.size, 0);
  });
});

describe('backoff (Suricata 8)', () => {
  const alertsAt = (count: number, multiplier: number, n: number): number[] => {
    const tracker = new ThresholdTracker();
    const r = rule(1, { type: 'backoff', track: 'by_flow', count, seconds: 0, multiplier });
    const out: number[] = [];
    for (let i = 1; i <= n; i++) if (tracker.check(r, i, A_B, 7, 1, 2) === 'alert') out.push(i);
    return out;
  };

  test('count 1, multiplier 10 alerts on matches 1, 10, 100, 1000', () => {
    assert.deepEqual(alertsAt(1, 10, 5000), [1, 10, 100, 1000]);
  });

  test('count 1, multiplier 2 alerts on matches 1, 2, 4, 8, 16, ...', () => {
    assert.deepEqual(alertsAt(1, 2, 100), [1, 2, 4, 8, 16, 32, 64]);
  });

  test('count 5, multiplier 5 alerts on matches 5, 25, 125, 625', () => {
    assert.deepEqual(alertsAt(5, 5, 1000), [5, 25, 125, 625]);
  });

  test('count 3: the first match gives none, the others before the 3rd are silent; each flow counts alone', () => {
    const tracker = new ThresholdTracker();
    const r = rule(1, { type: 'backoff', track: 'by_flow', count: 3, seconds: 0, multiplier: 2 });
    assert.deepEqual(
      [1, 1, 1, 2, 1].map((flow, i) => tracker.check(r, i, A_B, flow, 1, 2)),
      ['none', 'silent', 'alert', 'none', 'silent'],
    );
  });

  test('backoff has no window: hours between matches do not reset it', () => {
    const tracker = new ThresholdTracker();
    const r = rule(1, { type: 'backoff', track: 'by_flow', count: 1, seconds: 0, multiplier: 2 });
    assert.deepEqual(
      [0, 3600, 7200, 10800].map((t) => tracker.check(r, t, A_B, 7, 1, 2)),
      ['alert', 'alert', 'silent', 'alert'],
    );
    tracker.sweep(1e9);
    assert.equal(tracker.size, 1, 'a backoff entry lives as long as its flow');
  });
});

describe('tracking keys', () => {
  const limit1 = (track: Threshold['track']): ThresholdedRule => rule(1, { type: 'limit', track, count: 1, seconds: 60 });
  const verdicts = (r: ThresholdedRule, pairs: Array<[string, string, number?]>): Verdict[] => {
    const tracker = new ThresholdTracker();
    return pairs.map(([s, d, flow]) => tracker.check(r, 0, addrs(s, d), flow ?? 7, 1, 2));
  };

  test('by_src counts per source address', () => {
    assert.deepEqual(verdicts(limit1('by_src'), [['1.1.1.1', '2.2.2.2'], ['1.1.1.1', '3.3.3.3'], ['2.2.2.2', '1.1.1.1']]), ['alert', 'silent', 'alert']);
  });

  test('by_dst counts per destination address', () => {
    assert.deepEqual(verdicts(limit1('by_dst'), [['1.1.1.1', '2.2.2.2'], ['3.3.3.3', '2.2.2.2'], ['1.1.1.1', '3.3.3.3']]), ['alert', 'silent', 'alert']);
  });

  test('by_both is one entry per address pair, whichever way the packet goes (IPv4 and IPv6)', () => {
    assert.deepEqual(verdicts(limit1('by_both'), [['1.1.1.1', '2.2.2.2'], ['2.2.2.2', '1.1.1.1'], ['1.1.1.1', '3.3.3.3'], ['3.3.3.3', '1.1.1.1']]), ['alert', 'silent', 'alert', 'silent']);
    assert.deepEqual(verdicts(limit1('by_both'), [['2001:db8::1', '2001:db8::2'], ['2001:db8::2', '2001:db8::1'], ['2001:db8::2', '2001:db8::3']]), ['alert', 'silent', 'alert']);
  });

  test('by_rule shares one entry among all addresses', () => {
    assert.deepEqual(verdicts(limit1('by_rule'), [['1.1.1.1', '2.2.2.2'], ['3.3.3.3', '4.4.4.4']]), ['alert', 'silent']);
  });

  test('by_flow counts per flow; a packet without a flow gives none; forgetFlow starts the flow over', () => {
    const tracker = new ThresholdTracker();
    const r = limit1('by_flow');
    const at = (flow: number): Verdict => tracker.check(r, 0, A_B, flow, 1, 2);
    assert.deepEqual([at(1), at(1), at(2), at(0)], ['alert', 'silent', 'alert', 'none']);
    tracker.forgetFlow(1);
    assert.equal(at(1), 'alert');
  });

  test('IPv6 sources are tracked apart from IPv4 ones and from each other', () => {
    assert.deepEqual(verdicts(limit1('by_src'), [['2001:db8::1', '1.1.1.1'], ['2001:db8::1', '1.1.1.2'], ['2001:db8::2', '1.1.1.1'], ['0.0.0.1', '1.1.1.1']]), ['alert', 'silent', 'alert', 'alert']);
  });

  test('two rules with the same threshold do not share entries', () => {
    const tracker = new ThresholdTracker();
    const t: Threshold = { type: 'limit', track: 'by_src', count: 1, seconds: 60 };
    assert.deepEqual([tracker.check(rule(1, t), 0, A_B, 7, 1, 2), tracker.check(rule(2, t), 0, A_B, 7, 1, 2)], ['alert', 'alert']);
  });
});

describe('detection_filter unique_on (Suricata 8)', () => {
  test('counts distinct destination ports: the 4th distinct port of count 3 alerts, and so does every match after', () => {
    const tracker = new ThresholdTracker();
    const r = rule(1, null, { track: 'by_src', count: 3, seconds: 60, uniqueOn: 'dst_port' });
    const ports = [80, 80, 81, 82, 82, 83, 80, 84];
    assert.deepEqual(
      ports.map((p, i) => tracker.check(r, i, A_B, 7, 50000 + i, p)),
      ['none', 'none', 'none', 'none', 'none', 'alert', 'alert', 'alert'],
    );
    assert.equal(tracker.heldPorts, 0, 'past count the port set is dropped');
    // A new window starts with the current port as its first distinct value.
    assert.deepEqual([80, 81, 82, 83].map((p, i) => tracker.check(r, 100 + i, A_B, 7, 1, p)), ['none', 'none', 'none', 'alert']);
  });

  test('src_port counts source ports', () => {
    const tracker = new ThresholdTracker();
    const r = rule(1, null, { track: 'by_dst', count: 1, seconds: 60, uniqueOn: 'src_port' });
    assert.deepEqual([1000, 1000, 1001].map((p) => tracker.check(r, 0, A_B, 7, p, 22)), ['none', 'none', 'alert']);
  });

  test('the held ports stay under their cap', () => {
    const tracker = new ThresholdTracker(null, { maxPorts: 1000 });
    const r = rule(1, null, { track: 'by_src', count: 50_000, seconds: 60, uniqueOn: 'dst_port' });
    for (let i = 0; i < 5000; i++) tracker.check(r, 0, addrs(`10.0.${i >> 8}.${i & 255}`, '10.9.9.9'), 7, 1, i);
    for (let p = 0; p < 5000; p++) tracker.check(r, 0, A_B, 7, 1, p);
    assert.ok(tracker.heldPorts <= 1001, `${tracker.heldPorts} ports held`);
    assert.ok(tracker.evictions > 0);
  });
});

describe('threshold.config', () => {
  const config = (text: string) => {
    const c = parseThresholdConfig(text, 'threshold.config', DEFAULT_VARS);
    assert.deepEqual(c.problems, []);
    return new ThresholdTracker(c);
  };

  test('suppress without track: the rule never alerts (silent, so its actions still apply)', () => {
    const tracker = config('suppress gen_id 1, sig_id 5\n');
    assert.deepEqual(run(tracker, rule(5, null), [0, 1]), ['silent', 'silent']);
    assert.equal(tracker.check(rule(6, null), 0, A_B, 7, 1, 2), 'alert');
  });

  test('suppress gen_id 1, sig_id 0 covers every gid 1 rule; gen_id 0, sig_id 0 every rule', () => {
    const byGid = config('suppress gen_id 1, sig_id 0\n');
    assert.equal(byGid.check(rule(5, null), 0, A_B, 7, 1, 2), 'silent');
    assert.equal(byGid.check(rule(5, null, null, 3), 0, A_B, 7, 1, 2), 'alert');
    const all = config('suppress gen_id 0, sig_id 0\n');
    assert.equal(all.check(rule(5, null, null, 3), 0, A_B, 7, 1, 2), 'silent');
  });

  test('suppress by_src with a CIDR list: silent only for sources in the list', () => {
    const tracker = config('suppress gen_id 1, sig_id 5, track by_src, ip [10.0.0.0/8, 192.168.1.1]\n');
    const r = rule(5, null);
    const at = (s: string, d: string): Verdict => tracker.check(r, 0, addrs(s, d), 7, 1, 2);
    assert.deepEqual([at('10.1.2.3', '8.8.8.8'), at('192.168.1.1', '8.8.8.8'), at('192.168.1.2', '8.8.8.8'), at('8.8.8.8', '10.1.2.3')], ['silent', 'silent', 'alert', 'alert']);
  });

  test('suppress by_dst and by_either, with a rule variable and IPv6', () => {
    const byDst = config('suppress gen_id 1, sig_id 5, track by_dst, ip $HOME_NET\n');
    assert.deepEqual(
      [byDst.check(rule(5, null), 0, addrs('8.8.8.8', '192.168.3.4'), 7, 1, 2), byDst.check(rule(5, null), 0, addrs('192.168.3.4', '8.8.8.8'), 7, 1, 2)],
      ['silent', 'alert'],
    );
    const either = config('suppress gen_id 1, sig_id 5, track by_either, ip fe80::/10\n');
    const r = rule(5, null);
    assert.deepEqual(
      [either.check(r, 0, addrs('fe80::1', '2001:db8::1'), 7, 1, 2), either.check(r, 0, addrs('2001:db8::1', 'fe80::1'), 7, 1, 2), either.check(r, 0, addrs('2001:db8::1', '2001:db8::2'), 7, 1, 2)],
      ['silent', 'silent', 'alert'],
    );
  });

  test('a suppressed match does not count toward the threshold', () => {
    const tracker = config('suppress gen_id 1, sig_id 5, track by_dst, ip 10.0.0.99\n');
    const r = rule(5, { type: 'limit', track: 'by_src', count: 1, seconds: 60 });
    assert.equal(tracker.check(r, 0, addrs('10.0.0.1', '10.0.0.99'), 7, 1, 2), 'silent');
    assert.equal(tracker.check(r, 1, addrs('10.0.0.1', '10.0.0.2'), 7, 1, 2), 'alert');
    assert.equal(tracker.check(r, 2, addrs('10.0.0.1', '10.0.0.2'), 7, 1, 2), 'silent');
  });

  test('a threshold for gid:sid replaces the rule’s own threshold, and its detection_filter', () => {
    const tracker = config('threshold gen_id 1, sig_id 5, type limit, track by_src, count 3, seconds 60\nevent_filter gen_id 1, sig_id 6, type limit, track by_src, count 1, seconds 60\n');
    assert.deepEqual(run(tracker, rule(5, { type: 'limit', track: 'by_src', count: 1, seconds: 60 }), [0, 1, 2, 3]), ['alert', 'alert', 'alert', 'silent']);
    assert.deepEqual(run(tracker, rule(6, null, { track: 'by_src', count: 5, seconds: 60 }), [0, 1]), ['alert', 'silent']);
  });

  test('gen_id 0, sig_id 0 thresholds apply only to rules without their own', () => {
    const tracker = config('threshold gen_id 0, sig_id 0, type limit, track by_src, count 1, seconds 60\n');
    assert.deepEqual(run(tracker, rule(1, null), [0, 1]), ['alert', 'silent']);
    assert.deepEqual(run(tracker, rule(2, { type: 'limit', track: 'by_src', count: 2, seconds: 60 }), [0, 1, 2]), ['alert', 'alert', 'silent']);
    assert.deepEqual(run(tracker, rule(3, null, { track: 'by_src', count: 1, seconds: 60 }), [0, 1]), ['none', 'alert']);
  });

  test('file order decides: a gid:sid entry replaces an earlier sig_id 0 one, a later sig_id 0 entry does not replace it', () => {
    const specificLast = config('threshold gen_id 0, sig_id 0, type limit, track by_src, count 1, seconds 60\nthreshold gen_id 1, sig_id 5, type limit, track by_src, count 2, seconds 60\n');
    assert.deepEqual(run(specificLast, rule(5, null), [0, 1, 2]), ['alert', 'alert', 'silent']);
    const specificFirst = config('threshold gen_id 1, sig_id 5, type limit, track by_src, count 2, seconds 60\nthreshold gen_id 0, sig_id 0, type limit, track by_src, count 1, seconds 60\n');
    assert.deepEqual(run(specificFirst, rule(5, null), [0, 1, 2]), ['alert', 'alert', 'silent']);
  });

  test('rate_filter always alerts; past count in the window its new action holds for timeout seconds', () => {
    const tracker = config('rate_filter gen_id 1, sig_id 5, track by_src, count 2, seconds 60, new_action drop, timeout 10\n');
    const r = rule(5, null);
    const seen: Array<[Verdict, string | null]> = [0, 1, 2, 5, 13, 14].map((t) => [tracker.check(r, t, A_B, 7, 1, 2), tracker.newAction]);
    assert.deepEqual(seen, [
      ['alert', null],
      ['alert', null],
      ['alert', 'drop'],
      ['alert', 'drop'],
      ['alert', null],
      ['alert', 'drop'],
    ]);
  });

  test('a rate_filter for gid:sid does not replace the rule’s own threshold', () => {
    const tracker = config('rate_filter gen_id 1, sig_id 5, track by_src, count 1, seconds 60, new_action drop, timeout 10\n');
    const r = rule(5, { type: 'limit', track: 'by_src', count: 1, seconds: 60 });
    assert.deepEqual(run(tracker, r, [0, 1, 2]), ['alert', 'silent', 'silent']);
    assert.equal(tracker.newAction, null);
  });
});

describe('engine gate', () => {
  test('packets are counted by their addresses and flow; non-IP packets alert; flow-end matches use the flow', () => {
    const tracker = new ThresholdTracker();
    const gate = thresholdGate(tracker);
    const r = rule(1, { type: 'limit', track: 'by_src', count: 1, seconds: 60 });
    const p = new Packet();
    p.ipVersion = 4;
    p.addr.set(A_B);
    const flow = new Flow();
    flow.id = 9;
    flow.addr.set(addrs('10.0.0.5', '10.0.0.2'));
    assert.deepEqual([gate(r, p, flow, 0), gate(r, p, flow, 1)], ['alert', 'silent']);
    const link = new Packet();
    assert.equal(gate(r, link, null, 2), 'alert', 'no IP header: Suricata does not threshold it');
    assert.deepEqual([gate(r, null, flow, 3), gate(r, null, flow, 4)], ['alert', 'silent'], 'the flow’s client 10.0.0.5 is a new source, then a known one');
  });
});

describe('memory', () => {
  test('a million distinct sources stay under the cap; the overflow is counted as evictions', () => {
    const tracker = new ThresholdTracker();
    const r = rule(1, { type: 'limit', track: 'by_src', count: 1, seconds: 3600 });
    const a = addrs('0.0.0.0', '10.0.0.1');
    let alerts = 0;
    let max = 0;
    for (let i = 0; i < 1_000_000; i++) {
      a[3] = 0x0b000000 + i;
      if (tracker.check(r, i * 0.001, a, 7, 1, 2) === 'alert') alerts++;
      if (tracker.size > max) max = tracker.size;
    }
    assert.equal(alerts, 1_000_000, 'every new source alerts once');
    assert.ok(max <= tracker.maxEntries, `peak ${max} entries`);
    assert.ok(tracker.evictions >= 1_000_000 - tracker.maxEntries, `${tracker.evictions} evictions`);
    assert.equal(tracker.expired, 0);
  });

  test('at the cap, expired entries go first and nothing live is evicted', () => {
    const tracker = new ThresholdTracker(null, { maxEntries: 1000 });
    const r = rule(1, { type: 'limit', track: 'by_src', count: 1, seconds: 60 });
    const a = addrs('0.0.0.0', '10.0.0.1');
    // 10 new sources a second with a 60 s window: about 600 are live at any time.
    for (let i = 0; i < 20_000; i++) {
      a[3] = 0x0b000000 + i;
      tracker.check(r, i / 10, a, 7, 1, 2);
      assert.ok(tracker.size <= 1000);
    }
    assert.ok(tracker.expired > 10_000, `${tracker.expired} expired`);
    assert.equal(tracker.evictions, 0);
  });

  test('by_flow entries count toward the cap too', () => {
    const tracker = new ThresholdTracker(null, { maxEntries: 100 });
    const r = rule(1, { type: 'backoff', track: 'by_flow', count: 1, seconds: 0, multiplier: 10 });
    for (let f = 1; f <= 1000; f++) tracker.check(r, f, A_B, f, 1, 2);
    assert.ok(tracker.size <= 100);
    assert.ok(tracker.evictions >= 900);
  });
});

describe('threshold and detection_filter keywords', () => {
  const apply = (options: Array<[string, string]>, proto = 'tcp'): RuleBuilder => {
    const b = new RuleBuilder(proto, new Map());
    for (const [name, value] of options) (name === 'threshold' ? threshold : detectionFilter).apply(b, value);
    return b;
  };

  test('threshold options in any order, with any spacing', () => {
    const want: Threshold = { type: 'both', track: 'by_src', count: 5, seconds: 360 };
    assert.deepEqual(apply([['threshold', 'type both, track by_src, count 5, seconds 360']]).threshold, want);
    assert.deepEqual(apply([['threshold', 'seconds 360,count 5 , track  by_src,type both']]).threshold, want);
  });

  test('every type and track parses; backoff takes a multiplier and needs by_flow', () => {
    for (const type of ['limit', 'threshold', 'both'] as const) {
      for (const track of ['by_src', 'by_dst', 'by_both', 'by_rule', 'by_flow'] as const) {
        assert.deepEqual(apply([['threshold', `type ${type}, track ${track}, count 2, seconds 9`]]).threshold, { type, track, count: 2, seconds: 9 });
      }
    }
    assert.deepEqual(apply([['threshold', 'type backoff, track by_flow, count 1, multiplier 10']]).threshold, { type: 'backoff', track: 'by_flow', count: 1, seconds: 0, multiplier: 10 });
  });

  test('bad threshold options are errors that say what is allowed', () => {
    const bad: Array<[string, RegExp]> = [
      ['type limit, track by_src, count 1', /missing seconds/],
      ['type limit, track by_src, seconds 60', /missing count/],
      ['type sometimes, track by_src, count 1, seconds 60', /type "sometimes" is not limit, threshold, both, backoff/],
      ['type limit, track by_port, count 1, seconds 60', /track "by_port" is not by_src, by_dst, by_both, by_rule, by_flow/],
      ['type limit, track by_src, count 0, seconds 60', /count must be at least 1/],
      ['type limit, track by_src, count x, seconds 60', /count "x" is not a whole number/],
      ['type limit, track by_src, count 1, seconds 60, count 2', /"count" is given twice/],
      ['type limit, track by_src, count 1, seconds 60, within 4', /unknown option "within"/],
      ['type backoff, track by_flow, count 1, seconds 60', /backoff takes a multiplier, not seconds/],
      ['type backoff, track by_src, count 1, multiplier 10', /backoff needs track by_flow/],
      ['type limit, track by_src, count 1, multiplier 10', /multiplier is only for type backoff/],
    ];
    for (const [value, re] of bad) assert.throws(() => apply([['threshold', value]]), (e: unknown) => e instanceof RuleError && re.test(e.message), value);
  });

  test('a rule may have one threshold or one detection_filter, not two of them', () => {
    const t = 'type limit, track by_src, count 1, seconds 60';
    const d = 'track by_src, count 1, seconds 60';
    assert.throws(() => apply([['threshold', t], ['threshold', t]]), /only one threshold/);
    assert.throws(() => apply([['detection_filter', d], ['detection_filter', d]]), /only one detection_filter/);
    assert.throws(() => apply([['threshold', t], ['detection_filter', d]]), /both threshold and detection_filter/);
    assert.throws(() => apply([['detection_filter', d], ['threshold', t]]), /both threshold and detection_filter/);
  });

  test('detection_filter parses every track and unique_on; unique_on needs ports; count and seconds at least 1', () => {
    assert.deepEqual(apply([['detection_filter', 'seconds 2, track by_src, count 15']]).detectionFilter, { track: 'by_src', count: 15, seconds: 2 });
    assert.deepEqual(apply([['detection_filter', 'track by_flow, count 10, seconds 60, unique_on dst_port']]).detectionFilter, { track: 'by_flow', count: 10, seconds: 60, uniqueOn: 'dst_port' });
    assert.throws(() => apply([['detection_filter', 'track by_src, count 10, seconds 60, unique_on dst_port']], 'icmp'), /unique_on dst_port needs a protocol with ports/);
    assert.throws(() => apply([['detection_filter', 'track by_src, count 10, seconds 60, unique_on ttl']]), /unique_on "ttl" is not src_port or dst_port/);
    assert.throws(() => apply([['detection_filter', 'track by_src, count 10, seconds 0']]), /seconds must be at least 1/);
    assert.throws(() => apply([['detection_filter', 'track by_src, count 10']]), /missing seconds/);
  });

  test('every threshold and detection_filter in the enabled ET Open 2024 rules parses', (t) => {
    const dir = shared(t, 'rules', 'et-open-suricata5-2024-04-21');
    if (dir === null) return;
    let seen = 0;
    const failures: string[] = [];
    for (const name of readdirSync(dir).filter((f) => f.endsWith('.rules')).sort()) {
      for (const line of splitRuleFile(readFileSync(join(dir, name), 'utf8'))) {
        if (line.disabled) continue;
        let syntax;
        try {
          syntax = parseRuleSyntax(line.text);
        } catch {
          continue; // not this test's subject: rule syntax has its own tests
        }
        const options = syntax.options.filter((o) => o.name === 'threshold' || o.name === 'detection_filter');
        if (options.length === 0) continue;
        seen += options.length;
        try {
          apply(options.map((o): [string, string] => [o.name, o.value ?? '']), syntax.proto);
        } catch (err) {
          failures.push(`${name}:${line.line}: ${(err as Error).message}`);
        }
      }
    }
    assert.deepEqual(failures, []);
    // The snapshot's enabled rules hold 1,984 threshold and 3 detection_filter options (grep agrees).
    assert.equal(seen, 1987);
  });
});
