import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CaptureOpenError, readCapture, startLiveCapture, type LiveCapture } from '../../src/capture/index.js';
import { explainTcpdumpFailure } from '../../src/capture/live.js';
import { LinkType } from '../../src/capture/linktype.js';
import { tempDir, tool } from '../helpers.js';

/** Fails a promise that has not settled in `ms`, so a hung tcpdump fails the test instead of hanging it. */
function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

test("tcpdump's permission-denied text becomes advice to run as root or grant capabilities", () => {
  for (const stderr of [
    "tcpdump: lo: You don't have permission to capture on that device\n(socket: Operation not permitted)\n",
    "tcpdump: lo: You don't have permission to perform this capture on that device\n(socket: Operation not permitted)\n",
  ]) {
    const m = explainTcpdumpFailure(stderr, 1);
    assert.match(m, /^tcpdump lacks permission to capture \(tcpdump: lo: You don't have permission/);
    assert.match(m, /Run as root, or grant the capability: setcap cap_net_raw,cap_net_admin=eip/);
  }
});

test("tcpdump's other failures are named: no such interface, bad filter, anything else with its code", () => {
  assert.match(explainTcpdumpFailure('tcpdump: eth9: No such device exists\n(SIOCGIFHWADDR: No such device)\n', 1), /^no such interface \(tcpdump: eth9: No such device exists .*\); list them with: tcpdump -D$/);
  assert.match(explainTcpdumpFailure("tcpdump: can't parse filter expression: syntax error\n", 1), /^the capture filter is not valid BPF \(tcpdump: can't parse filter expression: syntax error\)$/);
  assert.equal(explainTcpdumpFailure('tcpdump: listening on lo, link-type EN10MB\nsomething odd\n', 2), 'tcpdump exited with code 2: something odd');
  assert.equal(explainTcpdumpFailure('', null), 'tcpdump exited with code unknown');
});

test('a tcpdump that cannot be run rejects `done` saying it is not installed, and the source ends', async () => {
  const live = startLiveCapture('lo', [], { tcpdump: '/nonexistent/tcpdump' });
  const read = readCapture(live.source, () => {}).then(
    () => 'read',
    (err: unknown) => (err as Error).message,
  );
  await assert.rejects(within(5000, 'done', live.done), (err: unknown) => {
    assert.ok(err instanceof CaptureOpenError);
    assert.match(err.message, /^tcpdump -i lo: cannot run \/nonexistent\/tcpdump: it is not installed or not on PATH/);
    return true;
  });
  assert.equal(await within(5000, 'the read', read), 'tcpdump -i lo: is empty');
});

test('live capture on lo delivers the datagrams sent before stop(), none lost at the stop', async (t) => {
  if (!tool(t, 'tcpdump')) return;
  const receiver = createSocket('udp4');
  t.after(() => receiver.close());
  await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve));
  const port = receiver.address().port;
  let listening = '';
  const live: LiveCapture = startLiveCapture('lo', ['udp', 'and', 'dst', 'port', String(port)], {
    onListening: (m) => {
      listening = m;
    },
  });
  t.after(() => live.stop());
  const payloads: string[] = [];
  const reading = readCapture(live.source, (f) => {
    payloads.push(Buffer.from(f.data.subarray(f.offset + f.caplen - 10, f.offset + f.caplen)).toString());
    assert.equal(f.linktype, LinkType.ETHERNET);
    assert.equal(f.truncated, false);
  });
  for (let i = 0; listening === '' && i < 200; i++) await delay(25);
  assert.match(listening, /^listening on lo, link-type EN10MB/);
  const sender = createSocket('udp4');
  t.after(() => sender.close());
  const sent: string[] = [];
  for (let i = 0; i < 5; i++) {
    const text = `outpost-${String(i).padStart(2, '0')}`;
    sent.push(text);
    await new Promise<void>((resolve, reject) => sender.send(text, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  }
  // Well under tcpdump's one-second buffer timeout: without immediate mode these would be lost.
  await delay(300);
  live.stop();
  const summary = await within(10_000, 'the read after stop()', reading);
  await within(10_000, 'tcpdump to exit', live.done);
  assert.equal(summary.damage, null);
  assert.equal(summary.file, 'tcpdump -i lo');
  assert.deepEqual(payloads, sent);
  assert.equal(live.droppedByKernel, 0);
});

test('packets the kernel drops when its buffer overflows are counted from tcpdump\'s report', async (t) => {
  if (!tool(t, 'tcpdump')) return;
  const receiver = createSocket('udp4');
  t.after(() => receiver.close());
  await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve));
  const port = receiver.address().port;
  let listening = false;
  // A 64 KiB buffer is a single slot on lo: a burst cannot fit.
  const live = startLiveCapture('lo', ['udp', 'and', 'dst', 'port', String(port)], { bufferKiB: 64, onListening: () => (listening = true) });
  t.after(() => live.stop());
  let frames = 0;
  const reading = readCapture(live.source, () => frames++);
  for (let i = 0; !listening && i < 200; i++) await delay(25);
  assert.ok(listening, 'tcpdump started');
  assert.equal(live.droppedByKernel, null, 'not known before tcpdump exits');
  const sender = createSocket('udp4');
  t.after(() => sender.close());
  const n = 500;
  const burst = Buffer.alloc(1000);
  await Promise.all(Array.from({ length: n }, () => new Promise<void>((resolve) => sender.send(burst, port, '127.0.0.1', () => resolve()))));
  await delay(300);
  live.stop();
  await within(10_000, 'the read after stop()', reading);
  await within(10_000, 'tcpdump to exit', live.done);
  assert.ok(live.droppedByKernel !== null && live.droppedByKernel > 0, `dropped ${live.droppedByKernel}`);
  assert.ok(frames < n, `${frames} of ${n} captured`);
});

test('a capture filter tcpdump rejects makes `done` reject with the filter named as the problem', async (t) => {
  if (!tool(t, 'tcpdump')) return;
  const live = startLiveCapture('lo', ['tcp', 'port']);
  const read = readCapture(live.source, () => {}).catch(() => null);
  await assert.rejects(within(10_000, 'done', live.done), /^Error: tcpdump -i lo: the capture filter is not valid BPF/);
  await read;
});

test('tcpdump without the privilege to capture (run as nobody) is reported as lacking permission', async (t) => {
  if (!tool(t, 'tcpdump') || !tool(t, 'setpriv')) return;
  if (process.getuid?.() !== 0) {
    t.skip('dropping privileges to nobody needs root');
    return;
  }
  const dir = tempDir(t);
  const wrapper = join(dir, 'tcpdump-as-nobody');
  writeFileSync(wrapper, '#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all tcpdump "$@"\n');
  chmodSync(wrapper, 0o755);
  const live = startLiveCapture('lo', [], { tcpdump: wrapper });
  const read = readCapture(live.source, () => {}).catch(() => null);
  await assert.rejects(within(10_000, 'done', live.done), (err: unknown) => {
    assert.ok(err instanceof CaptureOpenError);
    assert.match(err.message, /^tcpdump -i lo: tcpdump lacks permission to capture \(tcpdump: lo: You don't have permission.*\)\. Run as root, or grant the capability/);
    return true;
  });
  await read;
});
