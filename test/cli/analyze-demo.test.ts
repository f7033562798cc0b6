import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeDemoCapture } from '../../src/synth/demo.js';
import { outpostBin, repoRoot, tempDir } from '../helpers.js';

test('the analyze demo (demo/demo.pcap) finds the PCT exploit with the bundled rules, and the truncated packet', (t) => {
  const dir = tempDir(t);
  const capture = join(dir, 'demo.pcap');
  writeDemoCapture(capture);
  const out = join(dir, 'out');
  const summary = execFileSync('node', [outpostBin, 'analyze', capture, '--rules', join(repoRoot, 'rules', 'outpost.rules'), '--home-net', '192.168.1.0/24', '--out', out, '--json-summary', '-q'], { encoding: 'utf8' });
  const s = JSON.parse(summary) as { events: Record<string, number>; alerts: Record<string, number> };
  assert.deepEqual(s.alerts, { '9000001': 1, '9000100': 1 });
  assert.ok((s.events.flow ?? 0) >= 8);
  const fast = readFileSync(join(out, 'fast.log'), 'utf8');
  assert.match(fast, /\[1:9000001:1\] OUTPOST MS04-011 PCT Client_Hello exploit attempt .* \{TCP\} 203\.0\.113\.66:1042 -> 192\.168\.1\.10:443/);
});
