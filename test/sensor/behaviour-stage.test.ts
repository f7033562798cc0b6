import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Packet } from '../../src/decode/packet.js';
import type { Detector } from '../../src/detect/detector.js';
import { timestampOf } from '../../src/detect/util.js';
import type { EveEvent } from '../../src/events/types.js';
import { secondsOf } from '../../src/events/time.js';
import { BehaviourStage } from '../../src/sensor/behaviour.js';

const rec = (type: string): EveEvent => ({ timestamp: '2004-04-30T10:00:00.000000+0000', event_type: type }) as EveEvent;

test('records get seq in order; a record emitted during dispatch waits until every hook has seen the one before it', () => {
  const out: EveEvent[] = [];
  const stage = new BehaviourStage((e) => out.push(e));
  const seen: string[] = [];
  const emitter: Detector = {
    name: 'a',
    counters: {},
    record: (e) => {
      seen.push(`a:${e.event_type}`);
      if (e.event_type === 'tls') stage.event(rec('pct'));
    },
  };
  const watcher: Detector = { name: 'b', counters: {}, record: (e) => seen.push(`b:${e.event_type}`) };
  stage.add([emitter, watcher]);
  stage.event(rec('tls'));
  assert.deepEqual(seen, ['a:tls', 'b:tls', 'a:pct', 'b:pct'], 'the correlator (last) sees the tls record before the pct record it caused');
  assert.deepEqual(out.map((e) => [e.event_type, e.seq]), [['tls', 1], ['pct', 2]]);
});

test('a hook that throws is counted and the other hooks and later records go on', () => {
  const out: EveEvent[] = [];
  const stage = new BehaviourStage((e) => out.push(e));
  const got: string[] = [];
  const fail = (): never => {
    throw new Error('bug');
  };
  const bad: Detector = { name: 'bad', counters: {}, record: fail, packet: fail, tick: fail, finish: fail };
  const good: Detector = { name: 'good', counters: {}, record: (e) => got.push(e.event_type) };
  stage.add([bad, good]);
  stage.event(rec('flow'));
  stage.event(rec('dns'));
  const p = new Packet();
  p.tsSec = 1083319200;
  stage.packet(p, null, 0);
  stage.finish();
  assert.deepEqual(got, ['flow', 'dns']);
  assert.equal(stage.counters()['bad.errors'], 5);
  assert.equal(out.length, 2);
});

test('a single packet a year ahead does not move the clock; a second one near it does', () => {
  const ticks: number[] = [];
  const stage = new BehaviourStage(() => {});
  stage.add([{ name: 't', counters: {}, tick: (now) => ticks.push(now) }]);
  const p = new Packet();
  for (const t of [1000, 1001, 1001 + 365 * 86400, 1002, 1003]) {
    p.tsSec = t;
    stage.packet(p, null, 0);
  }
  assert.deepEqual(ticks, [1000, 1001, 1002, 1003]);
  assert.equal(stage.timeJumps, 1);
  p.tsSec = 5000000;
  stage.packet(p, null, 0);
  p.tsSec = 5000001;
  stage.packet(p, null, 0);
  assert.deepEqual(ticks.slice(-1), [5000001], 'a capture resuming after a long pause moves the clock once packets agree');
});

test('timestamps of packet times near 1e9 s are exact to the microsecond', () => {
  let wrong = 0;
  for (let us = 0; us < 1_000_000; us += 37) {
    const t = 1083319200 + us / 1e6;
    if (Math.round(secondsOf(timestampOf(t)) * 1e6) !== Math.round(t * 1e6)) wrong++;
  }
  assert.equal(wrong, 0);
  assert.equal(timestampOf(1083319200.000001), '2004-04-30T10:00:00.000001+0000');
});
