import { pctExploitFixture } from '../pct.js';
import type { SynthCapture } from '../traffic.js';
import { TcpConnection, UdpFlow } from '../traffic.js';
import {
  background,
  dnsLookup,
  dnsMessage,
  IrcLink,
  ircRegister,
  SCENARIO_HOME_NET,
  Story,
  storyRng,
  tlsSession,
  webPage,
  type Conversation,
  type ScenarioInfo,
  type ScenarioOptions,
} from './benign.js';

/**
 * The seed bot of April 2004 (DOMAIN.md §1, §7): an outside host scans an office web server,
 * sends it the PCT exploit's record shape (the harmless fixture), and the server then behaves as
 * an rbot-style bot would: it fetches its "egg" over HTTP on an odd port, joins a keyed IRC
 * channel, takes `.advscan` and `.ddos` orders, scans its own /24 on 443 and sends the same
 * exploit to the hosts that answer, floods a third party's DNS server with random subdomains,
 * and lets the attacker into a shell on 31337. Ten minutes of ordinary traffic come first, so
 * that what the victim normally serves (80 and 443) can be learned.
 */

/** Where the seed bot's story happens, and what it did. */
export interface SeedBotInfo extends ScenarioInfo {
  /** The office web server that gets infected. */
  victim: string;
  /** The outside host that scans and exploits it, and later uses the backdoor. */
  attacker: string;
  /** The inbound scan: the ports probed, and those that answered open. */
  inboundScan: { ports: number[]; open: number[] };
  /** The port the exploit was sent to. */
  exploitPort: number;
  /** The egg: where it was fetched from, its URL and size. */
  egg: { server: string; port: number; url: string; size: number };
  /** The IRC C&C: server, port, the name the bot resolved, channel, key, nick, and the command lines it received. */
  cc: { server: string; port: number; name: string; channel: string; key: string; nick: string; commands: string[] };
  /** The outbound scan: the port, the hosts probed, those that answered, and those sent the exploit. */
  propagation: { port: number; targets: string[]; answered: string[]; exploited: string[] };
  /** The DNS flood: the target, its zone, queries sent and how many were answered (NXDOMAIN). */
  flood: { target: string; port: number; zone: string; queries: number; answered: number; start: number; end: number };
  /** The backdoor: the port the victim listens on and who connects. */
  backdoor: { port: number; client: string };
}

/** The seed bot's options, over the common ones. */
export interface SeedBotOptions extends ScenarioOptions {
  /** The C&C server's port: an odd one by default, as many bots used. */
  ccPort?: number;
  /** Queries in the DNS flood (over about five seconds). */
  floodQueries?: number;
}

const VICTIM = '192.168.1.10';
const ATTACKER = '203.0.113.66';
const CC_SERVER = '192.0.2.120';
const FLOOD_TARGET = '198.51.100.53';
const FLOOD_ZONE = 'bigbank.example';
const NICK = '[XP|USA|04211]';
const CHANNEL = '#hax0r';
const KEY = 'x0rk3y';
const HERDER = 'h3rd3r!~h@203.0.113.66';
/** The office's other machines: the browsing clients, and the servers with 443 open that the bot's scan finds. */
const CLIENTS = ['192.168.1.50', '192.168.1.51', '192.168.1.52', '192.168.1.53'];
const INTERNAL_TLS_SERVERS = ['192.168.1.30', '192.168.1.42', '192.168.1.77'];

/** Ports the attacker's scan tries: the usual suspects of 2004. */
const SCAN_PORTS = [21, 22, 23, 25, 42, 53, 80, 110, 111, 119, 135, 137, 139, 143, 443, 445, 593, 1025, 1433, 1434, 2745, 3127, 3128, 3306, 3389, 4899, 5000, 5554, 6129, 8080];

/** Writes the seed bot's story; see the module's comment. */
export function seedBotScenario(cap: SynthCapture, options: SeedBotOptions = {}): SeedBotInfo {
  const story = new Story(cap, storyRng(options.seed, 0x5eed));
  const w = options.warmup ?? 600;
  const ccPort = options.ccPort ?? 6556;
  const floodQueries = options.floodQueries ?? 600;

  // Warm-up and background: the victim serves its pages to the office and to outside visitors.
  story.at(0, warmup(story, w + 300), 'warmup');
  background(story, CLIENTS, 0, w + 300, 2);

  const open = [80, 443];
  story.at(w, inboundScan(story, open), 'inbound-scan');
  story.at(w + 6, exploit(story, ATTACKER, VICTIM, 443), 'exploit');

  const eggSize = 24576;
  story.at(w + 9, eggDownload(story, eggSize), 'egg');

  const commands = [
    '.advscan dcom135 100 5 0 -r',
    '.advscan iis5ssl 100 5 0 -b',
    `.ddos.udp ${FLOOD_TARGET} 53 5`,
  ];
  const ccName = 'irc.hax0r-dyn.example';
  story.at(w + 15, dnsLookup(story, VICTIM, ccName, [CC_SERVER]), 'cc-lookup');
  story.at(w + 15.1, ircChannel(story, ccPort, commands, w), 'cc');

  // The 49 addresses after the victim's, and a server further up: 50 probes.
  const targets: string[] = [];
  for (let h = 11; h <= 59; h++) targets.push(`192.168.1.${h}`);
  targets.push('192.168.1.77');
  const propagation = { port: 443, targets, answered: [] as string[], exploited: [] as string[] };
  story.at(w + 41, outboundScan(story, propagation), 'propagation');

  const flood = { target: FLOOD_TARGET, port: 53, zone: FLOOD_ZONE, queries: floodQueries, answered: 0, start: 0, end: 0 };
  story.at(w + 91, dnsFlood(story, flood), 'flood');

  story.at(w + 150, backdoor(story), 'backdoor');

  // Some time after, the office goes on as before.
  story.at(w + 200, webPage(story, '192.168.1.53', VICTIM, 'intranet.office.example', '/'));

  const end = story.run();
  return {
    name: 'seed-bot',
    homeNet: SCENARIO_HOME_NET,
    start: story.start,
    end,
    phases: story.phases,
    frames: story.frames,
    victim: VICTIM,
    attacker: ATTACKER,
    inboundScan: { ports: SCAN_PORTS, open },
    exploitPort: 443,
    egg: { server: ATTACKER, port: 8080, url: '/x.exe', size: eggSize },
    cc: { server: CC_SERVER, port: ccPort, name: ccName, channel: CHANNEL, key: KEY, nick: NICK, commands },
    propagation,
    flood,
    backdoor: { port: 31337, client: ATTACKER },
  };
}

/** The victim at work before the attack (and after): pages on 80 and TLS on 443 for office and outside visitors. */
function* warmup(story: Story, seconds: number): Conversation {
  const rng = story.rng;
  const visitors = [...CLIENTS, '198.51.100.200', '203.0.113.140', '192.0.2.33'];
  const end = story.cap.time + seconds;
  while (story.cap.time < end) {
    const who = rng.pick(visitors);
    const run = rng.float() < 0.35 ? tlsSession(story, who, VICTIM, 'www.office.example') : webPage(story, who, VICTIM, 'www.office.example', rng.pick(['/', '/staff/', '/reports/q1.html']));
    yield* run;
    yield rng.exp(40);
  }
}

/** One SYN probe: the target answers SYN-ACK (then the scanner resets), RST, or nothing. */
export function synProbe(story: Story, scanner: string, target: string, port: number, answer: 'open' | 'closed' | 'silent', srcPort?: number): void {
  const c = new TcpConnection(story.cap, `${scanner}:${srcPort ?? story.port(scanner)}`, `${target}:${port}`);
  const isn = story.rng.u32();
  c.packet('client', { seq: isn, flags: 'S', window: 16384 }, new Uint8Array(0));
  if (answer === 'silent') return;
  if (answer === 'closed') {
    c.packet('server', { seq: 0, ack: (isn + 1) >>> 0, flags: 'RA', window: 0 }, new Uint8Array(0));
    return;
  }
  c.packet('server', { seq: story.rng.u32(), ack: (isn + 1) >>> 0, flags: 'SA', window: 64240 }, new Uint8Array(0));
  c.packet('client', { seq: (isn + 1) >>> 0, flags: 'R', window: 0 }, new Uint8Array(0));
}

/** The attacker's SYN scan of the victim: about 30 ports, 50 ms apart, all refused but 80 and 443. */
function* inboundScan(story: Story, open: readonly number[]): Conversation {
  const srcPort = story.rng.int(40000, 60000); // a scanner's raw socket keeps one source port
  for (const port of SCAN_PORTS) {
    synProbe(story, ATTACKER, VICTIM, port, open.includes(port) ? 'open' : 'closed', srcPort);
    yield 0.05;
  }
}

/** The PCT exploit's record shape (the harmless fixture) sent over a full connection to `port`. */
export function* exploit(story: Story, attacker: string, target: string, port: number): Conversation {
  const c = story.tcp(attacker, target, port).handshake();
  yield 0.08;
  c.send('client', pctExploitFixture());
  yield 1.5;
  c.close();
}

/**
 * The first bytes of a Windows executable and filler, as the bot's egg: an MS-DOS header ("MZ",
 * e_lfanew at 0x3c), the PE signature where it points, a 32-bit GUI image's header fields. No
 * code: file type sniffing reads these fields and nothing else.
 */
export function fakeExecutable(size: number): Buffer {
  const b = Buffer.alloc(Math.max(size, 0x200), 0x41);
  b[0] = 0x4d;
  b[1] = 0x5a;
  const at = 0x80;
  b.writeUInt32LE(at, 0x3c);
  b.set([0x50, 0x45, 0, 0], at);
  b.set([0x4c, 0x01], at + 4); // machine: Intel 80386
  b.set([0x02, 0x01], at + 22); // characteristics: executable image, 32-bit
  b.set([0x0b, 0x01], at + 24); // optional header magic: PE32
  b.set([0x02, 0x00], at + 24 + 68); // subsystem: Windows GUI
  return b;
}

/** The victim fetches the egg from the attacker's little web server on 8080. */
function* eggDownload(story: Story, size: number): Conversation {
  const c = story.tcp(VICTIM, ATTACKER, 8080).handshake();
  yield 0.09;
  c.send('client', `GET /x.exe HTTP/1.0\r\nHost: ${ATTACKER}:8080\r\n\r\n`);
  yield 0.09;
  const head = `HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${size}\r\n\r\n`;
  const body = fakeExecutable(size);
  c.send('server', Buffer.concat([Buffer.from(head, 'latin1'), body.subarray(0, 8192)]));
  yield 0.2;
  c.send('server', body.subarray(8192));
  yield 0.05;
  c.close('server');
}

/**
 * The bot's IRC session: registration with a machine-made nick, JOIN with the key, the topic
 * carrying `.advscan dcom135`, later PRIVMSG orders to scan for iis5ssl and to flood, status lines
 * in reply, and the server's PINGs until the story ends.
 */
function* ircChannel(story: Story, port: number, commands: readonly string[], w: number): Conversation {
  const link = new IrcLink(story, VICTIM, CC_SERVER, port, 'irc.hax0r-dyn.example');
  const at = (offset: number): number => Math.max(0, story.start + w + offset - story.cap.time);
  link.conn.handshake();
  yield 0.1;
  yield* ircRegister(link, NICK, 'rx01', NICK, 'host81-2-3-4.dsl.example.net');
  yield 0.4;
  link.client(`JOIN ${CHANNEL} ${KEY}`);
  yield 0.1;
  link.serverLines(
    `:${NICK}!rx01@host81-2-3-4.dsl.example.net JOIN :${CHANNEL}`,
    `332 ${NICK} ${CHANNEL} :${commands[0]!}`,
    `333 ${NICK} ${CHANNEL} h3rd3r 1083310000`,
    `353 ${NICK} @ ${CHANNEL} :${NICK} @h3rd3r [2K|DEU|58812] [XP|GBR|19923]`,
    `366 ${NICK} ${CHANNEL} :End of /NAMES list.`,
  );
  yield 0.6;
  link.client(`PRIVMSG ${CHANNEL} :[SCAN]: Random Port Scan started on 192.168.x.x:135 with a delay of 5 seconds for 0 minutes using 100 threads.`);
  yield at(40);
  link.serverLines(`:${HERDER} PRIVMSG ${CHANNEL} :${commands[1]!}`);
  yield 0.5;
  link.client(`PRIVMSG ${CHANNEL} :[SCAN]: Sequential Port Scan started on 192.168.1.0:443 with a delay of 5 seconds for 0 minutes using 100 threads.`);
  yield at(60);
  link.serverLines('PING :irc.hax0r-dyn.example');
  yield 0.05;
  link.client('PONG :irc.hax0r-dyn.example');
  yield at(62);
  link.client(`PRIVMSG ${CHANNEL} :[IIS5SSL]: Exploiting IP: 192.168.1.30.`);
  yield at(90);
  link.serverLines(`:${HERDER} PRIVMSG ${CHANNEL} :${commands[2]!}`);
  yield 0.5;
  link.client(`PRIVMSG ${CHANNEL} :[DDoS]: Flooding: (${FLOOD_TARGET}:53) for 5 seconds.`);
  yield at(97);
  link.client(`PRIVMSG ${CHANNEL} :[DDoS]: Done with flood (38KB/sec).`);
  yield at(150);
  link.serverLines('PING :irc.hax0r-dyn.example');
  yield 0.05;
  link.client('PONG :irc.hax0r-dyn.example');
  yield at(240);
  link.serverLines('PING :irc.hax0r-dyn.example');
  yield 0.05;
  link.client('PONG :irc.hax0r-dyn.example');
}

/** The bot's scan of its own /24 on 443, ten probes a second; the hosts that answer get the exploit. */
function* outboundScan(story: Story, p: { port: number; targets: string[]; answered: string[]; exploited: string[] }): Conversation {
  for (const target of p.targets) {
    const open = INTERNAL_TLS_SERVERS.includes(target);
    const alive = open || story.rng.float() < 0.4;
    synProbe(story, VICTIM, target, p.port, open ? 'open' : alive ? 'closed' : 'silent');
    if (open) {
      p.answered.push(target);
      p.exploited.push(target);
      story.at(story.cap.time - story.start + 0.3, exploit(story, VICTIM, target, p.port));
    }
    yield 0.1;
  }
}

/** Random labels of 8 to 14 letters and digits, as water-torture floods use. */
function randomLabel(story: Story): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let n = story.rng.int(8, 14); n > 0; n--) s += alphabet[story.rng.int(0, alphabet.length - 1)];
  return s;
}

/** Hundreds of A queries for random names under one zone, from random source ports, most answered NXDOMAIN. */
function* dnsFlood(story: Story, f: { target: string; port: number; zone: string; queries: number; answered: number; start: number; end: number }): Conversation {
  f.start = story.cap.time;
  const gap = 5 / f.queries;
  for (let i = 0; i < f.queries; i++) {
    const name = `${randomLabel(story)}.${f.zone}`;
    const id = story.rng.int(1, 0xffff);
    const flow = new UdpFlow(story.cap, `${VICTIM}:${story.rng.int(1025, 65535)}`, `${f.target}:${f.port}`);
    flow.send('client', dnsMessage(id, name));
    if (story.rng.float() < 0.9) {
      flow.send('server', dnsMessage(id, name, { nxdomain: true, authoritative: true }));
      f.answered++;
    }
    f.end = story.lastFrame();
    yield gap;
  }
}

/** The attacker connects to the shell the bot opened on 31337: a Windows command prompt, a couple of commands. */
function* backdoor(story: Story): Conversation {
  const c = story.tcp(ATTACKER, VICTIM, 31337).handshake();
  yield 0.05;
  c.send('server', 'Microsoft Windows XP [Version 5.1.2600]\r\n(C) Copyright 1985-2001 Microsoft Corp.\r\n\r\nC:\\WINDOWS\\system32>');
  yield 2.5;
  c.send('client', 'dir\r\n');
  yield 0.05;
  c.send('server', ' Volume in drive C has no label.\r\n Directory of C:\\WINDOWS\\system32\r\n\r\n04/30/2004  10:10 AM            24,576 msnsvc.exe\r\n               1 File(s)         24,576 bytes\r\n\r\nC:\\WINDOWS\\system32>');
  yield 4;
  c.send('client', 'net user\r\n');
  yield 0.05;
  c.send('server', '\r\nUser accounts for \\\\WEBSRV\r\n\r\nAdministrator            Guest\r\nThe command completed successfully.\r\n\r\nC:\\WINDOWS\\system32>');
  yield 3;
  c.send('client', 'exit\r\n');
  c.close('server');
}
