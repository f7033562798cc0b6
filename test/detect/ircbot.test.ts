import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { openByteSource, readCapture } from '../../src/capture/index.js';
import { IpProto, TcpFlag, Packet } from '../../src/decode/packet.js';
import { createIrcbotDetector, IRCBOT_DEFAULTS, nickScore } from '../../src/detect/ircbot.js';
import type { EveEvent } from '../../src/events/types.js';
import { Flow } from '../../src/flow/flow.js';
import { createProtocols } from '../../src/protocols/index.js';
import { Pipeline } from '../../src/sensor/pipeline.js';
import { SynthCapture, TcpConnection } from '../../src/synth/traffic.js';
import { shared } from '../helpers.js';
import { homeNet, ofType, runBehaviour } from './harness.js';

type Line = readonly ['c' | 's', string];

/** One IRC conversation: the handshake, then each line from the client (c) or the server (s), then a close. */
function irc(cap: SynthCapture, client: string, server: string, lines: readonly Line[]): TcpConnection {
  const conn = new TcpConnection(cap, client, server).handshake();
  for (const [side, text] of lines) conn.send(side === 'c' ? 'client' : 'server', `${text}\r\n`);
  cap.wait(1);
  return conn.close();
}

/** A bot registering as `nick`, joining `channel` (with `key` when given), then whatever `rest` says. */
function botLines(nick: string, channel: string, key: string, rest: readonly Line[]): Line[] {
  return [
    ['s', ':irc.example.net NOTICE AUTH :*** Looking up your hostname...'],
    ['c', `NICK ${nick}`],
    ['c', `USER ${nick.replace(/[^A-Za-z0-9]/g, '') || 'x'} 0 0 :${nick}`],
    ['s', `:irc.example.net 001 ${nick} :Welcome to the network ${nick}`],
    ['c', `JOIN ${channel}${key !== '' ? ` ${key}` : ''}`],
    ['s', `:${nick}!bot@192.0.2.1 JOIN :${channel}`],
    ...rest,
  ];
}

describe('ircbot detector: nick scores', () => {
  test('machine-made nicks score high, human nicks low', () => {
    assert.ok(nickScore('[XP|USA|04211]') >= 5, String(nickScore('[XP|USA|04211]')));
    assert.ok(nickScore('DEU|2K|123456') >= 5, String(nickScore('DEU|2K|123456')));
    assert.ok(nickScore('12345678') >= 5, String(nickScore('12345678')));
    const weak = nickScore('Guest12345');
    assert.ok(weak >= 3 && weak < 5, String(weak));
    for (const human of ['alice', 'Mike|away', 'john_1985', 'bob`', '[AFK]dave', 'justin']) assert.ok(nickScore(human) < 3, `${human}: ${nickScore(human)}`);
  });
});

describe('ircbot detector', () => {
  test('a bot on 6667 (machine nick, keyed channel, .advscan in the topic shown on joining) is one ircbot with those signs', () => {
    const cap = new SynthCapture(null);
    irc(
      cap,
      '192.168.1.50:1031',
      '203.0.113.9:6667',
      botLines('[XP|USA|04211]', '#b0tz', 's3cr3t', [
        ['s', ':irc.example.net 332 [XP|USA|04211] #b0tz :.advscan lsass 200 5 0 -r -s'],
        ['s', 'PING :irc.example.net'],
        ['c', 'PONG :irc.example.net'],
        ['s', ':herder!h@198.51.100.7 PRIVMSG #b0tz :.advscan dcom135 200 5 0 -r -s'],
      ]),
    );
    const { events } = runBehaviour(cap, { correlate: false });
    const found = ofType(events, 'ircbot');
    assert.equal(found.length, 1, 'one record for the conversation, not one per command');
    const ev = found[0]!;
    assert.equal(ev.ircbot.update, false);
    const b = ev.ircbot;
    assert.deepEqual([b.client, b.server, b.server_port, b.nick, b.channel, b.keyed], ['192.168.1.50', '203.0.113.9', 6667, '[XP|USA|04211]', '#b0tz', true]);
    assert.ok(b.signs.includes('machine_nick: [XP|USA|04211]'), b.signs.join(', '));
    assert.ok(b.signs.includes('keyed_channel: #b0tz'), b.signs.join(', '));
    assert.ok(b.signs.includes('command: .advscan'), b.signs.join(', '));
    assert.ok(!b.signs.some((s) => s.startsWith('odd_port')), 'IRC on its own port is not odd');
    assert.deepEqual(b.commands, ['.advscan']);
    assert.ok(b.score >= IRCBOT_DEFAULTS.threshold && b.score <= 1, String(b.score));
    assert.deepEqual([ev.src_ip, ev.dest_ip, ev.dest_port, ev.app_proto], ['192.168.1.50', '203.0.113.9', 6667, 'irc']);
    assert.equal(ev.flow_id, ofType(events, 'irc')[0]!.flow_id, 'tied to the IRC conversation');
  });

  test('a command verb the bot had not been given before writes one update, with every command so far', () => {
    const cap = new SynthCapture(null);
    irc(
      cap,
      '10.1.2.3:1099',
      '198.51.100.77:4444',
      botLines('DEU|2K|123456', '#x', 'k3y', [
        ['s', ':irc.example.net 332 DEU|2K|123456 #x :.advscan lsass 200 5 0 -r -s'],
        ['s', ':boss!b@198.51.100.1 PRIVMSG #x :.advscan dcom135 100 5 0 -b -r'],
        ['s', ':boss!b@198.51.100.1 PRIVMSG #x :.ddos.syn 198.51.100.53 53 300'],
        ['s', ':boss!b@198.51.100.1 PRIVMSG #x :.ddos.udp 198.51.100.53 53 300'],
      ]),
    );
    const found = ofType(runBehaviour(cap, { correlate: false }).events, 'ircbot');
    assert.deepEqual(
      found.map((f) => [f.ircbot.update, f.ircbot.commands]),
      [
        [false, []],
        [true, ['.advscan']],
        [true, ['.advscan', '.advscan', '.ddos.syn']],
      ],
      'reported on joining, then once for advscan and once for ddos: not for a repeated verb',
    );
  });

  test('a bot on an odd port (4444) taking .advscan by PRIVMSG is one ircbot with the command and odd_port', () => {
    const cap = new SynthCapture(null);
    irc(
      cap,
      '10.1.2.3:1099',
      '198.51.100.77:4444',
      botLines('xkzq', '#x', 'k3y', [
        ['s', ':boss!b@198.51.100.1 PRIVMSG #x :.advscan dcom135 100 5 0 -b -r'],
        ['c', 'PRIVMSG #x :[SCAN]: Random Port Scan started on 10.1.x.x:135 with a delay of 5 seconds for 0 minutes using 100 threads.'],
        ['c', 'PRIVMSG #x :Exploiting IP: 10.1.7.9'],
      ]),
    );
    const { events } = runBehaviour(cap, { correlate: false });
    const found = ofType(events, 'ircbot');
    assert.equal(found.length, 1);
    const b = found[0]!.ircbot;
    assert.equal(b.server_port, 4444);
    assert.deepEqual(b.signs, ['keyed_channel: #x', 'command: .advscan', 'odd_port: 4444'], 'written when the command crossed the threshold');
    assert.deepEqual(b.commands, ['.advscan']);
    assert.equal(b.score, 0.75, "keyed channel 0.2 + command 0.45 + odd port 0.1");
  });

  test('a machine nick in a keyed channel on an odd port is reported on joining, before any command', () => {
    const cap = new SynthCapture(null);
    irc(cap, '10.1.2.3:1099', '198.51.100.77:4444', botLines('DEU|2K|123456', '#x', 'k3y', [['s', ':boss!b@198.51.100.1 PRIVMSG #x :.advscan dcom135 100 5 0 -b -r']]));
    const found = ofType(runBehaviour(cap, { correlate: false }).events, 'ircbot');
    assert.deepEqual(found[0]!.ircbot.signs, ['machine_nick: DEU|2K|123456', 'keyed_channel: #x', 'odd_port: 4444']);
    assert.deepEqual(found[0]!.ircbot.commands, []);
    assert.equal(found.length, 2, 'and updated when the command came');
    assert.ok(found[1]!.ircbot.update && found[1]!.ircbot.signs.includes('command: .advscan'));
  });

  test('status replies and a command, with a human nick and no key, still make a bot', () => {
    const cap = new SynthCapture(null);
    irc(
      cap,
      '10.1.2.4:1100',
      '198.51.100.78:6667',
      botLines('kevin', '#ops', '', [
        ['s', ':boss!b@198.51.100.1 PRIVMSG #ops :.download http://198.51.100.9/x.exe c:\\x.exe 1'],
        ['c', 'PRIVMSG #ops :[DOWNLOAD]: Downloading URL: http://198.51.100.9/x.exe to: c:\\x.exe.'],
      ]),
    );
    const found = ofType(runBehaviour(cap, { correlate: false }).events, 'ircbot');
    assert.equal(found.length, 1);
    assert.ok(found[0]!.ircbot.signs.includes('command: .download'), found[0]!.ircbot.signs.join(', '));
    assert.ok(found[0]!.ircbot.signs.includes('bot_reply: [DOWNLOAD]'), found[0]!.ircbot.signs.join(', '));
  });

  test('ordinary chat, where someone says "let me scan the docs", is not a bot', () => {
    const cap = new SynthCapture(null);
    irc(
      cap,
      '192.168.1.60:1040',
      '203.0.113.9:6667',
      botLines('alice', '#typescript', '', [
        ['s', ':irc.example.net 332 alice #typescript :Welcome! Be nice. Docs: https://www.typescriptlang.org/docs'],
        ['s', ':bob!b@198.51.100.2 PRIVMSG #typescript :anyone know why my build fails?'],
        ['c', 'PRIVMSG #typescript :let me scan the docs, one moment'],
        ['c', 'PRIVMSG #typescript :scan: I think it is the tsconfig'],
        ['s', ':bob!b@198.51.100.2 PRIVMSG #typescript :Scanning 10.0.0.0/8 for it would be faster lol'],
        ['s', ':carol!c@198.51.100.3 TOPIC #typescript :Release day. Download the new version!'],
      ]),
    );
    const { events, pipeline } = runBehaviour(cap, { correlate: false });
    assert.equal(ofType(events, 'ircbot').length, 0);
    assert.ok((pipeline.behaviour!.counters()['ircbot.lines'] ?? 0) >= 10, 'the lines were read');
    assert.equal(pipeline.behaviour!.counters()['ircbot.commands'], 0);
    assert.equal(pipeline.behaviour!.counters()['ircbot.replies'], 0, '"Scanning 10.0.0.0/8" in chat is not a status reply');
  });

  test('several internal hosts in one channel of one server raise shared_channel; two do not', () => {
    const run = (hosts: number): EveEvent[] => {
      const cap = new SynthCapture(null);
      for (let i = 0; i < hosts; i++) irc(cap, `192.168.7.${10 + i}:${2000 + i}`, '203.0.113.50:6667', botLines(`USA|${48213 + i * 1117}`, '#chan', '', [['s', 'PING :x']]));
      return runBehaviour(cap, { correlate: false }).events;
    };
    assert.equal(ofType(run(2), 'ircbot').length, 0, 'a machine nick alone is not enough');
    const found = ofType(run(3), 'ircbot');
    assert.equal(found.length, 3, 'each of the three clients is reported, the first two when the third joins');
    for (const f of found) {
      assert.ok(f.ircbot.signs.includes('shared_channel: 3 hosts'), f.ircbot.signs.join(', '));
      assert.equal(f.ircbot.channel_hosts, 3);
      assert.equal(f.ircbot.channel, '#chan');
    }
    assert.deepEqual(found.map((f) => f.ircbot.client).sort(), ['192.168.7.10', '192.168.7.11', '192.168.7.12']);
  });

  test('a retransmitted segment is read once, and an external client is not judged by default', () => {
    const cap = new SynthCapture(null);
    const conn = new TcpConnection(cap, '192.168.1.70:1050', '203.0.113.9:6667').handshake();
    const hello = 'NICK kevin\r\nUSER k 0 0 :k\r\n';
    conn.send('client', hello);
    const topic = ':irc.example.net 332 kevin #c :.advscan x\r\n';
    conn.segment('server', 0, topic).segment('server', 0, topic).advance('server', topic.length);
    conn.close();
    const { pipeline } = runBehaviour(cap, { correlate: false });
    assert.equal(pipeline.behaviour!.counters()['ircbot.commands'], 1);

    const outside = new SynthCapture(null);
    irc(outside, '203.0.113.5:1031', '198.51.100.9:6667', botLines('[XP|USA|04211]', '#b', 'k', [['s', ':irc 332 [XP|USA|04211] #b :.advscan lsass 200 5 0']]));
    assert.equal(ofType(runBehaviour(outside, { correlate: false }).events, 'ircbot').length, 0);
    assert.equal(ofType(runBehaviour(outside, { correlate: false, detectors: { ircbot: { 'home-clients-only': false } } }).events, 'ircbot').length, 1);
  });

  test('the corpus IRC captures (human IRC, DCC, STARTTLS, odd whitespace) yield no ircbot', async (t) => {
    const dir = shared(t, 'corpus', 'irc');
    if (dir === null) return;
    const files = readdirSync(dir).filter((f) => f.endsWith('.pcap'));
    assert.ok(files.includes('irc-basic.pcap'));
    let lines = 0;
    for (const f of files) {
      const events: EveEvent[] = [];
      // Every address counts as internal, so every conversation is judged.
      const pipeline = new Pipeline((e) => events.push(e), { app: { protocols: createProtocols() }, behaviour: { home: () => true, correlate: false } });
      await readCapture(await openByteSource(join(dir, f)), pipeline.frame);
      pipeline.finish();
      assert.equal(ofType(events, 'ircbot').length, 0, f);
      lines += pipeline.behaviour!.counters()['ircbot.lines'] ?? 0;
    }
    assert.ok(lines > 100, `the captures' lines were read (${lines})`);
  });

  test('state stays under its caps when a million spoofed clients each open an IRC conversation', () => {
    const events: EveEvent[] = [];
    const d = createIrcbotDetector({ emit: (e) => events.push(e), home: homeNet() }, { ...IRCBOT_DEFAULTS, 'max-conversations': 1000, 'max-channels': 500 });
    const p = new Packet();
    const flow = new Flow();
    const payload = Buffer.from('NICK a1234567\r\nJOIN #c0000000 key\r\nPRIVMSG #c :hi\r\n', 'latin1');
    p.data = payload;
    p.payloadOff = 0;
    p.payloadLen = payload.length;
    p.proto = IpProto.TCP;
    p.tcpFlags = TcpFlag.ACK | TcpFlag.PSH;
    p.tsSec = 1082541600;
    flow.proto = IpProto.TCP;
    flow.ipVersion = 4;
    flow.appProto = 'irc';
    flow.serverPort = 6667;
    flow.addr.set([0, 0, 0xffff, 0xcb007109], 4);
    let peak = 0;
    const n = 1_000_000;
    for (let i = 0; i < n; i++) {
      flow.id = i + 1;
      flow.addr.set([0, 0, 0xffff, (0x0a000000 + i) >>> 0], 0); // 10.x.x.x: all internal
      payload.write(String(i % 10_000_000).padStart(7, '0'), payload.indexOf('#c0') + 2, 'latin1');
      p.seq = i;
      d.packet!(p, flow, 0);
      if (i % 1000 === 0) d.tick!(p.tsSec + Math.floor(i / 1000));
      peak = Math.max(peak, d.counters.conversations!, d.counters.channels!);
    }
    assert.ok(d.counters.conversations! <= 1000, String(d.counters.conversations));
    assert.ok(d.counters.channels! <= 500, String(d.counters.channels));
    assert.ok(peak <= 1000);
    assert.ok(d.counters.evicted_conversations! >= n - 1000, String(d.counters.evicted_conversations));
    assert.ok(d.counters.evicted_channels! > 0);
    assert.equal(d.counters.errors, 0);
    assert.equal(events.length, 0, 'a nick with digits in a keyed channel is not a bot');
  });

  test('hostile lines (binary, overlong, no terminator, bare prefixes) never throw out of the hook', () => {
    const events: EveEvent[] = [];
    const d = createIrcbotDetector({ emit: (e) => events.push(e), home: homeNet() }, IRCBOT_DEFAULTS);
    const p = new Packet();
    const flow = new Flow();
    flow.id = 7;
    flow.appProto = 'irc';
    flow.addr.set([0, 0, 0xffff, 0xc0a80101, 0, 0, 0xffff, 0xcb007109]);
    p.proto = IpProto.TCP;
    const inputs = [Buffer.alloc(3000, 0x41), Buffer.from(':\r\n:x\r\n332\r\n:a 332 \r\n:a 001\r\nJOIN\r\nJOIN :\r\nTOPIC\r\nPRIVMSG\r\n\x00\x01\xff\r\n'), Buffer.from([0xff, 0xfe, 0x0d, 0x0a, 0x0d])];
    let seq = 0;
    for (const b of inputs) {
      for (const dir of [0, 1]) {
        p.data = b;
        p.payloadOff = 0;
        p.payloadLen = b.length;
        p.seq = seq;
        seq += b.length;
        d.packet!(p, flow, dir);
      }
    }
    assert.equal(d.counters.errors, 0);
    assert.ok(d.counters.lines! > 5);
    assert.equal(events.length, 0);
  });
});

test('a person typing an XDCC or eggdrop trigger (!dl) in a keyed channel on the usual port is not a bot', () => {
  const cap = new SynthCapture(null);
  irc(
    cap,
    '10.1.2.4:1100',
    '198.51.100.77:6667',
    botLines('carol', '#friends', 'secret', [
      ['c', 'PRIVMSG #friends :!dl latest.iso'],
      ['c', 'PRIVMSG #friends :!update'],
    ]),
  );
  assert.equal(ofType(runBehaviour(cap, { correlate: false }).events, 'ircbot').length, 0);
});
