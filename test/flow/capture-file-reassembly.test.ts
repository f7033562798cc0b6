import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import { openByteSource, readCapture } from '../../src/capture/index.js';
import { Decoder } from '../../src/decode/decoder.js';
import { Packet } from '../../src/decode/packet.js';
import { FlowTable } from '../../src/flow/table.js';
import { SynthCapture, TcpConnection } from '../../src/synth/traffic.js';
import { tempDir } from '../helpers.js';

test('a capture file read through the reader’s reused window reassembles out-of-order data exactly', async (t) => {
  const path = join(tempDir(t), 'ooo.pcap');
  const cap = new SynthCapture(path);
  const conn = new TcpConnection(cap, '10.0.0.1:40000', '10.0.0.2:80', { clientIsn: 0xfff00000 });
  conn.handshake();
  // 9 MB in 1000-byte segments, each pair sent in reverse order, spanning the 4 MiB reader window twice.
  const data = Buffer.alloc(9_000_000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 10)) & 0xff;
  for (let at = 0; at < data.length; at += 2000) {
    conn.segment('client', at + 1000, data.subarray(at + 1000, at + 2000));
    conn.segment('client', at, data.subarray(at, at + 1000));
  }
  conn.advance('client', data.length).close();
  cap.close();

  const hash = createHash('sha256');
  let delivered = 0;
  let gaps = 0;
  const stream = {
    data: (_flow: unknown, dir: number, buf: Uint8Array, off: number, len: number): void => {
      if (dir !== 0) return;
      hash.update(buf.subarray(off, off + len));
      delivered += len;
    },
    gap: (): void => void gaps++,
  };
  const table = new FlowTable({ flowEnd: () => {}, streamEvent: () => {}, stream }, { idSalt: 1 });
  const decoder = new Decoder();
  const packet = new Packet();
  await readCapture(await openByteSource(path), (frame) => {
    decoder.decode(frame, packet);
    table.process(packet);
  });
  table.flush();
  assert.equal(gaps, 0);
  assert.equal(delivered, data.length);
  assert.equal(hash.digest('hex'), createHash('sha256').update(data).digest('hex'));
});
