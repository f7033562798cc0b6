/**
 * The FTP records, as Suricata's output-json-ftp.c writes them: one `ftp` record per command
 * (with its replies) on the control connection, and one `ftp_data` record per data connection
 * that carried a RETR or STOR. Both read from the connection's client (Suricata's LOG_DIR_FLOW):
 * on an active-mode data connection that is the FTP server.
 */
import type { EveCommon } from './types.js';

/** One command on an FTP control connection and the server's replies to it: Suricata's `ftp` record. */
export interface FtpEvent extends EveCommon {
  /** Always `ftp`. */
  event_type: 'ftp';
  /** The command's transaction (per flow, from 0). */
  tx_id: number;
  /** The command and its replies. */
  ftp: FtpRecord;
}

/** The `ftp` object of an ftp record. */
export interface FtpRecord {
  /** The command, upper case as Suricata names it (`USER`, `RETR`, `AUTH_TLS`); `UNKNOWN` for replies that answer no command Outpost knows (the server's greeting). */
  command: string;
  /** The command's argument: the line after the command and one space, trailing white space removed; absent when there is none. */
  command_data?: string;
  /** Whether the command line was longer than the line cap and was cut (present with `command_data`). */
  command_truncated?: boolean;
  /** The three-digit code of each reply line that starts with one, in order. */
  completion_code?: string[];
  /** Each reply line's text: after its code and the character that follows it, or the whole line when it has no code; absent when every line was a bare code. */
  reply?: string[];
  /** The data-connection port a PORT or EPRT command, or a 227 or 229 reply, announced. */
  dynamic_port?: number;
  /** For PORT and EPRT: `active` once the server replied, else `passive` (as Suricata writes it). */
  mode?: 'active' | 'passive';
  /** `yes` when the final reply arrived (a reply that is not a 1yz preliminary one), else `no`. */
  reply_received: 'yes' | 'no';
  /** Whether a reply line was longer than the line cap and was cut (or reply lines past the per-command cap were dropped). */
  reply_truncated: boolean;
}

/** A data connection that carried a file (RETR or STOR): Suricata's `ftp_data` record. */
export interface FtpDataEvent extends EveCommon {
  /** Always `ftp_data`. */
  event_type: 'ftp_data';
  /** Always 0: a data connection is one transaction. */
  tx_id: number;
  /** What the control connection said the transfer was. */
  ftp_data: FtpDataRecord;
}

/** The `ftp_data` object of an ftp_data record. */
export interface FtpDataRecord {
  /** The file name the RETR or STOR gave, when the control connection was seen giving one. */
  filename?: string;
  /** `RETR` (a download) or `STOR` (an upload). */
  command?: 'RETR' | 'STOR';
}
