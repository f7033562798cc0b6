/**
 * Reading Zeek's btest baselines for IRC (../shared/corpus/irc/zeek-baselines) and printing our
 * events the way Zeek's testing/btest/scripts/base/protocols/irc/events.test prints its own.
 */
import { readFileSync } from 'node:fs';
import { escapeBytes, type IrcEvent } from '../../../src/protocols/irc/index.js';

/** Zeek's print: bytes outside printable ASCII as \xNN. */
const esc = escapeBytes;

const b = (v: boolean): number => (v ? 1 : 0);

/**
 * The lines events.test prints for one event (several for events carrying a set, one per item),
 * and whether they come from a set (Zeek's set order is its hash's: compare those as a bag).
 * Events that events.test has no handler for print nothing.
 */
export function zeekEventLines(e: IrcEvent): { lines: string[]; set: boolean } {
  const one = (s: string): { lines: string[]; set: boolean } => ({ lines: [esc(s)], set: false });
  switch (e.type) {
    case 'privmsg_message':
      return one(`${e.source} -> ${e.target}: ${e.message}`);
    case 'quit_message':
      return one(`quit: ${e.nick} (${e.message})`);
    case 'notice_message':
      return one(`notice_message: ${e.source} -> ${e.target}: ${e.message}`);
    case 'squery_message':
      return one(`squery_message: ${e.source} -> ${e.target}: ${e.message}`);
    case 'join_message':
      return { lines: e.info_list.map((i) => esc(`join_message: [nick=${i.nick}, channel=${i.channel}, password=${i.password}, usermode=${i.usermode}]`)), set: true };
    case 'part_message':
      return { lines: e.chans.map((c) => esc(`part_message: ${e.nick} (${c}): ${e.message}`)), set: true };
    case 'nick_message':
      return one(`nick_message: ${e.who} ${e.newnick}`);
    case 'invalid_nick':
      return one('invalid_nick');
    case 'network_info':
      return one(`network_info: ${e.users} users, ${e.services} services, ${e.servers} servers`);
    case 'server_info':
      return one(`server_info: ${e.users} users, ${e.services} services, ${e.servers} servers`);
    case 'channel_info':
      return one(`channel_info: ${e.chans} channels`);
    case 'who_line':
      return one(`who_line: target ${e.target_nick}, channel ${e.channel}, user ${e.user}, host ${e.host}, server ${e.server}, nick ${e.nick}, params ${e.params}, hops ${e.hops}, real_name: ${e.real_name}`);
    case 'names_info':
      return { lines: e.users.map((u) => esc(`names_info: ${e.c_type} ${e.channel}: ${u}`)), set: true };
    case 'whois_operator_line':
      return one(`whois_operator_line: ${e.nick}`);
    case 'whois_channel_line':
      return { lines: e.chans.map((c) => esc(`whois_channel_line: ${e.nick} ${c}`)), set: true };
    case 'whois_user_line':
      return one(`whois_user_line: nick ${e.nick}, user ${e.user}, host ${e.host}, real_name ${e.real_name}`);
    case 'oper_response':
      return one(`oper_response: ${b(e.got_oper)}`);
    case 'global_users':
      return one(`global_users: ${e.prefix} ${e.msg}`);
    case 'channel_topic':
      return one(`channel_topic: ${e.channel}: ${e.topic}`);
    case 'who_message':
      return one(`who_message: ${e.mask} ${b(e.oper)}`);
    case 'whois_message':
      return one(`whois_message: ${e.server} ${e.users}`);
    case 'oper_message':
      return one(`oper_message: ${e.user} ${e.password}`);
    case 'kick_message':
      return one(`kick_message: ${e.prefix} ${e.chans} ${e.users}: ${e.comment}`);
    case 'error_message':
      return one(`error_message: ${e.prefix}: ${e.message}`);
    case 'invite_message':
      return one(`invite_message: ${e.prefix} ${e.nickname} ${e.channel}`);
    case 'mode_message':
      return one(`mode_message: ${e.prefix} ${e.params}`);
    case 'squit_message':
      return one(`squit_message: ${e.prefix} ${e.server}: ${e.message}`);
    case 'user_message':
      return one(`user_message: ${e.user}@${e.host} ${e.server} ${e.real_name}`);
    case 'password_message':
      return one(`password_message: ${e.password}`);
    default:
      return { lines: [], set: false };
  }
}

/** The events_output baseline, cut into its per-capture sections ("irc-basic.pcap" -> lines). */
export function eventsOutputSections(path: string): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const line of readFileSync(path, 'latin1').split('\n')) {
    const head = /^-+ (\S+) -+$/.exec(line);
    if (head !== null) {
      current = [];
      sections.set(head[1]!, current);
    } else if (current !== null && line !== '') {
      current.push(line);
    }
  }
  return sections;
}

/** A Zeek log's rows as field maps (by its #fields header). */
export function zeekLogRows(path: string): Array<Record<string, string>> {
  let fields: string[] = [];
  const rows: Array<Record<string, string>> = [];
  for (const line of readFileSync(path, 'latin1').split('\n')) {
    if (line.startsWith('#fields\t')) fields = line.split('\t').slice(1);
    if (line === '' || line.startsWith('#')) continue;
    const values = line.split('\t');
    rows.push(Object.fromEntries(fields.map((f, i) => [f, values[i] ?? ''])));
  }
  return rows;
}
