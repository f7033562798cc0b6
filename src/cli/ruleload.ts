import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError, defaultConfig, loadConfig, type Config } from '../config/config.js';
import { formatProblem, parseClassificationConfig, parseThresholdConfig, type ThresholdConfig } from '../rules/config-files.js';
import { defaultClassifications, RuleSet } from '../rules/ruleset.js';
import { withHomeNet } from '../rules/vars.js';
import { UsageError } from './exit.js';

/**
 * Loads a configuration and a rule set the way every command does: rules named on the command
 * line plus the config's rule-files; classification.config from the config, else beside the rules
 * (ET Open ships one), else the built-in list.
 */
export function loadRuleSet(paths: string[], configPath: string | undefined, homeNet?: string): { config: Config; ruleset: RuleSet; thresholds: ThresholdConfig | null; warnings: string[] } {
  let config: Config;
  try {
    config = configPath === undefined ? defaultConfig() : loadConfig(configPath);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
  let vars = config.vars;
  if (homeNet !== undefined) {
    try {
      vars = withHomeNet(vars, homeNet, config.externalNetSet);
    } catch (err) {
      throw new UsageError(`--home-net: ${(err as Error).message}`);
    }
  }
  for (const p of paths) if (!existsSync(p)) throw new UsageError(`no such rule file or directory: ${p}`);
  const warnings: string[] = [];
  let classifications = defaultClassifications();
  const classFile = config.classificationFile ?? classificationBeside(paths);
  if (classFile !== null) {
    const parsed = parseClassificationConfig(read(classFile), classFile);
    warnings.push(...parsed.problems.map(formatProblem));
    if (parsed.classes.size > 0) classifications = new Map([...classifications, ...parsed.classes]);
  }
  let thresholds: ThresholdConfig | null = null;
  if (config.thresholdFile !== null) {
    thresholds = parseThresholdConfig(read(config.thresholdFile), config.thresholdFile, vars);
    warnings.push(...thresholds.problems.map(formatProblem));
  }
  const ruleset = RuleSet.load([...paths, ...config.ruleFiles], { vars, classifications });
  return { config, ruleset, thresholds, warnings };
}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`${file}: cannot read: ${(err as Error).message}`);
  }
}

/** A classification.config beside the rules (in the directory, or beside the file). */
export function classificationBeside(paths: string[]): string | null {
  for (const p of paths) {
    const dir = existsSync(p) && statSync(p).isDirectory() ? p : dirname(p);
    const f = join(dir, 'classification.config');
    if (existsSync(f)) return f;
  }
  return null;
}
