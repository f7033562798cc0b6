/**
 * What rules may inspect of TFTP, by the names in src/rules/buffers.ts: the requested file's
 * name (`file.name`), on the request and on the transfer it starts. TFTP has no buffers of its
 * own in Suricata.
 */
import type { TftpTransaction } from './session.js';

/** The buffers TFTP's transactions fill. */
export const TFTP_BUFFERS = ['file.name'] as const;

/** A transaction's buffer: the file name's bytes, either side. */
export function tftpBuffer(tx: TftpTransaction, name: string): Uint8Array | null {
  return name === 'file.name' ? tx.filename : null;
}
