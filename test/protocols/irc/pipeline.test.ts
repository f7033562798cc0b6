import assert from 'node:assert/strict';
import { test } from 'node:test';
import { zeekColumns, type IrcLogRecord } from '../../../src/protocols/irc/log.js';
import { probeIrc } from '../../../src/protocols/irc/index.js';
import { shared } from '../../helpers.js';
import { analyzeCapture, type Record_ } from '../analyze.js';
import { runCapture } from './capture.js';

const enc = (s: string): Uint8Array => Buffer.from(s, 'latin1');

/** An EVE irc record back as irc.log columns, to compare with the rows the conversation wrote. */
function columns(e: Record_): string {
  const r = e.irc as Partial<IrcLogRecord>;
  const row: IrcLogRecord = { ts: 0, dir: 0, nick: null, user: null, command: null, value: null, addl: null, dcc_file_name: null, dcc_file_size: null, dcc_mime_type: null, fuid: null, ...r };
  return zeekColumns(row);
}

test('IRC is recognised by its first line on either side, not by its port', () => {
  assert.equal(probeIrc(0, enc('NICK bot\r\n')), 'yes');
  assert.equal(probeIrc(0, enc('user x 0 * :y\r\n')), 'yes');
  assert.equal(probeIrc(0, enc('USER bob\r\n')), 'no', "POP3's USER");
  assert.equal(probeIrc(0, enc('PASS secret\r\n')), 'more', 'PASS waits for the registration after it');
  assert.equal(probeIrc(0, enc('PASS secret\r\nNICK bot\r\n')), 'yes');
  assert.equal(probeIrc(0, enc('PASS secret\r\nSTAT\r\n')), 'no');
  assert.equal(probeIrc(0, enc('NIC')), 'more');
  assert.equal(probeIrc(0, enc('PRIVMSG bob :hi\r\n')), 'no', 'away from IRC ports a conversation must start with registration');
  assert.equal(probeIrc(0, enc('PRIVMSG bob :hi\r\n'), 6667), 'yes');
  assert.equal(probeIrc(0, enc('GET / HTTP/1.1\r\n')), 'no');
  assert.equal(probeIrc(0, enc('\x16\x03\x01')), 'no');
  assert.equal(probeIrc(1, enc(':irc.example.net NOTICE * :*** Looking up your hostname\r\n')), 'yes');
  assert.equal(probeIrc(1, enc(':irc.example.net 001 bot :Welcome\r\n')), 'yes');
  assert.equal(probeIrc(1, enc('HTTP/1.1 200 OK\r\n')), 'no');
  assert.equal(probeIrc(1, enc(':irc.exa')), 'more');
});

for (const name of ['irc-basic.pcap', 'irc-whitespace.pcap', 'irc-more-commands.pcap', 'contentline-irc-5k-line.pcap']) {
  test(`${name}: through the sensor, the flows are app_proto irc and the irc records are the conversation's irc.log rows`, async (t) => {
    const file = shared(t, 'corpus', 'irc', name);
    if (file === null) return;
    const [{ events }, direct] = await Promise.all([analyzeCapture(file), runCapture(file)]);
    const expected = direct.rows.map(({ row }) => zeekColumns(row));
    assert.ok(expected.length > 0);
    assert.deepEqual(events.filter((e) => e.event_type === 'irc').map(columns), expected);
    const ircFlows = events.filter((e) => e.event_type === 'flow' && e.app_proto === 'irc');
    assert.equal(ircFlows.length, direct.irc.length);
    // Zeek's weirds become applayer anomalies of the flow.
    const weirds = direct.irc.flatMap((f) => f.weirds.map((w) => w.name)).sort();
    const anomalies = events.filter((e) => e.event_type === 'anomaly' && (e.anomaly as { type: string }).type === 'applayer').map((e) => (e.anomaly as { event: string }).event).sort();
    assert.deepEqual(anomalies, weirds);
  });
}

test('irc-dcc-first-command.pcap: the DCC SEND transfer is followed as irc-dcc-data, its file logged, and the DCC row written', async (t) => {
  const file = shared(t, 'corpus', 'irc', 'irc-dcc-first-command.pcap');
  if (file === null) return;
  const { events } = await analyzeCapture(file);
  const rows = events.filter((e) => e.event_type === 'irc');
  assert.ok(rows.some((e) => (e.irc as { command?: string }).command === 'DCC' && (e.irc as { dcc_file_name?: string }).dcc_file_name === 'hello.txt'), JSON.stringify(rows));
  assert.ok(events.some((e) => e.event_type === 'flow' && e.app_proto === 'irc-dcc-data'));
  const files = events.filter((e) => e.event_type === 'fileinfo');
  assert.equal(files.length, 1);
  const info = files[0]!.fileinfo as { filename: string; size: number; magic: string; state: string };
  assert.equal(info.filename, 'hello.txt');
  assert.equal(info.size, 12);
  assert.equal(info.state, 'CLOSED');
});
