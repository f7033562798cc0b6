import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { probeTftp } from '../../../src/protocols/tftp/index.js';
import { isTftpRequest, parseTftp } from '../../../src/protocols/tftp/parse.js';
import { TftpSession, TftpTransferContext } from '../../../src/protocols/tftp/session.js';
import { FakeOutput, flowOf, rng } from '../ftp/harness.js';
import { ack, bytes, dataPacket, errorPacket, oack, request } from './craft.js';

const randomBytes = (r: () => number, n: number): Uint8Array => Uint8Array.from({ length: n }, () => Math.floor(r() * 256));

/** Datagrams that start like TFTP: an opcode 0..7, then random bytes with NULs and printable runs. */
function tftpish(r: () => number): Uint8Array {
  const body = Uint8Array.from({ length: Math.floor(r() * 80) }, () => (r() < 0.2 ? 0 : r() < 0.8 ? 0x61 + Math.floor(r() * 26) : Math.floor(r() * 256)));
  return Uint8Array.from([0, Math.floor(r() * 8), ...body]);
}

function mutate(r: () => number, b: Uint8Array): Uint8Array {
  const out = [...b];
  const at = Math.floor(r() * (out.length + 1));
  const x = r();
  if (x < 0.4 && out.length > 0) out[Math.min(at, out.length - 1)] = Math.floor(r() * 256);
  else if (x < 0.7) out.splice(at, 0, ...randomBytes(r, 1 + Math.floor(r() * 6)));
  else out.splice(at, 1 + Math.floor(r() * 6));
  return Uint8Array.from(out);
}

describe('TFTP fuzz', () => {
  test('the parser and the probe: random and TFTP-like datagrams never throw; what the probe takes parses as a request', () => {
    const r = rng(11);
    for (let i = 0; i < 30000; i++) {
      const b = r() < 0.5 ? randomBytes(r, Math.floor(r() * 120)) : tftpish(r);
      const p = parseTftp(b);
      assert.ok(['request', 'data', 'ack', 'error', 'oack', 'invalid'].includes(p.kind));
      if (p.kind === 'data') assert.ok(p.block >= 0 && p.block <= 0xffff);
      if (isTftpRequest(b)) {
        assert.equal(p.kind, 'request');
        assert.equal(probeTftp(0, b), 'yes');
      }
    }
  });

  test('sessions: random, TFTP-like and mutated transfers, either side: no exception, at most one file per transfer', () => {
    const r = rng(12);
    for (let round = 0; round < 400; round++) {
      const out = new FakeOutput();
      const asTransfer = r() < 0.5;
      const s = asTransfer
        ? new TftpSession(flowOf('10.0.0.9', 3001, '10.0.0.5', 2000, 17), out, new TftpTransferContext(1, Buffer.from('x'), 'octet'))
        : new TftpSession(flowOf('10.0.0.5', 2000, '10.0.0.9', 69, 17), out);
      let requests = asTransfer ? 1 : 0;
      const crafted = [request(1, 'egg.exe', 'octet'), oack('blksize', '16'), dataPacket(1, bytes(512)), dataPacket(2, bytes(512)), ack(1), dataPacket(3, bytes(7)), errorPacket(0, 'x')];
      for (let k = 0; k < 40; k++) {
        const x = r();
        const b = x < 0.3 ? randomBytes(r, Math.floor(r() * 600)) : x < 0.6 ? tftpish(r) : mutate(r, crafted[Math.floor(r() * crafted.length)]!);
        const dir = r() < 0.5 ? 0 : 1;
        const p = parseTftp(b);
        if (dir === 0 && p.kind === 'request' && !asTransfer) requests++;
        s.data(dir, b, 0, b.length);
      }
      s.close();
      assert.ok(out.files.length <= requests, `${out.files.length} files for ${requests} requests`);
      for (const f of out.files) assert.ok(f.state === 'CLOSED' || f.state === 'TRUNCATED');
    }
  });
});
