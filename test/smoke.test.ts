import assert from 'node:assert/strict';
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { outpostBin } from './helpers.js';

test('outpost with no command prints usage and exits 2', () => {
  let status = 0;
  try {
    execFileSync('node', [outpostBin], { stdio: 'pipe' });
  } catch (err) {
    status = (err as { status: number }).status;
  }
  assert.equal(status, 2);
});
