import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { chomp, parseHeaderBlock } from '../../../src/protocols/http/headers.js';
import { chunkLengthCanStart } from '../../../src/protocols/http/parse.js';
import { CUTTINGS, run, snapshots, text, type Segment } from './craft.js';

/**
 * Behaviours of libhtp-rs (Suricata 8's HTTP parser, rust/htp/src) that the http-evader captures
 * of suricata-verify exercise: each test names the libhtp-rs function it follows.
 */

const GET: Segment = [0, 'GET /eicar.txt HTTP/1.1\r\nHost: a\r\n\r\n'];

/** The one response of a GET answered by `response`, cut every way the tests cut. */
function answer(response: string): ReturnType<typeof run>['txs'][number]['response'] {
  const segments: Segment[] = [GET, [1, response]];
  const whole = run(segments);
  for (const how of CUTTINGS) assert.deepEqual(snapshots(run(segments, how)), snapshots(whole), JSON.stringify(how));
  return whole.txs[0]!.response;
}

describe('libhtp-rs response framing and header rules (http-evader)', () => {
  test('a chunked body that does not start with a hex digit is identity to the close, LF or not', () => {
    // response_body_chunked_length: is_valid_chunked_length_data fails, so no waiting for a line end.
    assert.equal(chunkLengthCanStart(Buffer.from('X5O!P')), false);
    assert.equal(chunkLengthCanStart(Buffer.from('\r\n \t1a')), true);
    assert.equal(chunkLengthCanStart(Buffer.from(' \r')), true);
    const r = run([GET, [1, 'HTTP/1.0 200 ok\r\nTransfer-Encoding: chunked\r\n\r\nX5O!P%@AP[4']]);
    assert.equal(text(r.txs[0]!.response.body.bytes), 'X5O!P%@AP[4');
    assert.equal(r.txs[0]!.response.framing, 'close');
    assert.ok(r.txs[0]!.hasEvent('INVALID_RESPONSE_CHUNK_LEN'));
    assert.equal(r.txs[0]!.response.truncated, false);
  });

  test('a bare CR ends a response header line, and "\\n\\r" is one line end', () => {
    // headers.rs: Side::Response accepts CR as a line ending; complete_eol_regular takes "\n\r".
    const res = answer('HTTP/1.1 200 ok\r\nContent-Disposition: attachment\rTransfer-Encoding: chunked\n\rX: y\r\n\r\n2\r\nok\r\n0\r\n\r\n');
    assert.equal(text(res.header('content-disposition')), 'attachment');
    assert.equal(res.framing, 'chunked');
    assert.equal(text(res.header('x')), 'y');
    assert.equal(text(res.body.bytes), 'ok');
  });

  test('a response continuation line that reads "name:" is a header of its own', () => {
    // headers.rs value(): "Peek ahead for ambiguous name with lws vs. value with folding".
    const res = answer('HTTP/1.1 200 ok\r\nConnection: close\r\n Transfer-Encoding: chunked\r\nX: one\r\n two\r\n\r\n2\r\nok\r\n0\r\n\r\n');
    assert.equal(text(res.header('connection')), 'close');
    assert.equal(res.framing, 'chunked');
    assert.equal(text(res.header('x')), 'one two', 'a real continuation still folds');
  });

  test('deformed line ends ("\\r\\n\\r\\r", "\\r\\n\\r \\r") end the header before them', () => {
    // headers.rs complete_eol_deformed.
    for (const junk of ['\r\n\r\r', '\r\n\r \r']) {
      const res = answer(`HTTP/1.1 200 ok\r\nConnection: close${junk}Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n`);
      assert.equal(text(res.header('connection')), 'close', JSON.stringify(junk));
      assert.equal(res.framing, 'chunked', JSON.stringify(junk));
    }
  });

  test('names run to the colon and are trimmed; look-ups ignore NULs', () => {
    // headers.rs name(), Name::new (trimmed); get_nocase_nozero / index_of_nocase_nozero.
    for (const line of ['Transfer\0-Encoding: chu\0nked', 'Transfer-Encoding\x0b:chunked', 'Transfer-Encoding\r :chunked', 'Transfer-Encoding:\n\0chunked']) {
      const res = answer(`HTTP/1.1 200 ok\r\n${line}\r\n\r\n2\r\nok\r\n0\r\n\r\n`);
      assert.equal(res.framing, 'chunked', JSON.stringify(line));
      assert.equal(text(res.body.bytes), 'ok', JSON.stringify(line));
    }
    const gz = answer('HTTP/1.1 200 ok\r\nContent-Encoding:\0gzip\r\nContent-Length: 0\r\n\r\n');
    assert.deepEqual(gz.codings, ['gzip']);
  });

  test('an empty continuation line ends the header block', () => {
    // headers.rs value(): an empty fold is left unconsumed and read as the end of the headers.
    for (const end of ['\n \n', '\n\t\n', '\n\r\r\n']) {
      const res = answer(`HTTP/1.1 200 ok\r\nContent-Length: 3${end}abc`);
      assert.equal(text(res.header('content-length')), '3', JSON.stringify(end));
      assert.equal(text(res.body.bytes), 'abc', JSON.stringify(end));
    }
  });

  test('a status line ends at a bare CR too', () => {
    // response.rs response_line: take_till_eol.
    const res = answer('HTTP/1.1 200 ok\rTransfer-Encoding:chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n');
    assert.equal(res.status, 200);
    assert.equal(text(res.message), 'ok');
    assert.equal(res.framing, 'chunked');
  });

  test('a line before the status line is skipped when "H" follows or it is short; otherwise it is body', () => {
    // response.rs response_line_complete: treat_response_line_as_body, then the next-line check.
    for (const junk of [' \r\n', ' \t\r\r\n', 'foobar\r\n', ' SIP/2.0 200 ok\r\n', ' \r']) {
      const res = answer(`${junk}HTTP/1.1 200 ok\r\nContent-Length: 2\r\n\r\nok`);
      assert.equal(res.status, 200, JSON.stringify(junk));
      assert.equal(text(res.body.bytes), 'ok', JSON.stringify(junk));
    }
    const body = answer('foobar\r\nnot http\r\n');
    assert.ok(body.noStatusLine);
    assert.equal(text(body.body.bytes), 'foobar\r\nnot http\r\n');
  });

  test('chomp drops every trailing CR and LF, as libhtp-rs util.rs chomp', () => {
    assert.equal(text(chomp(Buffer.from('test\n\r\r\n\r'))), 'test');
    assert.equal(text(chomp(Buffer.from('te\nst'))), 'te\nst');
  });

  test('the header block parser waits for the bytes that decide a line end', () => {
    // "\n" then "\r" is one line end in a response; with the "\r" not yet there, nothing is decided.
    const cut = parseHeaderBlock(Buffer.from('A: b\n'), 'response', false);
    assert.deepEqual([cut.headers.length, cut.consumed, cut.done], [0, 0, false]);
    const whole = parseHeaderBlock(Buffer.from('A: b\n\r\r\nbody'), 'response', false);
    assert.deepEqual([whole.headers.length, whole.consumed, whole.done], [1, 8, true]);
    // At the stream's end the shorter line end counts.
    const closed = parseHeaderBlock(Buffer.from('A: b\n\n'), 'response', true);
    assert.deepEqual([closed.headers.length, closed.consumed, closed.done], [1, 6, true]);
  });
});
