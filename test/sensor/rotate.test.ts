import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { RotatingEveWriter } from '../../src/events/rotate.js';
import { tempDir } from '../helpers.js';

const record = (n: number, pad = 0): Record<string, unknown> => ({ timestamp: '2004-04-21T10:00:00.000000+0000', event_type: 'flow', n, pad: 'x'.repeat(pad) });

/** Every line of the files, oldest file first; each must be whole JSON. */
function linesOf(paths: string[]): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const p of paths) {
    if (!existsSync(p)) continue;
    const text = readFileSync(p, 'utf8');
    assert.ok(text === '' || text.endsWith('\n'), `${p} ends with a whole line`);
    for (const line of text.split('\n').filter((l) => l !== '')) out.push(JSON.parse(line) as Record<string, unknown>);
  }
  return out;
}

test('rotates by size, keeps N files, newest first, never splits a line', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'eve.json');
  const w = new RotatingEveWriter(path, { rotateSize: 1000, keep: 3 });
  for (let i = 1; i <= 200; i++) {
    w.write(record(i, i % 7 === 0 ? 300 : 20));
    if (i % 13 === 0) w.flush();
  }
  w.close();
  const files = readdirSync(dir).sort();
  assert.deepEqual(files, ['eve.json', 'eve.json.1', 'eve.json.2', 'eve.json.3']);
  for (const f of files) assert.ok(statSync(join(dir, f)).size <= 1000, `${f} is ${statSync(join(dir, f)).size} bytes`);
  const kept = linesOf([`${path}.3`, `${path}.2`, `${path}.1`, path]).map((r) => r.n as number);
  // The kept records are the newest, contiguous and in order, ending with the last one written.
  assert.equal(kept[kept.length - 1], 200);
  for (let i = 1; i < kept.length; i++) assert.equal(kept[i], kept[i - 1]! + 1);
  assert.ok(kept.length < 200 && w.rotations > 3);
});

test('a line longer than the rotation size gets a file of its own; keep 0 keeps none', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'eve.json');
  const w = new RotatingEveWriter(path, { rotateSize: 200, keep: 2 });
  w.write(record(1));
  w.write(record(2, 500));
  w.write(record(3));
  w.close();
  assert.deepEqual(linesOf([`${path}.2`]).map((r) => r.n), [1]);
  assert.deepEqual(linesOf([`${path}.1`]).map((r) => r.n), [2]);
  assert.deepEqual(linesOf([path]).map((r) => r.n), [3]);

  const path0 = join(dir, 'zero.json');
  const z = new RotatingEveWriter(path0, { rotateSize: 150, keep: 0 });
  for (let i = 1; i <= 10; i++) z.write(record(i));
  z.close();
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('zero')), ['zero.json']);
  assert.equal(linesOf([path0]).at(-1)!.n, 10);
});

test('appends to an existing file and counts its size toward rotation', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'eve.json');
  writeFileSync(path, `${JSON.stringify(record(0, 100))}\n`);
  const w = new RotatingEveWriter(path, { rotateSize: 450, keep: 1 });
  w.write(record(1, 100));
  w.write(record(2, 100));
  w.close();
  assert.deepEqual(linesOf([`${path}.1`]).map((r) => r.n), [0, 1]);
  assert.deepEqual(linesOf([path]).map((r) => r.n), [2]);
});

test('reopen() follows logrotate: records after it go to a new file at the path', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'eve.json');
  const w = new RotatingEveWriter(path, { rotateSize: 0, keep: 5 });
  w.write(record(1));
  w.flush();
  renameSync(path, `${path}.old`);
  w.write(record(2)); // still buffered: goes to the moved file on reopen's flush
  w.reopen();
  w.write(record(3));
  w.close();
  assert.deepEqual(linesOf([`${path}.old`]).map((r) => r.n), [1, 2]);
  assert.deepEqual(linesOf([path]).map((r) => r.n), [3]);
});
