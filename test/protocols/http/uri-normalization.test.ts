import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bestfit, normalizeUri, parseHostPort, parseUri, validHostname } from '../../../src/protocols/http/uri.js';
import { bytes, run, text } from './craft.js';

function norm(uri: string): string {
  return text(normalizeUri(bytes(uri), false).normalized)!;
}

describe('URI normalisation (libhtp, IDS personality, Suricata defaults)', () => {
  const cases: Array<[raw: string, normalized: string, why: string]> = [
    ['/index.html', '/index.html', 'plain'],
    ['/a/b/../c', '/a/c', 'dot-dot segment'],
    ['/a/./b/.', '/a/b', 'dot segments (libhtp drops the final slash RFC 3986 would keep)'],
    ['/a/b/..', '/a', 'a final ".." (libhtp)'],
    ['/..', '', 'nothing left'],
    ['/../../etc/passwd', '/etc/passwd', 'cannot climb above the root'],
    ['/a//b///c', '/a/b/c', 'separators compressed'],
    ['/a\\b\\..\\c', '/a/c', 'backslashes are separators'],
    ['/%2e%2e/%2e%2e/etc/passwd', '/etc/passwd', 'encoded dots decoded before dot removal'],
    ['/a%2fb%5Cc', '/a/b/c', 'encoded separators decoded (path-separators-decode)'],
    ['/%41%42%43', '/ABC', 'unreserved characters decoded'],
    ['/%3C%3e%22', '/<>"', 'reserved characters decoded too'],
    ['/%zz%4', '/%zz%4', 'invalid escapes preserved'],
    ['/a%00b', '/a\x00b', 'encoded NUL kept'],
    ['/%u0061dmin', '/admin', '%u escapes decoded'],
    ['/%uff0e%uff0e/x', '/x', 'full-width dots fold to dots, then dot removal'],
    ['/%u2215etc', '/etc', 'division slash best-fits to a separator, compressed'],
    ['/%u4e2d', '/?', 'no best fit: the replacement byte'],
    ['/caf%C3%A9', '/caf\xe9', 'UTF-8 becomes one byte'],
    ['/%c0%ae%c0%ae/x', '/x', 'overlong UTF-8 dots decoded, then removed'],
    ['/%c0%af', '//', 'an overlong slash appears after separator compression (libhtp order)'],
    ['/\xe2\x88\x95etc', '//etc', 'raw UTF-8 division slash'],
    ['/\xff\xfe', '/??', 'invalid UTF-8 bytes are replaced'],
    ['/a\xc3', '/a', 'a cut-off UTF-8 sequence is dropped'],
    ['/Admin/INDEX.html', '/Admin/INDEX.html', 'case kept (Suricata turns IDS lowercasing off)'],
    ['/p?a=%41%42+c&d=%u0041', '/p?a=AB+c&d=%u0041', 'query: %XX decoded, not %u, "+" kept'],
    ['/p?x=../../y', '/p?x=../../y', 'no path rules in the query'],
    ['/p#fr%41g', '/p#frAg', 'fragment decoded'],
    ['http://user:pw@Host.Example:81/x/../y?q', '/y?q', 'absolute URI: only path and query (uri-include-all off)'],
    ['*', '*', 'OPTIONS *'],
    ['', '', 'empty'],
  ];
  for (const [raw, expected, why] of cases) {
    test(`${JSON.stringify(raw)} -> ${JSON.stringify(expected)}: ${why}`, () => assert.equal(norm(raw), expected));
  }

  test('decoding notes evasion evidence', () => {
    assert.ok(normalizeUri(bytes('/a%2fb'), false).flags.encodedSeparator);
    assert.ok(normalizeUri(bytes('/%u0061'), false).flags.overlongU);
    assert.ok(normalizeUri(bytes('/%c0%af'), false).flags.utf8Overlong);
    assert.ok(normalizeUri(bytes('/%uff0e'), false).flags.halfFullRange);
    assert.ok(normalizeUri(bytes('/%zz'), false).flags.invalidEncoding);
    assert.ok(normalizeUri(bytes('/\xff'), false).flags.utf8Invalid);
    assert.ok(normalizeUri(bytes('/caf%C3%A9'), false).flags.utf8Valid);
    assert.ok(normalizeUri(bytes('/a%00'), false).flags.encodedNul);
  });

  test('the raw URI is kept exactly, the normalised one beside it', () => {
    const raw = 'GET /a/./b/../%63%2F?q=%41 HTTP/1.1\r\nHost: a\r\n\r\n';
    const tx = run([[0, raw]]).txs[0]!;
    assert.equal(text(tx.request.uri), '/a/./b/../%63%2F?q=%41');
    assert.equal(text(tx.request.uriNormalized), '/a/c/?q=A');
  });

  test('URI parts split as libhtp does', () => {
    const p = parseUri(bytes('https://u:p@[::1]:8443/path;x?q=1#frag'));
    assert.deepEqual(
      Object.fromEntries(Object.entries(p).map(([k, v]) => [k, text(v as Uint8Array | null)])),
      { scheme: 'https', username: 'u', password: 'p', hostname: '[::1]', port: '8443', path: '/path;x', query: 'q=1', fragment: 'frag' },
    );
    assert.equal(text(parseUri(bytes('http:///x')).hostname), null, 'three slashes: a path, no authority');
    assert.equal(text(parseUri(bytes('//host/x')).path), '//host/x', 'no scheme: no authority either');
  });

  test('absolute URIs and CONNECT targets give the host, lowercased, trailing dots removed', () => {
    const n = normalizeUri(bytes('http://WWW.Example.COM.:8080/'), false);
    assert.equal(text(n.hostname), 'www.example.com');
    assert.equal(n.portNumber, 8080);
    const c = normalizeUri(bytes('Mail.Example:993'), true);
    assert.equal(text(c.hostname), 'mail.example');
    assert.equal(c.portNumber, 993);
    assert.equal(text(c.normalized), '');
    assert.ok(normalizeUri(bytes('http://a:0/'), false).hostInvalid, 'port 0');
    assert.ok(normalizeUri(bytes('http://a b/'), false).hostInvalid);
  });

  test('Host header values', () => {
    const h = parseHostPort(bytes(' Example.COM:80 '));
    assert.deepEqual([text(h.hostname), h.portNumber, h.invalid], ['example.com', 80, false]);
    const v6 = parseHostPort(bytes('[2001:DB8::1]:8080'));
    assert.deepEqual([text(v6.hostname), v6.portNumber, v6.invalid], ['[2001:db8::1]', 8080, false]);
    assert.ok(parseHostPort(bytes('[2001:db8::1')).invalid);
    assert.ok(parseHostPort(bytes('a:b')).invalid);
    assert.ok(parseHostPort(bytes('')).invalid);
    assert.ok(parseHostPort(bytes('a..b')).invalid);
  });

  test('hostname validation (htp_validate_hostname)', () => {
    for (const ok of ['a', 'a.b', 'www.example.com.', 'under_score.example', '[::1]', 'x'.repeat(63)]) assert.ok(validHostname(bytes(ok)), ok);
    for (const bad of ['', 'a..b', '.a', 'a b', 'a/b', 'x'.repeat(64), '[::g]', `${'a.'.repeat(128)}a`]) assert.ok(!validHostname(bytes(bad)), bad);
  });

  test('best fit folds look-alikes to ASCII and nothing else', () => {
    assert.equal(bestfit(0xe9), 0xe9);
    assert.equal(String.fromCharCode(bestfit(0x0100)), 'A');
    assert.equal(String.fromCharCode(bestfit(0x0131)), 'i');
    assert.equal(String.fromCharCode(bestfit(0xff21)), 'A');
    assert.equal(String.fromCharCode(bestfit(0x2044)), '/');
    assert.equal(String.fromCharCode(bestfit(0x2216)), '\\');
    assert.equal(String.fromCharCode(bestfit(0x3000)), ' ');
    assert.equal(String.fromCharCode(bestfit(0x4e2d)), '?');
    assert.equal(String.fromCharCode(bestfit(0x1f600)), '?');
  });
});
