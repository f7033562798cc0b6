import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CLASSIFICATIONS } from './classifications.js';
import { compileRule, UnsupportedRule, type CompileContext } from './compile.js';
import { splitRuleFile } from './file.js';
import type { Rule } from './rule.js';
import { parseRuleSyntax, RuleError } from './syntax.js';
import { DEFAULT_VARS, type RuleVars } from './vars.js';

/** One problem loading rules: where, and why. */
export interface LoadError {
  file: string;
  line: number;
  column?: number;
  message: string;
}

/** What loading one file gave. */
export interface FileReport {
  file: string;
  /** Rules in the file, enabled and disabled. */
  seen: number;
  loaded: number;
  /** Commented out. */
  disabled: number;
  /** Rules not loaded because a keyword or protocol is not supported yet, by keyword. */
  unsupported: Record<string, number>;
  errors: LoadError[];
}

/** The `outpost rules check` report: per file and in total. */
export interface LoadReport {
  files: FileReport[];
  total: number;
  loaded: number;
  disabled: number;
  unsupported: Record<string, number>;
  errors: LoadError[];
}

export interface RuleSetOptions {
  vars?: RuleVars;
  /** Classifications (name → description, priority); the built-in list when absent. */
  classifications?: ReadonlyMap<string, { description: string; priority: number }>;
}

export function defaultClassifications(): Map<string, { description: string; priority: number }> {
  return new Map(DEFAULT_CLASSIFICATIONS.map(([name, description, priority]) => [name, { description, priority }]));
}

/** Rule files named by paths: a file as is, a directory's *.rules files in name order. */
export function ruleFiles(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (statSync(p).isDirectory()) {
      for (const f of readdirSync(p).filter((n) => n.endsWith('.rules')).sort()) out.push(join(p, f));
    } else out.push(p);
  }
  return out;
}

/**
 * A loaded rule set. Loading never stops at a bad rule: each error is recorded with file:line
 * and the reason, and the rest of the file loads. A duplicate gid:sid is an error on the later rule.
 */
export class RuleSet {
  readonly rules: Rule[] = [];
  readonly report: LoadReport = { files: [], total: 0, loaded: 0, disabled: 0, unsupported: {}, errors: [] };
  readonly ctx: CompileContext;
  private readonly ids = new Map<string, { file: string; line: number }>();

  constructor(options: RuleSetOptions = {}) {
    this.ctx = { vars: options.vars ?? DEFAULT_VARS, classifications: options.classifications ?? defaultClassifications() };
  }

  /** Loads rule files and directories. A path that cannot be read is an error in the report, not an exception. */
  static load(paths: string[], options: RuleSetOptions = {}): RuleSet {
    const set = new RuleSet(options);
    let files: string[];
    try {
      files = ruleFiles(paths);
    } catch (err) {
      set.report.errors.push({ file: (err as NodeJS.ErrnoException).path ?? paths.join(','), line: 0, message: `cannot read: ${(err as Error).message}` });
      return set;
    }
    for (const f of files) set.loadFile(f);
    return set;
  }

  loadFile(file: string): FileReport {
    let content: string;
    const report: FileReport = { file, seen: 0, loaded: 0, disabled: 0, unsupported: {}, errors: [] };
    try {
      content = readFileSync(file, 'latin1');
    } catch (err) {
      report.errors.push({ file, line: 0, message: `cannot read: ${(err as Error).message}` });
      this.add(report);
      return report;
    }
    this.parseInto(content, file, report);
    this.add(report);
    return report;
  }

  /** Loads rules from text, as if from a file of that name (tests, inline rules). */
  loadText(content: string, file: string): FileReport {
    const report: FileReport = { file, seen: 0, loaded: 0, disabled: 0, unsupported: {}, errors: [] };
    this.parseInto(content, file, report);
    this.add(report);
    return report;
  }

  private parseInto(content: string, file: string, report: FileReport): FileReport {
    for (const line of splitRuleFile(content)) {
      report.seen++;
      if (line.disabled) {
        report.disabled++;
        continue;
      }
      const location = { file, line: line.line, column: 0 };
      try {
        const syntax = parseRuleSyntax(line.text);
        const rule = compileRule(syntax, line.text, location, this.ctx, this.rules.length);
        const id = `${rule.gid}:${rule.sid}`;
        const prior = this.ids.get(id);
        if (prior !== undefined) throw new RuleError(`duplicate signature ${id}: already defined at ${prior.file}:${prior.line}`);
        this.ids.set(id, { file, line: line.line });
        this.rules.push(rule);
        report.loaded++;
      } catch (err) {
        if (err instanceof UnsupportedRule) report.unsupported[err.keyword] = (report.unsupported[err.keyword] ?? 0) + 1;
        else if (err instanceof RuleError) report.errors.push({ file, line: line.line, ...(err.column > 0 ? { column: err.column } : {}), message: err.message });
        else throw err;
      }
    }
    return report;
  }

  private add(f: FileReport): void {
    const r = this.report;
    r.files.push(f);
    r.total += f.seen;
    r.loaded += f.loaded;
    r.disabled += f.disabled;
    for (const [k, n] of Object.entries(f.unsupported)) r.unsupported[k] = (r.unsupported[k] ?? 0) + n;
    r.errors.push(...f.errors);
  }
}
