import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import { API, HEADER, sign, type EnrollReply, type IngestReply } from '../../src/api/contract.js';
import { createToken } from '../../src/collector/auth.js';
import { OPENAPI } from '../../src/collector/openapi.js';
import { openStore } from '../../src/collector/store/index.js';
import type { Store } from '../../src/collector/store/store.js';
import { tempDir } from '../helpers.js';
import { alert, call, enrollVia, eveTime, gz, json, LIMITS, parseMetrics, postgres, ship, signedHeaders, startTest, type Credential } from './server-kit.js';

/*
 * The collector end to end over HTTPS: enrolment, a stored and acknowledged batch, and every
 * refusal of issue 6's "Rejected without storing anything", each leaving the store exactly as
 * it was; metrics, OpenAPI, and the query API's ISC shapes after a rollup pass. The same
 * acceptance runs on SQLite and, when OUTPOST_TEST_PG is set, on PostgreSQL.
 */

async function enrolled(t: TestContext, store: Store, c: Awaited<ReturnType<typeof startTest>>): Promise<Credential> {
  const token = await createToken(store, { expires: Date.now() + 60_000, uses: 1 });
  const r = await enrollVia(c, token, 'test-sensor');
  assert.equal(r.status, 200, r.text);
  const e = json<EnrollReply>(r);
  assert.match(e.sensor_id, /^s-[a-z2-7]{10}$/);
  assert.match(e.secret, /^[0-9a-f]{64}$/);
  assert.equal(e.ca, c.caPem, 'enrolment hands out the CA the sensor pins');
  t.diagnostic(`enrolled ${e.sensor_id}`);
  return { sensor: e.sensor_id, secret: e.secret };
}

/** The store's holdings: event count and the sensor's acknowledgement. */
async function holdings(store: Store, sensor: string): Promise<{ events: number; acked: number | undefined }> {
  return { events: (await store.counts()).events, acked: (await store.getSensor(sensor))?.acked };
}

async function acceptance(t: TestContext, store: Store): Promise<void> {
  const c = await startTest(t, store);
  const cred = await enrolled(t, store, c);
  const refusals = new Map<string, number>();

  /** Sends a batch that must be refused with `status`/`error` and leave the store as it was. */
  const refused = async (what: string, status: number, error: string, send: () => Promise<{ status: number; text: string }>, reason?: RegExp): Promise<void> => {
    const before = await holdings(store, cred.sensor);
    const r = await send();
    assert.equal(r.status, status, `${what}: ${r.text}`);
    const body = JSON.parse(r.text) as { error: string; reason: string };
    assert.equal(body.error, error, what);
    assert.equal(typeof body.reason, 'string');
    if (reason !== undefined) assert.match(body.reason, reason, what);
    assert.deepEqual(await holdings(store, cred.sensor), before, `${what}: nothing stored`);
    refusals.set(error, (refusals.get(error) ?? 0) + 1);
  };

  await t.test('a signed batch is stored and acknowledged; a resend counts as duplicates', async () => {
    const body = gz(Array.from({ length: 10 }, (_, i) => alert(i + 1, { minute: i })));
    const r = await ship(c, cred, body);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(json<IngestReply>(r), { acked: 10, stored: 10, duplicates: 0 });
    assert.equal((await store.counts()).events, 10);
    const again = await ship(c, cred, body);
    assert.deepEqual(json<IngestReply>(again), { acked: 10, stored: 0, duplicates: 10 });
    assert.equal((await store.counts()).events, 10);
    const stored = await store.searchEvents({ sensor_id: cred.sensor, limit: 1000 });
    assert.equal(stored.events.length, 10);
    for (const e of stored.events) {
      const rec = JSON.parse(e.json) as Record<string, unknown>;
      assert.equal(rec.sensor_id, cred.sensor, 'the collector sets sensor_id from the credential');
      assert.equal(rec.seq, e.seq);
    }
  });

  await t.test('a record naming its own sensor_id is accepted and stored with exactly one sensor_id', async () => {
    const rec = { ...alert(11), sensor_id: cred.sensor };
    const r = await ship(c, cred, gz([rec]));
    assert.deepEqual(json<IngestReply>(r), { acked: 11, stored: 1, duplicates: 0 });
    const page = await store.searchEvents({ sensor_id: cred.sensor, limit: 1000 });
    const e = page.events.find((x) => x.seq === 11);
    assert.ok(e !== undefined);
    assert.equal(e.json.split('"sensor_id"').length, 2);
    assert.equal((JSON.parse(e.json) as { sensor_id: string }).sensor_id, cred.sensor);
  });

  await t.test('a duplicated sensor_id key cannot smuggle another id into the stored text', async () => {
    // JSON.parse keeps the last duplicate (the signer's id); a first-wins reader of the stored text must not see the other.
    const line = (seq: number, key: string): string => JSON.stringify(alert(seq)).replace('{', `{"sensor_id":"s-zzzzzzzzzz",${key}:${JSON.stringify(cred.sensor)},`);
    const r = await ship(c, cred, gz([line(12, '"sensor_id"'), line(13, '"sensor\\u005fid"')]));
    assert.deepEqual(json<IngestReply>(r), { acked: 13, stored: 2, duplicates: 0 });
    const page = await store.searchEvents({ sensor_id: cred.sensor, limit: 1000 });
    for (const seq of [12, 13]) {
      const text = page.events.find((x) => x.seq === seq)!.json;
      assert.doesNotMatch(text, /s-zzzzzzzzzz/, `seq ${seq}`);
    }
  });

  const good = (seq: number): Record<string, unknown> => alert(seq);

  await t.test('CRLF line ends and blank lines are accepted; the stored text is the record', async () => {
    const lines = [JSON.stringify(alert(16, { minute: 1 })), '', '  ', JSON.stringify({ ...alert(17, { minute: 2 }), sensor_id: cred.sensor })];
    const r = await ship(c, cred, gzipSync(lines.join('\r\n') + '\r\n'));
    assert.deepEqual(json<IngestReply>(r), { acked: 13, stored: 2, duplicates: 0 }, 'acked waits for 14 and 15');
    const page = await store.searchEvents({ sensor_id: cred.sensor, limit: 1000 });
    for (const seq of [16, 17]) assert.doesNotMatch(page.events.find((x) => x.seq === seq)!.json, /\r/);
  });

  await t.test('unauthenticated: no header, bad signature, unknown sensor, stale time', async () => {
    const body = gz([good(20)]);
    await refused('no authorization', 401, 'unauthenticated', () => call(c, 'POST', API.events, { body, headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' } }), /no authorization/);
    await refused('bad signature', 401, 'unauthenticated', () => ship(c, { sensor: cred.sensor, secret: randomBytes(32).toString('hex') }, body), /bad signature/);
    await refused('signature over other bytes', 401, 'unauthenticated', () =>
      call(c, 'POST', API.events, { body, headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip', [HEADER.auth]: sign(cred.sensor, cred.secret, { method: 'POST', path: API.events, body: gz([good(21)]) }) } }),
    );
    await refused('unknown sensor', 401, 'unauthenticated', () => ship(c, { sensor: 's-aaaaaaaaaa', secret: cred.secret }, body), /unknown sensor/);
    await refused('stale timestamp', 401, 'stale', () => ship(c, cred, body, { now: Math.floor(Date.now() / 1000) - 1000 }), /clock/);
  });

  await t.test('replayed: the same header and body twice', async () => {
    const body = gz([good(14), good(15)]);
    const headers = { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip', [HEADER.auth]: sign(cred.sensor, cred.secret, { method: 'POST', path: API.events, body }) };
    const first = await call(c, 'POST', API.events, { body, headers });
    assert.deepEqual(json<IngestReply>(first), { acked: 17, stored: 2, duplicates: 0 }, 'the hole is filled');
    await refused('replayed', 409, 'replayed', () => call(c, 'POST', API.events, { body, headers }));
  });

  await t.test('oversized: body past max-body, inflation bomb, too many events', async () => {
    const big = randomBytes(LIMITS.maxBody + 1024);
    await refused('oversized body', 413, 'too_large', () => ship(c, cred, big));
    const bomb = gzipSync(Buffer.alloc(4 * 1024 * 1024, 0x20), { level: 9 });
    assert.ok(bomb.length < LIMITS.maxBody / 4, 'the bomb is small as sent');
    await refused('inflation bomb', 413, 'too_large', () => ship(c, cred, bomb), /inflates past/);
    await refused('too many events', 413, 'too_large', () => ship(c, cred, gz(Array.from({ length: LIMITS.maxEvents + 1 }, (_, i) => good(100 + i)))), /more than 50 events/);
  });

  await t.test('malformed: not gzip, a bad JSON line, a line that is not an object', async () => {
    await refused('not gzip', 400, 'malformed', () => ship(c, cred, Buffer.from('{"not":"gzip"}\n')), /gzip/);
    await refused('bad JSON line', 400, 'malformed', () => ship(c, cred, gz([good(14), '{"event_type":"alert",', good(15)])), /line 2/);
    await refused('array line', 400, 'malformed', () => ship(c, cred, gz([good(14), '[1,2]'])), /line 2: not a JSON object/);
    await refused('invalid UTF-8', 400, 'malformed', () => ship(c, cred, gzipSync(Buffer.concat([Buffer.from(JSON.stringify(good(14)).slice(0, -1) + ',"x":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')]))), /UTF-8/);
    await refused('unsupported encoding', 415, 'unsupported', () => ship(c, cred, gz([good(14)]), { extra: { 'content-encoding': 'br' } }));
    await refused('wrong content type', 415, 'unsupported', () => ship(c, cred, gz([good(14)]), { extra: { 'content-type': 'text/plain' } }));
  });

  await t.test('invalid: schema violation, unknown event_type, no seq', async () => {
    const wrongType = { ...good(15), alert: { ...(good(15).alert as object), signature_id: 'nine' } };
    await refused('schema violation', 422, 'invalid', () => ship(c, cred, gz([good(14), wrongType])), /line 2 \(alert\): alert\.signature_id: must be number/);
    const missing = good(15);
    delete missing.pkt_src;
    await refused('required field missing', 422, 'invalid', () => ship(c, cred, gz([missing])), /line 1 \(alert\): pkt_src: is required/);
    await refused('unknown event_type', 422, 'invalid', () => ship(c, cred, gz([good(14), { ...good(15), event_type: 'teleport' }])), /line 2: unknown event_type "teleport"/);
    const noSeq = good(14);
    delete noSeq.seq;
    await refused('no seq', 422, 'invalid', () => ship(c, cred, gz([noSeq])), /seq/);
    await refused('seq 0', 422, 'invalid', () => ship(c, cred, gz([good(0)])), /seq/);
    await refused('bad timestamp', 422, 'invalid', () => ship(c, cred, gz([{ ...good(14), timestamp: 'yesterday' }])), /timestamp/);
    await refused('port out of range', 422, 'invalid', () => ship(c, cred, gz([{ ...good(14), dest_port: 70000 }])), /dest_port/);
  });

  await t.test('wrong_sensor: a body claiming another sensor_id', async () => {
    await refused('another sensor_id', 403, 'wrong_sensor', () => ship(c, cred, gz([good(14), { ...good(15), sensor_id: 's-bbbbbbbbbb' }])), /line 2/);
  });

  await t.test('/metrics counts the refusals by reason, and the stored events', async () => {
    const r = await call(c, 'GET', API.metrics);
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^text\/plain/);
    const m = parseMetrics(r.text);
    for (const [error, n] of refusals) assert.equal(m.get(`outpost_ingest_rejected_total{reason="${error}"}`), n, error);
    assert.equal(m.get('outpost_ingest_events_total{result="stored"}'), 17);
    assert.equal(m.get('outpost_ingest_events_total{result="duplicate"}'), 10);
    assert.equal(m.get('outpost_ingest_batches_total'), 6);
    assert.equal(m.get('outpost_ingest_batch_seconds_count'), 6);
    assert.equal(m.get('outpost_ingest_batch_seconds_bucket{le="+Inf"}'), 6);
    assert.equal(m.get('outpost_store_events'), 17);
    assert.equal(m.get('outpost_sensors{state="active"}'), 1);
    assert.ok((m.get('process_uptime_seconds') ?? -1) >= 0);
  });

  await t.test('query routes answer in ISC shapes after a rollup pass', async () => {
    // Day 2004-04-21: 17 alerts from 203.0.113.66 to 192.168.1.10:443 so far; add a second port and source.
    const more = [alert(18, { src: '198.51.100.7', port: 445, sid: 9000100, minute: 5 }), alert(19, { src: '198.51.100.8', port: 445, sid: 9000100, minute: 6 }), alert(20, { src: '198.51.100.7', dest: '192.168.1.11', port: 445, sid: 9000100, minute: 7 })];
    assert.equal((await ship(c, cred, gz(more))).status, 200);
    await store.rollup(Date.now());

    const ports = await call(c, 'GET', '/api/v1/top/ports?date=2004-04-21&limit=5');
    assert.equal(ports.status, 200, ports.text);
    assert.deepEqual(json(ports), [
      { rank: 1, targetport: 443, records: 17, targets: 1, sources: 1 },
      { rank: 2, targetport: 445, records: 3, targets: 2, sources: 2 },
    ]);
    const sources = await call(c, 'GET', '/api/v1/top/sources?date=2004-04-21');
    assert.deepEqual(json(sources), [
      { rank: 1, source: '203.0.113.66', reports: 17, targets: 1 },
      { rank: 2, source: '198.51.100.7', reports: 2, targets: 2 },
      { rank: 3, source: '198.51.100.8', reports: 1, targets: 1 },
    ]);
    const sigs = await call(c, 'GET', '/api/v1/top/signatures?date=2004-04-21');
    assert.deepEqual(json(sigs), [
      { rank: 1, sid: 9000001, signature: 'OUTPOST test signature 9000001', records: 17, sources: 1, targets: 1 },
      { rank: 2, sid: 9000100, signature: 'OUTPOST test signature 9000100', records: 3, sources: 2, targets: 2 },
    ]);
    const history = await call(c, 'GET', '/api/v1/ports/445/history?from=2004-04-20&to=2004-04-23&grain=day');
    assert.deepEqual(json(history), [
      { date: '2004-04-20', records: 0, targets: 0, sources: 0 },
      { date: '2004-04-21', records: 3, targets: 2, sources: 2 },
      { date: '2004-04-22', records: 0, targets: 0, sources: 0 },
    ]);
    const empty = await call(c, 'GET', '/api/v1/top/ports?date=2004-04-22');
    assert.deepEqual(json(empty), []);

    const page1 = json<{ events: Array<Record<string, unknown>>; next: string | null }>(await call(c, 'GET', `/api/v1/events?port=445&limit=2&from=${encodeURIComponent(eveTime(0).slice(0, 19))}`));
    assert.deepEqual(page1.events.map((e) => e.seq), [20, 19]);
    assert.notEqual(page1.next, null);
    const page2 = json<{ events: Array<Record<string, unknown>>; next: string | null }>(await call(c, 'GET', `/api/v1/events?port=445&limit=2&cursor=${page1.next!}`));
    assert.deepEqual(page2.events.map((e) => e.seq), [18]);
    const bySid = json<{ events: unknown[] }>(await call(c, 'GET', '/api/v1/events?sid=9000100&type=alert&ip=198.51.100.8'));
    assert.equal(bySid.events.length, 1);

    const sensors = json<Array<Record<string, unknown>>>(await call(c, 'GET', '/api/v1/sensors'));
    assert.equal(sensors.length, 1);
    assert.equal(sensors[0]!.id, cred.sensor);
    assert.equal(sensors[0]!.name, 'test-sensor');
    assert.equal(sensors[0]!.acked, 20);
    assert.equal(typeof sensors[0]!.last_seen, 'string');
    assert.equal(sensors[0]!.revoked, null);

    assert.ok(Array.isArray(json(await call(c, 'GET', '/api/v1/verdicts'))));

    for (const bad of ['/api/v1/top/ports?date=2004-02-30', '/api/v1/top/ports?limit=0', '/api/v1/events?port=99999', '/api/v1/events?from=noon', '/api/v1/ports/http/history', '/api/v1/ports/80/history?grain=week', '/api/v1/ports/80/history?grain=minute&from=2004-01-01&to=2004-04-01']) {
      const r = await call(c, 'GET', bad);
      assert.equal(r.status, 400, bad);
      assert.equal(json(r).error, 'bad_request', bad);
    }
  });

  await t.test('sensor_stats in a batch shows on /api/v1/sensors', async () => {
    const stats = {
      timestamp: eveTime(30),
      event_type: 'sensor_stats',
      seq: 21,
      sensor_stats: { version: '0.1.0', uptime: 60, pps: 1234, packets: 5000, capture_drops: 2, internal_drops: 1, spool_depth: 7, spool_bytes: 900, spool_dropped: 0, acked_seq: 20, next_seq: 22, rules: {}, app_layer: {} },
    };
    assert.equal((await ship(c, cred, gz([stats]))).status, 200);
    const s = json<Array<Record<string, unknown>>>(await call(c, 'GET', '/api/v1/sensors'))[0]!;
    assert.equal(s.version, '0.1.0');
    assert.equal(s.pps, 1234);
    assert.equal(s.drops, 3);
    assert.equal(s.spool_depth, 7);
  });

  await t.test('a batch may only declare lost events: the acknowledgement passes over them', async () => {
    const r = await ship(c, cred, gz([]), { extra: { [HEADER.lostThrough]: '23' } });
    assert.deepEqual(json<IngestReply>(r), { acked: 23, stored: 0, duplicates: 0 });
    const empty = Buffer.alloc(0);
    const bare = await call(c, 'POST', API.events, { body: empty, headers: { ...signedHeaders(cred, empty, { extra: { [HEADER.lostThrough]: '25' } }), 'content-encoding': 'identity' } });
    assert.deepEqual(json<IngestReply>(bare), { acked: 25, stored: 0, duplicates: 0 });
    await refused('bad lost-through', 400, 'malformed', () => ship(c, cred, gz([]), { extra: { [HEADER.lostThrough]: '-1' } }), /lost-through/);
  });

  await t.test('the lost-through header is signed: changed in transit, the batch is refused', async () => {
    const body = gz([]);
    const headers = signedHeaders(cred, body, { extra: { [HEADER.lostThrough]: '26' } });
    await refused('tampered lost-through', 401, 'unauthenticated', () => call(c, 'POST', API.events, { body, headers: { ...headers, [HEADER.lostThrough]: '100000' } }), /bad signature/);
  });

  await t.test('an unknown sensor is refused before its body is read: an oversized body gets 401, not 413', async () => {
    const big = randomBytes(LIMITS.maxBody + 1024);
    await refused('unknown sensor, oversized body', 401, 'unauthenticated', () => ship(c, { sensor: 's-bbbbbbbbbb', secret: cred.secret }, big), /unknown sensor or bad signature/);
    await refused('no authorization, oversized body', 401, 'unauthenticated', () => call(c, 'POST', API.events, { body: big, headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' } }));
  });

  await t.test('a record nested past 32 levels is refused, and nothing stored', async () => {
    const deep = `${'['.repeat(5000)}"x"${']'.repeat(5000)}`;
    const withDeep = (rec: Record<string, unknown>, at: string): string => JSON.stringify(rec).replace(`"${at}":"DEEP"`, `"${at}":${deep}`);
    const alertLine = withDeep({ ...good(30), alert: { ...(good(30).alert as object), metadata: 'DEEP' } }, 'metadata');
    await refused('deep nesting', 422, 'invalid', () => ship(c, cred, gz([alertLine])), /nested deeper than 32/);
    const statsLine = withDeep({ timestamp: eveTime(0), event_type: 'sensor_stats', seq: 31, sensor_stats: 'DEEP' }, 'sensor_stats');
    await refused('deep sensor_stats', 422, 'invalid', () => ship(c, cred, gz([statsLine])), /nested deeper/);
  });

  await t.test('requests to paths no route serves do not grow /metrics', async () => {
    for (let i = 0; i < 20; i++) await call(c, 'POST', `/no/such/path/${i}`, { body: Buffer.from('{bad json'), headers: { 'content-type': 'application/json' } });
    const text = (await call(c, 'GET', API.metrics)).text;
    assert.doesNotMatch(text, /no\/such\/path/);
  });

  await t.test('revoked: refused at once', async () => {
    assert.equal(await store.revokeSensor(cred.sensor, Date.now()), true);
    await refused('revoked sensor', 403, 'revoked', () => ship(c, cred, gz([good(22)])), /revoked/);
  });
}

test('the collector on SQLite: stores, acknowledges, and refuses without storing anything', async (t) => {
  const store = await openStore({ data: tempDir(t) });
  t.after(() => store.close());
  await acceptance(t, store);
});

test('the collector on PostgreSQL: the same acceptance', async (t) => {
  const url = await postgres(t);
  if (url === null) return;
  const store = await openStore({ database: url });
  t.after(() => store.close());
  await acceptance(t, store);
});

test('enrolment: a token is good for its uses only, an expired one never; bad bodies are refused', async (t) => {
  const store = await openStore({ data: tempDir(t) });
  t.after(() => store.close());
  const c = await startTest(t, store);
  const once = await createToken(store, { expires: null, uses: 1 });
  assert.equal((await enrollVia(c, once)).status, 200);
  const spent = await enrollVia(c, once);
  assert.equal(spent.status, 403);
  assert.equal(json(spent).error, 'bad_token');
  const twice = await createToken(store, { expires: Date.now() + 60_000, uses: 2 });
  assert.equal((await enrollVia(c, twice, 'a')).status, 200);
  assert.equal((await enrollVia(c, twice, 'b')).status, 200);
  assert.equal((await enrollVia(c, twice, 'c')).status, 403);
  const expired = await createToken(store, { expires: Date.now() - 1, uses: 5 });
  assert.equal(json(await enrollVia(c, expired)).error, 'bad_token');
  assert.equal(json(await enrollVia(c, 'no-such-token')).error, 'bad_token');
  const badName = await enrollVia(c, await createToken(store, { expires: null, uses: 1 }), 'bad name!');
  assert.equal(badName.status, 400);
  assert.equal(json(badName).error, 'malformed');
  const notJson = await call(c, 'POST', API.enroll, { body: '{"token":', headers: { 'content-type': 'application/json' } });
  assert.equal(notJson.status, 400);
  assert.equal(json(notJson).error, 'malformed');
  assert.equal((await store.listSensors()).length, 3);
  const m = parseMetrics((await call(c, 'GET', API.metrics)).text);
  assert.equal(m.get('outpost_enrolments_total{result="ok"}'), 3);
  assert.equal(m.get('outpost_enrolments_total{result="refused"}'), 5);
});

test('rate limit: a sensor over its events per second gets 429 with Retry-After, and nothing is stored', async (t) => {
  const store = await openStore({ data: tempDir(t) });
  t.after(() => store.close());
  const c = await startTest(t, store, { ingest: { ...LIMITS, rateLimit: 10 } });
  const cred = await enrolled(t, store, c);
  // The bucket holds two seconds' worth (20 events).
  const first = await ship(c, cred, gz(Array.from({ length: 15 }, (_, i) => alert(i + 1))));
  assert.equal(first.status, 200, first.text);
  const before = (await store.counts()).events;
  const second = await ship(c, cred, gz(Array.from({ length: 15 }, (_, i) => alert(i + 16))));
  assert.equal(second.status, 429, second.text);
  assert.equal(json(second).error, 'rate_limited');
  assert.match(String(second.headers['retry-after']), /^[1-9]\d*$/);
  assert.equal((await store.counts()).events, before);
});

test('/api/docs is OpenAPI 3.1 JSON describing every route the collector serves', async (t) => {
  const store = await openStore({ data: tempDir(t) });
  t.after(() => store.close());
  const c = await startTest(t, store);
  const r = await call(c, 'GET', API.docs);
  assert.equal(r.status, 200);
  const doc = json<{ openapi: string; paths: Record<string, Record<string, unknown>> }>(r);
  assert.equal(doc.openapi, '3.1.0');
  assert.ok(c.routes.length >= 12, `routes: ${c.routes.join(', ')}`);
  for (const route of c.routes) {
    const [method, path] = route.split(' ') as [string, string];
    const openapiPath = path.replace(/:(\w+)/g, '{$1}');
    assert.ok(doc.paths[openapiPath]?.[method.toLowerCase()] !== undefined, `${route} is in /api/docs`);
  }
  assert.deepEqual(JSON.parse(JSON.stringify(OPENAPI)), doc);
  const health = await call(c, 'GET', API.healthz);
  assert.deepEqual(json(health), { ok: true });
  const missing = await call(c, 'GET', '/nothing/here');
  assert.equal(missing.status, 404);
  assert.equal(json(missing).error, 'not_found');
});

test('the CA persists across restarts: a sensor pinned to it keeps working', async (t) => {
  const store = await openStore({ data: tempDir(t) });
  t.after(() => store.close());
  const data = tempDir(t);
  const first = await startTest(t, store, { data });
  assert.equal(first.caCreated, true);
  const cred = await enrolled(t, store, first);
  await first.close();
  const second = await startTest(t, store, { data });
  assert.equal(second.caCreated, false);
  assert.equal(second.caPem, first.caPem);
  assert.equal(second.caFingerprint, first.caFingerprint);
  const r = await ship(second, cred, gz([alert(1)]));
  assert.equal(r.status, 200, r.text);
});
