import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UdpFlow, type SynthCapture } from '../../../src/synth/traffic.js';
import { fakePe, run, sha256 } from '../ftp/harness.js';
import { ack, bytes, dataPacket, errorPacket, request } from './craft.js';

const CLIENT = '10.0.0.5';
const SERVER = '10.0.0.9';

/** The victim fetches the egg by TFTP (RRQ on port 69; the server answers from port 3001), one block sent twice. */
function download(egg: Buffer, options: { dropBlock?: number } = {}) {
  return (cap: SynthCapture): void => {
    new UdpFlow(cap, `${CLIENT}:2000`, `${SERVER}:69`).send('client', request(1, 'egg.exe', 'octet'));
    const xfer = new UdpFlow(cap, `${SERVER}:3001`, `${CLIENT}:2000`);
    const blocks = Math.floor(egg.length / 512) + 1;
    for (let n = 1; n <= blocks; n++) {
      const block = dataPacket(n, egg.subarray((n - 1) * 512, n * 512));
      if (n !== options.dropBlock) xfer.send('client', block);
      if (n === 2) {
        cap.wait(1);
        xfer.send('client', block); // the ACK was slow: the server sends block 2 again
      }
      xfer.send('server', ack(n));
    }
  };
}

describe('TFTP through the pipeline', () => {
  test('an RRQ over several 512-byte blocks with one retransmission: the tftp record and the file', () => {
    const egg = fakePe(512 * 4 + 200);
    const { of, events } = run(download(egg));
    const [req] = of('tftp');
    assert.deepEqual(req!.tftp, { packet: 'read', file: 'egg.exe', mode: 'octet' });
    assert.deepEqual([req!.src_ip, req!.dest_port, req!.app_proto, req!.tx_id], [CLIENT, 69, 'tftp', 0]);
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
    assert.deepEqual([f.src_ip, f.src_port, f.dest_ip, f.dest_port, f.app_proto], [SERVER, 3001, CLIENT, 2000, 'tftp']);
    assert.equal(of('anomaly').length, 0);
    const flows = events.filter((e) => e.event_type === 'flow').map((e) => [e.src_port, e.dest_port, e.app_proto]);
    assert.deepEqual(flows.sort(), [
      [2000, 69, 'tftp'],
      [3001, 2000, 'tftp'],
    ]);
  });

  test('a lost block: TRUNCATED with gaps, and a block_gap anomaly', () => {
    const egg = bytes(512 * 4 + 10);
    const { of } = run(download(egg, { dropBlock: 3 }));
    const info = of('fileinfo')[0]!.fileinfo as Record<string, unknown>;
    assert.deepEqual([info.state, info.gaps, info.size], ['TRUNCATED', true, egg.length - 512]);
    assert.deepEqual(
      of('anomaly').map((a) => (a.anomaly as Record<string, unknown>).event),
      ['block_gap'],
    );
  });

  test('a WRQ upload: the client sends the blocks to the server\'s new port', () => {
    const file = Buffer.from('interface eth0\n'.repeat(50));
    const { of } = run((cap) => {
      new UdpFlow(cap, `${CLIENT}:2001`, `${SERVER}:69`).send('client', request(2, 'router.cfg', 'netascii'));
      const xfer = new UdpFlow(cap, `${SERVER}:3002`, `${CLIENT}:2001`);
      xfer.send('client', ack(0));
      xfer.send('server', dataPacket(1, file.subarray(0, 512)));
      xfer.send('client', ack(1));
      xfer.send('server', dataPacket(2, file.subarray(512)));
      xfer.send('client', ack(2));
    });
    assert.deepEqual(of('tftp')[0]!.tftp, { packet: 'write', file: 'router.cfg', mode: 'netascii' });
    const f = of('fileinfo')[0]!;
    assert.deepEqual(
      [(f.fileinfo as Record<string, unknown>).sha256, (f.fileinfo as Record<string, unknown>).magic, f.src_ip],
      [sha256(file), 'ASCII text', CLIENT],
    );
  });

  test('a file not found: the request is logged, no file', () => {
    const { of } = run((cap) => {
      new UdpFlow(cap, `${CLIENT}:2002`, `${SERVER}:69`).send('client', request(1, 'nope', 'octet'));
      new UdpFlow(cap, `${SERVER}:3003`, `${CLIENT}:2002`).send('client', errorPacket(1, 'File not found'));
    });
    assert.equal(of('tftp').length, 1);
    assert.equal(of('fileinfo').length, 0);
  });

  test('a rule on file.name fires on the request and on its transfer, each a transaction of its flow', () => {
    const { of } = run(download(bytes(100)), { rules: 'alert tftp any any -> any any (msg:"egg by tftp"; file.name; content:"egg.exe"; sid:7;)' });
    const alerts = of('alert');
    assert.deepEqual(
      alerts.map((a) => [a.src_port, a.dest_port, a.tx_id]),
      [
        [2000, 69, 0],
        [3001, 2000, 0],
      ],
    );
    assert.deepEqual(alerts[0]!.tftp, { packet: 'read', file: 'egg.exe', mode: 'octet' });
  });

  test('a DNS query with id 1 on port 69 is not TFTP', () => {
    const dns = Buffer.from('000101000001000000000000076578616d706c6503636f6d0000010001', 'hex');
    const { of, events } = run((cap) => new UdpFlow(cap, `${CLIENT}:2003`, `${SERVER}:69`).send('client', dns));
    assert.equal(of('tftp').length, 0);
    assert.notEqual(events.find((e) => e.event_type === 'flow')!.app_proto, 'tftp');
  });
});
