/**
 * The tftp record, as Suricata's rust/src/tftp/log.rs writes it: the request's packet type, file
 * name and mode. Type and field docs: src/events/tftp.ts.
 */
import type { TftpRecord } from '../../events/tftp.js';
import type { TftpTransaction } from './session.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Bytes as a JSON string the way Suricata's JsonBuilder writes them from bytes: as UTF-8 when
 * they are valid UTF-8, else ASCII kept and every other byte as the four characters \xNN.
 */
export function eveString(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    let out = '';
    for (const b of bytes) out += b < 0x80 ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
    return out;
  }
}

/** The `tftp` object for a request. */
export function tftpRecord(tx: TftpTransaction): TftpRecord {
  return { packet: tx.opcode === 1 ? 'read' : 'write', file: eveString(tx.filename), mode: tx.mode };
}
