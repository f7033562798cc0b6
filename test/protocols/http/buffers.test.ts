import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { HTTP_BUFFERS, HttpTxView } from '../../../src/protocols/http/buffers.js';
import { HttpSession } from '../../../src/protocols/http/session.js';
import { BUFFERS } from '../../../src/rules/buffers.js';
import type { InspectableTx } from '../../../src/rules/buffers.js';
import { drive, FakeOutput, text, type Segment } from './craft.js';

/** Runs the exchange and returns the transaction views rules saw, by id. */
function views(segments: readonly Segment[]): InspectableTx[] {
  const out = new FakeOutput();
  drive(new HttpSession(out), segments);
  const byId = new Map<number, InspectableTx>();
  for (const e of out.log) if (e.kind === 'inspect') byId.set(e.tx.id, e.tx);
  return [...byId.values()];
}

const REQUEST = [
  'GET /a/../b%41?x=%41 HTTP/1.1',
  'Host: WWW.Example.com:8080',
  'User-Agent: UA/1.0',
  'Cookie: c=1',
  'Referer: http://ref.example/',
  'Accept: */*',
  'Accept-Encoding: gzip',
  'Accept-Language: en-GB',
  'Connection: keep-alive',
  'X-Two: 1',
  'x-two: 2',
  '',
  '',
].join('\r\n');

const gz = gzipSync(Buffer.from('hello'));
const RESPONSE = Buffer.concat([
  Buffer.from(
    [
      'HTTP/1.1 404 Not Found',
      'Server: srv/2',
      'Set-Cookie: s=1',
      'Location: /elsewhere',
      'Content-Type: text/html',
      'Content-Encoding: gzip',
      `Content-Length: ${gz.length}`,
      'Connection: close',
      '',
      '',
    ].join('\r\n'),
  ),
  gz,
]);

describe('HTTP buffers', () => {
  const [tx] = views([
    [0, REQUEST],
    [1, RESPONSE],
  ]);
  const b = (name: string, side: number): string | null => text(tx!.buffer(name, side));

  test('every HTTP buffer the rules know is filled by the HTTP transaction, and only those', () => {
    const known = BUFFERS.filter((s) => s.proto === 'http').map((s) => s.name);
    for (const name of known) assert.ok((HTTP_BUFFERS as readonly string[]).includes(name), name);
    assert.deepEqual(
      HTTP_BUFFERS.filter((n) => !known.includes(n)),
      ['file.name'],
    );
  });

  test('request line buffers: normalised and raw URI, method, line, protocol', () => {
    assert.equal(b('http.uri', 0), '/bA?x=A');
    assert.equal(b('http.uri.raw', 0), '/a/../b%41?x=%41');
    assert.equal(b('http.method', 0), 'GET');
    assert.equal(b('http.request_line', 0), 'GET /a/../b%41?x=%41 HTTP/1.1');
    assert.equal(b('http.protocol', 0), 'HTTP/1.1');
  });

  test('host: normalised (lowercase, no port) and raw (the header as sent)', () => {
    assert.equal(b('http.host', 0), 'www.example.com');
    assert.equal(b('http.host.raw', 0), 'WWW.Example.com:8080');
  });

  test('single-header buffers hold the value only, repeats joined with ", "', () => {
    assert.equal(b('http.user_agent', 0), 'UA/1.0');
    assert.equal(b('http.cookie', 0), 'c=1');
    assert.equal(b('http.cookie', 1), 's=1', 'Set-Cookie on the response side');
    assert.equal(b('http.referer', 0), 'http://ref.example/');
    assert.equal(b('http.accept', 0), '*/*');
    assert.equal(b('http.accept_enc', 0), 'gzip');
    assert.equal(b('http.accept_lang', 0), 'en-GB');
    assert.equal(b('http.connection', 0), 'keep-alive');
    assert.equal(b('http.connection', 1), 'close');
    assert.equal(b('http.content_type', 0), null);
    assert.equal(b('http.content_type', 1), 'text/html');
    assert.equal(b('http.content_len', 1), String(gz.length));
    assert.equal(b('http.location', 1), '/elsewhere');
    assert.equal(b('http.server', 1), 'srv/2');
    assert.equal(b('http.user_agent', 1), null, 'request-only buffers are absent on the response side');
  });

  test('http.header: "Name: value\\r\\n" per header, repeats joined, without Cookie (request) or Set-Cookie (response)', () => {
    assert.equal(
      b('http.header', 0),
      'Host: WWW.Example.com:8080\r\nUser-Agent: UA/1.0\r\nReferer: http://ref.example/\r\nAccept: */*\r\nAccept-Encoding: gzip\r\nAccept-Language: en-GB\r\nConnection: keep-alive\r\nX-Two: 1, 2\r\n',
    );
    assert.equal(b('http.header', 1), `Server: srv/2\r\nLocation: /elsewhere\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\nContent-Length: ${gz.length}\r\nConnection: close\r\n`);
  });

  test('http.header.raw is the header block as sent, empty line included', () => {
    assert.equal(b('http.header.raw', 0), REQUEST.slice(REQUEST.indexOf('\r\n') + 2));
    assert.ok(b('http.header.raw', 1)!.startsWith('Server: srv/2\r\nSet-Cookie: s=1\r\n'));
    assert.ok(b('http.header.raw', 1)!.endsWith('Connection: close\r\n\r\n'));
  });

  test('http.header_names: "\\r\\n" before, each name once as first sent, an extra "\\r\\n" after', () => {
    assert.equal(b('http.header_names', 0), '\r\nHost\r\nUser-Agent\r\nCookie\r\nReferer\r\nAccept\r\nAccept-Encoding\r\nAccept-Language\r\nConnection\r\nX-Two\r\n\r\n');
    assert.equal(b('http.header_names', 1), '\r\nServer\r\nSet-Cookie\r\nLocation\r\nContent-Type\r\nContent-Encoding\r\nContent-Length\r\nConnection\r\n\r\n');
  });

  test('http.start: start line and headers (Cookie kept) as "Name: value\\r\\n", then an extra "\\r\\n"', () => {
    assert.equal(
      b('http.start', 0),
      'GET /a/../b%41?x=%41 HTTP/1.1\r\nHost: WWW.Example.com:8080\r\nUser-Agent: UA/1.0\r\nCookie: c=1\r\nReferer: http://ref.example/\r\nAccept: */*\r\nAccept-Encoding: gzip\r\nAccept-Language: en-GB\r\nConnection: keep-alive\r\nX-Two: 1, 2\r\n\r\n',
    );
    assert.ok(b('http.start', 1)!.startsWith('HTTP/1.1 404 Not Found\r\nServer: srv/2\r\nSet-Cookie: s=1\r\n'));
  });

  test('status line buffers', () => {
    assert.equal(b('http.response_line', 1), 'HTTP/1.1 404 Not Found');
    assert.equal(b('http.stat_code', 1), '404');
    assert.equal(b('http.stat_msg', 1), 'Not Found');
    assert.equal(b('http.protocol', 1), 'HTTP/1.1');
  });

  test('bodies: the response decompressed for http.response_body and file.data; file.name the normalised path', () => {
    assert.equal(b('http.response_body', 1), 'hello');
    assert.equal(b('file.data', 1), 'hello');
    assert.equal(b('http.request_body', 0), null, 'a GET has no body');
    assert.equal(b('file.data', 0), null);
    assert.equal(b('file.name', 1), '/bA');
    assert.equal(b('file.name', 0), null);
  });

  test('buffers are cached: asking twice returns the same bytes', () => {
    assert.equal(tx!.buffer('http.header', 0), tx!.buffer('http.header', 0));
    assert.equal(tx!.buffer('http.no_such_buffer', 0), null);
    assert.equal(tx!.buffer('http.uri', 2), null);
  });

  test('a POST body is http.request_body and file.data on the request side; no headers, no header buffers', () => {
    const [post] = views([[0, 'POST /p HTTP/1.0\r\nContent-Length: 4\r\n\r\nbodyPOST /q HTTP/1.0\r\n\r\n']]);
    assert.equal(text(post!.buffer('http.request_body', 0)), 'body');
    assert.equal(text(post!.buffer('file.data', 0)), 'body');
    assert.equal(text(post!.buffer('http.host', 0)), null, 'no Host header, no absolute URI');
    const [, bare] = views([[0, 'POST /p HTTP/1.0\r\nContent-Length: 0\r\n\r\nPOST /q HTTP/1.0\r\n\r\n']]);
    assert.equal(bare!.buffer('http.header_names', 0), null, 'empty: Suricata never matches an empty buffer');
    assert.equal(bare!.buffer('http.header', 0), null);
    const [empty] = views([[0, 'GET / HTTP/1.1\r\nHost: a\r\nUser-Agent:\r\n\r\n']]);
    assert.equal(empty!.buffer('http.user_agent', 0), null, 'an empty value is no buffer either');
    assert.equal(text(bare!.buffer('http.start', 0)), 'POST /q HTTP/1.0\r\n', 'no headers: no closing line end');
  });

  test('an absolute URI gives the host; a Host header disagreeing does not replace it', () => {
    const [proxy] = views([[0, 'GET http://Proxy.Example:3128/x?y HTTP/1.1\r\nHost: other.example\r\n\r\n']]);
    assert.equal(text(proxy!.buffer('http.host', 0)), 'proxy.example');
    assert.equal(text(proxy!.buffer('http.host.raw', 0)), 'Proxy.Example');
    assert.equal(text(proxy!.buffer('http.uri', 0)), '/x?y');
  });

  test('trailers after a chunked body join the headers once they arrive (the cache follows the transaction)', () => {
    const out = new FakeOutput();
    const s = new HttpSession(out);
    drive(s, [[0, 'POST /t HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n']], 'whole', { close: false });
    const view = out.log.find((e) => e.kind === 'inspect')!.tx as HttpTxView;
    assert.equal(text(view.buffer('http.header', 0)), 'Host: a\r\nTransfer-Encoding: chunked\r\n');
    drive(s, [[0, '0\r\nX-Trailer: t\r\n\r\n']]);
    assert.equal(text(view.buffer('http.header', 0)), 'Host: a\r\nTransfer-Encoding: chunked\r\nX-Trailer: t\r\n');
    assert.equal(text(view.buffer('http.request_body', 0)), 'ab');
  });

  test("alerts carry the transaction's http record as far as it is known", () => {
    assert.deepEqual(tx!.alertMetadata!(), {
      http: { hostname: 'www.example.com', http_port: 8080, url: '/a/../b%41?x=%41', http_user_agent: 'UA/1.0', http_content_type: 'text/html', http_refer: 'http://ref.example/', http_method: 'GET', protocol: 'HTTP/1.1', status: 404, redirect: '/elsewhere', length: gz.length },
    });
  });
});
