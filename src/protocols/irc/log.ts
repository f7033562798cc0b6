import type { IrcRecord } from '../../events/irc.js';
/**
 * The irc record, as Zeek's irc.log writes it (scripts/base/protocols/irc/main.zeek, dcc-send.zeek
 * and files.zeek). Zeek logs little of IRC, and so do we: a row for each NICK, USER and JOIN
 * the client sends, and a DCC row when a file offered by DCC SEND is seen moving on its own
 * connection. The nick and user columns carry the values from *before* the row's command (the
 * NICK row shows the old nick), because Zeek updates them after writing; and the DCC row carries
 * whatever command and value the connection's record held at that moment. Both are kept.
 */
import type { IrcEvent } from './parse.js';

/** One irc.log row. Zeek's `uid` and `id` are the flow's: the framework adds them. */
export interface IrcLogRecord {
  /** When the connection's record was last touched (the NICK, USER, JOIN or DCC message's packet time), in seconds. */
  ts: number;
  /** The side that sent that message: 0 the client (Zeek's orig), 1 the server. */
  dir: number;
  /** The client's nick before this row's command; null until a NICK was sent. */
  nick: string | null;
  /** The username the client gave in USER, before this row's command; null until then. */
  user: string | null;
  /** NICK, USER, JOIN or DCC. */
  command: string | null;
  /** NICK: the new nick; USER: the username; JOIN: the channel; DCC: whatever the connection's record held. */
  value: string | null;
  /** USER: "host server real name"; JOIN: "" or " with channel key: 'key'"; DCC: as the record held it. */
  addl: string | null;
  /** The file a DCC SEND offered. */
  dcc_file_name: string | null;
  /** Its size as the sender stated it. */
  dcc_file_size: number | null;
  /** The type its first bytes show, as whoever looked at them said. */
  dcc_mime_type: string | null;
  /** The id the file analysis gave the transfer, when one did. */
  fuid: string | null;
}

/** Zeek keeps an expected DCC transfer for 5 minutes (&read_expire=5mins, and schedule_analyzer's 5 min). */
export const DCC_EXPECT_SECONDS = 300;
/**
 * DCC offers held at once, across all connections: a few hundred bytes each, and far more than
 * honest traffic ever has open (newer Zeek caps the same table, IRC::max_dcc_expected_transfers).
 */
export const MAX_DCC_EXPECTED = 10_000;

/**
 * One connection's IRC record (Zeek's `c$irc`) and the handlers that fill it and write rows.
 * Feed it every decoded event of the connection, both directions, in order.
 */
export class IrcLogState {
  private info: IrcLogRecord | null = null;

  /** `write` gets each row as it is written (a copy: later changes do not show in it). */
  constructor(
    private readonly write: (row: IrcLogRecord) => void,
    private readonly expectations: DccExpectations | null = null,
  ) {}

  /** The connection's record as it stands (null before the first NICK, USER, JOIN or DCC). */
  get current(): Readonly<IrcLogRecord> | null {
    return this.info;
  }

  /** One decoded event from `dir` (0 client, 1 server) at `ts`. */
  event(ev: IrcEvent, dir: number, ts: number): void {
    const orig = dir === 0;
    switch (ev.type) {
      case 'nick_message': {
        const info = this.touch(dir, ts);
        if (!orig) return;
        info.command = 'NICK';
        info.value = ev.newnick;
        this.emit(info);
        info.nick = ev.newnick;
        return;
      }
      case 'user_message': {
        const info = this.touch(dir, ts);
        if (!orig) return;
        info.command = 'USER';
        info.value = ev.user;
        info.addl = `${ev.host} ${ev.server} ${ev.real_name}`;
        this.emit(info);
        info.user = ev.user;
        return;
      }
      case 'join_message': {
        const info = this.touch(dir, ts);
        if (!orig) return;
        info.command = 'JOIN';
        for (const l of ev.info_list) {
          info.value = l.channel;
          info.addl = l.password !== '' ? ` with channel key: '${l.password}'` : '';
          this.emit(info);
        }
        return;
      }
      case 'dcc_message': {
        // Either side: a server relays offers to the client it is meant for.
        const info = this.touch(dir, ts);
        if (ev.dcc_type !== 'SEND') return;
        info.dcc_file_name = ev.argument;
        info.dcc_file_size = ev.size;
        this.expectations?.expect(ev.address, ev.dest_port, this, ts);
        return;
      }
      default:
        return;
    }
  }

  /** Zeek's log_dcc: the offered file was seen on its own connection. Returns the row written. */
  dccSeen(mimeType: string | null, fuid: string | null): IrcLogRecord | null {
    const info = this.info;
    if (info === null) return null;
    if (fuid !== null) info.fuid = fuid;
    if (mimeType !== null) info.dcc_mime_type = mimeType;
    const command = info.command;
    info.command = 'DCC';
    const row = this.emit(info);
    if (command !== null && command !== '') info.command = command;
    info.dcc_file_name = null;
    info.dcc_file_size = null;
    info.dcc_mime_type = null;
    return row;
  }

  /** Zeek's set_session: the record is made on first use, and its time is the latest message's. */
  private touch(dir: number, ts: number): IrcLogRecord {
    this.info ??= { ts, dir, nick: null, user: null, command: null, value: null, addl: null, dcc_file_name: null, dcc_file_size: null, dcc_mime_type: null, fuid: null };
    this.info.ts = ts;
    this.info.dir = dir;
    return this.info;
  }

  private emit(info: IrcLogRecord): IrcLogRecord {
    const row = { ...info };
    this.write(row);
    return row;
  }
}

interface Expected {
  state: IrcLogState;
  /** When the offer was made: the transfer's connection must start within DCC_EXPECT_SECONDS of it. */
  offeredAt: number;
  lastUsed: number;
}

/**
 * DCC SEND offers waiting for their transfer (Zeek's dcc_expected_transfers), across all
 * connections: the address and port the receiver is to connect to, and the offering
 * connection's record (by reference, as Zeek holds it: the DCC row shows that record as it is
 * when the file is seen). Bounded by `max`; the least recently used offer goes first.
 */
export class DccExpectations {
  private readonly table = new Map<string, Expected>();
  /** Offers dropped to make room. */
  evicted = 0;

  constructor(private readonly max = MAX_DCC_EXPECTED) {}

  get size(): number {
    return this.table.size;
  }

  /** An offer to connect to `address`:`port`, made at `ts` on the connection whose record is `state`. */
  expect(address: string, port: number, state: IrcLogState, ts: number): void {
    const key = `${address}|${port}`;
    this.table.delete(key);
    this.expire(ts);
    while (this.table.size >= this.max) {
      const oldest = this.table.keys().next();
      if (oldest.done === true) break;
      this.table.delete(oldest.value);
      this.evicted++;
    }
    this.table.set(key, { state, offeredAt: ts, lastUsed: ts });
  }

  /** A TCP connection to `address`:`port` started at `ts`: the DCC transfer an offer announced, or null. */
  connection(address: string, port: number, ts: number): DccTransfer | null {
    const key = `${address}|${port}`;
    const e = this.table.get(key);
    if (e === undefined) return null;
    if (ts - e.offeredAt > DCC_EXPECT_SECONDS) {
      this.table.delete(key);
      return null;
    }
    this.use(key, e, ts);
    return new DccTransfer(this, key);
  }

  /** @internal The transfer's file was seen (Zeek's file_sniff): writes the DCC row. */
  sniffed(key: string, ts: number, mimeType: string | null, fuid: string | null): IrcLogRecord | null {
    const e = this.table.get(key);
    if (e === undefined) return null;
    if (ts - e.lastUsed > DCC_EXPECT_SECONDS) {
      this.table.delete(key);
      return null;
    }
    this.table.delete(key);
    return e.state.dccSeen(mimeType, fuid);
  }

  /** @internal The transfer's connection ended (Zeek's finalize_irc_data): the offer is spent. */
  done(key: string): void {
    this.table.delete(key);
  }

  private use(key: string, e: Expected, ts: number): void {
    e.lastUsed = ts;
    this.table.delete(key);
    this.table.set(key, e);
  }

  /** Drops offers unused for DCC_EXPECT_SECONDS (the map is in order of last use). */
  private expire(ts: number): void {
    for (const [key, e] of this.table) {
      if (ts - e.lastUsed <= DCC_EXPECT_SECONDS) break;
      this.table.delete(key);
    }
  }
}

/** A connection that carries a file some DCC SEND offered. */
export class DccTransfer {
  private ended = false;

  constructor(
    private readonly expectations: DccExpectations,
    private readonly key: string,
  ) {}

  /**
   * The file's first bytes were looked at, at `ts` (Zeek does it once 4096 bytes are in, or at the
   * file's end): the DCC row is written on the offering connection. Null when the offer is gone.
   */
  fileSeen(ts: number, mimeType: string | null = null, fuid: string | null = null): IrcLogRecord | null {
    if (this.ended) return null;
    this.ended = true;
    return this.expectations.sniffed(this.key, ts, mimeType, fuid);
  }

  /** The connection ended (with or without a file). */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.expectations.done(this.key);
  }
}

/** Zeek's irc.log columns from nick on, in order (ts, uid and id come first in the file). */
export const ZEEK_IRC_COLUMNS = ['nick', 'user', 'command', 'value', 'addl', 'dcc_file_name', 'dcc_file_size', 'dcc_mime_type', 'fuid'] as const;

/**
 * A row's columns from nick on as Zeek's ASCII writer prints them: "-" for unset, "(empty)" for
 * an empty string, control bytes and bytes past ASCII as \xNN, tab-separated.
 */
export function zeekColumns(row: IrcLogRecord): string {
  return ZEEK_IRC_COLUMNS.map((c) => {
    const v = row[c];
    if (v === null) return '-';
    if (typeof v === 'number') return String(v);
    if (v === '') return '(empty)';
    return escapeBytes(v);
  }).join('\t');
}

/** Control bytes and bytes past ASCII as \xNN (one char per byte), as Zeek prints them. */
export function escapeBytes(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c < 0x20 || c >= 0x7f ? `\\x${c.toString(16).padStart(2, '0')}` : s[i];
  }
  return out;
}

/** An irc.log row as the body of an EVE `irc` record: its columns from nick on, unset ones left out. */
export function ircRecord(row: IrcLogRecord): IrcRecord {
  const out: IrcRecord = {};
  for (const c of ZEEK_IRC_COLUMNS) {
    const v = row[c];
    if (v !== null) (out as Record<string, string | number>)[c] = v;
  }
  return out;
}
