/**
 * One captured frame, as a view into the reader's buffer. The reader reuses one Frame
 * and one buffer: a consumer that keeps bytes past its callback must copy them.
 */
export class Frame {
  /** The buffer holding the frame's bytes (shared; valid only during the callback). */
  data: Uint8Array = new Uint8Array(0);
  /** Offset of the first captured byte in `data`. */
  offset = 0;
  /** Bytes captured (caplen). */
  caplen = 0;
  /** Bytes on the wire (len); larger than caplen when the snaplen cut the frame. */
  wirelen = 0;
  /** Seconds since the epoch. */
  tsSec = 0;
  /** Nanoseconds within the second. */
  tsNsec = 0;
  /** LINKTYPE_ value of the frame's link layer. */
  linktype = 1;
  /** Interface index in a pcapng file; 0 for pcap and live capture. */
  iface = 0;
  /** 1-based frame number within its capture. */
  number = 0;
  /** Byte offset of the frame's record in its capture file (before decompression for .gz: the decompressed offset). */
  fileOffset = 0;

  get truncated(): boolean {
    return this.caplen < this.wirelen;
  }
}

/** Receives frames from a capture parser. */
export type FrameSink = (frame: Frame) => void;
