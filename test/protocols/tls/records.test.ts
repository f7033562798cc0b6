import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ContentType,
  HandshakeReader,
  HandshakeType,
  MAX_HANDSHAKE_MESSAGE,
  splitHandshakeMessages,
  splitTlsRecords,
  TLS_MAX_RECORD,
  TlsDirection,
  TlsRecordReader,
} from '../../../src/protocols/tls/parse.js';
import { prng } from '../../helpers.js';
import { handshake, record, u24 } from './build.js';

const records = [record(22, Buffer.alloc(300, 1), 0x0301), record(20, Buffer.from([1])), record(23, Buffer.alloc(0)), record(21, Buffer.from([2, 40]))];
const stream = Buffer.concat(records);

test('whole TLS records are split off a buffer; an incomplete one is left unconsumed', () => {
  const split = splitTlsRecords(Buffer.concat([stream, records[0]!.subarray(0, 100)]));
  assert.equal(split.error, null);
  assert.deepEqual(
    split.records.map((r) => [r.type, r.version, r.body.length, r.offset]),
    [
      [22, 0x0301, 300, 0],
      [20, 0x0303, 1, 305],
      [23, 0x0303, 0, 311],
      [21, 0x0303, 2, 316],
    ],
  );
  assert.equal(split.consumed, stream.length);
});

test('the record length cap is 2^14 + 2048: one byte more is an error, not a wait', () => {
  const atCap = Buffer.concat([Buffer.from([23, 3, 3, TLS_MAX_RECORD >> 8, TLS_MAX_RECORD & 0xff]), Buffer.alloc(TLS_MAX_RECORD)]);
  assert.equal(TLS_MAX_RECORD, 18432);
  assert.equal(splitTlsRecords(atCap).records.length, 1);
  const over = Buffer.from([23, 3, 3, (TLS_MAX_RECORD + 1) >> 8, (TLS_MAX_RECORD + 1) & 0xff]);
  const split = splitTlsRecords(Buffer.concat([records[1]!, over]));
  assert.deepEqual([split.records.length, split.consumed, split.error], [1, records[1]!.length, 'record_too_long']);
  assert.equal(splitTlsRecords(Buffer.from([25, 3, 3, 0, 1, 0])).error, 'record_type_unknown');
  assert.equal(splitTlsRecords(Buffer.from([22, 2, 0, 0, 1, 0])).error, 'record_version_invalid');
  assert.equal(splitTlsRecords(Buffer.from([22, 3, 5, 0, 1, 0])).error, 'record_version_invalid');
});

test('the record reader gives the same records however the stream is cut, holding at most one record', () => {
  const rand = prng(7);
  for (let trial = 0; trial < 200; trial++) {
    const reader = new TlsRecordReader();
    const got: Array<[number, number, string]> = [];
    for (let at = 0; at < stream.length; ) {
      const n = trial === 0 ? 1 : 1 + Math.floor(rand() * 400);
      for (const r of reader.push(stream.subarray(at, at + n))) got.push([r.type, r.offset, Buffer.from(r.body).toString('hex')]);
      assert.ok(reader.pending <= TLS_MAX_RECORD + 4);
      at += n;
    }
    assert.equal(reader.pending, 0);
    assert.deepEqual(
      got,
      splitTlsRecords(stream).records.map((r) => [r.type, r.offset, Buffer.from(r.body).toString('hex')]),
    );
  }
});

test('records the reader returns own their bytes: reusing the input buffer does not change them', () => {
  const reader = new TlsRecordReader();
  const input = Buffer.from(stream);
  const got = reader.push(input);
  input.fill(0xee);
  assert.equal(got[0]!.body[0], 1);
});

test('after a bad header the reader stops for good and says where', () => {
  const reader = new TlsRecordReader();
  assert.equal(reader.push(Buffer.concat([records[1]!, Buffer.from('GET / HTTP/1.1\r\n')])).length, 1);
  assert.equal(reader.error, 'record_type_unknown');
  assert.equal(reader.errorOffset, records[1]!.length);
  assert.deepEqual(reader.push(records[1]!), []);
});

test('handshake messages are reassembled across records, several per record, however the records are cut', () => {
  const messages = [handshake(1, Buffer.alloc(1000, 0xa1)), handshake(2, Buffer.alloc(70, 0xb2)), handshake(11, Buffer.alloc(5000, 0xc3)), handshake(14, Buffer.alloc(0))];
  const all = Buffer.concat(messages);
  const rand = prng(11);
  for (let trial = 0; trial < 100; trial++) {
    const reader = new HandshakeReader();
    const got: Array<[number, number]> = [];
    for (let at = 0; at < all.length; ) {
      const n = 1 + Math.floor(rand() * (trial % 2 === 0 ? 50 : 3000));
      for (const m of reader.push(all.subarray(at, at + n))) got.push([m.type, m.body.length]);
      at += n;
    }
    assert.deepEqual(got, [
      [1, 1000],
      [2, 70],
      [11, 5000],
      [14, 0],
    ]);
    assert.equal(reader.pending, 0);
  }
});

test('a handshake message longer than the cap is refused at its header, not buffered', () => {
  const header = Buffer.concat([Buffer.from([11]), u24(MAX_HANDSHAKE_MESSAGE + 1)]);
  assert.equal(splitHandshakeMessages(header).error, 'handshake_message_too_long');
  const reader = new HandshakeReader();
  assert.deepEqual(reader.push(header), []);
  assert.equal(reader.error, 'handshake_message_too_long');
  assert.equal(reader.pending, 0);
  const atCap = Buffer.concat([Buffer.from([11]), u24(MAX_HANDSHAKE_MESSAGE)]);
  assert.equal(splitHandshakeMessages(atCap).error, null, 'the cap itself is allowed (and waited for)');
});

test('a TLS direction takes handshake messages from cleartext records only: after ChangeCipherSpec they are encrypted', () => {
  const hello = handshake(HandshakeType.SERVER_HELLO, Buffer.alloc(40, 3));
  const cert = handshake(HandshakeType.CERTIFICATE, Buffer.alloc(3000, 4));
  const flight = Buffer.concat([
    record(ContentType.HANDSHAKE, Buffer.concat([hello, cert.subarray(0, 1000)])),
    record(ContentType.HANDSHAKE, cert.subarray(1000)),
    record(ContentType.CHANGE_CIPHER_SPEC, Buffer.from([1])),
    record(ContentType.HANDSHAKE, Buffer.from('00000028a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6', 'hex')),
  ]);
  const dir = new TlsDirection();
  const out = dir.push(flight);
  assert.equal(out.error, null);
  assert.equal(out.records.length, 4);
  assert.deepEqual(
    out.messages.map((m) => [m.type, m.body.length]),
    [
      [2, 40],
      [11, 3000],
    ],
  );
  assert.equal(dir.encrypted, true);
});

test('a large push behind a held partial record is split correctly and the held memory shrinks back', () => {
  const big = Buffer.concat(Array.from({ length: 100 }, () => stream));
  const reader = new TlsRecordReader();
  assert.deepEqual(reader.push(big.subarray(0, 3)), []);
  const got = reader.push(big.subarray(3, big.length - 2));
  assert.equal(got.length, 100 * records.length - 1, 'all but the last record');
  assert.equal(reader.pending, records[3]!.length - 2);
  assert.equal(reader.push(big.subarray(big.length - 2)).length, 1);
  assert.equal(reader.pending, 0);
});
