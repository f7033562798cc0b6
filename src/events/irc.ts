/**
 * The EVE `irc` record: one row of Zeek's irc.log (scripts/base/protocols/irc/main.zeek), written
 * when the client sends NICK, USER or JOIN, and when a file offered by DCC SEND is seen moving
 * on its own connection. Fields Zeek leaves unset are left out.
 */
export interface IrcRecord {
  /** The client's nick before this row's command (Zeek updates it after writing the row). */
  nick?: string;
  /** The username the client gave in USER, before this row's command. */
  user?: string;
  /** NICK, USER, JOIN or DCC. */
  command?: string;
  /** NICK: the new nick; USER: the username; JOIN: the channel; DCC: whatever the connection's row held. */
  value?: string;
  /** USER: "host server real name"; JOIN: "" or " with channel key: 'key'"; DCC: as the row held it. */
  addl?: string;
  /** The file a DCC SEND offered. */
  dcc_file_name?: string;
  /** Its size as the sender stated it. */
  dcc_file_size?: number;
  /** Its MIME type, from its first bytes. */
  dcc_mime_type?: string;
  /** The file analysis id Zeek gave the transfer (Outpost gives none). */
  fuid?: string;
}
