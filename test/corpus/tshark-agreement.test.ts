import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readCapture } from '../../src/capture/reader.js';
import { openByteSource } from '../../src/capture/source.js';
import type { FlowEvent } from '../../src/events/types.js';
import { Pipeline } from '../../src/sensor/pipeline.js';
import { shared, tool } from '../helpers.js';

interface ConvRow {
  proto: 'TCP' | 'UDP';
  a: string;
  b: string;
  /** frames and bytes from a to b ("->"), and from b to a ("<-"); bytes as tshark prints them. */
  aFrames: number;
  aBytes: [number, string];
  bFrames: number;
  bBytes: [number, string];
}

/** Parses `tshark -q -z conv,tcp -z conv,udp`: one row per TCP or UDP conversation. */
function tsharkConversations(file: string): ConvRow[] {
  const text = execFileSync('tshark', ['-q', '-n', '-z', 'conv,tcp', '-z', 'conv,udp', '-r', file], { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] });
  const rows: ConvRow[] = [];
  let proto: 'TCP' | 'UDP' | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('TCP Conversations')) proto = 'TCP';
    else if (line.startsWith('UDP Conversations')) proto = 'UDP';
    const m = /^(\S+)\s+<->\s+(\S+)\s+(\d+)\s+(\d+) (bytes|kB|MB)\s+(\d+)\s+(\d+) (bytes|kB|MB)/.exec(line);
    if (m !== null && proto !== null) {
      rows.push({ proto, a: m[1]!, b: m[2]!, bFrames: Number(m[3]), bBytes: [Number(m[4]), m[5]!], aFrames: Number(m[6]), aBytes: [Number(m[7]), m[8]!] });
    }
  }
  return rows;
}

/** tshark prints bytes in SI units with integer division past 9999: compare at its precision. */
function sameAsPrinted(bytes: number, [n, unit]: [number, string]): boolean {
  if (unit === 'bytes') return bytes === n;
  if (unit === 'kB') return Math.floor(bytes / 1000) === n;
  return Math.floor(bytes / 1e6) === n;
}

function endpoint(ip: string | undefined, port: number | undefined): string {
  return `${ip}:${port}`;
}

async function ourFlows(file: string): Promise<{ flows: FlowEvent[]; frames: number; damaged: boolean }> {
  const flows: FlowEvent[] = [];
  const pipeline = new Pipeline((ev) => {
    if (ev.event_type === 'flow' && (ev.proto === 'TCP' || ev.proto === 'UDP')) flows.push(ev);
  });
  const summary = await readCapture(await openByteSource(file), pipeline.frame);
  pipeline.finish();
  return { flows, frames: summary.frames, damaged: summary.damage !== null };
}

const corpus = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.pcap') || f.endsWith('.pcapng'))
    .sort()
    .map((f) => join(dir, f));

test('every corpus capture is read without damage, and its TCP and UDP flows agree with tshark conv', async (t) => {
  const dir = shared(t, 'corpus');
  if (dir === null || !tool(t, 'tshark')) return;
  const files = corpus(dir);
  assert.ok(files.length >= 20, `expected the corpus captures, found ${files.length}`);
  for (const file of files) {
    await t.test(file.slice(dir.length + 1), async () => {
      const ours = await ourFlows(file);
      assert.equal(ours.damaged, false, 'read without damage');
      const frameCount = Number(execFileSync('capinfos', ['-c', '-M', '-T', '-r', file], { encoding: 'utf8' }).trim().split('\t').pop());
      assert.equal(ours.frames, frameCount, 'frames read = capinfos frame count');

      const rows = tsharkConversations(file);
      assert.equal(ours.flows.length, rows.length, 'flow count = tshark conversation count');
      // Conversations are matched by endpoints; several with the same endpoints (port reuse) by their counts.
      const pending = new Map<string, FlowEvent[]>();
      const key = (proto: string, x: string, y: string): string => `${proto} ${[x, y].sort().join(' ')}`;
      for (const f of ours.flows) {
        const k = key(f.proto!, endpoint(f.src_ip, f.src_port), endpoint(f.dest_ip, f.dest_port));
        pending.set(k, [...(pending.get(k) ?? []), f]);
      }
      for (const r of rows) {
        const candidates = pending.get(key(r.proto, r.a, r.b)) ?? [];
        const i = candidates.findIndex((f) => {
          const forward = endpoint(f.src_ip, f.src_port) === r.a;
          const fromA = forward ? [f.flow.pkts_toserver, f.flow.bytes_toserver] : [f.flow.pkts_toclient, f.flow.bytes_toclient];
          const fromB = forward ? [f.flow.pkts_toclient, f.flow.bytes_toclient] : [f.flow.pkts_toserver, f.flow.bytes_toserver];
          return fromA[0] === r.aFrames && fromB[0] === r.bFrames && sameAsPrinted(fromA[1]!, r.aBytes) && sameAsPrinted(fromB[1]!, r.bBytes);
        });
        assert.ok(i >= 0, `tshark conversation ${r.proto} ${r.a} <-> ${r.b} (${r.aFrames}/${r.bFrames} frames) has a matching flow`);
        candidates.splice(i, 1);
      }
    });
  }
});
