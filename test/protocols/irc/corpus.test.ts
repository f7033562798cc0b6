/**
 * The corpus IRC captures, through the real capture reader, decoder, flow table and reassembly,
 * against Zeek's own baselines for them (../shared/corpus/irc/zeek-baselines):
 * - events_output: what Zeek's events.test prints for irc-basic, irc-whitespace and
 *   irc-more-commands: our events, printed the same way, must be the same lines in the same order;
 * - longline_weird.log: the weirds of contentline-irc-5k-line.pcap;
 * - irc.log rows: Zeek's baseline irc.log is for irc-dcc-send.pcapng, which the corpus lacks (see
 *   log.test.ts); for the captures we have, the rows below are what main.zeek writes for the
 *   client NICK, USER and JOIN events in events_output, and the counts are checked against it.
 * Times are checked against tshark: each line carries the time of the frame holding its end.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { zeekColumns } from '../../../src/protocols/irc/index.js';
import { shared, tool } from '../../helpers.js';
import { runCapture, type CaptureRun, type IrcFlowResult } from './capture.js';
import { eventsOutputSections, zeekEventLines, zeekLogRows } from './zeek-baselines.js';

const runs = new Map<string, Promise<CaptureRun>>();
/** Each capture is run once for all the tests that look at it. */
function run(dir: string, name: string): Promise<CaptureRun> {
  let r = runs.get(name);
  if (r === undefined) {
    r = runCapture(join(dir, name));
    runs.set(name, r);
  }
  return r;
}

function corpus(t: TestContext): string | null {
  return shared(t, 'corpus', 'irc');
}

function flow(r: CaptureRun, client: string): IrcFlowResult {
  const f = r.irc.find((x) => x.client === client);
  assert.ok(f !== undefined, `an IRC flow from ${client} (have ${r.irc.map((x) => x.client).join(', ')})`);
  return f;
}

/** Our irc.log rows per IRC flow (columns nick..fuid as Zeek prints them), keyed by client endpoint. */
const EXPECTED_ROWS: Record<string, Record<string, string[]>> = {
  'irc-basic.pcap': {
    '192.168.6.110:49170': ['-\t-\tUSER\tbrotest\t* * brotest\t-\t-\t-\t-', '-\tbrotest\tNICK\tbrotest\t* * brotest\t-\t-\t-\t-', 'brotest\tbrotest\tJOIN\t#brotest\t(empty)\t-\t-\t-\t-'],
  },
  'irc-whitespace.pcap': {
    // "USER brotest * * * * * " gives Zeek real name "** * ".
    '192.168.6.110:61203': ['-\t-\tUSER\tbrotest\t* * ** * \t-\t-\t-\t-', '-\tbrotest\tNICK\tbrotest\t* * ** * \t-\t-\t-\t-', 'brotest\tbrotest\tJOIN\t#BROTEST\t(empty)\t-\t-\t-\t-'],
  },
  'irc-more-commands.pcap': {
    '172.16.238.1:40896': ['-\t-\tNICK\ttim\t-\t-\t-\t-\t-', 'tim\t-\tUSER\ttim\ttim 127.0.0.1 Tim\t-\t-\t-\t-', 'tim\ttim\tJOIN\t#testing\t(empty)\t-\t-\t-\t-'],
    '172.16.238.1:52624': [
      '-\t-\tNICK\ttim\t-\t-\t-\t-\t-',
      'tim\t-\tUSER\ttim\ttim 127.0.0.1 Tim\t-\t-\t-\t-',
      // 433: the nick is taken; the client tries tim_, and later "!!!!" (refused, logged all the same).
      'tim\ttim\tNICK\ttim_\ttim 127.0.0.1 Tim\t-\t-\t-\t-',
      'tim_\ttim\tJOIN\t#testing\t(empty)\t-\t-\t-\t-',
      'tim_\ttim\tNICK\t!!!!\t(empty)\t-\t-\t-\t-',
      '!!!!\ttim\tJOIN\t#testing\t(empty)\t-\t-\t-\t-',
    ],
  },
  'contentline-irc-5k-line.pcap': {
    // "USER foo": no host, server or real name, so addl is two spaces.
    '127.0.0.1:50164': ['-\t-\tUSER\tfoo\t  \t-\t-\t-\t-', '-\tfoo\tNICK\tfoo\t  \t-\t-\t-\t-', 'foo\tfoo\tJOIN\t#WEEEEEE\t(empty)\t-\t-\t-\t-'],
  },
  // Zeek fills dcc_mime_type from its file magic, which we leave to the file layer.
  'irc-dcc-first-command.pcap': { '10.0.0.1:12345': ['-\t-\tDCC\t-\t-\thello.txt\t12\t-\t-'] },
  'irc-353.pcap': { '[::1]:65388': [], '127.0.0.1:65389': [] },
  'irc-starttls.pcap': { '203.143.168.47:55123': [] },
};

for (const [name, flows] of Object.entries(EXPECTED_ROWS)) {
  test(`${name}: irc.log rows per connection, as Zeek main.zeek and dcc-send.zeek write them`, async (t) => {
    const dir = corpus(t);
    if (dir === null) return;
    const r = await run(dir, name);
    assert.deepEqual(
      r.irc.map((f) => f.client).sort(),
      Object.keys(flows).sort(),
      'the IRC connections',
    );
    for (const [client, rows] of Object.entries(flows)) assert.deepEqual(flow(r, client).rows.map(zeekColumns), rows, client);
  });
}

for (const name of ['irc-basic.pcap', 'irc-whitespace.pcap', 'irc-more-commands.pcap']) {
  test(`${name}: our events print exactly what Zeek events_output baseline holds, in order`, async (t) => {
    const dir = corpus(t);
    if (dir === null) return;
    const expected = eventsOutputSections(join(dir, 'zeek-baselines', 'scripts.base.protocols.irc.events_output')).get(name);
    assert.ok(expected !== undefined && expected.length > 0, `a section for ${name}`);
    const r = await run(dir, name);
    let at = 0;
    for (const { event } of r.events) {
      const { lines, set } = zeekEventLines(event);
      const want = expected.slice(at, at + lines.length);
      // Zeek prints a set in its hash order: compare those as bags.
      if (set) assert.deepEqual([...lines].sort(), [...want].sort(), `lines ${at + 1}..${at + lines.length}`);
      else assert.deepEqual(lines, want, `line ${at + 1}`);
      at += lines.length;
    }
    assert.equal(at, expected.length, 'as many lines as Zeek printed');

    // The literal rows above follow from these events: one row per client NICK and USER and per client JOIN channel.
    const clientLogged = expected.filter((l) => /^nick_message: {2}|^user_message: |^join_message: \[nick=, /.test(l)).length;
    const rows = Object.values(EXPECTED_ROWS[name]!).flat().length;
    assert.equal(rows, clientLogged);
  });
}

test('contentline-irc-5k-line.pcap: a 5200-byte line is cut and rejected as Zeek does (longline_weird.log)', async (t) => {
  const dir = corpus(t);
  if (dir === null) return;
  const r = await run(dir, 'contentline-irc-5k-line.pcap');
  const f = flow(r, '127.0.0.1:50164');
  const zeek = zeekLogRows(join(dir, 'zeek-baselines', 'scripts.base.protocols.irc.longline_weird.log'));
  assert.ok(zeek.every((w) => `${w['id.orig_h']}:${w['id.orig_p']}` === f.client && `${w['id.resp_h']}:${w['id.resp_p']}` === f.server));
  // weird.log shows each weird once per connection: compare the names in order of first sight.
  assert.deepEqual(
    [...new Set(f.weirds.map((w) => w.name))],
    zeek.map((w) => w.name),
  );
  // Five lines of 1000 (each byte after the cap dropped) and the last 195 at FIN.
  const long = f.lines.filter((l) => l.line.weird !== null);
  assert.deepEqual(
    long.map((l) => l.line.weird),
    ['irc_line_size_exceeded', 'irc_line_size_exceeded', 'irc_line_size_exceeded', 'irc_line_size_exceeded', 'irc_line_size_exceeded', 'irc_invalid_command'],
  );
  assert.equal(f.weirds.filter((w) => w.name === 'contentline_size_exceeded').length, 5);
  assert.equal(f.conversation.buffered, 0);
});

test('irc-353.pcap: "353 " alone is irc_invalid_names_line and no event (Zeek names-weird test)', async (t) => {
  const dir = corpus(t);
  if (dir === null) return;
  const r = await run(dir, 'irc-353.pcap');
  const f = flow(r, '127.0.0.1:65389');
  assert.deepEqual(
    f.weirds.map((w) => w.name),
    ['irc_invalid_names_line'],
  );
  assert.deepEqual(f.events, []);
});

test('irc-dcc-first-command.pcap: the offer, its transfer connection, and the DCC row', async (t) => {
  const dir = corpus(t);
  if (dir === null) return;
  const r = await run(dir, 'irc-dcc-first-command.pcap');
  const f = flow(r, '10.0.0.1:12345');
  assert.deepEqual(
    f.events.map((e) => e.event),
    [{ type: 'dcc_message', prefix: '', target: 'bob', dcc_type: 'SEND', argument: 'hello.txt', address: '10.0.0.1', dest_port: 5555, size: 12 }],
  );
  assert.deepEqual(r.dccFlows, ['10.0.0.2:23456 -> 10.0.0.1:5555']);
  // The row takes the offer's time (the record's), though written when the file was seen.
  assert.equal(Math.round(f.rows[0]!.ts * 1e6), 1_003_000);
  assert.equal(r.expectations.size, 0);
});

test('irc-starttls.pcap: parsing stops at STARTTLS; the TLS bytes are not read as IRC', async (t) => {
  const dir = corpus(t);
  if (dir === null) return;
  const r = await run(dir, 'irc-starttls.pcap');
  const f = flow(r, '203.143.168.47:55123');
  assert.deepEqual(
    f.lines.map((l) => [l.dir, l.line.message?.command]),
    [
      [0, 'STARTTLS'],
      [1, '670'],
    ],
  );
  assert.deepEqual(
    f.events.map((e) => e.event.type),
    ['starttls'],
  );
  assert.deepEqual(f.weirds, []);
  // "STARTTLS\r\n" is 10 bytes; the 670 line 74: the ClientHello and ServerHello start there.
  assert.deepEqual(f.conversation.tls?.offsets, [10, 74]);
  assert.ok(f.bytes[0] > 10 && f.bytes[1] > 74, 'the TLS bytes were delivered, and ignored');
});

interface Segment {
  src: string;
  dst: string;
  start: number;
  len: number;
  usec: bigint;
  fin: boolean;
}

function tsharkSegments(file: string): Segment[] {
  const out = execFileSync('tshark', ['-n', '-r', file, '-Y', 'tcp.len > 0 || tcp.flags.fin == 1', '-T', 'fields', '-E', 'separator=/t', '-e', 'frame.time_epoch', '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'tcp.srcport', '-e', 'ip.dst', '-e', 'ipv6.dst', '-e', 'tcp.dstport', '-e', 'tcp.seq', '-e', 'tcp.len', '-e', 'tcp.flags.fin'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return out
    .trim()
    .split('\n')
    .map((line) => {
      const [time, ip4, ip6, port, dip4, dip6, dport, seq, len, fin] = line.split('\t');
      const [sec, frac = ''] = time!.split('.');
      return {
        src: ip4 !== '' ? `${ip4}:${port}` : `[${ip6}]:${port}`,
        dst: dip4 !== '' ? `${dip4}:${dport}` : `[${dip6}]:${dport}`,
        start: Number(seq) - 1,
        len: Number(len),
        usec: BigInt(sec!) * 1_000_000n + BigInt(frac.padEnd(6, '0').slice(0, 6)),
        fin: fin === '1' || fin === 'True',
      };
    });
}

const usec = (ts: number): bigint => BigInt(Math.round(ts * 1e6));

for (const name of ['irc-basic.pcap', 'irc-whitespace.pcap', 'irc-more-commands.pcap', 'irc-starttls.pcap', 'irc-dcc-first-command.pcap', 'irc-353.pcap', 'contentline-irc-5k-line.pcap']) {
  test(`${name}: each line and row has the time of the frame that ended it, to the microsecond (tshark)`, async (t) => {
    const dir = corpus(t);
    if (dir === null || !tool(t, 'tshark')) return;
    const r = await run(dir, name);
    const segments = tsharkSegments(join(dir, name));
    let checked = 0;
    let atFin = 0;
    for (const f of r.irc) {
      for (const l of f.lines) {
        const [src, dst] = l.dir === 0 ? [f.client, f.server] : [f.server, f.client];
        const seg = segments.find((s) => s.src === src && s.dst === dst && s.start <= l.end - 1 && l.end - 1 < s.start + s.len);
        assert.ok(seg !== undefined, `a frame holding byte ${l.end - 1} from ${src}`);
        checked++;
        if (usec(l.ts) === seg.usec) continue;
        // Only a line the peer never ended may differ: it is delivered at the side's FIN (Zeek's EndpointEOF).
        const fin = segments.find((s) => s.src === src && s.dst === dst && s.fin);
        const last = f.lines.filter((x) => x.dir === l.dir).pop();
        assert.ok(l === last && fin !== undefined && usec(l.ts) === fin.usec, `${src} line ending at ${l.end}: ${usec(l.ts)} vs frame ${seg.usec}`);
        atFin++;
      }
      f.rows.forEach((row, i) => {
        const line = f.rowLines[i];
        if (line !== null && line !== undefined) assert.equal(row.ts, line.ts, 'a row has the time of the line that wrote it');
      });
    }
    assert.equal(atFin, name === 'contentline-irc-5k-line.pcap' ? 1 : 0, 'lines delivered at FIN');
    assert.ok(checked > 0);
  });
}
