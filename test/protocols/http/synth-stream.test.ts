import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { Decoder } from '../../../src/decode/decoder.js';
import { Packet } from '../../../src/decode/packet.js';
import type { Flow } from '../../../src/flow/flow.js';
import { FlowTable } from '../../../src/flow/table.js';
import { HttpParser } from '../../../src/protocols/http/parse.js';
import type { HttpTransaction } from '../../../src/protocols/http/transaction.js';
import { SynthCapture, TcpConnection } from '../../../src/synth/traffic.js';
import { framesOf } from '../../flow/harness.js';
import { snapshot, text } from './craft.js';

/**
 * Crafted packets through the real decoder and TCP reassembly into the parser, as a session will
 * drive it: each direction's in-order bytes as the flow table delivers them, gaps included.
 */
function parse(cap: SynthCapture): { txs: HttpTransaction[]; parser: HttpParser } {
  const txs: HttpTransaction[] = [];
  const parsers = new Map<Flow, HttpParser>();
  const parserOf = (flow: Flow): HttpParser => {
    let p = parsers.get(flow);
    if (p === undefined) {
      p = new HttpParser({ onTransactionDone: (tx) => txs.push(tx) });
      parsers.set(flow, p);
    }
    return p;
  };
  const table = new FlowTable(
    {
      flowEnd: (flow) => parserOf(flow).close(),
      streamEvent: () => {},
      stream: {
        data: (flow, dir, buf, off, len) => parserOf(flow).data(dir as 0 | 1, buf.subarray(off, off + len)),
        gap: (flow, dir, len) => parserOf(flow).gap(dir as 0 | 1, len),
      },
    },
    { idSalt: 1 },
  );
  const decoder = new Decoder();
  const packet = new Packet();
  for (const f of framesOf(cap)) {
    decoder.decode(f, packet);
    table.process(packet);
    f.data.fill(0xee); // the reader reuses its buffer: the parser must have copied what it keeps
  }
  table.flush();
  assert.equal(parsers.size, 1);
  return { txs, parser: [...parsers.values()][0]! };
}

const REQUESTS = 'GET /one HTTP/1.1\r\nHost: synth.example\r\n\r\nGET /two HTTP/1.1\r\nHost: synth.example\r\n\r\n';
const BODY = gzipSync(Buffer.from('second page '.repeat(400)));
const RESPONSES = Buffer.concat([
  Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none'),
  Buffer.from(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${BODY.length}\r\n\r\n`),
  BODY,
]);

describe('HTTP over crafted TCP', () => {
  test('small segments, reassembled in order, parse as one chunk would', () => {
    const cap = new SynthCapture(null);
    new TcpConnection(cap, '10.1.0.1:40000', '10.1.0.2:80', { mss: 13 }).handshake().send('client', REQUESTS).send('server', RESPONSES).close();
    const { txs, parser } = parse(cap);
    assert.equal(parser.internalErrors, 0);
    assert.deepEqual(txs.map((t) => [text(t.request.uri), t.response.status]), [['/one', 200], ['/two', 200]]);
    assert.equal(text(txs[0]!.response.body.bytes), 'one');
    assert.equal(text(txs[1]!.response.body.bytes), 'second page '.repeat(400));

    const whole = new SynthCapture(null);
    new TcpConnection(whole, '10.1.0.1:40000', '10.1.0.2:80', { mss: 65000 }).handshake().send('client', REQUESTS).send('server', RESPONSES).close();
    assert.deepEqual(parse(whole).txs.map(snapshot), txs.map(snapshot));
  });

  test('segments out of order and retransmitted give the same transactions', () => {
    const cap = new SynthCapture(null);
    const conn = new TcpConnection(cap, '10.1.0.1:40001', '10.1.0.2:80').handshake();
    const req = Buffer.from(REQUESTS);
    conn.segment('client', 20, req.subarray(20));
    conn.segment('client', 0, req.subarray(0, 25));
    conn.segment('client', 0, req.subarray(0, 10));
    conn.advance('client', req.length);
    conn.send('server', RESPONSES).close();
    const { txs } = parse(cap);
    assert.deepEqual(txs.map((t) => [text(t.request.uri), t.response.status, t.response.complete]), [
      ['/one', 200, true],
      ['/two', 200, true],
    ]);
  });
});
