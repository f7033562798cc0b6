import { Prng } from '../bench-capture.js';
import type { SynthCapture } from '../traffic.js';
import { TcpConnection, UdpFlow } from '../traffic.js';

/**
 * The benign scenario, and what every scenario is made of: a `Story` that runs many
 * conversations at once on one capture's clock, and the conversations of an ordinary office
 * network in April 2004 (web pages, TLS, DNS lookups, IRC chat, a long SSH session). The attack
 * scenarios (seed-bot.ts, worm.ts) use these for their warm-up and background traffic, so that
 * what a detector learns as "normal" is the same everywhere.
 */

/** HOME_NET of every scenario: the office's one /24. */
export const SCENARIO_HOME_NET = '192.168.1.0/24';

/** 2004-04-30T10:00:00Z, the week after the PCT exploit was published: where scenario captures start. */
export const SCENARIO_START = 1083319200;

/** The office's resolver (and gateway). */
export const RESOLVER = '192.168.1.1';

/** What every scenario takes. */
export interface ScenarioOptions {
  /** Seed of the traffic's randomness (ports, names, sizes, gaps): the same seed writes the same bytes. */
  seed?: number;
  /** Seconds of ordinary traffic before the story's first attack packet (ignored by benign). */
  warmup?: number;
}

/** One stretch of a story, from its first frame to its last, in seconds since the epoch. */
export interface ScenarioPhase {
  name: string;
  start: number;
  end: number;
}

/** What every scenario returns: enough for a test to know what it should find, and when. */
export interface ScenarioInfo {
  /** The scenario's name in SCENARIOS. */
  name: string;
  /** HOME_NET, as a rule variable's value. */
  homeNet: string;
  /** Time of the first and the last frame, seconds since the epoch. */
  start: number;
  end: number;
  /** The named stretches (warm-up, inbound scan, exploit, egg, ...), in the order they began. */
  phases: ScenarioPhase[];
  /** Frames written. */
  frames: number;
}

/** A conversation that takes time: each `yield` gives the seconds until its next step. */
export type Conversation = Generator<number, void, undefined>;

interface Run {
  at: number;
  order: number;
  conversation: Conversation;
  phase: ScenarioPhase | null;
}

/**
 * Runs conversations side by side on one capture. Each is started at an offset from the story's
 * start and steps whenever its wait is over; the earliest waiting conversation always goes
 * next, so frames stay in time order. The clock never goes back: a conversation due while
 * another was writing steps right after it.
 */
export class Story {
  /** The story's time zero: the capture's clock when the story began. */
  readonly start: number;
  readonly phases: ScenarioPhase[] = [];
  private readonly runs: Run[] = [];
  private order = 0;
  private readonly ports = new Map<string, number>();
  frames = 0;

  constructor(
    readonly cap: SynthCapture,
    readonly rng: Prng,
  ) {
    this.start = cap.time;
  }

  /** Starts `conversation` `offset` seconds after the story's start; with a phase name, its span is recorded. */
  at(offset: number, conversation: Conversation, phase?: string): this {
    this.runs.push({ at: this.start + offset, order: this.order++, conversation, phase: phase === undefined ? null : { name: phase, start: Number.NaN, end: Number.NaN } });
    return this;
  }

  /** Steps every conversation to its end, in time order. Returns the time of the last frame. */
  run(): number {
    let last = this.start;
    while (this.runs.length > 0) {
      let next = 0;
      for (let i = 1; i < this.runs.length; i++) {
        const r = this.runs[i]!;
        const best = this.runs[next]!;
        if (r.at < best.at || (r.at === best.at && r.order < best.order)) next = i;
      }
      const run = this.runs[next]!;
      if (run.at > this.cap.time) this.cap.time = run.at;
      const before = this.cap.time;
      if (run.phase !== null && Number.isNaN(run.phase.start)) {
        run.phase.start = before;
        this.phases.push(run.phase);
      }
      const step = run.conversation.next();
      const wrote = Math.round((this.cap.time - before) / 0.0001);
      this.frames += wrote;
      if (wrote > 0) last = this.lastFrame();
      if (step.done === true) {
        if (run.phase !== null) run.phase.end = Math.max(run.phase.start, this.lastFrame());
        this.runs.splice(next, 1);
      } else {
        run.at = this.cap.time + Math.max(0, step.value);
      }
    }
    return last;
  }

  /** The time of the frame written last: the clock less the 100 µs `send` moved it on, to the microsecond. */
  lastFrame(): number {
    return (Math.round(this.cap.time * 1e6) - 100) / 1e6;
  }

  /**
   * The next ephemeral port of a host, as Windows of 2004 hands them out: counting up from
   * somewhere in 1025-4999 and wrapping there.
   */
  port(ip: string): number {
    const p = this.ports.get(ip) ?? this.rng.int(1025, 4000);
    this.ports.set(ip, p >= 4999 ? 1025 : p + 1);
    return p;
  }

  /** A TCP connection from the host's next ephemeral port (or `clientPort`), with random initial sequence numbers. */
  tcp(client: string, server: string, serverPort: number, clientPort?: number): TcpConnection {
    return new TcpConnection(this.cap, `${client}:${clientPort ?? this.port(client)}`, `${server}:${serverPort}`, { clientIsn: this.rng.u32(), serverIsn: this.rng.u32() });
  }

  /** `n` random bytes. */
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.rng.u32() & 0xff;
    return b;
  }
}

/** The story's PRNG for a seed. */
export function storyRng(seed: number | undefined, salt: number): Prng {
  return new Prng(((seed ?? 0x2004) ^ salt) >>> 0);
}

/** The HTTP Date header's form of a packet time. */
export function httpDate(seconds: number): string {
  return new Date(Math.floor(seconds) * 1000).toUTCString();
}

const WORDS = ['network', 'office', 'report', 'the', 'of', 'and', 'server', 'weather', 'news', 'sports', 'market', 'update', 'patch', 'windows', 'linux', 'release', 'notes', 'April', 'spring', 'project', 'team', 'meeting', 'docs'];

/** An HTML page of about `size` bytes of ordinary prose. */
export function htmlPage(rng: Prng, title: string, size: number): string {
  let body = `<html><head><title>${title}</title><link rel="stylesheet" href="/style.css"></head><body><h1>${title}</h1>\n`;
  while (body.length < size - 20) {
    let p = '<p>';
    for (let i = rng.int(20, 60); i > 0; i--) p += `${rng.pick(WORDS)} `;
    body += `${p}</p>\n`;
  }
  return `${body}</body></html>\n`;
}

/** An HTTP/1.1 response with the given body. */
export function httpResponse(time: number, type: string, body: Uint8Array | string, server = 'Apache/1.3.29 (Unix)'): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'latin1') : Buffer.from(body);
  const head = `HTTP/1.1 200 OK\r\nDate: ${httpDate(time)}\r\nServer: ${server}\r\nContent-Type: ${type}\r\nContent-Length: ${bytes.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), bytes]);
}

/** A browser's request of 2004. */
export function httpRequest(host: string, path: string, agent = 'Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)'): string {
  return `GET ${path} HTTP/1.1\r\nAccept: */*\r\nAccept-Language: en-us\r\nUser-Agent: ${agent}\r\nHost: ${host}\r\nConnection: Keep-Alive\r\n\r\n`;
}

/** One page fetched over one connection: handshake, GET, the page, close. */
export function* webPage(story: Story, client: string, server: string, host: string, path = '/', port = 80): Conversation {
  const c = story.tcp(client, server, port).handshake();
  yield 0.03;
  c.send('client', httpRequest(host, path));
  yield 0.05 + story.rng.float() * 0.2;
  c.send('server', httpResponse(story.cap.time, 'text/html', htmlPage(story.rng, `${host} ${path}`, story.rng.int(800, 9000))));
  yield 0.5 + story.rng.float() * 3;
  c.close();
}

/**
 * A browser loading a page and its pictures as browsers do: the page first, then up to
 * `parallel` connections at once to the same server, each fetching a few objects.
 */
export function* browse(story: Story, client: string, server: string, host: string, parallel = 10): Conversation {
  const rng = story.rng;
  const page = story.tcp(client, server, 80).handshake();
  yield 0.03;
  page.send('client', httpRequest(host, '/'));
  yield 0.1;
  page.send('server', httpResponse(story.cap.time, 'text/html', htmlPage(rng, host, rng.int(6000, 15000))));
  yield 0.05;
  const conns: TcpConnection[] = [];
  for (let i = 0; i < parallel; i++) {
    conns.push(story.tcp(client, server, 80).handshake());
    yield 0.002;
  }
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < conns.length; i++) {
      const path = i === 0 && round === 0 ? '/style.css' : `/img/pic${round * parallel + i}.gif`;
      conns[i]!.send('client', httpRequest(host, path));
      yield 0.004;
    }
    yield 0.06;
    for (let i = 0; i < conns.length; i++) {
      const css = i === 0 && round === 0;
      const body = css ? Buffer.from('body { font-family: Verdana, sans-serif; }\nh1 { color: #336; }\n'.repeat(20)) : Buffer.concat([Buffer.from('GIF89a'), story.bytes(rng.int(300, 4000))]);
      conns[i]!.send('server', httpResponse(story.cap.time, css ? 'text/css' : 'image/gif', body));
      yield 0.003;
    }
    yield 0.2;
  }
  yield 5 + rng.float() * 10;
  for (const c of [page, ...conns]) {
    c.close();
    yield 0.001;
  }
}

/** Encodes a domain name as DNS labels. */
function dnsName(name: string): Buffer {
  const parts: Buffer[] = [];
  for (const label of name.split('.')) parts.push(Buffer.from([label.length]), Buffer.from(label, 'latin1'));
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/**
 * A DNS query for an A record, or its answer: `answer` gives the addresses, `nxdomain` says the
 * name does not exist (then `authoritative` marks a zone's own server answering).
 */
export function dnsMessage(id: number, name: string, answer?: { addresses?: string[]; nxdomain?: boolean; authoritative?: boolean }): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id, 0);
  const addresses = answer?.nxdomain === true ? [] : (answer?.addresses ?? []);
  if (answer === undefined) head.writeUInt16BE(0x0100, 2); // a query, recursion desired
  else head.writeUInt16BE(0x8180 | (answer.authoritative === true ? 0x0400 : 0) | (answer.nxdomain === true ? 3 : 0), 2);
  head.writeUInt16BE(1, 4);
  head.writeUInt16BE(addresses.length, 6);
  const parts = [head, dnsName(name), Buffer.from([0, 1, 0, 1])];
  for (const a of addresses) parts.push(Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, ...a.split('.').map(Number)]));
  return Buffer.concat(parts);
}

/** One lookup through a resolver: the query, and a few milliseconds later its answer (null: no answer; [] with nxdomain). */
export function* dnsLookup(story: Story, client: string, name: string, addresses: string[] | 'nxdomain', resolver = RESOLVER): Conversation {
  const id = story.rng.int(1, 0xffff);
  const flow = new UdpFlow(story.cap, `${client}:${story.port(client)}`, `${resolver}:53`);
  flow.send('client', dnsMessage(id, name));
  yield 0.005 + story.rng.float() * 0.04;
  flow.send('server', dnsMessage(id, name, addresses === 'nxdomain' ? { nxdomain: true } : { addresses }));
}

const u16 = (v: number): number[] => [(v >>> 8) & 0xff, v & 0xff];
const u24 = (v: number): number[] => [(v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];

/** A TLS record of a type around a body, TLS 1.0. */
function tlsRecord(type: number, body: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([type, 3, 1, ...u16(body.length)]), body]);
}

/** A TLS 1.0 handshake message (type and 24-bit length) around a body. */
function handshake(type: number, body: number[]): number[] {
  return [type, ...u24(body.length), ...body];
}

/** A TLS 1.0 ClientHello as a browser of 2004 with SNI sent it: RC4, 3DES and AES suites, the server_name extension. */
export function tlsClientHello(story: Story, sni: string): Buffer {
  const name = [...Buffer.from(sni, 'latin1')];
  const sniExt = [...u16(0x0000), ...u16(name.length + 5), ...u16(name.length + 3), 0, ...u16(name.length), ...name];
  const suites = [0x0004, 0x0005, 0x000a, 0x002f, 0x0035, 0x0009, 0x0064, 0x0062, 0x0003, 0x0006];
  const body = [3, 1, ...story.bytes(32), 0, ...u16(suites.length * 2), ...suites.flatMap(u16), 1, 0, ...u16(sniExt.length), ...sniExt];
  return tlsRecord(22, Buffer.from(handshake(1, body)));
}

/** The server's first flight: ServerHello (RC4-SHA, a new session) and ServerHelloDone. */
export function tlsServerHello(story: Story): Buffer {
  const hello = handshake(2, [3, 1, ...story.bytes(32), 32, ...story.bytes(32), ...u16(0x0005), 0]);
  return tlsRecord(22, Buffer.from([...hello, ...handshake(14, [])]));
}

/**
 * A TLS session to a server with SNI: hellos, the client's key exchange and both sides'
 * ChangeCipherSpec and Finished, then a few application-data records each way.
 */
export function* tlsSession(story: Story, client: string, server: string, sni: string): Conversation {
  const rng = story.rng;
  const c = story.tcp(client, server, 443).handshake();
  yield 0.04;
  c.send('client', tlsClientHello(story, sni));
  yield 0.06;
  c.send('server', tlsServerHello(story));
  yield 0.05;
  const kx = tlsRecord(22, Buffer.from(handshake(16, [...u16(128), ...story.bytes(128)])));
  c.send('client', Buffer.concat([kx, tlsRecord(20, Buffer.from([1])), tlsRecord(22, story.bytes(36))]));
  yield 0.05;
  c.send('server', Buffer.concat([tlsRecord(20, Buffer.from([1])), tlsRecord(22, story.bytes(36))]));
  for (let i = rng.int(2, 5); i > 0; i--) {
    yield 0.2 + rng.float() * 2;
    c.send('client', tlsRecord(23, story.bytes(rng.int(300, 700))));
    yield 0.1;
    c.send('server', tlsRecord(23, story.bytes(rng.int(1000, 12000))));
  }
  yield 1 + rng.float() * 5;
  c.send('client', tlsRecord(21, story.bytes(22)));
  c.close();
}

/**
 * A long interactive SSH session: the banners (server first), key exchange-sized bursts, then
 * keystrokes and their echoes, now and then a screenful of output, for about `seconds`.
 */
export function* sshSession(story: Story, client: string, server: string, seconds: number): Conversation {
  const rng = story.rng;
  const c = story.tcp(client, server, 22).handshake();
  yield 0.05;
  c.send('server', 'SSH-2.0-OpenSSH_3.8\r\n');
  yield 0.01;
  c.send('client', 'SSH-2.0-OpenSSH_3.8\r\n');
  yield 0.03;
  c.send('client', story.bytes(rng.int(500, 700)));
  c.send('server', story.bytes(rng.int(500, 700)));
  yield 0.1;
  c.send('client', story.bytes(144));
  c.send('server', story.bytes(rng.int(700, 900)));
  yield 0.1;
  const end = story.cap.time + seconds;
  while (story.cap.time < end) {
    yield rng.exp(1.2);
    c.send('client', story.bytes(48));
    yield 0.002;
    c.send('server', story.bytes(rng.float() < 0.1 ? rng.int(400, 3000) : 48));
  }
  c.send('client', story.bytes(64));
  c.close();
}

/** An IRC client's connection to a server, from which the story sends lines. */
export class IrcLink {
  readonly conn: TcpConnection;

  constructor(
    story: Story,
    client: string,
    readonly server: string,
    readonly port: number,
    readonly serverName: string,
  ) {
    this.conn = story.tcp(client, server, port);
  }

  /** A line from the client. */
  client(line: string): this {
    this.conn.send('client', `${line}\r\n`);
    return this;
  }

  /** Lines from the server, each prefixed with the server's name unless it starts with ":" or is a PING. */
  serverLines(...lines: string[]): this {
    this.conn.send('server', lines.map((l) => (l.startsWith(':') || l.startsWith('PING') ? `${l}\r\n` : `:${this.serverName} ${l}\r\n`)).join(''));
    return this;
  }
}

/**
 * Registers a client: the server's lookup notices, NICK and USER, the welcome numerics and a
 * short message of the day. The caller has done the handshake.
 */
export function* ircRegister(link: IrcLink, nick: string, user: string, realName: string, host: string): Conversation {
  link.serverLines('NOTICE AUTH :*** Looking up your hostname...', 'NOTICE AUTH :*** Found your hostname');
  yield 0.3;
  link.client(`NICK ${nick}`).client(`USER ${user} 0 0 :${realName}`);
  yield 0.2;
  link.serverLines(
    `001 ${nick} :Welcome to the Internet Relay Network ${nick}!${user}@${host}`,
    `002 ${nick} :Your host is ${link.serverName}, running version Unreal3.2`,
    `003 ${nick} :This server was created Tue Mar 2 2004 at 21:13:52 GMT`,
    `375 ${nick} :- ${link.serverName} Message of the Day -`,
    `372 ${nick} :- Be nice.`,
    `376 ${nick} :End of /MOTD command.`,
  );
}

/** The benign scenario's hosts. */
export interface BenignInfo extends ScenarioInfo {
  /** The office's clients that browse, chat and log in elsewhere. */
  clients: string[];
  /** The IRC server, port and channel of the human chat, and who chatted. */
  irc: { server: string; port: number; channel: string; nicks: string[] };
  /** The SSH session's client and server. */
  ssh: { client: string; server: string; port: number };
  /** The names the office looked up. */
  lookups: string[];
  /** The SNI names of the TLS sessions. */
  tlsNames: string[];
  /** The server the browser opened ten connections to. */
  browsed: string;
}

/** Names people looked up in 2004, and where they pointed (documentation addresses). */
const NAMES: ReadonlyArray<readonly [string, string]> = [
  ['www.google.com', '192.0.2.104'],
  ['www.slashdot.org', '192.0.2.56'],
  ['news.bbc.co.uk', '198.51.100.80'],
  ['www.microsoft.com', '198.51.100.45'],
  ['windowsupdate.microsoft.com', '198.51.100.46'],
  ['mail.yahoo.com', '203.0.113.17'],
  ['www.amazon.com', '203.0.113.30'],
  ['www.ebay.com', '203.0.113.31'],
  ['www.cnn.com', '198.51.100.90'],
  ['sourceforge.net', '192.0.2.66'],
  ['www.apache.org', '192.0.2.70'],
  ['freshmeat.net', '192.0.2.71'],
];

const IRC_SERVER = '192.0.2.10';
const SSH_SERVER = '203.0.113.22';

/**
 * Ordinary traffic that sends `perMinute` conversations a minute from `clients` during
 * [from, to) seconds of the story: DNS lookups followed by a page, now and then a TLS session.
 */
export function background(story: Story, clients: readonly string[], from: number, to: number, perMinute = 3): string[] {
  const rng = story.rng;
  const looked: string[] = [];
  for (let t = from + rng.exp(60 / perMinute); t < to; t += rng.exp(60 / perMinute)) {
    const client = rng.pick(clients);
    const [name, address] = rng.pick(NAMES);
    looked.push(name);
    story.at(t, dnsLookup(story, client, name, [address]));
    if (rng.float() < 0.25) story.at(t + 0.1, tlsSession(story, client, address, name));
    else story.at(t + 0.1, webPage(story, client, address, name, rng.pick(['/', '/index.html', '/news/', '/article.php?id=1044'])));
  }
  return looked;
}

/**
 * An office network's quarter hour, with nothing wrong in it: web browsing (one browser opens ten
 * connections at once to one server), TLS sessions with SNI, DNS lookups at human rates, two
 * colleagues chatting on IRC (one says she "will scan the docs later"), and an SSH session that
 * lasts minutes.
 */
export function benignScenario(cap: SynthCapture, options: ScenarioOptions = {}): BenignInfo {
  const story = new Story(cap, storyRng(options.seed, 0xbe9));
  const clients = ['192.168.1.50', '192.168.1.51', '192.168.1.52', '192.168.1.53', '192.168.1.54'];
  const lookups = background(story, clients, 0, 840, 3);

  const browsed = '192.0.2.56';
  story.at(30, dnsLookup(story, '192.168.1.52', 'www.slashdot.org', [browsed]), 'dns');
  story.at(30.1, browse(story, '192.168.1.52', browsed, 'www.slashdot.org', 10), 'browse');
  lookups.push('www.slashdot.org');

  const tlsNames = ['mail.yahoo.com', 'www.amazon.com', 'www.ebay.com'];
  tlsNames.forEach((name, i) => {
    const address = NAMES.find(([n]) => n === name)![1];
    story.at(60 + i * 150, dnsLookup(story, clients[i]!, name, [address]));
    story.at(60.1 + i * 150, tlsSession(story, clients[i]!, address, name), 'tls');
    lookups.push(name);
  });

  const channel = '#outpost-dev';
  story.at(20, humanChat(story, '192.168.1.61', '192.168.1.62', channel), 'irc');
  story.at(100, sshSession(story, '192.168.1.63', SSH_SERVER, 300), 'ssh');

  const end = story.run();
  return {
    name: 'benign',
    homeNet: SCENARIO_HOME_NET,
    start: story.start,
    end,
    phases: story.phases,
    frames: story.frames,
    clients: [...clients, '192.168.1.61', '192.168.1.62', '192.168.1.63'],
    irc: { server: IRC_SERVER, port: 6667, channel, nicks: ['alice', 'bob'] },
    ssh: { client: '192.168.1.63', server: SSH_SERVER, port: 22 },
    lookups,
    tlsNames,
    browsed,
  };
}

/** alice and bob, on two office machines, chat in a channel without a key on a public server. */
function* humanChat(story: Story, aliceAt: string, bobAt: string, channel: string): Conversation {
  const rng = story.rng;
  const alice = new IrcLink(story, aliceAt, IRC_SERVER, 6667, 'irc.example.org');
  const bob = new IrcLink(story, bobAt, IRC_SERVER, 6667, 'irc.example.org');
  alice.conn.handshake();
  yield* ircRegister(alice, 'alice', 'alice', 'Alice Smith', 'office.example.com');
  yield 2;
  alice.client(`JOIN ${channel}`);
  yield 0.1;
  alice.serverLines(`:alice!alice@office.example.com JOIN :${channel}`, `332 alice ${channel} :Outpost docs sprint this week`, `353 alice = ${channel} :alice @carol`, `366 alice ${channel} :End of /NAMES list.`);
  yield 40;
  bob.conn.handshake();
  yield* ircRegister(bob, 'bob', 'bob', 'Bob Jones', 'office.example.com');
  yield 1;
  bob.client(`JOIN ${channel}`);
  yield 0.1;
  bob.serverLines(`:bob!bob@office.example.com JOIN :${channel}`, `332 bob ${channel} :Outpost docs sprint this week`, `353 bob = ${channel} :bob alice @carol`, `366 bob ${channel} :End of /NAMES list.`);
  alice.serverLines(`:bob!bob@office.example.com JOIN :${channel}`);
  const lines: Array<[IrcLink, IrcLink, string, string]> = [];
  const say = (from: 'alice' | 'bob', text: string): void => {
    lines.push(from === 'alice' ? [alice, bob, 'alice', text] : [bob, alice, 'bob', text]);
  };
  say('alice', 'morning bob');
  say('bob', 'hi alice, did the nightly build pass?');
  say('alice', 'yes, all green. I will scan the docs later for broken links');
  say('bob', 'thanks. the scanner chapter still needs screenshots');
  say('alice', 'I can do those after lunch');
  say('bob', 'great, see you at the meeting');
  for (const [from, to, nick, text] of lines) {
    yield 5 + rng.float() * 40;
    from.client(`PRIVMSG ${channel} :${text}`);
    yield 0.05;
    to.serverLines(`:${nick}!${nick}@office.example.com PRIVMSG ${channel} :${text}`);
  }
  yield 60;
  for (const link of [alice, bob]) link.serverLines('PING :irc.example.org').client('PONG :irc.example.org');
  yield 120;
  alice.client('QUIT :lunch');
  alice.serverLines('ERROR :Closing Link: alice[office.example.com] (Quit: lunch)');
  alice.conn.close('server');
  bob.serverLines(`:alice!alice@office.example.com QUIT :Quit: lunch`);
  yield 30;
  bob.client('QUIT :bye');
  bob.conn.close('server');
}
