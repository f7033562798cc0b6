import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  endsMultiline,
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
  trimEnd,
} from '../../../src/protocols/ftp/parse.js';

const b = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const s = (u: Uint8Array | null): string | null => (u === null ? null : Buffer.from(u).toString('latin1'));

/** Feeds chunks, returns [line, truncated] pairs. */
function split(reader: FtpLineReader, ...chunks: string[]): Array<[string, boolean]> {
  const out: Array<[string, boolean]> = [];
  for (const c of chunks) {
    const buf = b(c);
    reader.push(buf, 0, buf.length, (line, truncated) => out.push([s(line)!, truncated]));
  }
  return out;
}

describe('FTP line reader', () => {
  test('splits at LF and drops the CR before it, across chunks', () => {
    assert.deepEqual(split(new FtpLineReader(), 'USER a\r\nPA', 'SS b\r', '\nQUIT\n'), [
      ['USER a', false],
      ['PASS b', false],
      ['QUIT', false],
    ]);
  });

  test('keeps a lone CR inside a line, and empty lines come out empty', () => {
    assert.deepEqual(split(new FtpLineReader(), 'A\rB\r\n\r\n\n'), [
      ['A\rB', false],
      ['', false],
      ['', false],
    ]);
  });

  test('holds a partial line until its LF, and never more than the cap', () => {
    const r = new FtpLineReader(16);
    assert.deepEqual(split(r, 'USER abc'), []);
    assert.equal(r.buffered, 8);
  });

  test('a line reaching the cap without LF goes out cut, and its rest is discarded through its LF', () => {
    const r = new FtpLineReader(16);
    assert.deepEqual(split(r, 'RETR AAAAAAAAAAAAAAAAAAAA', 'BBBB\r\nNOOP\r\n'), [
      ['RETR AAAAAAAAAAA', true],
      ['NOOP', false],
    ]);
    assert.equal(r.buffered, 0);
  });

  test('a line whose LF arrives in the same chunk past the cap is cut and nothing is discarded after it', () => {
    assert.deepEqual(split(new FtpLineReader(16), 'RETR AAAAAAAAAAAAAAAAAAAA\r\nNOOP\r\n'), [
      ['RETR AAAAAAAAAAA', true],
      ['NOOP', false],
    ]);
  });

  test('the delimiter counts towards the cap, as in Suricata', () => {
    // 14 bytes of text and CRLF are 16: at the cap.
    assert.deepEqual(split(new FtpLineReader(16), 'ABCDEFGHIJKLMN\r\nX\r\n'), [
      ['ABCDEFGHIJKLMN\r\n', true],
      ['X', false],
    ]);
    assert.deepEqual(split(new FtpLineReader(16), 'ABCDEFGHIJKLM\r\n'), [['ABCDEFGHIJKLM', false]]);
  });

  test('a cut line that started mid-chunk keeps discarding into the next chunk (suricata-verify mid-slice shape)', () => {
    assert.deepEqual(split(new FtpLineReader(32), `USER a\r\nPORT ${'A'.repeat(27)}`, 'PASS s3cret\r\nQUIT\r\n'), [
      ['USER a', false],
      [`PORT ${'A'.repeat(27)}`, true],
      ['QUIT', false],
    ]);
  });

  test('a gap drops the line it cuts and the bytes up to the next LF', () => {
    const r = new FtpLineReader();
    const lines = split(r, 'USER a');
    r.gap();
    lines.push(...split(r, 'rest of it\r\nQUIT\r\n'));
    assert.deepEqual(lines, [['QUIT', false]]);
  });

  test('byte at a time gives the same lines', () => {
    const text = 'USER a\r\n220-x\r\n220 y\r\n';
    const r = new FtpLineReader();
    assert.deepEqual(split(r, ...text.split('')), split(new FtpLineReader(), text));
  });
});

describe('FTP command lines', () => {
  test('verb and argument, as Suricata names and cuts them', () => {
    assert.deepEqual(
      [parseCommand(b('RETR egg.exe'))].map((c) => c && { command: c.command, data: s(c.data) }),
      [{ command: 'RETR', data: 'egg.exe' }],
    );
    const lower = parseCommand(b('user anonymous'))!;
    assert.equal(lower.command, 'USER');
    assert.equal(s(lower.data), 'anonymous');
  });

  test('no argument, and an argument that keeps its leading spaces (one separator only)', () => {
    assert.equal(parseCommand(b('PASV'))!.data, null);
    assert.equal(s(parseCommand(b('USER  two'))!.data), ' two');
  });

  test('AUTH counts only as AUTH TLS, logged AUTH_TLS', () => {
    assert.deepEqual(parseCommand(b('AUTH TLS')), { command: 'AUTH_TLS', data: null });
    assert.equal(s(parseCommand(b('AUTH TLS-C'))!.data), 'C');
    assert.equal(parseCommand(b('AUTH SSL')), null);
    assert.equal(isAuthTls(b('AUTH SSL')), true);
    assert.equal(isAuthTls(b('AUTH PLAIN')), false);
  });

  test('unknown verbs, verbs too long, leading space and empty lines make no command', () => {
    for (const line of ['FEAT', 'XPWD', 'HELLOWORLD x', ' USER a', '', 'USERX a', 'RETRIEVE x']) assert.equal(parseCommand(b(line)), null, line);
  });

  test('trimEnd removes what C isspace calls space', () => {
    assert.equal(s(trimEnd(b('PWD \t\r\n\v\f'))), 'PWD');
    assert.equal(s(trimEnd(b('   '))), '');
  });
});

describe('FTP reply lines', () => {
  test('codes, multi-line markers, preliminary replies', () => {
    assert.equal(replyCode(b('220 ready')), '220');
    assert.equal(replyCode(b('22 x')), null);
    assert.equal(replyCode(b('2a0 x')), null);
    assert.equal(opensMultiline(b('230-Welcome')), true);
    assert.equal(opensMultiline(b('230 Welcome')), false);
    assert.equal(endsMultiline(b('230 done'), '230'), true);
    assert.equal(endsMultiline(b('230'), '230'), true);
    assert.equal(endsMultiline(b('230-more'), '230'), false);
    assert.equal(endsMultiline(b('231 done'), '230'), false);
    assert.equal(endsMultiline(b(' 230 done'), '230'), false);
    assert.equal(isPreliminary(b('150 Opening')), true);
    assert.equal(isPreliminary(b('150')), false);
    assert.equal(isPreliminary(b('250 ok')), false);
  });
});

describe('FTP data-connection announcements', () => {
  const ep = (e: { address: Uint32Array | null; port: number } | null): { address: number[] | null; port: number } | null =>
    e === null ? null : { address: e.address === null ? null : [...e.address], port: e.port };
  const v4 = (a: number, b2: number, c: number, d: number): number[] => [0, 0, 0xffff, ((a << 24) | (b2 << 16) | (c << 8) | d) >>> 0];

  test('PORT: the six numbers (Suricata: PORT 192,168,0,13,234,10 is port 59914)', () => {
    assert.deepEqual(ep(parsePort(b('192,168,0,13,234,10'))), { address: v4(192, 168, 0, 13), port: 59914 });
    assert.deepEqual(ep(parsePort(b(' 10, 0, 0, 5, 4, 17'))), { address: v4(10, 0, 0, 5), port: 1041 });
  });

  test('PORT: every malformed kind is refused', () => {
    for (const arg of ['212,27,32,66,257,243', '212,27,32,66,255,65535', '1,2,3,4,5', '1,2,3,4,0,0', 'a,b,c,d,e,f', '1,2,3,4,5,6x', '', '1;2;3;4;5;6', '1,2,3,256,5,6']) {
      assert.equal(parsePort(b(arg)), null, arg);
    }
  });

  test('EPRT: IPv4 and IPv6, any delimiter (RFC 2428 examples)', () => {
    assert.deepEqual(ep(parseEprt(b('|1|132.235.1.2|6275|'))), { address: v4(132, 235, 1, 2), port: 6275 });
    assert.deepEqual(ep(parseEprt(b('!2!2a01:e34:ee97:b130:8c3e:45ea:5ac6:e301!41813!')))!.port, 41813);
    assert.deepEqual(ep(parseEprt(b('|2|::1|5282|'))), { address: [0, 0, 0, 1], port: 5282 });
  });

  test('EPRT: every malformed kind is refused', () => {
    for (const arg of [
      '|2|2a01:e34:ee97:b130:8c3e:45ea:5ac6:e301|81813|', // port too large (Suricata's test)
      '|1|132.235.1.2|0|',
      '|3|132.235.1.2|6275|', // unknown family
      '|1|132.235.1.256|6275|',
      '|2|not:an::address::|6275|',
      '|1|132.235.1.2|6275', // unterminated
      '1|132.235.1.2|6275|',
      ' |1|1.2.3.4|5|',
      '|1|1.2.3.4|5|extra|',
      `|1|${'1'.repeat(80)}|5|`,
    ]) {
      assert.equal(parseEprt(b(arg)), null, arg);
    }
  });

  test('227: with and without parentheses (Suricata: 212,27,32,66,221,243 is port 56819)', () => {
    assert.deepEqual(ep(parsePasvReply(b('227 Entering Passive Mode (212,27,32,66,221,243).'))), { address: v4(212, 27, 32, 66), port: 56819 });
    assert.deepEqual(ep(parsePasvReply(b('227 Entering Passive Mode 2 (1,2,3,4,5,6)'))), { address: v4(1, 2, 3, 4), port: 1286 });
    assert.deepEqual(ep(parsePasvReply(b('227 =10,0,0,1,200,10')))!.port, 51210);
  });

  test('227: every malformed kind is refused', () => {
    for (const line of ['227 Entering Passive Mode (212,27,32,66,257,243).', '227 Entering Passive Mode (1,2,3,4,5)', '227 no numbers', '227', '228 (1,2,3,4,5,6)', '227-(1,2,3,4,5,6)', `227 ${'A'.repeat(4000)}`, '227 (1,2,3,4,0,0)']) {
      assert.equal(parsePasvReply(b(line)), null, line.slice(0, 40));
    }
  });

  test('229: the port between the delimiters', () => {
    assert.deepEqual(ep(parseEpsvReply(b('229 Entering Extended Passive Mode (|||48758|).'))), { address: null, port: 48758 });
    assert.deepEqual(ep(parseEpsvReply(b('229 ok (!!!6446!)'))), { address: null, port: 6446 });
  });

  test('229: every malformed kind is refused', () => {
    for (const line of ['229 Entering Extended Passive Mode (|||70000|)', '229 (|||0|)', '229 (||48758|)', '229 (|||48758)', '229 (|!|48758|)', '229 no parens', '227 (|||1|)', '229-(|||1|)']) {
      assert.equal(parseEpsvReply(b(line)), null, line);
    }
  });
});
