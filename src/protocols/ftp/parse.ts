/**
 * The FTP control connection as bytes: lines (with Suricata's line cap and what it does past
 * it), command lines, reply lines, and the data-connection announcements (PORT, EPRT, the 227
 * and 229 replies). Pure and bounded: nothing here keeps more than one line per direction.
 */
import { parseIpv4, parseIpv6 } from '../../wire/address.js';

/**
 * The longest line kept, delimiter included: Suricata's default ftp max-line-length. RFC 959
 * sets no limit; 4096 is Linux's PATH_MAX, so a command naming any real path fits, and a line
 * past it is an overflow attempt or garbage.
 */
export const FTP_MAX_LINE = 4096;

/** C's isspace: what Suricata trims from the end of a line. */
export const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);

/** The line without trailing white space (a view). */
export function trimEnd(line: Uint8Array): Uint8Array {
  let n = line.length;
  while (n > 0 && isSpace(line[n - 1]!)) n--;
  return line.subarray(0, n);
}

/** Receives each line: a view, valid only during the call. `truncated`: the line hit the cap and was cut. */
export type LineSink = (line: Uint8Array, truncated: boolean) => void;

/**
 * Splits one direction's stream into lines at LF (a CR before it is dropped), as Suricata's
 * FTPGetLineForDirection does: a line that reaches `maxLine` bytes (delimiter included) goes out
 * cut to `maxLine` bytes and flagged, and the rest of it, up to and including its LF, is
 * discarded rather than read as further lines. A gap discards the line it cuts the same way.
 */
export class FtpLineReader {
  private readonly buf: Uint8Array;
  private len = 0;
  private discarding = false;

  constructor(readonly maxLine = FTP_MAX_LINE) {
    this.buf = new Uint8Array(maxLine);
  }

  /** Bytes held for a line not yet ended (less than maxLine). */
  get buffered(): number {
    return this.len;
  }

  push(data: Uint8Array, off: number, len: number, sink: LineSink): void {
    const end = off + len;
    let i = off;
    while (i < end) {
      const rel = data.subarray(i, end).indexOf(0x0a);
      if (this.discarding) {
        if (rel === -1) return;
        this.discarding = false;
        i += rel + 1;
        continue;
      }
      if (rel === -1) {
        const room = this.maxLine - this.len;
        const n = end - i;
        if (n < room) {
          this.buf.set(data.subarray(i, end), this.len);
          this.len += n;
          return;
        }
        this.buf.set(data.subarray(i, i + room), this.len);
        this.len = 0;
        this.discarding = true;
        i += room;
        sink(this.buf, true);
        continue;
      }
      const lf = i + rel;
      if (this.len + rel + 1 >= this.maxLine) {
        // Cut at the cap; the LF is in this chunk, so nothing of the line is left to discard.
        const n = this.maxLine - this.len;
        this.buf.set(data.subarray(i, i + n), this.len);
        this.len = 0;
        i = lf + 1;
        sink(this.buf, true);
        continue;
      }
      let line: Uint8Array;
      if (this.len === 0) {
        line = data.subarray(i, lf);
      } else {
        this.buf.set(data.subarray(i, lf), this.len);
        line = this.buf.subarray(0, this.len + rel);
        this.len = 0;
      }
      if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
      i = lf + 1;
      sink(line, false);
    }
  }

  /** Bytes are missing: the line they cut is dropped, and reading resumes after the next LF. */
  gap(): void {
    this.len = 0;
    this.discarding = true;
  }
}

/**
 * The commands Suricata's FTP parser knows (its FtpCommands table): a line whose verb is not one
 * of these makes no transaction. AUTH counts only as AUTH TLS (logged `AUTH_TLS`).
 */
export const FTP_COMMANDS: ReadonlySet<string> = new Set([
  'PORT', 'EPRT', 'PASV', 'EPSV', 'RETR', 'STOR', 'ABOR', 'ACCT', 'ALLO', 'APPE', 'CDUP', 'CHMOD', 'CWD',
  'DELE', 'HELP', 'IDLE', 'LIST', 'MAIL', 'MDTM', 'MKD', 'MLFL', 'MODE', 'MRCP', 'MRSQ', 'MSAM', 'MSND',
  'MSOM', 'NLST', 'NOOP', 'PASS', 'PWD', 'QUIT', 'REIN', 'REST', 'RMD', 'RNFR', 'RNTO', 'SITE', 'SIZE',
  'SMNT', 'STAT', 'STOU', 'STRU', 'SYST', 'TYPE', 'UMASK', 'USER', 'MLSD',
]);

/** The longest verb in FTP_COMMANDS (CHMOD, UMASK): a longer first word is no command. */
const MAX_VERB = 5;

/** Commands that use the data connection announced before them. */
export const TRANSFER_COMMANDS: ReadonlySet<string> = new Set(['RETR', 'STOR', 'APPE', 'STOU', 'LIST', 'NLST', 'MLSD']);

/** A command line: the command as Suricata names it, and its argument. */
export interface FtpCommandLine {
  /** Upper case: `RETR`, `USER`, `AUTH_TLS`. */
  command: string;
  /** What follows the command and one space (a view), or null when nothing does. */
  data: Uint8Array | null;
}

/** The first word of a line, upper-cased (ASCII letters only), or null when it is longer than any verb. */
export function verbOf(line: Uint8Array): string | null {
  let end = line.indexOf(0x20);
  if (end === -1) end = line.length;
  if (end === 0 || end > MAX_VERB) return null;
  let verb = '';
  for (let i = 0; i < end; i++) {
    const c = line[i]!;
    verb += String.fromCharCode(c >= 0x61 && c <= 0x7a ? c - 0x20 : c);
  }
  return verb;
}

/** ASCII case-insensitive: does `line` start with `text` (given in upper case) at `at`? */
export function startsWithCi(line: Uint8Array, at: number, text: string): boolean {
  if (at + text.length > line.length) return false;
  for (let i = 0; i < text.length; i++) {
    const c = line[at + i]!;
    if ((c >= 0x61 && c <= 0x7a ? c - 0x20 : c) !== text.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Reads a command line (trailing white space already trimmed). Null when its verb is not one
 * Suricata knows. The argument starts one byte past the verb, as Suricata's command_data does.
 */
export function parseCommand(line: Uint8Array): FtpCommandLine | null {
  const verb = verbOf(line);
  if (verb === null) return null;
  if (verb === 'AUTH') {
    // Suricata's table holds "AUTH TLS" as one 8-byte command; anything after it is its data.
    if (!startsWithCi(line, 4, ' TLS')) return null;
    return { command: 'AUTH_TLS', data: line.length > 8 ? line.subarray(9) : null };
  }
  if (!FTP_COMMANDS.has(verb)) return null;
  return { command: verb, data: line.length > verb.length ? line.subarray(verb.length + 1) : null };
}

/** Whether a command line asks to turn the connection into TLS (RFC 4217's AUTH TLS, or the older AUTH SSL, TLS-C, TLS-P). */
export function isAuthTls(line: Uint8Array): boolean {
  return verbOf(line) === 'AUTH' && (startsWithCi(line, 4, ' TLS') || startsWithCi(line, 4, ' SSL'));
}

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;

/** The reply code a line starts with (three digits), or null. */
export function replyCode(line: Uint8Array): string | null {
  return isDigit(line[0]) && isDigit(line[1]) && isDigit(line[2]) ? String.fromCharCode(line[0]!, line[1]!, line[2]!) : null;
}

/** Whether a reply line opens a multi-line reply (RFC 959 4.2: "123-First line"). */
export function opensMultiline(line: Uint8Array): boolean {
  return replyCode(line) !== null && line[3] === 0x2d;
}

/** Whether a line ends the multi-line reply opened with `code` ("123 Last line", or the bare code). */
export function endsMultiline(line: Uint8Array, code: string): boolean {
  return replyCode(line) === code && (line.length === 3 || line[3] === 0x20);
}

/**
 * A positive preliminary reply (1yz followed by a space, as Suricata's FTPIsPPR tests): another
 * reply to the same command will follow.
 */
export function isPreliminary(line: Uint8Array): boolean {
  return line.length >= 4 && line[0] === 0x31 && isDigit(line[1]) && isDigit(line[2]) && isSpace(line[3]!);
}

/** Where a data connection is to go, as a command or reply announced it. */
export interface FtpEndpoint {
  /** Four words, IPv4 as ::ffff:a.b.c.d; null when the announcement names no address (229). */
  address: Uint32Array | null;
  port: number;
}

const v4Words = (a: number, b: number, c: number, d: number): Uint32Array => Uint32Array.of(0, 0, 0xffff, ((a << 24) | (b << 16) | (c << 8) | d) >>> 0);

/** Six comma-separated numbers 0..255 ("h1,h2,h3,h4,p1,p2"), spaces allowed around each; the rest of `text` after them is ignored. */
function hostPort(text: string): FtpEndpoint | null {
  const m = /^ *(\d{1,3}) *, *(\d{1,3}) *, *(\d{1,3}) *, *(\d{1,3}) *, *(\d{1,3}) *, *(\d{1,3})/.exec(text);
  if (m === null) return null;
  const n = m.slice(1, 7).map(Number);
  if (n.some((v) => v > 255)) return null;
  const port = n[4]! * 256 + n[5]!;
  if (port === 0) return null;
  return { address: v4Words(n[0]!, n[1]!, n[2]!, n[3]!), port };
}

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

/** PORT's argument: "h1,h2,h3,h4,p1,p2" (RFC 959 4.1.2). Null when malformed or the port is 0. */
export function parsePort(arg: Uint8Array): FtpEndpoint | null {
  const text = latin1(arg);
  const ep = hostPort(text);
  return ep !== null && /^[\d ,]*$/.test(text) ? ep : null;
}

/**
 * EPRT's argument: "<d><af><d><address><d><port><d>" (RFC 2428), any printable delimiter, af 1
 * (IPv4) or 2 (IPv6). Null when malformed.
 */
export function parseEprt(arg: Uint8Array): FtpEndpoint | null {
  if (arg.length < 7 || arg.length > 64) return null; // the longest valid form, an IPv6 address with a dotted quad, is 56 bytes
  const d = String.fromCharCode(arg[0]!);
  if (arg[0]! < 0x21 || arg[0]! > 0x7e) return null;
  const parts = latin1(arg).split(d);
  if (parts.length !== 5 || parts[0] !== '' || parts[4] !== '') return null;
  const port = decimalPort(parts[3]!);
  if (port === null) return null;
  if (parts[1] === '1') {
    const v4 = parseIpv4(parts[2]!);
    return v4 === null ? null : { address: Uint32Array.of(0, 0, 0xffff, v4), port };
  }
  if (parts[1] === '2') {
    const v6 = parseIpv6(parts[2]!);
    if (v6 === null) return null;
    const words = new Uint32Array(4);
    for (let k = 0; k < 4; k++) words[k] = ((v6[k * 4]! << 24) | (v6[k * 4 + 1]! << 16) | (v6[k * 4 + 2]! << 8) | v6[k * 4 + 3]!) >>> 0;
    return { address: words, port };
  }
  return null;
}

/** A TCP port in decimal, 1..65535. */
function decimalPort(text: string): number | null {
  if (!/^\d{1,5}$/.test(text)) return null;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : null;
}

/**
 * A 227 reply ("227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)."): the six numbers from the
 * first digit inside the parentheses, or after the code when there are none (RFC 1123 4.1.2.6
 * tells clients to scan for it: servers differ on the parentheses). Null when it is not a 227 reply or holds no valid address and port.
 */
export function parsePasvReply(line: Uint8Array): FtpEndpoint | null {
  if (replyCode(line) !== '227' || (line.length > 3 && line[3] !== 0x20)) return null;
  const open = line.indexOf(0x28, 4);
  let i = open === -1 ? 4 : open;
  while (i < line.length && !isDigit(line[i])) i++;
  return i < line.length ? hostPort(latin1(line.subarray(i))) : null;
}

/**
 * A 229 reply ("229 Entering Extended Passive Mode (|||6446|)", RFC 2428): the port between the
 * delimiters inside the parentheses (any printable delimiter, repeated). Null otherwise.
 */
export function parseEpsvReply(line: Uint8Array): FtpEndpoint | null {
  if (replyCode(line) !== '229' || (line.length > 3 && line[3] !== 0x20)) return null;
  const open = line.indexOf(0x28, 4);
  if (open === -1) return null;
  const m = /^\(([!-~])\1\1(\d{1,5})\1\)/.exec(latin1(line.subarray(open)));
  if (m === null) return null;
  const port = decimalPort(m[2]!);
  return port === null ? null : { address: null, port };
}
