import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { HttpSession } from '../../../src/protocols/http/session.js';
import type { InspectableTx } from '../../../src/rules/buffers.js';
import { CUTTINGS, drive, FakeOutput, text, type Segment } from './craft.js';

const sha256 = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

function session(segments: readonly Segment[], options: { close?: boolean; how?: (typeof CUTTINGS)[number] } = {}): { out: FakeOutput; s: HttpSession } {
  const out = new FakeOutput();
  const s = new HttpSession(out);
  drive(s, segments, options.how ?? 'whole', options.close === false ? { close: false } : {});
  return { out, s };
}

/** At every inspection, which of the named buffers the rules could see, as "side:name=value|null". */
function watch(out: FakeOutput, names: readonly string[]): string[] {
  const seen: string[] = [];
  out.onInspect = (tx: InspectableTx, dir: number) => {
    const parts = names.map((n) => `${n}=${text(tx.buffer(n, dir))}`);
    seen.push(`${tx.id}:${dir} ${parts.join(' ')}`);
  };
  return seen;
}

describe('HttpSession: inspection points', () => {
  test('a GET is inspected at its headers; its response at its headers and again at its body end', () => {
    const out = new FakeOutput();
    const seen = watch(out, ['http.uri', 'http.stat_code', 'http.response_body']);
    drive(new HttpSession(out), [
      [0, 'GET /index.html HTTP/1.1\r\nHost: a.example\r\n\r\n'],
      [1, 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello'],
    ]);
    assert.deepEqual(out.sequence, ['inspect 0:0', 'inspect 0:1', 'file 0:to_client', 'inspect 0:1', 'record 0']);
    assert.deepEqual(seen, [
      '0:0 http.uri=/index.html http.stat_code=null http.response_body=null',
      '0:1 http.uri=/index.html http.stat_code=200 http.response_body=null',
      '0:1 http.uri=/index.html http.stat_code=200 http.response_body=hello',
    ]);
  });

  test('a POST is inspected at its headers (no body yet) and again with its body', () => {
    const out = new FakeOutput();
    const seen = watch(out, ['http.method', 'http.request_body', 'file.data']);
    drive(new HttpSession(out), [
      [0, 'POST /form HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\nuser=root'],
      [1, 'HTTP/1.1 204 No Content\r\n\r\n'],
    ]);
    assert.deepEqual(out.sequence, ['inspect 0:0', 'file 0:to_server', 'inspect 0:0', 'inspect 0:1', 'record 0']);
    assert.deepEqual(seen.slice(0, 2), ['0:0 http.method=POST http.request_body=null file.data=null', '0:0 http.method=POST http.request_body=user=root file.data=user=root']);
    assert.equal(seen[2], '0:1 http.method=POST http.request_body=user=root file.data=null', 'file.data on the response side is the response body (none)');
  });

  test('pipelined requests are separate transactions, answered and logged in order', () => {
    const { out } = session([
      [0, 'GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /two HTTP/1.1\r\nHost: a\r\n\r\n'],
      [1, 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'],
    ]);
    assert.deepEqual(out.sequence, ['inspect 0:0', 'inspect 1:0', 'inspect 0:1', 'file 0:to_client', 'inspect 0:1', 'record 0', 'inspect 1:1', 'record 1']);
    assert.deepEqual(
      out.records.map((r) => [r.url, r.status]),
      [
        ['/one', 200],
        ['/two', 404],
      ],
    );
    assert.deepEqual(
      out.log.flatMap((e) => (e.kind === 'record' ? [e.txId] : [])),
      [0, 1],
    );
  });

  test('the body is inspected as soon as the inspection window (100 KiB) is full, not only at its end', () => {
    const out = new FakeOutput();
    const sizes: Array<number | null> = [];
    out.onInspect = (tx, dir) => {
      if (dir === 1) sizes.push(tx.buffer('file.data', 1)?.length ?? null);
    };
    const s = new HttpSession(out);
    const body = Buffer.alloc(300 * 1024, 0x61);
    s.data(1, Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 307200\r\n\r\n'), 0, 43);
    drive(s, [[1, body.subarray(0, 150 * 1024)]], 4096, { close: false });
    assert.deepEqual(sizes, [null, 102400], 'headers, then the full window');
    drive(s, [[1, body.subarray(150 * 1024)]], 'whole');
    assert.deepEqual(sizes, [null, 102400, 102400]);
  });

  test('a transaction cut short is inspected with what it has and logged when the flow ends', () => {
    const out = new FakeOutput();
    const seen = watch(out, ['file.data']);
    drive(new HttpSession(out), [
      [0, 'GET /big HTTP/1.1\r\nHost: a\r\n\r\n'],
      [1, 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789'],
    ]);
    assert.deepEqual(out.sequence, ['inspect 0:0', 'inspect 0:1', 'inspect 0:1', 'file 0:to_client', 'record 0']);
    assert.deepEqual(seen.slice(1), ['0:1 file.data=null', '0:1 file.data=0123456789']);
    assert.equal(out.records[0]!.length, 10);
    assert.equal(out.files[0]!.state, 'TRUNCATED');
  });

  test('a request left unanswered is logged at the end without a response side inspection', () => {
    const { out } = session([[0, 'GET /x HTTP/1.1\r\nHost: a\r\n\r\n']]);
    assert.deepEqual(out.sequence, ['inspect 0:0', 'record 0']);
    assert.deepEqual(out.records[0], { hostname: 'a', url: '/x', http_method: 'GET', protocol: 'HTTP/1.1', length: 0 });
  });

  test('an HTTP/0.9 request (no headers) is inspected once, when it is complete', () => {
    const { out } = session([
      [0, 'GET /old\r\n'],
      [1, 'just a body'],
    ]);
    assert.deepEqual(out.sequence, ['inspect 0:0', 'file 0:to_client', 'inspect 0:1', 'record 0'], 'the answer, read to the close, completes then');
    assert.equal(out.files[0]!.size, 11);
    assert.equal(out.files[0]!.state, 'CLOSED');
  });

  test('the same bytes cut any way give the same inspections, records, events and files', () => {
    const gz = gzipSync(Buffer.from('gzip body '.repeat(500)));
    const segments: Segment[] = [
      [0, 'GET /a HTTP/1.1\r\nHost: h\r\nBad header line\r\n\r\nPOST /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'],
      [1, Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${gz.length}\r\n\r\n`), gz, Buffer.from('HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok')])],
    ];
    const shape = (out: FakeOutput): unknown => [out.sequence, out.records, out.files, out.anomalies];
    const expected = shape(session(segments).out);
    for (const how of CUTTINGS) assert.deepEqual(shape(session(segments, { how }).out), expected, `cut ${JSON.stringify(how)}`);
  });
});

describe('HttpSession: events', () => {
  test("the parser's anomalies are applayer events with Suricata's names, in upper case", () => {
    const { out } = session([
      [0, 'GET / HTTP/1.1\r\nNoColonHere\r\nHost: a\r\n\r\n'],
      [1, 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'],
    ]);
    assert.deepEqual(out.anomalies, ['0:REQUEST_FIELD_MISSING_COLON', '1:UNABLE_TO_MATCH_RESPONSE_TO_REQUEST']);
    assert.equal(out.records.length, 2, 'the unmatched response is a transaction of its own');
    assert.deepEqual(out.records[1], { status: 200, length: 0 });
  });

  test('a file name past 4096 bytes is cut there, with FILE_NAME_TOO_LONG', () => {
    const path = `/${'n'.repeat(5000)}`;
    const { out } = session([
      [0, `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`],
      [1, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi'],
    ]);
    assert.ok(out.anomalies.includes('0:FILE_NAME_TOO_LONG'));
    assert.equal(out.files[0]!.filename, path.slice(0, 4096));
  });
});

describe('HttpSession: files', () => {
  test('a chunked gzip response is one file of its decompressed bytes', () => {
    const content = Buffer.from('<html>'.padEnd(20000, 'z'));
    const gz = gzipSync(content);
    const chunks = [gz.subarray(0, 100), gz.subarray(100)].map((c) => Buffer.concat([Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n')]));
    const { out } = session([
      [0, 'GET /page.html?x=1 HTTP/1.1\r\nHost: a\r\n\r\n'],
      [1, Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n'), ...chunks, Buffer.from('0\r\n\r\n')])],
    ]);
    assert.deepEqual(out.files, [
      {
        filename: '/page.html',
        gaps: false,
        size: content.length,
        sha256: sha256(content),
        magic: 'HTML document, ASCII text',
        state: 'CLOSED',
        stored: false,
        direction: 'to_client',
        tx_id: 0,
        metadata: { http: { hostname: 'a', http_method: 'GET', length: gz.length, protocol: 'HTTP/1.1', status: 200, url: '/page.html?x=1' } },
      },
    ]);
    assert.equal(out.records[0]!.length, gz.length, 'the record counts the de-chunked, still compressed bytes');
  });

  test('POST and PUT bodies are files named by the normalised path; GET bodies and HEAD answers are not', () => {
    const { out } = session([
      [0, 'POST /up/../in%2Fbox?q=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\ndataPUT /put.bin HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyzGET /g HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcHEAD /h HTTP/1.1\r\nHost: a\r\n\r\n'],
      [1, 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n'],
    ]);
    assert.deepEqual(
      out.files.map((f) => [f.tx_id, f.direction, f.filename, f.size, f.state]),
      [
        [0, 'to_server', '/in/box', 4, 'CLOSED'],
        [1, 'to_server', '/put.bin', 3, 'CLOSED'],
      ],
    );
  });

  test("a response's Content-Disposition filename names its file", () => {
    const { out } = session([
      [0, 'GET /download?id=7 HTTP/1.1\r\nHost: a\r\n\r\n'],
      [1, 'HTTP/1.1 200 OK\r\nContent-Disposition: attachment; filename="report; final.pdf"\r\nContent-Length: 8\r\n\r\n%PDF-1.4'],
    ]);
    assert.equal(out.files[0]!.filename, 'report; final.pdf');
    assert.equal(out.files[0]!.magic, 'PDF document, version 1.4');
  });

  test('a multipart POST gives one file per part that names a file, with its own name', () => {
    const body = [
      '--XyZ',
      'Content-Disposition: form-data; name="comment"',
      '',
      'just a field',
      '--XyZ',
      'Content-Disposition: form-data; name="upload"; filename="shell.php"',
      'Content-Type: application/octet-stream',
      '',
      '<?php echo 1; ?>',
      '--XyZ',
      'Content-Disposition: form-data; name="second"; filename=notes.txt',
      '',
      'line one\r\nline two',
      '--XyZ--',
      '',
    ].join('\r\n');
    const out = new FakeOutput();
    const names: Array<string | null> = [];
    out.onInspect = (tx, dir) => names.push(`${dir}:${text(tx.buffer('file.name', dir))}`);
    drive(new HttpSession(out), [
      [0, `POST /upload.php HTTP/1.1\r\nHost: a\r\nContent-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: ${body.length}\r\n\r\n${body}`],
      [1, 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'],
    ]);
    assert.deepEqual(
      out.files.map((f) => [f.filename, f.size, f.sha256, f.state, f.direction]),
      [
        ['shell.php', 16, sha256('<?php echo 1; ?>'), 'CLOSED', 'to_server'],
        ['notes.txt', 18, sha256('line one\r\nline two'), 'CLOSED', 'to_server'],
      ],
    );
    assert.equal(out.files[0]!.magic, 'PHP script, ASCII text');
    assert.deepEqual(names.slice(0, 2), ['0:null', '0:shell.php'], 'file.name is the first part file, once the body is in');
  });

  test('a multipart part whose closing boundary never comes is TRUNCATED', () => {
    const { out } = session([[0, 'POST /u HTTP/1.1\r\nHost: a\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 200\r\n\r\n--b\r\nContent-Disposition: form-data; filename="a.bin"\r\n\r\nabcdef']]);
    assert.deepEqual(
      out.files.map((f) => [f.filename, f.size, f.state]),
      [['a.bin', 6, 'TRUNCATED']],
    );
  });

  test('a body past the body limit makes a file of the first 100 KiB, TRUNCATED', () => {
    const content = Buffer.alloc(150 * 1024, 0x42);
    const { out } = session([
      [0, 'GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n'],
      [1, Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${content.length}\r\n\r\n`), content])],
    ]);
    assert.deepEqual(
      out.files.map((f) => [f.size, f.state, f.sha256]),
      [[102400, 'TRUNCATED', sha256(content.subarray(0, 102400))]],
    );
    assert.equal(out.records[0]!.length, content.length, 'the record still counts the whole body');
  });

  test('a body of exactly the limit is a complete file', () => {
    const content = Buffer.alloc(102400, 0x43);
    const { out } = session([
      [0, 'GET /exact HTTP/1.1\r\nHost: a\r\n\r\n'],
      [1, Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${content.length}\r\n\r\n`), content])],
    ]);
    assert.deepEqual(
      out.files.map((f) => [f.size, f.state]),
      [[102400, 'CLOSED']],
    );
  });

  test('a gap in the body makes the file TRUNCATED (with the bytes before the hole)', () => {
    const out = new FakeOutput();
    const s = new HttpSession(out);
    drive(s, [
      [0, 'GET /f HTTP/1.1\r\nHost: a\r\n\r\n'],
      [1, 'HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n12345'],
    ], 'whole', { close: false });
    s.gap(1, 10);
    drive(s, [[1, 'abcde']]);
    assert.deepEqual(
      out.files.map((f) => [f.size, f.state, f.sha256]),
      [[5, 'TRUNCATED', sha256('12345')]],
    );
    assert.equal(out.records.length, 1);
  });

  test('junk instead of a status line is body but makes no file', () => {
    const { out } = session([
      [0, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'],
      [1, 'garbage that is not HTTP\r\n'],
    ]);
    assert.deepEqual(out.files, []);
  });

  test('a response that answers no request has no name for its file, so no file', () => {
    const { out } = session([[1, 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc']]);
    assert.deepEqual(out.files, []);
    assert.equal(out.records.length, 1);
  });

  test('stored files keep their bytes up to the store cap', () => {
    const out = new FakeOutput({ enabled: true, maxBytes: 1 << 20 });
    drive(new HttpSession(out), [
      [0, 'GET /s HTTP/1.1\r\nHost: a\r\n\r\n'],
      [1, 'HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nstored'],
    ]);
    assert.equal(out.files[0]!.stored, true);
    assert.equal(text(out.files[0]!.content ?? null), 'stored');
  });
});
