import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { DCC_EXPECT_SECONDS, DccExpectations, IrcConversation, IrcLogState, ZEEK_IRC_COLUMNS, zeekColumns, type IrcConversationWeird, type IrcEvent, type IrcLogRecord } from '../../../src/protocols/irc/index.js';
import { shared } from '../../helpers.js';
import { zeekLogRows } from './zeek-baselines.js';

/** A conversation fed line by line: [dir, text, ts]. */
function converse(lines: Array<[number, string, number]>, expectations: DccExpectations | null = null) {
  const rows: IrcLogRecord[] = [];
  const events: Array<{ dir: number; event: IrcEvent }> = [];
  const weirds: IrcConversationWeird[] = [];
  const c = new IrcConversation({ log: (r) => rows.push(r), event: (dir, event) => events.push({ dir, event }), weird: (_d, w) => weirds.push(w) }, expectations);
  for (const [dir, text, ts] of lines) {
    const b = Buffer.from(text + '\r\n', 'latin1');
    c.data(dir, b, 0, b.length, ts);
  }
  return { c, rows, events, weirds };
}

const cols = (r: IrcLogRecord): string => zeekColumns(r);

test('Zeek basic_irc.log rows come out of the irc-dcc-send session (reconstructed from Zeek events_output)', (t) => {
  const base = shared(t, 'corpus', 'irc', 'zeek-baselines');
  if (base === null) return;
  // irc-dcc-send.pcapng is not in the corpus; its lines are rebuilt from what Zeek's events
  // baseline printed for it (password, nick, user "tim@tim 10.0.0.22 TimWojtulewicz ", the
  // extended JOIN echo with password "*"), and its DCC transfer from basic_conn.log:
  // 10.0.0.22:43614 -> 10.0.0.7:59130, 1320211 bytes, a pcap file.
  const expectations = new DccExpectations();
  const { rows } = converse(
    [
      [1, ':ircd1.local NOTICE * :*** Looking up your hostname...', 1],
      [0, 'PASS test', 2],
      [0, 'NICK tim2', 2],
      [0, 'USER tim tim 10.0.0.22 :Tim Wojtulewicz', 2],
      [1, ':ircd1.local 001 tim2 :Welcome', 3],
      [1, ':tim2!tim@10.0.0.7 MODE tim2 :+c', 3],
      [0, 'MODE tim2 +i', 4],
      [0, 'JOIN #testing', 5],
      [1, ':tim2!tim@10.0.0.7 JOIN #testing * :Tim Wojtulewicz', 5],
      [1, ':ircd1.local 353 tim2 = #testing :tim1 tim2', 5],
      [0, "PRIVMSG #testing :hi, i'm chatting for some packets", 6],
      [0, 'PRIVMSG tim1 :\x01DCC SEND ssh.trace 167772167 59130 1320211\x01', 7],
    ],
    expectations,
  );
  const transfer = expectations.connection('10.0.0.7', 59130, 8);
  assert.ok(transfer !== null, 'the offer is expected');
  transfer.fileSeen(8.1, 'application/vnd.tcpdump.pcap', 'FkshTS1b7DMiTGD6C3');
  transfer.close();

  const zeek = zeekLogRows(join(base, 'scripts.base.protocols.irc.basic_irc.log'));
  assert.equal(zeek.length, 4);
  assert.deepEqual(
    rows.map(cols),
    zeek.map((z) => ZEEK_IRC_COLUMNS.map((c) => z[c]).join('\t')),
  );
  // The DCC row carries the time of the offer (the record's last touch), not of the transfer.
  assert.equal(rows[3]!.ts, 7);
});

test('nick and user columns show the values from before the row (Zeek updates them after writing)', () => {
  const { rows } = converse([
    [0, 'NICK a', 1],
    [0, 'USER u h s :Real Name', 2],
    [0, 'NICK b', 3],
    [0, 'JOIN #c key', 4],
  ]);
  assert.deepEqual(rows.map(cols), ['-\t-\tNICK\ta\t-\t-\t-\t-\t-', "a\t-\tUSER\tu\th s RealName \t-\t-\t-\t-", 'a\tu\tNICK\tb\th s RealName \t-\t-\t-\t-', "b\tu\tJOIN\t#c\t with channel key: 'key'\t-\t-\t-\t-"]);
  assert.deepEqual(
    rows.map((r) => r.ts),
    [1, 2, 3, 4],
  );
});

test('only the client commands are logged: server NICK, JOIN echoes and other commands are not', () => {
  const { rows } = converse([
    [1, ':x!y@z NICK w', 1],
    [1, ':x!y@z JOIN #c', 1],
    [0, 'PRIVMSG #c :.advscan dcom135 100 5 0 -r', 2],
    [0, 'TOPIC #c :.scan', 2],
    [0, 'PART #c', 2],
  ]);
  assert.deepEqual(rows, []);
});

test('a JOIN with several channels writes one row each, keys paired', () => {
  const { rows } = converse([[0, 'JOIN #a,#b,#c k1,k2', 1]]);
  assert.deepEqual(
    rows.map((r) => [r.value, r.addl]),
    [
      ['#a', " with channel key: 'k1'"],
      ['#b', " with channel key: 'k2'"],
      ['#c', ''],
    ],
  );
});

test('a DCC offer as the first command: the DCC row has no command before it, and "DCC" stays', () => {
  const expectations = new DccExpectations();
  const { c, rows } = converse([[0, 'PRIVMSG bob :\x01DCC SEND hello.txt 167772161 5555 12\x01', 1]], expectations);
  assert.equal(rows.length, 0);
  const tr = expectations.connection('10.0.0.1', 5555, 2)!;
  tr.fileSeen(3);
  assert.deepEqual(rows.map(cols), ['-\t-\tDCC\t-\t-\thello.txt\t12\t-\t-']);
  assert.equal(c.log.current?.command, 'DCC');
  assert.equal(c.log.current?.dcc_file_name, null, 'the file fields are cleared after the DCC row');
});

test('file fields of a pending offer show in rows written before the transfer, and the fuid stays after it', () => {
  const ex = new DccExpectations();
  const { c, rows } = converse(
    [
      [0, 'NICK a', 1],
      [0, 'PRIVMSG b :\x01DCC SEND f.exe 16909060 6000 99\x01', 2],
      [0, 'JOIN #x', 3],
    ],
    ex,
  );
  assert.equal(rows[1]!.dcc_file_name, 'f.exe');
  assert.equal(rows[1]!.dcc_file_size, 99);
  ex.connection('1.2.3.4', 6000, 4)!.fileSeen(4, null, 'Fabc');
  const b = Buffer.from('NICK n\r\n');
  c.data(0, b, 0, b.length, 5);
  const last = rows[rows.length - 1]!;
  assert.deepEqual([last.command, last.fuid, last.dcc_file_name], ['NICK', 'Fabc', null]);
});

test('DCC CHAT and offers from the server side touch the record; only SEND is expected', () => {
  const ex = new DccExpectations();
  const { c } = converse(
    [
      [1, ':n!u@h PRIVMSG me :\x01DCC CHAT chat 16909060 4000\x01', 1],
      [1, ':n!u@h PRIVMSG me :\x01DCC SEND x.exe 16909060 4001 10\x01', 2],
    ],
    ex,
  );
  assert.equal(ex.size, 1);
  assert.equal(ex.connection('1.2.3.4', 4000, 3), null);
  assert.ok(ex.connection('1.2.3.4', 4001, 3) !== null);
  assert.equal(c.log.current?.dir, 1);
});

test('an offer is good for 5 minutes, and a transfer is logged once', () => {
  const ex = new DccExpectations();
  converse([[0, 'PRIVMSG b :\x01DCC SEND f 16909060 4001 10\x01', 100]], ex);
  assert.equal(ex.connection('1.2.3.4', 4001, 100 + DCC_EXPECT_SECONDS + 1), null);
  assert.equal(ex.size, 0);

  const rows: IrcLogRecord[] = [];
  const c = new IrcConversation({ log: (r) => rows.push(r) }, ex);
  const b = Buffer.from('PRIVMSG b :\x01DCC SEND f 16909060 4001 10\x01\n');
  c.data(0, b, 0, b.length, 0);
  const tr = ex.connection('1.2.3.4', 4001, 10)!;
  assert.ok(tr.fileSeen(11) !== null);
  assert.equal(tr.fileSeen(12), null);
  assert.equal(ex.connection('1.2.3.4', 4001, 13), null, 'the offer is spent');
  assert.equal(rows.length, 1);
});

test('a transfer connection that ends without a file spends the offer, and no row is written', () => {
  const ex = new DccExpectations();
  const { rows } = converse([[0, 'PRIVMSG b :\x01DCC SEND f 16909060 4001 10\x01', 1]], ex);
  ex.connection('1.2.3.4', 4001, 2)!.close();
  assert.equal(ex.size, 0);
  assert.equal(rows.length, 0);
});

test('the expectation table is bounded: the least recently used offer goes first', () => {
  const ex = new DccExpectations(3);
  const s = new IrcLogState(() => {});
  for (let p = 1; p <= 5; p++) ex.expect('1.1.1.1', p, s, 1);
  assert.equal(ex.size, 3);
  assert.equal(ex.evicted, 2);
  assert.equal(ex.connection('1.1.1.1', 1, 1), null);
  assert.ok(ex.connection('1.1.1.1', 5, 1) !== null);
});

test('STARTTLS: nothing after the server 670 is read as IRC, and the TLS start is exposed per direction', () => {
  const lines: string[] = [];
  const c = new IrcConversation({ line: (_d, l) => lines.push(l.message?.command ?? '?') });
  const send = (dir: number, s: string, ts: number): void => {
    const b = Buffer.from(s, 'latin1');
    c.data(dir, b, 0, b.length, ts);
  };
  send(0, 'STARTTLS\r\n', 1);
  send(1, ':srv 670 me :STARTTLS successful\r\n\x16\x03\x03\x00\x3a\x02NICK x\r\n', 2);
  send(0, '\x16\x03\x01\x01\x38\x01NICK evil\r\n', 3);
  c.end(0, 4);
  assert.deepEqual(lines, ['STARTTLS', '670']);
  assert.deepEqual(c.tls, { ts: 2, offsets: [10, 34] });
  assert.equal(c.stopped, true);
});

test('a client cannot switch parsing off by sending 670 itself', () => {
  const { c, events } = converse([
    [0, '670 x :fake', 1],
    [0, 'NICK a', 2],
  ]);
  assert.equal(c.tls, null);
  assert.deepEqual(
    events.map((e) => e.event.type),
    ['reply', 'nick_message'],
  );
});

test('a compressed server-to-server link stops parsing once both ends registered with Z flags', () => {
  const { c, events } = converse([
    [0, 'PASS secret 0210010000 IRC|aBgH$ Z', 1],
    [0, 'SERVER a.example 1 :A', 1],
    [1, 'PASS secret 0210010000 IRC|aBgH$ Z', 2],
    [1, 'SERVER b.example 1 :B', 2],
    [0, 'NICK shouldnotparse', 3],
  ]);
  assert.equal(c.compressed, true);
  assert.equal(
    events.some((e) => e.event.type === 'nick_message'),
    false,
  );
});

test('more than 20 over-long command words raise irc_too_many_invalid', () => {
  const lines: Array<[number, string, number]> = Array.from({ length: 22 }, (_, i) => [0, 'X'.repeat(30) + ' y', i] as [number, string, number]);
  const { weirds } = converse(lines);
  assert.equal(weirds.filter((w) => w === 'irc_invalid_command').length, 22);
  assert.equal(weirds.filter((w) => w === 'irc_too_many_invalid').length, 2);
});

test('a lone CR terminator is flagged once per connection', () => {
  const weirds: string[] = [];
  const c = new IrcConversation({ weird: (_d, w) => weirds.push(w) });
  const b = Buffer.from('NICK a\rUSER b\rJOIN #c\r');
  c.data(0, b, 0, b.length, 0);
  c.data(1, b, 0, b.length, 0);
  assert.deepEqual(weirds, ['line_terminated_with_single_CR']);
});
