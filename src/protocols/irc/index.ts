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

/** Commands a client may open an IRC connection with (a server link opens with PASS or SERVER). */
const CLIENT_OPENERS = ['NICK', 'USER', 'PASS', 'CAP', 'SERVER'];
/** On IRC's own ports, any client command will do (a capture may start mid-conversation, as Zeek's port-based analyzer allows). */
const CLIENT_COMMANDS = [...CLIENT_OPENERS, 'PRIVMSG', 'NOTICE', 'JOIN', 'PART', 'MODE', 'TOPIC', 'PING', 'PONG', 'QUIT', 'WHO', 'WHOIS', 'NAMES', 'LIST', 'KICK', 'INVITE', 'AWAY', 'ISON', 'USERHOST', 'OPER'];
const IRC_PORTS = [6660, 6661, 6662, 6663, 6664, 6665, 6666, 6667, 6668, 6669, 6697, 7000];
/** A server speaks first with a prefixed NOTICE, a numeric reply, PING or ERROR. */
const SERVER_OPENER = /^:[!-~]+ (NOTICE|PING|ERROR|[0-9]{3}) /;

/**
 * IRC's first line, either side: a client's registration command (any IRC command on IRC's
 * ports), or a server's prefixed notice or numeric.
 */
export function probeIrc(dir: number, data: Uint8Array, serverPort = 0): Probe {
  const n = Math.min(data.length, 512); // an IRC line is at most 512 bytes
  let text = '';
  for (let i = 0; i < n; i++) {
    const c = data[i]!;
    if (c === 0x0d || c === 0x0a) break;
    if (c < 0x20 && c !== 0x01) return 'no';
    text += String.fromCharCode(c);
  }
  const complete = text.length < n || n === 512;
  if (dir === 0) {
    const word = /^([A-Za-z]+)( |$)/.exec(text);
    if (word === null) return complete || !/^[A-Za-z]*$/.test(text) ? 'no' : 'more';
    if (word[2] === '') return complete ? 'no' : 'more';
    return (IRC_PORTS.includes(serverPort) ? CLIENT_COMMANDS : CLIENT_OPENERS).includes(word[1]!.toUpperCase()) ? 'yes' : 'no';
  }
  if (SERVER_OPENER.test(text) || /^(NOTICE AUTH|PING :)/.test(text)) return 'yes';
  return complete || text.length > 64 || !/^(:[!-~]*( [A-Z0-9]*)?|N[A-Z ]*|P[A-Z :]*)$/.test(text) ? 'no' : 'more';
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
