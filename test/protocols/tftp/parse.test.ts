import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { blksizeOf, isTftpRequest, parseTftp } from '../../../src/protocols/tftp/parse.js';
import { probeTftp } from '../../../src/protocols/tftp/index.js';
import { request } from './craft.js';

const packet = (opcode: number, block: number, rest: Uint8Array = new Uint8Array(0)): Buffer => Buffer.concat([Buffer.from([0, opcode, block >> 8, block & 0xff]), rest]);

describe('TFTP packets', () => {
  test('RRQ and WRQ: file name, mode lower-cased, options (Suricata: rfc1350.txt / octet)', () => {
    const rrq = parseTftp(request(1, 'rfc1350.txt', 'octet'));
    assert.equal(rrq.kind, 'request');
    if (rrq.kind !== 'request') return;
    assert.equal(rrq.opcode, 1);
    assert.equal(Buffer.from(rrq.filename).toString(), 'rfc1350.txt');
    assert.equal(rrq.mode, 'octet');
    const wrq = parseTftp(request(2, 'up.bin', 'NetASCII', 'BLKSIZE', '1428', 'tsize', '0'));
    assert.equal(wrq.kind, 'request');
    if (wrq.kind !== 'request') return;
    assert.equal(wrq.opcode, 2);
    assert.equal(wrq.mode, 'netascii');
    assert.deepEqual(wrq.options, [
      { name: 'blksize', value: '1428' },
      { name: 'tsize', value: '0' },
    ]);
    assert.equal(wrq.trailing, 0);
    assert.equal(blksizeOf(wrq.options), 1428);
  });

  test('requests: every malformed kind', () => {
    assert.deepEqual(parseTftp(Buffer.from([0])), { kind: 'invalid', reason: 'too_short' });
    // Suricata's READ_REQUEST_INVALID_1: the name runs into the mode, so no mode follows it.
    assert.deepEqual(parseTftp(Buffer.from('\x00\x01rfc1350.txtnoctet\x00', 'latin1')), { kind: 'invalid', reason: 'unterminated_mode' });
    assert.deepEqual(parseTftp(Buffer.from('\x00\x01rfc1350.txt', 'latin1')), { kind: 'invalid', reason: 'unterminated_filename' });
    assert.deepEqual(parseTftp(Buffer.from('\x00\x01a\x00octet', 'latin1')), { kind: 'invalid', reason: 'unterminated_mode' });
    assert.deepEqual(parseTftp(request(1, 'rfc1350.txt', 'ccccc')), { kind: 'invalid', reason: 'unknown_mode' });
    assert.deepEqual(parseTftp(Buffer.from([0x00, 0x06, 0x72, 0x66, 0x63, 0x31, 0x33, 0x35, 0x30, 0x2e, 0x74, 0x78, 0x74, 0x6e, 0x6f, 0x63, 0x74, 0x65, 0x74, 0x00])).kind, 'oack');
    assert.deepEqual(parseTftp(Buffer.from([0x00, 0x07, 0x61, 0])), { kind: 'invalid', reason: 'unknown_opcode' });
    assert.deepEqual(parseTftp(Buffer.from([0xff, 0xff, 0xff])), { kind: 'invalid', reason: 'unknown_opcode' });
    const cut = parseTftp(Buffer.concat([request(1, 'a', 'octet', 'blksize', '1024'), Buffer.from('tsi', 'latin1')]));
    assert.equal(cut.kind === 'request' && cut.trailing, 3);
  });

  test('DATA, ACK, ERROR, OACK', () => {
    assert.deepEqual(parseTftp(packet(3, 7, Buffer.from('xyz'))), { kind: 'data', block: 7, data: Buffer.from('xyz') });
    assert.deepEqual(parseTftp(packet(3, 65535)), { kind: 'data', block: 65535, data: Buffer.alloc(0) });
    assert.deepEqual(parseTftp(packet(4, 2)), { kind: 'ack', block: 2 });
    const err = parseTftp(packet(5, 1, Buffer.from('File not found\0')));
    assert.equal(err.kind === 'error' && Buffer.from(err.message).toString(), 'File not found');
    const unterminated = parseTftp(packet(5, 0, Buffer.from('no nul')));
    assert.equal(unterminated.kind === 'error' && Buffer.from(unterminated.message).toString(), 'no nul');
    assert.deepEqual(parseTftp(Buffer.from('\x00\x06blksize\x001024\x00', 'latin1')), { kind: 'oack', options: [{ name: 'blksize', value: '1024' }] });
  });

  test('DATA, ACK, ERROR: too short', () => {
    for (const op of [3, 4, 5]) assert.deepEqual(parseTftp(Buffer.from([0, op, 0])), { kind: 'invalid', reason: 'too_short' });
  });

  test('blksize: only what RFC 2348 allows', () => {
    for (const [v, want] of [
      ['512', 512],
      ['8', 8],
      ['65464', 65464],
      ['7', null],
      ['65465', null],
      ['1e3', null],
      ['', null],
      ['-1', null],
    ] as const) {
      assert.equal(blksizeOf([{ name: 'blksize', value: v }]), want, v);
    }
  });
});

describe('TFTP probe', () => {
  test('takes a well-formed RRQ or WRQ from the client', () => {
    assert.equal(probeTftp(0, request(1, 'pxelinux.0', 'octet')), 'yes');
    assert.equal(probeTftp(0, request(2, 'config.txt', 'NETASCII', 'blksize', '1428')), 'yes');
    assert.equal(probeTftp(1, request(1, 'pxelinux.0', 'octet')), 'no', 'a server never speaks first');
  });

  test('not every datagram that starts 00 01 is TFTP', () => {
    // A DNS query with id 1: 00 01 01 00 00 01 ...
    const dns = Buffer.from('000101000001000000000000076578616d706c6503636f6d0000010001', 'hex');
    assert.equal(isTftpRequest(dns), false);
    const cases: Buffer[] = [
      Buffer.from([0, 1, 0, 0]),
      request(1, '', 'octet'), // empty name
      request(1, 'a\x01b', 'octet'), // control byte in the name
      request(1, 'file', 'binary'), // unknown mode
      request(1, 'file', 'octet', 'blksize'), // an option without its value
      Buffer.concat([request(1, 'file', 'octet'), Buffer.from([0x41])]), // bytes after the last string
      request(1, 'file', 'octet', '', '1'), // empty option name
      request(1, 'x'.repeat(600), 'octet'), // past RFC 2347's 512 bytes
      request(3, 'file', 'octet'), // DATA is no request
      Buffer.from('\x00\x01\xff\xfe\x00octet\x00', 'latin1'),
    ];
    for (const c of cases) assert.equal(isTftpRequest(c), false, c.toString('latin1'));
  });
});
