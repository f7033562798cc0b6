import type { Frame, FrameSink } from './frame.js';

/**
 * A push parser for one capture format. The reader hands it a window of bytes;
 * it emits every complete record and says how many bytes it used.
 */
export interface CaptureParser {
  readonly format: 'pcap' | 'pcapng';
  /**
   * Parses the complete records in buf[start, end) and returns the bytes consumed.
   * `fileOffset` is the file offset of buf[start], for frame offsets and damage reports.
   */
  parse(buf: Uint8Array, start: number, end: number, fileOffset: number, frame: Frame, sink: FrameSink): number;
  /** Total bytes the next record needs; the reader grows its window to at least this. */
  readonly needed: number;
  /** Set when the bytes cannot be a valid record: the reason, and the file offset where it was found. */
  readonly damage: { offset: number; reason: string } | null;
  /** Link types seen so far (pcapng files may hold several). */
  readonly linktypes: ReadonlySet<number>;
}

/**
 * Largest record accepted. libpcap's MAXIMUM_SNAPLEN is 262144; a record claiming more
 * is a corrupt length field, not a packet (the file's own snaplen may raise it to 16 MiB).
 */
export const MAX_SNAPLEN = 262144;
/** Ceiling on any one record or pcapng block: above this a length field is taken as corrupt. */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;
