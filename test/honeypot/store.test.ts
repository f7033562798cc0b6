import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { PayloadStore, payloadPath, sha256Hex } from '../../src/honeypot/index.js';
import { tempDir } from '../helpers.js';

test('payloads are stored once under <dir>/<xx>/<sha256>, mode 0600, duplicates counted', async (t) => {
  const dir = tempDir(t);
  const store = new PayloadStore(dir);
  await store.open();
  const a = Buffer.from('first flight');
  const [one, two] = await Promise.all([store.put(a), store.put(a)]);
  assert.deepEqual([one, two].sort(), ['duplicate', 'stored']);
  assert.equal(await store.put(a), 'duplicate');
  const sha = sha256Hex(a);
  assert.equal(payloadPath(dir, sha), `${dir}/${sha.slice(0, 2)}/${sha}`);
  assert.equal(statSync(payloadPath(dir, sha)).mode & 0o777, 0o600);
  assert.equal(statSync(`${dir}/${sha.slice(0, 2)}`).mode & 0o777, 0o700);
  assert.equal(store.counters.files, 1);
  assert.equal(store.counters.duplicates, 2);
  assert.deepEqual(readdirSync(`${dir}/${sha.slice(0, 2)}`), [sha]); // no temporary file left
});

test('the size, count and total caps refuse payloads and count them', async (t) => {
  const dir = tempDir(t);
  const store = new PayloadStore(dir, { maxPayloadBytes: 100, maxCount: 2, maxTotalBytes: 150 });
  await store.open();
  assert.equal(await store.put(Buffer.alloc(101, 1)), 'skipped');
  assert.equal(await store.put(Buffer.alloc(80, 2)), 'stored');
  assert.equal(await store.put(Buffer.alloc(80, 3)), 'skipped'); // total 160 > 150
  assert.equal(await store.put(Buffer.alloc(10, 4)), 'stored');
  assert.equal(await store.put(Buffer.alloc(10, 5)), 'skipped'); // count
  const c = store.counters;
  assert.deepEqual([c.skipped_size, c.skipped_total, c.skipped_count, c.skipped_bytes], [1, 1, 1, 191]);
  assert.deepEqual([c.files, c.bytes], [2, 90]);
});

test('a reopened store counts what is already there, so caps hold across restarts', async (t) => {
  const dir = tempDir(t);
  const first = new PayloadStore(dir);
  await first.open();
  await first.put(Buffer.alloc(30, 1));
  await first.put(Buffer.alloc(20, 2));
  const again = new PayloadStore(dir, { maxCount: 2 });
  await again.open();
  assert.deepEqual([again.counters.files, again.counters.bytes], [2, 50]);
  assert.equal(await again.put(Buffer.alloc(5, 3)), 'skipped');
});
