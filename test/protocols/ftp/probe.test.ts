import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { probeFtp } from '../../../src/protocols/ftp/index.js';

const b = (s: string): Uint8Array => Buffer.from(s, 'latin1');

describe('FTP probe: the server greeting', () => {
  const cases: Array<[string, number, 'yes' | 'no' | 'more']> = [
    ['220 (vsFTPd 3.0.3)\r\n', 2121, 'yes'],
    ['220 ProFTPD 1.3.5 Server ready.\r\n', 21, 'yes'],
    ['220-FileZilla Server 1.7\r\n220 Please visit https://filezilla-project.org/\r\n', 40000, 'no'], // ended, no word of FTP, not on 21
    ['220-Welcome\r\n220-to the\r\n220 Pure-FTPd server\r\n', 5000, 'yes'],
    ['220 Welcome\r\n', 21, 'yes'],
    ['220 OK\r\n', 5554, 'no'], // no word of FTP away from 21: the client's first command decides
    ['220 mail.example.com ESMTP Postfix\r\n', 25, 'no'],
    ['220 mail.example.com ESMTP Postfix\r\n', 21, 'no'],
    ['220 mx.example.com Microsoft ESMTP MAIL Service ready\r\n', 587, 'no'],
    ['220 host SMTP ready, FTP not here\r\n', 21, 'no'],
    ['220 lmtp.example.com LMTP server ready\r\n', 24, 'no'],
    ['22', 21, 'more'],
    ['220 Welc', 21, 'more'],
    ['220-Welcome\r\n', 2121, 'more'], // a multi-line greeting not ended may still name FTP
    ['230 Logged in\r\n', 21, 'no'],
    ['220Welcome\r\n', 21, 'no'],
    ['+OK POP3 ready\r\n', 110, 'no'],
    ['SSH-2.0-OpenSSH_9.6\r\n', 21, 'no'],
    ['220 \x00\x01binary\r\n', 21, 'no'],
  ];
  for (const [text, port, want] of cases) {
    test(`${JSON.stringify(text.slice(0, 40))} on ${port}: ${want}`, () => assert.equal(probeFtp(1, b(text), port), want));
  }

  test('a greeting that never ends within the probe window is not FTP', () => {
    assert.equal(probeFtp(1, b(`220-${'x'.repeat(1100)}`), 21), 'no');
    assert.equal(probeFtp(1, b(`220-a\r\n${'220-b\r\n'.repeat(200)}`).subarray(0, 1024), 2121), 'no');
  });
});

describe('FTP probe: the client first command', () => {
  const cases: Array<[string, number, 'yes' | 'no' | 'more']> = [
    ['USER anonymous\r\n', 21, 'yes'],
    ['user anonymous\n', 5554, 'yes'],
    ['USER anonymous\r\n', 110, 'no'], // POP3's port: POP3 clients open with USER too
    ['USER nick 0 * :Real Name\r\n', 7000, 'no'], // IRC registration
    ['USER nick host server :Real Name\r\n', 21, 'no'],
    ['USER \r\n', 21, 'no'],
    ['PASS secret\r\n', 21, 'no'], // IRC opens with PASS; FTP never does
    ['NICK bot\r\nUSER bot 0 * :bot\r\n', 6667, 'no'],
    ['EHLO victim\r\n', 25, 'no'],
    ['AUTH TLS\r\n', 21, 'yes'],
    ['AUTH SSL\r\n', 990, 'yes'],
    ['AUTH PLAIN dGVzdA==\r\n', 587, 'no'],
    ['FEAT\r\n', 2121, 'yes'],
    ['SYST\r\n', 2121, 'yes'],
    ['OPTS UTF8 ON\r\n', 21, 'yes'],
    ['QUIT\r\n', 21, 'no'],
    ['LIST\r\n', 119, 'no'],
    ['GET / HTTP/1.1\r\n', 80, 'no'],
    ['US', 21, 'more'],
    ['USER', 21, 'more'],
    ['USER bob', 21, 'more'],
    ['HELLO', 21, 'no'],
    ['USERX bob\r\n', 21, 'no'],
    ['\x16\x03\x01\x02\x00', 21, 'no'],
    ['USER a\x00b\r\n', 21, 'no'],
  ];
  for (const [text, port, want] of cases) {
    test(`${JSON.stringify(text.slice(0, 40))} on ${port}: ${want}`, () => assert.equal(probeFtp(0, b(text), port), want));
  }

  test('a first line that does not end within the probe window is not FTP', () => {
    assert.equal(probeFtp(0, b(`USER ${'a'.repeat(1100)}`).subarray(0, 1024), 21), 'no');
  });
});
