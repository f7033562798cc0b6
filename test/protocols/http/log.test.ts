import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { contentTypeField, eveString, httpRecord, parseContentRange } from '../../../src/protocols/http/log.js';
import { bytes, run, type Segment } from './craft.js';

/** The record of each transaction of an exchange, in order. */
function records(segments: readonly Segment[], dumpAllHeaders?: 'none' | 'request' | 'response' | 'both'): Array<Record<string, unknown>> {
  return run(segments).txs.map((tx) => httpRecord(tx, dumpAllHeaders === undefined ? {} : { dumpAllHeaders }) as unknown as Record<string, unknown>);
}

describe('the http record', () => {
  test("fields come in Suricata's order: basic, then extended", () => {
    const [r] = records([
      [0, 'GET /p?q=1 HTTP/1.1\r\nHost: Example.ORG:80\r\nUser-Agent: ua\r\nX-Forwarded-For: 10.9.9.9\r\nReferer: /from\r\n\r\n'],
      [1, 'HTTP/1.1 206 Partial Content\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 10-14/200\r\nLocation: /next\r\nContent-Length: 5\r\n\r\nabcde'],
    ]);
    assert.deepEqual(Object.entries(r!), [
      ['hostname', 'example.org'],
      ['http_port', 80],
      ['url', '/p?q=1'],
      ['http_user_agent', 'ua'],
      ['xff', '10.9.9.9'],
      ['http_content_type', 'text/plain'],
      ['content_range', { raw: 'bytes 10-14/200', start: 10, end: 14, size: 200 }],
      ['http_refer', '/from'],
      ['http_method', 'GET'],
      ['protocol', 'HTTP/1.1'],
      ['status', 206],
      ['redirect', '/next'],
      ['length', 5],
    ]);
  });

  test('http_port is there only when a port was written; url is the raw URI', () => {
    const [a, b] = records([[0, 'GET /%7Euser/a%20b HTTP/1.1\r\nHost: h\r\n\r\nGET http://u.example:8081/ HTTP/1.1\r\n\r\n']]);
    assert.equal(a!.http_port, undefined);
    assert.equal(a!.url, '/%7Euser/a%20b');
    assert.equal(b!.hostname, 'u.example');
    assert.equal(b!.http_port, 8081);
  });

  test('a status that is not a number is status_string; no response, no status, length 0', () => {
    const [bad, none] = records([
      [0, 'GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n'],
      [1, 'HTTP/1.1 2x0 Odd\r\nContent-Length: 0\r\n\r\n'],
    ]);
    assert.equal(bad!.status, undefined);
    assert.equal(bad!.status_string, '2x0');
    assert.equal(none!.status, undefined);
    assert.equal(none!.status_string, undefined);
    assert.equal(none!.length, 0);
  });

  test('HTTP/0.9: no protocol field', () => {
    const [r] = records([
      [0, 'GET /old\r\n'],
      [1, 'body'],
    ]);
    assert.equal(r!.protocol, undefined);
    assert.equal(r!.http_method, 'GET');
    assert.equal(r!.length, 4);
  });

  test('bytes that are not UTF-8 are written as \\xNN; valid UTF-8 as text', () => {
    assert.equal(eveString(bytes('caf\xc3\xa9')), 'café');
    assert.equal(eveString(bytes('a\xff\x00b')), 'a\\xff\x00b');
    assert.equal(eveString(bytes('\xef\xbb\xbfbom')), '\ufeffbom', 'a BOM is kept');
    const [r] = records([[0, 'GET /\xe9t\xe9 HTTP/1.1\r\nHost: h\r\nUser-Agent: \xff\r\n\r\n']]);
    assert.equal(r!.url, '/\\xe9t\\xe9');
    assert.equal(r!.http_user_agent, '\\xff');
  });

  test('http_content_type: cut at ";", NUL as \\0, left out when not UTF-8', () => {
    assert.equal(contentTypeField(bytes('text/html;charset=x')), 'text/html');
    assert.equal(contentTypeField(bytes('a\x00b')), 'a\\0b');
    assert.equal(contentTypeField(bytes('text/\xff')), null);
    const [r] = records([
      [0, 'GET / HTTP/1.1\r\nHost: h\r\n\r\n'],
      [1, 'HTTP/1.1 200 OK\r\nContent-Type: \xfe\r\nContent-Length: 0\r\n\r\n'],
    ]);
    assert.equal('http_content_type' in r!, false);
  });

  test("Content-Range is read as Suricata's range parser reads it", () => {
    assert.deepEqual(parseContentRange(bytes('bytes */100')), { start: -1, end: -1, size: 100 });
    assert.deepEqual(parseContentRange(bytes(' bytes 30-68/*')), { start: 30, end: 68, size: -1 });
    assert.deepEqual(parseContentRange(bytes('bytes 1-2/3 trailing')), { start: 1, end: 2, size: 3 });
    assert.equal(parseContentRange(bytes('*/100')), null, 'a unit is required');
    assert.equal(parseContentRange(bytes('bytes 1-/3')), null);
    const [r] = records([
      [0, 'GET / HTTP/1.1\r\nHost: h\r\n\r\n'],
      [1, 'HTTP/1.1 206 Partial\r\nContent-Range: bytes */5\r\nContent-Length: 0\r\n\r\n'],
    ]);
    assert.deepEqual(r!.content_range, { raw: 'bytes */5', size: 5 });
  });

  test('dump-all-headers (off by default) lists every header, repeats joined, in order', () => {
    const seg: Segment[] = [
      [0, 'GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\na: 2\r\n\r\n'],
      [1, 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'],
    ];
    assert.equal('request_headers' in records(seg)[0]!, false);
    const [both] = records(seg, 'both');
    assert.deepEqual(both!.request_headers, [
      { name: 'Host', value: 'h' },
      { name: 'A', value: '1, 2' },
    ]);
    assert.deepEqual(both!.response_headers, [{ name: 'Content-Length', value: '0' }]);
    const [req] = records(seg, 'request');
    assert.equal('response_headers' in req!, false);
  });
});
