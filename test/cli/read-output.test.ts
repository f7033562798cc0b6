import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { Exit } from '../../src/cli/exit.js';
import { ipv4, SynthCapture, tcp, TcpConnection, UdpFlow } from '../../src/synth/index.js';
import { outpostBin, tempDir, tool } from '../helpers.js';
import { flows, records, runOutpost } from './run.js';

/** Two TCP connections, one UDP exchange and one lying IPv4 header (a decoder anomaly). */
function writeTraffic(path: string): void {
  const cap = new SynthCapture(path);
  new TcpConnection(cap, '10.2.0.1:1111', '10.2.0.2:80').handshake().send('client', 'GET / HTTP/1.0\r\n\r\n').send('server', 'HTTP/1.0 200 OK\r\n\r\n').close();
  new TcpConnection(cap, '10.2.0.1:2222', '10.2.0.2:25').handshake().close();
  new UdpFlow(cap, '10.2.0.1:3333', '10.2.0.9:53').send('client', 'q').send('server', 'a');
  cap.send(ipv4({ src: '10.66.6.6', dst: '10.2.0.1', proto: 6, totalLength: 1500 }, tcp({ sport: 6666, dport: 80, seq: 1, flags: 'S' }, new Uint8Array(0), '10.66.6.6', '10.2.0.1')));
  cap.close();
}

/** Many short UDP flows: several hundred KiB of EVE, far more than a pipe holds. */
function writeManyFlows(path: string): void {
  const cap = new SynthCapture(path);
  for (let i = 0; i < 4000; i++) new UdpFlow(cap, `10.3.${i >> 8}.${i & 0xff}:${1024 + i}`, '10.3.255.1:53').send('client', 'q');
  cap.close();
}

test('--format table: a header, then one line per flow with its endpoints and protocol', (t) => {
  const path = join(tempDir(t), 'x.pcap');
  writeTraffic(path);
  const eve = flows(runOutpost(['read', '--types', 'flow', path]).stdout);
  const r = runOutpost(['read', '--format', 'table', '--types', 'flow', path]);
  assert.equal(r.status, Exit.OK, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^time\s+proto\s+client\s+server\s+pkts\s+bytes\s+state\/reason$/);
  assert.equal(lines.length, 1 + eve.length);
  assert.equal(eve.length, 3, 'three conversations (the lying packet makes no flow)');
  assert.ok(lines.slice(1).some((l) => /\bTCP\s+10\.2\.0\.1:1111\s+-> 10\.2\.0\.2:80\s+\d+\s+\d+ B\s+closed\/shutdown$/.test(l)), r.stdout);
  assert.ok(lines.slice(1).some((l) => /\bUDP\s+10\.2\.0\.1:3333\s+-> 10\.2\.0\.9:53\s+2\s+/.test(l)), r.stdout);
  assert.doesNotMatch(r.stdout, /"event_type"/, 'no JSON in the table');
});

test('--format table flags anomalies with "!" and the frame number', (t) => {
  const path = join(tempDir(t), 'x.pcap');
  writeTraffic(path);
  const r = runOutpost(['read', '-f', 'table', '--types', 'anomaly', path]);
  assert.equal(r.status, Exit.OK, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[1]!, /^2004-04-21 10:00:00\.\d+\s+!\s+decoder\.ipv4\.\S+ 10\.66\.6\.6.* \(frame 19\)$/);
});

test('--types flow writes only flow records, --types anomaly only anomalies', (t) => {
  const path = join(tempDir(t), 'x.pcap');
  writeTraffic(path);
  const both = records(runOutpost(['read', path]).stdout);
  const onlyFlows = records(runOutpost(['read', '--types', 'flow', path]).stdout);
  const onlyAnomalies = records(runOutpost(['read', '--types', 'anomaly', path]).stdout);
  assert.ok(onlyFlows.length > 0 && onlyFlows.every((e) => e.event_type === 'flow'));
  assert.ok(onlyAnomalies.length > 0 && onlyAnomalies.every((e) => e.event_type === 'anomaly'));
  assert.equal(onlyFlows.length + onlyAnomalies.length, both.length);
  assert.equal(records(runOutpost(['read', '--types', ' anomaly , flow ', path]).stdout).length, both.length, 'spaces around names are allowed');
});

test('the summary lists packets, bytes, flows by protocol, anomalies by reason and the time taken', (t) => {
  const path = join(tempDir(t), 'x.pcap');
  writeTraffic(path);
  const r = runOutpost(['read', path]);
  assert.equal(r.status, Exit.OK, r.stderr);
  const [first, ...rest] = r.stderr.trimEnd().split('\n');
  assert.match(first!, /^outpost read: 1 capture, 19 packets, \d+(\.\d)? (B|kB) in \d+\.\d\d s \(\S+pps, \S+bit\/s\)$/);
  assert.ok(rest.includes('  flows: 3 (tcp 2, udp 1)'), r.stderr);
  assert.ok(rest.some((l) => /^ {2}anomalies: 1 \(decoder\.ipv4\.\S+ 1\)$/.test(l)), r.stderr);
  assert.ok(rest.some((l) => /^ {2}flow ends: .*shutdown \d/.test(l)), r.stderr);
});

test('--quiet leaves standard error empty', (t) => {
  const path = join(tempDir(t), 'x.pcap');
  writeTraffic(path);
  const r = runOutpost(['read', '-q', path]);
  assert.equal(r.status, Exit.OK);
  assert.equal(r.stderr, '');
  assert.ok(r.stdout.length > 0);
});

test('--help and -h print the read usage on stdout and exit 0', () => {
  for (const flag of ['--help', '-h']) {
    const r = runOutpost(['read', flag]);
    assert.equal(r.status, Exit.OK);
    assert.match(r.stdout, /^usage: outpost read \[options\] <capture>\.\.\./);
    assert.match(r.stdout, /exit codes: 0 done; 1 an input was damaged/);
    assert.equal(r.stderr, '');
  }
});

test('outpost --help exits 0; an unknown command exits 2 with the usage', () => {
  const help = runOutpost(['--help']);
  assert.equal(help.status, Exit.OK);
  assert.match(help.stdout, /^usage: outpost <command>/);
  const unknown = runOutpost(['frobnicate']);
  assert.equal(unknown.status, Exit.USAGE);
  assert.match(unknown.stderr, /^outpost: unknown command "frobnicate"\n\nusage: outpost <command>/);
});

test('an unknown flag prints what is wrong and the usage, exit 2', () => {
  const r = runOutpost(['read', '--frobnicate', 'x.pcap']);
  assert.equal(r.status, Exit.USAGE);
  assert.match(r.stderr, /^outpost read: Unknown option '--frobnicate'/);
  assert.match(r.stderr, /usage: outpost read \[options\] <capture>/);
});

for (const format of ['eve', 'table']) {
  test(`output (${format}) into a pipe closed early (| head -1) exits 0 without a stack trace`, (t) => {
    if (!tool(t, 'bash') || !tool(t, 'head')) return;
    const path = join(tempDir(t), 'many.pcap');
    writeManyFlows(path);
    const r = spawnSync('bash', ['-c', '"$0" "$1" read --format "$2" "$3" | head -1; echo "status=${PIPESTATUS[0]}" >&2', process.execPath, outpostBin, format, path], { timeout: 60_000 });
    const stderr = r.stderr.toString();
    assert.equal(r.stdout.toString().split('\n').length, 2, 'head printed one line');
    assert.match(stderr, /status=0$/m);
    assert.doesNotMatch(stderr, /EPIPE|internal error|\n\s+at /);
    assert.match(stderr, /outpost read: 1 capture, 4000 packets/, 'the summary is still written');
  });
}
