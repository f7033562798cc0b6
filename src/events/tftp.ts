/**
 * The TFTP record, as Suricata's rust/src/tftp/log.rs writes it: one per read or write request
 * on port 69. The transfer that follows (from another port) shows as a fileinfo record.
 */
import type { EveCommon } from './types.js';

/** A TFTP read or write request: Suricata's `tftp` record. */
export interface TftpEvent extends EveCommon {
  /** Always `tftp`. */
  event_type: 'tftp';
  /** The request's transaction (per flow, from 0). */
  tx_id: number;
  /** The request. */
  tftp: TftpRecord;
}

/** The `tftp` object of a tftp record. */
export interface TftpRecord {
  /** `read` for a read request (RRQ, a download), `write` for a write request (WRQ, an upload). */
  packet: 'read' | 'write';
  /** The file name the request gave. */
  file: string;
  /** The transfer mode, lower case: `octet`, `netascii` or `mail`. */
  mode: string;
}
