import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_NAME_LEN, MAX_NAME_SEGMENTS, parseDnsMessage, plausibleHeader, type DnsHeader, type DnsMessage, type DnsRdata } from '../../../src/protocols/dns/parse.js';
import { everyTypeResponse, labels, message, ptr, rawLabels, rd } from './build.js';

function parse(b: Uint8Array): DnsMessage {
  return parseDnsMessage(b, 0, b.length);
}

function events(m: DnsMessage): string[] {
  return m.problems.map((p) => p.event);
}

function rdataOf<K extends DnsRdata['kind']>(r: DnsRdata, kind: K): DnsRdata & { kind: K } {
  assert.equal(r.kind, kind);
  return r as DnsRdata & { kind: K };
}

test('a query: header, question name as dotted text and bytes, type name', () => {
  const m = parse(message({ id: 0x1a2b, flags: 0x0100, questions: [{ name: labels('www.example.com'), type: 1 }] }));
  assert.equal(m.valid, true);
  assert.equal(m.plausible, true);
  assert.deepEqual(m.problems, []);
  assert.equal(m.header!.id, 0x1a2b);
  assert.equal(m.header!.qr, false);
  assert.equal(m.header!.rd, true);
  assert.equal(m.questions.length, 1);
  assert.equal(m.questions[0]!.name.text, 'www.example.com');
  assert.equal(Buffer.from(m.questions[0]!.name.bytes).toString('latin1'), 'www.example.com');
  assert.equal(m.questions[0]!.typeName, 'A');
  assert.equal(m.questions[0]!.class, 1);
});

test('every header flag decodes from its own bit, and nothing else does', () => {
  const bits: Array<['qr' | 'aa' | 'tc' | 'rd' | 'ra' | 'z' | 'ad' | 'cd', number]> = [
    ['qr', 0x8000],
    ['aa', 0x0400],
    ['tc', 0x0200],
    ['rd', 0x0100],
    ['ra', 0x0080],
    ['z', 0x0040],
    ['ad', 0x0020],
    ['cd', 0x0010],
  ];
  for (const [flag, bit] of bits) {
    const h = parse(message({ flags: bit, questions: [{ name: labels('a'), type: 1 }] })).header!;
    for (const [other] of bits) assert.equal((h as DnsHeader)[other], other === flag, `flags 0x${bit.toString(16)}: ${other}`);
    assert.equal(h.flags, bit);
    assert.equal(h.opcode, 0);
    assert.equal(h.rcode, 0);
  }
  for (let opcode = 0; opcode < 16; opcode++) assert.equal(parse(message({ flags: opcode << 11, questions: [{ name: labels('a'), type: 1 }] })).header!.opcode, opcode);
  const names = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE', '11', '12', '13', '14', '15'];
  for (let rcode = 0; rcode < 16; rcode++) {
    const h = parse(message({ flags: 0x8000 | rcode, questions: [{ name: labels('a'), type: 1 }] })).header!;
    assert.equal(h.rcode, rcode);
    assert.equal(h.rcodeName, names[rcode]);
  }
});

test('every record type decodes: A, AAAA, CNAME, NS, PTR, MX, TXT, SRV, SSHFP, NULL, unknown, SOA, OPT', () => {
  const m = parse(everyTypeResponse());
  assert.equal(m.valid, true);
  assert.deepEqual(m.problems, []);
  assert.equal(m.questions[0]!.typeName, 'ANY');
  const an = m.answers;
  assert.deepEqual(an.map((r) => r.typeName), ['A', 'AAAA', 'CNAME', 'NS', 'PTR', 'MX', 'TXT', 'SRV', 'SSHFP', 'NULL', '65534']);
  assert.deepEqual(an.map((r) => r.name.text), ['example.com', 'example.com', 'www.example.com', 'example.com', '1.2.0.192.in-addr.arpa', 'example.com', 'example.com', '_sip._tcp.example.com', 'example.com', 'example.com', 'example.com']);
  assert.equal(an[0]!.ttl, 60);

  const a = rdataOf(an[0]!.rdata, 'a');
  assert.equal(a.text, '192.0.2.1');
  assert.deepEqual([...a.bytes], [192, 0, 2, 1]);
  assert.equal(rdataOf(an[1]!.rdata, 'aaaa').text, '2001:0db8:0000:0000:0000:0000:0000:0001', 'written as Suricata writes it: eight zero-padded groups');
  assert.equal(rdataOf(an[2]!.rdata, 'cname').name.text, 'example.com', 'a CNAME that is only a pointer');
  assert.equal(rdataOf(an[3]!.rdata, 'ns').name.text, 'ns1.example.com');
  assert.equal(rdataOf(an[4]!.rdata, 'ptr').name.text, 'host.example.com');
  const mx = rdataOf(an[5]!.rdata, 'mx');
  assert.equal(mx.preference, 10);
  assert.equal(mx.exchange.text, 'mail.example.com', 'a label then a pointer');
  const txt = rdataOf(an[6]!.rdata, 'txt');
  assert.deepEqual(txt.texts, ['v=spf1 -all', '', 'second']);
  assert.deepEqual(txt.strings.map((s) => s.length), [11, 0, 6]);
  const srv = rdataOf(an[7]!.rdata, 'srv');
  assert.deepEqual([srv.priority, srv.weight, srv.port, srv.target.text], [1, 2, 5060, 'sip.example.com']);
  const sshfp = rdataOf(an[8]!.rdata, 'sshfp');
  assert.deepEqual([sshfp.algorithm, sshfp.fingerprintType, Buffer.from(sshfp.fingerprint).toString('hex')], [1, 2, '00112233445566778899aabbccddeeff00112233']);
  const nul = rdataOf(an[9]!.rdata, 'null');
  assert.equal(nul.text, 'null-data');
  assert.deepEqual([...rdataOf(an[10]!.rdata, 'unknown').bytes], [7, 0x7d, 0x12, 0, 1]);

  assert.equal(m.authorities.length, 1);
  const soa = rdataOf(m.authorities[0]!.rdata, 'soa');
  assert.deepEqual(
    [soa.mname.text, soa.rname.text, soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum],
    ['ns1.example.com', 'hostmaster.example.com', 2024010101, 7200, 900, 1209600, 300],
  );

  assert.equal(m.additionals.length, 1);
  const opt = m.additionals[0]!;
  assert.equal(opt.name.text, '', 'the root name is written as "" (Suricata prints no <root>)');
  assert.equal(opt.typeName, 'OPT');
  assert.deepEqual(opt.edns, { udpPayloadSize: 1232, extendedRcode: 0, version: 0, dnssecOk: true, z: 0 });
  const options = rdataOf(opt.rdata, 'opt').options;
  assert.deepEqual(options.map((o) => [o.code, Buffer.from(o.data).toString('hex')]), [[10, '0102030405060708'], [3, '']]);
});

test('a TTL with the top bit set reads unsigned', () => {
  const m = parse(message({ flags: 0x8180, questions: [{ name: labels('a'), type: 1 }], answers: [{ name: ptr(12), type: 1, ttl: 0xffffffff, rdata: rd.a('1.2.3.4') }] }));
  assert.equal(m.answers[0]!.ttl, 4294967295);
});

test('address data of any length is kept as it came and written by its length, as Suricata does', () => {
  const m = parse(message({ flags: 0x8180, questions: [{ name: labels('a'), type: 1 }], answers: [{ name: ptr(12), type: 1, rdata: Buffer.from([1, 2, 3]) }, { name: ptr(12), type: 28, rdata: Buffer.from([1, 2, 3, 4]) }, { name: ptr(12), type: 1, rdata: Buffer.alloc(16, 0xab) }] }));
  assert.equal(m.valid, true);
  assert.deepEqual(
    m.answers.map((r) => (r.rdata.kind === 'a' || r.rdata.kind === 'aaaa' ? [r.rdata.kind, r.rdata.bytes.length, r.rdata.text] : null)),
    [['a', 3, ''], ['aaaa', 4, '1.2.3.4'], ['a', 16, 'abab:abab:abab:abab:abab:abab:abab:abab']],
  );
});

test('zero-length data is accepted: empty for most types, an OPT with no options', () => {
  const m = parse(message({ flags: 0x8180, questions: [{ name: labels('a'), type: 1 }], answers: [{ name: ptr(12), type: 1, rdata: Buffer.alloc(0) }, { name: ptr(12), type: 5, rdata: Buffer.alloc(0) }], additionals: [{ name: labels(''), type: 41, class: 512, rdata: Buffer.alloc(0) }] }));
  assert.equal(m.valid, true);
  assert.deepEqual(m.problems, []);
  assert.deepEqual(m.answers.map((r) => r.rdata.kind), ['empty', 'empty']);
  assert.deepEqual(m.additionals[0]!.rdata, { kind: 'opt', options: [] });
});

test('names: non-printable bytes are kept, bytes of invalid UTF-8 are written \\xNN, valid UTF-8 stays text', () => {
  const cases: Array<[Uint8Array, string]> = [
    [rawLabels(Buffer.from([0x01, 0x41, 0x7f]), Buffer.from('com')), '\u0001A\u007f.com'],
    [rawLabels(Buffer.from([0x61, 0xff, 0x62])), 'a\\xffb'],
    [rawLabels(Buffer.from('café', 'utf8')), 'café'],
    [rawLabels(Buffer.from([0xef, 0xbb, 0xbf, 0x61])), '\ufeffa'],
    [rawLabels(Buffer.from([0xc3])), '\\xc3'],
    [rawLabels(Buffer.from('a.b', 'latin1'), Buffer.from('c')), 'a.b.c'],
    [rawLabels(Buffer.from([0x00, 0x20])), '\u0000 '],
  ];
  for (const [name, text] of cases) {
    const m = parse(message({ questions: [{ name, type: 1 }] }));
    assert.equal(m.valid, true);
    assert.equal(m.questions[0]!.name.text, text);
  }
});

test('compression: pointers to names, to the middle of names, to pointers, forward, and to the end of the message', () => {
  // Question at 12: www.example.com (www at 12, example at 16, com at 24); the first answer's owner at 33.
  const chain = Buffer.concat([Buffer.from([3]), Buffer.from('ftp'), ptr(16)]);
  const m = parse(
    message({
      flags: 0x8180,
      questions: [{ name: labels('www.example.com'), type: 1 }],
      answers: [
        { name: ptr(12), type: 1, rdata: rd.a('1.1.1.1') },
        { name: ptr(16), type: 1, rdata: rd.a('2.2.2.2') },
        { name: ptr(24), type: 5, rdata: chain },
        { name: ptr(33), type: 1, rdata: rd.a('4.4.4.4') },
      ],
    }),
  );
  assert.equal(m.valid, true);
  assert.deepEqual(m.answers.map((r) => r.name.text), ['www.example.com', 'example.com', 'com', 'www.example.com']);
  assert.equal(rdataOf(m.answers[2]!.rdata, 'cname').name.text, 'ftp.example.com', 'a label then a pointer');

  // A forward pointer: the question points at a name written after it (Suricata accepts it).
  const f = parse(message({ flags: 0x8180, questions: [{ name: ptr(18), type: 1 }], answers: [{ name: labels('later.example'), type: 1, rdata: rd.a('3.3.3.3') }] }));
  assert.equal(f.valid, true);
  assert.equal(f.questions[0]!.name.text, 'later.example');
  assert.equal(f.answers[0]!.name.text, 'later.example');

  // A pointer to exactly the end of the message (18 bytes) ends the name there, empty, as in Suricata.
  const e = parse(message({ questions: [{ name: ptr(18), type: 1 }] }));
  assert.equal(e.valid, true);
  assert.equal(e.questions[0]!.name.text, '');
  assert.equal(e.questions[0]!.typeName, 'A');
});

test('a pointer past the end of the message is malformed', () => {
  const m = parse(message({ questions: [{ name: ptr(500), type: 1 }] }));
  assert.equal(m.valid, false);
  assert.deepEqual(events(m), ['malformed_data']);
  assert.match(m.problems[0]!.detail, /past the end of the message/);
  assert.equal(m.problems[0]!.offset, 12);
});

test('reserved label types 01 and 10 are malformed', () => {
  for (const b of [0x40, 0x80]) {
    const m = parse(message({ questions: [{ name: Buffer.from([b, 0]), type: 1 }] }));
    assert.equal(m.valid, false);
    assert.match(m.problems[0]!.detail, /reserved/);
  }
});

test('compression loop: a pointer to itself is malformed in a question, and infinite_loop after a pointer was followed', () => {
  // The question's name is a pointer to itself (offset 12).
  const self = parse(message({ questions: [{ name: ptr(12), type: 1 }] }));
  assert.equal(self.valid, false);
  assert.deepEqual(events(self), ['malformed_data']);
  assert.match(self.problems[0]!.detail, /points at itself/);

  // The first answer's name points into the second answer's (unknown-type) data, where a pointer points at itself.
  // Question "a" at 12..18; answer 1 at 19 (owner 2 + 10 + A 4); answer 2 at 35, its data at 47.
  const m = parse(
    message({
      flags: 0x8180,
      questions: [{ name: labels('a'), type: 1 }],
      answers: [
        { name: ptr(47), type: 1, rdata: rd.a('1.2.3.4') },
        { name: ptr(12), type: 65534, rdata: ptr(47) },
      ],
    }),
  );
  assert.equal(m.valid, true);
  assert.deepEqual(events(m), ['infinite_loop']);
  assert.equal(m.problems[0]!.offset, 19, "the first answer's name");
  assert.equal(m.answers[0]!.name.text, '', 'the name ends at the loop');
  assert.equal(m.answers[1]!.name.text, 'a', 'reading goes on after the pointer');
});

test('compression loop between two pointers ends at the 255-step cap: too_many_labels and a truncated name', () => {
  // Question: label "x" then a pointer to the answer's owner, which points back at the question's pointer.
  const q = Buffer.concat([Buffer.from([1]), Buffer.from('x'), ptr(0)]); // pointer patched below
  const body = message({ flags: 0x8180, questions: [{ name: labels('ok'), type: 1 }], answers: [{ name: q, type: 1, rdata: rd.a('1.2.3.4') }, { name: ptr(0), type: 1, rdata: rd.a('1.2.3.4') }] });
  const firstOwner = 12 + labels('ok').length + 4; // "x" label then pointer at firstOwner + 2
  const secondOwner = firstOwner + q.length + 10 + 4;
  body.writeUInt16BE(0xc000 | secondOwner, firstOwner + 2);
  body.writeUInt16BE(0xc000 | firstOwner, secondOwner);
  const t0 = performance.now();
  const m = parse(body);
  assert.ok(performance.now() - t0 < 100, 'the cap bounds the work');
  assert.equal(m.valid, true);
  assert.deepEqual(events(m).sort(), ['name_too_long', 'too_many_labels'], 'Suricata flags the cut name truncated as well');
  assert.equal(m.answers[0]!.name.truncated, true);
  assert.ok(m.answers[0]!.name.text.startsWith('x.x.x'));
  assert.equal(m.answers.length, 2, 'reading goes on after the pointer');
});

test(`names up to ${MAX_NAME_LEN} bytes are kept whole; longer ones are cut there with name_too_long, and parsing goes on`, () => {
  const l63 = 'a'.repeat(63);
  const exact = Array.from({ length: 16 }, () => l63).join('.') + '.b'; // 16*63 + 15 dots + 2 = 1025
  assert.equal(exact.length, MAX_NAME_LEN);
  const m1 = parse(message({ questions: [{ name: labels(exact), type: 1 }, { name: labels('next.example'), type: 28 }] }));
  assert.equal(m1.valid, true);
  assert.deepEqual(m1.problems, []);
  assert.equal(m1.questions[0]!.name.text, exact);
  assert.equal(m1.questions[0]!.name.truncated, false);

  const longer = exact + 'c';
  const m2 = parse(message({ questions: [{ name: labels(longer), type: 1 }, { name: labels('next.example'), type: 28 }] }));
  assert.equal(m2.valid, true);
  assert.deepEqual(events(m2), ['name_too_long']);
  assert.equal(m2.problems[0]!.offset, 12, 'where the long name starts');
  assert.equal(m2.questions[0]!.name.text, exact, 'cut at 1025 bytes');
  assert.equal(m2.questions[0]!.name.truncated, true);
  assert.equal(m2.questions[1]!.name.text, 'next.example', 'the end of the long name was found');
  assert.equal(m2.questions[1]!.typeName, 'AAAA');

  const huge = Array.from({ length: 200 }, () => l63).join('.');
  const m3 = parse(message({ questions: [{ name: labels(huge), type: 1 }] }));
  assert.equal(m3.questions[0]!.name.bytes.length, MAX_NAME_LEN);
});

test(`more than ${MAX_NAME_SEGMENTS} labels: malformed without a pointer, cut with too_many_labels after one`, () => {
  const many = Array.from({ length: MAX_NAME_SEGMENTS + 1 }, () => 'a').join('.');
  const m = parse(message({ questions: [{ name: labels(many), type: 1 }] }));
  assert.equal(m.valid, false);
  assert.deepEqual(events(m), ['malformed_data']);
  assert.match(m.problems[0]!.detail, /more than 255 labels/);

  const ok = Array.from({ length: MAX_NAME_SEGMENTS }, () => 'a').join('.');
  assert.equal(parse(message({ questions: [{ name: labels(ok), type: 1 }] })).valid, true, `${MAX_NAME_SEGMENTS} labels are fine`);

  // The answer's owner is a label and a pointer to the question's 255 labels: 257 steps.
  const b = parse(message({ flags: 0x8180, questions: [{ name: labels(many.slice(2)), type: 1 }], answers: [{ name: Buffer.concat([Buffer.from([1, 0x7a]), ptr(12)]), type: 1, rdata: rd.a('1.2.3.4') }] }));
  assert.equal(b.valid, true);
  assert.deepEqual(events(b).sort(), ['name_too_long', 'too_many_labels']);
  assert.equal(b.answers[0]!.name.truncated, true);
});

test('invalid authorities are dropped, the additionals are then not read, and the message stays valid', () => {
  const ok = { name: ptr(12), type: 1, rdata: rd.a('1.2.3.4') };
  const bad = { name: ptr(12), type: 15, rdata: Buffer.from([0]) }; // MX shorter than its preference
  const m = parse(message({ flags: 0x8180, questions: [{ name: labels('a'), type: 1 }], answers: [ok], authorities: [ok, bad], additionals: [ok] }));
  assert.equal(m.valid, true);
  assert.deepEqual(events(m), ['invalid_authorities']);
  assert.equal(m.answers.length, 1);
  assert.deepEqual(m.authorities, []);
  assert.deepEqual(m.additionals, []);
  assert.match(m.problems[0]!.detail, /authority 2 of 2: MX data/);

  const n = parse(message({ flags: 0x8180, questions: [{ name: labels('a'), type: 1 }], answers: [ok], authorities: [ok], additionals: [ok, { name: labels(''), type: 41, rdata: Buffer.from([0, 10, 0, 9, 1]) }] }));
  assert.equal(n.valid, true);
  assert.deepEqual(events(n), ['invalid_additionals']);
  assert.equal(n.authorities.length, 1);
  assert.deepEqual(n.additionals, []);
  assert.match(n.problems[0]!.detail, /EDNS option runs past/);
});

test('a bad answer or question makes the message malformed, with only malformed_data raised', () => {
  const long = Array.from({ length: 20 }, () => 'a'.repeat(63)).join('.');
  const m = parse(message({ flags: 0x8180, questions: [{ name: labels(long), type: 1 }], answers: [{ name: ptr(12), type: 6, rdata: Buffer.from([0, 0]) }] }));
  assert.equal(m.valid, false);
  assert.deepEqual(events(m), ['malformed_data'], 'the long name is not reported: Suricata keeps no transaction');
  assert.equal(m.questions.length, 1, 'what parsed before the failure stays');
  assert.match(m.problems[0]!.detail, /answer 1 of 1: SOA data/);
});

test('counts larger than the sections are malformed; a record whose data runs past the end too', () => {
  const m = parse(message({ questions: [{ name: labels('a'), type: 1 }], counts: [2, 0, 0, 0] }));
  assert.equal(m.valid, false);
  assert.match(m.problems[0]!.detail, /question 2 of 2/);
  const body = message({ flags: 0x8180, questions: [{ name: labels('a'), type: 1 }], answers: [{ name: ptr(12), type: 1, rdata: rd.a('1.2.3.4') }] });
  body.writeUInt16BE(5, body.length - 6); // rdlength 5, four bytes follow
  const r = parse(body);
  assert.equal(r.valid, false);
  assert.match(r.problems[0]!.detail, /5-byte data runs past the end/);
});

test('TXT: strings up to one that runs past the data are kept; none at all is malformed', () => {
  const kept = parse(message({ flags: 0x8180, questions: [{ name: labels('a'), type: 16 }], answers: [{ name: ptr(12), type: 16, rdata: Buffer.concat([rd.txt('one'), Buffer.from([9, 0x41])]) }] }));
  assert.equal(kept.valid, true);
  assert.deepEqual(rdataOf(kept.answers[0]!.rdata, 'txt').texts, ['one']);
  const none = parse(message({ flags: 0x8180, questions: [{ name: labels('a'), type: 16 }], answers: [{ name: ptr(12), type: 16, rdata: Buffer.from([9, 0x41]) }] }));
  assert.equal(none.valid, false);
});

test('a header shorter than 12 bytes is malformed with no header; trailing bytes after the sections are ignored', () => {
  for (let n = 0; n < 12; n++) {
    const m = parseDnsMessage(Buffer.alloc(n), 0, n);
    assert.equal(m.header, null);
    assert.equal(m.valid, false);
    assert.deepEqual(events(m), ['malformed_data']);
  }
  const body = message({ questions: [{ name: labels('a'), type: 1 }] });
  const m = parse(Buffer.concat([body, Buffer.from('trailing')]));
  assert.equal(m.valid, true);
  assert.equal(m.end, body.length);
});

test('a message inside a larger buffer: offsets are from its start and pointers from its header', () => {
  const body = everyTypeResponse();
  const buf = Buffer.concat([Buffer.from('prefix!'), body, Buffer.from('suffix')]);
  const inside = parseDnsMessage(buf, 7, body.length);
  const alone = parse(body);
  assert.deepEqual(inside.answers.map((r) => r.name.text), alone.answers.map((r) => r.name.text));
  assert.equal(inside.end, 7 + alone.end);
  // Out-of-range arguments are clamped, never thrown on.
  assert.equal(parseDnsMessage(buf, -5, 3).header, null);
  assert.equal(parseDnsMessage(buf, buf.length + 10, 100).header, null);
  assert.equal(parseDnsMessage(buf, 7, Number.NaN).header, null);
});

test('kept bytes are copies: the buffer may be reused after parsing', () => {
  const body = everyTypeResponse();
  const m = parse(body);
  body.fill(0xee);
  assert.equal(m.questions[0]!.name.text, 'example.com');
  assert.equal(Buffer.from(m.questions[0]!.name.bytes).toString(), 'example.com');
  assert.deepEqual([...rdataOf(m.answers[0]!.rdata, 'a').bytes], [192, 0, 2, 1]);
});

test("the header plausibility check is Suricata's: counts must fit, a bare header has none, a query has a question", () => {
  const h = (flags: number, counts: [number, number, number, number], extra = 0): boolean => {
    const b = Buffer.concat([message({ flags, counts }), Buffer.alloc(extra)]);
    return parse(b).plausible;
  };
  assert.equal(h(0x0100, [1, 0, 0, 0], 10), true);
  assert.equal(h(0x0100, [0, 0, 0, 0]), false, 'a query without a question');
  assert.equal(h(0x8180, [0, 0, 0, 0]), true, 'a bare response header');
  assert.equal(h(0x8180, [0, 0, 0, 0], 1), false, 'no records but more than a header');
  assert.equal(h(0x8180, [0, 7, 0, 0], 2), true, '14 bytes for 7 records');
  assert.equal(h(0x8180, [0, 8, 0, 0], 2), false, '16 bytes needed for 8 records');
  assert.equal(plausibleHeader(parse(message({ flags: 0x8180, counts: [0xffff, 0xffff, 0xffff, 0xffff] })).header!, 65535), false);
});
