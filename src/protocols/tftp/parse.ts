/**
 * TFTP packets (RFC 1350, with RFC 2347 options): one datagram is one packet. Pure and bounded:
 * a packet is read once, front to back, and what comes out are views into the datagram.
 */

export const TftpOpcode = { RRQ: 1, WRQ: 2, DATA: 3, ACK: 4, ERROR: 5, OACK: 6 } as const;

/** The modes RFC 1350 defines, as Suricata accepts them (compared without case). */
export const TFTP_MODES: ReadonlySet<string> = new Set(['netascii', 'octet', 'mail']);

/** The block size without a negotiated one (RFC 1350). */
export const TFTP_DEFAULT_BLKSIZE = 512;
/** The block sizes RFC 2348 allows for the blksize option. */
export const TFTP_MIN_BLKSIZE = 8;
export const TFTP_MAX_BLKSIZE = 65464;

/** RFC 2347: a request, options included, must fit in 512 bytes; the probe holds requests to it. */
export const TFTP_MAX_REQUEST = 512;

/**
 * Options read per request or OACK: RFC 2347 and its companions define five (blksize, timeout,
 * tsize, windowsize, multicast); past 16, the rest is not read.
 */
export const TFTP_MAX_OPTIONS = 16;

export interface TftpOption {
  /** Lower case. */
  name: string;
  value: string;
}

export interface TftpRequest {
  kind: 'request';
  opcode: 1 | 2;
  /** The file name's bytes (a view). */
  filename: Uint8Array;
  /** Lower case. */
  mode: string;
  options: TftpOption[];
  /** Bytes after the last complete option (a pair cut short, or padding). */
  trailing: number;
}

export interface TftpData {
  kind: 'data';
  block: number;
  /** The block's bytes (a view). */
  data: Uint8Array;
}

export interface TftpAck {
  kind: 'ack';
  block: number;
}

export interface TftpError {
  kind: 'error';
  code: number;
  /** The message's bytes (a view), up to its NUL or the datagram's end. */
  message: Uint8Array;
}

export interface TftpOack {
  kind: 'oack';
  options: TftpOption[];
}

/** Why a datagram is not a TFTP packet. */
export type TftpMalformation = 'too_short' | 'unknown_opcode' | 'unterminated_filename' | 'unterminated_mode' | 'unknown_mode';

export interface TftpInvalid {
  kind: 'invalid';
  reason: TftpMalformation;
}

export type TftpPacket = TftpRequest | TftpData | TftpAck | TftpError | TftpOack;

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

/** NUL-terminated strings from `at`: each string's [start, end), until the datagram ends, `max` are read, or one is unterminated. */
function cstrings(b: Uint8Array, at: number, max: number): { spans: Array<[number, number]>; end: number } {
  const spans: Array<[number, number]> = [];
  while (at < b.length && spans.length < max) {
    const nul = b.indexOf(0, at);
    if (nul === -1) break;
    spans.push([at, nul]);
    at = nul + 1;
  }
  return { spans, end: at };
}

/** Option pairs from `at`: names lower-cased; an unpaired name at the end is left out (counted as trailing). */
function options(b: Uint8Array, at: number): { options: TftpOption[]; trailing: number } {
  const { spans } = cstrings(b, at, TFTP_MAX_OPTIONS * 2);
  const out: TftpOption[] = [];
  let used = at;
  for (let i = 0; i + 1 < spans.length; i += 2) {
    const [ns, ne] = spans[i]!;
    const [vs, ve] = spans[i + 1]!;
    out.push({ name: latin1(b.subarray(ns, ne)).toLowerCase(), value: latin1(b.subarray(vs, ve)) });
    used = ve + 1;
  }
  return { options: out, trailing: b.length - used };
}

const u16 = (b: Uint8Array, at: number): number => (b[at]! << 8) | b[at + 1]!;

/** Reads one datagram. */
export function parseTftp(b: Uint8Array): TftpPacket | TftpInvalid {
  if (b.length < 2) return { kind: 'invalid', reason: 'too_short' };
  const op = u16(b, 0);
  switch (op) {
    case TftpOpcode.RRQ:
    case TftpOpcode.WRQ: {
      const fnEnd = b.indexOf(0, 2);
      if (fnEnd === -1) return { kind: 'invalid', reason: 'unterminated_filename' };
      const modeEnd = b.indexOf(0, fnEnd + 1);
      if (modeEnd === -1) return { kind: 'invalid', reason: 'unterminated_mode' };
      const mode = latin1(b.subarray(fnEnd + 1, modeEnd)).toLowerCase();
      if (!TFTP_MODES.has(mode)) return { kind: 'invalid', reason: 'unknown_mode' };
      const opts = options(b, modeEnd + 1);
      return { kind: 'request', opcode: op === TftpOpcode.RRQ ? 1 : 2, filename: b.subarray(2, fnEnd), mode, options: opts.options, trailing: opts.trailing };
    }
    case TftpOpcode.DATA:
      if (b.length < 4) return { kind: 'invalid', reason: 'too_short' };
      return { kind: 'data', block: u16(b, 2), data: b.subarray(4) };
    case TftpOpcode.ACK:
      if (b.length < 4) return { kind: 'invalid', reason: 'too_short' };
      return { kind: 'ack', block: u16(b, 2) };
    case TftpOpcode.ERROR: {
      if (b.length < 4) return { kind: 'invalid', reason: 'too_short' };
      const nul = b.indexOf(0, 4);
      return { kind: 'error', code: u16(b, 2), message: b.subarray(4, nul === -1 ? b.length : nul) };
    }
    case TftpOpcode.OACK:
      return { kind: 'oack', options: options(b, 2).options };
    default:
      return { kind: 'invalid', reason: 'unknown_opcode' };
  }
}

/** A blksize option's value when it is one RFC 2348 allows (8..65464), else null. */
export function blksizeOf(opts: readonly TftpOption[]): number | null {
  const o = opts.find((x) => x.name === 'blksize');
  if (o === undefined || !/^\d{1,5}$/.test(o.value)) return null;
  const v = Number(o.value);
  return v >= TFTP_MIN_BLKSIZE && v <= TFTP_MAX_BLKSIZE ? v : null;
}

const printable = (b: Uint8Array, s: number, e: number): boolean => {
  for (let i = s; i < e; i++) if (b[i]! < 0x20 || b[i]! > 0x7e) return false;
  return true;
};

/**
 * Whether a datagram is a TFTP request beyond reasonable doubt, for probing: opcode 1 or 2, a
 * non-empty printable file name, a mode RFC 1350 knows, then only well-formed option pairs
 * (printable, non-empty names), each string NUL-terminated, nothing after, within 512 bytes.
 * Datagrams of other protocols that start 00 01 (a DNS query with id 1, many binary protocols)
 * fail on the printable name or the mode.
 */
export function isTftpRequest(b: Uint8Array): boolean {
  if (b.length < 4 || b.length > TFTP_MAX_REQUEST || b[0] !== 0 || (b[1] !== 1 && b[1] !== 2)) return false;
  const { spans, end } = cstrings(b, 2, 2 + TFTP_MAX_OPTIONS * 2);
  if (end !== b.length || spans.length < 2 || spans.length % 2 !== 0) return false;
  const [fs, fe] = spans[0]!;
  const [ms, me] = spans[1]!;
  if (fe === fs || !printable(b, fs, fe)) return false;
  if (!TFTP_MODES.has(latin1(b.subarray(ms, me)).toLowerCase())) return false;
  for (let i = 2; i < spans.length; i++) {
    const [s, e] = spans[i]!;
    if (!printable(b, s, e) || (i % 2 === 0 && e === s)) return false;
  }
  return true;
}
