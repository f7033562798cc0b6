import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { openByteSource, readCapture } from '../../src/capture/index.js';
import type { EveEvent } from '../../src/events/types.js';
import { Honeypot } from '../../src/honeypot/index.js';
import { createProtocols } from '../../src/protocols/index.js';
import { compileAddress } from '../../src/rules/addresses.js';
import { DEFAULT_VARS, withHomeNet } from '../../src/rules/vars.js';
import { scan } from '../../src/scanner/index.js';
import { Pipeline } from '../../src/sensor/pipeline.js';
import { tempDir, tool } from '../helpers.js';

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The scanner's safety, on a capture of its own traffic: tcpdump records a full scan of the
 * honeypot on loopback, and Outpost's sensor (the TLS analyzer and the MS04-011 detector) reads
 * it back. Every hello must parse without a structural anomaly, and nothing may look like the
 * exploit: the scanner sends only well-formed probes.
 */
test('a capture of a whole scan shows only well-formed hellos: no anomaly, no exploit-shaped record', async (t) => {
  if (!tool(t, 'tcpdump')) return;
  const hp = new Honeypot({ pct: { host: '127.0.0.1', port: 0 } }, () => {});
  const [addr] = await hp.start();
  t.after(() => hp.stop());
  const port = addr!.port;
  const pcap = join(tempDir(t), 'scan.pcap');
  const dump = spawn('tcpdump', ['-i', 'lo', '-U', '--immediate-mode', '-n', '-w', pcap, `tcp port ${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.after(() => dump.kill('SIGKILL'));
  let err = '';
  dump.stderr.on('data', (d: Buffer) => (err += d.toString()));
  for (const end = Date.now() + 15_000; !/listening on lo/.test(err); await delay(20)) {
    if (Date.now() > end || dump.exitCode !== null) throw new Error(`tcpdump did not start: ${err}`);
  }
  await delay(500); // "listening" comes as the capture opens; give the filter a moment to take effect
  const report = await scan({ targets: [`127.0.0.1:${port}`], readTimeoutMs: 1500 });
  assert.ok(report.findings.some((f) => f.id === 'PCT' && f.severity === 'CRITICAL'));
  await delay(300);
  const exited = new Promise<void>((resolve) => dump.on('exit', () => resolve()));
  dump.kill('SIGTERM');
  await exited;

  const events: EveEvent[] = [];
  const home = compileAddress('$HOME_NET', withHomeNet(DEFAULT_VARS, '127.0.0.0/8', false).addressGroups)!;
  const pipeline = new Pipeline((e) => events.push(e), { app: { protocols: createProtocols() }, behaviour: { home, correlate: false } });
  const summary = await readCapture(await openByteSource(pcap), pipeline.frame);
  assert.ok(summary.frames > 20, `frames captured: ${summary.frames}; tcpdump: ${err}`);
  pipeline.finish();
  const tls = events.filter((e) => e.event_type === 'tls');
  assert.ok(tls.length >= 7, `the scan's SSL and TLS conversations were captured (${tls.length})`);
  for (const e of tls) {
    const rec = (e as { tls: { anomalies?: string[] } }).tls;
    assert.deepEqual(rec.anomalies ?? [], [], `a hello with structural anomalies: ${JSON.stringify(rec)}`);
  }
  const pct = events.filter((e) => e.event_type === 'pct');
  assert.ok(pct.length >= 1, 'the PCT probes are seen as PCT offered');
  assert.ok(pct.every((e) => (e as { pct: { verdict: string } }).pct.verdict === 'offered'), 'never an exploit attempt');
  // The honeypot's own answers may raise server-side events (its SSLv2 "no cipher" error does); the scanner's side raises none.
  const fromScanner = events.filter((e) => e.event_type === 'anomaly' && e.src_port !== port);
  assert.deepEqual(fromScanner, []);
});
