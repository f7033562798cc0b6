/**
 * IRC, as Zeek's analyzer and irc.log see it. What other rooms may use; the application-layer
 * wiring (a ProtocolSpec for protocols/index.ts) is still to come: see NOTES.md.
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
