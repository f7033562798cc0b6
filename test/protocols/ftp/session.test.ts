import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TcpFlag } from '../../../src/decode/packet.js';
import { TcpSession } from '../../../src/flow/tcp.js';
import { FtpDataChannel, FtpDataSession, FtpSession, FTP_MAX_OPEN_TX, FTP_MAX_REPLY_LINES, type FtpTransaction } from '../../../src/protocols/ftp/session.js';
import { FakeOutput, flowOf, sha256, words } from './harness.js';

const CLIENT = '10.0.0.5';
const SERVER = '192.0.2.10';

function control(options: { maxLine?: number } = {}): { s: FtpSession; out: FakeOutput } {
  const out = new FakeOutput();
  return { s: new FtpSession(flowOf(CLIENT, 1035, SERVER, 21), out, options), out };
}

/** Feeds a side as one chunk. */
function say(s: FtpSession, dir: number, text: string): void {
  const b = Buffer.from(text, 'latin1');
  s.data(dir, b, 0, b.length);
}

describe('FTP control session', () => {
  test('the greeting makes an UNKNOWN transaction; each command one transaction with its reply', () => {
    const { s, out } = control();
    say(s, 1, '220 (vsFTPd 3.0.3)\r\n');
    say(s, 0, 'USER anonymous\r\n');
    say(s, 1, '331 Please specify the password.\r\n');
    say(s, 0, 'PASS x@y\r\n');
    say(s, 1, '230 Login successful.\r\n');
    s.close();
    assert.deepEqual(out.bodies('ftp'), [
      { command: 'UNKNOWN', completion_code: ['220'], reply: ['(vsFTPd 3.0.3)'], reply_received: 'yes', reply_truncated: false },
      { command: 'USER', command_data: 'anonymous', command_truncated: false, completion_code: ['331'], reply: ['Please specify the password.'], reply_received: 'yes', reply_truncated: false },
      { command: 'PASS', command_data: 'x@y', command_truncated: false, completion_code: ['230'], reply: ['Login successful.'], reply_received: 'yes', reply_truncated: false },
    ]);
    assert.deepEqual(
      out.records.map((r) => [r.txId, r.dir]),
      [
        [0, 0],
        [1, 0],
        [2, 0],
      ],
    );
  });

  test('inspect: side 0 when the command is parsed, side 1 when its final reply arrives', () => {
    const { s, out } = control();
    say(s, 0, 'RETR a\r\n');
    assert.deepEqual(out.inspected.map((i) => i.dir), [0]);
    say(s, 1, '150 Opening\r\n');
    assert.deepEqual(out.inspected.map((i) => i.dir), [0], 'a preliminary reply does not complete it');
    say(s, 1, '226 Done\r\n');
    assert.deepEqual(out.inspected.map((i) => i.dir), [0, 1]);
    const tx = out.inspected[0]!.tx as FtpTransaction;
    assert.equal(Buffer.from(tx.buffer('ftp.command', 0)!).toString(), 'RETR');
    assert.equal(Buffer.from(tx.buffer('ftp.command_data', 0)!).toString(), 'a');
    assert.equal(tx.buffer('ftp.command', 1), null);
    assert.deepEqual(tx.alertMetadata(), { ftp: { command: 'RETR', command_data: 'a', command_truncated: false, completion_code: ['150', '226'], reply: ['Opening', 'Done'], reply_received: 'yes', reply_truncated: false } });
  });

  test('a multi-line reply belongs to one command and completes it at its last line', () => {
    const { s, out } = control();
    say(s, 0, 'USER a\r\nPASS b\r\n');
    say(s, 1, '230-Welcome\r\n');
    say(s, 1, ' to the server\r\n331 looks like a code but is not the end\r\n');
    say(s, 1, '230 Logged in\r\n530 second reply\r\n');
    s.close();
    const [user, pass] = out.bodies('ftp');
    assert.deepEqual(user!.completion_code, ['230', '331', '230']);
    assert.deepEqual(user!.reply, ['Welcome', ' to the server', 'looks like a code but is not the end', 'Logged in']);
    assert.deepEqual(pass!.completion_code, ['530']);
  });

  test('a reply code alone gives a completion code and no reply (suricata-verify ftp-reply-code-no-message)', () => {
    const { s, out } = control();
    say(s, 0, 'QUIT\r\n');
    say(s, 1, '221 \r\n');
    assert.deepEqual(out.bodies('ftp'), [{ command: 'QUIT', completion_code: ['221'], reply_received: 'yes', reply_truncated: false }]);
  });

  test('commands left unanswered are logged at the end with reply_received no', () => {
    const { s, out } = control();
    say(s, 0, 'USER a\r\nNOOP\r\n');
    assert.equal(out.records.length, 0);
    s.close();
    assert.deepEqual(
      out.bodies('ftp').map((b) => [b.command, b.reply_received]),
      [
        ['USER', 'no'],
        ['NOOP', 'no'],
      ],
    );
  });

  test('unknown commands make no transaction; a reply that answers nothing open makes an UNKNOWN one', () => {
    const { s, out } = control();
    say(s, 0, 'FEAT\r\n');
    say(s, 1, '211-Features:\r\n MDTM\r\n211 End\r\n');
    s.close();
    assert.deepEqual(out.bodies('ftp'), [{ command: 'UNKNOWN', completion_code: ['211', '211'], reply: ['Features:', ' MDTM', 'End'], reply_received: 'yes', reply_truncated: false }]);
  });

  test('a reply in the same chunk after the last command completed joins it (Suricata logs per chunk)', () => {
    const { s, out } = control();
    say(s, 0, 'USER a\r\n');
    say(s, 1, '331 ok\r\n550 extra\r\n');
    say(s, 1, '500 later\r\n');
    s.close();
    assert.deepEqual(
      out.bodies('ftp').map((b) => [b.command, b.completion_code]),
      [
        ['USER', ['331', '550']],
        ['UNKNOWN', ['500']],
      ],
    );
  });

  test('an over-long command is cut, flagged, and raises request_command_too_long', () => {
    const { s, out } = control({ maxLine: 32 });
    say(s, 0, `RETR ${'A'.repeat(100)}\r\nRETR index.html\r\n`);
    say(s, 1, '550 no\r\n550 no\r\n');
    const [long, short] = out.bodies('ftp');
    assert.equal(long!.command_data, 'A'.repeat(27));
    assert.equal(long!.command_truncated, true);
    assert.equal(short!.command_data, 'index.html');
    assert.equal(short!.command_truncated, false);
    assert.deepEqual(out.anomalies, [{ event: 'request_command_too_long', dir: 0 }]);
  });

  test('an over-long reply is cut, flagged reply_truncated, and raises response_command_too_long', () => {
    const { s, out } = control({ maxLine: 32 });
    say(s, 0, 'PASV\r\n');
    say(s, 1, `227 ${'A'.repeat(200)}`);
    say(s, 1, `${'A'.repeat(200)}\r\n`);
    assert.equal(out.bodies('ftp')[0]!.reply_truncated, true);
    assert.deepEqual(out.anomalies, [{ event: 'response_command_too_long', dir: 1 }]);
  });

  test('PASV: dynamic_port, and a passive data connection expected from the client to the server', () => {
    const { s, out } = control();
    say(s, 0, 'PASV\r\n');
    say(s, 1, '227 Entering Passive Mode (192,0,2,10,195,80).\r\n');
    assert.equal(out.bodies('ftp')[0]!.dynamic_port, 50000);
    assert.equal(out.bodies('ftp')[0]!.mode, undefined, 'Suricata writes mode for PORT and EPRT only');
    const e = out.expectations[0]!;
    assert.equal(e.proto, 'ftp-data');
    assert.deepEqual([...e.serverAddr], words(SERVER));
    assert.equal(e.serverPort, 50000);
    assert.deepEqual([...e.clientAddr!], words(CLIENT));
    const ch = e.context as FtpDataChannel;
    assert.equal(ch.active, false);
    assert.equal(ch.command, null);
    say(s, 0, 'RETR egg.exe\r\n');
    assert.equal(ch.command, 'RETR');
    assert.equal(Buffer.from(ch.filename!).toString(), 'egg.exe');
    assert.equal(ch.fileDirection, 1, 'a passive download flows to the data connection client');
    assert.equal(out.expectations.length, 2, 'announced again at the transfer command, for a fresh timeout');
    assert.equal(out.expectations[1]!.context, ch);
  });

  test('EPSV: port from the 229 reply, server address from the control connection', () => {
    const { s, out } = control();
    say(s, 0, 'EPSV\r\n');
    say(s, 1, '229 Entering Extended Passive Mode (|||48758|)\r\n');
    assert.equal(out.expectations[0]!.serverPort, 48758);
    assert.deepEqual([...out.expectations[0]!.serverAddr], words(SERVER));
  });

  test('PORT: an active data connection expected from the server to the client; mode active once replied', () => {
    const { s, out } = control();
    say(s, 0, 'PORT 10,0,0,5,4,17\r\n');
    const e = out.expectations[0]!;
    assert.deepEqual([...e.serverAddr], words(CLIENT));
    assert.equal(e.serverPort, 1041);
    assert.deepEqual([...e.clientAddr!], words(SERVER));
    say(s, 1, '200 PORT command successful.\r\n');
    say(s, 0, 'STOR up.bin\r\n');
    const ch = e.context as FtpDataChannel;
    assert.equal(ch.command, 'STOR');
    assert.equal(ch.fileDirection, 1, 'an active upload flows to the data connection server... which is the FTP client');
    const port = out.bodies('ftp')[0]!;
    assert.equal(port.dynamic_port, 1041);
    assert.equal(port.mode, 'active');
  });

  test('PORT unanswered: mode passive and no dynamic_port, as Suricata writes it', () => {
    const { s, out } = control();
    say(s, 0, 'EPRT |1|10.0.0.5|6275|\r\n');
    s.close();
    assert.deepEqual(out.bodies('ftp')[0], { command: 'EPRT', command_data: '|1|10.0.0.5|6275|', command_truncated: false, mode: 'passive', reply_received: 'no', reply_truncated: false });
    assert.equal(out.expectations[0]!.serverPort, 6275);
  });

  test('a malformed PORT announces nothing', () => {
    const { s, out } = control();
    say(s, 0, 'PORT 10,0,0,5,999,1\r\nPORT\r\n');
    assert.equal(out.expectations.length, 0);
  });

  test('a listing uses the channel too, so a later RETR does not take it', () => {
    const { s, out } = control();
    say(s, 0, 'PASV\r\n');
    say(s, 1, '227 ok (1,2,3,4,5,6)\r\n');
    say(s, 0, 'LIST\r\nRETR x\r\n');
    const ch = out.expectations[0]!.context as FtpDataChannel;
    assert.equal(ch.command, 'LIST');
    assert.equal(ch.filename, null);
  });

  test('AUTH TLS accepted: nothing after the 234 is read as FTP', () => {
    const { s, out } = control();
    say(s, 0, 'AUTH TLS\r\n');
    say(s, 1, '234 Proceed with negotiation.\r\n\x16\x03\x01\x00\x05hello\n');
    say(s, 0, '\x16\x03\x01\x02\x00\x01\x00\x01\xfcUSER x\r\n');
    s.close();
    assert.equal(s.encrypted, true);
    assert.deepEqual(
      out.bodies('ftp').map((b) => [b.command, b.completion_code]),
      [['AUTH_TLS', ['234']]],
    );
  });

  test('AUTH TLS refused: FTP goes on', () => {
    const { s, out } = control();
    say(s, 0, 'AUTH TLS\r\n');
    say(s, 1, '530 Please login with USER and PASS.\r\n');
    say(s, 0, 'USER a\r\n');
    s.close();
    assert.equal(s.encrypted, false);
    assert.equal(out.bodies('ftp').length, 2);
  });

  test('commands never answered are bounded: the oldest is logged and dropped past FTP_MAX_OPEN_TX', () => {
    const { s, out } = control();
    say(s, 0, 'NOOP\r\n'.repeat(FTP_MAX_OPEN_TX + 10));
    assert.equal(s.openTransactions, FTP_MAX_OPEN_TX);
    assert.equal(out.records.length, 10);
    assert.equal(out.anomalies.filter((a) => a.event === 'too_many_transactions').length, 10);
  });

  test('reply lines per command are bounded; the rest is dropped and reply_truncated is set', () => {
    const { s, out } = control();
    say(s, 0, 'STAT\r\n');
    say(s, 1, `211-status\r\n${' line\r\n'.repeat(FTP_MAX_REPLY_LINES * 3)}211 end\r\n`);
    const stat = out.bodies('ftp')[0]!;
    assert.equal((stat.reply as string[]).length, FTP_MAX_REPLY_LINES);
    assert.equal(stat.reply_truncated, true);
    assert.equal(stat.reply_received, 'yes');
  });

  test('a gap in the replies drops the cut line and ends a multi-line reply', () => {
    const { s, out } = control();
    say(s, 0, 'HELP\r\nNOOP\r\n');
    say(s, 1, '214-help\r\n par');
    s.gap(1, 500);
    say(s, 1, 'tial\r\n200 ok\r\n');
    s.close();
    const [help, noop] = out.bodies('ftp');
    assert.deepEqual(help!.reply, ['help', 'ok']);
    assert.equal(help!.reply_received, 'yes');
    assert.equal(noop!.reply_received, 'no');
  });

  test('non-UTF-8 bytes in a file name are written as \\xNN, as Suricata does', () => {
    const { s, out } = control();
    s.data(0, Buffer.from([...Buffer.from('RETR a'), 0xff, 0x0d, 0x0a]), 0, 9);
    s.close();
    assert.equal(out.bodies('ftp')[0]!.command_data, 'a\\xff');
  });
});

describe('FTP data session', () => {
  const tcpFlow = (flags: { toServer?: number; toClient?: number } = {}): ReturnType<typeof flowOf> => {
    const f = flowOf(CLIENT, 1036, SERVER, 50000);
    f.tcp = new TcpSession();
    f.tcp.flagsToServer = flags.toServer ?? TcpFlag.ACK;
    f.tcp.flagsToClient = flags.toClient ?? TcpFlag.ACK;
    return f;
  };
  const channel = (active: boolean, command: string | null, name: string | null): FtpDataChannel => {
    const c = new FtpDataChannel(active, 50000);
    c.command = command;
    c.filename = name === null ? null : Buffer.from(name);
    return c;
  };
  const send = (d: FtpDataSession, dir: number, bytes: Uint8Array): void => d.data(dir, bytes, 0, bytes.length);

  test('a passive RETR: the server side into the file, CLOSED at its FIN, then ftp_data and fileinfo', () => {
    const out = new FakeOutput();
    const d = new FtpDataSession(tcpFlow({ toClient: TcpFlag.ACK | TcpFlag.FIN }), out, channel(false, 'RETR', 'egg.exe'));
    const body = Buffer.alloc(3000, 7);
    send(d, 0, Buffer.from('ignored: wrong direction'));
    send(d, 1, body.subarray(0, 1000));
    send(d, 1, body.subarray(1000));
    d.close();
    assert.deepEqual(out.records.map((r) => [r.eventType, r.body, r.dir, r.txId]), [['ftp_data', { filename: 'egg.exe', command: 'RETR' }, 0, 0]]);
    const f = out.files[0]!;
    assert.deepEqual([f.filename, f.size, f.sha256, f.state, f.direction, f.tx_id], ['egg.exe', 3000, sha256(body), 'CLOSED', 'to_client', 0]);
    assert.deepEqual(out.inspected.map((i) => i.dir), [1]);
    assert.equal(Buffer.from(d.tx.buffer('file.name')!).toString(), 'egg.exe');
    assert.deepEqual(d.tx.alertMetadata(), { ftp_data: { filename: 'egg.exe', command: 'RETR' } });
  });

  test("the sender's end (FIN, data delivered) finishes the file at once: ftp_data then fileinfo, CLOSED", () => {
    const out = new FakeOutput();
    const d = new FtpDataSession(tcpFlow(), out, channel(false, 'RETR', 'egg.exe'));
    send(d, 1, Buffer.from('MZ'));
    d.end(0);
    assert.equal(out.files.length, 0, "the other side's end is not the file's");
    d.end(1);
    assert.deepEqual(out.records.map((r) => r.eventType), ['ftp_data']);
    assert.equal(out.files[0]!.state, 'CLOSED');
    send(d, 1, Buffer.from('late'));
    d.close();
    assert.equal(out.files.length, 1);
    assert.equal(out.files[0]!.size, 2);
  });

  test("an empty RETR ends with the sender's end: the record, no file", () => {
    const out = new FakeOutput();
    const d = new FtpDataSession(tcpFlow(), out, channel(true, 'RETR', 'empty'));
    d.end(0);
    assert.deepEqual(out.bodies('ftp_data'), [{ filename: 'empty', command: 'RETR' }]);
    assert.equal(out.files.length, 0);
  });

  test('no FIN or RST (timeout, end of capture): TRUNCATED', () => {
    const out = new FakeOutput();
    const d = new FtpDataSession(tcpFlow(), out, channel(false, 'RETR', 'a'));
    send(d, 1, Buffer.from('MZ'));
    d.close();
    assert.equal(out.files[0]!.state, 'TRUNCATED');
  });

  test('a gap in the file: TRUNCATED even with a FIN', () => {
    const out = new FakeOutput();
    const d = new FtpDataSession(tcpFlow({ toClient: TcpFlag.FIN }), out, channel(false, 'RETR', 'a'));
    send(d, 1, Buffer.from('MZ'));
    d.gap(1, 100);
    send(d, 1, Buffer.from('more'));
    d.close();
    assert.equal(out.files[0]!.state, 'TRUNCATED');
    assert.equal(out.files[0]!.size, 6);
  });

  test('an active STOR: the file flows to the data connection server', () => {
    const out = new FakeOutput();
    const d = new FtpDataSession(tcpFlow({ toServer: TcpFlag.FIN }), out, channel(true, 'STOR', 'up.bin'));
    send(d, 0, Buffer.from('not this side'));
    send(d, 1, Buffer.from('payload'));
    d.close();
    assert.equal(out.files[0]!.direction, 'to_client');
    assert.equal(out.files[0]!.size, 7);
    // The sender of an active upload is the data connection's server: its FIN is in flagsToClient, which this flow lacks.
    assert.equal(out.files[0]!.state, 'TRUNCATED');
  });

  test('a listing carries no file and writes no record (Suricata follows RETR and STOR only)', () => {
    const out = new FakeOutput();
    const d = new FtpDataSession(tcpFlow({ toClient: TcpFlag.FIN }), out, channel(false, 'LIST', null));
    send(d, 1, Buffer.from('-rw-r--r-- 1 ftp ftp 3000 Apr 21 egg.exe\r\n'));
    d.close();
    assert.equal(out.records.length + out.files.length, 0);
  });

  test('bytes before the command is known: the first sender is taken, the name comes at the end', () => {
    const out = new FakeOutput();
    const ch = channel(false, null, null);
    const d = new FtpDataSession(tcpFlow({ toClient: TcpFlag.FIN }), out, ch);
    send(d, 1, Buffer.from('early'));
    ch.command = 'RETR';
    ch.filename = Buffer.from('late.bin');
    send(d, 1, Buffer.from(' bytes'));
    d.close();
    assert.equal(out.files[0]!.filename, 'late.bin');
    assert.equal(out.files[0]!.size, 11);
  });

  test('bytes before the command is known, which turns out a listing: nothing is reported', () => {
    const out = new FakeOutput();
    const ch = channel(false, null, null);
    const d = new FtpDataSession(tcpFlow({ toClient: TcpFlag.FIN }), out, ch);
    send(d, 1, Buffer.from('drwx'));
    ch.command = 'NLST';
    d.close();
    assert.equal(out.records.length + out.files.length, 0);
  });

  test('a RETR that moved no byte: the ftp_data record, no file', () => {
    const out = new FakeOutput();
    const d = new FtpDataSession(tcpFlow({ toClient: TcpFlag.FIN }), out, channel(false, 'RETR', 'empty'));
    d.close();
    d.close();
    assert.equal(out.records.length, 1);
    assert.equal(out.files.length, 0);
  });

  test('a hole before the first byte marks the file TRUNCATED', () => {
    const out = new FakeOutput();
    const d = new FtpDataSession(tcpFlow({ toClient: TcpFlag.FIN }), out, channel(false, 'RETR', 'x'));
    d.gap(1, 1460);
    send(d, 1, Buffer.from('tail'));
    d.close();
    assert.equal(out.files[0]!.state, 'TRUNCATED');
  });
});
