import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HoneypotEvent } from '../../src/events/honeypot.js';
import { Honeypot } from '../../src/honeypot/index.js';
import { scan } from '../../src/scanner/index.js';
import { runOutpost } from '../cli/run.js';

test("the scanner against the honeypot: PCT enabled, CRITICAL, the SERVER_HELLO bytes as evidence; the honeypot logs the scanner's hellos as probes", async (t) => {
  const events: HoneypotEvent[] = [];
  const hp = new Honeypot({ pct: { host: '127.0.0.1', port: 0 } }, (e) => events.push(e));
  const [addr] = await hp.start();
  t.after(() => hp.stop());
  const report = await scan({ targets: [`127.0.0.1:${addr!.port}`], readTimeoutMs: 1500 });
  const pct = report.findings.find((f) => f.id === 'PCT')!;
  assert.equal(pct.severity, 'CRITICAL');
  assert.equal(pct.cve, 'CVE-2003-0719');
  assert.equal(pct.cvss, '10.0');
  assert.match(pct.evidence, /^[0-9a-f]{4}02[0-9a-f]{2}8001/i, 'a PCT SERVER_HELLO record: header, type 02, pad, version 80 01');
  assert.match(pct.remediation, /PCT 1\.0\\Server/);
  await hp.stop();
  const pctEvents = events.filter((e) => e.honeypot.service === 'pct' && e.honeypot.pct?.classification !== undefined);
  assert.ok(pctEvents.length >= 2, 'the native PCT hello and the SSLv2 hello offering PCT');
  assert.ok(pctEvents.every((e) => e.honeypot.pct!.classification === 'probe'), 'a scanner is a probe, never an exploit attempt');
});

test('outpost scan refuses a target outside loopback without a scope, and scans loopback', () => {
  const refused = runOutpost(['scan', '192.0.2.10']);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /192\.0\.2\.10.*scope/i);
  const closed = runOutpost(['scan', '127.0.0.1:1', '--json', '--timeout', '500']);
  assert.equal(closed.status, 0, closed.stderr);
  const out = JSON.parse(closed.stdout) as { scanResult: Array<{ id: string; finding: string }> };
  assert.ok(out.scanResult.some((f) => f.id === 'service' && /closed/i.test(f.finding)), closed.stdout);
});
