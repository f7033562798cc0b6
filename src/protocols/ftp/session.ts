/**
 * FTP's per-flow state: the control connection (one transaction per command, with its replies,
 * as Suricata's FTPTransaction) and the data connections it announces (PORT, EPRT, PASV, EPSV),
 * which carry the files of RETR and STOR.
 */
import { TcpFlag } from '../../decode/packet.js';
import type { Flow } from '../../flow/flow.js';
import type { AppOutput, AppSession, AppTransaction } from '../app.js';
import { FileTracker } from '../files.js';
import { ftpBuffer, ftpDataBuffer } from './buffers.js';
import { eveString, ftpDataRecord, ftpRecord } from './log.js';
import {
  endsMultiline,
  FTP_MAX_LINE,
  FtpLineReader,
  isAuthTls,
  isPreliminary,
  opensMultiline,
  parseCommand,
  parseEprt,
  parseEpsvReply,
  parsePasvReply,
  parsePort,
  replyCode,
  TRANSFER_COMMANDS,
  trimEnd,
  type FtpEndpoint,
} from './parse.js';

/**
 * Transactions held at once, awaiting their replies or the end of the chunk that completed them:
 * Suricata's default ftp max-tx. A client can pipeline commands a server never answers; past
 * this, the oldest is logged as it stands and dropped.
 */
export const FTP_MAX_OPEN_TX = 1024;

/**
 * Reply lines kept per command: FEAT, HELP and STAT replies, the longest multi-line ones in
 * practice, run to a few dozen lines; a server sending more is flooding, and the rest are
 * dropped (reply_truncated).
 */
export const FTP_MAX_REPLY_LINES = 128;

/**
 * How long an announced data connection is awaited: Suricata's EXPECTATION_TIMEOUT. Outpost
 * announces at PORT or PASV and again at the RETR or STOR that uses it, so the wait counts from
 * the transfer command, as Suricata's does.
 */
export const FTP_DATA_EXPECT_SECONDS = 30;

/** Upper bound for a configured line cap: a line buffer per direction is this big. */
export const FTP_MAX_LINE_LIMIT = 1 << 20; // 1 MiB: far past any real line, small enough to hold per flow

export interface FtpOptions {
  /** The line cap, delimiter included (Suricata's ftp max-line-length); FTP_MAX_LINE by default. */
  maxLine?: number;
}

/**
 * A data connection the control connection announced: the context its ftp-data session gets.
 * The transfer command (and its file name) usually comes after the announcement, so the control
 * session fills them in as they arrive; the data session reads them when it needs them.
 */
export class FtpDataChannel {
  /** The command that used the channel (RETR, STOR, LIST, ...), once it was seen. */
  command: string | null = null;
  /** RETR's or STOR's argument, the file's name (bytes as sent). */
  filename: Uint8Array | null = null;

  constructor(
    /** Active mode (PORT, EPRT): the FTP server connects to the client. */
    readonly active: boolean,
    readonly port: number,
  ) {}

  /** Which side of the data connection sends the file (0 its client, 1 its server), or -1 before the command is known. */
  get fileDirection(): number {
    if (this.command !== 'RETR' && this.command !== 'STOR') return -1;
    // As Suricata: a download in passive mode, and an upload in active mode, flow to the data connection's client.
    return (this.command === 'RETR') !== this.active ? 1 : 0;
  }
}

/** One command and its replies (Suricata's FTPTransaction). */
export class FtpTransaction implements AppTransaction {
  /** The command's argument (a copy); null when it has none, and for a transaction opened by a reply. */
  commandData: Uint8Array | null = null;
  commandTruncated = false;
  /** Reply lines, each trimmed of trailing white space (copies). */
  readonly replies: Uint8Array[] = [];
  replyTruncated = false;
  /** The final reply arrived. */
  done = false;
  /** The port a PORT or EPRT announced, logged once the server replies (as Suricata sets it). */
  announcedPort = 0;
  dynamicPort = 0;
  active = false;
  logged = false;

  constructor(
    readonly id: number,
    /** As Suricata names it; `UNKNOWN` for a transaction a reply opened (the greeting). */
    readonly command: string,
  ) {}

  buffer(name: string, side: number): Uint8Array | null {
    return ftpBuffer(this, name, side);
  }

  alertMetadata(): Record<string, unknown> {
    return { ftp: ftpRecord(this) };
  }
}

// Not b.slice(): on a Buffer that is a view, and the reader reuses its buffer.
const copy = (b: Uint8Array): Uint8Array => new Uint8Array(b);

/** The control connection. */
export class FtpSession implements AppSession {
  private readonly readers: [FtpLineReader, FtpLineReader];
  /** Transactions not yet logged, oldest first. */
  private readonly txs: FtpTransaction[] = [];
  private nextId = 0;
  /** The code of the multi-line reply being read, and the transaction it answers. */
  private multiCode: string | null = null;
  private multiTx: FtpTransaction | null = null;
  /** The data connection announced last and not yet used by a transfer command. */
  private pending: FtpDataChannel | null = null;
  /** The endpoints the pending channel was announced with (to announce it again at the transfer command). */
  private pendingEndpoints: { serverAddr: Uint32Array; clientAddr: Uint32Array } | null = null;
  /** The last command asked for TLS: a 234 reply to it ends FTP on this connection. */
  private tlsAsked = false;
  /** The connection turned to TLS: nothing after is read as FTP. */
  private tls = false;

  constructor(
    private readonly flow: Flow,
    private readonly out: AppOutput,
    options: FtpOptions = {},
  ) {
    // At least 8 bytes: a verb, a space and CRLF must fit for anything to be read.
    const maxLine = Math.max(8, Math.min(FTP_MAX_LINE_LIMIT, options.maxLine ?? FTP_MAX_LINE));
    this.readers = [new FtpLineReader(maxLine), new FtpLineReader(maxLine)];
  }

  /** Transactions held (for tests of the bounds). */
  get openTransactions(): number {
    return this.txs.length;
  }

  /** Whether the connection turned to TLS (AUTH TLS accepted). */
  get encrypted(): boolean {
    return this.tls;
  }

  data(dir: number, buf: Uint8Array, off: number, len: number): void {
    if (this.tls) return;
    const d = dir === 0 ? 0 : 1;
    this.readers[d].push(buf, off, len, d === 0 ? (line, truncated) => this.command(line, truncated) : (line, truncated) => this.reply(line, truncated));
    // As Suricata, transactions are logged once the chunk that completed them is parsed: reply lines later in the same chunk still join them.
    this.flush();
  }

  gap(dir: number, _len = 0): void {
    this.readers[dir === 0 ? 0 : 1].gap();
    if (dir !== 0) {
      // The end of a multi-line reply may be in the hole.
      this.multiCode = null;
      this.multiTx = null;
    }
  }

  close(): void {
    for (const tx of this.txs) this.log(tx);
    this.txs.length = 0;
  }

  private command(line: Uint8Array, truncated: boolean): void {
    if (this.tls) return;
    if (truncated) this.out.anomaly('request_command_too_long', 0);
    const text = trimEnd(line);
    if (text.length === 0) return;
    this.tlsAsked = isAuthTls(text);
    const cmd = parseCommand(text);
    if (cmd === null) return;
    const tx = this.open(cmd.command);
    tx.commandData = cmd.data === null ? null : copy(cmd.data);
    tx.commandTruncated = truncated;
    if (cmd.command === 'PORT' || cmd.command === 'EPRT') {
      const ep = cmd.data === null ? null : cmd.command === 'PORT' ? parsePort(cmd.data) : parseEprt(cmd.data);
      if (ep !== null) {
        tx.announcedPort = ep.port;
        this.announce(true, ep);
      }
    } else if (TRANSFER_COMMANDS.has(cmd.command) && this.pending !== null) {
      const channel = this.pending;
      channel.command = cmd.command;
      if ((cmd.command === 'RETR' || cmd.command === 'STOR') && tx.commandData !== null) channel.filename = tx.commandData;
      this.expect(channel);
      this.pending = null;
      this.pendingEndpoints = null;
    }
    this.out.inspect(tx, 0);
  }

  private reply(line: Uint8Array, truncated: boolean): void {
    if (this.tls) return;
    if (truncated) this.out.anomaly('response_command_too_long', 1);
    const text = trimEnd(line);
    if (text.length === 0) return;
    let final: boolean;
    let tx: FtpTransaction;
    if (this.multiCode !== null) {
      final = endsMultiline(text, this.multiCode);
      tx = this.multiTx ?? this.target();
    } else {
      tx = this.target();
      final = !opensMultiline(text);
      if (!final) {
        this.multiCode = replyCode(text);
        this.multiTx = tx;
      }
    }
    if (tx.replies.length < FTP_MAX_REPLY_LINES) tx.replies.push(copy(text));
    else tx.replyTruncated = true;
    if (truncated) tx.replyTruncated = true;
    if (tx.announcedPort !== 0) {
      // Suricata takes PORT's and EPRT's port once any reply to them arrives.
      tx.dynamicPort = tx.announcedPort;
      tx.active = true;
    }
    const ep = tx.command === 'PASV' ? parsePasvReply(text) : tx.command === 'EPSV' ? parseEpsvReply(text) : null;
    if (ep !== null) {
      tx.dynamicPort = ep.port;
      tx.active = false;
      this.announce(false, ep);
    }
    if (!final) return;
    this.multiCode = null;
    this.multiTx = null;
    if (isPreliminary(text)) return;
    if (!tx.done) {
      tx.done = true;
      this.out.inspect(tx, 1);
    }
    if (this.tlsAsked && replyCode(text) === '234') this.tls = true;
  }

  /** Where a reply line goes: the oldest command awaiting its reply, else the latest transaction, else a new one (the greeting). */
  private target(): FtpTransaction {
    for (const tx of this.txs) if (!tx.done) return tx;
    return this.txs[this.txs.length - 1] ?? this.open('UNKNOWN');
  }

  private open(command: string): FtpTransaction {
    if (this.txs.length >= FTP_MAX_OPEN_TX) {
      const oldest = this.txs.shift()!;
      if (oldest === this.multiTx) {
        this.multiTx = null;
        this.multiCode = null;
      }
      this.log(oldest);
      this.out.anomaly('too_many_transactions', 0);
    }
    const tx = new FtpTransaction(this.nextId++, command);
    this.txs.push(tx);
    return tx;
  }

  /**
   * A data connection is announced. Its addresses are the control connection's, as Suricata's
   * expectations take them (the address inside PORT or 227 is often a private one behind NAT):
   * passive, the client connects to the server; active, the server connects to the client.
   */
  private announce(active: boolean, ep: FtpEndpoint): void {
    const client = this.flow.addr.subarray(0, 4);
    const server = this.flow.addr.subarray(4, 8);
    this.pending = new FtpDataChannel(active, ep.port);
    this.pendingEndpoints = active ? { serverAddr: client.slice(), clientAddr: server.slice() } : { serverAddr: server.slice(), clientAddr: client.slice() };
    this.expect(this.pending);
  }

  private expect(channel: FtpDataChannel): void {
    const ep = this.pendingEndpoints;
    if (ep === null) return;
    this.out.expect({ proto: 'ftp-data', serverAddr: ep.serverAddr, serverPort: channel.port, clientAddr: ep.clientAddr, seconds: FTP_DATA_EXPECT_SECONDS, context: channel });
  }

  /** Logs the transactions that are complete and drops them, oldest first. */
  private flush(): void {
    let kept = 0;
    for (const tx of this.txs) {
      if (tx.done) this.log(tx);
      else this.txs[kept++] = tx;
    }
    this.txs.length = kept;
  }

  private log(tx: FtpTransaction): void {
    if (tx.logged) return;
    tx.logged = true;
    this.out.record('ftp', ftpRecord(tx), 0, tx.id);
  }
}

/** A data connection as rules see it: one transaction (id 0), its file's name. */
export class FtpDataTransaction implements AppTransaction {
  readonly id = 0;

  constructor(private readonly channel: FtpDataChannel | null) {}

  filenameBytes(): Uint8Array | null {
    return this.channel?.filename ?? null;
  }

  buffer(name: string): Uint8Array | null {
    return ftpDataBuffer(this, name);
  }

  alertMetadata(): Record<string, unknown> {
    return { ftp_data: ftpDataRecord(this.channel) };
  }
}

/**
 * A data connection (Suricata's ftp-data): the bytes of a RETR or STOR go to a FileTracker, in
 * the direction the command and mode give; a listing (LIST, NLST, MLSD) carries no file, as in
 * Suricata. When the command is not known yet at the first byte, the side that sends first is
 * taken, and the file is reported at the end only if the command turns out to be RETR or STOR.
 */
export class FtpDataSession implements AppSession {
  readonly tx: FtpDataTransaction;
  private file: FileTracker | null = null;
  private fileDir = -1;
  /** Bytes went missing on a side before its first byte was seen. */
  private readonly missingStart = [false, false];
  private closed = false;

  constructor(
    private readonly flow: Flow,
    private readonly out: AppOutput,
    private readonly channel: FtpDataChannel | null,
  ) {
    this.tx = new FtpDataTransaction(channel);
  }

  data(dir: number, buf: Uint8Array, off: number, len: number): void {
    if (this.closed) return;
    const command = this.channel?.command ?? null;
    if (command !== null && command !== 'RETR' && command !== 'STOR') return;
    if (this.file === null) {
      const want = this.channel?.fileDirection ?? -1;
      if (want !== -1 && dir !== want) return; // Suricata ignores data against the transfer's direction
      this.fileDir = dir;
      const out = this.out;
      const channel = this.channel;
      // The name is taken when the file is reported: the STOR or RETR may come after the first byte.
      const reporter: AppOutput = {
        record: (eventType, body, d, txId) => out.record(eventType, body, d, txId),
        inspect: (tx, d) => out.inspect(tx, d),
        anomaly: (event, d) => out.anomaly(event, d),
        file: (info) => out.file({ ...info, filename: channel?.filename != null ? eveString(channel.filename) : null }),
        get fileStore() {
          return out.fileStore;
        },
        now: () => out.now(),
        expect: (e) => out.expect(e),
        upgrade: (proto, carry) => out.upgrade(proto, carry),
      };
      this.file = new FileTracker(reporter, null, dir === 0 ? 'to_server' : 'to_client', 0);
      if (this.missingStart[dir]) this.file.gap();
      this.out.inspect(this.tx, dir);
    } else if (dir !== this.fileDir) {
      return;
    }
    this.file.append(buf, off, len);
  }

  gap(dir: number, _len = 0): void {
    if (this.file !== null) {
      if (dir === this.fileDir) this.file.gap();
    } else if (dir === 0 || dir === 1) {
      this.missingStart[dir] = true;
    }
  }

  /** A side finished (FIN, its data delivered): the end of the file when it is the file's side, as Suricata closes it at EOF. */
  end(dir: number): void {
    if (this.closed) return;
    if (this.file !== null ? dir === this.fileDir : dir === (this.channel?.fileDirection ?? -1)) this.finish(true);
  }

  close(): void {
    if (!this.closed) this.finish(this.endedCleanly());
  }

  /** Writes the ftp_data record and reports the file (only for RETR and STOR, or a file whose command never came). */
  private finish(complete: boolean): void {
    this.closed = true;
    const command = this.channel?.command ?? null;
    const carriesFile = command === 'RETR' || command === 'STOR' || (command === null && this.file !== null);
    if (!carriesFile) return;
    this.out.record('ftp_data', ftpDataRecord(this.channel), 0, 0);
    this.file?.close(complete);
  }

  /**
   * At the flow's end without the sender's end seen: a reset ends the file in stream mode (Suricata
   * takes it as EOF too), and so does a FIN whose end was not reported; a timeout or the end of
   * the capture cuts it short.
   */
  private endedCleanly(): boolean {
    const tcp = this.flow.tcp;
    if (tcp === null) return false;
    const sent = this.fileDir === 0 ? tcp.flagsToServer : tcp.flagsToClient;
    return (sent & TcpFlag.FIN) !== 0 || ((tcp.flagsToServer | tcp.flagsToClient) & TcpFlag.RST) !== 0;
  }
}
