/**
 * FTP, as Suricata's FTP parser (src/app-layer-ftp.c) sees it: the control connection (`ftp`)
 * and the data connections it announces (`ftp-data`, opened only through an expectation).
 */
import type { Probe, ProtocolSpec } from '../app.js';
import { FTP_BUFFERS, FTP_DATA_BUFFERS } from './buffers.js';
import { startsWithCi, verbOf } from './parse.js';
import { FtpDataChannel, FtpDataSession, FtpSession, type FtpOptions } from './session.js';

export { FTP_BUFFERS, FTP_DATA_BUFFERS, ftpBuffer, ftpDataBuffer } from './buffers.js';
export { eveString, ftpDataRecord, ftpRecord } from './log.js';
export {
  FTP_COMMANDS,
  FTP_MAX_LINE,
  FtpLineReader,
  parseCommand,
  parseEprt,
  parseEpsvReply,
  parsePasvReply,
  parsePort,
  replyCode,
  type FtpCommandLine,
  type FtpEndpoint,
} from './parse.js';
export {
  FTP_DATA_EXPECT_SECONDS,
  FTP_MAX_OPEN_TX,
  FTP_MAX_REPLY_LINES,
  FtpDataChannel,
  FtpDataSession,
  FtpDataTransaction,
  FtpSession,
  FtpTransaction,
  type FtpOptions,
} from './session.js';

/**
 * How much of a side's first bytes the probe reads: the layer hands at most 1 KiB, and a
 * greeting or first command that has not ended within it is not FTP's.
 */
const PROBE_WINDOW = 1024;

/**
 * Verbs that open an FTP client's conversation and no other protocol's. Left out: QUIT, NOOP,
 * HELP, STAT, LIST, MODE and LANG, which SMTP, POP3 and NNTP clients send as well; and PASS,
 * which an FTP client only sends after USER but an IRC client sends first.
 */
const FIRST_VERBS: ReadonlySet<string> = new Set([
  'USER', 'ACCT', 'CWD', 'CDUP', 'SMNT', 'REIN', 'PORT', 'PASV', 'TYPE', 'STRU', 'RETR', 'STOR', 'STOU', 'APPE',
  'ALLO', 'REST', 'RNFR', 'RNTO', 'ABOR', 'DELE', 'RMD', 'MKD', 'PWD', 'NLST', 'SITE', 'SYST', 'FEAT', 'OPTS',
  'EPRT', 'EPSV', 'MDTM', 'SIZE', 'MLST', 'MLSD', 'XPWD', 'XCWD', 'XMKD', 'XRMD', 'HOST', 'CLNT', 'PROT', 'PBSZ',
  'CCC', 'AUTH',
]);

/** POP3 clients send these too: on POP3's ports they say nothing about FTP. */
const POP3_VERBS: ReadonlySet<string> = new Set(['USER', 'RETR', 'DELE']);
const POP3_PORTS: ReadonlySet<number> = new Set([110, 995]);

/** Bytes a command or greeting line may hold: printable ASCII, tab, and bytes past ASCII (UTF-8 names). */
const lineByte = (c: number): boolean => c === 0x09 || (c >= 0x20 && c !== 0x7f);

/** The complete lines (without CR/LF) in `data`, and whether the bytes after the last one could still become a line. */
function lines(data: Uint8Array): { complete: Uint8Array[]; clean: boolean } {
  const complete: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < data.length; i++) {
    const c = data[i]!;
    if (c === 0x0a) {
      let end = i;
      if (end > start && data[end - 1] === 0x0d) end--;
      complete.push(data.subarray(start, end));
      start = i + 1;
    } else if (!lineByte(c) && !(c === 0x0d && (i + 1 === data.length || data[i + 1] === 0x0a))) {
      return { complete, clean: false };
    }
  }
  return { complete, clean: true };
}

const ascii = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

/**
 * The server's greeting: a 220 reply (one line, or an RFC 959 multi-line one). A greeting that
 * names SMTP or LMTP (ESMTP included) is a mail server's, never FTP's, whatever its port. One
 * that names FTP is FTP's on any port; one that names neither is taken on port 21 only, and
 * elsewhere left to the client's first command, which tells FTP from SMTP (USER, not EHLO).
 */
function probeGreeting(data: Uint8Array, serverPort: number): Probe {
  const head = '220';
  for (let i = 0; i < Math.min(3, data.length); i++) if (data[i] !== head.charCodeAt(i)) return 'no';
  if (data.length < 4) return 'more';
  if (data[3] !== 0x20 && data[3] !== 0x2d && data[3] !== 0x0d && data[3] !== 0x0a) return 'no';
  const { complete, clean } = lines(data);
  if (!clean) return 'no';
  let ended = false;
  let ftp = false;
  for (const l of complete) {
    const text = ascii(l).toUpperCase();
    if (text.includes('SMTP') || text.includes('LMTP')) return 'no';
    if (text.includes('FTP')) ftp = true;
    if (text.startsWith('220') && (l.length === 3 || l[3] === 0x20)) ended = true;
  }
  if (ftp) return 'yes';
  if (!ended) return data.length >= PROBE_WINDOW ? 'no' : 'more';
  return serverPort === 21 ? 'yes' : 'no';
}

/**
 * The client's first command: a verb from FIRST_VERBS, the line printable and ended. USER must
 * look like FTP's (one name), not IRC's ("USER name mode * :real name"); AUTH must ask for TLS
 * or SSL (SMTP's and POP3's AUTH name SASL mechanisms).
 */
function probeCommand(data: Uint8Array, serverPort: number): Probe {
  const { complete, clean } = lines(data);
  if (!clean) return 'no';
  if (complete.length === 0) {
    // Not ended yet: wait while what came could still be a verb and its argument.
    if (data.length >= PROBE_WINDOW) return 'no';
    const space = data.indexOf(0x20);
    // Five bytes hold the longest verb (CHMOD, UMASK): more without a space is no verb.
    const word = ascii(data.subarray(0, space === -1 ? Math.min(data.length, 5) : space)).toUpperCase().replace(/\r$/, '');
    if (space === -1 && data.length > 5) return 'no';
    return [...FIRST_VERBS].some((v) => v.startsWith(word)) ? 'more' : 'no';
  }
  const first = complete[0]!;
  const verb = verbOf(first);
  if (verb === null || !FIRST_VERBS.has(verb)) return 'no';
  if (first.length > verb.length && first[verb.length] !== 0x20) return 'no';
  if (POP3_VERBS.has(verb) && POP3_PORTS.has(serverPort)) return 'no';
  if (verb === 'AUTH') return startsWithCi(first, 4, ' TLS') || startsWithCi(first, 4, ' SSL') ? 'yes' : 'no';
  if (verb === 'USER') {
    const arg = ascii(first.subarray(5));
    // A user name is one word (two, for the odd "USER name account"); IRC's USER has four and a ':'.
    if (arg.trim() === '' || arg.includes(' :') || arg.trim().split(/ +/).length > 2) return 'no';
  }
  return 'yes';
}

/** Probes a side's first bytes for FTP: the server's greeting or the client's first command. */
export function probeFtp(dir: number, data: Uint8Array, serverPort: number): Probe {
  return dir === 0 ? probeCommand(data, serverPort) : probeGreeting(data, serverPort);
}

/** The FTP control connection's spec, with a line cap other than Suricata's default (tests use 32, as suricata-verify's do). */
export function ftpProtocolWith(options: FtpOptions): ProtocolSpec {
  return {
    name: 'ftp',
    transport: 'tcp',
    ports: [21],
    probe: probeFtp,
    open: (flow, out) => new FtpSession(flow, out, options),
    buffers: FTP_BUFFERS,
  };
}

/** The FTP control connection. */
export const ftpProtocol: ProtocolSpec = ftpProtocolWith({});

/** FTP's specs for a sensor: the control connection and its data connections. */
export function createFtpProtocols(options: FtpOptions = {}): ProtocolSpec[] {
  return [ftpProtocolWith(options), ftpDataProtocol];
}

/** An FTP data connection: never probed (nothing in a file says FTP), opened when the control connection announced it. */
export const ftpDataProtocol: ProtocolSpec = {
  name: 'ftp-data',
  transport: 'tcp',
  ports: [],
  probe: () => 'no',
  open: (flow, out, context) => new FtpDataSession(flow, out, context instanceof FtpDataChannel ? context : null),
  buffers: FTP_DATA_BUFFERS,
};
