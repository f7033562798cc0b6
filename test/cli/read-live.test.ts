import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { Exit } from '../../src/cli/exit.js';
import { SynthCapture, UdpFlow } from '../../src/synth/index.js';
import { outpostBin, tempDir, tool } from '../helpers.js';
import { flowKeys, flows, runOutpost } from './run.js';

/** Every wait in these tests is bounded: a hung tcpdump fails the test, it does not hang the suite. */
const LISTEN_MS = 15_000;
const EXIT_MS = 15_000;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(what: string, ms: number, ok: () => boolean): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await delay(20);
  }
}

/** A TCP server on 127.0.0.1 that answers every line it gets, closed when the test ends. */
async function echoServer(t: TestContext): Promise<number> {
  const server: Server = createServer((s) => {
    s.on('data', (d) => s.end(`echo ${d.toString()}`));
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('server has no port');
  return addr.port;
}

/** Opens a connection, sends a line, reads the answer to the end, and returns the client port. */
function converse(port: number, text: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let local = 0;
    const c = connect(port, '127.0.0.1', () => {
      local = c.localPort!; // gone once the socket closes
      c.write(text);
    });
    let answer = '';
    c.on('data', (d) => (answer += d.toString()));
    c.on('error', reject);
    c.on('close', () => (answer === `echo ${text}` ? resolve(local) : reject(new Error(`answer ${answer}`))));
  });
}

interface LiveRun {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startLive(t: TestContext, args: string[]): LiveRun {
  const child = spawn(process.execPath, [outpostBin, 'read', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    // SIGTERM first: outpost stops its tcpdump. A SIGKILL alone would leave tcpdump running.
    child.kill('SIGTERM');
    await Promise.race([new Promise((resolve) => child.once('close', resolve)), delay(5000)]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function exitWithin(run: LiveRun, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`outpost did not exit within ${ms} ms; stderr: ${run.stderr()}`)), ms);
  });
  return Promise.race([run.exited, timeout]).finally(() => clearTimeout(timer));
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`outpost read -i lo stopped by ${signal}: exit 0, the connections as flows on stdout, the summary on stderr`, async (t) => {
    if (!tool(t, 'tcpdump')) return;
    const port = await echoServer(t);
    const run = startLive(t, ['-i', 'lo', `tcp port ${port}`]);
    await until('tcpdump listening', LISTEN_MS, () => /listening on lo/.test(run.stderr()) || run.child.exitCode !== null);
    assert.match(run.stderr(), /^outpost read: tcpdump listening on lo, .*; stop with Ctrl-C$/m);
    const clientPorts: number[] = [];
    const n = signal === 'SIGINT' ? 3 : 1;
    for (let i = 0; i < n; i++) clientPorts.push(await converse(port, `hello ${i}\n`));
    await delay(300); // tcpdump writes each packet as it comes; leave it a moment to do so
    run.child.kill(signal);
    const { code, signal: killedBy } = await exitWithin(run, EXIT_MS);
    assert.equal(killedBy, null, `outpost died of ${killedBy}`);
    assert.equal(code, Exit.OK, run.stderr());
    const got = flows(run.stdout());
    assert.deepEqual(got.map((f) => f.src_port).sort(), clientPorts.sort(), run.stdout());
    for (const f of got) {
      assert.equal(f.proto, 'TCP');
      assert.equal(f.src_ip, '127.0.0.1');
      assert.equal(f.dest_ip, '127.0.0.1');
      assert.equal(f.dest_port, port);
      assert.equal(f.in_iface, 'lo');
      const counts = f.flow as { pkts_toserver: number; pkts_toclient: number };
      // SYN, data, ACKs and FIN each way: every packet of the connection was captured.
      assert.ok(counts.pkts_toserver >= 3 && counts.pkts_toclient >= 3, `${JSON.stringify(counts)}\n${run.stdout()}\n${run.stderr()}`);
    }
    assert.match(run.stderr(), /^outpost read: 1 capture, \d+ packets, /m);
    assert.match(run.stderr(), new RegExp(`^ {2}flows: ${n} \\(tcp ${n}\\)$`, 'm'));
    assert.doesNotMatch(run.stderr(), /internal error|\n\s+at /);
  });
}

test('outpost read -i with tcpdump not on PATH: a clear message and exit 4', (t) => {
  const emptyPath = tempDir(t);
  const r = runOutpost(['read', '-i', 'lo'], { env: { ...process.env, PATH: emptyPath } });
  assert.equal(r.status, Exit.LIVE, r.stderr);
  assert.match(r.stderr, /^outpost read: tcpdump -i lo: cannot run tcpdump: it is not installed or not on PATH \(Debian: apt-get install tcpdump\)$/m);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
});

test('outpost read -i with an interface that does not exist: a clear message and exit 4', (t) => {
  if (!tool(t, 'tcpdump')) return;
  const r = runOutpost(['read', '-i', 'nosuchif0']);
  assert.equal(r.status, Exit.LIVE, r.stderr);
  assert.match(r.stderr, /^outpost read: tcpdump -i nosuchif0: no such interface \(.*nosuchif0.*\); list them with: tcpdump -D$/m);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
});

test('outpost read -i with a filter tcpdump rejects: a clear message and exit 4', (t) => {
  if (!tool(t, 'tcpdump')) return;
  const r = runOutpost(['read', '-i', 'lo', 'tcp', 'port']);
  assert.equal(r.status, Exit.LIVE, r.stderr);
  assert.match(r.stderr, /^outpost read: tcpdump -i lo: the capture filter is not valid BPF \(/m);
});

test('outpost read -i without the privilege to capture (run as nobody): advice to fix it and exit 4', (t) => {
  if (!tool(t, 'tcpdump') || !tool(t, 'setpriv')) return;
  if (process.getuid?.() !== 0) {
    t.skip('dropping privileges to nobody needs root');
    return;
  }
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', process.execPath, outpostBin, 'read', '-i', 'lo'], { timeout: 60_000, cwd: '/' });
  const stderr = r.stderr.toString();
  assert.equal(r.status, Exit.LIVE, stderr);
  assert.match(stderr, /^outpost read: tcpdump -i lo: tcpdump lacks permission to capture \(.*permission.*\)\. Run as root, or grant the capability: setcap cap_net_raw,cap_net_admin=eip/m);
});

test('outpost read -i runs tcpdump -U --immediate-mode -B -w - with the filter, and reports what tcpdump says', (t) => {
  const dir = tempDir(t);
  const pcap = join(dir, 'live.pcap');
  const cap = new SynthCapture(pcap);
  new UdpFlow(cap, '10.5.0.1:1000', '10.5.0.2:53').send('client', 'q').send('server', 'a');
  cap.close();
  // A stand-in tcpdump: its "listening" line comes in two writes, its packets are a crafted pcap,
  // and its exit statistics report drops, as the real one's do.
  const fake = join(dir, 'tcpdump');
  writeFileSync(
    fake,
    `#!/bin/sh
printf '%s\\n' "$@" > "$0.args"
printf 'tcpdump: listening on lo' >&2
sleep 0.2
printf ', link-type EN10MB (Ethernet), snapshot length 262144 bytes\\n' >&2
cat "$0.pcap"
printf '2 packets captured\\n5 packets received by filter\\n3 packets dropped by kernel\\n' >&2
`,
  );
  chmodSync(fake, 0o755);
  writeFileSync(`${fake}.pcap`, readFileSync(pcap));
  const r = runOutpost(['read', '-i', 'lo', 'udp', 'port', '53'], { env: { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}` } });
  assert.equal(r.status, Exit.OK, r.stderr);
  const args = readFileSync(`${fake}.args`, 'utf8').trimEnd().split('\n');
  for (const a of ['-U', '--immediate-mode', '-n']) assert.ok(args.includes(a), `${a} in ${args.join(' ')}`);
  assert.deepEqual(args.slice(args.indexOf('-w'), args.indexOf('-w') + 2), ['-w', '-']);
  assert.ok(Number(args[args.indexOf('-B') + 1]) >= 8192, 'a kernel buffer large enough for bursts');
  assert.deepEqual(args.slice(-5), ['-i', 'lo', 'udp', 'port', '53']);
  assert.match(r.stderr, /^outpost read: tcpdump listening on lo, link-type EN10MB \(Ethernet\), snapshot length 262144 bytes; stop with Ctrl-C$/m);
  assert.match(r.stderr, /^outpost read: tcpdump -i lo: the kernel dropped 3 packets while tcpdump fell behind$/m);
  assert.deepEqual(flowKeys(r.stdout), ['10.5.0.1:1000 -> 10.5.0.2:53 UDP']);
  assert.equal(flows(r.stdout)[0]!.in_iface, 'lo');
});

test('outpost read -i -q says nothing on stderr when all goes well', (t) => {
  const dir = tempDir(t);
  const pcap = join(dir, 'live.pcap');
  const cap = new SynthCapture(pcap);
  new UdpFlow(cap, '10.5.0.1:1000', '10.5.0.2:53').send('client', 'q');
  cap.close();
  const fake = join(dir, 'tcpdump');
  writeFileSync(fake, `#!/bin/sh\nprintf 'tcpdump: listening on lo, link-type EN10MB (Ethernet)\\n' >&2\ncat "$0.pcap"\n`);
  chmodSync(fake, 0o755);
  writeFileSync(`${fake}.pcap`, readFileSync(pcap));
  const r = runOutpost(['read', '-q', '-i', 'lo'], { env: { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}` } });
  assert.equal(r.status, Exit.OK);
  assert.equal(r.stderr, '');
  assert.equal(flows(r.stdout).length, 1);
});
