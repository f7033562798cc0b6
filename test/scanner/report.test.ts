import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { escapeHtml, findingsCsv, findingsHtml, type Finding } from '../../src/scanner/index.js';
import { runOutpost } from '../cli/run.js';
import { tempDir } from '../helpers.js';

const hostile: Finding = {
  id: 'service',
  ip: '127.0.0.1',
  port: '443',
  severity: 'INFO',
  cve: '',
  cwe: '',
  finding: 'not SSL: the server said "<script>alert(1)</script>" & hung up',
  evidence: '3c736372697074',
  cvss: '0.0',
  remediation: '',
} as Finding;
const pct: Finding = { ...hostile, id: 'PCT', severity: 'CRITICAL', cve: 'CVE-2003-0719', cwe: 'CWE-119', finding: 'PCT 1.0 enabled', remediation: '[HKEY_LOCAL_MACHINE\\...\\PCT 1.0\\Server]\n"Enabled"=dword:00000000' } as Finding;

test("CSV in testssl.sh's columns, every field quoted, quotes doubled", () => {
  const csv = findingsCsv([hostile, pct]);
  const lines = csv.trimEnd().split('\r\n');
  assert.equal(lines[0], '"id","fqdn/ip","port","severity","finding","cve","cwe"');
  assert.equal(lines[1], '"service","127.0.0.1","443","INFO","not SSL: the server said ""<script>alert(1)</script>"" & hung up","",""');
  assert.equal(lines[2], '"PCT","127.0.0.1","443","CRITICAL","PCT 1.0 enabled","CVE-2003-0719","CWE-119"');
});

test('the HTML report is self-contained, script-free and escapes what servers sent; the fix is under each critical finding', () => {
  const html = findingsHtml([hostile, pct], { generated: '2026-11-27T20:00:00Z', targets: ['127.0.0.1<img>'] });
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /<img/);
  assert.match(html, /said &quot;&lt;script&gt;alert\(1\)&lt;\/script&gt;&quot; &amp; hung up/);
  assert.match(html, /default-src 'none'/);
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, 'no external resource');
  assert.match(html, /<details><summary>How to fix<\/summary><pre>\[HKEY_LOCAL_MACHINE/);
  assert.match(html, /<li class="critical">CRITICAL: 1<\/li>/);
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});

test('outpost scan --csv and --html write their files (a closed loopback port)', (t) => {
  const dir = tempDir(t);
  const r = runOutpost(['scan', '127.0.0.1:1', '--timeout', '500', '--csv', join(dir, 'scan.csv'), '--html', join(dir, 'scan.html')]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(readFileSync(join(dir, 'scan.csv'), 'utf8'), /^"id","fqdn\/ip","port","severity","finding","cve","cwe"\r\n"service","127\.0\.0\.1","1",/);
  assert.match(readFileSync(join(dir, 'scan.html'), 'utf8'), /<td>127\.0\.0\.1:1<\/td><td>service<\/td>/);
  assert.match(r.stdout, /^127\.0\.0\.1:1\n {2}service /);
});
