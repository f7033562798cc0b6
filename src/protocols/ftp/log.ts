/**
 * The ftp and ftp_data records, field for field as Suricata's output-json-ftp.c writes them
 * (EveFTPLogCommand, EveFTPDataAddMetadata). Types and field docs: src/events/ftp.ts.
 */
import type { FtpDataRecord, FtpRecord } from '../../events/ftp.js';
import { replyCode } from './parse.js';
import type { FtpDataChannel, FtpTransaction } from './session.js';

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

/** The `ftp` object for one transaction, its fields in Suricata's order. */
export function ftpRecord(tx: FtpTransaction): FtpRecord {
  const rec = { command: tx.command } as FtpRecord;
  if (tx.commandData !== null) {
    rec.command_data = eveString(tx.commandData);
    rec.command_truncated = tx.commandTruncated;
  }
  const codes: string[] = [];
  const texts: string[] = [];
  for (const line of tx.replies) {
    // A line starting with three digits gives a code, and its text starts past the code and the byte after it.
    const code = replyCode(line);
    if (code !== null) codes.push(code);
    const from = code === null ? 0 : 4;
    if (line.length >= from) texts.push(eveString(line.subarray(from)));
  }
  if (codes.length > 0) rec.completion_code = codes;
  if (texts.length > 0) rec.reply = texts;
  if (tx.dynamicPort !== 0) rec.dynamic_port = tx.dynamicPort;
  if (tx.command === 'PORT' || tx.command === 'EPRT') rec.mode = tx.active ? 'active' : 'passive';
  rec.reply_received = tx.done ? 'yes' : 'no';
  rec.reply_truncated = tx.replyTruncated;
  return rec;
}

/** The `ftp_data` object for a data connection: what the control connection said it carries. */
export function ftpDataRecord(channel: FtpDataChannel | null): FtpDataRecord {
  const rec: FtpDataRecord = {};
  if (channel?.filename != null) rec.filename = eveString(channel.filename);
  if (channel?.command === 'RETR' || channel?.command === 'STOR') rec.command = channel.command;
  return rec;
}
