/**
 * One IRC connection's state: a line splitter per direction, the line decoder, the irc.log
 * record, and the points where Zeek stops reading IRC (STARTTLS accepted; a compressed
 * server-to-server link). Fed in stream order with each chunk's packet time. This is the part
 * of the per-flow state machine that does not depend on the application-layer wiring.
 */
import { parseIpv4 } from '../../wire/address.js';
import type { AppOutput, AppSession } from '../app.js';
import { FileTracker, mimeType } from '../files.js';
import { DCC_EXPECT_SECONDS, ircRecord, IrcLogState, type DccExpectations, type DccTransfer, type IrcLogRecord } from './log.js';
import { ContentLineSplitter, decodeLine, latin1, splitWords, type ContentLineWeird, type DecodedLine, type IrcEvent, type IrcWeird, type LineSink } from './parse.js';
import { copyBytes } from '../../wire/bytes.js';

/** Zeek's analyzer gives up on a connection after more than 20 invalid commands (irc_too_many_invalid). */
export const MAX_INVALID_COMMANDS = 20;

/** Everything a connection can report, by Zeek's weird names. */
export type IrcConversationWeird = ContentLineWeird | IrcWeird | 'irc_too_many_invalid';

/** Where a connection's results go. All optional: take what you need. */
export interface IrcOutput {
  /** Every line, decoded (`dir` 0 is the client, 1 the server); `end` is the stream offset just past its terminator. */
  line?(dir: number, line: DecodedLine, ts: number, end: number): void;
  /** Each of Zeek's events, in order. */
  event?(dir: number, event: IrcEvent, ts: number): void;
  /** Each irc.log row, when Zeek would write it. */
  log?(row: IrcLogRecord): void;
  weird?(dir: number, name: IrcConversationWeird, ts: number): void;
}

/** Where TLS starts after STARTTLS: the stream offset, per direction, of the first byte that is not IRC. */
export interface TlsStart {
  ts: number;
  offsets: [number, number];
}

const WAIT_FOR_REGISTRATION = 0;
const REGISTERED = 1;

export class IrcConversation {
  readonly log: IrcLogState;
  private readonly splitters: [ContentLineSplitter, ContentLineSplitter] = [new ContentLineSplitter(), new ContentLineSplitter()];
  private readonly sinks: [LineSink, LineSink];
  private tlsStart: TlsStart | null = null;
  private zip = false;
  private readonly status = [WAIT_FOR_REGISTRATION, WAIT_FOR_REGISTRATION];
  private readonly acceptZip = [false, false];
  private invalid = 0;
  private singleCrSeen = false;

  constructor(
    private readonly out: IrcOutput = {},
    expectations: DccExpectations | null = null,
  ) {
    this.log = new IrcLogState((row) => out.log?.(row), expectations);
    this.sinks = [this.sink(0), this.sink(1)];
  }

  /** Set once the server accepted STARTTLS (670): nothing after it is read as IRC. */
  get tls(): TlsStart | null {
    return this.tlsStart;
  }

  /**
   * Set once both ends of a server-to-server link registered and offered compression (PASS with
   * 'Z' in its flags): Zeek hands such links to a zlib decompressor; we stop reading them.
   */
  get compressed(): boolean {
    return this.zip;
  }

  /** True when nothing more will be read as IRC. */
  get stopped(): boolean {
    return this.tlsStart !== null || this.zip;
  }

  /** Bytes held in partial lines (at most CONTENTLINE_MAX_LINE per direction). */
  get buffered(): number {
    return this.splitters[0].buffered + this.splitters[1].buffered;
  }

  /** In-order stream data from `dir`, received at `ts` (seconds). */
  data(dir: number, buf: Uint8Array, off: number, len: number, ts: number): void {
    if (this.stopped) return;
    const d = dir === 0 ? 0 : 1;
    this.splitters[d].push(buf, off, len, ts, this.sinks[d]);
  }

  /** `dir` closed (FIN or RST, once all its data was delivered): a partial line is read as a line, as Zeek does. */
  end(dir: number, ts: number): void {
    if (this.stopped) return;
    const d = dir === 0 ? 0 : 1;
    this.splitters[d].end(ts, this.sinks[d]);
  }

  /** Bytes are missing from `dir`: the line they cut is dropped (see ContentLineSplitter.gap). */
  gap(dir: number): void {
    this.splitters[dir === 0 ? 0 : 1].gap();
  }

  private sink(dir: 0 | 1): LineSink {
    return {
      line: (bytes, ts, end) => this.onLine(dir, latin1(bytes), ts, end),
      weird: (name, ts) => {
        if (name === 'line_terminated_with_single_CR') {
          // Zeek flags this one once per connection.
          if (this.singleCrSeen) return;
          this.singleCrSeen = true;
        }
        this.out.weird?.(dir, name, ts);
      },
    };
  }

  private onLine(dir: 0 | 1, text: string, ts: number, end: number): void {
    const orig = dir === 0;
    const d = decodeLine(text, orig);
    const m = d.message;
    if (m !== null && m.code === 0) this.registration(dir, m.command, m.prefix, d.rawParams);
    if (d.weird !== null) {
      this.out.weird?.(dir, d.weird, ts);
      if (d.weird === 'irc_invalid_command' && ++this.invalid > MAX_INVALID_COMMANDS) this.out.weird?.(dir, 'irc_too_many_invalid', ts);
    }
    let ev = d.event;
    // Only the server can accept STARTTLS: a client sending 670 must not blind us to the rest.
    if (ev !== null && ev.type === 'starttls' && !orig) {
      this.tlsStart = { ts, offsets: dir === 1 ? [this.splitters[0].lineStart, end] : [end, this.splitters[1].lineStart] };
      this.splitters[0].stop();
      this.splitters[1].stop();
    } else if (ev !== null && ev.type === 'starttls') {
      ev = { type: 'reply', prefix: m?.prefix ?? '', code: 670, params: d.rawParams };
    }
    const line = ev === d.event ? d : { ...d, event: ev };
    this.out.line?.(dir, line, ts, end);
    if (ev !== null) {
      this.out.event?.(dir, ev, ts);
      this.log.event(ev, dir, ts);
    }
    if (m !== null && m.code === 0 && d.weird === null && m.command !== 'STARTTLS' && this.zipReady()) {
      this.zip = true;
      this.splitters[0].stop();
      this.splitters[1].stop();
    }
  }

  /** Zeek's server-to-server tracking: PASS flags offering compression, then SERVER without a prefix. */
  private registration(dir: 0 | 1, command: string, prefix: string, params: string): void {
    if (this.status[dir] !== WAIT_FOR_REGISTRATION) return;
    if (command === 'PASS') {
      const p = splitWords(params, ' ');
      this.acceptZip[dir] = p.length > 3 && /[Zz]/.test(p[3]!);
    }
    if (command === 'SERVER' && prefix === '') this.status[dir] = REGISTERED;
  }

  private zipReady(): boolean {
    return this.status[0] === REGISTERED && this.status[1] === REGISTERED && this.acceptZip[0] === true && this.acceptZip[1] === true;
  }
}

/**
 * The application layer's IRC session: feeds an IrcConversation with each chunk's packet time,
 * writes irc.log's rows as EVE `irc` records, Zeek's weirds as applayer anomalies, and
 * announces each DCC SEND offer so the transfer's connection is followed as `irc-dcc`.
 */
export class IrcSession implements AppSession {
  private readonly conversation: IrcConversation;

  constructor(
    private readonly out: AppOutput,
    expectations: DccExpectations,
  ) {
    this.conversation = new IrcConversation(
      {
        log: (row) => out.record('irc', ircRecord(row), row.dir),
        weird: (dir, name) => out.anomaly(name, dir),
        event: (_dir, ev) => {
          if (ev.type !== 'dcc_message' || ev.dcc_type !== 'SEND') return;
          const v4 = parseIpv4(ev.address);
          if (v4 === null) return;
          const context: DccContext = { address: ev.address, port: ev.dest_port, filename: ev.argument };
          out.expect({ proto: 'irc-dcc-data', serverAddr: Uint32Array.of(0, 0, 0xffff, v4), serverPort: ev.dest_port, clientAddr: null, seconds: DCC_EXPECT_SECONDS, context });
        },
      },
      expectations,
    );
  }

  data(dir: number, buf: Uint8Array, off: number, len: number): void {
    this.conversation.data(dir, buf, off, len, this.out.now());
  }

  gap(dir: number): void {
    this.conversation.gap(dir);
  }

  end(dir: number): void {
    this.conversation.end(dir, this.out.now());
  }

  close(): void {
    const ts = this.out.now();
    this.conversation.end(0, ts);
    this.conversation.end(1, ts);
  }
}

/** What a DCC SEND offer announced: where the transfer connects, and the file's name. */
export interface DccContext {
  address: string;
  port: number;
  filename: string;
}

/**
 * Zeek reads this many first bytes of a DCC transfer before it names the file's type
 * (its file analysis bof buffer), and then writes the DCC row.
 */
const DCC_SNIFF_BYTES = 4096;

/**
 * A DCC SEND transfer's connection: the file flows from the offering side (the connection's
 * server) and is tracked as a file; once its first bytes are seen, the offering connection
 * writes its DCC row.
 */
export class DccSession implements AppSession {
  private readonly transfer: DccTransfer | null;
  private readonly file: FileTracker;
  private readonly head: Uint8Array[] = [];
  private headLen = 0;
  private seen = false;
  private gaps = false;

  constructor(
    private readonly out: AppOutput,
    expectations: DccExpectations,
    context: DccContext,
  ) {
    this.transfer = expectations.connection(context.address, context.port, out.now());
    this.file = new FileTracker(out, context.filename, 'to_client', 0);
  }

  data(dir: number, buf: Uint8Array, off: number, len: number): void {
    if (dir === 0) return; // the receiver's acknowledgements
    this.file.append(buf, off, len);
    if (!this.seen && this.headLen < DCC_SNIFF_BYTES) {
      this.head.push(copyBytes(buf, off, Math.min(len, DCC_SNIFF_BYTES - this.headLen)));
      this.headLen += Math.min(len, DCC_SNIFF_BYTES - this.headLen);
      if (this.headLen >= DCC_SNIFF_BYTES) this.sniffed();
    }
  }

  gap(dir: number): void {
    if (dir === 1) {
      this.gaps = true;
      this.file.gap();
    }
  }

  close(): void {
    if (!this.seen && this.headLen > 0) this.sniffed();
    this.transfer?.close();
    this.file.close(!this.gaps);
  }

  private sniffed(): void {
    this.seen = true;
    const head = Buffer.concat(this.head);
    this.transfer?.fileSeen(this.out.now(), mimeType(head), null);
  }
}
