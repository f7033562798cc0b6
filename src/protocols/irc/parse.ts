/**
 * Pure, bounded parsing of IRC (RFC 1459, RFC 2812) as Zeek's IRC analyzer reads it: a stream is
 * cut into lines by Zeek's ContentLine analyzer (src/analyzer/protocol/tcp/ContentLine.cc), and
 * each line is split and decoded into the events Zeek raises (src/analyzer/protocol/irc/IRC.cc),
 * with Zeek's weird names for what it rejects. Where Zeek's C++ has quirks that show in its logs
 * (USER's real name, JOIN keys paired after empty items are dropped, NUL-truncated strings, the
 * global-users prefix keeping its space), they are kept, so that our records agree with Zeek's.
 *
 * Nothing here throws on any input. Memory and work are bounded: the splitter holds at most
 * CONTENTLINE_MAX_LINE bytes per direction, and lines past IRC_MAX_LINE are not decoded.
 */

/** Zeek's IRC analyzer gives its ContentLine analyzers a 1000-byte cap (IRC.cc): a longer line is cut there. */
export const CONTENTLINE_MAX_LINE = 1000;
/** RFC 1459 2.3: a message is at most 512 bytes; Zeek ignores longer lines (irc_line_size_exceeded). */
export const IRC_MAX_LINE = 512;
/** Zeek's analyzer rejects command words longer than 20 bytes (irc_invalid_command): none is that long. */
export const MAX_COMMAND_LEN = 20;
/** RFC 2812 2.3: at most 14 middle parameters; the rest of the line is the 15th (trailing) one. */
export const MAX_MIDDLE_PARAMS = 14;

const CR = 0x0d;
const LF = 0x0a;

/** What the line splitter reports, by Zeek's weird names. */
export type ContentLineWeird =
  /** A line reached the cap without an end: Zeek delivers the cap's worth as a line and drops the byte that overflowed. */
  | 'contentline_size_exceeded'
  /** A line ended with a lone CR and the next line went on (Zeek flags it once per connection). */
  | 'line_terminated_with_single_CR';

/** Where the splitter's lines go. The line is a view into the splitter's buffer: valid during the call only. */
export interface LineSink {
  /** One line without its terminator; `ts` is the time of the chunk that ended it; `end` is the stream offset just past its terminator. */
  line(line: Uint8Array, ts: number, end: number): void;
  weird(name: ContentLineWeird, ts: number): void;
}

/**
 * An incremental line splitter with Zeek's ContentLine semantics (CR_as_EOL | LF_as_EOL, its
 * default): CRLF, a bare LF and a bare CR each end a line, and a CRLF split across chunks is still
 * one terminator. A line that reaches the cap is delivered at the cap and the byte that would
 * have overflowed is dropped, as Zeek does. NUL bytes stay in the line. Holds at most `maxLine`
 * bytes whatever the input, so a peer that never sends a newline costs nothing more.
 */
export class ContentLineSplitter {
  private readonly buf: Uint8Array;
  private offset = 0;
  private last = 0;
  /** Stream bytes consumed (terminators and dropped bytes included). */
  private pos = 0;
  /** After a gap: bytes are dropped up to the next terminator, so no line is made of two pieces. */
  private resync = false;
  private stopped = false;

  constructor(private readonly maxLine = CONTENTLINE_MAX_LINE) {
    this.buf = new Uint8Array(Math.max(1, maxLine));
  }

  /** Bytes of the current partial line. */
  get buffered(): number {
    return this.offset;
  }

  /** Stream offset of the first byte not yet delivered in a line (the start of the partial line). */
  get lineStart(): number {
    return this.pos - this.offset;
  }

  /** True once `stop` was called: nothing more is split. */
  get isStopped(): boolean {
    return this.stopped;
  }

  /** Stops splitting, even in the middle of a chunk (STARTTLS: the rest is TLS). */
  stop(): void {
    this.stopped = true;
  }

  /** Feeds one chunk of the stream, received at `ts`. */
  push(data: Uint8Array, off: number, len: number, ts: number, sink: LineSink): void {
    const end = Math.min(data.length, off + Math.max(0, len));
    let i = Math.max(0, off);
    while (i < end && !this.stopped) {
      const c = data[i]!;
      if (this.last === CR && c === LF) {
        // The LF of a CRLF whose CR already ended the line.
        this.last = LF;
        i++;
        this.pos++;
        continue;
      }
      if (this.resync) {
        if (c === CR || c === LF) this.resync = false;
        this.last = c;
        i++;
        this.pos++;
        continue;
      }
      if (this.offset >= this.maxLine) {
        sink.weird('contentline_size_exceeded', ts);
        this.last = c;
        i++;
        this.pos++;
        this.emit(ts, sink);
        continue;
      }
      if (c === CR) {
        if (i + 1 < end && data[i + 1] === LF) {
          this.last = LF;
          i += 2;
          this.pos += 2;
        } else {
          this.last = CR;
          i++;
          this.pos++;
        }
        this.emit(ts, sink);
        continue;
      }
      if (c === LF) {
        this.last = LF;
        i++;
        this.pos++;
        this.emit(ts, sink);
        continue;
      }
      this.buf[this.offset++] = c;
      if (this.last === CR) sink.weird('line_terminated_with_single_CR', ts);
      this.last = c;
      i++;
      this.pos++;
    }
  }

  /** The side closed: a partial line is delivered as a line, as Zeek's EndpointEOF does. */
  end(ts: number, sink: LineSink): void {
    if (this.stopped || this.offset === 0) return;
    if (this.offset >= this.maxLine) sink.weird('contentline_size_exceeded', ts);
    this.last = LF;
    this.emit(ts, sink);
  }

  /**
   * Bytes are missing: the partial line is dropped and so is everything up to the next terminator.
   * (Zeek splices the pieces on either side of a hole into one line; a line the peer never sent
   * is worse than a lost one.)
   */
  gap(): void {
    this.pos -= this.offset;
    this.offset = 0;
    this.resync = true;
  }

  private emit(ts: number, sink: LineSink): void {
    const n = this.offset;
    this.offset = 0;
    sink.line(this.buf.subarray(0, n), ts, this.pos);
  }
}

/** A line's bytes as a string of one char per byte (latin1), as Zeek's std::string holds them. */
export function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** Zeek's IRC_Analyzer::SplitWords: items between separators, empty ones dropped. */
export function splitWords(input: string, sep: string): string[] {
  const words: string[] = [];
  let start = 0;
  for (;;) {
    const at = input.indexOf(sep, start);
    if (at < 0) break;
    if (at > start) words.push(input.slice(start, at));
    start = at + 1;
  }
  if (start < input.length) words.push(input.slice(start));
  return words;
}

/** C's atoi as glibc does it (strtol, saturating at 64 bits, then cut to a 32-bit int). */
export function atoi(s: string): number {
  let i = 0;
  while (i < s.length && isCSpace(s.charCodeAt(i))) i++;
  let neg = false;
  if (s[i] === '+' || s[i] === '-') {
    neg = s[i] === '-';
    i++;
  }
  const limit = neg ? 1n << 63n : (1n << 63n) - 1n;
  let v = 0n;
  for (; i < s.length; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) break;
    if (v < limit) {
      v = v * 10n + BigInt(d);
      if (v > limit) v = limit;
    }
  }
  return Number(BigInt.asIntN(32, neg ? -v : v));
}

/** Zeek's val_mgr->Count of a C int: a negative int becomes 2^64 + n (as near as a double holds it). */
function count(n: number): number {
  return n < 0 ? 2 ** 64 + n : n;
}

function isCSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** Zeek's strings made with `StringVal(s.c_str())` end at the first NUL. */
function cstr(s: string): string {
  const at = s.indexOf('\0');
  return at < 0 ? s : s.slice(0, at);
}

function skipLeadingSpaces(s: string): string {
  let i = 0;
  while (i < s.length && s.charCodeAt(i) === 0x20) i++;
  return i === 0 ? s : s.slice(i);
}

function stripColon(s: string): string {
  return s[0] === ':' ? s.slice(1) : s;
}

/** The nick of a nick!user@host prefix, or "" when it has no '!' (Zeek's JOIN and QUIT). */
function nickOfPrefix(prefix: string): string {
  const at = prefix.indexOf('!');
  return at < 0 ? '' : prefix.slice(0, at);
}

function isDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch >= '0' && ch <= '9';
}

/** One channel of a JOIN (Zeek's irc_join_info). */
export interface IrcJoinInfo {
  /** The joining nick, from a nick!user@host prefix (servers echo JOINs with one); "" from a client. */
  nick: string;
  channel: string;
  /** The channel key given for it, or "". */
  password: string;
  /** From NJOIN (server to server): "operator", "creator", "voice" or "none"; "" for JOIN. */
  usermode: string;
}

/**
 * What one line means, as Zeek's events (irc_<type>, same parameter names). `request` and
 * `message` are Zeek's catch-alls for other commands (from the client and from the server).
 */
export type IrcEvent =
  /** NICK: `who` is the prefix (empty from a client). */
  | { type: 'nick_message'; who: string; newnick: string }
  /** USER user host server :real name. Zeek joins the real name's words oddly (see `decodeUser`). */
  | { type: 'user_message'; user: string; host: string; server: string; real_name: string }
  /** JOIN (one item per channel, keys paired in order) or NJOIN. */
  | { type: 'join_message'; info_list: IrcJoinInfo[] }
  | { type: 'part_message'; nick: string; chans: string[]; message: string }
  | { type: 'privmsg_message'; source: string; target: string; message: string }
  | { type: 'notice_message'; source: string; target: string; message: string }
  | { type: 'squery_message'; source: string; target: string; message: string }
  /** A CTCP DCC offer inside a PRIVMSG (SEND, CHAT, ...): address and port to connect to, size for SEND. */
  | { type: 'dcc_message'; prefix: string; target: string; dcc_type: string; argument: string; address: string; dest_port: number; size: number }
  | { type: 'quit_message'; nick: string; message: string }
  | { type: 'kick_message'; prefix: string; chans: string; users: string; comment: string }
  | { type: 'mode_message'; prefix: string; params: string }
  | { type: 'password_message'; password: string }
  | { type: 'oper_message'; user: string; password: string }
  | { type: 'who_message'; mask: string; oper: boolean }
  | { type: 'whois_message'; server: string; users: string }
  | { type: 'error_message'; prefix: string; message: string }
  | { type: 'invite_message'; prefix: string; nickname: string; channel: string }
  | { type: 'squit_message'; prefix: string; server: string; message: string }
  /** Any other command from the client (TOPIC, PING, PONG, CAP, ...: see topicOf and pingOf). */
  | { type: 'request'; prefix: string; command: string; arguments: string }
  /** Any other command from the server. */
  | { type: 'message'; prefix: string; command: string; message: string }
  /** A numeric reply Zeek has no closer event for. */
  | { type: 'reply'; prefix: string; code: number; params: string }
  /** 251 RPL_LUSERCLIENT. */
  | { type: 'network_info'; users: number; services: number; servers: number }
  /** 255 RPL_LUSERME. */
  | { type: 'server_info'; users: number; services: number; servers: number }
  /** 254 RPL_LUSERCHANNELS. */
  | { type: 'channel_info'; chans: number }
  /** 266 RPL_GLOBALUSERS (`prefix` keeps its trailing space, as Zeek's does). */
  | { type: 'global_users'; prefix: string; msg: string }
  /** 353 RPL_NAMREPLY: the channel's type (=, *, @), the channel, and its nicks ('@' removed). */
  | { type: 'names_info'; c_type: string; channel: string; users: string[] }
  /** 311 RPL_WHOISUSER. */
  | { type: 'whois_user_line'; nick: string; user: string; host: string; real_name: string }
  /** 313 RPL_WHOISOPERATOR. */
  | { type: 'whois_operator_line'; nick: string }
  /** 319 RPL_WHOISCHANNELS. */
  | { type: 'whois_channel_line'; nick: string; chans: string[] }
  /** 332 RPL_TOPIC: the topic a channel has when one joins (bots take orders from it). */
  | { type: 'channel_topic'; channel: string; topic: string }
  /** 352 RPL_WHOREPLY. */
  | { type: 'who_line'; target_nick: string; channel: string; user: string; host: string; server: string; nick: string; params: string; hops: number; real_name: string }
  /** 431, 432, 433, 436: the nick was refused. */
  | { type: 'invalid_nick' }
  /** 381 (now an operator) or 491 (not). */
  | { type: 'oper_response'; got_oper: boolean }
  /** 670: STARTTLS accepted. From here on the connection is TLS. */
  | { type: 'starttls' };

/** Line-level problems, by Zeek's weird names. */
export type IrcWeird =
  | 'irc_line_size_exceeded'
  | 'irc_line_too_short'
  | 'irc_invalid_line'
  | 'irc_invalid_reply_number'
  | 'irc_invalid_command'
  | 'irc_invalid_names_line'
  | 'invalid_irc_global_users_reply'
  | 'irc_invalid_whois_user_line'
  | 'irc_invalid_whois_operator_line'
  | 'irc_invalid_whois_channel_line'
  | 'irc_invalid_topic_reply'
  | 'irc_invalid_who_line'
  | 'irc_invalid_privmsg_message_format'
  | 'irc_invalid_dcc_message_format'
  | 'irc_invalid_notice_message_format'
  | 'irc_invalid_squery_message_format'
  | 'irc_invalid_oper_message_format'
  | 'irc_invalid_kick_message_format'
  | 'irc_invalid_join_line'
  | 'irc_invalid_njoin_line'
  | 'irc_invalid_who_message_format'
  | 'irc_invalid_whois_message_format'
  | 'irc_invalid_invite_message_format'
  | 'irc_invalid_mode_message_format';

/** A line split as RFC 2812 2.3.1 reads it, for rules and detection (bot verbs in PRIVMSG and TOPIC). */
export interface IrcMessage {
  /** The prefix without its ':' ("" when none): a server name or nick!user@host. */
  prefix: string;
  /** The command word upper-cased, or the three digits of a numeric reply. */
  command: string;
  /** The numeric reply's code, or 0 for a command. */
  code: number;
  /** The parameters: middle ones, then the trailing one (after " :") when there is one. */
  params: string[];
  /** Whether the last of `params` was a trailing parameter (it may hold spaces, or be empty). */
  trailing: boolean;
}

/** What one line gave: Zeek's view (event or weird) and the RFC view of the message. */
export interface DecodedLine {
  /** The line's parts as Zeek cuts them; null when the line was rejected before its command. */
  message: IrcMessage | null;
  /** The rest of the line after the command, as Zeek's events see it (leading spaces removed). */
  rawParams: string;
  event: IrcEvent | null;
  weird: IrcWeird | null;
}

const NONE: DecodedLine = { message: null, rawParams: '', event: null, weird: null };

/**
 * Decodes one line (without its terminator) from the client (`orig`) or the server, as Zeek's
 * IRC_Analyzer::DeliverStream does. Session state (STARTTLS, compressed server links, counts of
 * invalid lines) is the caller's.
 */
export function decodeLine(line: string, orig: boolean): DecodedLine {
  if (line.length > IRC_MAX_LINE) return { ...NONE, weird: 'irc_line_size_exceeded' };
  let rest = skipLeadingSpaces(line);
  if (rest.length < 3) return { ...NONE, weird: 'irc_line_too_short' };

  // IRCv3 message tags (@time=...;msgid=... ) come before the prefix: Zeek skips them since its PR 4706.
  if (rest[0] === '@') {
    const sp = rest.indexOf(' ');
    if (sp < 0) return { ...NONE, weird: 'irc_invalid_line' };
    rest = skipLeadingSpaces(rest.slice(sp + 1));
  }

  let prefix = '';
  if (rest[0] === ':') {
    const sp = rest.indexOf(' ');
    if (sp < 0) return { ...NONE, weird: 'irc_invalid_line' };
    prefix = rest.slice(1, sp);
    rest = skipLeadingSpaces(rest.slice(sp + 1));
  }
  if (rest.length < 3) return { ...NONE, weird: 'irc_invalid_line' };

  let code = 0;
  let command = '';
  let word: string;
  if (isDigit(rest[0])) {
    if (!(isDigit(rest[1]) && isDigit(rest[2]) && rest[3] === ' ')) return { ...NONE, weird: 'irc_invalid_reply_number' };
    word = rest.slice(0, 3);
    code = Number(word);
    rest = rest.slice(4);
  } else {
    const sp = rest.indexOf(' ');
    command = asciiUpper(sp < 0 ? rest : rest.slice(0, sp));
    word = command;
    rest = sp < 0 ? '' : skipLeadingSpaces(rest.slice(sp + 1));
  }
  const params = rest;
  const message: IrcMessage = { prefix, command: word, code, ...rfcParams(params) };
  const done = (event: IrcEvent | null, weird: IrcWeird | null = null): DecodedLine => ({ message, rawParams: params, event, weird });

  if (command === 'STARTTLS') return done(null);
  if (code > 0) return decodeReply(code, prefix, params, done);
  return decodeCommand(command, prefix, params, orig, done);
}

type Done = (event: IrcEvent | null, weird?: IrcWeird | null) => DecodedLine;

function asciiUpper(s: string): string {
  return s.replace(/[a-z]+/g, (m) => m.toUpperCase());
}

/** RFC 2812 parameters: space-separated middles (runs of spaces tolerated), then a trailing one after ':'. */
export function rfcParams(params: string): { params: string[]; trailing: boolean } {
  const out: string[] = [];
  let i = 0;
  while (i < params.length) {
    while (params.charCodeAt(i) === 0x20) i++;
    if (i >= params.length) break;
    if (params[i] === ':' || out.length === MAX_MIDDLE_PARAMS) {
      out.push(params.slice(params[i] === ':' ? i + 1 : i));
      return { params: out, trailing: true };
    }
    const sp = params.indexOf(' ', i);
    out.push(params.slice(i, sp < 0 ? params.length : sp));
    i = sp < 0 ? params.length : sp;
  }
  return { params: out, trailing: false };
}

function decodeReply(code: number, prefix: string, params: string, done: Done): DecodedLine {
  switch (code) {
    case 251:
    case 255: {
      const parts = splitWords(params, ' ');
      let users = 0;
      let services = 0;
      let servers = 0;
      for (let i = 1; i < parts.length; i++) {
        const w = parts[i]!;
        const n = atoi(parts[i - 1]!);
        if (code === 251 ? w === 'users' : w === 'users,' || w === 'clients') users = n;
        else if (w === 'services') services = n;
        else if (w === 'servers') servers = n;
      }
      return done({ type: code === 251 ? 'network_info' : 'server_info', users, services, servers });
    }
    case 353: {
      const parts = splitWords(params, ' ');
      if (parts.length < 3) return done(null, 'irc_invalid_names_line');
      const users = parts.slice(3);
      if (users.length > 0 && users[0]![0] === ':') users[0] = users[0]!.slice(1);
      return done({ type: 'names_info', c_type: cstr(parts[1]!), channel: cstr(parts[2]!), users: unique(users.map((u) => (u[0] === '@' ? u.slice(1) : u))) });
    }
    case 254: {
      const parts = splitWords(params, ' ');
      let chans = 0;
      for (let i = 1; i < parts.length; i++) if (parts[i] === ':channels') chans = atoi(parts[i - 1]!);
      return done({ type: 'channel_info', chans });
    }
    case 266: {
      // Zeek reads this one as a C string: a NUL ends it.
      const p = cstr(params);
      const sp = p.indexOf(' ');
      if (sp < 0) return done(null, 'invalid_irc_global_users_reply');
      const colon = p.indexOf(':', sp + 1);
      if (colon < 0) return done(null, 'invalid_irc_global_users_reply');
      return done({ type: 'global_users', prefix: p.slice(0, sp + 1), msg: p.slice(colon + 1) });
    }
    case 311: {
      const parts = splitWords(params, ' ');
      if (parts.length > 1) parts.shift();
      if (parts.length < 5) return done(null, 'irc_invalid_whois_user_line');
      const realName = stripColon(parts.slice(4).join(' '));
      return done({ type: 'whois_user_line', nick: cstr(parts[0]!), user: cstr(parts[1]!), host: cstr(parts[2]!), real_name: cstr(realName) });
    }
    case 313: {
      const parts = splitWords(params, ' ');
      if (parts.length > 1) parts.shift();
      if (parts.length < 2) return done(null, 'irc_invalid_whois_operator_line');
      return done({ type: 'whois_operator_line', nick: cstr(parts[0]!) });
    }
    case 319: {
      // Zeek's older analyzer dropped the first word before taking the nick (and indexed an empty
      // list doing so); the one its baselines come from takes the first word as the nick and
      // keeps the rest, so "tim tim :@#testing" gives nick "tim" and {"tim", ":@#testing"}.
      const parts = splitWords(params, ' ');
      if (parts.length < 2) return done(null, 'irc_invalid_whois_channel_line');
      const nick = parts.shift()!;
      if (parts[0]![0] === ':') parts[0] = parts[0]!.slice(1);
      return done({ type: 'whois_channel_line', nick: cstr(nick), chans: unique(parts) });
    }
    case 332: {
      const parts = splitWords(params, ' ');
      if (parts.length < 4) return done(null, 'irc_invalid_topic_reply');
      const colon = params.indexOf(':');
      if (colon < 0) return done(null, 'irc_invalid_topic_reply');
      return done({ type: 'channel_topic', channel: cstr(parts[1]!), topic: stripColon(cstr(params.slice(colon + 1))) });
    }
    case 352: {
      const parts = splitWords(params, ' ');
      if (parts.length < 9) return done(null, 'irc_invalid_who_line');
      const user = parts[2]![0] === '~' ? parts[2]!.slice(1) : parts[2]!;
      return done({
        type: 'who_line',
        target_nick: cstr(parts[0]!),
        channel: cstr(parts[1]!),
        user: cstr(user),
        host: cstr(parts[3]!),
        server: cstr(parts[4]!),
        nick: cstr(parts[5]!),
        params: cstr(parts[6]!),
        hops: atoi(stripColon(parts[7]!)),
        real_name: cstr(parts[8]!),
      });
    }
    case 431:
    case 432:
    case 433:
    case 436:
      return done({ type: 'invalid_nick' });
    case 381:
    case 491:
      return done({ type: 'oper_response', got_oper: code === 381 });
    case 670:
      return done({ type: 'starttls' });
    default:
      return done({ type: 'reply', prefix: cstr(prefix), code, params: cstr(params) });
  }
}

function decodeCommand(command: string, prefix: string, params: string, orig: boolean, done: Done): DecodedLine {
  if (command.length > MAX_COMMAND_LEN) return done(null, 'irc_invalid_command');
  switch (command) {
    case 'PRIVMSG':
      return decodePrivmsg(prefix, params, done);
    case 'NOTICE':
    case 'SQUERY': {
      const sp = params.indexOf(' ');
      if (sp < 0) return done(null, command === 'NOTICE' ? 'irc_invalid_notice_message_format' : 'irc_invalid_squery_message_format');
      const message = stripColon(skipLeadingSpaces(params.slice(sp + 1)));
      return done({ type: command === 'NOTICE' ? 'notice_message' : 'squery_message', source: cstr(prefix), target: cstr(params.slice(0, sp)), message: cstr(message) });
    }
    case 'USER':
      return done(decodeUser(params));
    case 'OPER': {
      const parts = splitWords(params, ' ');
      if (parts.length !== 2) return done(null, 'irc_invalid_oper_message_format');
      return done({ type: 'oper_message', user: cstr(parts[0]!), password: cstr(parts[1]!) });
    }
    case 'KICK': {
      const parts = splitWords(params, ' ');
      if (parts.length <= 1) return done(null, 'irc_invalid_kick_message_format');
      const comment = parts.length > 2 ? stripColon(parts.slice(2).join(' ')) : '';
      return done({ type: 'kick_message', prefix: cstr(prefix), chans: cstr(parts[0]!), users: cstr(parts[1]!), comment: cstr(comment) });
    }
    case 'JOIN':
      return decodeJoin(prefix, params, done);
    case 'NJOIN':
      return decodeNjoin(params, done);
    case 'PART': {
      let channels = params;
      let message = '';
      const sp = params.indexOf(' ');
      if (sp >= 0) {
        channels = params.slice(0, sp);
        if (params.length > sp + 1) message = skipLeadingSpaces(params.slice(sp + 1));
        message = stripColon(message);
      }
      const bang = prefix.indexOf('!');
      const nick = bang < 0 ? prefix : prefix.slice(0, bang);
      return done({ type: 'part_message', nick: cstr(nick), chans: unique(splitWords(channels, ',')), message: cstr(message) });
    }
    case 'QUIT':
      return done({ type: 'quit_message', nick: cstr(nickOfPrefix(prefix)), message: cstr(stripColon(params)) });
    case 'NICK':
      return done({ type: 'nick_message', who: cstr(prefix), newnick: cstr(stripColon(params)) });
    case 'WHO': {
      const parts = splitWords(params, ' ');
      if (parts.length > 2) return done(null, 'irc_invalid_who_message_format');
      return done({ type: 'who_message', mask: cstr(stripColon(parts[0] ?? '')), oper: parts.length === 2 && parts[1] === 'o' });
    }
    case 'WHOIS': {
      const parts = splitWords(params, ' ');
      if (parts.length < 1 || parts.length > 2) return done(null, 'irc_invalid_whois_message_format');
      return done({ type: 'whois_message', server: parts.length === 2 ? cstr(parts[0]!) : '', users: cstr(parts[parts.length - 1]!) });
    }
    case 'ERROR':
      return done({ type: 'error_message', prefix: cstr(prefix), message: cstr(stripColon(params)) });
    case 'INVITE': {
      const parts = splitWords(params, ' ');
      if (parts.length !== 2) return done(null, 'irc_invalid_invite_message_format');
      return done({ type: 'invite_message', prefix: cstr(prefix), nickname: cstr(parts[0]!), channel: cstr(stripColon(parts[1]!)) });
    }
    case 'MODE':
      if (params.length === 0) return done(null, 'irc_invalid_mode_message_format');
      return done({ type: 'mode_message', prefix: cstr(prefix), params: cstr(params) });
    case 'PASS':
      return done({ type: 'password_message', password: cstr(params) });
    case 'SQUIT': {
      let server = params;
      let message = '';
      const sp = params.indexOf(' ');
      if (sp >= 0) {
        server = params.slice(0, sp);
        message = stripColon(skipLeadingSpaces(params.slice(sp + 1)));
      }
      return done({ type: 'squit_message', prefix: cstr(prefix), server: cstr(server), message: cstr(message) });
    }
    default:
      return done(orig ? { type: 'request', prefix: cstr(prefix), command: cstr(command), arguments: cstr(params) } : { type: 'message', prefix: cstr(prefix), command: cstr(command), message: cstr(params) });
  }
}

/**
 * USER user host server :real name. Zeek builds the real name by appending each word from the
 * fourth on, with a space after each word past the first: ":Tim Wojtulewicz" gives
 * "TimWojtulewicz " in its logs, and so here.
 */
function decodeUser(params: string): IrcEvent {
  const parts = splitWords(params, ' ');
  let realName = '';
  for (let i = 3; i < parts.length; i++) {
    realName += parts[i];
    if (i > 3) realName += ' ';
  }
  return { type: 'user_message', user: cstr(parts[0] ?? ''), host: cstr(parts[1] ?? ''), server: cstr(parts[2] ?? ''), real_name: stripColon(cstr(realName)) };
}

/** JOIN #a,#b key1,key2: one item per channel, the keys paired by position (empty items dropped first, as Zeek does). */
function decodeJoin(prefix: string, params: string, done: Done): DecodedLine {
  const parts = splitWords(stripColon(params), ' ');
  if (parts.length < 1) return done(null, 'irc_invalid_join_line');
  const nick = cstr(nickOfPrefix(prefix));
  const channels = splitWords(parts[0]!, ',');
  const keys = parts.length > 1 ? splitWords(parts[1]!, ',') : [];
  const list = channels.map((ch, i): IrcJoinInfo => ({ nick, channel: cstr(ch), password: cstr(keys[i] ?? ''), usermode: '' }));
  return done({ type: 'join_message', info_list: uniqueJoins(list) });
}

/** NJOIN #chan :@@creator,@op,+voice,plain (server to server). */
function decodeNjoin(params: string, done: Done): DecodedLine {
  const parts = splitWords(params, ' ');
  if (parts.length !== 2) return done(null, 'irc_invalid_njoin_line');
  const channel = cstr(parts[0]!);
  const list = splitWords(stripColon(parts[1]!), ',').map((u): IrcJoinInfo => {
    let nick = u;
    let mode = 'none';
    if (u[0] === '@') {
      if (u[1] === '@') {
        nick = u.slice(2);
        mode = 'creator';
      } else {
        nick = u.slice(1);
        mode = 'operator';
      }
    } else if (u[0] === '+') {
      nick = u.slice(1);
      mode = 'voice';
    }
    return { nick: cstr(nick), channel, password: '', usermode: mode };
  });
  return done({ type: 'join_message', info_list: uniqueJoins(list) });
}

/**
 * PRIVMSG target :text. A CTCP DCC offer (\x01DCC type argument address port [size]\x01) becomes a
 * dcc_message: the address is the decimal 32-bit form IRC clients send (Zeek reads it digit by
 * digit, so stray characters count as 0).
 */
function decodePrivmsg(prefix: string, params: string, done: Done): DecodedLine {
  const sp = params.indexOf(' ');
  if (sp < 0) return done(null, 'irc_invalid_privmsg_message_format');
  const target = params.slice(0, sp);
  let message = stripColon(skipLeadingSpaces(params.slice(sp + 1)));
  if (message.charCodeAt(0) === 1) message = message.slice(1);
  if (!(message.length > 3 && message.startsWith('DCC'))) return done({ type: 'privmsg_message', source: cstr(prefix), target: cstr(target), message: cstr(message) });

  if (message.charCodeAt(message.length - 1) === 1) message = message.slice(0, -1);
  const parts = splitWords(message, ' ');
  // Five or six words; Turbo DCC adds a seventh, "T".
  if ((parts.length < 5 || parts.length > 6) && !(parts.length === 7 && parts[6] === 'T')) return done(null, 'irc_invalid_dcc_message_format');
  let raw = 0;
  for (const ch of parts[3]!) {
    const d = ch.charCodeAt(0) - 0x30;
    raw = (raw * 10 + (d >= 0 && d <= 9 ? d : 0)) >>> 0;
  }
  return done({
    type: 'dcc_message',
    prefix: cstr(prefix),
    target: cstr(target),
    dcc_type: cstr(parts[1]!),
    argument: cstr(parts[2]!),
    address: `${raw >>> 24}.${(raw >>> 16) & 0xff}.${(raw >>> 8) & 0xff}.${raw & 0xff}`,
    dest_port: count(atoi(parts[4]!)),
    size: parts.length >= 6 ? count(atoi(parts[5]!)) : 0,
  });
}

/** Zeek passes these lists as sets: a repeated item counts once. Its iteration order is its hash's; ours is the line's. */
function unique(items: string[]): string[] {
  return [...new Set(items)];
}

function uniqueJoins(list: IrcJoinInfo[]): IrcJoinInfo[] {
  const seen = new Set<string>();
  return list.filter((j) => {
    const key = `${j.nick}\0${j.channel}\0${j.password}\0${j.usermode}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The nick, user and host of a nick!user@host prefix; a server name comes back as the nick. */
export function prefixParts(prefix: string): { nick: string; user: string | null; host: string | null } {
  const at = prefix.indexOf('@');
  const hostless = at < 0 ? prefix : prefix.slice(0, at);
  const bang = hostless.indexOf('!');
  return {
    nick: bang < 0 ? hostless : hostless.slice(0, bang),
    user: bang < 0 ? null : hostless.slice(bang + 1),
    host: at < 0 ? null : prefix.slice(at + 1),
  };
}

/** TOPIC #chan [:text]: the channel, and the new topic (null for a query, "" to clear it). */
export function topicOf(m: IrcMessage): { channel: string; topic: string | null } | null {
  if (m.command !== 'TOPIC' || m.params.length === 0) return null;
  return { channel: m.params[0]!, topic: m.params.length > 1 ? m.params[m.params.length - 1]! : null };
}

/** PING or PONG and its token (the server name or cookie the peer must echo). */
export function pingOf(m: IrcMessage): { kind: 'PING' | 'PONG'; token: string } | null {
  if (m.command !== 'PING' && m.command !== 'PONG') return null;
  return { kind: m.command, token: m.params[0] ?? '' };
}

/** A CTCP request or reply inside PRIVMSG/NOTICE text (\x01VERB args\x01): ACTION, VERSION, DCC, ... */
export function ctcpOf(m: IrcMessage): { verb: string; args: string } | null {
  if ((m.command !== 'PRIVMSG' && m.command !== 'NOTICE') || m.params.length < 2) return null;
  const text = m.params[m.params.length - 1]!;
  if (text.charCodeAt(0) !== 1) return null;
  const body = text.charCodeAt(text.length - 1) === 1 && text.length > 1 ? text.slice(1, -1) : text.slice(1);
  const sp = body.indexOf(' ');
  return { verb: asciiUpper(sp < 0 ? body : body.slice(0, sp)), args: sp < 0 ? '' : body.slice(sp + 1) };
}
