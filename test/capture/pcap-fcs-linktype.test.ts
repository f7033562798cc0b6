import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { LinkType } from '../../src/capture/linktype.js';
import { tempDir } from '../helpers.js';
import { conversationFrames, readAll, writePcap } from './craft.js';

/**
 * pcap-savefile(5): the link type is the low 16 bits of its field; the top four bits hold the
 * FCS length in 16-bit words and 0x04000000 says that length is present.
 */
const withFcs = conversationFrames().map((f) => Buffer.concat([f, Buffer.from([0xde, 0xad, 0xbe, 0xef])]));

const cases: Array<[string, number]> = [
  ['4-byte FCS present (0x24000001)', 0x24000001],
  ['2-byte FCS present (0x14000001)', 0x14000001],
  ['FCS length without the present bit (0x20000001)', 0x20000001],
];

for (const bigEndian of [false, true]) {
  for (const [what, field] of cases) {
    test(`${bigEndian ? 'big' : 'little'}-endian pcap with ${what} reads as Ethernet, FCS bytes kept`, async (t) => {
      const path = join(tempDir(t), 'fcs.pcap');
      writePcap(path, withFcs.map((data, i) => ({ sec: i, frac: 0, data })), { bigEndian, linktypeField: field });
      const { frames, summary } = await readAll(path);
      assert.equal(summary.damage, null);
      assert.deepEqual(summary.linktypes, [LinkType.ETHERNET]);
      assert.equal(frames.length, withFcs.length);
      assert.ok(frames.every((f) => f.linktype === LinkType.ETHERNET));
      assert.deepEqual(frames[0]!.bytes, withFcs[0]);
    });
  }
}
