import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { eveTimeMs, RateLimiter } from '../../src/collector/ingest.js';
import { isLoopback } from '../../src/collector/query.js';
import { compileValidators } from '../../src/collector/schema.js';
import { EVENT_SCHEMAS } from '../../src/events/schema.js';
import { runAnalyze } from '../../src/cli/analyze.js';
import { writeScenario } from '../../src/synth/scenarios/index.js';
import { repoRoot, tempDir } from '../helpers.js';

/*
 * The ingest schemas are generated from the same types as docs/events.md, and everything the
 * sensor writes passes them: a sensor must never have its own records refused.
 */

const validators = compileValidators();

test('src/events/schema.ts is what the generator makes from the types (docs:check)', () => {
  const r = spawnSync(process.execPath, [join(repoRoot, 'dist', 'scripts', 'gen-event-docs.js'), '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(validators.types.includes('alert') && validators.types.includes('sensor_stats') && validators.types.includes('spool_drop'));
  assert.deepEqual(validators.types, Object.keys(EVENT_SCHEMAS).sort());
});

test('every record the sensor writes for the seed-bot scenario passes its schema', async (t) => {
  const out = tempDir(t);
  const capture = join(out, 'seed.pcap');
  writeScenario('seed-bot', capture);
  const code = await runAnalyze([capture, '--rules', join(repoRoot, 'rules', 'outpost.rules'), '--home-net', '192.168.1.0/24', '--out', out, '-q', '--payload', '--payload-printable', '--packet']);
  assert.equal(code, 0);
  const lines = readFileSync(join(out, 'eve.json'), 'utf8').split('\n').filter((l) => l !== '');
  const types = new Set<string>();
  for (const line of lines) {
    const rec = JSON.parse(line) as { event_type: string };
    types.add(rec.event_type);
    assert.equal(validators.check(rec.event_type, rec), null, line.slice(0, 300));
  }
  assert.ok(types.size >= 10, `event types seen: ${[...types].join(', ')}`);
});

test('a violation names the field and what was wrong', () => {
  const flow = {
    timestamp: '2004-04-21T10:00:00.000000+0000',
    event_type: 'flow',
    flow: { pkts_toserver: 1, pkts_toclient: 0, bytes_toserver: 60, bytes_toclient: 0, start: 'x', end: 'y', age: 0, state: 'new', reason: 'timeout', alerted: false },
  };
  assert.equal(validators.check('flow', flow), null);
  assert.equal(validators.check('flow', { ...flow, flow: { ...flow.flow, state: 'sleepy' } }), 'flow.state: must be equal to one of the allowed values ("new", "established", "closed")');
  assert.equal(validators.check('flow', { ...flow, vlan: ['x'] }), 'vlan.0: must be number');
  assert.equal(validators.check('flow', { ...flow, timestamp: undefined }), 'timestamp: is required');
  assert.equal(validators.check('flow', { ...flow, extra_field: { anything: 1 } }), null, 'unknown fields pass: EVE readers tolerate them');
  assert.equal(validators.check('teleport', flow), 'unknown');
});

test('EVE timestamps to milliseconds', () => {
  assert.equal(eveTimeMs('2004-04-21T10:00:00.123456+0000'), Date.UTC(2004, 3, 21, 10, 0, 0, 123));
  assert.equal(eveTimeMs('2004-04-21T12:00:00.5+02:00'), Date.UTC(2004, 3, 21, 10, 0, 0, 500));
  assert.equal(eveTimeMs('2004-04-21T10:00:00Z'), Date.UTC(2004, 3, 21, 10));
  for (const bad of ['', 'yesterday', '0004-04-21T10:00:00+0000', '2004-13-01T00:00:00+0000', '2004-04-21 10:00:00+0000', '2004-04-21T25:00:00+0000']) assert.equal(eveTimeMs(bad), null, bad);
});

test('the rate limiter holds two seconds of events and refills at the rate', () => {
  const r = new RateLimiter(100);
  assert.equal(r.take('a', 150, 0), 0);
  assert.equal(r.take('a', 100, 0), 1, '50 left: wait for 50 more');
  assert.equal(r.take('b', 200, 0), 0, 'buckets are per sensor');
  assert.equal(r.take('a', 100, 500), 0, 'half a second refills 50');
  assert.equal(r.take('c', 10_000, 0), 0, 'a batch larger than the bucket passes when it is full');
  assert.equal(r.take('c', 1, 1000), 98, 'and leaves it in debt');
  assert.equal(new RateLimiter(0).take('a', 1e9, 0), 0, '0: no limit');
});

test('loopback addresses', () => {
  for (const a of ['127.0.0.1', '127.9.8.7', '::1', '::ffff:127.0.0.1']) assert.equal(isLoopback(a), true, a);
  for (const a of ['10.0.0.1', '::ffff:10.0.0.1', '128.0.0.1', '::2', undefined]) assert.equal(isLoopback(a), false, String(a));
});
