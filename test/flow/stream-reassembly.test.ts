import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TO_CLIENT, TO_SERVER, type Flow } from '../../src/flow/flow.js';
import { STREAM_POLICIES, streamPolicy } from '../../src/flow/reassembly.js';
import { TcpConnection, type SynthCapture } from '../../src/synth/traffic.js';
import { capture, FlowHarness } from './harness.js';
import type { FlowTableOptions } from '../../src/flow/table.js';

/** Client data whose every byte says where it belongs: upper case for O, lower case for N, digits for fillers. */
const upper = (from: number, to: number): string => pattern(from, to, 65, 26);
const lower = (from: number, to: number): string => pattern(from, to, 97, 26);
const digits = (from: number, to: number): string => pattern(from, to, 48, 10);
function pattern(from: number, to: number, base: number, n: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += String.fromCharCode(base + (i % n));
  return s;
}

/** A handshaken connection whose server stays silent (acknowledges nothing), fed to a fresh table. */
function connection(options: FlowTableOptions = {}, isn?: number): { cap: SynthCapture; conn: TcpConnection; h: FlowHarness; flow: Flow } {
  const cap = capture();
  const conn = new TcpConnection(cap, '10.0.0.1:40000', '10.0.0.2:80', isn === undefined ? {} : { clientIsn: isn });
  conn.handshake();
  const h = new FlowHarness(options).feed(cap);
  return { cap, conn, h, flow: h.only() };
}

/** The server acknowledges the client's stream up to `offset`. */
function serverAck(conn: TcpConnection, offset: number): void {
  conn.packet('server', { seq: conn.seq('server', 0), ack: conn.seq('client', offset), flags: 'A' }, new Uint8Array(0));
}

describe('in-order and out-of-order delivery', () => {
  test('in-order segments are delivered as they come, nothing held', () => {
    const { cap, conn, h, flow } = connection();
    conn.segment('client', 0, 'GET / HTTP/1.0\r\n');
    h.feed(cap);
    assert.equal(h.text(flow, TO_SERVER), 'GET / HTTP/1.0\r\n');
    conn.segment('client', 16, '\r\n');
    h.feed(cap);
    assert.equal(h.text(flow, TO_SERVER), 'GET / HTTP/1.0\r\n\r\n');
    assert.equal(flow.tcp!.streams[0].held.pieces.length, 0);
    assert.deepEqual(h.eventNames(), []);
  });

  test('both directions are reassembled separately', () => {
    const cap = capture();
    const conn = new TcpConnection(cap, '10.0.0.1:40000', '10.0.0.2:80');
    conn.handshake().send('client', 'request').send('server', 'response').send('client', '+more');
    const h = new FlowHarness().feed(cap);
    const flow = h.only();
    assert.equal(h.text(flow, TO_SERVER), 'request+more');
    assert.equal(h.text(flow, TO_CLIENT), 'response');
  });

  test('out-of-order segments wait for the hole and are then delivered in order', () => {
    const { cap, conn, h, flow } = connection();
    conn.segment('client', 20, digits(20, 30));
    conn.segment('client', 10, digits(10, 20));
    h.feed(cap);
    assert.equal(h.text(flow, TO_SERVER), '', 'nothing is delivered across the hole');
    assert.equal(flow.tcp!.streams[0].held.bytes, 20);
    conn.segment('client', 0, digits(0, 10));
    h.feed(cap);
    assert.equal(h.text(flow, TO_SERVER), digits(0, 30));
    assert.equal(flow.tcp!.streams[0].held.bytes, 0);
    assert.deepEqual(h.eventNames(), []);
  });

  test('held segments are copies: a reader reusing its frame buffer cannot change them', () => {
    const { cap, conn, h, flow } = connection({ streamPolicy: 'first' });
    conn.segment('client', 10, digits(10, 20)).segment('client', 5, lower(5, 25));
    h.feed(cap, { reuse: true });
    conn.segment('client', 0, digits(0, 5));
    h.feed(cap, { reuse: true });
    assert.equal(h.text(flow, TO_SERVER), digits(0, 5) + lower(5, 10) + digits(10, 20) + lower(20, 25));
  });

  test('a segment filling only part of the hole delivers up to the next hole', () => {
    const { cap, conn, h, flow } = connection();
    conn.segment('client', 30, digits(30, 40));
    conn.segment('client', 10, digits(10, 20));
    conn.segment('client', 0, digits(0, 10));
    h.feed(cap);
    assert.equal(h.text(flow, TO_SERVER), digits(0, 20));
    conn.segment('client', 20, digits(20, 30));
    h.feed(cap);
    assert.equal(h.text(flow, TO_SERVER), digits(0, 40));
  });
});

describe('retransmissions', () => {
  test('an exact retransmission is delivered once and counted', () => {
    const { cap, conn, h, flow } = connection();
    conn.segment('client', 0, 'hello').segment('client', 0, 'hello');
    h.feed(cap);
    assert.equal(h.text(flow, TO_SERVER), 'hello');
    assert.equal(h.count('pkt_retransmission'), 1);
    assert.equal(flow.tcp!.streams[0].retransmissions, 1);
  });

  test('a partial retransmission delivers only its new tail, once, and is counted', () => {
    const { cap, conn, h, flow } = connection();
    conn.segment('client', 0, 'hello').segment('client', 0, 'hello world').segment('client', 3, 'lo world!');
    h.feed(cap);
    assert.equal(h.text(flow, TO_SERVER), 'hello world!');
    assert.equal(h.count('pkt_retransmission'), 2);
    assert.equal(h.count('reassembly_overlap_different_data'), 0);
  });

  test('a retransmission of held out-of-order data is an overlap with the same data', () => {
    const { cap, conn, h, flow } = connection();
    conn.segment('client', 10, digits(10, 20)).segment('client', 10, digits(10, 20)).segment('client', 0, digits(0, 10));
    h.feed(cap);
    assert.equal(h.text(flow, TO_SERVER), digits(0, 20));
    assert.deepEqual(h.eventNames(), ['reassembly_overlap']);
  });
});

/**
 * The seven overlap cases, with O held at [20, 30) behind a hole. Each names where N lies and,
 * per policy, whose bytes win where they overlap (Suricata's table).
 */
const O: [number, number] = [20, 30];
const CASES: Array<{ name: string; n: [number, number]; row: number }> = [
  { name: 'N starts before O, ends inside O', n: [15, 25], row: 0 },
  { name: "N starts before O, ends at O's end", n: [15, 30], row: 1 },
  { name: "N starts before O, ends after O's end", n: [15, 35], row: 1 },
  { name: "N starts with O, ends before O's end", n: [20, 25], row: 2 },
  { name: 'N starts and ends with O', n: [20, 30], row: 3 },
  { name: "N starts with O, ends after O's end", n: [20, 35], row: 4 },
  { name: "N starts inside O, ends before O's end", n: [22, 28], row: 5 },
  { name: "N starts inside O, ends at O's end", n: [22, 30], row: 5 },
  { name: "N starts inside O, ends after O's end", n: [25, 35], row: 6 },
];
type Winner = 'new' | 'old';
const TABLE: Record<string, Winner[]> = {
  bsd: ['new', 'new', 'old', 'old', 'old', 'old', 'old'],
  linux: ['new', 'new', 'old', 'old', 'new', 'old', 'old'],
  'old-linux': ['new', 'new', 'old', 'new', 'new', 'old', 'old'],
  solaris: ['old', 'new', 'old', 'new', 'new', 'old', 'new'],
  first: ['old', 'old', 'old', 'old', 'old', 'old', 'old'],
  last: ['new', 'new', 'new', 'new', 'new', 'new', 'new'],
};
/** Host names Suricata accepts for each policy. */
const ALIASES: Record<string, string> = {
  windows: 'bsd', macos: 'bsd', 'bsd-right': 'bsd', hpux10: 'bsd', irix: 'bsd', windows2k3: 'bsd',
  hpux11: 'solaris', 'old-solaris': 'solaris', vista: 'first',
};

/** What the host reassembles: filler up to the overlap, then O and N painted by the table. */
function expected(n: [number, number], winner: Winner): string {
  const from = Math.min(n[0], O[0]);
  const to = Math.max(n[1], O[1]);
  let s = digits(0, from);
  for (let i = from; i < to; i++) {
    const inO = i >= O[0] && i < O[1];
    const inN = i >= n[0] && i < n[1];
    s += (inN && (!inO || winner === 'new') ? lower : upper)(i, i + 1);
  }
  return s;
}

describe('overlapping segments with different data follow the stream policy', () => {
  for (const policy of [...Object.keys(TABLE), ...Object.keys(ALIASES)]) {
    const column = TABLE[ALIASES[policy] ?? policy]!;
    describe(policy, () => {
      for (const c of CASES) {
        test(`${c.name}: ${column[c.row]} data wins`, () => {
          const { cap, conn, h, flow } = connection({ streamPolicy: policy });
          conn.segment('client', O[0], upper(O[0], O[1]));
          conn.segment('client', c.n[0], lower(c.n[0], c.n[1]));
          conn.segment('client', 0, digits(0, Math.min(c.n[0], O[0])));
          h.feed(cap);
          assert.equal(h.text(flow, TO_SERVER), expected(c.n, column[c.row]!));
          assert.equal(h.count('reassembly_overlap_different_data'), 1);
          assert.equal(flow.tcp!.streams[0].held.bytes, 0);
        });
      }
    });
  }

  test('every policy name the table knows is tested', () => {
    assert.deepEqual(Object.keys(STREAM_POLICIES).sort(), Object.keys(TABLE).sort());
    for (const [alias, base] of Object.entries(ALIASES)) assert.equal(streamPolicy(alias), STREAM_POLICIES[base], alias);
  });

  test('an unknown policy name is refused with the allowed names', () => {
    assert.throws(() => streamPolicy('beos'), /unknown stream overlap policy "beos".*bsd.*linux/);
  });

  test('an in-order segment overlapping held data is resolved by the policy too', () => {
    // N starts at the hole (before O) and ends inside O: bsd takes N, first keeps O.
    for (const [policy, want] of [['bsd', lower(0, 25) + upper(25, 30)], ['first', lower(0, 20) + upper(20, 30)]] as const) {
      const { cap, conn, h, flow } = connection({ streamPolicy: policy });
      conn.segment('client', 20, upper(20, 30)).segment('client', 0, lower(0, 25));
      h.feed(cap);
      assert.equal(h.text(flow, TO_SERVER), want, policy);
      assert.equal(h.count('reassembly_overlap_different_data'), 1, policy);
    }
  });

  test('a segment spanning several held pieces is judged against each of them', () => {
    const { cap, conn, h, flow } = connection({ streamPolicy: 'solaris' });
    // Solaris: N [18, 40) vs O1 [20, 25): ends after, new wins; vs O2 [30, 45): starts before and ends inside, old wins.
    conn.segment('client', 20, upper(20, 25)).segment('client', 30, upper(30, 45)).segment('client', 18, lower(18, 40)).segment('client', 0, digits(0, 18));
    h.feed(cap);
    assert.equal(h.text(flow, TO_SERVER), digits(0, 18) + lower(18, 30) + upper(30, 45));
    assert.equal(h.count('reassembly_overlap_different_data'), 1);
  });
});

describe('overlaps with identical data', () => {
  for (const policy of Object.keys(TABLE)) {
    test(`${policy}: every overlap case with the same bytes raises reassembly_overlap only`, () => {
      for (const c of CASES) {
        const { cap, conn, h, flow } = connection({ streamPolicy: policy });
        conn.segment('client', O[0], upper(O[0], O[1]));
        conn.segment('client', c.n[0], upper(c.n[0], c.n[1]));
        conn.segment('client', 0, digits(0, Math.min(c.n[0], O[0])));
        h.feed(cap);
        const from = Math.min(c.n[0], O[0]);
        assert.equal(h.text(flow, TO_SERVER), digits(0, from) + upper(from, Math.max(c.n[1], O[1])), c.name);
        assert.deepEqual(h.eventNames(), ['reassembly_overlap'], c.name);
      }
    });
  }
});

describe('bytes already delivered', () => {
  for (const policy of Object.keys(TABLE)) {
    test(`${policy}: a segment overlapping delivered bytes never changes them`, () => {
      const { cap, conn, h, flow } = connection({ streamPolicy: policy });
      conn.segment('client', 0, upper(0, 20));
      conn.segment('client', 10, lower(10, 30));
      conn.segment('client', 0, lower(0, 40));
      h.feed(cap);
      assert.equal(h.text(flow, TO_SERVER), upper(0, 20) + lower(20, 40));
      assert.equal(flow.tcp!.streams[0].delivered, 40);
    });
  }
});

describe('gaps', () => {
  test('a hole the peer acknowledged was lost to the capture: it becomes a gap and later data flows', () => {
    const { cap, conn, h, flow } = connection();
    conn.segment('client', 0, digits(0, 10));
    // [10, 20) never reaches the capture.
    conn.segment('client', 20, digits(20, 30));
    h.feed(cap);
    assert.equal(h.text(flow, TO_SERVER), digits(0, 10));
    serverAck(conn, 30);
    h.feed(cap);
    assert.equal(h.text(flow, TO_SERVER), digits(0, 10) + '[gap 10]' + digits(20, 30));
    assert.deepEqual(h.gaps(flow, TO_SERVER), [10]);
    assert.deepEqual(h.events.map((e) => [e.name, e.dir, e.gapBytes]), [['reassembly_seq_gap', TO_SERVER, 10]]);
    conn.segment('client', 30, digits(30, 40));
    h.feed(cap).finish();
    assert.equal(h.text(flow, TO_SERVER), digits(0, 10) + '[gap 10]' + digits(20, 40));
    assert.equal(h.record(flow).tcp?.ts_gap, true);
    assert.equal(h.record(flow).tcp?.tc_gap, undefined);
    assert.equal(flow.tcp!.streams[0].gapBytes, 10);
  });

  test('an acknowledgment seen before the data after the hole still turns the hole into a gap', () => {
    const { cap, conn, h, flow } = connection();
    conn.segment('client', 0, digits(0, 10));
    serverAck(conn, 30);
    conn.segment('client', 20, digits(20, 30));
    h.feed(cap);
    assert.equal(h.text(flow, TO_SERVER), digits(0, 10) + '[gap 10]' + digits(20, 30));
  });

  test('every hole below the acknowledgment is skipped, not only the first', () => {
    const { cap, conn, h, flow } = connection();
    conn.segment('client', 10, digits(10, 20)).segment('client', 30, digits(30, 40)).segment('client', 50, digits(50, 60));
    serverAck(conn, 45);
    h.feed(cap);
    assert.equal(h.text(flow, TO_SERVER), '[gap 10]' + digits(10, 20) + '[gap 10]' + digits(30, 40));
    assert.deepEqual(h.gaps(flow, TO_SERVER), [10, 10]);
    assert.equal(h.count('reassembly_seq_gap'), 2);
    assert.equal(flow.tcp!.streams[0].held.bytes, 10, '[50, 60) waits: [45, 50) may still come');
  });

  test('a hole not yet acknowledged is held, not given up', () => {
    const { cap, conn, h, flow } = connection();
    conn.segment('client', 0, digits(0, 10)).segment('client', 20, digits(20, 30));
    serverAck(conn, 10);
    h.feed(cap);
    assert.equal(h.text(flow, TO_SERVER), digits(0, 10));
    assert.equal(h.count('reassembly_seq_gap'), 0);
  });

  test('server-to-client holes are gaps on the tc side', () => {
    const cap = capture();
    const conn = new TcpConnection(cap, '10.0.0.1:40000', '10.0.0.2:80');
    conn.handshake().send('client', 'GET /');
    conn.segment('server', 0, 'HTTP').segment('server', 10, 'body');
    conn.packet('client', { seq: conn.seq('client', 5), ack: conn.seq('server', 14), flags: 'A' }, new Uint8Array(0));
    const h = new FlowHarness().feed(cap).finish();
    const flow = h.only();
    assert.equal(h.text(flow, TO_CLIENT), 'HTTP[gap 6]body');
    assert.equal(h.events.find((e) => e.name === 'reassembly_seq_gap')?.dir, TO_CLIENT);
    assert.equal(h.record(flow).tcp?.tc_gap, true);
    assert.equal(h.record(flow).tcp?.ts_gap, undefined);
  });

  test('holes still open when the flow ends are flushed as gaps', () => {
    const { cap, conn, h, flow } = connection();
    conn.segment('client', 0, digits(0, 10)).segment('client', 20, digits(20, 30)).segment('client', 35, digits(35, 40));
    h.feed(cap);
    assert.equal(h.text(flow, TO_SERVER), digits(0, 10));
    h.finish();
    assert.equal(h.text(flow, TO_SERVER), digits(0, 10) + '[gap 10]' + digits(20, 30) + '[gap 5]' + digits(35, 40));
    assert.equal(h.count('reassembly_seq_gap'), 2);
    assert.equal(h.record(flow).tcp?.ts_gap, true);
    assert.equal(h.table.heldBytes, 0);
  });
});

describe('per-stream buffering caps', () => {
  test('held bytes never pass maxBufferedBytes: the oldest hole is given up instead', () => {
    const { cap, conn, h, flow } = connection({ maxBufferedBytes: 100 });
    const stream = flow.tcp!.streams[0];
    let peak = 0;
    for (let at = 10; at < 300; at += 10) {
      conn.segment('client', at, digits(at, at + 10));
      h.feed(cap);
      peak = Math.max(peak, stream.held.bytes);
    }
    assert.equal(peak, 100);
    assert.deepEqual(h.gaps(flow, TO_SERVER), [10]);
    assert.equal(h.text(flow, TO_SERVER), '[gap 10]' + digits(10, 300));
    assert.equal(h.count('reassembly_seq_gap'), 1);
  });

  test('held pieces never pass maxBufferedPieces', () => {
    const { cap, conn, h, flow } = connection({ maxBufferedPieces: 4 });
    const stream = flow.tcp!.streams[0];
    let peak = 0;
    for (let at = 10; at < 200; at += 20) {
      conn.segment('client', at, digits(at, at + 10));
      h.feed(cap);
      peak = Math.max(peak, stream.held.pieces.length);
    }
    assert.equal(peak, 4);
    // Ten segments, holes before each: six holes were given up so four pieces stay held.
    assert.deepEqual(h.gaps(flow, TO_SERVER), [10, 10, 10, 10, 10, 10]);
    assert.equal(stream.held.pieces.length, 4);
  });

  test('a segment splitting held data cannot push the piece count past the cap', () => {
    // Under "first" a segment across three held pieces is cut into the two holes between them.
    const { cap, conn, h, flow } = connection({ maxBufferedPieces: 4, streamPolicy: 'first' });
    const stream = flow.tcp!.streams[0];
    conn.segment('client', 10, upper(10, 15)).segment('client', 20, upper(20, 25)).segment('client', 30, upper(30, 35));
    h.feed(cap);
    assert.equal(stream.held.pieces.length, 3);
    conn.segment('client', 12, lower(12, 33));
    h.feed(cap);
    assert.ok(stream.held.pieces.length <= 4, `${stream.held.pieces.length} pieces held`);
    h.finish();
    assert.equal(h.text(flow, TO_SERVER), '[gap 10]' + upper(10, 15) + lower(15, 20) + upper(20, 25) + lower(25, 30) + upper(30, 35));
  });
});

describe('sequence numbers', () => {
  test('a stream whose sequence numbers wrap past 2^32 reassembles exactly', () => {
    const data = pattern(0, 300, 33, 90);
    const { cap, conn, h, flow } = connection({}, 0xffffff00);
    assert.equal(conn.seq('client', 0x100), 1, 'offset 0x100 is past the wrap');
    conn.segment('client', 0x120, data.slice(0x120));
    conn.segment('client', 0, data.slice(0, 0xf0));
    conn.segment('client', 0xf0, data.slice(0xf0, 0x120));
    h.feed(cap);
    assert.equal(h.text(flow, TO_SERVER), data);
    assert.deepEqual(h.eventNames(), []);
    conn.advance('client', 300).close();
    h.feed(cap);
    assert.equal(flow.tcp!.state, 10, 'the close across the wrap is followed to closed');
  });

  test('an ISN of 2^32 - 1 puts the first data byte at sequence number 0', () => {
    const { cap, conn, h, flow } = connection({}, 0xffffffff);
    assert.equal(conn.seq('client', 0), 0);
    conn.segment('client', 0, 'wrapped').segment('client', 7, '!');
    h.feed(cap);
    assert.equal(h.text(flow, TO_SERVER), 'wrapped!');
  });

  test('data carried on the SYN is the start of the stream', () => {
    const cap = capture();
    const conn = new TcpConnection(cap, '10.0.0.1:40000', '10.0.0.2:80', { clientIsn: 7000 });
    conn.packet('client', { seq: 7000, flags: 'S' }, Buffer.from('fast-open:'));
    conn.packet('server', { seq: 5000, ack: 7011, flags: 'SA' }, new Uint8Array(0));
    conn.packet('client', { seq: 7011, ack: 5001, flags: 'A' }, new Uint8Array(0));
    conn.advance('client', 10).send('client', 'rest');
    const h = new FlowHarness().feed(cap);
    const flow = h.only();
    assert.equal(h.text(flow, TO_SERVER), 'fast-open:rest');
    assert.equal(flow.tcp!.state, 3);
  });
});
