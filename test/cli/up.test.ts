import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { get } from 'node:https';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers.js';
import { kill, startOutpost, waitForLine } from '../network/harness.js';

/**
 * `npm start` runs `outpost up`: a collector on SQLite in the data directory, a local sensor
 * enrolled with it, the seed scenario replayed once, and a last start-up line saying where to
 * look. The API then tells the story: the PCT exploit alert, the bot verdict, the ports.
 */

function fetchJson(url: string, ca: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    get(url, { ca }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`${url}: HTTP ${res.statusCode} ${body}`))));
    }).on('error', reject);
  });
}

test('outpost up: collector, enrolled sensor, the seed scenario replayed once, and where to look', { timeout: 180_000 }, async (t) => {
  const data = join(tempDir(t), 'data');
  const args = ['up', '--data', data, '--listen', '127.0.0.1:0', '--healthz', 'off'];
  const first = startOutpost(t, args);
  const up = await waitForLine(first, /^Outpost is up: (https:\/\/127\.0\.0\.1:\d+)\/$/m, 120_000);
  const url = up[1]!;
  assert.match(first.stderr(), /replayed the seed scenario: \d+ events stored/);
  assert.match(first.stderr(), /verdict: 192\.168\.1\.10 is bot/);
  const lines = first.stderr().trimEnd().split('\n');
  assert.match(lines.at(-1)!, /^Outpost is up: /, 'the last start-up line says where to look');

  const ca = readFileSync(join(data, 'pki', 'ca.pem'), 'utf8');
  const alerts = (await fetchJson(`${url}/api/v1/events?type=alert`, ca)) as { events: Array<{ alert?: { signature_id: number }; json?: string }> };
  const sids = alerts.events.map((e) => (e.alert ?? (JSON.parse(e.json ?? '{}') as { alert?: { signature_id: number } }).alert)?.signature_id);
  assert.ok(sids.includes(9000001), `the PCT exploit alert is stored (sids: ${sids.join(',')})`);
  const ports = (await fetchJson(`${url}/api/v1/top/ports?date=2004-04-30&limit=10`, ca)) as Array<{ targetport: number; records: number }>;
  assert.ok(ports.some((p) => p.targetport === 443 && p.records > 0), 'port 443 is among the top ports of the day');
  const sensors = (await fetchJson(`${url}/api/v1/sensors`, ca)) as Array<{ name: string; acked: number }>;
  assert.equal(sensors.length, 1);
  assert.ok(sensors[0]!.acked > 0);
  assert.equal(await kill(first, 'SIGINT'), 0);

  // A second start keeps the store and does not replay the demo again.
  const second = startOutpost(t, args);
  await waitForLine(second, /^Outpost is up: /m, 120_000);
  assert.match(second.stderr(), /demo: already replayed/);
  const again = (await fetchJson(`${second.stderr().match(/Outpost is up: (\S+)\//)![1]!}/api/v1/sensors`, readFileSync(join(data, 'pki', 'ca.pem'), 'utf8'))) as Array<{ acked: number }>;
  assert.equal(again.length, 1, 'the same local sensor, not a second one');
  assert.ok(again[0]!.acked >= sensors[0]!.acked);
  assert.equal(await kill(second, 'SIGTERM'), 0);
});
