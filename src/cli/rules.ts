import { parseArgs } from 'node:util';
import { NOT_YET } from '../rules/keyword.js';
import { KEYWORDS } from '../rules/keywords/index.js';
import type { LoadReport } from '../rules/ruleset.js';
import { loadRuleSet } from './ruleload.js';
import { Exit, UsageError } from './exit.js';

export const RULES_USAGE = `usage: outpost rules check <file|dir>... [--json] [--strict] [--config FILE]
       outpost rules keywords

check      load rule files (Suricata, Snort 2 or Snort 3 syntax) and report, per file and in
           total, rules seen, loaded, disabled (commented out), unsupported (by keyword) and
           errors (file:line and reason). --json prints one JSON object. Exit code 1 on
           errors only with --strict.
keywords   list the rule keywords Outpost supports, with their syntax and help`;

export async function runRules(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'keywords') return keywords();
  if (sub !== 'check') throw new UsageError(sub === undefined ? 'rules needs a subcommand: check or keywords' : `unknown rules subcommand "${sub}"`);
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { json: { type: 'boolean', default: false }, strict: { type: 'boolean', default: false }, config: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (parsed.values.help) {
    process.stdout.write(`${RULES_USAGE}\n`);
    return Exit.OK;
  }
  if (parsed.positionals.length === 0) throw new UsageError('rules check needs rule files or directories');
  const { ruleset } = loadRuleSet(parsed.positionals, parsed.values.config);
  const r = ruleset.report;
  if (parsed.values.json) {
    process.stdout.write(`${JSON.stringify(checkJson(r))}\n`);
  } else {
    process.stdout.write(checkText(r));
  }
  return parsed.values.strict && r.errors.length > 0 ? Exit.DAMAGED : Exit.OK;
}

/** The --json shape: {files, total, loaded, disabled, unsupported: {keyword: count}, errors: [{file, line, message}]}. */
export function checkJson(r: LoadReport): Record<string, unknown> {
  return {
    files: r.files.map((f) => ({ file: f.file, seen: f.seen, loaded: f.loaded, disabled: f.disabled, unsupported: f.unsupported, errors: f.errors.length })),
    total: r.total,
    loaded: r.loaded,
    disabled: r.disabled,
    unsupported: r.unsupported,
    errors: r.errors.map((e) => ({ file: e.file, line: e.line, message: e.message })),
  };
}

function checkText(r: LoadReport): string {
  const lines: string[] = [];
  const width = Math.max(4, ...r.files.map((f) => f.file.length));
  lines.push(`${'file'.padEnd(width)}  ${'rules'.padStart(6)} ${'loaded'.padStart(6)} ${'disabled'.padStart(8)} ${'unsupp.'.padStart(7)} ${'errors'.padStart(6)}`);
  for (const f of r.files) {
    const unsupported = Object.values(f.unsupported).reduce((a, b) => a + b, 0);
    lines.push(`${f.file.padEnd(width)}  ${String(f.seen).padStart(6)} ${String(f.loaded).padStart(6)} ${String(f.disabled).padStart(8)} ${String(unsupported).padStart(7)} ${String(f.errors.length).padStart(6)}`);
  }
  const unsupportedTotal = Object.values(r.unsupported).reduce((a, b) => a + b, 0);
  lines.push(`${'total'.padEnd(width)}  ${String(r.total).padStart(6)} ${String(r.loaded).padStart(6)} ${String(r.disabled).padStart(8)} ${String(unsupportedTotal).padStart(7)} ${String(r.errors.length).padStart(6)}`);
  const enabled = r.total - r.disabled;
  lines.push('', `loaded ${r.loaded} of ${enabled} enabled rules (${enabled > 0 ? ((100 * r.loaded) / enabled).toFixed(1) : '0.0'}%)`);
  const byKeyword = Object.entries(r.unsupported).sort((a, b) => b[1] - a[1]);
  if (byKeyword.length > 0) {
    lines.push('', 'unsupported, by keyword:');
    for (const [k, n] of byKeyword) lines.push(`  ${String(n).padStart(6)}  ${k}${NOT_YET[k] !== undefined ? `  (${NOT_YET[k]})` : ''}`);
  }
  if (r.errors.length > 0) {
    lines.push('', 'errors:');
    for (const e of r.errors) lines.push(`  ${e.file}:${e.line}${e.column !== undefined ? `:${e.column}` : ''}: ${e.message}`);
  }
  return `${lines.join('\n')}\n`;
}

function keywords(): number {
  const lines: string[] = [];
  for (const k of [...KEYWORDS].sort((a, b) => a.name.localeCompare(b.name))) {
    lines.push(`${k.name}${k.aliases !== undefined && k.aliases.length > 0 ? ` (also ${k.aliases.join(', ')})` : ''}`, `    ${k.syntax}`, `    ${k.summary}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return Exit.OK;
}
