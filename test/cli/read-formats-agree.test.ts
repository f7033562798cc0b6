import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { LinkType } from '../../src/capture/linktype.js';
import { PcapngWriter } from '../../src/capture/pcapng-writer.js';
import { PcapWriter } from '../../src/capture/writer.js';
import { Exit } from '../../src/cli/exit.js';
import { SynthCapture, TcpConnection, UdpFlow } from '../../src/synth/index.js';
import { tempDir } from '../helpers.js';
import { pcapBytes } from '../capture/craft.js';
import { flowKeys, runOutpost, withoutFlowIds } from './run.js';

/** One capture's traffic, written in every container the reader accepts. */
function conversation(linktype: number = LinkType.ETHERNET): Array<{ sec: number; usec: number; frame: Buffer }> {
  const cap = new SynthCapture(null, linktype, { start: 1082541600 });
  new TcpConnection(cap, '192.168.7.1:33000', '192.168.7.2:8080').handshake().send('client', 'PING\r\n').send('server', 'PONG\r\n').close();
  new UdpFlow(cap, '192.168.7.1:4000', '192.168.7.3:4001').send('client', 'x');
  // Exact microseconds, so every container carries the same times.
  return cap.frames!.map((f, i) => ({ sec: 1082541600 + Math.floor(i / 4), usec: (i % 4) * 250_000, frame: f.frame }));
}

test('the same traffic in pcap (both byte orders, µs and ns), pcapng (both orders) and gzip gives the same records', (t) => {
  const dir = tempDir(t);
  const frames = conversation();
  const files: string[] = [];
  const add = (name: string, bytes: Buffer): void => {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    files.push(p);
  };
  const recs = frames.map((f) => ({ sec: f.sec, frac: f.usec, data: f.frame }));
  add('le.pcap', pcapBytes(recs));
  add('be.pcap', pcapBytes(recs, { bigEndian: true }));
  add('ns-be.pcap', pcapBytes(frames.map((f) => ({ sec: f.sec, frac: f.usec * 1000, data: f.frame })), { bigEndian: true, nanoseconds: true }));
  for (const bigEndian of [false, true]) {
    const p = join(dir, `${bigEndian ? 'be' : 'le'}.pcapng`);
    const w = new PcapngWriter(p, { bigEndian });
    w.addInterface({ linktype: LinkType.ETHERNET, tsresol: 9 });
    for (const f of frames) w.packet(0, f.sec + f.usec / 1e6, f.frame);
    w.close();
    files.push(p);
  }
  add('le.pcap.gz', gzipSync(readFileSync(files[0]!)));
  const outputs = files.map((p) => {
    const r = runOutpost(['read', '-q', p]);
    assert.equal(r.status, Exit.OK, `${p}: ${r.stderr}`);
    return withoutFlowIds(r.stdout);
  });
  assert.deepEqual(flowKeys(outputs[0]!), ['192.168.7.1:33000 -> 192.168.7.2:8080 TCP', '192.168.7.1:4000 -> 192.168.7.3:4001 UDP']);
  outputs.forEach((o, i) => assert.equal(o, outputs[0], `${files[i]} gives the same records as ${files[0]}`));
});

test('a pcapng with Ethernet, LINUX_SLL and RAW interfaces decodes the flows of all three', (t) => {
  const path = join(tempDir(t), 'multi.pcapng');
  const w = new PcapngWriter(path);
  const kinds = [LinkType.ETHERNET, LinkType.LINUX_SLL, LinkType.RAW];
  kinds.forEach((lt) => w.addInterface({ linktype: lt }));
  kinds.forEach((lt, ifid) => {
    const cap = new SynthCapture(null, lt);
    new UdpFlow(cap, `10.9.${ifid}.1:${5000 + ifid}`, `10.9.${ifid}.2:53`).send('client', 'q').send('server', 'a');
    for (const f of cap.frames!) w.packet(ifid, f.time, f.frame);
  });
  w.close();
  const r = runOutpost(['read', path]);
  assert.equal(r.status, Exit.OK, r.stderr);
  assert.deepEqual(flowKeys(r.stdout), ['10.9.0.1:5000 -> 10.9.0.2:53 UDP', '10.9.1.1:5001 -> 10.9.1.2:53 UDP', '10.9.2.1:5002 -> 10.9.2.2:53 UDP']);
  assert.doesNotMatch(r.stderr, /unsupported link type|not IP/);
});

test('a pcap whose link type field carries FCS bits decodes as Ethernet', (t) => {
  const path = join(tempDir(t), 'fcs.pcap');
  const frames = conversation();
  const fcs = Buffer.from([1, 2, 3, 4]);
  writeFileSync(path, pcapBytes(frames.map((f) => ({ sec: f.sec, frac: f.usec, data: Buffer.concat([f.frame, fcs]) })), { linktypeField: 0x24000001 }));
  const r = runOutpost(['read', path]);
  assert.equal(r.status, Exit.OK, r.stderr);
  assert.deepEqual(flowKeys(r.stdout), ['192.168.7.1:33000 -> 192.168.7.2:8080 TCP', '192.168.7.1:4000 -> 192.168.7.3:4001 UDP']);
  assert.doesNotMatch(r.stderr, /unsupported link type/);
});

test('a capture cut by a small snaplen says so in the summary', (t) => {
  const path = join(tempDir(t), 'snap.pcap');
  const w = new PcapWriter(path, { snaplen: 54 });
  const frames = conversation();
  for (const f of frames) w.write(f.sec + f.usec / 1e6, f.frame);
  w.close();
  const r = runOutpost(['read', '--types', 'flow', path]);
  assert.equal(r.status, Exit.OK, r.stderr);
  const cut = frames.filter((f) => f.frame.length > 54).length;
  assert.ok(cut > 0);
  assert.match(r.stderr, new RegExp(`packets: ${cut} cut short by the snaplen`));
});
