import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { LinkType } from '../../src/capture/linktype.js';
import { PcapngWriter } from '../../src/capture/pcapng-writer.js';
import { PcapWriter } from '../../src/capture/writer.js';
import { Exit } from '../../src/cli/exit.js';
import { SynthCapture, TcpConnection, UdpFlow } from '../../src/synth/index.js';
import { tempDir } from '../helpers.js';
import { flowKeys, flows, runOutpost } from './run.js';

/**
 * Frames of three conversations in order: a whole TCP connection, a DNS-like UDP exchange, then
 * a second TCP connection. Damage in the third leaves the first two to be reported.
 */
function traffic(): Buffer[] {
  const cap = new SynthCapture(null);
  new TcpConnection(cap, '10.0.0.1:40000', '10.0.0.2:80').handshake().send('client', 'GET / HTTP/1.0\r\n\r\n').send('server', 'HTTP/1.0 200 OK\r\n\r\nhello').close();
  new UdpFlow(cap, '10.0.0.1:5353', '10.0.0.3:53').send('client', 'query').send('server', 'answer');
  new TcpConnection(cap, '10.0.0.4:40001', '10.0.0.2:443').handshake().send('client', 'x'.repeat(500)).close();
  return cap.frames!.map((f) => f.frame);
}

const frames = traffic();
const FIRST_TWO = ['10.0.0.1:40000 -> 10.0.0.2:80 TCP', '10.0.0.1:5353 -> 10.0.0.3:53 UDP'];
const ALL_THREE = [...FIRST_TWO, '10.0.0.4:40001 -> 10.0.0.2:443 TCP'].sort();
/** The first frame of the third conversation. */
const THIRD = frames.length - 3 - 2 - 3; // handshake 3, one data segment + ACK 2, close 3

function pcapFile(path: string): number[] {
  const w = new PcapWriter(path);
  const offsets: number[] = [];
  frames.forEach((f, i) => {
    offsets.push(w.written);
    w.write(1082541600 + i, f);
  });
  w.close();
  return offsets;
}

function pcapngFile(path: string): number[] {
  const w = new PcapngWriter(path);
  w.addInterface({ linktype: LinkType.ETHERNET });
  const offsets: number[] = [];
  let at = 28 + 20;
  frames.forEach((f, i) => {
    offsets.push(at);
    w.packet(0, 1082541600 + i, f);
    at += 32 + ((f.length + 3) & ~3);
  });
  w.close();
  return offsets;
}

function damaged(path: string, edit: (b: Buffer) => Buffer): void {
  writeFileSync(path, edit(readFileSync(path)));
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

test('a sound capture exits 0 with every flow on stdout', (t) => {
  const path = join(tempDir(t), 'ok.pcap');
  pcapFile(path);
  const r = runOutpost(['read', path]);
  assert.equal(r.status, Exit.OK, r.stderr);
  assert.deepEqual(flowKeys(r.stdout), ALL_THREE);
  assert.doesNotMatch(r.stderr, /damaged/);
});

const damages: Array<[string, string, (path: string) => number]> = [
  ['a pcap cut mid-record', 'cut.pcap', (p) => {
    const o = pcapFile(p);
    damaged(p, (b) => b.subarray(0, o[THIRD + 1]! + 20));
    return o[THIRD + 1]!;
  }],
  ['a pcap record with an absurd caplen', 'absurd.pcap', (p) => {
    const o = pcapFile(p);
    damaged(p, (b) => {
      b.writeUInt32LE(0xfffffff0, o[THIRD + 1]! + 8);
      return b;
    });
    return o[THIRD + 1]!;
  }],
  ['a pcapng block with a bad length', 'badlen.pcapng', (p) => {
    const o = pcapngFile(p);
    damaged(p, (b) => {
      b.writeUInt32LE(13, o[THIRD + 1]! + 4);
      return b;
    });
    return o[THIRD + 1]! + 4;
  }],
  ['a pcapng block with a bad trailer', 'trailer.pcapng', (p) => {
    const o = pcapngFile(p);
    damaged(p, (b) => {
      b.writeUInt32LE(0, o[THIRD + 2]! - 4);
      return b;
    });
    return o[THIRD + 2]! - 4;
  }],
  ['a pcapng cut mid-block', 'cut.pcapng', (p) => {
    const o = pcapngFile(p);
    damaged(p, (b) => b.subarray(0, o[THIRD + 1]! + 40));
    return o[THIRD + 1]!;
  }],
];

for (const [what, name, make] of damages) {
  test(`${what}: exit 1, the file and byte offset named, everything before it processed`, (t) => {
    const path = join(tempDir(t), name);
    const offset = make(path);
    const r = runOutpost(['read', path]);
    assert.equal(r.status, Exit.DAMAGED, r.stderr);
    assert.match(r.stderr, new RegExp(`^outpost read: ${escape(path)}: damaged at byte offset ${offset}: `, 'm'));
    // The first two conversations are whole; the third is there with the one packet before the damage.
    const got = flowKeys(r.stdout);
    assert.deepEqual(got.slice(0, 2), FIRST_TWO);
    assert.equal(got.length, 3);
    const third = flows(r.stdout).find((f) => f.src_port === 40001)!;
    assert.equal((third.flow as { pkts_toserver: number }).pkts_toserver, 1);
    assert.match(r.stderr, new RegExp(`, ${THIRD + 1} packets,`), 'the summary counts the packets before the damage');
    assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
  });
}

test('a truncated .gz exits 1 naming the .gz and an offset, with the flows before the cut', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'x.pcap');
  pcapFile(path);
  const gz = gzipSync(readFileSync(path));
  const cut = join(dir, 'x.pcap.gz');
  writeFileSync(cut, gz.subarray(0, gz.length - 8)); // the gzip trailer is gone: the data is all there
  const r = runOutpost(['read', cut]);
  assert.equal(r.status, Exit.DAMAGED, r.stderr);
  assert.match(r.stderr, new RegExp(`${escape(cut)}: damaged at byte offset \\d+: gzip stream ends early \\(truncated \\.gz\\)`));
  assert.deepEqual(flowKeys(r.stdout), ALL_THREE);
});

const cannotOpen: Array<[string, (dir: string) => string, RegExp]> = [
  ['a file that is not a capture', (d) => {
    const p = join(d, 'notes.txt');
    writeFileSync(p, 'not a capture at all\n');
    return p;
  }, /: not a pcap or pcapng capture \(first bytes 6e 6f 74 20\)$/m],
  ['an empty file', (d) => {
    const p = join(d, 'empty.pcap');
    writeFileSync(p, '');
    return p;
  }, /: is empty$/m],
  ['a directory', (d) => {
    const p = join(d, 'captures');
    mkdirSync(p);
    return p;
  }, /: is a directory, not a capture file$/m],
  ['a missing file', (d) => join(d, 'missing.pcap'), /: no such file$/m],
];

for (const [what, make, message] of cannotOpen) {
  test(`${what}: exit 3 with a message naming the file`, (t) => {
    const path = make(tempDir(t));
    const r = runOutpost(['read', path]);
    assert.equal(r.status, Exit.INPUT, r.stderr);
    assert.match(r.stderr, new RegExp(`^outpost read: ${escape(path)}: `, 'm'));
    assert.match(r.stderr, message);
    assert.equal(r.stdout, '');
    assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
  });
}

test('with several inputs, each is read, and the exit code is the worst of them', (t) => {
  const dir = tempDir(t);
  const good = join(dir, 'good.pcap');
  pcapFile(good);
  const cut = join(dir, 'cut.pcap');
  const o = pcapFile(cut);
  damaged(cut, (b) => b.subarray(0, o[2]! + 3));
  const missing = join(dir, 'missing.pcap');

  const damagedRun = runOutpost(['read', cut, good]);
  assert.equal(damagedRun.status, Exit.DAMAGED);
  assert.match(damagedRun.stderr, /2 captures,/);

  const worst = runOutpost(['read', missing, cut, good]);
  assert.equal(worst.status, Exit.INPUT);
  assert.match(worst.stderr, /missing\.pcap: no such file/);
  assert.match(worst.stderr, /cut\.pcap: damaged at byte offset/);
  // The good file after the bad ones is still read: all three conversations are there.
  assert.deepEqual([...new Set(flowKeys(worst.stdout))].sort(), ALL_THREE);
});

for (const [what, args] of [
  ['no capture at all', ['read']],
  ['an unknown --format', ['read', '--format', 'xml', 'x.pcap']],
  ['an unknown record type', ['read', '--types', 'flow,alert', 'x.pcap']],
  ['a --max-flows that is not a positive whole number', ['read', '--max-flows', '0', 'x.pcap']],
  ['an unknown flag', ['read', '--bogus', 'x.pcap']],
] as const) {
  test(`${what}: exit 2 with the read usage`, () => {
    const r = runOutpost([...args]);
    assert.equal(r.status, Exit.USAGE);
    assert.match(r.stderr, /^outpost read: .+\n\nusage: outpost read/);
    assert.equal(r.stdout, '');
  });
}
