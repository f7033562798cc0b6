import { TcpFlag, type Packet } from '../decode/packet.js';
import type { IrcbotEvent } from '../events/behaviour.js';
import type { EveCommon, EveEvent } from '../events/types.js';
import { flowHeader, type Flow } from '../flow/index.js';
import { decodeLine, IRC_MAX_LINE } from '../protocols/irc/index.js';
import { AgingMap, timestampOf } from './util.js';
import type { Detector, DetectorContext } from './detector.js';

/**
 * The IRC command-and-control detector (DOMAIN.md §7): it reads the lines of every flow the
 * application layer named `irc` (IRC is found by content, so on any port) and weighs the signs
 * of a bot: a machine-made nick (scored by its tokens, as Rishi does), a channel joined with a
 * key, bot command verbs in PRIVMSG, NOTICE, TOPIC or the topic shown on joining (332), bot
 * status replies ("[SCAN]: ...", "Exploiting 10.0.0.5"), many internal hosts in the same channel
 * of the same server, and a server on a port that is not IRC's. Each sign has a weight; when
 * their sum first reaches `threshold` the conversation is reported. It is not reported again for
 * more of the same signs, with one exception kept simple: a command verb it had not been given
 * before (`.ddos` after `.advscan`) writes an update (`update: true`, every command so far), at
 * most MAX_UPDATES per conversation, so the record says what the bot was told to do even when the
 * signs crossed the threshold on joining, before the orders came.
 *
 * The IRC analyzer writes records only for NICK, USER and JOIN (Zeek's irc.log), so the detector
 * reads the lines itself from the packets' payloads: each conversation keeps one bounded line
 * splitter per direction and follows TCP sequence numbers, so retransmissions are read once and a
 * hole drops the line it cut. Reordered segments are not reassembled: what arrives after its
 * successor is dropped (bot traffic is a few short lines; losing one costs a sign, not a crash).
 * Ordinary chat is not a bot: the word "scan" in a sentence is not a command (a command is the
 * message's first word, with a bot's command prefix), and no single sign but a bot's status reply
 * or command together with another sign reaches the threshold.
 */
export const IRCBOT_DEFAULTS = {
  enabled: true,
  /** Score (0 to 1, the capped sum of the signs' weights) at which a conversation is reported. */
  threshold: 0.7,
  /** Internal hosts in one channel of one server that make the `shared_channel` sign. */
  'shared-channel-hosts': 3,
  /** Command verbs, comma-separated, recognised after a prefix (`.`, `!`, `@`, `$`) as a message's first word; `.ddos.syn` counts as `ddos`. */
  commands: 'advscan,asc,scan,scanall,scanstop,scanstats,ntscan,ddos,synflood,udpflood,tcpflood,pingflood,httpflood,download,dl,update,upd,execute,exec,sysinfo,netinfo,killthreads,spread,visit,remove,uninstall',
  /** IRC's usual server ports: a server elsewhere adds the `odd_port` sign. */
  'irc-ports': [194, 994, 6660, 6661, 6662, 6663, 6664, 6665, 6666, 6667, 6668, 6669, 6697, 7000] as readonly number[],
  /** Judge only conversations whose client is in HOME_NET (bots inside the network are what a sensor reports). */
  'home-clients-only': true,
  /** Conversations followed at once; past it the least recently active are forgotten, half at a time (each holds at most two partial lines of 512 bytes: 4096 is at most about 5 MB). */
  'max-conversations': 4096,
  /** Channels remembered for `shared_channel`; past it the least recently joined are forgotten, half at a time. */
  'max-channels': 4096,
  /** Seconds of packet time after which a silent conversation or channel is forgotten. */
  'idle-timeout': 1800,
};

/**
 * How much each sign says "bot". The threshold needs two: no single sign reaches 0.7, and a
 * command verb in a keyed channel alone does not either (0.65: people in private channels type
 * `!dl` and `!update` to XDCC and eggdrop bots); a machine-made nick or a bot reply with it does.
 */
const WEIGHT = {
  /** A nick scoring STRONG_NICK points or more. */
  strongNick: 0.4,
  /** A nick scoring WEAK_NICK points (Guest12345 does). */
  weakNick: 0.2,
  keyedChannel: 0.2,
  command: 0.45,
  botReply: 0.5,
  sharedChannel: 0.3,
  oddPort: 0.1,
} as const;

/** Nick points (see nickScore) for a machine-made nick: `[XP|USA|04211]` scores 10, `DEU|2K|123456` 9, `12345678` 5. */
const STRONG_NICK = 5;
/** Nick points that are only a hint: a run of five digits (`Guest12345`) or a pipe and a country. */
const WEAK_NICK = 3;
/** Channels a conversation remembers for `shared_channel`: bots join one or two. */
const MAX_CHANNELS_PER_CONVERSATION = 8;
/** Hosts and conversations remembered per channel: past the threshold more say nothing new. */
const MAX_CHANNEL_MEMBERS = 64;
/** Updates (records for new command verbs) after a conversation's first record. */
const MAX_UPDATES = 4;
/** Commands kept on a record (as IrcbotRecord.commands says). */
const MAX_COMMANDS = 16;
/** Signs kept per kind: the record explains, it does not transcribe. */
const MAX_SIGN_DETAILS = 4;
/** A sign's detail (a nick, a reply's tag) is cut here: it is the peer's text. */
const MAX_DETAIL = 40;
/** Idle conversations and channels are swept at most this often (seconds of packet time). */
const SWEEP_SECONDS = 60;

const COUNTRIES = new Set(
  ('USA US DEU DE GER GBR GB UK FRA FR CHN CN KOR KR JPN JP BRA BR CAN CA ITA IT ESP ES NLD NL POL PL RUS RU TWN TW AUS AU MEX MX ' +
    'IND IN TUR TR SWE SE ARG AR AUT AT BEL BE CHE CH DNK DK FIN FI NOR NO PRT PT HUN HU CZE CZ ISR IL ROU RO THA TH MYS MY SGP SG ' +
    'HKG HK ZAF ZA EGY EG SAU SA UKR UA GRC GR IRL IE NZL NZ CHL CL COL CO PER PE VEN VE PHL PH IDN ID VNM VN PAK PK').split(' '),
);
const SYSTEMS = new Set('XP 2K 2K3 W2K W2K3 WXP NT NT4 NT5 98 95 ME 2000 2003 VISTA VST W7 WIN7 WINXP WIN2K LNX SP1 SP2 SP3'.split(' '));

/**
 * Rishi-style points for how machine-made a nick looks: each pipe (up to 3), a bracketed tag, an
 * upper-case country code and an upper-case system name among its tokens (2 each), and runs of
 * digits (4 digits 1, 5 or more 3, 8 or more 4; one more when digits are most of a long nick).
 * Human nicks (`alice`, `Mike|away`, `john_1985`) score 0 or 1.
 */
export function nickScore(nick: string): number {
  let points = 0;
  let pipes = 0;
  let digits = 0;
  let run = 0;
  let longest = 0;
  for (let i = 0; i < nick.length; i++) {
    const c = nick.charCodeAt(i);
    if (c === 0x7c) pipes++;
    if (c >= 0x30 && c <= 0x39) {
      digits++;
      run++;
      if (run > longest) longest = run;
    } else run = 0;
  }
  points += Math.min(pipes, 3);
  if (/^[[{].*[\]}]/.test(nick)) points++;
  const tokens = nick.split(/[^A-Za-z0-9]+/).filter((t) => t !== '');
  if (tokens.length >= 2) {
    if (tokens.some((t) => COUNTRIES.has(t))) points += 2;
    if (tokens.some((t) => SYSTEMS.has(t))) points += 2;
  }
  if (longest >= 8) points += 4;
  else if (longest >= 5) points += 3;
  else if (longest === 4) points += 1;
  if (nick.length >= 6 && digits / nick.length >= 0.6) points++;
  return points;
}

/** A bot command: a prefix, a known verb (with `.sub` for `ddos.syn`), then a space or the end. */
const COMMAND = /^[.!@$]([A-Za-z][A-Za-z0-9]*)((?:\.[A-Za-z0-9]+)?)(?=\s|$)/;

/** The bot command a message or topic starts with (`.advscan`, `.ddos.syn`), lower-cased; null when it starts with none of `verbs`. */
export function botCommand(text: string, verbs: ReadonlySet<string>): string | null {
  const m = COMMAND.exec(text.trimStart());
  if (m === null || !verbs.has(m[1]!.toLowerCase())) return null;
  return m[0].toLowerCase().slice(0, MAX_DETAIL);
}

/** rbot/sdbot/Agobot status tags: `[SCAN]: Random Port Scan started ...`, `[DDoS]: Flooding ...`. */
const REPLY_TAG = /^\[(a?d?v?scan(?:ner)?|ddos|syn|udp|tcp|ping|flood|download|dl|update|exec(?:ute)?|main|sysinfo|netinfo|lsass|dcom2?|wks|netapi|mssql|tftp|ftp|http|exploit|shell|threads|clones?|pstore|keylog|spread|ntpass)\b[^\]]{0,24}\]\s*:?/i;
/**
 * Progress lines bots print with the address they attack: `Exploiting IP: 10.0.0.5`. Only the
 * verbs people do not use about their own work ("Scanning 10.0.0.0/8 would be faster" is chat).
 */
const REPLY_PROGRESS = /^(exploiting|exploited|flooding)\b[^.]{0,40}?\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/i;

/** The bot status reply a message starts with (its tag, or its first word), or null. */
export function botReply(text: string): string | null {
  const t = text.trimStart();
  const tag = REPLY_TAG.exec(t);
  if (tag !== null) return `[${tag[1]!.toUpperCase()}]`;
  const progress = REPLY_PROGRESS.exec(t);
  if (progress !== null) return progress[1]!;
  return null;
}

/** One client-server conversation's state. */
interface Conversation {
  readonly flowId: number;
  /** False once reading stopped (its updates used up, or STARTTLS). */
  reading: boolean;
  /** Next expected TCP sequence number per direction; -1 until the first segment. */
  next0: number;
  next1: number;
  /** The unterminated end of the last segment, per direction (at most IRC_MAX_LINE characters). */
  partial0: string;
  partial1: string;
  /** Dropping bytes up to the next line end (after an overlong line or a hole), per direction. */
  skip0: boolean;
  skip1: boolean;
  /** The record's common fields, made when the conversation was first seen. */
  readonly header: EveCommon;
  readonly client: string;
  readonly server: string;
  readonly serverPort: number;
  readonly home: boolean;
  nick: string;
  nickPoints: number;
  /** The channel to report (the first keyed one, else the last joined) and whether a key was given. */
  channel: string;
  keyed: boolean;
  /** Channel keys (server|port|name) joined, for shared_channel. */
  readonly channels: string[];
  readonly commands: string[];
  readonly replies: string[];
  /** Base verbs of the commands seen (`ddos` for `.ddos.syn`). */
  readonly verbs: string[];
  reported: boolean;
  /** A verb arrived after the report that no record has carried yet. */
  newVerb: boolean;
  /** Updates written after the report. */
  updates: number;
  lastSeen: number;
}

/** One channel of one server: the internal hosts that joined it and their conversations. */
interface Channel {
  readonly hosts: Set<string>;
  readonly members: Set<number>;
  lastSeen: number;
}

export function createIrcbotDetector(ctx: DetectorContext, options: typeof IRCBOT_DEFAULTS): Detector {
  const verbs = new Set(
    options.commands
      .split(',')
      .map((v) => v.trim().toLowerCase())
      .filter((v) => v !== ''),
  );
  const ircPorts = new Set(options['irc-ports']);
  const threshold = options.threshold;
  const sharedHosts = Math.max(2, options['shared-channel-hosts']);
  const maxConversations = Math.max(1, options['max-conversations']);
  const maxChannels = Math.max(1, options['max-channels']);
  const idle = options['idle-timeout'];
  const conversations = new AgingMap<number, Conversation>(maxConversations);
  const channels = new AgingMap<string, Channel>(maxChannels);
  const counters = {
    conversations: 0,
    channels: 0,
    lines: 0,
    commands: 0,
    replies: 0,
    events: 0,
    gaps: 0,
    errors: 0,
    evicted_conversations: 0,
    evicted_channels: 0,
  };
  let lastSweep = 0;
  /** While a payload is read: its conversation, and the packet time and frame number its lines take. */
  let reading: Conversation | null = null;
  let now = 0;
  let frameNumber = 0;

  function open(flow: Flow, p: Packet): Conversation | null {
    const home = ctx.home(flow.addr, 0);
    if (options['home-clients-only'] && !home) return null;
    const header = flowHeader(flow, 'ircbot', p.tsSec, p.tsNsec);
    const c: Conversation = {
      flowId: flow.id,
      reading: true,
      next0: -1,
      next1: -1,
      partial0: '',
      partial1: '',
      skip0: false,
      skip1: false,
      header,
      client: header.src_ip ?? '',
      server: header.dest_ip ?? '',
      serverPort: flow.serverPort,
      home,
      nick: '',
      nickPoints: 0,
      channel: '',
      keyed: false,
      channels: [],
      commands: [],
      replies: [],
      verbs: [],
      reported: false,
      newVerb: false,
      updates: 0,
      lastSeen: p.tsSec,
    };
    conversations.set(flow.id, c);
    counters.conversations = conversations.size;
    counters.evicted_conversations = conversations.evicted;
    return c;
  }

  /** Hands one segment's new bytes to the line reader, once per byte of the stream. */
  function feed(c: Conversation, p: Packet, dir: number): void {
    let off = p.payloadOff;
    let len = p.payloadLen;
    let seq = (p.tcpFlags & TcpFlag.SYN) !== 0 ? (p.seq + 1) >>> 0 : p.seq;
    const expected = dir === 0 ? c.next0 : c.next1;
    let hole = false;
    if (expected >= 0) {
      const delta = (seq - expected) | 0;
      if (delta < 0) {
        // A retransmission or overlap: only what lies past what was read is new.
        if (len + delta <= 0) return;
        off -= delta;
        len += delta;
        seq = expected;
      } else if (delta > 0) {
        hole = true;
        counters.gaps++;
      }
    }
    const next = (seq + len) >>> 0;
    if (dir === 0) c.next0 = next;
    else c.next1 = next;
    lines(c, dir, p.data, off, off + len, hole);
  }

  /**
   * Cuts bytes into lines as Zeek's ContentLine does (CR, LF or CRLF ends a line) and reads each.
   * Only a segment's unterminated end is kept, as text; a line longer than IRC allows (which
   * Zeek's analyzer ignores too) and a line cut by a hole are dropped up to the next line end.
   */
  function lines(c: Conversation, dir: number, buf: Uint8Array, from: number, to: number, hole: boolean): void {
    let partial = dir === 0 ? c.partial0 : c.partial1;
    let skip = dir === 0 ? c.skip0 : c.skip1;
    if (hole) {
      partial = '';
      skip = true;
    }
    let start = from;
    for (let i = from; i < to && c.reading; i++) {
      const b = buf[i]!;
      if (b !== 0x0a && b !== 0x0d) continue;
      if (skip) skip = false;
      else if (i > start || partial !== '') {
        const piece = i - start + partial.length > IRC_MAX_LINE ? null : latin1(buf, start, i);
        if (piece !== null) onLine(c, dir, partial === '' ? piece : partial + piece);
      }
      partial = '';
      start = i + 1;
    }
    if (start < to && !skip && c.reading) {
      if (to - start + partial.length > IRC_MAX_LINE) {
        partial = '';
        skip = true;
      } else partial += latin1(buf, start, to);
    }
    if (dir === 0) {
      c.partial0 = partial;
      c.skip0 = skip;
    } else {
      c.partial1 = partial;
      c.skip1 = skip;
    }
  }

  function onLine(c: Conversation, dir: number, line: string): void {
    counters.lines++;
    const d = decodeLine(line, dir === 0);
    const m = d.message;
    if (m === null) return;
    let changed = false;
    const last = m.params.length > 0 ? m.params[m.params.length - 1]! : '';
    if (m.code === 0) {
      switch (m.command) {
        case 'NICK':
          if (dir === 0 && m.params.length > 0) changed = setNick(c, m.params[0]!);
          else if (dir === 1 && m.params.length > 0 && c.nick !== '' && nickOf(m.prefix) === c.nick) changed = setNick(c, m.params[0]!);
          break;
        case 'JOIN':
          if (dir === 0 && d.event !== null && d.event.type === 'join_message') {
            for (const j of d.event.info_list) changed = join(c, j.channel, j.password) || changed;
          }
          break;
        case 'PRIVMSG':
        case 'NOTICE':
          if (m.params.length >= 2) changed = text(c, last);
          break;
        case 'TOPIC':
          if (m.params.length >= 2) changed = text(c, last);
          break;
      }
    } else if (dir === 1) {
      if (m.code === 1 && m.params.length > 0 && m.params[0] !== c.nick) changed = setNick(c, m.params[0]!);
      else if (m.code === 332 && m.params.length >= 3) changed = text(c, last);
      else if (m.code === 670) c.reading = false; // STARTTLS accepted: the rest is TLS
    }
    if (changed) judge(c);
  }

  function setNick(c: Conversation, nick: string): boolean {
    if (nick === '' || nick === c.nick) return false;
    c.nick = nick.slice(0, MAX_DETAIL);
    c.nickPoints = nickScore(c.nick);
    return true;
  }

  function join(c: Conversation, channel: string, key: string): boolean {
    if (channel === '' || channel === '0') return false;
    const name = channel.slice(0, MAX_DETAIL);
    if (key !== '') {
      if (!c.keyed) c.channel = name;
      c.keyed = true;
    } else if (!c.keyed) c.channel = name;
    if (!c.home) return true;
    const id = `${c.server}|${c.serverPort}|${name.toLowerCase()}`;
    if (!c.channels.includes(id) && c.channels.length < MAX_CHANNELS_PER_CONVERSATION) c.channels.push(id);
    let ch = channels.get(id);
    if (ch === undefined) {
      ch = { hosts: new Set(), members: new Set(), lastSeen: now };
      channels.set(id, ch);
      counters.channels = channels.size;
      counters.evicted_channels = channels.evicted;
    }
    ch.lastSeen = now;
    if (ch.members.size < MAX_CHANNEL_MEMBERS) ch.members.add(c.flowId);
    if (!ch.hosts.has(c.client) && ch.hosts.size < MAX_CHANNEL_MEMBERS) {
      ch.hosts.add(c.client);
      // The host that makes the channel shared also changes its other members' scores.
      if (ch.hosts.size === sharedHosts) {
        for (const id2 of ch.members) {
          const other = conversations.get(id2);
          if (other !== undefined && other !== c && !other.reported) judge(other);
        }
      }
    }
    return true;
  }

  /** A message's or topic's text: a command, or a bot's status reply. */
  function text(c: Conversation, t: string): boolean {
    const command = botCommand(t, verbs);
    if (command !== null) {
      counters.commands++;
      if (c.commands.length < MAX_COMMANDS) c.commands.push(command);
      const verb = command.slice(1).split('.')[0]!;
      if (!c.verbs.includes(verb) && c.verbs.length < MAX_COMMANDS) {
        c.verbs.push(verb);
        if (c.reported) c.newVerb = true;
      }
      return true;
    }
    const reply = botReply(t);
    if (reply !== null) {
      counters.replies++;
      if (c.replies.length < MAX_SIGN_DETAILS && !c.replies.includes(reply)) c.replies.push(reply);
      return true;
    }
    return false;
  }

  /** Internal hosts in the busiest channel this conversation joined. */
  function channelHosts(c: Conversation): number {
    let most = 0;
    for (const id of c.channels) {
      const n = channels.get(id)?.hosts.size ?? 0;
      if (n > most) most = n;
    }
    return most;
  }

  /** Weighs the signs; reports the conversation the first time they reach the threshold, then updates it on new verbs. */
  function judge(c: Conversation): void {
    if (c.reported && !c.newVerb) return;
    const signs: string[] = [];
    let score = 0;
    if (c.nickPoints >= WEAK_NICK) {
      score += c.nickPoints >= STRONG_NICK ? WEIGHT.strongNick : WEIGHT.weakNick;
      signs.push(`machine_nick: ${c.nick}`);
    }
    if (c.keyed) {
      score += WEIGHT.keyedChannel;
      signs.push(`keyed_channel: ${c.channel}`);
    }
    if (c.commands.length > 0) {
      score += WEIGHT.command;
      for (const cmd of unique(c.commands, MAX_SIGN_DETAILS)) signs.push(`command: ${cmd}`);
    }
    if (c.replies.length > 0) {
      score += WEIGHT.botReply;
      for (const r of c.replies) signs.push(`bot_reply: ${r}`);
    }
    const hosts = channelHosts(c);
    if (hosts >= sharedHosts) {
      score += WEIGHT.sharedChannel;
      signs.push(`shared_channel: ${hosts} hosts`);
    }
    if (!ircPorts.has(c.serverPort)) {
      score += WEIGHT.oddPort;
      signs.push(`odd_port: ${c.serverPort}`);
    }
    score = Math.min(1, Math.round(score * 100) / 100);
    if (score < threshold) return;
    const update = c.reported;
    c.reported = true;
    c.newVerb = false;
    if (update) c.updates++;
    // Past its updates a reported conversation has nothing more to say: stop reading it.
    if (c.updates >= MAX_UPDATES) c.reading = false;
    counters.events++;
    const ev = { ...c.header } as IrcbotEvent;
    ev.timestamp = timestampOf(now);
    if (frameNumber > 0 && reading === c) ev.pcap_cnt = frameNumber;
    ev.ircbot = {
      client: c.client,
      server: c.server,
      server_port: c.serverPort,
      ...(c.nick !== '' ? { nick: c.nick } : {}),
      ...(c.channel !== '' ? { channel: c.channel } : {}),
      keyed: c.keyed,
      signs,
      score,
      commands: [...c.commands],
      channel_hosts: hosts,
      update,
    };
    ctx.emit(ev);
  }

  function sweep(t: number): void {
    conversations.sweep((c) => t - c.lastSeen > idle);
    channels.sweep((ch) => t - ch.lastSeen > idle);
    counters.conversations = conversations.size;
    counters.channels = channels.size;
  }

  return {
    name: 'ircbot',
    counters,
    packet(p: Packet, flow: Flow | null, dir: number): void {
      if (flow === null || p.payloadLen === 0 || flow.appProto !== 'irc') return;
      try {
        let c = conversations.get(flow.id);
        if (c === undefined) {
          const opened = open(flow, p);
          if (opened === null) return;
          c = opened;
        }
        if (!c.reading) return;
        now = p.tsSec + p.tsNsec / 1e9;
        frameNumber = p.number;
        c.lastSeen = p.tsSec;
        reading = c;
        feed(c, p, dir === 0 ? 0 : 1);
      } catch {
        counters.errors++;
      }
      reading = null;
    },
    record(ev: EveEvent): void {
      if (ev.event_type !== 'flow' || conversations.size === 0 || ev.flow_id === undefined) return;
      if (conversations.delete(ev.flow_id)) counters.conversations = conversations.size;
    },
    tick(t: number): void {
      if (t - lastSweep < SWEEP_SECONDS) return;
      lastSweep = t;
      sweep(t);
    },
  };
}

function latin1(buf: Uint8Array, from: number, to: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + from, to - from).toString('latin1');
}

function nickOf(prefix: string): string {
  const bang = prefix.indexOf('!');
  return bang < 0 ? prefix : prefix.slice(0, bang);
}

function unique(items: readonly string[], max: number): string[] {
  const out: string[] = [];
  for (const i of items) if (!out.includes(i) && out.length < max) out.push(i);
  return out;
}
