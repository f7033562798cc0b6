import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { gzipSync } from 'node:zlib';
import { formatDShieldLine, normaliseDShieldLine, parseDShieldLine, toIngestEvent } from '../../src/collector/dshield.js';
import { openStore } from '../../src/collector/store/index.js';
import type { IngestEvent } from '../../src/collector/store/store.js';
import { runExport, runImport } from '../../src/cli/dshield.js';
import type { FirewallEvent } from '../../src/events/firewall.js';
import { prng, tempDir } from '../helpers.js';
import { runOutpost } from '../cli/run.js';
import { postgres } from './pg.js';

const T = '\t';
const line = (...f: Array<string | number>): string => f.join(T);
const good = line('2004-04-21 05:00:08 -05:00', '12345', '1', '192.0.2.7', '4312', '198.51.100.9', '1433', 'TCP', 'S');

function parsed(l: string): FirewallEvent {
  const ev = parseDShieldLine(l);
  if (typeof ev === 'string') assert.fail(`refused: ${ev}`);
  return ev;
}

function refused(l: string, why: RegExp): void {
  const ev = parseDShieldLine(l);
  assert.equal(typeof ev, 'string', `accepted: ${l.slice(0, 80)}`);
  assert.match(ev as string, why);
}

describe('parseDShieldLine', () => {
  test('a TCP line becomes a firewall record with its time in UTC', () => {
    const ev = parsed(good);
    assert.equal(ev.event_type, 'firewall');
    assert.equal(ev.timestamp, '2004-04-21T10:00:08.000000+0000');
    assert.equal(ev.src_ip, '192.0.2.7');
    assert.equal(ev.src_port, 4312);
    assert.equal(ev.dest_ip, '198.51.100.9');
    assert.equal(ev.dest_port, 1433);
    assert.equal(ev.proto, 'TCP');
    assert.equal(ev.ip_v, 4);
    assert.deepEqual(ev.firewall, { count: 1, tcp_flags: 'S', submitter: '12345', tz: '-05:00', raw: good });
  });

  test('an offset without a colon, a CRLF ending and a missing flags field are all the format', () => {
    const ev = parsed(`${line('2004-04-21 11:30:08 +0130', '0', '7', '192.0.2.7', '53', '198.51.100.9', '53', 'UDP')}\r`);
    assert.equal(ev.timestamp, '2004-04-21T10:00:08.000000+0000');
    assert.equal(ev.firewall.tz, '+01:30');
    assert.equal(ev.firewall.count, 7);
    assert.equal(ev.firewall.tcp_flags, '');
    assert.equal(ev.proto, 'UDP');
  });

  test('IPv6 addresses are written in RFC 5952 form', () => {
    const ev = parsed(line('2004-04-21 10:00:08 +00:00', '0', '1', '2001:0DB8:0000:0000:0000:0000:0000:0001', '1', '2001:db8::2', '22', '6', 'SA'));
    assert.equal(ev.src_ip, '2001:db8::1');
    assert.equal(ev.dest_ip, '2001:db8::2');
    assert.equal(ev.ip_v, 6);
    assert.equal(ev.proto, 'TCP');
  });

  test('ICMP lines carry type and code in the port columns', () => {
    const ev = parsed(line('2004-04-21 10:00:08 +00:00', '0', '3', '192.0.2.7', '8', '198.51.100.9', '0', 'ICMP', ''));
    assert.equal(ev.icmp_type, 8);
    assert.equal(ev.icmp_code, 0);
    assert.equal(ev.src_port, undefined);
    assert.equal(ev.dest_port, undefined);
    refused(line('2004-04-21 10:00:08 +00:00', '0', '3', '192.0.2.7', '300', '198.51.100.9', '0', 'ICMP', ''), /ICMP type/);
  });

  test('unknown ports and protocol (???) are left out of the record', () => {
    const ev = parsed(line('2004-04-21 10:00:08 +00:00', '0', '1', '192.0.2.7', '???', '198.51.100.9', '???', '???', ''));
    assert.equal(ev.src_port, undefined);
    assert.equal(ev.dest_port, undefined);
    assert.equal(ev.proto, undefined);
  });

  test('protocols by name (any case) or number', () => {
    const proto = (p: string): string | undefined => parsed(line('2004-04-21 10:00:08 +00:00', '0', '1', '192.0.2.7', '1', '198.51.100.9', '2', p, '')).proto;
    assert.equal(proto('tcp'), 'TCP');
    assert.equal(proto('17'), 'UDP');
    assert.equal(proto('47'), '47');
    assert.equal(proto('GRE'), '47');
    assert.equal(proto('58'), 'IPv6-ICMP');
    refused(line('2004-04-21 10:00:08 +00:00', '0', '1', '192.0.2.7', '1', '198.51.100.9', '2', 'FOO', ''), /field 8/);
    refused(line('2004-04-21 10:00:08 +00:00', '0', '1', '192.0.2.7', '1', '198.51.100.9', '2', '256', ''), /field 8/);
  });

  test('hostile lines are refused with the field and the reason', () => {
    const f = good.split(T);
    const swap = (i: number, v: string): string => f.map((x, k) => (k === i ? v : x)).join(T);
    refused(`${good}${T}extra`, /10 tab-separated fields/);
    refused('a\tb\tc', /3 tab-separated fields/);
    refused('', /1 tab-separated fields/);
    refused(good.replace(/\t/g, ' '), /1 tab-separated fields/);
    refused(swap(0, '2004-02-30 10:00:00 +00:00'), /not a real date/);
    refused(swap(0, '2004-04-21 24:00:00 +00:00'), /not a real date/);
    refused(swap(0, '2004-04-21 10:00:60 +00:00'), /not a real date/);
    refused(swap(0, '2004-04-21 10:00:00 +15:00'), /out of range/);
    refused(swap(0, '2004-04-21 10:00:00'), /field 1/);
    refused(swap(0, '2004-04-21T10:00:00 +00:00'), /field 1/);
    refused(swap(0, '1969-12-31 23:59:59 +00:00'), /before 1970/);
    refused(swap(1, 'alice'), /field 2/);
    refused(swap(1, '1'.repeat(21)), /field 2/);
    refused(swap(2, '0'), /field 3/);
    refused(swap(2, '4294967296'), /field 3/);
    refused(swap(2, '99999999999999999999'), /field 3/);
    refused(swap(2, '-1'), /field 3/);
    refused(swap(3, '256.1.1.1'), /field 4/);
    refused(swap(3, '1.2.3'), /field 4/);
    refused(swap(3, '1.2.3.4.5'), /field 4/);
    refused(swap(3, '::g'), /field 4/);
    refused(swap(3, '1::2::3'), /field 4/);
    refused(swap(3, ' 192.0.2.7'), /field 4/);
    refused(swap(5, 'example.com'), /field 6/);
    refused(swap(5, '2001:db8::1'), /different families/);
    refused(swap(4, '65536'), /field 5/);
    refused(swap(4, '-1'), /field 5/);
    refused(swap(6, '99999999999999999999'), /field 7/);
    refused(swap(6, '1e3'), /field 7/);
    refused(swap(8, 'SS'), /field 9/);
    refused(swap(8, 's'), /field 9/);
    refused(swap(8, 'X'), /field 9/);
    refused(swap(8, 'SAFRPU12X'), /field 9/);
    refused(swap(7, 'UDP'), /flags are for TCP only/);
    refused(good.replace('192.0.2.7', '192.0.2.7\u0000'), /field 4/);
  });

  test('binary junk and a 1 MB line are refused without throwing, and quoted briefly', () => {
    const rnd = prng(7);
    for (let i = 0; i < 2000; i++) {
      const bytes = Buffer.alloc(1 + Math.floor(rnd() * 300));
      for (let k = 0; k < bytes.length; k++) bytes[k] = Math.floor(rnd() * 256);
      const ev = parseDShieldLine(bytes.toString('latin1'));
      assert.equal(typeof ev, 'string');
      assert.ok((ev as string).length < 400, 'the message quotes a bounded part of the field');
    }
    const huge = `${good}${'A'.repeat(1 << 20)}`;
    refused(huge, /at most 4096/);
    const hugeField = good.replace('192.0.2.7', '1'.repeat(1 << 20));
    refused(hugeField, /at most 4096/);
  });

  test('mutated lines either are refused or round-trip through export exactly', () => {
    const rnd = prng(42);
    const alphabet = '0123456789:.-+ \tSAFRPU12?abcdefTCPUDIM\r';
    let accepted = 0;
    for (let i = 0; i < 20000; i++) {
      const chars = [...good];
      const edits = 1 + Math.floor(rnd() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(rnd() * chars.length);
        const c = alphabet[Math.floor(rnd() * alphabet.length)]!;
        const op = rnd();
        if (op < 0.4) chars[at] = c;
        else if (op < 0.7) chars.splice(at, 1);
        else chars.splice(at, 0, c);
      }
      const l = chars.join('');
      const ev = parseDShieldLine(l);
      if (typeof ev === 'string') continue;
      accepted++;
      const out = formatDShieldLine(ev);
      assert.ok(out !== null, `accepted line does not export: ${JSON.stringify(l)}`);
      const again = parsed(out);
      assert.equal(again.timestamp, ev.timestamp);
      assert.deepEqual({ ...again, firewall: { ...again.firewall, raw: '', tz: '' } }, { ...ev, firewall: { ...ev.firewall, raw: '', tz: '' } });
      assert.equal(formatDShieldLine(again), out, 'exporting is idempotent');
    }
    assert.ok(accepted > 100, `only ${accepted} mutations were valid lines: the test exercises little`);
  });
});

describe('formatDShieldLine', () => {
  const base = { timestamp: '2004-04-21T10:00:08.123456+0000', src_ip: '192.0.2.7', src_port: 4312, dest_ip: '198.51.100.9', dest_port: 1433, proto: 'TCP' };

  test('a firewall record is written back in UTC, with its count, flags and submitter', () => {
    assert.equal(formatDShieldLine(parsed(good)), line('2004-04-21 10:00:08 +00:00', '12345', '1', '192.0.2.7', '4312', '198.51.100.9', '1433', 'TCP', 'S'));
    assert.equal(normaliseDShieldLine(line('2004-04-21 05:00:08 -0500', '0', '9', '192.0.2.7', '???', '198.51.100.9', '80', 'tcp')), line('2004-04-21 10:00:08 +00:00', '0', '9', '192.0.2.7', '???', '198.51.100.9', '80', 'TCP', ''));
  });

  test('an alert is one packet from its source to its target', () => {
    const alert = { ...base, event_type: 'alert', alert: { signature_id: 1, signature: 'x' } };
    assert.equal(formatDShieldLine(alert, '99'), line('2004-04-21 10:00:08 +00:00', '99', '1', '192.0.2.7', '4312', '198.51.100.9', '1433', 'TCP', ''));
    const icmp = { ...base, event_type: 'alert', proto: 'IPv6-ICMP', src_ip: '2001:db8::1', dest_ip: '2001:db8::2', icmp_type: 128, icmp_code: 0 };
    assert.equal(formatDShieldLine(icmp), line('2004-04-21 10:00:08 +00:00', '0', '1', '2001:db8::1', '128', '2001:db8::2', '0', '58', ''));
  });

  test('a scan maps only when it names one target; its probes are the count, its kind the flags', () => {
    const scan = { ...base, event_type: 'scan', scan: { kind: 'xmas', probes: 1000 } };
    const { dest_port: _port, ...noPort } = scan;
    assert.equal(formatDShieldLine(noPort), line('2004-04-21 10:00:08 +00:00', '0', '1000', '192.0.2.7', '4312', '198.51.100.9', '???', 'TCP', 'FPU'));
    const { dest_ip: _ip, ...many } = scan;
    assert.equal(formatDShieldLine(many), null);
  });

  test('a flood maps only with a single sender', () => {
    const one = { ...base, event_type: 'flood', flood: { kind: 'syn', source_count: 1, packets: 50000 } };
    assert.equal(formatDShieldLine(one), line('2004-04-21 10:00:08 +00:00', '0', '50000', '192.0.2.7', '4312', '198.51.100.9', '1433', 'TCP', 'S'));
    assert.equal(formatDShieldLine({ ...one, flood: { ...one.flood, source_count: 2 } }), null);
  });

  test('flow and protocol records, and records without addresses, do not map', () => {
    assert.equal(formatDShieldLine({ ...base, event_type: 'flow' }), null);
    assert.equal(formatDShieldLine({ ...base, event_type: 'dns' }), null);
    assert.equal(formatDShieldLine({ ...base, event_type: 'alert', src_ip: 'junk' }), null);
    assert.equal(formatDShieldLine({ ...base, event_type: 'alert', timestamp: 'yesterday' }), null);
    assert.equal(formatDShieldLine('not a record'), null);
    assert.equal(formatDShieldLine(null), null);
  });

  test('fields that could break a line are never written', () => {
    const ev = { ...base, event_type: 'firewall', firewall: { count: 2, tcp_flags: 'S\tX', submitter: '1\n2' } };
    assert.equal(formatDShieldLine(ev), line('2004-04-21 10:00:08 +00:00', '0', '2', '192.0.2.7', '4312', '198.51.100.9', '1433', 'TCP', ''));
  });

  test('toIngestEvent indexes the record and stamps its identity', () => {
    const row = toIngestEvent(parsed(good), 'import-x', 41);
    assert.equal(row.seq, 41);
    assert.equal(row.ts, Date.UTC(2004, 3, 21, 10, 0, 8));
    assert.equal(row.dest_port, 1433);
    assert.equal(row.proto, 'TCP');
    const json = JSON.parse(row.json) as Record<string, unknown>;
    assert.equal(json.sensor_id, 'import-x');
    assert.equal(json.seq, 41);
  });
});

// ---------------------------------------------------------------------------------------------
// Through the store and the CLI.

const DAY = '2004-04-21';
const DAY_MS = Date.UTC(2004, 3, 21);
const ZONES = ['+00:00', '-05:00', '+09:30', '+0200', '-0800'];

/** `n` valid DShield lines spread over DAY (UTC), in varied zones, protocols and families. */
function makeLines(n: number, seed: number): string[] {
  const rnd = prng(seed);
  const pick = <X>(xs: readonly X[]): X => xs[Math.floor(rnd() * xs.length)]!;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const utc = DAY_MS + Math.floor(rnd() * 86_400) * 1000;
    const zone = pick(ZONES);
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.replace(':', '');
    const off = sign * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5))) * 60_000;
    const local = new Date(utc + off).toISOString();
    const date = `${local.slice(0, 10)} ${local.slice(11, 19)} ${zone}`;
    const v6 = rnd() < 0.1;
    const src = v6 ? `2001:db8::${Math.floor(rnd() * 50).toString(16)}` : `203.0.113.${Math.floor(rnd() * 60)}`;
    const dst = v6 ? `2001:db8:1::${Math.floor(rnd() * 20).toString(16)}` : `198.51.100.${Math.floor(rnd() * 30)}`;
    const proto = pick(['TCP', 'TCP', 'TCP', 'UDP', 'ICMP', '6', '17']);
    const port = pick([22, 23, 80, 135, 139, 443, 445, 1433, 3389, 5900]);
    const flags = proto === 'TCP' || proto === '6' ? pick(['S', 'SA', 'A', 'R', '']) : '';
    const sport = proto === 'ICMP' ? '8' : String(1024 + Math.floor(rnd() * 60000));
    const dport = proto === 'ICMP' ? '0' : String(port);
    out.push(line(date, String(Math.floor(rnd() * 3)), String(1 + Math.floor(rnd() * 4)), src, sport, dst, dport, proto, flags));
  }
  return out;
}

/** Runs an async function with stderr captured. */
async function quietly<R>(fn: () => Promise<R>): Promise<{ value: R; stderr: string }> {
  const original = process.stderr.write;
  let text = '';
  process.stderr.write = ((chunk: string | Uint8Array): boolean => {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  }) as typeof process.stderr.write;
  try {
    return { value: await fn(), stderr: text };
  } finally {
    process.stderr.write = original;
  }
}

/** Store flags for the CLI: a temp SQLite data dir, or a fresh PostgreSQL database. */
async function storeArgs(t: TestContext, engine: 'sqlite' | 'postgres'): Promise<string[] | null> {
  if (engine === 'sqlite') return ['--data', tempDir(t)];
  const url = await postgres(t);
  return url === null ? null : ['--database', url];
}

async function withStore<R>(args: string[], fn: (store: Awaited<ReturnType<typeof openStore>>) => Promise<R>): Promise<R> {
  const store = await openStore(args[0] === '--data' ? { data: args[1]! } : { database: args[1]! });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`import and export (${engine})`, () => {
    test('import stores every good line, refuses and numbers the bad ones, and export gives the lines back', async (t) => {
      const args = await storeArgs(t, engine);
      if (args === null) return;
      const dir = tempDir(t);
      const lines = makeLines(2600, 1);
      const bad = ['junk', `${lines[0]!}${T}extra`, lines[1]!.replace(/\t\d+\t/, '\t-1\t'), 'x'.repeat(10000)];
      const badAt = [5, 700, 1500, 2000, 2001, 2002, 2003, 2004, 2005, 2006, 2007, 2008]; // 12 bad lines: 10 shown
      const file: string[] = [...lines];
      badAt.forEach((at, i) => file.splice(at, 0, bad[i % bad.length]!));
      file.splice(10, 0, ''); // a blank line is neither a record nor refused
      const path = join(dir, 'dshield.log');
      writeFileSync(path, `${file.join('\n')}\n`);

      const imp = await quietly(() => runImport(['dshield', path, ...args, '--sensor', 'isc']));
      assert.equal(imp.value, 1, 'refused lines make exit code 1');
      assert.match(imp.stderr, new RegExp(`imported ${lines.length} records from .*dshield\\.log \\(12 lines refused\\)`));
      const shown = [...imp.stderr.matchAll(/dshield\.log:(\d+): /g)].map((m) => Number(m[1]));
      assert.equal(shown.length, 10);
      // Line numbers are 1-based positions in the file as written.
      const want = file.map((l, i) => ({ l, n: i + 1 })).filter(({ l }) => l !== '' && typeof parseDShieldLine(l) === 'string').map(({ n }) => n);
      assert.deepEqual(shown, want.slice(0, 10));
      assert.match(imp.stderr, /and 2 more lines refused/);

      const { rows, sensor } = await withStore(args, async (store) => ({
        rows: await store.top('port', 'day', DAY_MS, DAY_MS + 86_400_000, 100),
        sensor: await store.getSensor('import-isc'),
      }));
      assert.equal(sensor?.acked, lines.length, 'seqs 1..N, all acknowledged');
      // ISC figures per target port, counted here from the lines.
      const expect = new Map<string, { records: number; sources: Set<string>; targets: Set<string> }>();
      for (const l of lines) {
        const ev = parsed(l);
        if (ev.dest_port === undefined) continue;
        const e = expect.get(String(ev.dest_port)) ?? { records: 0, sources: new Set(), targets: new Set() };
        e.records++;
        e.sources.add(ev.src_ip!);
        e.targets.add(ev.dest_ip!);
        expect.set(String(ev.dest_port), e);
      }
      assert.equal(rows.length, expect.size);
      for (const r of rows) {
        const e = expect.get(r.key);
        assert.ok(e !== undefined, `unexpected port ${r.key}`);
        assert.deepEqual({ records: r.records, sources: r.sources, targets: r.targets }, { records: e.records, sources: e.sources.size, targets: e.targets.size }, `port ${r.key}`);
      }

      const out = join(dir, 'export.txt');
      const exp = await quietly(() => runExport(['dshield', '--date', DAY, ...args, '--out', out]));
      assert.equal(exp.value, 0);
      assert.match(exp.stderr, new RegExp(`exported ${lines.length} lines for ${DAY}`));
      const got = readFileSync(out, 'utf8').split('\n').slice(0, -1);
      const normal = lines.map(normaliseDShieldLine);
      assert.deepEqual([...got].sort(), [...normal].sort(), 'the same lines, normalised');
      const times = got.map((l) => l.slice(0, 19));
      assert.deepEqual(times, [...times].sort(), 'oldest first');

      // A second import continues the pseudo-sensor's sequence numbers.
      const path2 = join(dir, 'more.log');
      writeFileSync(path2, `${makeLines(30, 2).join('\n')}\n`);
      const again = await quietly(() => runImport(['dshield', path2, ...args, '--sensor', 'isc']));
      assert.equal(again.value, 0);
      assert.match(again.stderr, /imported 30 records .* \(0 lines refused\)/);
      const acked = await withStore(args, async (store) => (await store.getSensor('import-isc'))?.acked);
      assert.equal(acked, lines.length + 30);
    });

    test('gzip input is inflated; a truncated gzip keeps what came before and exits 1', async (t) => {
      const args = await storeArgs(t, engine);
      if (args === null) return;
      const dir = tempDir(t);
      const lines = makeLines(3000, 3);
      const gz = gzipSync(`${lines.join('\n')}\n`);
      writeFileSync(join(dir, 'a.log.gz'), gz);
      const whole = await quietly(() => runImport(['dshield', join(dir, 'a.log.gz'), ...args, '--sensor', 'gz']));
      assert.equal(whole.value, 0);
      assert.match(whole.stderr, /imported 3000 records/);

      writeFileSync(join(dir, 'b.log.gz'), gz.subarray(0, Math.floor(gz.length / 2)));
      const cut = await quietly(() => runImport(['dshield', join(dir, 'b.log.gz'), ...args, '--sensor', 'cut']));
      assert.equal(cut.value, 1);
      assert.match(cut.stderr, /input broke off after line \d+/);
      const n = Number(/imported (\d+) records/.exec(cut.stderr)?.[1]);
      assert.ok(n > 0 && n < 3000, `kept ${n} records from before the damage`);
      const acked = await withStore(args, async (store) => (await store.getSensor('import-cut'))?.acked);
      assert.equal(acked, n);
    });

    test('export writes alerts, single-target scans and single-sender floods, not flows', async (t) => {
      const args = await storeArgs(t, engine);
      if (args === null) return;
      const dir = tempDir(t);
      const at = (s: number): string => `2004-04-21T10:00:${String(s).padStart(2, '0')}.000000+0000`;
      const recs: Array<Record<string, unknown>> = [
        { timestamp: at(3), event_type: 'alert', src_ip: '192.0.2.1', src_port: 1025, dest_ip: '198.51.100.1', dest_port: 443, proto: 'TCP', pkt_src: 'wire/pcap', alert: { action: 'allowed', gid: 1, signature_id: 9, rev: 1, signature: 'PCT', category: '', severity: 1 } },
        { timestamp: at(1), event_type: 'scan', src_ip: '192.0.2.2', dest_ip: '198.51.100.2', proto: 'TCP', scan: { kind: 'syn', probes: 1000 } },
        { timestamp: at(2), event_type: 'scan', src_ip: '192.0.2.3', proto: 'TCP', scan: { kind: 'syn', probes: 50 } },
        { timestamp: at(4), event_type: 'flow', src_ip: '192.0.2.4', src_port: 1, dest_ip: '198.51.100.4', dest_port: 80, proto: 'TCP' },
      ];
      const rows: IngestEvent[] = recs.map((r, i) => ({
        seq: i + 1,
        ts: Date.parse(String(r.timestamp).replace('+0000', 'Z')),
        json: JSON.stringify({ ...r, sensor_id: 's-test', seq: i + 1 }),
        event_type: String(r.event_type),
        src_ip: (r.src_ip as string | undefined) ?? null,
        dest_ip: (r.dest_ip as string | undefined) ?? null,
        src_port: (r.src_port as number | undefined) ?? null,
        dest_port: (r.dest_port as number | undefined) ?? null,
        proto: (r.proto as string | undefined) ?? null,
        sid: r.event_type === 'alert' ? 9 : null,
        signature: r.event_type === 'alert' ? 'PCT' : null,
      }));
      await withStore(args, async (store) => {
        await store.addSensor({ id: 's-test', name: 'test', secret: '00', enrolled: 0 });
        await store.ingest('s-test', rows, Date.now());
      });
      const out = join(dir, 'out.txt');
      const exp = await quietly(() => runExport(['dshield', '--date', DAY, ...args, '--out', out, '--userid', '4242']));
      assert.equal(exp.value, 0);
      assert.match(exp.stderr, /exported 2 lines for 2004-04-21 \(1 records not expressible/);
      assert.equal(
        readFileSync(out, 'utf8'),
        [
          line('2004-04-21 10:00:01 +00:00', '4242', '1000', '192.0.2.2', '???', '198.51.100.2', '???', 'TCP', 'S'),
          line('2004-04-21 10:00:03 +00:00', '4242', '1', '192.0.2.1', '1025', '198.51.100.1', '443', 'TCP', ''),
          '',
        ].join('\n'),
      );
      const other = await quietly(() => runExport(['dshield', '--date', '2004-04-22', ...args, '--out', out]));
      assert.equal(other.value, 0);
      assert.equal(readFileSync(out, 'utf8'), '', 'another day: nothing');
    });
  });
}

describe('the import and export commands', () => {
  test('standard input is read with "-"', (t) => {
    const data = tempDir(t);
    const lines = makeLines(50, 9);
    const r = runOutpost(['import', 'dshield', '-', '--data', data], { input: Buffer.from(`${lines.join('\n')}\n`) });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /imported 50 records from standard input \(0 lines refused\)/);
  });

  test('usage mistakes and unreadable files are told apart', async (t) => {
    const data = tempDir(t);
    await assert.rejects(runImport([]), /no format given/);
    await assert.rejects(runImport(['csv', 'x']), /unknown format "csv"/);
    await assert.rejects(runImport(['dshield']), /no FILE/);
    await assert.rejects(runImport(['dshield', 'x', '--sensor', 'a b']), /--sensor/);
    await assert.rejects(runImport(['dshield', 'x', '--data', data, '--database', 'postgres://x']), /not both/);
    await assert.rejects(runImport(['dshield', 'x', '--database', 'mysql://x']), /postgres/);
    await assert.rejects(runExport(['dshield']), /--date/);
    await assert.rejects(runExport(['dshield', '--date', '2004-02-30']), /not a date/);
    await assert.rejects(runExport(['dshield', '--date', '2004-04-21', '--userid', 'bob']), /--userid/);
    const missing = await quietly(() => runImport(['dshield', join(data, 'nope.log'), '--data', data]));
    assert.equal(missing.value, 3);
    assert.match(missing.stderr, /cannot read .*nope\.log/);
  });
});
