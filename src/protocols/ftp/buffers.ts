/**
 * What rules may inspect of FTP, by the names in src/rules/buffers.ts: the command and its
 * argument on the control connection (`ftp.command`, `ftp.command_data`, request side), and the
 * transferred file's name on a data connection (`file.name`).
 */
import type { FtpDataTransaction, FtpTransaction } from './session.js';

/** The buffers the control connection's transactions fill. */
export const FTP_BUFFERS = ['ftp.command', 'ftp.command_data'] as const;
/** The buffers a data connection's transaction fills. */
export const FTP_DATA_BUFFERS = ['file.name'] as const;

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** A control transaction's buffer: null for the reply side, and for replies that answer no known command. */
export function ftpBuffer(tx: FtpTransaction, name: string, side: number): Uint8Array | null {
  if (side !== 0 || tx.command === 'UNKNOWN') return null;
  if (name === 'ftp.command') return ascii(tx.command);
  if (name === 'ftp.command_data') return tx.commandData;
  return null;
}

/** A data connection's buffer: the file name as the RETR or STOR gave it (its bytes), either side. */
export function ftpDataBuffer(tx: FtpDataTransaction, name: string): Uint8Array | null {
  return name === 'file.name' ? tx.filenameBytes() : null;
}
