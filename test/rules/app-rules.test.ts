import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Flow } from '../../src/flow/flow.js';
import type { InspectableTx } from '../../src/rules/buffers.js';
import { DetectEngine, type AlertHit } from '../../src/rules/engine.js';
import type { Rule } from '../../src/rules/rule.js';
import { RuleSet } from '../../src/rules/ruleset.js';
import { forwardedFor } from '../../src/rules/alert.js';
import { TcpConnection, type SynthCapture } from '../../src/synth/traffic.js';
import { detect } from './harness.js';
import { applyTransforms, compressWhitespace, dotprefix, stripWhitespace, toLowercase, toSha256, urlDecode, xorTransform } from '../../src/rules/transforms.js';

const enc = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

function load(rules: string): { rules: Rule[]; errors: string[]; unsupported: Record<string, number> } {
  const set = new RuleSet();
  const r = set.loadText(rules, 'test.rules');
  return { rules: set.rules, errors: r.errors.map((e) => e.message), unsupported: r.unsupported };
}

function one(rule: string): Rule {
  const r = load(rule);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.unsupported, {});
  return r.rules[0]!;
}

/** A transaction with fixed buffers: "name" (both sides), or "name@0" / "name@1" for one side. */
function tx(id: number, buffers: Record<string, string | string[]>): InspectableTx {
  const get = (name: string, side: number): string | string[] | undefined => buffers[`${name}@${side}`] ?? buffers[name];
  return {
    id,
    buffer: (name, side) => {
      const v = get(name, side);
      return v === undefined || Array.isArray(v) ? null : enc(v);
    },
    buffers: (name, side) => {
      const v = get(name, side);
      return v === undefined ? null : (Array.isArray(v) ? v : [v]).map(enc);
    },
    alertMetadata: () => ({ test: { id } }),
  };
}

function flowOf(appProto: string): Flow {
  const f = new Flow();
  f.proto = 6;
  f.addr.set([0, 0, 0xffff, 0x0a000001, 0, 0, 0xffff, 0x0a000002]); // ::ffff:10.0.0.1 -> ::ffff:10.0.0.2
  f.clientPort = 40000;
  f.serverPort = 8081;
  f.appProto = appProto;
  return f;
}

function engineFor(rules: string): { engine: DetectEngine; hits: AlertHit[] } {
  const r = load(rules);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.unsupported, {});
  const hits: AlertHit[] = [];
  return { engine: new DetectEngine(r.rules, (h) => hits.push(h)), hits };
}

describe('application rules compile', () => {
  test('a sticky buffer makes the rule inspect transactions of its protocol', () => {
    const r = one('alert http any any -> any any (msg:"x"; http.uri; content:"/admin"; sid:1;)');
    assert.equal(r.appProto, 'http');
    assert.equal(r.txDirs, 1);
    assert.deepEqual(r.inspections.map((i) => i.buffer), ['http.uri']);
    assert.equal(r.fastPattern?.buffer, 'http.uri');
    assert.equal(r.ipOnly, false);
  });

  test('the buffer names the protocol even under a tcp header; Snort 2 modifiers move the last content', () => {
    const r = one('alert tcp any any -> any 80 (msg:"x"; flow:to_server; content:"GET"; http_method; content:"/a.php"; http_uri; nocase; sid:1;)');
    assert.equal(r.appProto, 'http');
    assert.deepEqual(r.inspections.map((i) => [i.buffer, i.steps.length]), [['http.method', 1], ['http.uri', 1]]);
  });

  test('Snort 3 writes the same names as sticky buffers before their contents', () => {
    const r = one('alert tcp any any -> any any (msg:"x"; service:http; http_uri; content:"/cgi-bin/",nocase; http_header; content:"evil",nocase; sid:1;)');
    assert.deepEqual(r.inspections.map((i) => i.buffer), ['http.uri', 'http.header']);
  });

  test('uricontent is a content in the URI; urilen is the URI\'s length (normalized, or raw)', () => {
    const r = one('alert tcp any any -> any 80 (msg:"x"; uricontent:"/scripts/"; content:"host"; urilen:>10; urilen:5<>100,raw; sid:1;)');
    assert.deepEqual(r.inspections.map((i) => [i.buffer, i.steps.map((s) => s.keyword)]), [['http.uri', ['content', 'bsize']], ['payload', ['content']], ['http.uri.raw', ['bsize']]]);
  });

  test('underscored names of later buffers are sticky; a modifier after a sticky content is an error', () => {
    const r = one('alert http any any -> any any (msg:"x"; http.uri; content:"/device"; http_content_type; content:"application/json"; startswith; sid:1;)');
    assert.deepEqual(r.inspections.map((i) => i.buffer), ['http.uri', 'http.content_type']);
    assert.match(load('alert http any any -> any any (msg:"x"; http.uri; content:"/a"; http_header; sid:1;)').errors[0]!, /the content is already in http.uri/);
  });

  test('a transform directly after a buffer, and one after its contents, which starts a second inspection', () => {
    const r = one('alert dns any any -> any any (msg:"x"; dns.query; content:"rs-"; startswith; dotprefix; content:".rustdesk.com"; nocase; endswith; sid:1;)');
    assert.deepEqual(r.inspections.map((i) => i.key), ['dns.query', 'dns.query|dotprefix']);
    assert.equal(r.inspections[1]!.transforms[0], dotprefix);
    assert.equal(r.appProto, 'dns');
  });

  test('mistakes are errors with reasons', () => {
    const cases: Array<[string, RegExp]> = [
      ['alert udp any any -> any any (msg:"x"; http.uri; content:"a"; sid:1;)', /needs TCP, but the rule is for udp/],
      ['alert dns any any -> any any (msg:"x"; http.uri; content:"a"; sid:1;)', /is an http keyword, but the rule is for dns/],
      ['alert tcp any any -> any any (msg:"x"; dotprefix; content:"a"; sid:1;)', /needs a sticky buffer before it/],
      ['alert tcp any any -> any any (msg:"x"; http.uri; content:"a"; tls.sni; content:"b"; sid:1;)', /is a tls keyword, but the rule is for http \(http.uri\)/],
      ['alert tcp any any -> any any (msg:"x"; http.uri; bsize:a; sid:1;)', /bsize/],
      ['alert tls any any -> any any (msg:"x"; tls.version:1.9; sid:1;)', /not a TLS version/],
      ['alert tcp any any -> any any (msg:"x"; app-layer-protocol:gopher; sid:1;)', /not a protocol Outpost detects/],
    ];
    for (const [rule, reason] of cases) assert.match(load(rule).errors[0] ?? '(loaded)', reason, rule);
  });

  test('app-layer-protocol:!x matches only once the protocol is known and is not x', () => {
    const r = detect('alert tcp any any -> any 80 (msg:"not http"; flow:to_server; app-layer-protocol:!http; sid:1;)\nalert tcp any any -> any 80 (msg:"undecided"; flow:to_server; app-layer-protocol:unknown; sid:2;)', (cap) =>
      new TcpConnection(cap, '10.0.0.1:4000', '10.0.0.2:80').handshake().send('client', 'GET / HTTP/1.1\r\nHost: a\r\n\r\n').send('server', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n').close(),
    );
    assert.deepEqual(r.sids.filter((s) => s === 1), [], 'neither before detection (the handshake) nor after (it is http)');
    assert.ok(r.sids.includes(2), 'the handshake is seen while the protocol is unknown');
    const irc = detect('alert tcp any any -> any 80 (msg:"not http"; flow:to_server; app-layer-protocol:!http; sid:1;)', (cap) =>
      new TcpConnection(cap, '10.0.0.1:4000', '10.0.0.2:80').handshake().send('client', 'NICK bot\r\nUSER a b c :d\r\n').send('server', ':srv 001 bot :hi\r\n').send('client', 'JOIN #x\r\n').close(),
    );
    assert.ok(irc.sids.includes(1), 'IRC on port 80 is "not http"');
  });

  test("X-Forwarded-For: the client's address added to the alert, or written over the proxy's on the alert's side", () => {
    const rules = 'alert http any any -> any any (msg:"req"; http.method; content:"GET"; sid:1;)\nalert http any any -> any any (msg:"resp"; http.stat_code; content:"200"; sid:2;)';
    const traffic = (cap: SynthCapture): void => {
      new TcpConnection(cap, '10.0.0.9:4000', '10.0.0.2:80')
        .handshake()
        .send('client', 'GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 192.0.2.1, 198.51.100.7\r\n\r\n')
        .send('server', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')
        .close();
    };
    const extra = detect(rules, traffic, { xff: { mode: 'extra-data', deployment: 'reverse', header: 'X-Forwarded-For' } });
    assert.deepEqual(extra.alerts.map((a) => [a.alert.signature_id, a.alert.xff, a.src_ip]), [[1, '198.51.100.7', '10.0.0.9'], [2, '198.51.100.7', '10.0.0.2']]);
    const over = detect(rules, traffic, { xff: { mode: 'overwrite', deployment: 'forward', header: 'x-forwarded-for' } });
    assert.deepEqual(over.alerts.map((a) => [a.alert.signature_id, a.src_ip, a.dest_ip, a.alert.xff]), [[1, '192.0.2.1', '10.0.0.2', undefined], [2, '10.0.0.2', '192.0.2.1', undefined]]);
    assert.equal(forwardedFor(enc('X-Forwarded-For: unknown\r\n'), { mode: 'overwrite', deployment: 'reverse', header: 'X-Forwarded-For' }), null, 'a name that is not an address is not used');
    assert.equal(detect(rules, traffic).alerts[0]!.alert.xff, undefined, 'off unless configured');
  });

  test('an application protocol in the header without its buffers: packet and stream rules on flows of that protocol', () => {
    const r = one('alert tls any any -> any any (msg:"x"; content:"|16 03|"; depth:2; sid:1;)');
    assert.equal(r.txDirs, 0);
    assert.ok(r.headerChecks.some((c) => c.key === 'app-layer-protocol:tls'));
  });

  test('when a rule runs: on the request, the response, or either; request and response buffers together run on the response', () => {
    const dirs = (opts: string): number => one(`alert http any any -> any any (msg:"x"; ${opts} sid:1;)`).txDirs;
    assert.equal(dirs('http.method; content:"POST";'), 1);
    assert.equal(dirs('http.stat_code; content:"200";'), 2);
    assert.equal(dirs('http.method; content:"POST"; http.stat_code; content:"200";'), 2);
    assert.equal(dirs('http.header; content:"X-Evil";'), 3);
    assert.equal(dirs('flow:established,to_client; file.data; content:"MZ";'), 2);
    assert.equal(dirs('flow:established,to_server; file.data; content:"MZ";'), 1);
  });

  test('Snort 3 bufferlen is the current buffer\'s length, with inclusive A<=>B ranges', () => {
    const r = one('alert tcp any any -> any any (msg:"x"; service:http; http_raw_uri; bufferlen:11<=>20; http_uri; content:".php"; sid:1;)');
    const step = r.inspections.find((i) => i.buffer === 'http.uri.raw')!.steps[0] as unknown as { size: { test(n: number): boolean } };
    assert.deepEqual([10, 11, 20, 21].map((n) => step.size.test(n)), [false, true, true, false]);
  });

  test('protocols Outpost does not analyze stay unsupported, counted by name', () => {
    assert.deepEqual(load('alert smtp any any -> any any (msg:"x"; content:"a"; sid:1;)').unsupported, { 'proto:smtp': 1 });
  });
});

describe('transforms', () => {
  test('each does what Suricata documents', () => {
    assert.equal(text(dotprefix.apply(enc('example.com'))), '.example.com');
    assert.equal(text(toLowercase.apply(enc('MiXeD-123'))), 'mixed-123');
    assert.equal(text(stripWhitespace.apply(enc(' a \t b\r\n c '))), 'abc');
    assert.equal(text(compressWhitespace.apply(enc('a  \t b\r\n\r\nc'))), 'a b c');
    assert.equal(text(urlDecode.apply(enc('%2e%2E/a+b%zz%4'))), '../a b%zz%4');
    assert.equal(Buffer.from(toSha256.apply(enc('abc'))).toString('hex'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.equal(text(xorTransform(enc('\x01\x02')).apply(enc('abcd'))), '``bf');
    assert.equal(text(applyTransforms([toLowercase, dotprefix], enc('WWW.X'))), '.www.x');
  });
});

describe('the engine on transactions', () => {
  test('a rule matches a transaction whose buffer holds its contents, once per transaction, and the alert carries the transaction', () => {
    const { engine, hits } = engineFor('alert http any any -> any any (msg:"admin"; flow:established,to_server; http.uri; content:"/admin"; http.method; content:"POST"; sid:1;)');
    const f = flowOf('http');
    const t0 = tx(0, { 'http.uri': '/admin/login', 'http.method': 'POST' });
    engine.transaction(f, 0, t0);
    engine.transaction(f, 0, t0);
    engine.transaction(f, 0, tx(1, { 'http.uri': '/index.html', 'http.method': 'POST' }));
    engine.transaction(f, 0, tx(2, { 'http.uri': '/admin', 'http.method': 'GET' }));
    assert.deepEqual(hits.map((h) => [h.rule.sid, h.tx?.id]), [[1, 0]]);
    assert.deepEqual(hits[0]!.tx?.alertMetadata?.(), { test: { id: 0 } });
  });

  test('only flows of the rule\'s protocol, and only the side the rule runs on', () => {
    const { engine, hits } = engineFor('alert http any any -> any any (msg:"ok"; http.stat_code; content:"404"; sid:2;)');
    engine.transaction(flowOf('tls'), 1, tx(0, { 'http.stat_code': '404' }));
    engine.transaction(flowOf('http'), 0, tx(0, { 'http.stat_code': '404' }));
    assert.equal(hits.length, 0);
    engine.transaction(flowOf('http'), 1, tx(0, { 'http.stat_code': '404' }));
    assert.equal(hits.length, 1);
  });

  test('a missing buffer is no match, even for a negated content', () => {
    const { engine, hits } = engineFor('alert http any any -> any any (msg:"no ua"; http.user_agent; content:!"Mozilla"; sid:3;)');
    engine.transaction(flowOf('http'), 0, tx(0, { 'http.uri': '/' }));
    assert.equal(hits.length, 0);
    engine.transaction(flowOf('http'), 0, tx(1, { 'http.user_agent': 'curl/8' }));
    assert.equal(hits.length, 1);
  });

  test('a multi-valued buffer matches when one item does; transforms apply to each', () => {
    const { engine, hits } = engineFor('alert dns any any -> any any (msg:"domain"; dns.query; dotprefix; content:".evil.example"; nocase; endswith; sid:4;)');
    engine.transaction(flowOf('dns'), 0, tx(0, { 'dns.query': ['good.example', 'a.EVIL.example'] }));
    engine.transaction(flowOf('dns'), 0, tx(1, { 'dns.query': ['notevil.example'] }));
    engine.transaction(flowOf('dns'), 0, tx(2, { 'dns.query': ['evil.example'] }));
    assert.deepEqual(hits.map((h) => h.tx?.id), [0, 2]);
  });

  test('a response rule reads the request\'s buffers from the same transaction; either-side buffers follow the side', () => {
    const { engine, hits } = engineFor(
      'alert http any any -> any any (msg:"post 200"; http.method; content:"POST"; http.stat_code; content:"200"; sid:5;)\n' +
        'alert http any any -> any any (msg:"header"; http.header; content:"X-Bad"; sid:6;)\n',
    );
    const f = flowOf('http');
    const t = tx(0, { 'http.method': 'POST', 'http.stat_code': '200', 'http.header@1': 'X-Bad: 1\r\n', 'http.header@0': 'Host: a\r\n' });
    engine.transaction(f, 0, t);
    assert.deepEqual(hits.map((h) => h.rule.sid), []);
    engine.transaction(f, 1, t);
    assert.deepEqual(hits.map((h) => [h.rule.sid, h.dir]), [[5, 1], [6, 1]]);
  });

  test('a transactional rule (=>) matches a request and its response together, its addresses naming client and server', () => {
    const { engine, hits } = engineFor(
      'alert tls 10.0.0.1 any => 10.0.0.2 any (msg:"ja3 and ja3s"; ja3.hash; content:"aaaa"; ja3s.hash; content:"bbbb"; sid:10;)\n' +
        'alert tls 10.0.0.2 any => 10.0.0.1 any (msg:"wrong way"; ja3.hash; content:"aaaa"; ja3s.hash; content:"bbbb"; sid:11;)\n',
    );
    const t = tx(0, { 'ja3.hash': 'aaaa', 'ja3s.hash': 'bbbb' });
    engine.transaction(flowOf('tls'), 0, t);
    assert.equal(hits.length, 0, 'the response is needed');
    engine.transaction(flowOf('tls'), 1, t);
    assert.deepEqual(hits.map((h) => h.rule.sid), [10]);
  });

  test('rules without a usable fast pattern run on every transaction; header addresses are the flow\'s, oriented by side', () => {
    const { engine, hits } = engineFor(
      'alert http 10.0.0.1 any -> 10.0.0.2 any (msg:"short"; http.method; content:"PUT"; sid:7;)\n' +
        'alert http 10.0.0.2 any -> 10.0.0.1 any (msg:"wrong way"; http.method; content:"PUT"; sid:8;)\n',
    );
    engine.transaction(flowOf('http'), 0, tx(0, { 'http.method': 'PUT' }));
    assert.deepEqual(hits.map((h) => h.rule.sid), [7]);
  });
});

describe('app-layer-event', () => {
  test('matches on the packet whose data made the analyzer raise the event, once', () => {
    const r = detect('alert irc any any -> any any (msg:"bare CR"; app-layer-event:irc.line_terminated_with_single_CR; sid:9;)\n', (cap) => {
      const c = new TcpConnection(cap, '10.0.0.1:40000', '10.0.0.2:6667');
      c.handshake().send('client', 'NICK bot\r\n').send('client', 'USER a b c :d\rJOIN #x\r\n').send('client', 'PING :x\rPONG\r\n').close();
    });
    assert.deepEqual(r.sids, [9], 'Zeek raises it once per connection');
    assert.ok(r.events.some((e) => e.event_type === 'anomaly' && e.anomaly.type === 'applayer' && e.anomaly.event === 'line_terminated_with_single_CR'));
  });

  test('a protocol Outpost does not analyze, or a detection event it does not raise, is unsupported', () => {
    assert.deepEqual(load('alert tcp any any -> any any (msg:"x"; app-layer-event:smtp.invalid_reply; sid:1;)').unsupported, { 'app-layer-event:smtp': 1 });
    assert.deepEqual(load('alert tcp any any -> any any (msg:"x"; app-layer-event:applayer_mismatch_protocol_both_directions; sid:1;)').unsupported, { 'app-layer-event:applayer_mismatch_protocol_both_directions': 1 });
  });
});
