import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ftpDataProtocol, ftpProtocolWith } from '../../../src/protocols/ftp/index.js';
import { TcpConnection, type SynthCapture } from '../../../src/synth/traffic.js';
import { fakePe, replaySyn, run, sha256, type Rec } from './harness.js';

const CLIENT = '10.0.0.5';
const SERVER = '192.0.2.10';

/** Control-connection lines, each its own segment: [side, text]. */
type Turn = ['client' | 'server', string];

function talk(conn: TcpConnection, turns: Turn[]): void {
  for (const [side, text] of turns) conn.send(side, text);
}

const ftpOf = (r: Rec): Record<string, unknown> => r.ftp as Record<string, unknown>;

/** The victim logs in anonymously and downloads the egg in passive mode (curl's way: PASV, then RETR). */
function passiveDownload(egg: Buffer) {
  return (cap: SynthCapture): void => {
    const ctl = new TcpConnection(cap, `${CLIENT}:1035`, `${SERVER}:21`);
    ctl.handshake();
    talk(ctl, [
      ['server', '220 (vsFTPd 3.0.3)\r\n'],
      ['client', 'USER anonymous\r\n'],
      ['server', '331 Please specify the password.\r\n'],
      ['client', 'PASS guest@\r\n'],
      ['server', '230 Login successful.\r\n'],
      ['client', 'TYPE I\r\n'],
      ['server', '200 Switching to Binary mode.\r\n'],
      ['client', 'PASV\r\n'],
      ['server', '227 Entering Passive Mode (192,0,2,10,195,80).\r\n'],
    ]);
    const data = new TcpConnection(cap, `${CLIENT}:1036`, `${SERVER}:50000`);
    data.handshake();
    talk(ctl, [
      ['client', 'RETR egg.exe\r\n'],
      ['server', `150 Opening BINARY mode data connection for egg.exe (${egg.length} bytes).\r\n`],
    ]);
    data.send('server', egg);
    data.close('server');
    talk(ctl, [
      ['server', '226 Transfer complete.\r\n'],
      ['client', 'QUIT\r\n'],
      ['server', '221 Goodbye.\r\n'],
    ]);
    ctl.close('client');
  };
}

describe('FTP through the pipeline', () => {
  test('login, PASV and RETR of a fake PE: ftp records per command, ftp_data, and the fileinfo with its hash', () => {
    const egg = fakePe(5000);
    const { of, events } = run(passiveDownload(egg));
    const ftp = of('ftp');
    assert.deepEqual(
      ftp.map((r) => ftpOf(r).command),
      ['UNKNOWN', 'USER', 'PASS', 'TYPE', 'PASV', 'RETR', 'QUIT'],
    );
    for (const r of ftp) {
      assert.equal(r.src_ip, CLIENT, 'ftp records read from the client (LOG_DIR_FLOW)');
      assert.equal(r.dest_port, 21);
      assert.equal(r.app_proto, 'ftp');
    }
    assert.deepEqual(
      ftp.map((r) => r.tx_id),
      [0, 1, 2, 3, 4, 5, 6],
    );
    assert.deepEqual(ftpOf(ftp[1]!), { command: 'USER', command_data: 'anonymous', command_truncated: false, completion_code: ['331'], reply: ['Please specify the password.'], reply_received: 'yes', reply_truncated: false });
    assert.equal(ftpOf(ftp[4]!).dynamic_port, 50000);
    assert.deepEqual(ftpOf(ftp[5]!).completion_code, ['150', '226']);

    const [ftpData] = of('ftp_data');
    assert.deepEqual(ftpData!.ftp_data, { filename: 'egg.exe', command: 'RETR' });
    assert.equal(ftpData!.app_proto, 'ftp-data');
    assert.equal(ftpData!.src_ip, CLIENT, 'passive: the data connection comes from the FTP client');
    assert.equal(ftpData!.dest_port, 50000);

    const files = of('fileinfo');
    assert.equal(files.length, 1);
    const f = files[0]!;
    assert.deepEqual(f.fileinfo, {
      filename: 'egg.exe',
      magic: 'PE32 executable (GUI) Intel 80386, for MS Windows',
      gaps: false,
      state: 'CLOSED',
      sha256: sha256(egg),
      stored: false,
      size: egg.length,
      tx_id: 0,
    });
    assert.equal(f.src_ip, SERVER, 'a download is written from its sender');
    assert.equal(f.app_proto, 'ftp-data');
    const flows = events.filter((e) => e.event_type === 'flow').map((e) => [e.dest_port, e.app_proto]);
    assert.deepEqual(flows.sort(), [
      [21, 'ftp'],
      [50000, 'ftp-data'],
    ]);
  });

  test('the file bytes are kept only when storing is on, and match', () => {
    const egg = fakePe(3000);
    const { of } = run(passiveDownload(egg), { fileStore: { enabled: true, maxBytes: 1 << 20 } });
    assert.equal((of('fileinfo')[0]!.fileinfo as Record<string, unknown>).stored, true);
  });

  test('an active-mode STOR: PORT, the server connects back from port 20, the client uploads', () => {
    const upload = Buffer.from('#!/bin/sh\necho not a real script, just bytes\n'.repeat(40));
    const { of } = run((cap) => {
      const ctl = new TcpConnection(cap, `${CLIENT}:1040`, `${SERVER}:21`);
      ctl.handshake();
      talk(ctl, [
        ['server', '220 Microsoft FTP Service\r\n'],
        ['client', 'USER bot\r\n'],
        ['server', '331 Password required\r\n'],
        ['client', 'PASS bot\r\n'],
        ['server', '230 User logged in.\r\n'],
        ['client', 'PORT 10,0,0,5,4,17\r\n'],
        ['server', '200 PORT command successful.\r\n'],
        ['client', 'STOR up.sh\r\n'],
      ]);
      const data = new TcpConnection(cap, `${SERVER}:20`, `${CLIENT}:1041`);
      data.handshake();
      ctl.send('server', '125 Data connection already open; Transfer starting.\r\n');
      data.send('server', upload);
      data.close('server');
      talk(ctl, [
        ['server', '226 Transfer complete.\r\n'],
        ['client', 'QUIT\r\n'],
        ['server', '221 Goodbye.\r\n'],
      ]);
      ctl.close();
    });
    const port = of('ftp').find((r) => ftpOf(r).command === 'PORT')!;
    assert.deepEqual(ftpOf(port), { command: 'PORT', command_data: '10,0,0,5,4,17', command_truncated: false, completion_code: ['200'], reply: ['PORT command successful.'], dynamic_port: 1041, mode: 'active', reply_received: 'yes', reply_truncated: false });
    const [ftpData] = of('ftp_data');
    assert.deepEqual(ftpData!.ftp_data, { filename: 'up.sh', command: 'STOR' });
    assert.equal(ftpData!.src_ip, SERVER, 'active: src and dest are reversed from the control connection (suricata-verify ftp-upload-active)');
    assert.equal(ftpData!.dest_ip, CLIENT);
    const f = of('fileinfo')[0]!;
    assert.deepEqual(
      [f.fileinfo].map((x) => {
        const i = x as Record<string, unknown>;
        return [i.filename, i.size, i.sha256, i.magic, i.state];
      }),
      [['up.sh', upload.length, sha256(upload), 'a /bin/sh script, ASCII text executable', 'CLOSED']],
    );
    assert.equal(f.src_ip, CLIENT, 'an upload is written from its sender, the FTP client');
  });

  test('IPv6: EPSV, then RETR; the data connection is expected on the control connection\'s server address', () => {
    const egg = fakePe(2000);
    const { of } = run((cap) => {
      const ctl = new TcpConnection(cap, '[2001:db8::5]:40000', '[2001:db8::10]:21');
      ctl.handshake();
      talk(ctl, [
        ['server', '220 FTP server ready\r\n'],
        ['client', 'EPSV\r\n'],
        ['server', '229 Entering Extended Passive Mode (|||40001|)\r\n'],
        ['client', 'RETR /pub/egg.exe\r\n'],
        ['server', '150 Here it comes.\r\n'],
      ]);
      const data = new TcpConnection(cap, '[2001:db8::5]:40002', '[2001:db8::10]:40001');
      data.handshake();
      data.send('server', egg);
      data.close('server');
      ctl.send('server', '226 Done.\r\n');
      ctl.close();
    });
    assert.equal(ftpOf(of('ftp').find((r) => ftpOf(r).command === 'EPSV')!).dynamic_port, 40001);
    const f = of('fileinfo')[0]!;
    assert.deepEqual([f.src_ip, f.dest_port, (f.fileinfo as Record<string, unknown>).filename, (f.fileinfo as Record<string, unknown>).sha256], ['2001:db8::10', 40002, '/pub/egg.exe', sha256(egg)]);
  });

  test('a rule on ftp.command fires once, on the RETR, with the ftp object', () => {
    const { of } = run(passiveDownload(fakePe(800)), { rules: 'alert ftp any any -> any any (msg:"x"; ftp.command; content:"RETR"; sid:1;)' });
    const alerts = of('alert');
    assert.equal(alerts.length, 1);
    const a = alerts[0]!;
    assert.equal((a.alert as Record<string, unknown>).signature_id, 1);
    assert.equal(a.app_proto, 'ftp');
    assert.equal(a.tx_id, 5);
    assert.equal(ftpOf(a).command, 'RETR');
  });

  test('a rule on ftp.command_data and one on file.name for ftp-data', () => {
    const { of } = run(passiveDownload(fakePe(800)), {
      rules: ['alert ftp any any -> any any (msg:"egg"; ftp.command_data; content:".exe"; endswith; sid:2;)', 'alert ftp-data any any -> any any (msg:"name"; file.name; content:"egg"; sid:3;)'].join('\n'),
    });
    assert.deepEqual(
      of('alert')
        .map((a) => (a.alert as Record<string, unknown>).signature_id)
        .sort(),
      [2, 3],
    );
    const named = of('alert').find((a) => (a.alert as Record<string, unknown>).signature_id === 3)!;
    assert.deepEqual(named.ftp_data, { filename: 'egg.exe', command: 'RETR' });
  });

  test('FTP on a bot\'s port, greeting without the word FTP: the client\'s USER decides', () => {
    const { of } = run((cap) => {
      const ctl = new TcpConnection(cap, `${CLIENT}:1050`, `${SERVER}:5554`);
      ctl.handshake();
      talk(ctl, [
        ['server', '220 OK\r\n'],
        ['client', 'USER x\r\n'],
        ['server', '331 OK\r\n'],
      ]);
      ctl.close();
    });
    assert.deepEqual(
      of('ftp').map((r) => ftpOf(r).command),
      ['UNKNOWN', 'USER'],
    );
  });

  test("an SMTP server's 220 ... ESMTP greeting is not FTP, on port 21 or elsewhere", () => {
    for (const port of [21, 25, 2525]) {
      const { of, events } = run((cap) => {
        const c = new TcpConnection(cap, `${CLIENT}:1060`, `${SERVER}:${port}`);
        c.handshake();
        talk(c, [
          ['server', '220 mail.example.com ESMTP Postfix\r\n'],
          ['client', 'EHLO victim\r\n'],
          ['server', '250-mail.example.com\r\n250 PIPELINING\r\n'],
        ]);
        c.close();
      });
      assert.equal(of('ftp').length, 0, `port ${port}`);
      assert.notEqual(events.find((e) => e.event_type === 'flow')!.app_proto, 'ftp');
    }
  });
});

/**
 * suricata-verify's FTP tests whose conversations are flowsynth text (.syn): the same shapes,
 * replayed through the pipeline, with the checks of their test.yaml.
 */
describe('suricata-verify FTP tests', () => {
  const a = (n: number): string => 'A'.repeat(n);
  const login = [
    'default < (content:"220 (Ftp Server)\\x0d\\x0a";);',
    'default > (content:"USER user\\x0d\\x0a";);',
    'default < (content:"331 Please specify the password.\\x0d\\x0a";);',
    'default > (content:"PASS password\\x0d\\x0a";);',
    'default < (content:"230 Login successful.\\x0d\\x0a";);',
    'default > (content:"SYST\\x0d\\x0a";);',
    'default < (content:"215 UNIX Type: L8\\x0d\\x0a";);',
    'default > (content:"TYPE I\\x0d\\x0a";);',
    'default < (content:"200 Switching to Binary mode.\\x0d\\x0a";);',
    'default > (content:"PASV\\x0d\\x0a";);',
  ];
  const records = (syn: string, maxLine?: number): { ftp: Array<Record<string, unknown>>; anomalies: string[] } => {
    const { of } = run((cap) => replaySyn(cap, syn), maxLine === undefined ? {} : { protocols: [ftpProtocolWith({ maxLine }), ftpDataProtocol] });
    return { ftp: of('ftp').map(ftpOf), anomalies: of('anomaly').map((r) => (r.anomaly as Record<string, unknown>).event as string) };
  };

  test('ftp-too-long-command: RETR cut to 4091 bytes of data, the next RETR intact, one request_command_too_long', () => {
    const syn = [
      'flow default tcp 1.1.1.1:5555 > 2.2.2.2:21 (tcp.initialize; mss:9000;);',
      ...login,
      'default < (content:"227 Entering Passive Mode (2,2,2,2,185,13).\\x0d\\x0a";);',
      `default > (content:"RETR ${a(5000)}Z\\x0d\\x0a";);`,
      'default < (content:"550 Failed to open file.\\x0d\\x0a";);',
      'default > (content:"RETR index.html\\x0d\\x0a";);',
      'default < (content:"550 Failed to open file.\\x0d\\x0a";);',
    ].join('\n');
    const { ftp, anomalies } = records(syn);
    const retr = ftp.filter((r) => r.command === 'RETR');
    assert.equal(retr.filter((r) => (r.command_data as string).length === 4091 && r.command_truncated === true && r.reply_truncated === false).length, 1);
    assert.equal(retr.filter((r) => r.command_data === 'index.html' && r.command_truncated === false && r.reply_truncated === false).length, 1);
    assert.deepEqual(anomalies, ['request_command_too_long']);
    assert.equal(ftp.find((r) => r.command === 'PASV')!.dynamic_port, 47373);
  });

  test('ftp-too-long-response: a 227 reply over many segments is cut, PASV reply_truncated, no command truncated', () => {
    const syn = [
      'flow default tcp 1.1.1.1:5555 > 2.2.2.2:21 (tcp.initialize;);',
      ...login,
      `default < (content:"227 ${a(78)}";);`,
      ...Array.from({ length: 110 }, () => `default < (content:"${a(1000)}";);`),
      'default < (content:"A\\x0d\\x0a";);',
      'default > (content:"RETR index.html\\x0d\\x0a";);',
      'default < (content:"550 Failed to open file.\\x0d\\x0a";);',
      'default > (content:"RETR index.html\\x0d\\x0a";);',
      'default < (content:"550 Failed to open file.\\x0d\\x0a";);',
    ].join('\n');
    const { ftp } = records(syn);
    assert.equal(ftp.filter((r) => r.command_truncated === true).length, 0);
    assert.equal(ftp.filter((r) => r.command === 'PASV' && r.reply_truncated === true).length, 1);
    assert.equal(ftp.filter((r) => r.command === 'RETR' && r.reply_received === 'yes').length, 2, 'the rest of the cut reply is not read as replies');
  });

  test('ftp-too-long-command-mid-slice (max-line-length 32): the rest of a cut PORT is not PASS, QUIT survives', () => {
    const syn = [
      'flow default tcp 1.1.1.1:5555 > 2.2.2.2:21 (tcp.initialize;);',
      'default < (content:"220 ready\\x0d\\x0a";);',
      `default > (content:"USER a\\x0d\\x0aPORT ${a(27)}";);`,
      'default < (content:"200 ok\\x0d\\x0a";);',
      'default > (content:"PASS s3cret\\x0d\\x0aQUIT\\x0d\\x0a";);',
      'default < (content:"221 bye\\x0d\\x0a";);',
    ].join('\n');
    const { ftp, anomalies } = records(syn, 32);
    assert.equal(ftp.length, 4);
    assert.equal(ftp.filter((r) => r.command === 'PORT' && r.command_data === a(27) && r.command_truncated === true).length, 1);
    assert.equal(ftp.filter((r) => r.command === 'PASS').length, 0);
    assert.equal(ftp.filter((r) => r.command === 'QUIT').length, 1);
    assert.deepEqual(anomalies, ['request_command_too_long']);
  });

  test('ftp-too-long-response-mid-slice (max-line-length 32): the cut 550 joins USER, its rest is dropped, 226 goes to PWD', () => {
    const syn = [
      'flow default tcp 1.1.1.1:5555 > 2.2.2.2:21 (tcp.initialize;);',
      'default < (content:"220 ready\\x0d\\x0a";);',
      'default > (content:"USER a\\x0d\\x0a";);',
      `default < (content:"331 ok\\x0d\\x0a550 ${'B'.repeat(28)}";);`,
      'default > (content:"PWD\\x0d\\x0a";);',
      'default < (content:"CCCC\\x0d\\x0a226 done\\x0d\\x0a";);',
    ].join('\n');
    const { ftp, anomalies } = records(syn, 32);
    assert.equal(ftp.length, 3);
    const user = ftp.find((r) => r.command === 'USER')!;
    assert.deepEqual([user.completion_code, user.reply, user.reply_truncated], [['331', '550'], ['ok', 'B'.repeat(28)], true]);
    const pwd = ftp.find((r) => r.command === 'PWD')!;
    assert.deepEqual([pwd.completion_code, pwd.reply, pwd.reply_received, pwd.reply_truncated], [['226'], ['done'], 'yes', false]);
    assert.deepEqual(anomalies, ['response_command_too_long']);
  });

  test('ftp-reply-code-no-message: four records; QUIT has its code and no reply', () => {
    // The test's pcap is hand-made; its README describes it: USER, PASS, QUIT answered "221 \r\n".
    const syn = [
      'flow default tcp 1.1.1.1:5555 > 2.2.2.2:21 (tcp.initialize;);',
      'default < (content:"220 Welcome\\x0d\\x0a";);',
      'default > (content:"USER anonymous\\x0d\\x0a";);',
      'default < (content:"331 Password required\\x0d\\x0a";);',
      'default > (content:"PASS anonymous\\x0d\\x0a";);',
      'default < (content:"230 User anonymous logged in\\x0d\\x0a";);',
      'default > (content:"QUIT\\x0d\\x0a";);',
      'default < (content:"221 \\x0d\\x0a";);',
    ].join('\n');
    const { ftp } = records(syn);
    assert.equal(ftp.length, 4);
    const quit = ftp.find((r) => r.command === 'QUIT')!;
    assert.deepEqual(quit.completion_code, ['221']);
    assert.equal('reply' in quit, false);
    const pass = ftp.find((r) => r.command === 'PASS')!;
    assert.deepEqual([pass.completion_code, pass.reply], [['230'], ['User anonymous logged in']]);
  });
});
