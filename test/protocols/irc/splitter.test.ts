import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CONTENTLINE_MAX_LINE, ContentLineSplitter, type ContentLineWeird } from '../../../src/protocols/irc/index.js';
import { prng } from '../../helpers.js';

interface Seen {
  lines: Array<{ text: string; ts: number; end: number }>;
  weirds: Array<{ name: ContentLineWeird; ts: number }>;
}

/** Feeds `chunks` (each with its time) and, when `eof`, closes the side at `eof`. */
function split(chunks: Array<[string, number]>, eof?: number, max = CONTENTLINE_MAX_LINE): Seen {
  const seen: Seen = { lines: [], weirds: [] };
  const s = new ContentLineSplitter(max);
  const sink = {
    line: (l: Uint8Array, ts: number, end: number) => seen.lines.push({ text: Buffer.from(l).toString('latin1'), ts, end }),
    weird: (name: ContentLineWeird, ts: number) => seen.weirds.push({ name, ts }),
  };
  for (const [text, ts] of chunks) {
    const b = Buffer.from(text, 'latin1');
    s.push(b, 0, b.length, ts, sink);
  }
  if (eof !== undefined) s.end(eof, sink);
  return seen;
}

const texts = (s: Seen): string[] => s.lines.map((l) => l.text);

test('CRLF, bare LF and bare CR each end a line, as Zeek ContentLine with CR_as_EOL|LF_as_EOL', () => {
  const s = split([['NICK a\r\nUSER b\nJOIN #c\rPART #c\r\n', 1]]);
  assert.deepEqual(texts(s), ['NICK a', 'USER b', 'JOIN #c', 'PART #c']);
  assert.deepEqual(
    s.lines.map((l) => l.end),
    [8, 15, 23, 32],
  );
  // The bare CR followed by more text is flagged (Zeek: line_terminated_with_single_CR).
  assert.deepEqual(
    s.weirds.map((w) => w.name),
    ['line_terminated_with_single_CR'],
  );
});

test('a CRLF split across chunks is one terminator, not an empty line', () => {
  const s = split([
    ['NICK a\r', 1],
    ['\nUSER b\r', 2],
    ['\n', 3],
  ]);
  assert.deepEqual(texts(s), ['NICK a', 'USER b']);
  assert.deepEqual(s.weirds, []);
  // Each line carries the time of the chunk that ended it: the CR's.
  assert.deepEqual(
    s.lines.map((l) => l.ts),
    [1, 2],
  );
});

test('a line takes the time of the chunk holding its terminator, not of its first byte', () => {
  const s = split([
    ['PRIVMSG #c :hel', 10.25],
    ['lo', 11.5],
    ['\r\nPING x\r\n', 12.75],
  ]);
  assert.deepEqual(
    s.lines.map((l) => [l.text, l.ts]),
    [
      ['PRIVMSG #c :hello', 12.75],
      ['PING x', 12.75],
    ],
  );
});

test('empty lines are delivered (Zeek drops them later as too short)', () => {
  assert.deepEqual(texts(split([['\r\n\n\r\r\n', 1]])), ['', '', '', '']);
});

test('NUL bytes stay in the line', () => {
  assert.deepEqual(texts(split([['A\0B\n', 1]])), ['A\0B']);
});

test('a line reaching the cap is delivered at the cap and the overflowing byte is dropped (Zeek contentline_size_exceeded)', () => {
  const s = split([['a'.repeat(10) + 'XYZ\n', 1]], undefined, 10);
  // 10 bytes, then 'X' overflows: dropped; "YZ" is the next line.
  assert.deepEqual(texts(s), ['a'.repeat(10), 'YZ']);
  assert.deepEqual(
    s.weirds.map((w) => w.name),
    ['contentline_size_exceeded'],
  );
});

test('an overflow on the CR of a CRLF swallows its LF too', () => {
  const s = split([['a'.repeat(10) + '\r\nNEXT\n', 1]], undefined, 10);
  assert.deepEqual(texts(s), ['a'.repeat(10), 'NEXT']);
});

test('the default cap is Zeek IRC analyzer 1000 bytes: 5200 bytes without a newline give 5 lines of 1000 and 195 at EOF', () => {
  const body = 'x'.repeat(5200);
  const s = split([[body, 1]], 2);
  assert.deepEqual(
    s.lines.map((l) => l.text.length),
    [1000, 1000, 1000, 1000, 1000, 195],
  );
  assert.equal(s.weirds.filter((w) => w.name === 'contentline_size_exceeded').length, 5);
  assert.equal(s.lines[5]!.ts, 2, 'the EOF line has the closing time');
});

test('EOF delivers a partial line and nothing when there is none', () => {
  assert.deepEqual(texts(split([['QUIT :bye', 1]], 2)), ['QUIT :bye']);
  assert.deepEqual(texts(split([['QUIT :bye\r\n', 1]], 2)), ['QUIT :bye']);
});

test('memory stays bounded under a peer that never sends a newline', () => {
  const s = new ContentLineSplitter();
  let lines = 0;
  const sink = { line: () => lines++, weird: () => {} };
  const chunk = new Uint8Array(64 * 1024).fill(0x41);
  for (let i = 0; i < 160; i++) {
    s.push(chunk, 0, chunk.length, i, sink); // 10 MiB in all
    assert.ok(s.buffered <= CONTENTLINE_MAX_LINE);
  }
  assert.equal(lines, Math.floor((160 * 65536) / 1001));
});

test('after a gap the cut line is dropped and splitting resumes at the next terminator', () => {
  const s = new ContentLineSplitter();
  const out: string[] = [];
  const sink = { line: (l: Uint8Array) => out.push(Buffer.from(l).toString('latin1')), weird: () => {} };
  const feed = (t: string): void => s.push(Buffer.from(t), 0, t.length, 0, sink);
  feed('NICK a\r\nPRIVMSG #c :before');
  s.gap();
  feed('after the hole\r\nJOIN #d\r\n');
  assert.deepEqual(out, ['NICK a', 'JOIN #d']);
});

test('stop halts in the middle of a chunk and lineStart says where the unread bytes begin', () => {
  const s = new ContentLineSplitter();
  const out: string[] = [];
  const sink = {
    line: (l: Uint8Array) => {
      out.push(Buffer.from(l).toString('latin1'));
      if (out.length === 1) s.stop();
    },
    weird: () => {},
  };
  s.push(Buffer.from('670 :go\r\n\x16\x03\x01'), 0, 12, 0, sink);
  assert.deepEqual(out, ['670 :go']);
  assert.equal(s.lineStart, 9);
  assert.equal(s.isStopped, true);
});

test('offsets and out-of-range arguments never throw', () => {
  const s = new ContentLineSplitter();
  const sink = { line: () => {}, weird: () => {} };
  const b = Buffer.from('abc\n');
  s.push(b, 2, 100, 0, sink);
  s.push(b, -5, 3, 0, sink);
  s.push(b, 10, -1, 0, sink);
  s.end(0, sink);
});

test('the lines do not depend on how the stream is cut into chunks', () => {
  const rand = prng(7);
  const alphabet = ['a', 'b', ' ', ':', '\r', '\n', '\r\n', '\0'];
  for (let round = 0; round < 300; round++) {
    let text = '';
    const n = Math.floor(rand() * 200);
    for (let i = 0; i < n; i++) text += alphabet[Math.floor(rand() * alphabet.length)];
    const whole = split([[text, 0]], 1, 16);
    const chunks: Array<[string, number]> = [];
    for (let i = 0; i < text.length; ) {
      const k = 1 + Math.floor(rand() * 5);
      chunks.push([text.slice(i, i + k), 0]);
      i += k;
    }
    const pieces = split(chunks, 1, 16);
    assert.deepEqual(texts(pieces), texts(whole), JSON.stringify(text));
    assert.deepEqual(
      pieces.weirds.map((w) => w.name),
      whole.weirds.map((w) => w.name),
    );
  }
});
