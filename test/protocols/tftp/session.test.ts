import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TftpSession, TftpTransferContext, type TftpTransaction } from '../../../src/protocols/tftp/session.js';
import { FakeOutput, flowOf, sha256, words } from '../ftp/harness.js';
import { ack, bytes, dataPacket, errorPacket, oack, request } from './craft.js';

const CLIENT = '10.0.0.5';
const SERVER = '10.0.0.9';

/** A transfer flow (the server's new port to the client's), opened as the layer opens it. */
function transfer(opcode: 1 | 2 = 1, name = 'bot.exe'): { s: TftpSession; out: FakeOutput } {
  const out = new FakeOutput();
  const flow = flowOf(SERVER, 3001, CLIENT, 2000, 17);
  return { s: new TftpSession(flow, out, new TftpTransferContext(opcode, Buffer.from(name), 'octet')), out };
}

const feed = (s: TftpSession, dir: number, b: Uint8Array): void => s.data(dir, b, 0, b.length);


describe('TFTP request flow', () => {
  test('a read request: the tftp record, rules on its file name, and the transfer announced from the server to the client port', () => {
    const out = new FakeOutput();
    const s = new TftpSession(flowOf(CLIENT, 2000, SERVER, 69, 17), out);
    feed(s, 0, request(1, 'bot.exe', 'Octet'));
    assert.deepEqual(out.records, [{ eventType: 'tftp', body: { packet: 'read', file: 'bot.exe', mode: 'octet' }, dir: 0, txId: 0 }]);
    const tx = out.inspected[0]!.tx as TftpTransaction;
    assert.equal(Buffer.from(tx.buffer('file.name')!).toString(), 'bot.exe');
    assert.deepEqual(tx.alertMetadata(), { tftp: { packet: 'read', file: 'bot.exe', mode: 'octet' } });
    const e = out.expectations[0]!;
    assert.equal(e.proto, 'tftp');
    assert.deepEqual([...e.serverAddr], words(CLIENT));
    assert.equal(e.serverPort, 2000);
    assert.deepEqual([...e.clientAddr!], words(SERVER));
    assert.ok(e.context instanceof TftpTransferContext);
  });

  test('each request datagram is a transaction (a retransmitted request too), a write is "write"', () => {
    const out = new FakeOutput();
    const s = new TftpSession(flowOf(CLIENT, 2000, SERVER, 69, 17), out);
    feed(s, 0, request(2, 'up.cfg', 'netascii'));
    feed(s, 0, request(2, 'up.cfg', 'netascii'));
    s.close();
    assert.deepEqual(
      out.records.map((r) => [r.txId, (r.body as Record<string, unknown>).packet]),
      [
        [0, 'write'],
        [1, 'write'],
      ],
    );
    assert.equal(out.files.length, 0, 'no block came: no file');
  });

  test('malformed datagrams are anomalies, not transactions', () => {
    const out = new FakeOutput();
    const s = new TftpSession(flowOf(CLIENT, 2000, SERVER, 69, 17), out);
    feed(s, 0, request(1, 'a', 'binary'));
    feed(s, 0, Buffer.from([0, 9, 1, 2]));
    feed(s, 0, Buffer.from([0]));
    assert.equal(out.records.length, 0);
    assert.deepEqual(
      out.anomalies.map((a) => a.event),
      ['malformed_packet', 'unknown_opcode', 'malformed_packet'],
    );
  });

  test('a server that answers from port 69 itself: the transfer is followed on the request flow', () => {
    const out = new FakeOutput();
    const s = new TftpSession(flowOf(CLIENT, 2000, SERVER, 69, 17), out);
    feed(s, 0, request(1, 'small.txt', 'octet'));
    feed(s, 1, dataPacket(1, Buffer.from('hello')));
    assert.deepEqual([out.files[0]!.filename, out.files[0]!.size, out.files[0]!.state, out.files[0]!.tx_id], ['small.txt', 5, 'CLOSED', 0]);
  });
});

describe('TFTP transfer', () => {
  test('blocks in order, a retransmitted block dropped, the short block ends the file', () => {
    const { s, out } = transfer();
    const file = bytes(512 * 3 + 100);
    const block = (n: number): Buffer => file.subarray((n - 1) * 512, n * 512);
    feed(s, 0, dataPacket(1, block(1)));
    feed(s, 1, ack(1));
    feed(s, 0, dataPacket(2, block(2)));
    feed(s, 0, dataPacket(2, block(2)));
    feed(s, 1, ack(2));
    feed(s, 0, dataPacket(1, block(1)));
    feed(s, 0, dataPacket(3, block(3)));
    feed(s, 0, dataPacket(4, block(4)));
    assert.equal(out.files.length, 1, 'reported at the last block, not at the flow end');
    feed(s, 0, dataPacket(4, block(4)));
    s.close();
    const f = out.files[0]!;
    assert.deepEqual([f.filename, f.size, f.sha256, f.state, f.direction, f.tx_id], ['bot.exe', file.length, sha256(file), 'CLOSED', 'to_server', 0]);
    assert.deepEqual(out.anomalies, []);
    assert.deepEqual(out.inspected.map((i) => i.dir), [0]);
  });

  test('a missing block: the file is TRUNCATED and block_gap raised', () => {
    const { s, out } = transfer();
    feed(s, 0, dataPacket(1, bytes(512)));
    feed(s, 0, dataPacket(3, bytes(10)));
    assert.equal(out.files[0]!.state, 'TRUNCATED');
    assert.equal(out.files[0]!.size, 522);
    assert.deepEqual(out.anomalies, [{ event: 'block_gap', dir: 0 }]);
  });

  test('an ERROR cuts the file short; an ERROR before any block makes no file', () => {
    const a = transfer();
    feed(a.s, 0, dataPacket(1, bytes(512)));
    feed(a.s, 1, errorPacket(0, 'client gave up'));
    feed(a.s, 0, dataPacket(2, bytes(3)));
    assert.deepEqual([a.out.files.length, a.out.files[0]!.state, a.out.files[0]!.size], [1, 'TRUNCATED', 512]);
    const b = transfer();
    feed(b.s, 0, errorPacket(1, 'File not found'));
    b.s.close();
    assert.equal(b.out.files.length, 0);
  });

  test("the flow's end before the last block: TRUNCATED", () => {
    const { s, out } = transfer();
    feed(s, 0, dataPacket(1, bytes(512)));
    s.close();
    assert.equal(out.files[0]!.state, 'TRUNCATED');
  });

  test('the blksize an OACK accepts sets the block size', () => {
    const { s, out } = transfer();
    feed(s, 0, oack('blksize', '1024', 'tsize', '2000'));
    feed(s, 1, ack(0));
    feed(s, 0, dataPacket(1, bytes(1024)));
    assert.equal(out.files.length, 0);
    feed(s, 0, dataPacket(2, bytes(976)));
    assert.deepEqual([out.files[0]!.size, out.files[0]!.state], [2000, 'CLOSED']);
    assert.deepEqual(out.anomalies, []);
  });

  test('blocks larger than the block size (an OACK not seen): oversized_block, and the file still ends at its short block', () => {
    const { s, out } = transfer();
    feed(s, 0, dataPacket(1, bytes(1428)));
    feed(s, 0, dataPacket(2, bytes(1428)));
    feed(s, 0, dataPacket(3, bytes(600)));
    assert.deepEqual([out.files[0]!.size, out.files[0]!.state], [1428 * 2 + 600, 'CLOSED']);
    assert.deepEqual(out.anomalies, [{ event: 'oversized_block', dir: 0 }]);
  });

  test('an empty file: one empty block, CLOSED', () => {
    const { s, out } = transfer();
    feed(s, 0, dataPacket(1, new Uint8Array(0)));
    assert.deepEqual([out.files[0]!.size, out.files[0]!.magic, out.files[0]!.state], [0, 'empty', 'CLOSED']);
  });

  test('a write: the client (the transfer flow server) sends the blocks after the server ACK 0', () => {
    const { s, out } = transfer(2, 'up.bin');
    feed(s, 0, ack(0));
    feed(s, 1, dataPacket(1, bytes(40)));
    assert.deepEqual([out.files[0]!.direction, out.files[0]!.size], ['to_client', 40]);
  });

  test('blocks from the acknowledging side are ignored', () => {
    const { s, out } = transfer();
    feed(s, 0, dataPacket(1, bytes(512)));
    feed(s, 1, dataPacket(2, bytes(5)));
    feed(s, 0, dataPacket(2, bytes(6)));
    assert.equal(out.files[0]!.size, 518);
  });

  for (const next of [0, 1]) {
    test(`block numbers roll over after 65535 (to ${next})`, () => {
      const { s, out } = transfer();
      feed(s, 0, oack('blksize', '8'));
      const block = bytes(8);
      for (let n = 1; n <= 65535; n++) feed(s, 0, dataPacket(n, block));
      feed(s, 0, dataPacket(next, block));
      feed(s, 0, dataPacket(next + 1, bytes(3)));
      assert.deepEqual(out.anomalies, []);
      assert.deepEqual([out.files[0]!.size, out.files[0]!.state], [65536 * 8 + 3, 'CLOSED']);
    });
  }
});
