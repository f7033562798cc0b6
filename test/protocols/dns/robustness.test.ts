import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { MAX_NAME_LEN, parseDnsMessage, type DnsMessage, type DnsName, type DnsRecord } from '../../../src/protocols/dns/parse.js';
import { prng, shared } from '../../helpers.js';
import { everyTypeResponse, labels, message, ptr, rd } from './build.js';
import { udpDnsPayloads } from './corpus.js';

const EVENTS = new Set(['malformed_data', 'name_too_long', 'infinite_loop', 'too_many_labels', 'invalid_authorities', 'invalid_additionals']);

/** Parses and checks what must hold for any input; returns the message. */
function parseChecked(buf: Uint8Array, off = 0, len = buf.length): DnsMessage {
  const m = parseDnsMessage(buf, off, len);
  const seen = new Set<string>();
  for (const p of m.problems) {
    assert.ok(EVENTS.has(p.event), `known event ${p.event}`);
    assert.ok(!seen.has(p.event), `${p.event} at most once`);
    seen.add(p.event);
    assert.ok(p.offset >= 0 && p.offset <= len, `offset ${p.offset} within the message`);
  }
  if (!m.valid) assert.deepEqual([...seen], ['malformed_data'], 'an invalid message raises malformed_data only');
  else assert.ok(!seen.has('malformed_data'));
  if (m.header === null) assert.equal(m.valid, false);
  assert.ok(m.end >= off && m.end <= off + len);
  const names: DnsName[] = [...m.questions.map((q) => q.name), ...[...m.answers, ...m.authorities, ...m.additionals].flatMap(recordNames)];
  for (const n of names) {
    assert.ok(n.bytes.length <= MAX_NAME_LEN, 'names are capped');
    assert.equal(typeof n.text, 'string');
  }
  return m;
}

function recordNames(r: DnsRecord): DnsName[] {
  const d = r.rdata;
  switch (d.kind) {
    case 'cname':
    case 'ns':
    case 'ptr':
      return [r.name, d.name];
    case 'mx':
      return [r.name, d.exchange];
    case 'soa':
      return [r.name, d.mname, d.rname];
    case 'srv':
      return [r.name, d.target];
    default:
      return [r.name];
  }
}

/** Crafted seeds for truncation and mutation: every type, compression, long names, a loop. */
function seeds(): Buffer[] {
  const long = Array.from({ length: 18 }, () => 'z'.repeat(63)).join('.');
  return [
    everyTypeResponse(),
    message({ questions: [{ name: labels('www.example.com'), type: 1 }], additionals: [{ name: labels(''), type: 41, class: 4096, rdata: rd.opt([8, Buffer.from('0001180ac0a801', 'hex')]) }] }),
    message({ flags: 0x8183, questions: [{ name: labels(long), type: 28 }], authorities: [{ name: ptr(12), type: 6, rdata: rd.soa(ptr(12), labels('h.example'), 1, 2, 3, 4, 5) }] }),
    message({ flags: 0x8180, questions: [{ name: labels('a'), type: 1 }], answers: [{ name: ptr(47), type: 1, rdata: rd.a('1.2.3.4') }, { name: ptr(12), type: 65534, rdata: ptr(47) }] }),
  ];
}

test('a message cut at every byte parses without throwing: invalid until its answers are whole, then valid with the cut section reported', () => {
  for (const full of seeds()) {
    const whole = parseChecked(full);
    assert.equal(whole.valid, true);
    let wasValid = false;
    for (let k = 0; k <= full.length; k++) {
      const cut = Buffer.from(full.subarray(0, k)); // its own buffer: nothing past the cut to read
      const m = parseChecked(cut);
      if (k < 12) assert.equal(m.header, null);
      if (wasValid) assert.equal(m.valid, true, `valid once the answers are whole (cut at ${k})`);
      wasValid = m.valid;
      assert.ok(m.questions.length <= whole.questions.length);
      m.questions.forEach((q, i) => assert.equal(q.name.text, whole.questions[i]!.name.text, `question ${i} is what the whole message says (cut at ${k})`));
      m.answers.forEach((a, i) => assert.equal(a.name.text, whole.answers[i]!.name.text));
      if (m.valid && k < full.length) {
        assert.ok(
          m.problems.some((p) => p.event === 'invalid_authorities' || p.event === 'invalid_additionals'),
          `a cut in the last sections is reported (cut at ${k}): ${JSON.stringify(m.problems)}`,
        );
      }
    }
    assert.equal(wasValid, true);
  }
});

test('random bytes (20000 seeded inputs, pointer-heavy and with plausible headers) never throw', () => {
  const rand = prng(0xd15ea5e);
  const byte = (): number => Math.floor(rand() * 256);
  for (let i = 0; i < 20000; i++) {
    const len = Math.floor(rand() * 600);
    const buf = Buffer.alloc(len);
    const style = i % 4;
    for (let j = 0; j < len; j++) {
      const r = rand();
      // Style 1 favours pointers and small label lengths; style 2 zero bytes; others uniform.
      buf[j] = style === 1 ? (r < 0.3 ? 0xc0 : r < 0.6 ? Math.floor(rand() * len) & 0xff : r < 0.8 ? Math.floor(rand() * 8) : byte()) : style === 2 && r < 0.5 ? 0 : byte();
    }
    if (style >= 2 && len >= 12) {
      // Small counts so that the sections are actually read.
      for (let c = 0; c < 4; c++) buf.writeUInt16BE(Math.floor(rand() * 6), 4 + 2 * c);
    }
    parseChecked(buf);
  }
});

function mutate(src: Buffer, rand: () => number): Buffer {
  let b = Buffer.from(src);
  const at = (): number => Math.floor(rand() * Math.max(1, b.length));
  const n = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < n; i++) {
    const kind = Math.floor(rand() * 6);
    if (kind === 0 && b.length > 0) {
      const p = at();
      b[p] = b[p]! ^ (1 << Math.floor(rand() * 8));
    }
    else if (kind === 1 && b.length > 0) b[at()] = [0x00, 0xc0, 0x3f, 0xff, 0x40, 0x80][Math.floor(rand() * 6)]!;
    else if (kind === 2) {
      const p = at();
      b = Buffer.concat([b.subarray(0, p), Buffer.from([Math.floor(rand() * 256)]), b.subarray(p)]);
    } else if (kind === 3 && b.length > 0) {
      const p = at();
      b = Buffer.concat([b.subarray(0, p), b.subarray(p + 1)]);
    } else if (kind === 4) b = b.subarray(0, at());
    else if (b.length > 2) {
      const p = at();
      b[p] = 0xc0 | Math.floor(rand() * 4);
      if (p + 1 < b.length) b[p + 1] = Math.floor(rand() * b.length) & 0xff;
    }
  }
  return b;
}

test('mutated crafted messages (8000 seeded mutations) never throw', () => {
  const rand = prng(20040421);
  const base = seeds();
  let valid = 0;
  for (let i = 0; i < 8000; i++) {
    const m = parseChecked(mutate(base[i % base.length]!, rand));
    if (m.valid) valid++;
  }
  assert.ok(valid > 100, `some mutations stay valid and so reach the later sections (${valid})`);
});

test('mutated corpus DNS messages (4000 seeded mutations) never throw', async (t) => {
  const dir = shared(t, 'corpus', 'dns');
  if (dir === null) return;
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.pcap') || f.endsWith('.pcapng'))
    .map((f) => join(dir, f));
  const payloads: Buffer[] = [];
  for (const f of files) for (const p of await udpDnsPayloads(f)) payloads.push(p.payload);
  assert.ok(payloads.length >= 3, `the corpus has DNS messages (${payloads.length})`);
  const rand = prng(0x53);
  for (let i = 0; i < 4000; i++) parseChecked(mutate(payloads[i % payloads.length]!, rand));
});

test('work is bounded: the costliest 65535-byte message (every owner name a 255-step pointer loop) parses in well under a second', () => {
  // An unknown-type record holds a loop (label "a", pointer to label "b", pointer back); every
  // other record is owned by a pointer into it, so every name takes the full 255 steps.
  const loopAt = 12 + 1 + 10; // after the header, the first record's root owner and its fixed fields
  const loop = Buffer.concat([Buffer.from([1, 0x61]), ptr(loopAt + 4), Buffer.from([1, 0x62]), ptr(loopAt)]);
  const first = Buffer.concat([labels(''), Buffer.from([0xff, 0xfe, 0, 1, 0, 0, 0, 0, 0, loop.length]), loop]);
  const rec = Buffer.concat([ptr(loopAt), Buffer.from([0, 1, 0, 1, 0, 0, 0, 0, 0, 0])]);
  const parts = [message({ flags: 0x8180, counts: [0, 0, 0, 0] }), first];
  let size = 12 + first.length;
  while (size + rec.length <= 65535) {
    parts.push(rec);
    size += rec.length;
  }
  const msg = Buffer.concat(parts);
  msg.writeUInt16BE(parts.length - 1, 6);
  const t0 = performance.now();
  const m = parseChecked(msg);
  const ms = performance.now() - t0;
  assert.equal(m.valid, true);
  assert.equal(m.answers.length, parts.length - 1);
  assert.equal(m.answers[1]!.name.truncated, true);
  assert.ok(m.answers[1]!.name.text.startsWith('a.b.a.b'));
  assert.deepEqual(m.problems.map((p) => p.event).sort(), ['name_too_long', 'too_many_labels']);
  assert.ok(ms < 1000, `${m.answers.length} looping names in ${ms.toFixed(0)} ms`);
});
