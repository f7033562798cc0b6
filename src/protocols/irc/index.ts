import type { Probe, ProtocolSpec } from '../app.js';
import { DccExpectations } from './log.js';
import { DccSession, IrcSession, type DccContext } from './session.js';

/**
 * IRC, as Zeek's analyzer and irc.log see it: the protocol specs for the application layer
 * (IRC on any port, recognised by its first line; DCC SEND transfers as expected connections),
 * and what other rooms may use.
 */
export {
  CONTENTLINE_MAX_LINE,
  IRC_MAX_LINE,
  ContentLineSplitter,
  decodeLine,
  rfcParams,
  prefixParts,
  topicOf,
  pingOf,
  ctcpOf,
  type ContentLineWeird,
  type DecodedLine,
  type IrcEvent,
  type IrcJoinInfo,
  type IrcMessage,
  type IrcWeird,
  type LineSink,
} from './parse.js';
export { DccExpectations, DccTransfer, IrcLogState, escapeBytes, zeekColumns, ZEEK_IRC_COLUMNS, DCC_EXPECT_SECONDS, MAX_DCC_EXPECTED, type IrcLogRecord } from './log.js';
export { IrcConversation, MAX_INVALID_COMMANDS, type IrcConversationWeird, type IrcOutput, type TlsStart } from './session.js';

/** On IRC's own ports, any client command will do (a capture may start mid-conversation, as Zeek's port-based analyzer allows). */
const CLIENT_COMMANDS = ['NICK', 'USER', 'PASS', 'CAP', 'SERVER', 'PRIVMSG', 'NOTICE', 'JOIN', 'PART', 'MODE', 'TOPIC', 'PING', 'PONG', 'QUIT', 'WHO', 'WHOIS', 'NAMES', 'LIST', 'KICK', 'INVITE', 'AWAY', 'ISON', 'USERHOST', 'OPER'];
const IRC_PORTS = [6660, 6661, 6662, 6663, 6664, 6665, 6666, 6667, 6668, 6669, 6697, 7000];
/** A server speaks first with a prefixed NOTICE, a numeric reply, PING or ERROR. */
const SERVER_OPENER = /^:[!-~]+ (NOTICE|PING|ERROR|[0-9]{3}) /;

/**
 * How a client opens an IRC connection, strictly enough that POP3's "USER bob" / "PASS x" and
 * FTP's are not taken for it: NICK with a nick, USER with its four parameters, CAP LS/REQ, a
 * server link's SERVER; PASS only when registration follows it.
 */
function clientOpener(line: string): boolean {
  return (
    /^NICK :?[A-Za-z[\]\\`_^{|}][-0-9A-Za-z[\]\\`_^{|}]*\s*$/i.test(line) ||
    /^USER \S+ \S+ \S+ :?.*\S/i.test(line) ||
    /^CAP (LS|REQ|END)\b/i.test(line) ||
    /^SERVER \S+ /i.test(line)
  );
}

/** The first lines of `data`, up to 512 bytes each (an IRC line's most); null when a control byte shows it is not text. */
function firstLines(data: Uint8Array, max: number): { lines: string[]; partial: string } | null {
  const lines: string[] = [];
  let text = '';
  for (let i = 0; i < data.length && lines.length < max; i++) {
    const c = data[i]!;
    if (c === 0x0d || c === 0x0a) {
      if (text !== '') lines.push(text);
      text = '';
      continue;
    }
    if (c < 0x20 && c !== 0x01) return null;
    text += String.fromCharCode(c);
    if (text.length > 512) return null;
  }
  return { lines, partial: text };
}

/**
 * IRC's first line, either side: a client's registration (any IRC command on IRC's ports), or
 * a server's prefixed notice or numeric.
 */
export function probeIrc(dir: number, data: Uint8Array, serverPort = 0): Probe {
  const read = firstLines(data, 2);
  if (read === null) return 'no';
  const { lines, partial } = read;
  if (dir === 0) {
    const first = lines[0];
    if (first === undefined) return /^[A-Za-z]{0,8}( |$)/.test(partial) ? 'more' : 'no';
    const verb = /^([A-Za-z]+)(?: |$)/.exec(first)?.[1]?.toUpperCase() ?? '';
    if (IRC_PORTS.includes(serverPort)) return CLIENT_COMMANDS.includes(verb) ? 'yes' : 'no';
    if (clientOpener(first)) return 'yes';
    if (verb !== 'PASS' || !/^PASS \S+$/i.test(first)) return 'no';
    const next = lines[1];
    if (next === undefined) return 'more';
    return clientOpener(next) ? 'yes' : 'no';
  }
  const text = lines[0] ?? partial;
  if (SERVER_OPENER.test(text) || /^(NOTICE AUTH|PING :)/.test(text)) return 'yes';
  return lines.length > 0 || text.length > 64 || !/^(:[!-~]*( [A-Z0-9]*)?|N[A-Z ]*|P[A-Z :]*)$/.test(text) ? 'no' : 'more';
}

/** IRC and its DCC transfers; the two share the table of DCC offers, so a sensor makes them once. */
export function createIrcProtocols(): ProtocolSpec[] {
  const expectations = new DccExpectations();
  const irc: ProtocolSpec = {
    name: 'irc',
    transport: 'tcp',
    ports: IRC_PORTS,
    probe: probeIrc,
    open: (_flow, out) => new IrcSession(out, expectations),
    buffers: [],
  };
  const dcc: ProtocolSpec = {
    name: 'irc-dcc-data',
    transport: 'tcp',
    ports: [],
    probe: () => 'no', // only ever opened as the connection a DCC SEND offer announced
    open: (_flow, out, context) => new DccSession(out, expectations, context as DccContext),
    buffers: [],
  };
  return [irc, dcc];
}
