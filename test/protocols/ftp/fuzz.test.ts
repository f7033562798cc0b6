import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TcpFlag } from '../../../src/decode/packet.js';
import { TcpSession } from '../../../src/flow/tcp.js';
import { probeFtp } from '../../../src/protocols/ftp/index.js';
import { FtpLineReader, parseCommand, parseEprt, parseEpsvReply, parsePasvReply, parsePort } from '../../../src/protocols/ftp/parse.js';
import { FtpDataChannel, FtpDataSession, FtpSession, FTP_MAX_OPEN_TX, FTP_MAX_REPLY_LINES } from '../../../src/protocols/ftp/session.js';
import { FakeOutput, flowOf, rng } from './harness.js';

const randomBytes = (r: () => number, n: number, alphabet?: Uint8Array): Uint8Array => {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = alphabet === undefined ? Math.floor(r() * 256) : alphabet[Math.floor(r() * alphabet.length)]!;
  return out;
};

/** Bytes that make FTP-looking noise: digits, letters of verbs, separators, CR, LF. */
const FTP_ALPHABET = Buffer.from('0123456789 ,|()-.\r\n\r\nRETRSTORPASVEPSVPORTEPRTUSERAUTHTLS227229150226\x00\xff');

/** One conversation, as [side, bytes] messages in order. */
const CONVERSATION: Array<[number, string]> = [
  [1, '220-Welcome to\r\n220 the FTP server\r\n'],
  [0, 'USER anonymous\r\n'],
  [1, '331 Please specify the password.\r\n'],
  [0, 'PASS guest@\r\n'],
  [1, '230 Login successful.\r\n'],
  [0, 'PASV\r\n'],
  [1, '227 Entering Passive Mode (192,0,2,10,195,80).\r\n'],
  [0, 'RETR egg.exe\r\n'],
  [1, '150 Opening BINARY mode data connection.\r\n'],
  [1, '226 Transfer complete.\r\n'],
  [0, 'EPRT |1|10.0.0.5|6275|\r\n'],
  [1, '200 EPRT command successful.\r\n'],
  [0, 'STOR up.bin\r\n'],
  [1, '150 Ok to send data.\r\n226 Transfer complete.\r\n'],
  [0, 'QUIT\r\n'],
  [1, '221 Goodbye.\r\n'],
];

/** Feeds messages to a session, each cut into random chunks. */
function feed(s: FtpSession, messages: Array<[number, Uint8Array]>, r: () => number): void {
  for (const [dir, bytes] of messages) {
    let at = 0;
    while (at < bytes.length) {
      const n = 1 + Math.floor(r() * Math.min(64, bytes.length - at));
      s.data(dir, bytes, at, n);
      at += n;
    }
  }
}

function mutate(r: () => number, b: Uint8Array): Uint8Array {
  const out = [...b];
  const edits = 1 + Math.floor(r() * 4);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(r() * (out.length + 1));
    const kind = r();
    if (kind < 0.4 && out.length > 0) out[Math.min(at, out.length - 1)] = Math.floor(r() * 256);
    else if (kind < 0.7) out.splice(at, 0, ...randomBytes(r, 1 + Math.floor(r() * 8), FTP_ALPHABET));
    else out.splice(at, 1 + Math.floor(r() * 8));
  }
  return Uint8Array.from(out);
}

describe('FTP fuzz: parsers', () => {
  test('the line reader: random bytes in random chunks, lines within the cap, the partial line held below it', () => {
    const r = rng(1);
    for (let round = 0; round < 300; round++) {
      const max = 8 + Math.floor(r() * 200);
      const reader = new FtpLineReader(max);
      const data = randomBytes(r, Math.floor(r() * 2000), r() < 0.5 ? FTP_ALPHABET : undefined);
      let at = 0;
      while (at < data.length) {
        const n = 1 + Math.floor(r() * 100);
        if (r() < 0.05) reader.gap();
        reader.push(data, at, Math.min(n, data.length - at), (line, truncated) => {
          assert.ok(line.length <= max);
          if (!truncated) assert.equal(line.indexOf(0x0a), -1);
          else assert.equal(line.length, max);
        });
        at += n;
        assert.ok(reader.buffered < max);
      }
    }
  });

  test('commands, PORT, EPRT, 227 and 229: random and FTP-like bytes never throw, ports stay in 1..65535', () => {
    const r = rng(2);
    for (let i = 0; i < 20000; i++) {
      const b = randomBytes(r, Math.floor(r() * 80), r() < 0.7 ? FTP_ALPHABET : undefined);
      parseCommand(b);
      for (const ep of [parsePort(b), parseEprt(b), parsePasvReply(b), parseEpsvReply(b)]) {
        if (ep !== null) assert.ok(ep.port >= 1 && ep.port <= 65535);
      }
    }
  });

  test('the probe: random bytes, either side, any port, answer yes, no or more and never throw', () => {
    const r = rng(3);
    for (let i = 0; i < 20000; i++) {
      const b = randomBytes(r, Math.floor(r() * 1100), r() < 0.5 ? FTP_ALPHABET : undefined);
      assert.ok(['yes', 'no', 'more'].includes(probeFtp(i & 1, b, r() < 0.5 ? 21 : Math.floor(r() * 65536))));
    }
  });
});

describe('FTP fuzz: sessions', () => {
  test('random bytes both ways, random chunks and gaps: no exception, transactions bounded', () => {
    const r = rng(4);
    for (let round = 0; round < 200; round++) {
      const out = new FakeOutput();
      const s = new FtpSession(flowOf('10.0.0.5', 1035, '192.0.2.10', 21), out, { maxLine: 16 + Math.floor(r() * 300) });
      for (let k = 0; k < 50; k++) {
        const b = randomBytes(r, Math.floor(r() * 300), r() < 0.8 ? FTP_ALPHABET : undefined);
        const dir = r() < 0.5 ? 0 : 1;
        if (r() < 0.05) s.gap(dir, 10);
        else s.data(dir, b, 0, b.length);
        assert.ok(s.openTransactions <= FTP_MAX_OPEN_TX);
      }
      s.close();
      for (const rec of out.bodies('ftp')) {
        assert.equal(typeof rec.command, 'string');
        assert.ok(((rec.reply as unknown[] | undefined)?.length ?? 0) <= FTP_MAX_REPLY_LINES);
      }
    }
  });

  test('a conversation mutated: no exception, and every record has the fields Suricata always writes', () => {
    const r = rng(5);
    for (let round = 0; round < 500; round++) {
      const out = new FakeOutput();
      const s = new FtpSession(flowOf('10.0.0.5', 1035, '192.0.2.10', 21), out);
      feed(
        s,
        CONVERSATION.map(([d, t]) => [d, r() < 0.3 ? mutate(r, Buffer.from(t, 'latin1')) : Buffer.from(t, 'latin1')]),
        r,
      );
      s.close();
      for (const rec of out.bodies('ftp')) {
        assert.ok(rec.reply_received === 'yes' || rec.reply_received === 'no');
        assert.equal(typeof rec.reply_truncated, 'boolean');
      }
      for (const e of out.expectations) assert.ok(e.serverPort >= 1 && e.serverPort <= 65535);
    }
  });

  test('chunking does not change the records of a well-formed conversation', () => {
    const whole = new FakeOutput();
    const s0 = new FtpSession(flowOf('10.0.0.5', 1035, '192.0.2.10', 21), whole);
    for (const [d, t] of CONVERSATION) s0.data(d, Buffer.from(t, 'latin1'), 0, t.length);
    s0.close();
    assert.equal(whole.records.length, 8); // the greeting, USER, PASS, PASV, RETR, EPRT, STOR, QUIT
    const r = rng(6);
    for (let round = 0; round < 100; round++) {
      const out = new FakeOutput();
      const s = new FtpSession(flowOf('10.0.0.5', 1035, '192.0.2.10', 21), out);
      feed(
        s,
        CONVERSATION.map(([d, t]) => [d, Buffer.from(t, 'latin1')]),
        r,
      );
      s.close();
      assert.deepEqual(out.records, whole.records);
      assert.deepEqual(
        out.expectations.map((e) => e.serverPort),
        whole.expectations.map((e) => e.serverPort),
      );
    }
  });

  test('memory stays bounded under a flood: megabytes without LF, and commands never answered', () => {
    const out = new FakeOutput();
    const s = new FtpSession(flowOf('10.0.0.5', 1035, '192.0.2.10', 21), out);
    const junk = Buffer.alloc(1 << 20, 0x41);
    for (let i = 0; i < 8; i++) s.data(0, junk, 0, junk.length);
    for (let i = 0; i < 8; i++) s.data(1, junk, 0, junk.length);
    const noops = Buffer.from('NOOP\r\n'.repeat(5000));
    s.data(0, noops, 0, noops.length);
    assert.equal(s.openTransactions, FTP_MAX_OPEN_TX);
    s.close();
    assert.equal(s.openTransactions, 0);
  });

  test('the data session: random data, gaps and ends in any order report at most one file and one record', () => {
    const r = rng(7);
    for (let round = 0; round < 300; round++) {
      const out = new FakeOutput();
      const flow = flowOf('10.0.0.5', 1036, '192.0.2.10', 50000);
      flow.tcp = new TcpSession();
      flow.tcp.flagsToClient = r() < 0.5 ? TcpFlag.FIN : 0;
      const ch = new FtpDataChannel(r() < 0.5, 50000);
      const commands = [null, 'RETR', 'STOR', 'LIST', 'NLST'];
      ch.command = commands[Math.floor(r() * commands.length)]!;
      ch.filename = randomBytes(r, Math.floor(r() * 20));
      const d = new FtpDataSession(flow, out, ch);
      for (let k = 0; k < 30; k++) {
        const dir = r() < 0.5 ? 0 : 1;
        const x = r();
        if (x < 0.1) d.gap(dir, 100);
        else if (x < 0.15) d.end(dir);
        else if (x < 0.17) ch.command = commands[Math.floor(r() * commands.length)]!;
        else {
          const b = randomBytes(r, Math.floor(r() * 200));
          d.data(dir, b, 0, b.length);
        }
      }
      d.close();
      assert.ok(out.files.length <= 1);
      assert.ok(out.records.length <= 1);
      if (out.files.length === 1) assert.equal(out.records.length, 1);
    }
  });
});
