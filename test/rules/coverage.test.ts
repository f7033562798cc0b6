import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RuleSet, type LoadReport } from '../../src/rules/ruleset.js';
import { shared } from '../helpers.js';

/** A keyword (or header protocol) whose rules need an analyzer Outpost does not have. */
export function needsOtherProtocol(keyword: string): boolean {
  return keyword.startsWith('proto:');
}

/** Figures for docs/rules.md: enabled rules, loaded, and what the rest need. */
export function coverage(r: LoadReport): { enabled: number; loaded: number; otherProtocols: number; unsupported: Record<string, number>; errors: number } {
  const enabled = r.total - r.disabled;
  let otherProtocols = 0;
  for (const [k, n] of Object.entries(r.unsupported)) if (needsOtherProtocol(k)) otherProtocols += n;
  return { enabled, loaded: r.loaded, otherProtocols, unsupported: r.unsupported, errors: r.errors.length };
}

function report(name: string, c: ReturnType<typeof coverage>): string {
  const pct = (a: number, b: number): string => ((100 * a) / b).toFixed(1);
  return `${name}: ${c.loaded} of ${c.enabled} enabled rules load (${pct(c.loaded, c.enabled)}%); for protocols Outpost does not analyze ${c.otherProtocols}; unsupported ${JSON.stringify(c.unsupported)}; errors ${c.errors}`;
}

/**
 * Floors: ET Open 2024's is the issue's target (97%); the others are at what loads today, so
 * coverage cannot slip back unnoticed. docs/rules.md says what stands in the way (pcres whose
 * backtracking cannot be bounded, protocols Outpost does not analyze, a few keywords).
 */
const SETS: Array<{ dir: string; name: string; min: number }> = [
  { dir: 'et-open-suricata5-2024-04-21', name: 'ET Open 2024', min: 0.97 },
  { dir: 'et-open-suricata4.0-2019-04', name: 'ET Open 2019', min: 0.94 },
  { dir: 'snort3-community', name: 'Snort 3 community', min: 0.87 },
  { dir: 'snort-2.2.0-2004', name: 'Snort 2.2 (2004)', min: 0.98 },
];

for (const s of SETS) {
  test(`${s.name}: ${Math.round(s.min * 100)}% or more of the enabled rules load; the rest is counted by keyword`, (t) => {
    const dir = shared(t, 'rules', s.dir);
    if (dir === null) return;
    const r = RuleSet.load([dir]).report;
    const c = coverage(r);
    t.diagnostic(report(s.name, c));
    for (const e of r.errors.slice(0, 20)) t.diagnostic(`error ${e.file.split('/').pop()}:${e.line}: ${e.message}`);
    assert.ok(c.loaded / c.enabled >= s.min, report(s.name, c));
    // Nothing is dropped silently: every enabled rule is loaded, unsupported (by keyword) or an error.
    const unsupported = Object.values(r.unsupported).reduce((a, b) => a + b, 0);
    assert.equal(r.loaded + unsupported + r.errors.length, c.enabled);
  });
}
