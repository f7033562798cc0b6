/**
 * Hostile input: random bytes, IRC-shaped garbage and mutated corpus streams, cut into random
 * chunks, never make the IRC code throw, and what it holds stays bounded. Seeded: failures replay.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CONTENTLINE_MAX_LINE, DccExpectations, decodeLine, IrcConversation, type IrcEvent } from '../../../src/protocols/irc/index.js';
import { prng, shared } from '../../helpers.js';
import { runCapture } from './capture.js';

type Rand = () => number;
const pick = <T>(rand: Rand, items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;

/** Everything an event carries is a string, a finite number, a boolean or a list of those. */
function wellFormed(e: IrcEvent): void {
  for (const [k, v] of Object.entries(e)) {
    if (Array.isArray(v)) for (const x of v as unknown[]) assert.ok(typeof x === 'string' || (typeof x === 'object' && x !== null), k);
    else assert.ok(typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)), `${e.type}.${k}`);
  }
}

interface Feed {
  conversation: IrcConversation;
  lines: number;
  events: number;
  rows: number;
}

function conversation(expectations: DccExpectations): Feed {
  const f: Feed = { conversation: null as unknown as IrcConversation, lines: 0, events: 0, rows: 0 };
  f.conversation = new IrcConversation(
    {
      line: (_d, l) => {
        f.lines++;
        if (l.message !== null) assert.ok(Array.isArray(l.message.params));
      },
      event: (_d, e) => {
        f.events++;
        wellFormed(e);
      },
      log: () => f.rows++,
      weird: () => {},
    },
    expectations,
  );
  return f;
}

/** Feeds `data` from side `dir` in random chunks, now and then a gap or a close. */
function feedRandomly(rand: Rand, f: Feed, dir: number, data: Uint8Array, ts: number): void {
  for (let i = 0; i < data.length; ) {
    const n = 1 + Math.floor(rand() * (rand() < 0.2 ? 4000 : 64));
    const r = rand();
    if (r < 0.002) f.conversation.gap(dir);
    else if (r < 0.004) f.conversation.end(dir, ts);
    // Offsets past the end and negative lengths are handled, not thrown on.
    f.conversation.data(dir, data, i, Math.min(n, data.length - i), ts);
    assert.ok(f.conversation.buffered <= 2 * CONTENTLINE_MAX_LINE);
    i += n;
  }
}

test('random bytes in random chunks never throw, and partial lines stay under the cap', () => {
  const rand = prng(1);
  const expectations = new DccExpectations(64);
  for (let round = 0; round < 2000; round++) {
    const f = conversation(expectations);
    for (let k = 0; k < 4; k++) {
      const bytes = new Uint8Array(Math.floor(rand() * 3000));
      for (let i = 0; i < bytes.length; i++) bytes[i] = rand() < 0.05 ? pick(rand, [0x0d, 0x0a, 0x20, 0x3a, 0x01, 0x00]) : Math.floor(rand() * 256);
      feedRandomly(rand, f, k & 1, bytes, round);
    }
    f.conversation.end(0, round);
    f.conversation.end(1, round);
  }
  assert.ok(expectations.size <= 64);
});

const COMMANDS = ['NICK', 'USER', 'JOIN', 'PART', 'PRIVMSG', 'NOTICE', 'SQUERY', 'TOPIC', 'MODE', 'PING', 'PONG', 'QUIT', 'KICK', 'INVITE', 'WHO', 'WHOIS', 'OPER', 'PASS', 'SERVER', 'SQUIT', 'ERROR', 'NJOIN', 'STARTTLS', 'privmsg'];
const NUMERICS = ['001', '251', '254', '255', '266', '311', '313', '319', '332', '352', '353', '381', '431', '433', '491', '670', '000', '999'];
const WORDS = ['#c', '#a,#b', 'k1,k2', ',', ',,', '*', '=', '@', ':', ':x y', ':@op +v', 'users', 'services', 'servers', 'clients', ':channels', '~u', 'o', 'T', 'Z', '\x01DCC', 'SEND', 'CHAT', '\x01', '4294967295', '99999999999999999999', '-1', '0', '\0', 'a!b@c'];

/** A line made of IRC's own pieces, to reach deep into each command's decoding. */
function ircishLine(rand: Rand): string {
  let s = '';
  if (rand() < 0.1) s += '@tag=' + pick(rand, WORDS) + ' ';
  if (rand() < 0.4) s += ':' + pick(rand, ['srv', 'n!u@h', 'x', '']) + pick(rand, [' ', '  ', '']);
  s += rand() < 0.3 ? pick(rand, NUMERICS) + pick(rand, [' ', '']) : pick(rand, COMMANDS);
  const n = Math.floor(rand() * 9);
  for (let i = 0; i < n; i++) s += pick(rand, [' ', '  ', ',']) + pick(rand, WORDS);
  if (rand() < 0.05) s += ' ' + 'x'.repeat(Math.floor(rand() * 1200));
  return s;
}

test('IRC-shaped garbage decodes without throwing, line by line and as a stream', () => {
  const rand = prng(2);
  const expectations = new DccExpectations(32);
  let events = 0;
  for (let round = 0; round < 500; round++) {
    const f = conversation(expectations);
    const text: string[] = [];
    for (let i = 0; i < 40; i++) {
      const line = ircishLine(rand);
      const d = decodeLine(line, rand() < 0.5);
      if (d.event !== null) {
        wellFormed(d.event);
        events++;
      }
      text.push(line + pick(rand, ['\r\n', '\n', '\r', '']));
    }
    feedRandomly(rand, f, round & 1, Buffer.from(text.join(''), 'latin1'), round);
  }
  assert.ok(events > 5000, `the garbage reached the decoders (${events} events)`);
  assert.ok(expectations.size <= 32);
});

test('thousands of mutated corpus streams never throw', async (t) => {
  const dir = shared(t, 'corpus', 'irc');
  if (dir === null) return;
  const streams: Array<Array<{ dir: number; data: Uint8Array; ts: number }>> = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.pcap'))) {
    for (const flow of (await runCapture(join(dir, name))).irc) if (flow.chunks.length > 0) streams.push(flow.chunks);
  }
  assert.ok(streams.length >= 7);
  const rand = prng(3);
  const expectations = new DccExpectations(128);
  const specials = [0x0d, 0x0a, 0x20, 0x3a, 0x01, 0x00, 0x2c, 0x40, 0x21, 0x23, 0x30, 0x39];
  for (let round = 0; round < 3000; round++) {
    const chunks = pick(rand, streams);
    const f = conversation(expectations);
    for (const c of chunks) {
      let data = Uint8Array.from(c.data);
      const edits = Math.floor(rand() * 6);
      for (let e = 0; e < edits && data.length > 0; e++) {
        const at = Math.floor(rand() * data.length);
        const r = rand();
        if (r < 0.4) data[at] = rand() < 0.5 ? pick(rand, specials) : Math.floor(rand() * 256);
        else if (r < 0.6) data = Uint8Array.from([...data.subarray(0, at), ...data.subarray(at + 1 + Math.floor(rand() * 20))]);
        else if (r < 0.8) data = Uint8Array.from([...data.subarray(0, at), ...data.subarray(at, at + Math.floor(rand() * 40)), ...data.subarray(at)]);
        else data = data.subarray(0, at);
      }
      feedRandomly(rand, f, c.dir, data, c.ts);
    }
    f.conversation.end(0, 0);
    f.conversation.end(1, 0);
  }
  assert.ok(expectations.size <= 128);
});

test('a client that never sends a newline: 32 MiB cost at most the cap, and nothing else grows', () => {
  const rows: unknown[] = [];
  let lines = 0;
  const expectations = new DccExpectations(16);
  const c = new IrcConversation({ line: () => lines++, log: (r) => rows.push(r) }, expectations);
  const chunk = new Uint8Array(1 << 20).fill(0x61);
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 32; i++) {
    c.data(0, chunk, 0, chunk.length, i);
    assert.ok(c.buffered <= CONTENTLINE_MAX_LINE);
  }
  assert.equal(lines, Math.floor((32 << 20) / (CONTENTLINE_MAX_LINE + 1)));
  assert.equal(rows.length, 0);
  // Nothing kept per line: the heap does not grow with the input (generous slack for the runtime's own).
  assert.ok(process.memoryUsage().heapUsed - before < 16 << 20);
});

test('a flood of DCC offers keeps the expectation table at its cap', () => {
  const expectations = new DccExpectations(100);
  const c = new IrcConversation({}, expectations);
  let text = '';
  for (let i = 0; i < 5000; i++) text += `PRIVMSG v :\x01DCC SEND f${i} ${i} ${1024 + (i % 60000)} 1\x01\r\n`;
  const b = Buffer.from(text, 'latin1');
  c.data(0, b, 0, b.length, 1);
  assert.equal(expectations.size, 100);
  assert.equal(expectations.evicted, 4900);
});
