import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { LinkType } from '../../src/capture/linktype.js';
import { tempDir } from '../helpers.js';
import { conversationFrames, pcapBytes, readAll, writePcap, type PcapRecord } from './craft.js';

const frames = conversationFrames();

/** Records with fractions that only come out right when the unit and byte order are both honoured. */
function records(nanoseconds: boolean): PcapRecord[] {
  return frames.map((data, i) => ({
    sec: 1082541600 + i,
    // Spread over the whole range, ending on the last representable fraction of a second.
    frac: i === frames.length - 1 ? (nanoseconds ? 999_999_999 : 999_999) : nanoseconds ? 123_456_789 + i * 7 : 123_456 + i * 7,
    data,
  }));
}

for (const bigEndian of [false, true]) {
  for (const nanoseconds of [false, true]) {
    const name = `${bigEndian ? 'big' : 'little'}-endian pcap with ${nanoseconds ? 'nanosecond' : 'microsecond'} magic`;
    test(`${name}: every frame comes back with its bytes and an exact timestamp`, async (t) => {
      const path = join(tempDir(t), 'x.pcap');
      const recs = records(nanoseconds);
      writePcap(path, recs, { bigEndian, nanoseconds });
      const { frames: got, summary } = await readAll(path);
      assert.equal(summary.damage, null);
      assert.equal(summary.format, 'pcap');
      assert.deepEqual(summary.linktypes, [LinkType.ETHERNET]);
      assert.equal(summary.frames, recs.length);
      assert.equal(summary.bytes, recs.reduce((s, r) => s + r.data.length, 0));
      let offset = 24;
      recs.forEach((r, i) => {
        const f = got[i]!;
        assert.deepEqual(f.bytes, Buffer.from(r.data), `frame ${i + 1} bytes`);
        assert.equal(f.tsSec, r.sec);
        assert.equal(f.tsNsec, nanoseconds ? r.frac : r.frac * 1000, `frame ${i + 1} fraction`);
        assert.equal(f.caplen, r.data.length);
        assert.equal(f.wirelen, r.data.length);
        assert.equal(f.truncated, false);
        assert.equal(f.linktype, LinkType.ETHERNET);
        assert.equal(f.number, i + 1);
        assert.equal(f.fileOffset, offset);
        offset += 16 + r.data.length;
      });
    });
  }
}

test('a big-endian pcap names its link type in big-endian too (raw IP is not read as Ethernet)', async (t) => {
  const path = join(tempDir(t), 'raw-be.pcap');
  const raw = conversationFrames(LinkType.RAW);
  writePcap(path, raw.map((data) => ({ sec: 1, frac: 0, data })), { bigEndian: true, linktypeField: LinkType.RAW });
  const { frames: got, summary } = await readAll(path);
  assert.deepEqual(summary.linktypes, [LinkType.RAW]);
  assert.equal(got.length, raw.length);
  assert.ok(got.every((f) => f.linktype === LinkType.RAW));
});

test('a pcap with the OS DLT_RAW value 12 or 14 reads as LINKTYPE_RAW', async (t) => {
  const dir = tempDir(t);
  for (const dlt of [12, 14]) {
    const path = join(dir, `dlt${dlt}.pcap`);
    writePcap(path, [{ sec: 1, frac: 0, data: conversationFrames(LinkType.RAW)[0]! }], { linktypeField: dlt });
    const { frames: got } = await readAll(path);
    assert.equal(got[0]!.linktype, LinkType.RAW, `DLT ${dlt}`);
  }
});

test('a microsecond fraction past one second is clamped to the last nanosecond, not carried into the seconds', async (t) => {
  const path = join(tempDir(t), 'frac.pcap');
  writePcap(path, [{ sec: 100, frac: 1_500_000, data: frames[0]! }]);
  const { frames: got, summary } = await readAll(path);
  assert.equal(summary.damage, null);
  assert.equal(got[0]!.tsSec, 100);
  assert.equal(got[0]!.tsNsec, 999_999_999);
});

test('a pcap of another major version is damage at the version field, naming the version', async (t) => {
  const path = join(tempDir(t), 'v3.pcap');
  const bytes = pcapBytes(records(false));
  bytes.writeUInt16LE(3, 4);
  writeFileSync(path, bytes);
  const { frames: got, summary } = await readAll(path);
  assert.equal(got.length, 0);
  assert.equal(summary.damage?.offset, 4);
  assert.match(summary.damage?.message ?? '', /v3\.pcap: damaged at byte offset 4: unsupported pcap version 3/);
});
