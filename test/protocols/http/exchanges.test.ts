import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gzipSync, deflateSync } from 'node:zlib';
import { CUTTINGS, run, snapshots, text, type Segment } from './craft.js';

const gz = gzipSync(Buffer.from('<html>gzip body</html>'));
const zl = deflateSync(Buffer.from('zlib body'));

/** A connection that uses most of HTTP/1.1 at once. */
const KITCHEN_SINK: Segment[] = [
  [0, 'GET /index.html HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0\r\nAccept: */*\r\nCookie: a=1\r\nReferer: http://x/\r\n\r\n'],
  [0, 'POST /upload?id=7 HTTP/1.1\r\nHost: www.example.com\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n'],
  [0, '5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc\r\n\r\n'],
  [0, 'HEAD /big HTTP/1.1\r\nHost: www.example.com\r\n\r\n'],
  [0, 'GET /gz HTTP/1.1\r\nHost: www.example.com\r\n\r\nGET /zl HTTP/1.1\r\nHost: www.example.com\r\n\r\n'],
  [1, 'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\nSet-Cookie: s=1\r\n\r\nhello'],
  [1, 'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nLocation: /upload/7\r\n\r\n2\r\nok\r\n0\r\n\r\n'],
  [1, 'HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n'],
  [1, Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${gz.length}\r\n\r\n`), gz])],
  [1, Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nContent-Length: ${zl.length}\r\n\r\n`), zl])],
];

describe('HTTP exchanges', () => {
  test('the same bytes cut any way give the same transactions', () => {
    const expected = snapshots(run(KITCHEN_SINK, 'whole'));
    assert.equal(expected.length, 5);
    for (const how of CUTTINGS) assert.deepEqual(snapshots(run(KITCHEN_SINK, how)), expected, `cut ${JSON.stringify(how)}`);
  });

  test('pipelined requests are answered in order, each with its own fields', () => {
    const r = run(KITCHEN_SINK, 1);
    assert.equal(r.parser.internalErrors, 0);
    const [a, b, c, d, e] = r.txs;
    assert.deepEqual(
      r.txs.map((t) => [t.id, text(t.request.method), text(t.request.uri), t.response.status]),
      [
        [0, 'GET', '/index.html', 200],
        [1, 'POST', '/upload?id=7', 201],
        [2, 'HEAD', '/big', 200],
        [3, 'GET', '/gz', 200],
        [4, 'GET', '/zl', 200],
      ],
    );
    assert.equal(text(a!.request.line), 'GET /index.html HTTP/1.1');
    assert.equal(text(a!.request.protocol), 'HTTP/1.1');
    assert.equal(a!.request.version, '1.1');
    assert.equal(text(a!.request.host), 'www.example.com');
    assert.equal(text(a!.request.userAgent), 'Mozilla/5.0');
    assert.equal(text(a!.request.accept), '*/*');
    assert.equal(text(a!.request.cookie), 'a=1');
    assert.equal(text(a!.request.referer), 'http://x/');
    assert.equal(text(a!.response.line), 'HTTP/1.1 200 OK');
    assert.equal(text(a!.response.message), 'OK');
    assert.equal(text(a!.response.contentType), 'text/html');
    assert.equal(text(a!.response.setCookie), 's=1');
    assert.equal(text(a!.response.body.bytes), 'hello');
    assert.equal(text(b!.response.location), '/upload/7');
    assert.equal(text(b!.request.contentType), 'text/plain');
    assert.equal(c!.response.framing, 'none', 'a HEAD answer has no body whatever its Content-Length');
    assert.equal(c!.response.contentLength, null);
    assert.equal(text(d!.response.body.bytes), '<html>gzip body</html>');
    assert.equal(text(e!.response.body.bytes), 'zlib body');
    for (const t of r.txs) {
      assert.ok(t.request.lineDone && t.request.headersDone && t.request.complete);
      assert.ok(t.response.lineDone && t.response.headersDone && t.response.complete);
    }
  });

  test('chunked bodies: extensions noted, data joined, trailers kept as trailers', () => {
    const r = run(KITCHEN_SINK, 3);
    const post = r.txs[1]!.request;
    assert.equal(post.framing, 'chunked');
    assert.equal(text(post.body.bytes), 'hello world');
    assert.equal(post.length, 11);
    assert.equal(post.wireLength, '5;name=value\r\nhello\r\n6\r\n world\r\n0\r\n'.length);
    assert.ok(r.txs[1]!.hasEvent('REQUEST_CHUNK_EXTENSION'));
    const trailer = post.headers.list.find((h) => text(h.name) === 'X-Checksum');
    assert.ok(trailer?.trailer);
    assert.equal(text(post.header('x-checksum')), 'abc');
    assert.ok(text(post.headersRaw.bytes)!.endsWith('X-Checksum: abc\r\n\r\n'));
    assert.deepEqual(post.headers.names().map(text), ['Host', 'Transfer-Encoding', 'Content-Type', 'X-Checksum']);
  });

  test('progress flags follow the messages as the bytes arrive', () => {
    const seen: string[] = [];
    const r = run([[0, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\n']], 'whole', {}, { close: false });
    const tx = r.parser.open[0]!;
    assert.ok(tx.request.lineDone && tx.request.headersDone && !tx.request.complete);
    assert.equal(tx.request.progress, 'body');
    r.parser.data(0, Buffer.from('ab'));
    assert.equal(tx.request.progress, 'body');
    assert.ok(!tx.request.bodyDone);
    r.parser.data(0, Buffer.from('cd'));
    assert.ok(tx.request.bodyDone && tx.request.complete);
    assert.equal(tx.response.progress, 'none');
    r.parser.data(1, Buffer.from('HTTP/1.1 200 OK\r\n'));
    assert.ok(tx.response.lineDone && !tx.response.headersDone);
    seen.push(tx.response.progress);
    r.parser.data(1, Buffer.from('Content-Length: 0\r\n\r\n'));
    assert.ok(tx.response.complete);
    assert.deepEqual(seen, ['headers']);
    assert.equal(r.txs.length, 1, 'let go once both sides are complete');
  });

  test('a chunked body is done at its last chunk, the message at the end of its trailers', () => {
    const r = run([[0, 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n']], 'whole', {}, { close: false });
    const req = r.parser.open[0]!.request;
    assert.ok(req.bodyDone && !req.complete);
    assert.equal(req.progress, 'trailers');
    r.parser.data(0, Buffer.from('\r\n'));
    assert.ok(req.complete);
  });

  test('HEAD, 204 and 304 answers carry no body and the next response parses', () => {
    const r = run([
      [0, 'HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\nGET /y HTTP/1.1\r\nHost: a\r\n\r\nGET /z HTTP/1.1\r\nHost: a\r\n\r\n'],
      [1, 'HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n'],
      [1, 'HTTP/1.1 204 No Content\r\n\r\n'],
      [1, 'HTTP/1.1 304 Not Modified\r\nETag: "e"\r\n\r\n'],
      [1, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi'],
    ]);
    assert.deepEqual(r.txs.map((t) => [t.response.status, t.response.framing, text(t.response.body.bytes)]), [
      [200, 'none', ''],
      [204, 'none', ''],
      [304, 'none', ''],
      [200, 'length', 'hi'],
    ]);
    assert.equal(r.events.length, 0);
  });

  test('a response without length runs to the close', () => {
    const r = run([
      [0, 'GET / HTTP/1.0\r\n\r\n'],
      [1, 'HTTP/1.0 200 OK\r\nServer: old\r\n\r\nall of this\r\nis body'],
    ]);
    const res = r.txs[0]!.response;
    assert.equal(res.framing, 'close');
    assert.equal(text(res.body.bytes), 'all of this\r\nis body');
    assert.ok(res.complete && !res.truncated);
    assert.ok(!r.txs[0]!.hasEvent('MISSING_HOST_HEADER'), 'HTTP/1.0 needs no Host');
  });

  test('CONNECT answered 2xx makes the rest of the connection a tunnel', () => {
    const tls = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]);
    const r = run([
      [0, 'CONNECT secure.example.com:443 HTTP/1.1\r\nHost: secure.example.com:443\r\n\r\n'],
      [0, tls],
      [1, 'HTTP/1.1 200 Connection established\r\n\r\n'],
      [1, tls],
      [0, 'GET /not-parsed HTTP/1.1\r\n\r\n'],
    ]);
    assert.equal(r.txs.length, 1);
    const tx = r.txs[0]!;
    assert.ok(tx.tunnel && r.parser.tunnelled);
    assert.equal(text(tx.request.host), 'secure.example.com');
    assert.equal(tx.request.port, 443);
    assert.equal(text(tx.request.uriNormalized), '');
    assert.deepEqual(r.parser.skipped, { request: tls.length + 'GET /not-parsed HTTP/1.1\r\n\r\n'.length, response: tls.length });
  });

  test('CONNECT refused: HTTP goes on, with the bytes the client sent meanwhile', () => {
    const segments: Segment[] = [
      [0, 'CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n'],
      [1, 'HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 3\r\n\r\nno!'],
      [1, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'],
    ];
    for (const how of CUTTINGS) {
      const r = run(segments, how);
      assert.deepEqual(r.txs.map((t) => [text(t.request.method), t.response.status, text(t.response.body.bytes)]), [
        ['CONNECT', 407, 'no!'],
        ['GET', 200, 'ok'],
      ]);
      assert.ok(!r.parser.tunnelled);
    }
  });

  test('Expect: 100-continue: the interim 100 precedes the final response', () => {
    const segments: Segment[] = [
      [0, 'PUT /f HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n'],
      [1, 'HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n'],
      [0, 'data!'],
      [1, 'HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n'],
    ];
    const expected = snapshots(run(segments));
    for (const how of CUTTINGS) assert.deepEqual(snapshots(run(segments, how)), expected);
    const tx = run(segments).txs[0]!;
    assert.ok(tx.request.expectContinue);
    assert.equal(text(tx.request.body.bytes), 'data!');
    assert.ok(tx.response.continueSeen);
    assert.equal(tx.response.status, 201);
    assert.equal(text(tx.response.line), 'HTTP/1.1 201 Created');
    assert.equal(tx.response.header('x-interim'), null, "the interim response's headers are not the final one's");
  });

  test('Expect: 100-continue refused: the body never comes and the next request parses', () => {
    const r = run([
      [0, 'POST /big HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1000000\r\n\r\n'],
      [1, 'HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n'],
      [0, 'GET /after HTTP/1.1\r\nHost: a\r\n\r\n'],
      [1, 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'],
    ]);
    assert.deepEqual(r.txs.map((t) => [text(t.request.uri), t.request.complete, t.response.status]), [
      ['/big', true, 417],
      ['/after', true, 200],
    ]);
  });

  test('a second 100 Continue is an anomaly', () => {
    const r = run([
      [0, 'POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx'],
      [1, 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n'],
    ]);
    assert.ok(r.txs[0]!.hasEvent('100_CONTINUE_ALREADY_SEEN'));
  });

  test('HTTP/0.9: no headers, a response without status line, and nothing more from the client', () => {
    const segments: Segment[] = [
      [0, 'GET /old\r\n'],
      [1, '<html>0.9 page</html>'],
      [0, 'GET /ignored HTTP/1.1\r\n\r\n'],
    ];
    const expected = snapshots(run(segments));
    for (const how of CUTTINGS) assert.deepEqual(snapshots(run(segments, how)), expected);
    const r = run(segments);
    const tx = r.txs[0]!;
    assert.ok(tx.http09);
    assert.equal(tx.request.version, '0.9');
    assert.equal(tx.request.protocol, null);
    assert.equal(text(tx.request.uri), '/old');
    assert.ok(tx.response.noStatusLine);
    assert.equal(tx.response.status, null);
    assert.equal(text(tx.response.body.bytes), '<html>0.9 page</html>');
    assert.equal(r.txs.length, 1);
    assert.equal(r.parser.skipped.request, 'GET /ignored HTTP/1.1\r\n\r\n'.length);
  });

  test('a request line without protocol but with headers after it is not HTTP/0.9', () => {
    const r = run([
      [0, 'GET /x\r\nHost: a\r\n\r\n'],
      [1, 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'],
    ]);
    const tx = r.txs[0]!;
    assert.ok(!tx.http09);
    assert.ok(tx.hasEvent('REQUEST_LINE_MISSING_PROTOCOL'));
    assert.equal(text(tx.request.host), 'a');
    assert.equal(tx.response.status, 200);
  });

  test('a response that starts before its request line ends finishes that line', () => {
    const r = run([
      [0, 'GET /partial'],
      [1, 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'],
    ]);
    const tx = r.txs[0]!;
    assert.ok(tx.hasEvent('REQUEST_LINE_INCOMPLETE'));
    assert.equal(text(tx.request.uri), '/partial');
  });

  test('a response that answers no request is kept, marked', () => {
    const r = run([[1, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi']]);
    const tx = r.txs[0]!;
    assert.ok(!tx.requestSeen);
    assert.ok(tx.hasEvent('UNABLE_TO_MATCH_RESPONSE_TO_REQUEST'));
    assert.equal(text(tx.response.body.bytes), 'hi');
  });

  test('101 Switching Protocols ends HTTP on the connection', () => {
    const r = run([
      [0, 'GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'],
      [1, 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello'],
      [0, '\x81\x85abcd1234'],
    ]);
    assert.equal(r.txs.length, 1);
    assert.ok(r.txs[0]!.tunnel);
    assert.equal(r.parser.skipped.response, 7);
  });

  test('the stream ending mid-message leaves it truncated, not complete', () => {
    const r = run([
      [0, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n12345'],
      [1, 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'],
    ]);
    const tx = r.txs[0]!;
    assert.ok(tx.request.truncated && !tx.request.complete);
    assert.ok(tx.response.truncated && !tx.response.complete);
    assert.equal(text(tx.request.body.bytes), '12345');
  });

  test('gaps inside a body are counted as body (the kept body stops at the hole); outside one they stop the direction', () => {
    const r = run([[0, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n12']], 'whole', {}, { close: false });
    r.parser.gap(0, 5);
    r.parser.data(0, Buffer.from('678GET / HTTP/1.1\r\n\r\n'));
    const tx = r.parser.open[0]!;
    assert.ok(tx.request.complete && tx.request.gap);
    assert.equal(tx.request.length, 10);
    assert.equal(text(tx.request.body.bytes), '12', 'bytes past a hole would join text that was never adjacent');
    assert.equal(r.parser.open.length, 2);
    r.parser.gap(0, 3);
    r.parser.data(0, Buffer.from('GET /lost HTTP/1.1\r\n\r\n'));
    assert.equal(r.parser.open.length, 2, 'after a gap outside a body nothing more is parsed');
  });

  test('request and response decompress, and a Host with a port is stripped and lowercased', () => {
    const body = gzipSync(Buffer.from('a=1&b=2'));
    const r = run([
      [0, Buffer.concat([Buffer.from(`POST /f HTTP/1.1\r\nHost: WWW.Example.ORG.:8080\r\nContent-Encoding: gzip\r\nContent-Length: ${body.length}\r\n\r\n`), body])],
    ]);
    const req = r.txs[0]!.request;
    assert.equal(text(req.body.bytes), 'a=1&b=2');
    assert.equal(req.length, body.length);
    assert.equal(req.decodedLength, 7);
    assert.equal(text(req.host), 'www.example.org.');
    assert.equal(text(req.hostRaw), 'WWW.Example.ORG.:8080');
    assert.equal(req.port, 8080);
  });
});
