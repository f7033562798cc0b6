import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_HTTP_LIMITS } from '../../../src/protocols/http/limits.js';
import { CUTTINGS, run, snapshots, text, type Segment } from './craft.js';

/** Every event name a run reported, in order, once each. */
function names(segments: Segment[]): string[] {
  const r = run(segments, 1);
  assert.equal(r.parser.internalErrors, 0);
  return [...new Set(r.events.map((e) => e.event))];
}

describe('malformed HTTP gives events, not exceptions', () => {
  test('a header line without a colon is a header with an empty name', () => {
    const r = run([[0, 'GET / HTTP/1.1\r\nHost: a\r\nthis line has no colon\r\n\r\n']]);
    const req = r.txs[0]!.request;
    assert.ok(r.txs[0]!.hasEvent('REQUEST_FIELD_MISSING_COLON'));
    assert.deepEqual(req.headers.list.map((h) => [text(h.name), text(h.value)]), [['Host', 'a'], ['', 'this line has no colon']]);
    assert.ok(req.complete);
  });

  test('bad header names: empty, whitespace before the colon, not a token', () => {
    assert.deepEqual(names([[0, 'GET / HTTP/1.1\r\nHost: a\r\n: empty\r\n\r\n']]), ['REQUEST_HEADER_INVALID']);
    const r = run([[0, 'GET / HTTP/1.1\r\nHost : a\r\nBad(Name): x\r\n\r\n']]);
    assert.ok(r.txs[0]!.hasEvent('REQUEST_HEADER_INVALID'));
    assert.equal(text(r.txs[0]!.request.host), 'a', '"Host :" is still the Host header, as in libhtp');
    assert.deepEqual(names([[1, 'HTTP/1.1 200 OK\r\nBad Name: x\r\nContent-Length: 0\r\n\r\n']]), ['UNABLE_TO_MATCH_RESPONSE_TO_REQUEST', 'RESPONSE_HEADER_INVALID']);
  });

  test('folded header lines join; a fold with nothing before it is invalid folding', () => {
    const r = run([[0, 'GET / HTTP/1.1\r\nHost: a\r\nX-Long: one\r\n two\r\n\tthree\r\n\r\n']]);
    const h = r.txs[0]!.request.headers.list.find((x) => text(x.name) === 'X-Long')!;
    assert.equal(text(h.value), 'one two\tthree');
    assert.ok(h.folded);
    // libhtp-rs: whitespace before the first name is NAME_LEADING_WHITESPACE (invalid folding), and
    // the name is trimmed, so the header still counts under its name.
    const first = run([[0, 'GET / HTTP/1.1\r\n folded-first: x\r\nHost: a\r\n\r\n']]);
    assert.deepEqual(first.events.map((e) => e.event), ['INVALID_REQUEST_FIELD_FOLDING']);
    assert.equal(text(first.txs[0]!.request.header('folded-first')), 'x');
  });

  test('repeated headers stay in order; the combined value joins them; differing Content-Lengths are flagged', () => {
    const r = run([[0, 'GET / HTTP/1.1\r\nHost: a\r\nAccept: x\r\nCookie: a=1\r\nAccept: y\r\nCookie: b=2\r\n\r\n']]);
    const req = r.txs[0]!.request;
    assert.deepEqual(req.headers.list.map((h) => text(h.name)), ['Host', 'Accept', 'Cookie', 'Accept', 'Cookie']);
    assert.equal(text(req.accept), 'x, y');
    assert.equal(text(req.cookie), 'a=1, b=2');
    assert.ok(r.txs[0]!.hasEvent('REQUEST_HEADER_REPETITION'));
    const cl = run([[0, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 30\r\n\r\nabc']]);
    assert.ok(cl.txs[0]!.hasEvent('DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST'));
    assert.equal(cl.txs[0]!.request.contentLength, 3, 'the first Content-Length counts');
    assert.ok(!run([[0, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc']]).txs[0]!.hasEvent('DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST'));
  });

  test('header names keep their case; look-ups ignore it', () => {
    const r = run([[0, 'GET / HTTP/1.1\r\nhOsT: a\r\nUSER-agent: ua\r\n\r\n']]);
    const req = r.txs[0]!.request;
    assert.deepEqual(req.headers.list.map((h) => [text(h.name), h.key]), [['hOsT', 'host'], ['USER-agent', 'user-agent']]);
    assert.equal(text(req.userAgent), 'ua');
  });

  test('request line oddities: leading whitespace, tab delimiters, unknown method without protocol', () => {
    assert.deepEqual(names([[0, '  GET / HTTP/1.1\r\nHost: a\r\n\r\n']]), ['REQUEST_LINE_LEADING_WHITESPACE']);
    const tab = run([[0, 'GET\t/a\tHTTP/1.1\r\nHost: a\r\n\r\n']]);
    assert.ok(tab.txs[0]!.hasEvent('METHOD_DELIM_NON_COMPLIANT') && tab.txs[0]!.hasEvent('URI_DELIM_NON_COMPLIANT'));
    assert.equal(text(tab.txs[0]!.request.uri), '/a');
    assert.equal(tab.txs[0]!.request.version, '1.1');
    assert.ok(run([[0, '\x16\x03\x01\x02\x00\x01\r\n']]).txs[0]!.hasEvent('REQUEST_LINE_INVALID'));
    assert.ok(run([[0, 'FOO / BAR/9\r\n\r\n']]).txs[0]!.hasEvent('REQUEST_LINE_INVALID'));
    assert.ok(!run([[0, 'GET / FOO\r\n\r\n']]).txs[0]!.hasEvent('REQUEST_LINE_INVALID'), 'a known method keeps the line valid');
  });

  test('an invalid request chunk length stops the client side', () => {
    const r = run([[0, 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\nGET /lost HTTP/1.1\r\n\r\n']]);
    assert.equal(r.txs.length, 1);
    assert.ok(r.txs[0]!.hasEvent('INVALID_REQUEST_CHUNK_LEN'));
    assert.ok(r.txs[0]!.request.truncated);
    assert.ok(r.parser.skipped.request > 0);
  });

  test('an invalid response chunk length turns the rest into body read to the close (libhtp)', () => {
    const r = run([
      [0, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'],
      [1, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nnot-hex\r\nrest'],
    ]);
    const res = r.txs[0]!.response;
    assert.ok(r.txs[0]!.hasEvent('INVALID_RESPONSE_CHUNK_LEN'));
    assert.equal(res.framing, 'close');
    assert.equal(text(res.body.bytes), 'abcnot-hex\r\nrest');
  });

  test('chunk sizes: junk after the digits is ignored, blank lines are skipped, 2^31 is too big', () => {
    const r = run([
      [0, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'],
      [1, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n  \r\n3 junk\r\nabc\r\n\r\n0\r\n\r\n'],
    ]);
    assert.equal(text(r.txs[0]!.response.body.bytes), 'abc');
    assert.ok(r.txs[0]!.response.complete);
    const big = run([
      [0, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'],
      [1, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n80000000\r\nabc'],
    ]);
    assert.ok(big.txs[0]!.hasEvent('INVALID_RESPONSE_CHUNK_LEN'));
  });

  test('bad Content-Length and Transfer-Encoding values', () => {
    assert.ok(run([[0, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n']]).txs[0]!.hasEvent('INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST'));
    assert.ok(run([[0, 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n']]).txs[0]!.hasEvent('INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST'));
    const old = run([[0, 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n']]);
    assert.ok(old.txs[0]!.hasEvent('INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST'));
    assert.equal(text(old.txs[0]!.request.body.bytes), 'x', 'chunked on HTTP/1.0 is flagged but still dechunked');
    const lenient = run([[0, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length:  +3 \r\n\r\nabc']]);
    assert.equal(lenient.txs[0]!.request.contentLength, 3, 'libhtp skips junk before the digits');
    const res = run([
      [0, 'GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n'],
      [1, 'HTTP/1.0 200 OK\r\nTransfer-Encoding: Chunked, x\r\n\r\n1\r\nx\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n'],
    ]);
    assert.ok(res.txs[0]!.hasEvent('RESPONSE_ABNORMAL_TRANSFER_ENCODING') && res.txs[0]!.hasEvent('RESPONSE_CHUNKED_OLD_PROTO'));
    assert.equal(text(res.txs[0]!.response.body.bytes), 'x');
    assert.equal(res.txs[1]!.response.contentLength, 1, '"-1": the junk before the digits is skipped');
  });

  test('status lines: bad protocol, bad status, and one that is not a status line at all', () => {
    const r = run([
      [0, 'GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n'],
      [1, 'HTTP/9 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 2000 Huge\r\nContent-Length: 0\r\n\r\nGarbage, no status\r\nmore'],
    ]);
    assert.ok(r.txs[0]!.hasEvent('RESPONSE_INVALID_PROTOCOL'));
    assert.equal(r.txs[0]!.response.status, 200);
    assert.ok(r.txs[1]!.hasEvent('RESPONSE_INVALID_STATUS'));
    assert.equal(r.txs[1]!.response.status, null);
    assert.equal(text(r.txs[1]!.response.statusRaw), '2000');
    assert.ok(r.txs[2]!.response.noStatusLine);
    assert.equal(text(r.txs[2]!.response.body.bytes), 'Garbage, no status\r\nmore');
  });

  test('Host rules: missing on 1.1, invalid, ambiguous with an absolute URI', () => {
    assert.ok(run([[0, 'GET / HTTP/1.1\r\n\r\n']]).txs[0]!.hasEvent('MISSING_HOST_HEADER'));
    assert.ok(run([[0, 'GET / HTTP/1.1\r\nHost: bad host!\r\n\r\n']]).txs[0]!.hasEvent('REQUEST_HEADER_HOST_INVALID'));
    assert.ok(run([[0, 'GET / HTTP/1.1\r\nHost: a:99999\r\n\r\n']]).txs[0]!.hasEvent('REQUEST_HEADER_HOST_INVALID'));
    const amb = run([[0, 'GET http://one.example/p HTTP/1.1\r\nHost: two.example\r\n\r\n']]);
    assert.ok(amb.txs[0]!.hasEvent('HOST_HEADER_AMBIGUOUS'));
    assert.equal(text(amb.txs[0]!.request.host), 'one.example', 'the URI wins');
    assert.equal(text(amb.txs[0]!.request.uriNormalized), '/p');
    assert.ok(run([[0, 'GET http://bad_host!/ HTTP/1.1\r\nHost: a\r\n\r\n']]).txs[0]!.hasEvent('REQUEST_URI_HOST_INVALID'));
  });

  test('lines past the field limit stop the direction with *_FIELD_TOO_LONG', () => {
    const long = 'x'.repeat(DEFAULT_HTTP_LIMITS.fieldLimit);
    const r = run([[0, `GET /${long} HTTP/1.1\r\nHost: a\r\n\r\n`]], 1000);
    assert.ok(r.events.some((e) => e.event === 'REQUEST_FIELD_TOO_LONG'));
    const h = run([
      [0, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'],
      [1, `HTTP/1.1 200 OK\r\nX: ${long}\r\n\r\n`],
    ]);
    assert.ok(h.txs[0]!.hasEvent('RESPONSE_FIELD_TOO_LONG'));
    const folded = run([[0, `GET / HTTP/1.1\r\nX: ${'a'.repeat(10000)}\r\n ${'b'.repeat(10000)}\r\n\r\n`]]);
    assert.ok(folded.txs[0]!.hasEvent('REQUEST_FIELD_TOO_LONG'), 'the limit counts a header with its folded lines');
  });

  test('more distinct headers than the limit is *_TOO_MANY_HEADERS', () => {
    const many = Array.from({ length: 1100 }, (_, i) => `X-${i}: v\r\n`).join('');
    const r = run([[0, `GET / HTTP/1.1\r\nHost: a\r\n${many}\r\n`]]);
    assert.ok(r.txs[0]!.hasEvent('REQUEST_TOO_MANY_HEADERS'));
    assert.equal(r.txs[0]!.request.headers.list.length, DEFAULT_HTTP_LIMITS.maxHeaders);
  });

  test('repeats past 64 are counted, not kept', () => {
    const reps = 'Cookie: c\r\n'.repeat(200);
    const r = run([[0, `GET / HTTP/1.1\r\nHost: a\r\n${reps}\r\n`]]);
    const hs = r.txs[0]!.request.headers;
    // Host, the first Cookie, its first repeat (which only marks it repeated), then 64 counted repeats.
    assert.equal(hs.list.length, 1 + 1 + 1 + 64);
    assert.equal(hs.dropped, 200 - 66);
  });

  test('the events of one connection are capped, then TOO_MANY_WARNINGS', () => {
    const garbage = Array.from({ length: 600 }, (_, i) => `GET / HTTP/1.1\r\nbad${i}\r\n\r\n`).join('');
    const r = run([[0, garbage]]);
    assert.equal(r.events.length, DEFAULT_HTTP_LIMITS.maxEvents + 1);
    assert.equal(r.events.at(-1)!.event, 'TOO_MANY_WARNINGS');
  });

  test('transactions waiting for responses are capped', () => {
    const r = run([[0, 'GET / HTTP/1.0\r\n\r\n'.repeat(600)]], 'whole', {}, { close: false });
    assert.equal(r.parser.open.length, DEFAULT_HTTP_LIMITS.maxTransactions);
    assert.ok(r.events.some((e) => e.event === 'TOO_MANY_TRANSACTIONS'));
  });

  test('malformed connections parse the same however they are cut', () => {
    const segments: Segment[] = [
      [0, '\r\n\r\n GET\t/a%2e%2e/b HTTP/1.1\r\nHost : a\r\n fold\r\nno colon\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcGET /x HTTP/1.0\r\n\r\n'],
      [1, '\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x\r\nab\r\nq\r\nzz'],
    ];
    const expected = snapshots(run(segments));
    for (const how of CUTTINGS) assert.deepEqual(snapshots(run(segments, how)), expected, JSON.stringify(how));
  });
});
