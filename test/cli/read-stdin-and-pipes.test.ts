import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { LinkType } from '../../src/capture/linktype.js';
import { PcapngWriter } from '../../src/capture/pcapng-writer.js';
import { Exit } from '../../src/cli/exit.js';
import { ping, SynthCapture, TcpConnection, UdpFlow } from '../../src/synth/index.js';
import { outpostBin, tempDir, tool } from '../helpers.js';
import { flowKeys, runOutpost, withoutFlowIds } from './run.js';

const EXPECTED = ['10.1.0.1:1025 -> 10.1.0.2:80 TCP', '10.1.0.1:2000 -> 10.1.0.9:53 UDP', '10.1.0.1:undefined -> 10.1.0.2:undefined ICMP'].sort();

function writeTraffic(path: string): void {
  const cap = new SynthCapture(path);
  new TcpConnection(cap, '10.1.0.1:1025', '10.1.0.2:80').handshake().send('client', 'hello').close();
  new UdpFlow(cap, '10.1.0.1:2000', '10.1.0.9:53').send('client', 'q').send('server', 'a');
  ping(cap, '10.1.0.1', '10.1.0.2', 7, 1);
  cap.close();
}

test('`outpost read -` reads a pcap from standard input', (t) => {
  const path = join(tempDir(t), 'x.pcap');
  writeTraffic(path);
  const fromFile = runOutpost(['read', path]);
  const r = runOutpost(['read', '-'], { input: readFileSync(path) });
  assert.equal(r.status, Exit.OK, r.stderr);
  assert.deepEqual(flowKeys(r.stdout), EXPECTED);
  assert.equal(withoutFlowIds(r.stdout), withoutFlowIds(fromFile.stdout), 'stdin gives the same records as the file');
  assert.match(r.stderr, /^outpost read: 1 capture, 12 packets,/);
});

test('`outpost read -` reads a gzipped pcap from standard input', (t) => {
  const path = join(tempDir(t), 'x.pcap');
  writeTraffic(path);
  const r = runOutpost(['read', '-'], { input: gzipSync(readFileSync(path)) });
  assert.equal(r.status, Exit.OK, r.stderr);
  assert.deepEqual(flowKeys(r.stdout), EXPECTED);
});

test('`outpost read -` reads a big-endian pcapng from standard input', (t) => {
  const path = join(tempDir(t), 'x.pcapng');
  const cap = new SynthCapture(null);
  new TcpConnection(cap, '10.1.0.1:1025', '10.1.0.2:80').handshake().send('client', 'hello').close();
  const w = new PcapngWriter(path, { bigEndian: true });
  w.addInterface({ linktype: LinkType.ETHERNET });
  for (const f of cap.frames!) w.packet(0, f.time, f.frame);
  w.close();
  const r = runOutpost(['read', '-'], { input: readFileSync(path) });
  assert.equal(r.status, Exit.OK, r.stderr);
  assert.deepEqual(flowKeys(r.stdout), ['10.1.0.1:1025 -> 10.1.0.2:80 TCP']);
});

test('empty standard input: exit 3, "-: is empty"', () => {
  const r = runOutpost(['read', '-']);
  assert.equal(r.status, Exit.INPUT);
  assert.match(r.stderr, /^outpost read: -: is empty$/m);
});

test('a pcap cut mid-record on standard input: exit 1, damage at the record, flows before it', (t) => {
  const path = join(tempDir(t), 'x.pcap');
  writeTraffic(path);
  const bytes = readFileSync(path);
  const r = runOutpost(['read', '-'], { input: bytes.subarray(0, bytes.length - 10) });
  assert.equal(r.status, Exit.DAMAGED, r.stderr);
  assert.match(r.stderr, /^outpost read: -: damaged at byte offset \d+: capture ends inside a record/m);
  assert.equal(flowKeys(r.stdout).length, 3);
});

test('a process substitution <(...) is read as a pipe: plain and gzipped', (t) => {
  if (!tool(t, 'bash')) return;
  const dir = tempDir(t);
  const path = join(dir, 'x.pcap');
  writeTraffic(path);
  const gz = join(dir, 'x.gz');
  writeFileSync(gz, gzipSync(readFileSync(path)));
  for (const inner of ['cat "$2"', 'cat "$3"']) {
    const r = spawnSync('bash', ['-c', `"$0" "$1" read <(${inner})`, process.execPath, outpostBin, path, gz], { timeout: 60_000 });
    assert.equal(r.status, Exit.OK, r.stderr.toString());
    assert.deepEqual(flowKeys(r.stdout.toString()), EXPECTED);
  }
});

test('SIGINT stops `outpost read -` waiting on an idle pipe: exit 130, the summary and the flows read so far', async (t) => {
  const path = join(tempDir(t), 'x.pcap');
  const cap = new SynthCapture(path);
  new TcpConnection(cap, '10.1.0.1:1025', '10.1.0.2:80').handshake().send('client', 'hello').close();
  // A megabyte more than a pipe holds: when the write completes, outpost has read most of it
  // and so has its signal handlers in place.
  const bulk = new UdpFlow(cap, '10.1.0.1:2000', '10.1.0.9:9');
  for (let i = 0; i < 1000; i++) bulk.send('client', Buffer.alloc(1000));
  cap.close();
  const child = spawn(process.execPath, [outpostBin, 'read', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => child.stdin.write(readFileSync(path), (e) => (e ? reject(e) : resolve())));
  // Standard input stays open and silent: only the signal can end the read.
  child.kill('SIGINT');
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([
    exited,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`outpost ignored SIGINT on an idle pipe; stderr: ${err}`)), 15_000);
    }),
  ]).finally(() => clearTimeout(timer));
  child.stdin.destroy();
  assert.equal(code, Exit.INTERRUPTED, err);
  assert.match(err, /^outpost read: 1 capture, \d+ packets/m);
  assert.ok(flowKeys(out).includes('10.1.0.1:1025 -> 10.1.0.2:80 TCP'), out);
});
