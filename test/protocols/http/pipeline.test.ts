/**
 * HTTP through the whole sensor: crafted captures written to disk, read back by the capture
 * reader, decoded, reassembled, recognised by content and parsed, with rules on the HTTP buffers.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { AlertEvent } from '../../../src/events/types.js';
import { httpProtocol, probeHttp } from '../../../src/protocols/http/index.js';
import { SynthCapture, TcpConnection } from '../../../src/synth/traffic.js';
import { tempDir } from '../../helpers.js';
import { analyzeCapture, type Record_ } from '../analyze.js';
import { bytes, fakePeHeader } from './craft.js';

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Writes one crafted capture with the given conversations and returns its path. */
function capture(t: TestContext, build: (cap: SynthCapture) => void): string {
  const path = join(tempDir(t), 'http.pcap');
  const cap = new SynthCapture(path);
  build(cap);
  cap.close();
  return path;
}

const of = (events: Record_[], type: string): Record_[] => events.filter((e) => e.event_type === type);
const http = (e: Record_): Record<string, unknown> => e.http as Record<string, unknown>;
const fileinfo = (e: Record_): Record<string, unknown> => e.fileinfo as Record<string, unknown>;

describe('HTTP recognised by content', () => {
  test('the probe: a known method and a space (or tab) from the client, HTTP/0.9-1.1 from the server, any case', () => {
    assert.equal(probeHttp(0, bytes('GET / HTTP/1.1\r\n')), 'yes');
    assert.equal(probeHttp(0, bytes('post\t/x')), 'yes');
    assert.equal(probeHttp(0, bytes('PROPFIND /dav')), 'yes');
    assert.equal(probeHttp(0, bytes('GE')), 'more');
    assert.equal(probeHttp(0, bytes('GETX / HTTP/1.1')), 'no');
    assert.equal(probeHttp(0, bytes('NICK bot\r\n')), 'no');
    assert.equal(probeHttp(0, bytes('\x16\x03\x01\x02\x00')), 'no');
    assert.equal(probeHttp(0, bytes('')), 'more');
    assert.equal(probeHttp(1, bytes('HTTP/1.1 200 OK\r\n')), 'yes');
    assert.equal(probeHttp(1, bytes('http/1.0 404')), 'yes');
    assert.equal(probeHttp(1, bytes('HTTP/1')), 'more');
    assert.equal(probeHttp(1, bytes('HTTP/2.0 200')), 'no');
    assert.equal(probeHttp(1, bytes('SSH-2.0-OpenSSH')), 'no');
  });

  test('a web server on port 8081 is HTTP: flow app_proto http, an http record per transaction', async (t) => {
    const path = capture(t, (cap) => {
      new TcpConnection(cap, '10.7.0.1:50000', '10.7.0.2:8081').handshake().send('client', 'GET /status HTTP/1.1\r\nHost: box.example:8081\r\nUser-Agent: probe/1\r\n\r\n').send('server', 'HTTP/1.1 200 OK\r\nServer: tiny\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok').close();
    });
    const { events } = await analyzeCapture(path, { protocols: [httpProtocol] });
    const flows = of(events, 'flow');
    assert.equal(flows.length, 1);
    assert.equal(flows[0]!.app_proto, 'http');
    const recs = of(events, 'http');
    assert.equal(recs.length, 1);
    const r = recs[0]!;
    assert.equal(r.src_ip, '10.7.0.1', 'written from the client');
    assert.equal(r.dest_port, 8081);
    assert.equal(r.tx_id, 0);
    assert.deepEqual(http(r), { hostname: 'box.example', http_port: 8081, url: '/status', http_user_agent: 'probe/1', http_content_type: 'text/plain', http_method: 'GET', protocol: 'HTTP/1.1', status: 200, length: 2 });
  });

  test('a server that speaks first is recognised from its status line', async (t) => {
    const path = capture(t, (cap) => {
      new TcpConnection(cap, '10.7.0.1:50001', '10.7.0.2:9999').handshake().send('server', 'HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n').close();
    });
    const { events } = await analyzeCapture(path, { protocols: [httpProtocol] });
    assert.equal(of(events, 'flow')[0]!.app_proto, 'http');
    assert.deepEqual(http(of(events, 'http')[0]!), { status: 200, length: 0 });
  });
});

describe('HTTP transactions and files through the sensor', () => {
  test('a pipelined pair: two transactions, logged in order with their ids', async (t) => {
    const path = capture(t, (cap) => {
      new TcpConnection(cap, '10.7.1.1:40000', '10.7.1.2:80', { mss: 40 })
        .handshake()
        .send('client', 'GET /first HTTP/1.1\r\nHost: a.example\r\n\r\nGET /second HTTP/1.1\r\nHost: a.example\r\n\r\n')
        .send('server', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirstHTTP/1.1 301 Moved\r\nLocation: /third\r\nContent-Length: 0\r\n\r\n')
        .close();
    });
    const { events } = await analyzeCapture(path, { protocols: [httpProtocol] });
    assert.deepEqual(
      of(events, 'http').map((e) => [e.tx_id, http(e).url, http(e).status, http(e).redirect ?? null]),
      [
        [0, '/first', 200, null],
        [1, '/second', 301, '/third'],
      ],
    );
  });

  test('a chunked gzip response: its file is the decompressed content (size and SHA-256)', async (t) => {
    const content = Buffer.from('<html><body>'.padEnd(30000, 'compressible text '));
    const gz = gzipSync(content);
    const half = gz.length >> 1;
    const body = Buffer.concat([
      Buffer.from(`${half.toString(16)}\r\n`),
      gz.subarray(0, half),
      Buffer.from(`\r\n${(gz.length - half).toString(16)}\r\n`),
      gz.subarray(half),
      Buffer.from('\r\n0\r\n\r\n'),
    ]);
    const path = capture(t, (cap) => {
      new TcpConnection(cap, '10.7.2.1:40000', '10.7.2.2:80')
        .handshake()
        .send('client', 'GET /news/today.html HTTP/1.1\r\nHost: news.example\r\nAccept-Encoding: gzip\r\n\r\n')
        .send('server', Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n'), body]))
        .close();
    });
    const { events } = await analyzeCapture(path, { protocols: [httpProtocol] });
    const files = of(events, 'fileinfo');
    assert.equal(files.length, 1);
    const f = fileinfo(files[0]!);
    assert.equal(f.filename, '/news/today.html');
    assert.equal(f.size, content.length);
    assert.equal(f.sha256, sha256(content));
    assert.equal(f.state, 'CLOSED');
    assert.equal(f.magic, 'HTML document, ASCII text');
    assert.equal(files[0]!.src_ip, '10.7.2.2', 'a download is written from the server');
    assert.equal(http(of(events, 'http')[0]!).length, gz.length);
  });

  test('a POST body is a file to the server, named by the URI path', async (t) => {
    const body = 'user=admin&password=hunter2';
    const path = capture(t, (cap) => {
      new TcpConnection(cap, '10.7.3.1:40000', '10.7.3.2:80')
        .handshake()
        .send('client', `POST /login.php?next=%2F HTTP/1.1\r\nHost: shop.example\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body}`)
        .send('server', 'HTTP/1.1 302 Found\r\nLocation: /\r\nContent-Length: 0\r\n\r\n')
        .close();
    });
    const { events } = await analyzeCapture(path, { protocols: [httpProtocol] });
    const files = of(events, 'fileinfo');
    assert.equal(files.length, 1);
    assert.deepEqual(fileinfo(files[0]!), { filename: '/login.php', magic: 'ASCII text', gaps: false, state: 'CLOSED', sha256: sha256(bytes(body)), stored: false, size: body.length, tx_id: 0 });
    assert.equal(files[0]!.src_ip, '10.7.3.1', 'an upload is written from the client');
  });

  test('a download starting "MZ" (a PE header and filler) is named a PE by its file record', async (t) => {
    const pe = fakePeHeader(20000);
    const path = capture(t, (cap) => {
      new TcpConnection(cap, '10.7.4.1:40000', '10.7.4.2:80')
        .handshake()
        .send('client', 'GET /dl/setup.exe HTTP/1.1\r\nHost: files.example\r\n\r\n')
        .send('server', Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${pe.length}\r\n\r\n`), pe]))
        .close();
    });
    const { events } = await analyzeCapture(path, { protocols: [httpProtocol] });
    const f = fileinfo(of(events, 'fileinfo')[0]!);
    assert.equal(f.filename, '/dl/setup.exe');
    assert.equal(f.magic, 'PE32 executable (GUI) Intel 80386, for MS Windows');
    assert.equal(f.size, pe.length);
    assert.equal(f.sha256, sha256(pe));
  });

  test('an applayer anomaly is written with the flow, under Suricata\'s event name', async (t) => {
    const path = capture(t, (cap) => {
      new TcpConnection(cap, '10.7.5.1:40000', '10.7.5.2:80').handshake().send('client', 'GET / HTTP/1.1\r\nHost: a\r\nBroken header\r\n\r\n').send('server', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n').close();
    });
    const { events, pipeline } = await analyzeCapture(path, { protocols: [httpProtocol] });
    const anomalies = of(events, 'anomaly').map((e) => e.anomaly as { type: string; event: string });
    assert.deepEqual(anomalies, [{ app_proto: 'http', type: 'applayer', event: 'REQUEST_FIELD_MISSING_COLON', layer: 'proto_parser' }]);
    assert.equal(pipeline.anomalies.get('applayer.http.REQUEST_FIELD_MISSING_COLON'), 1);
  });
});

describe('rules on HTTP buffers', () => {
  const PE = fakePeHeader(8192);
  const UPLOAD = 'token=abc&pw=secret';

  /** Two transactions: an admin POST answered 404, then an executable download. */
  function traffic(t: TestContext): string {
    return capture(t, (cap) => {
      new TcpConnection(cap, '192.0.2.10:41000', '198.51.100.5:80', { mss: 100 })
        .handshake()
        .send(
          'client',
          `POST /admin/panel.php?cmd=%6c%73 HTTP/1.1\r\nHost: Victim.Example\r\nUser-Agent: curl/8.0\r\nCookie: sess=42\r\nX-Test: 1\r\nContent-Length: ${UPLOAD.length}\r\n\r\n${UPLOAD}`,
        )
        .send('server', 'HTTP/1.1 404 Not Found\r\nServer: nginx\r\nSet-Cookie: gone=1\r\nContent-Length: 9\r\n\r\nnot found')
        .send('client', 'GET /a/payload.exe HTTP/1.1\r\nHost: victim.example\r\nUser-Agent: Wget/1.21\r\n\r\n')
        .send('server', Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nServer: nginx\r\nLocation: /mirror\r\nContent-Length: ${PE.length}\r\n\r\n`), PE]))
        .close();
    });
  }

  /** Each rule and the transactions it must alert on, once each (none: it must not alert). */
  const RULES: Array<[rule: string, txs: number[]]> = [
    ['http.uri; content:"/admin"; http.method; content:"POST";', [0]],
    ['http.uri; content:"cmd=ls";', [0]],
    ['http.uri.raw; content:"cmd=%6c%73";', [0]],
    ['http.stat_code; content:"404";', [0]],
    ['http.stat_msg; content:"Not Found";', [0]],
    ['file.data; content:"MZ"; startswith;', [1]],
    ['content:"/a/"; http_uri;', [1]],
    ['uricontent:"/admin/panel";', [0]],
    ['pcre:"/panel\\.php/U";', [0]],
    ['urilen:>20;', [0]],
    ['urilen:<20;', [1]],
    ['http.header; content:"X-Test|3a 20|1|0d 0a|";', [0]],
    ['http.header; content:"sess=";', []],
    ['http.header.raw; content:"Cookie|3a 20|sess=42";', [0]],
    ['http.header_names; content:"|0d 0a|Cookie|0d 0a|X-Test|0d 0a|";', [0]],
    ['http.cookie; content:"sess=42";', [0]],
    ['flow:to_client; http.cookie; content:"gone=1";', [0]],
    ['http.user_agent; content:"curl/"; startswith;', [0]],
    ['http.host; content:"victim.example"; bsize:14;', [0, 1]],
    ['http.host.raw; content:"Victim.Example";', [0]],
    ['http.request_body; content:"pw=secret";', [0]],
    ['file.data; content:"pw=secret";', [0]],
    ['http.response_body; content:"not found";', [0]],
    ['http.server; content:"nginx";', [0, 1]],
    ['http.location; content:"/mirror";', [1]],
    ['http.request_line; content:"GET /a/payload.exe HTTP/1.1"; bsize:27;', [1]],
    ['http.response_line; content:"HTTP/1.1 200 OK";', [1]],
    ['http.start; content:"%73 HTTP/1.1|0d 0a|Host|3a 20|Victim";', [0]],
    ['http.protocol; content:"HTTP/1.1";', [0, 1]],
    ['flow:to_server; http.content_len; content:"19"; bsize:2;', [0]],
    ['flow:to_client; http.content_len; content:"8192"; bsize:4;', [1]],
    ['file.name; content:".exe"; endswith;', [1]],
    ['http.uri; content:"/nothere";', []],
    ['http.method; content:"DELETE";', []],
  ];

  test('each buffer family matches where Suricata would, and alerts carry tx_id and the http object', async (t) => {
    const path = traffic(t);
    const bySid = new Map<number, AlertEvent[]>();
    // A packet alerts 15 times at most (Suricata's packet-alert-max): the rules run in groups of 8.
    for (let from = 0; from < RULES.length; from += 8) {
      const rules = RULES.slice(from, from + 8)
        .map(([body], k) => `alert http any any -> any any (msg:"r${from + k + 1}"; ${body} sid:${from + k + 1};)`)
        .join('\n');
      const { alerts, events, pipeline } = await analyzeCapture(path, { protocols: [httpProtocol], rules });
      assert.equal(pipeline.detect!.counters.discarded, 0);
      for (const a of alerts) bySid.set(a.alert.signature_id, [...(bySid.get(a.alert.signature_id) ?? []), a]);
      assert.equal(of(events, 'http').length, 2);
      assert.equal(fileinfo(of(events, 'fileinfo').find((e) => fileinfo(e).filename === '/a/payload.exe')!).magic, 'PE32 executable (GUI) Intel 80386, for MS Windows');
    }
    RULES.forEach(([body, txs], i) => {
      const got = (bySid.get(i + 1) ?? []) as Array<AlertEvent & { tx_id?: number; http?: Record<string, unknown> }>;
      assert.deepEqual(
        got.map((a) => a.tx_id),
        txs,
        `${body} alerts on transactions ${JSON.stringify(txs)}`,
      );
      for (const a of got) {
        assert.equal(a.app_proto, 'http');
        assert.ok(a.http !== undefined, `${body}: the alert carries the http object`);
        assert.equal(a.http.url, a.tx_id === 0 ? '/admin/panel.php?cmd=%6c%73' : '/a/payload.exe');
        assert.equal(a.http.hostname, 'victim.example');
      }
    });
  });
});
