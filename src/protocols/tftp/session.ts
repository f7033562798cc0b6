/**
 * TFTP's per-flow state. On port 69: each read or write request is a transaction with its tftp
 * record, and announces the transfer, which the server answers from a new port (RFC 1350 4: a
 * new transfer ID), so on another UDP flow. That flow opens with the request as context and
 * follows the DATA blocks in order into a FileTracker.
 */
import type { Flow } from '../../flow/flow.js';
import type { AppOutput, AppSession, AppTransaction } from '../app.js';
import { FileTracker } from '../files.js';
import { tftpBuffer } from './buffers.js';
import { eveString, tftpRecord } from './log.js';
import { blksizeOf, parseTftp, TFTP_DEFAULT_BLKSIZE, type TftpPacket } from './parse.js';

/**
 * How long a transfer's first packet is awaited after its request: a server answers at once, and
 * clients retry a request about five times, some seconds apart (tftp-hpa: 5 s timeout); 30 s
 * also matches Suricata's expectation timeout.
 */
export const TFTP_EXPECT_SECONDS = 30;

/** A request, as its transfer's flow gets it. */
export class TftpTransferContext {
  constructor(
    /** 1 read (RRQ), 2 write (WRQ). */
    readonly opcode: 1 | 2,
    /** The file name's bytes (a copy). */
    readonly filename: Uint8Array,
    /** Lower case. */
    readonly mode: string,
  ) {}
}

/** A request (Suricata's TFTPTransaction), or the transfer it started, as rules see it. */
export class TftpTransaction implements AppTransaction {
  constructor(
    readonly id: number,
    readonly opcode: 1 | 2,
    readonly filename: Uint8Array,
    readonly mode: string,
  ) {}

  buffer(name: string): Uint8Array | null {
    return tftpBuffer(this, name);
  }

  alertMetadata(): Record<string, unknown> {
    return { tftp: tftpRecord(this) };
  }
}

/**
 * One transfer: DATA blocks in block order into a FileTracker. A block seen before (a
 * retransmission) is dropped; a block past the next expected one means blocks went missing
 * (the file is TRUNCATED, anomaly block_gap). The first block shorter than the block size (512,
 * or the blksize the server's OACK accepted) ends the file. An ERROR, or the flow's end before
 * that block, cuts it short.
 */
export class TftpTransfer {
  private blksize = TFTP_DEFAULT_BLKSIZE;
  /** The block number expected next (16 bits, wrapping). */
  private next = 1;
  private file: FileTracker | null = null;
  private dataDir = -1;
  private ended = false;
  /** Blocks dropped as already seen. */
  duplicates = 0;

  constructor(
    private readonly out: AppOutput,
    private readonly tx: TftpTransaction,
  ) {}

  /** Whether the transfer is over (last block, ERROR, or the flow's end). */
  get done(): boolean {
    return this.ended;
  }

  packet(dir: number, p: TftpPacket): void {
    if (this.ended) return;
    switch (p.kind) {
      case 'oack': {
        const size = blksizeOf(p.options);
        if (size !== null && this.file === null) this.blksize = size;
        return;
      }
      case 'error':
        this.end(false);
        return;
      case 'data':
        this.data(dir, p.block, p.data);
        return;
      default:
        return;
    }
  }

  private data(dir: number, block: number, bytes: Uint8Array): void {
    if (this.file === null) {
      this.dataDir = dir;
      this.file = new FileTracker(this.out, eveString(this.tx.filename), dir === 0 ? 'to_server' : 'to_client', this.tx.id);
      this.out.inspect(this.tx, dir);
    } else if (dir !== this.dataDir) {
      return; // the side that acknowledges sends no blocks
    }
    // After block 65535 senders go on with 0 (most) or 1 (some): both continue the file.
    const rollover = this.next === 0 && block === 1;
    const ahead = rollover ? 0 : (block - this.next) & 0xffff;
    // Block numbers are 16 bits: less than half the space ahead is blocks missed, more is an old block again.
    if (ahead >= 0x8000) {
      this.duplicates++;
      return;
    }
    if (ahead > 0) {
      this.file.gap();
      this.out.anomaly('block_gap', dir);
    }
    if (bytes.length > this.blksize) {
      // A block size negotiated where we did not see it (a lost OACK): go by the blocks themselves.
      this.out.anomaly('oversized_block', dir);
      this.blksize = bytes.length;
    }
    this.file.append(bytes);
    this.next = (block + 1) & 0xffff;
    if (bytes.length < this.blksize) this.end(true);
  }

  /** The transfer is over: `complete` when its last block arrived. Nothing is reported when no block came. */
  end(complete: boolean): void {
    if (this.ended) return;
    this.ended = true;
    this.file?.close(complete);
  }
}

/**
 * A TFTP flow: requests (on port 69), or a transfer opened with its request as context. A request
 * flow follows a transfer too, for servers that answer from port 69 itself.
 */
export class TftpSession implements AppSession {
  private nextId = 0;
  private transfer: TftpTransfer | null = null;
  /** Opened as a transfer: requests here are not the client's (they go to port 69), and are ignored. */
  private readonly transferFlow: boolean;

  constructor(
    private readonly flow: Flow,
    private readonly out: AppOutput,
    context: TftpTransferContext | null = null,
  ) {
    this.transferFlow = context !== null;
    if (context !== null) this.transfer = new TftpTransfer(out, new TftpTransaction(this.nextId++, context.opcode, context.filename, context.mode));
  }

  data(dir: number, buf: Uint8Array, off: number, len: number): void {
    const p = parseTftp(buf.subarray(off, off + len));
    if (p.kind === 'invalid') {
      this.out.anomaly(p.reason === 'unknown_opcode' ? 'unknown_opcode' : 'malformed_packet', dir);
      return;
    }
    if (p.kind === 'request') {
      if (dir === 0 && !this.transferFlow) this.request(p.opcode, p.filename, p.mode);
      return;
    }
    this.transfer?.packet(dir, p);
  }

  gap(): void {
    // Datagrams have no gaps: a lost DATA block shows as a jump in block numbers.
  }

  close(): void {
    this.transfer?.end(false);
  }

  private request(opcode: 1 | 2, filename: Uint8Array, mode: string): void {
    // A copy (not slice(), a view on a Buffer): the datagram's buffer is reused.
    const tx = new TftpTransaction(this.nextId++, opcode, new Uint8Array(filename), mode);
    this.out.record('tftp', tftpRecord(tx), 0, tx.id);
    this.out.inspect(tx, 0);
    // The server answers from a new port to the client's: that flow's server is this flow's client.
    this.out.expect({
      proto: 'tftp',
      serverAddr: this.flow.addr.slice(0, 4),
      serverPort: this.flow.clientPort,
      clientAddr: this.flow.addr.slice(4, 8),
      seconds: TFTP_EXPECT_SECONDS,
      context: new TftpTransferContext(opcode, tx.filename, mode),
    });
    this.transfer?.end(false);
    this.transfer = new TftpTransfer(this.out, tx);
  }
}
