import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CaptureOpenError, openByteSource, readCapture } from '../capture/index.js';
import type { Packet } from '../decode/packet.js';
import type { EveEvent } from '../events/types.js';
import { parseClassificationConfig, parseThresholdConfig, type ThresholdConfig } from '../rules/config-files.js';
import { defaultClassifications, RuleSet } from '../rules/ruleset.js';
import { createProtocols } from '../protocols/index.js';
import { Pipeline, type PipelineOptions } from '../sensor/pipeline.js';
import { answerShell, CheckCrash, filterMatches, findValue, nearestMiss, NONE, pyEquals, show } from './checks.js';
import { scanEncapsulations } from './encapsulation.js';
import { analyzedNames, appNeedsReason, checkAppNeeds, emptyNeeds, engineInternalStat, ruleAppNeeds, verdictCheck } from './needs.js';
import { StatsCollector } from './stats.js';
import { findPcap, findRuleFiles, loadTestYaml, TestYamlError, type TestCase } from './suite.js';
import {
  defaultSuricataYaml,
  extractSettings,
  HTTP_LIMIT_KEYS,
  isMap,
  isTrue,
  loadSuricataYaml,
  setConfigValue,
  SuricataYamlError,
  type SuricataSettings,
  type YamlMap,
} from './suricata-config.js';
import { pyStr, TARGET_VERSION, versionCompatible, type Version } from './version.js';

/**
 * Runs one suricata-verify test inside this process, the way run.py runs Suricata on it: the
 * same gates (versions, features, the test's own requirements), the test's suricata.yaml or
 * Suricata's default one, its rules and its capture, then its checks against the records
 * Outpost writes. A test Outpost cannot take part in (an application protocol, IPS mode, a
 * tunnel it does not decode, ...) is skipped with the missing part named; anything else that
 * does not come out as Suricata's does is a failure with the first difference found.
 */

export type Status = 'pass' | 'fail' | 'skip';

export interface TestResult {
  name: string;
  status: Status;
  /** Why it failed or was skipped ("" for a pass that needed no comment). */
  reason: string;
  /** A short group for the reason ("app-layer", "version", "check", "rule-error", ...); "" for a pass. */
  category: string;
  /** Things worth knowing that did not decide the outcome (ignored settings, approximations, rule errors in a skipped test). */
  notes: string[];
  checks: { passed: number; failed: number; skipped: number };
}

export interface RunnerOptions {
  /** The tests directory; <root>/../etc holds Suricata's classification.config and reference.config. */
  root: string;
  /** The Suricata version to answer to: 9.0.0 by default. */
  version?: Version;
  /** Build features (HAVE_LUA, HAVE_NSS, ...) to claim: by default those Outpost has (DEFAULT_FEATURES). */
  features?: ReadonlySet<string>;
  /** Where to write each test's eve.json and fast.log (<dir>/<test name>/), for looking into a failure. */
  outputDir?: string;
}

/** Thrown inside a run to end it with an outcome. */
class Outcome extends Error {
  constructor(
    readonly status: 'fail' | 'skip',
    readonly category: string,
    readonly reason: string,
  ) {
    super(reason);
  }
}

const skip = (category: string, reason: string): Outcome => new Outcome('skip', category, reason);

/** The address fields of a record, by path. */
const ADDRESS_FIELDS: ReadonlyArray<readonly string[]> = [['src_ip'], ['dest_ip'], ['flow', 'src_ip'], ['flow', 'dest_ip'], ['alert', 'source', 'ip'], ['alert', 'target', 'ip']];

/**
 * Suricata writes IPv6 addresses with every group in full ("fe80:0000:...:ab42") unless
 * `ipv6-compress` is on; Outpost writes them compressed (RFC 5952). The runner answers as
 * Suricata's configuration asks.
 */
function expandIpv6Fields(record: Record<string, unknown>): void {
  for (const path of ADDRESS_FIELDS) {
    let node: unknown = record;
    for (const key of path.slice(0, -1)) node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
    if (node === null || typeof node !== 'object') continue;
    const holder = node as Record<string, unknown>;
    const last = path[path.length - 1]!;
    const v = holder[last];
    if (typeof v === 'string' && v.includes(':')) holder[last] = expandIpv6(v);
  }
}

function expandIpv6(text: string): string {
  const [head, tail] = text.includes('::') ? text.split('::') as [string, string] : [text, null];
  const left = head === '' ? [] : head.split(':');
  const right = tail === null || tail === '' ? [] : tail.split(':');
  const groups = tail === null ? left : [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((g) => g.padStart(4, '0')).join(':');
}

/** Build features Outpost has, as suricata-verify names them: JA3 and JA3S are always computed. */
export const DEFAULT_FEATURES: ReadonlySet<string> = new Set(['HAVE_JA3']);

/** The DNS log format: the test's SURICATA_EVE_DNS_VERSION (run.py passes `env` to Suricata), else the configuration's. */
function dnsVersionOf(config: Record<string, unknown>, configured: 2 | 3): 2 | 3 {
  const env = config.env;
  const v = env !== null && typeof env === 'object' ? (env as Record<string, unknown>).SURICATA_EVE_DNS_VERSION : undefined;
  return v === undefined ? configured : String(v) === '2' ? 2 : 3;
}

/** The eve-log `types` entry that switches a record type on, where the two names differ (output-json-file.c, output-json-ftp.c). */
const EVE_TYPE_OPTION: Readonly<Record<string, string>> = { fileinfo: 'files', ftp_data: 'ftp' };
const fail = (category: string, reason: string): Outcome => new Outcome('fail', category, reason);

/** The test's version bounds, for run.py's check_filter_test_version_compat. */
interface TestVersion {
  min?: unknown;
  lt?: unknown;
  gt?: unknown;
  eq?: unknown;
}

/** One check as planned before the run: its kind, its spec, and why it will not be evaluated. */
interface PlannedCheck {
  index: number;
  kind: string;
  spec: unknown;
  /** The check's own requirements are not met: skipped, as run.py skips it. */
  skipped: string | null;
  /** Evaluating it would make run.py raise: the test fails when it gets that far. */
  crash: string | null;
}

/** Host-os-policy names whose overlap handling is Outpost's default (bsd); see src/flow/reassembly.ts. */
const BSD_LIKE = new Set(['bsd', 'bsd-right', 'hpux10', 'irix', 'macos', 'windows', 'windows2k3']);

/** --set values that describe what Outpost does anyway. */
const SAME_AS_OUTPOST = new Set(['stream.midstream=true', 'stats.decoder-events=true']);
/** `--set` keys the HTTP parser takes (so they are applied, not reported as ignored). */
const HTTP_LIMIT_SETTINGS = new Set(Object.keys(HTTP_LIMIT_KEYS).map((k) => `app-layer.protocols.http.libhtp.default-config.${k}`));

/** Command-line options run.py passes through that change nothing Outpost models. */
const IGNORED_FLAGS = new Set(['-k', '--runmode', '--runmode=single', '--init-errors-fatal']);

export async function runTest(tc: TestCase, options: RunnerOptions): Promise<TestResult> {
  const notes: string[] = [];
  const checks = { passed: 0, failed: 0, skipped: 0 };
  try {
    await run(tc, options, notes, checks);
    return { name: tc.name, status: 'pass', reason: checks.skipped > 0 ? `${checks.skipped} check(s) not for this version` : '', category: '', notes, checks };
  } catch (err) {
    if (err instanceof Outcome) return { name: tc.name, status: err.status, reason: err.reason, category: err.category, notes, checks };
    const e = err as Error;
    return { name: tc.name, status: 'fail', reason: `internal error in the runner: ${e.stack ?? e.message}`, category: 'runner', notes, checks };
  }
}

async function run(tc: TestCase, options: RunnerOptions, notes: string[], counts: TestResult['checks']): Promise<void> {
  const running = options.version ?? TARGET_VERSION;
  const features = options.features ?? DEFAULT_FEATURES;

  let config: YamlMap;
  try {
    config = loadTestYaml(tc.dir);
  } catch (err) {
    if (err instanceof TestYamlError) throw fail('runner', err.message);
    throw err;
  }

  // run.py: check_requires, then the pcap requirement, then check_skip.
  const requires = isMap(config.requires) ? config.requires : {};
  const unmet = checkRequires(requires, running, features);
  if (unmet !== null) throw skip(unmet.category, unmet.reason);
  const testVersion: TestVersion = {};
  if ('min-version' in requires) testVersion.min = requires['min-version'];
  if ('lt-version' in requires) testVersion.lt = requires['lt-version'];
  if ('gt-version' in requires) testVersion.gt = requires['gt-version'];
  if ('version' in requires) testVersion.eq = requires.version;
  const pcapRequired = !('command' in config) && requires.pcap !== false && !('pcap' in config && !config.pcap);
  const pcap = findPcap(tc.dir, config);
  if (pcap.error !== undefined) throw fail('runner', pcap.error);
  if (pcapRequired && pcap.path === null) throw skip('no-pcap', 'No pcap file found');
  const skipConf = config.skip;
  if (skipConf === true) throw skip('requires', 'skipped by default');
  if (Array.isArray(skipConf)) {
    for (const s of skipConf) {
      if (!isMap(s)) continue;
      if ('uid' in s && typeof process.getuid === 'function' && process.getuid() === Number(s.uid)) throw skip('requires', s.msg !== undefined ? String(s.msg) : `not for uid ${String(s.uid)}`);
      if ('feature' in s && features.has(String(s.feature))) throw skip('requires', s.msg !== undefined ? String(s.msg) : `not for feature ${String(s.feature)}`);
    }
  }
  if ('command' in config) throw skip('command', 'runs its own command line instead of Suricata on a capture');
  for (const k of ['setup', 'pre-check'] as const) if (k in config) throw skip('shell', `${k} runs a shell script, which the runner does not run`);

  // The command line run.py would build: test args (with ${TEST_DIR}), then the fixed options.
  const args = commandArgs(config, tc.dir);
  const sets: Array<[string, string]> = [];
  const flags: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--set' && i + 1 < args.length) {
      const kv = args[++i]!;
      const eq = kv.indexOf('=');
      if (eq > 0) sets.push([kv.slice(0, eq), kv.slice(eq + 1)]);
    } else if (a.startsWith('--set=')) {
      const kv = a.slice('--set='.length);
      const eq = kv.indexOf('=');
      if (eq > 0) sets.push([kv.slice(0, eq), kv.slice(eq + 1)]);
    } else if (a === '-k' && i + 1 < args.length) {
      i++; // checksum validation: Outpost does not drop packets for bad checksums either way
    } else flags.push(a);
  }

  const ruleFiles = findRuleFiles(tc.dir);
  if (ruleFiles.some((f) => basename(f) === 'firewall.rules')) throw skip('firewall', 'firewall mode (firewall.rules): Outpost has no firewall rule set');
  const ips = tc.basename.includes('ips') || flags.includes('--simulate-ips');
  if (ips) throw skip('ips', `IPS mode${flags.includes('--simulate-ips') ? ' (--simulate-ips)' : ' ("ips" in the test name)'}: Outpost is a passive sensor`);
  const simulate = flags.find((f) => f.startsWith('--simulate-'));
  if (simulate !== undefined) throw skip('qa-simulation', `QA simulation ${simulate.split('=')[0]}: Suricata's memcap/error injection, which Outpost does not have`);
  const policyArg = sets.find(([k]) => k === 'exception-policy' || /-policy$/.test(k));
  if (policyArg !== undefined) throw skip('exception-policy', `exception policy ${policyArg[0]}=${policyArg[1]}: Outpost has no exception policies`);

  // The configuration: the test's suricata.yaml replaces Suricata's default one.
  const localYaml = join(tc.dir, 'suricata.yaml');
  let tree: YamlMap;
  try {
    tree = existsSync(localYaml) ? loadSuricataYaml(localYaml) : defaultSuricataYaml();
  } catch (err) {
    if (err instanceof SuricataYamlError) throw fail('runner', err.message);
    throw err;
  }
  const etc = join(options.root, '..', 'etc');
  const classificationFile = join(etc, 'classification.config');
  for (const [k, v] of sets) setConfigValue(tree, k, v);
  if (isMap(tree.firewall) && isTrue(tree.firewall.enabled)) throw skip('firewall', 'firewall mode (firewall.enabled in suricata.yaml): Outpost has no firewall rule set');
  let settings: SuricataSettings;
  try {
    settings = extractSettings(tree);
  } catch (err) {
    throw fail('runner', `suricata.yaml: ${(err as Error).message}`);
  }
  const order = tree['action-order'];
  if (Array.isArray(order) && order.join(',') !== 'pass,drop,reject,alert') notes.push(`action-order ${order.join(',')} ignored: Outpost orders pass, drop, reject, alert`);
  if (settings.exceptionPolicies.length > 0) throw skip('exception-policy', `exception policy ${settings.exceptionPolicies[0]}: Outpost has no exception policies`);
  for (const f of flags) if (!IGNORED_FLAGS.has(f) && !f.startsWith('--runmode')) notes.push(`option ignored: ${f}`);
  for (const [k, v] of sets) {
    if (SAME_AS_OUTPOST.has(`${k}=${v}`) || ['packet-alert-max', 'threshold-file'].includes(k) || k.startsWith('vars.') || k.startsWith('outputs.') || HTTP_LIMIT_SETTINGS.has(k)) continue;
    notes.push(k === 'stream.midstream' ? `${k}=${v} ignored: Outpost always picks up sessions mid-stream` : `setting ignored: ${k}=${v}`);
  }

  // The checks, gated by their own version requirements.
  const rawChecks = Array.isArray(config.checks) ? config.checks : [];
  const plans = planChecks(rawChecks, running, features, testVersion);
  const live = plans.filter((p) => p.skipped === null);
  const crash = live.find((p) => p.crash !== null);
  if (crash !== undefined) throw fail('crash', `test.yaml check #${crash.index + 1}: ${crash.crash!} (run.py fails this test too)`);
  const liveFilters = live.filter((p) => p.kind === 'filter' && isMap(p.spec)).map((p) => p.spec as Record<string, unknown>);
  for (const p of live) {
    if (p.kind === 'file-compare') throw skip('file-compare', 'file-compare check: compares an output file Outpost does not write');
    if (p.kind === 'shell') {
      const cmd = isMap(p.spec) ? String(p.spec.args ?? '') : '';
      if (answerShell(cmd, { fastLog: [] }) === null) throw skip('shell', `shell check not supported: ${cmd}`);
    }
    if (p.kind === 'filter' && isMap(p.spec) && p.spec.filename !== undefined && String(p.spec.filename) === 'suricata.json') {
      throw skip('engine-log', "engine log (suricata.json) check: Outpost does not write Suricata's engine log");
    }
  }
  const verdict = verdictCheck(liveFilters);
  if (verdict !== null) throw skip('ips', `IPS mode (${verdict}): Outpost is a passive sensor`);
  const statsKeys = live.filter((p) => p.kind === 'stats' && isMap(p.spec)).flatMap((p) => Object.keys(p.spec as object));
  const filterStatKeys = liveFilters.filter((f) => f.count !== 0 && isMap(f.match)).flatMap((f) => Object.keys(f.match as object).filter((k) => k.startsWith('stats.')));
  const internal = [...statsKeys, ...filterStatKeys].find(engineInternalStat);
  if (internal !== undefined) throw skip('engine-internal', `checks Suricata's internal counter ${internal.replace(/^stats\./, '')}`);

  // Rules: none means detection off; minX.rules only from version X; two files is firewall mode.
  let ruleFile: string | null = null;
  if (ruleFiles.length === 1) {
    const f = ruleFiles[0]!;
    const b = basename(f);
    if (!b.startsWith('min') || versionCompatible(b.slice(3, -'.rules'.length), running, 'gte')) ruleFile = f;
  } else if (ruleFiles.length === 2) {
    throw fail('runner', `multi rule file should have firewall.rules and td.rules. Got ${ruleFiles.map((f) => basename(f)).join(' ')}`);
  } else if (ruleFiles.length > 2) throw fail('runner', 'More than 1 rule file found');

  // What the rules and checks need of the application layer.
  const needs = emptyNeeds();
  const ruleText = ruleFile === null ? '' : readFileSync(ruleFile, 'latin1');
  ruleAppNeeds(ruleText, needs);
  checkAppNeeds(liveFilters, statsKeys, needs);
  const appReason = appNeedsReason(needs, analyzedNames(createProtocols().filter((p) => p.followOnly !== true).map((p) => p.name)));

  const classifications = existsSync(classificationFile) ? parseClassificationConfig(readFileSync(classificationFile, 'utf8'), classificationFile).classes : defaultClassifications();
  let ruleset: RuleSet | null = null;
  if (ruleFile !== null) {
    try {
      ruleset = RuleSet.load([ruleFile], { vars: settings.vars, classifications });
    } catch (err) {
      throw fail('rule-error', `${basename(ruleFile)}: ${(err as Error).message}`);
    }
  }
  const errors = ruleset?.report.errors ?? [];
  const errorText = errors.map((e) => `${basename(e.file)}:${e.line}${e.column !== undefined ? `:${e.column}` : ''}: ${e.message}`);
  if (appReason !== null) {
    if (errorText.length > 0) notes.push(...errorText.map((e) => `rule error: ${e}`));
    throw skip('app-layer', appReason);
  }
  const expectedExit = config['exit-code'] === undefined ? 0 : Number(config['exit-code']);
  // --init-errors-fatal: a rule Suricata would load but Outpost refuses stops the run.
  if (errorText.length > 0 && expectedExit === 0) throw fail('rule-error', `rule not loaded: ${errorText.join('; ')}`);
  const unsupported = Object.entries(ruleset?.report.unsupported ?? {});
  if (unsupported.length > 0) {
    const [kw, n] = unsupported.sort((a, b) => b[1] - a[1])[0]!;
    if (kw === 'lua' || kw === 'luajit') throw skip('lua', `needs Lua (${kw} keyword)`);
    if (kw === 'dataset' || kw === 'datarep') throw skip('datasets', `needs datasets (${kw} keyword)`);
    const more = unsupported.length > 1 ? ` (also ${unsupported.slice(1).map(([k]) => k).join(', ')})` : '';
    throw skip('unsupported-keyword', `unsupported keyword: ${kw} (${n} rule${n > 1 ? 's' : ''})${more}`);
  }
  if (pcap.path === null) throw skip('no-pcap', 'runs Suricata without a capture');
  let encaps: Map<string, number>;
  try {
    encaps = await scanEncapsulations(pcap.path);
  } catch (err) {
    if (err instanceof CaptureOpenError) throw fail('capture', err.message);
    throw err;
  }
  if (encaps.size > 0) {
    const [what, n] = [...encaps.entries()].sort((a, b) => b[1] - a[1])[0]!;
    throw skip('encapsulation', what.startsWith('link type') ? `${what} is not decoded` : `needs ${what} decapsulation (${n} frame${n > 1 ? 's' : ''}): Outpost does not decode tunnels yet`);
  }

  // Thresholds: threshold.config when the configuration names one.
  let thresholds: ThresholdConfig | null = null;
  if (settings.thresholdFile !== null) {
    const file = settings.thresholdFile.replaceAll('${TEST_DIR}', tc.dir);
    if (existsSync(file)) {
      thresholds = parseThresholdConfig(readFileSync(file, 'utf8'), file, settings.vars);
      if (thresholds.problems.length > 0) throw fail('rule-error', `threshold.config not loaded: ${thresholds.problems.map((p) => `${basename(p.file)}:${p.line}: ${p.message}`).join('; ')}`);
    } else notes.push(`threshold file absent: ${settings.thresholdFile}`);
  }

  // The run.
  const events: Array<Record<string, unknown>> | null = settings.eve === null ? null : [];
  const fastLog: string[] | null = settings.fastLog ? [] : null;
  const eve = settings.eve;
  const out = (ev: EveEvent): void => {
    if (events === null || eve === null) return;
    if (ev.event_type === 'anomaly') {
      if (!eve.types.has('anomaly') || !eve.anomaly[ev.anomaly.type]) return;
    } else if (!eve.types.has(EVE_TYPE_OPTION[ev.event_type] ?? ev.event_type)) return;
    const record = JSON.parse(JSON.stringify(ev)) as Record<string, unknown>;
    if (!eve.ipv6Compress) expandIpv6Fields(record);
    events.push(record);
  };
  const pipelineOptions: PipelineOptions = {
    flow: { idSalt: 1, ...hostPolicyOption(settings, notes) },
    app: { protocols: createProtocols(undefined, { dnsVersion: dnsVersionOf(config, settings.eve?.dnsVersion ?? 3), httpLimits: settings.httpLimits }) },
    emit: { flow: eve?.types.has('flow') ?? false, anomaly: eve !== null && eve.types.has('anomaly') && (eve.anomaly.decode || eve.anomaly.stream) },
  };
  if (ruleset !== null && errors.length === 0) {
    pipelineOptions.detect = {
      rules: ruleset.rules,
      engine: {
        packetAlertMax: settings.packetAlertMax,
        ...(settings.chunkSize !== null ? { chunkSize: settings.chunkSize } : {}),
      },
      alert: {
        categories: ruleset.ctx.classifications,
        payload: eve?.alert.payload ?? false,
        payloadPrintable: eve?.alert.payloadPrintable ?? false,
        packet: eve?.alert.packet ?? false,
        ethernet: eve?.ethernet ?? false,
        ...(eve?.alert.xff != null ? { xff: eve.alert.xff } : {}),
      },
      ...(thresholds !== null ? { thresholds } : {}),
      ...(fastLog !== null ? { fastLog: (line: string) => fastLog.push(line) } : {}),
    };
  }
  if (errors.length === 0) {
    const pipeline = new Pipeline(out, pipelineOptions);
    const stats = new StatsCollector(pipeline);
    let summary;
    try {
      summary = await readCapture(await openByteSource(pcap.path), stats.frame);
    } catch (err) {
      if (err instanceof CaptureOpenError) throw fail('capture', err.message);
      throw err;
    }
    if (summary.damage !== null) notes.push(`capture damaged: ${summary.damage.message.replace(tc.dir + '/', '')} (the frames before it were read, as Suricata reads them)`);
    pipeline.finish();
    if (events !== null && eve !== null && eve.types.has('stats') && settings.statsEnabled) events.push(stats.record());
    if (options.outputDir !== undefined) {
      const dir = join(options.outputDir, tc.name);
      mkdirSync(dir, { recursive: true });
      if (events !== null) writeFileSync(join(dir, 'eve.json'), events.map((e) => `${JSON.stringify(e)}\n`).join(''));
      if (fastLog !== null) writeFileSync(join(dir, 'fast.log'), fastLog.map((l) => `${l}\n`).join(''));
    }
  } else if (expectedExit !== 1) {
    throw fail('exit-code', `got exit code 1, expected ${expectedExit}`);
  }
  if (errors.length === 0 && expectedExit !== 0) throw fail('exit-code', `got exit code 0, expected ${expectedExit}`);

  // The checks.
  const failures: string[] = [];
  for (const p of plans) {
    if (p.skipped !== null) {
      counts.skipped++;
      continue;
    }
    let message: string | null;
    try {
      message = evaluate(p, events, fastLog);
    } catch (err) {
      if (err instanceof CheckCrash) throw fail('crash', `check #${p.index + 1} (${p.kind}): internal runtime error in run.py's terms: ${err.message}`);
      throw err;
    }
    if (message === null) counts.passed++;
    else {
      counts.failed++;
      failures.push(`#${p.index + 1} ${message}`);
    }
  }
  if (failures.length > 0) throw fail('check', failures.join(' | '));
  if (counts.skipped > 0 && counts.passed === 0) {
    throw skip('version', `every check is for another version (${plans.map((p) => p.skipped).filter((s) => s !== null).join('; ')})`);
  }
}

/** Splits the test's args as run.py does (on each whitespace character) and substitutes ${TEST_DIR}. */
function commandArgs(config: YamlMap, dir: string): string[] {
  const out: string[] = [];
  if (!Array.isArray(config.args)) return out;
  for (const a of config.args) {
    for (const t of String(a).split(/\s/)) {
      if (t === '') continue;
      out.push(t.replaceAll('${TEST_DIR}', dir));
    }
  }
  return out;
}

/** run.py's check_requires: the first requirement not met, or null. An unknown key fails the test, as run.py raises. */
function checkRequires(req: YamlMap, running: Version, features: ReadonlySet<string>): { category: string; reason: string } | null {
  for (const [key, value] of Object.entries(req)) {
    switch (key) {
      case 'min-version':
        if (!versionCompatible(value, running, 'gte')) return { category: 'version', reason: `requires at least version ${pyStr(value)}` };
        break;
      case 'lt-version':
        if (!versionCompatible(value, running, 'lt')) return { category: 'version', reason: `for version less than ${pyStr(value)}` };
        break;
      case 'gt-version':
        if (!versionCompatible(value, running, 'gt')) return { category: 'version', reason: `for version greater than ${pyStr(value)}` };
        break;
      case 'version':
        if (!versionCompatible(value, running, 'equal')) return { category: 'version', reason: `only for version ${pyStr(value)}` };
        break;
      case 'features':
        for (const f of Array.isArray(value) ? value : [value]) {
          if (!features.has(String(f))) return { category: 'feature', reason: `requires feature ${String(f)}` };
        }
        break;
      case 'env':
        for (const e of Array.isArray(value) ? value : [value]) {
          if (!(String(e) in process.env)) return { category: 'requires', reason: `requires env var ${String(e)}` };
        }
        break;
      case 'files':
        for (const f of Array.isArray(value) ? value : [value]) return { category: 'requires', reason: `requires file ${String(f)} of Suricata's source tree` };
        break;
      case 'script':
        for (const s of Array.isArray(value) ? value : [value]) return { category: 'requires', reason: `requires a script, which the runner does not run: ${String(s)}` };
        break;
      case 'lambda':
        return { category: 'requires', reason: `requires a Python expression, which the runner does not evaluate: ${String(value)}` };
      case 'os': {
        const os = process.platform === 'win32' ? 'windows' : process.platform;
        if (!os.startsWith(String(value).toLowerCase())) return { category: 'requires', reason: String(value) };
        break;
      }
      case 'arch': {
        const arch = process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : process.arch;
        if (!arch.startsWith(String(value).toLowerCase())) return { category: 'requires', reason: String(value) };
        break;
      }
      case 'pcap':
        break;
      default:
        throw fail('runner', `unknown requires type: ${key}`);
    }
  }
  return null;
}

/** Gates each check as run.py does before evaluating it. */
function planChecks(raw: unknown[], running: Version, features: ReadonlySet<string>, testVersion: TestVersion): PlannedCheck[] {
  const plans: PlannedCheck[] = [];
  raw.forEach((check, index) => {
    if (!isMap(check)) {
      plans.push({ index, kind: 'invalid', spec: check, skipped: null, crash: `not a mapping: ${show(check)}` });
      return;
    }
    for (const [kind, spec] of Object.entries(check)) {
      const plan: PlannedCheck = { index, kind, spec, skipped: null, crash: null };
      plans.push(plan);
      try {
        if (kind === 'filter') {
          const s = isMap(spec) ? spec : {};
          const req: YamlMap = isMap(s.requires) ? { ...s.requires } : {};
          if (s.version !== undefined) req.version = s.version;
          if (s['min-version'] !== undefined) req['min-version'] = s['min-version'];
          if (s['lt-version'] !== undefined) req['lt-version'] = s['lt-version'];
          const conflict = versionConflict(req, testVersion);
          if (conflict !== null) {
            plan.crash = conflict;
            continue;
          }
          if (s.feature !== undefined) req.features = [s.feature];
          plan.skipped = checkRequires(req, running, features)?.reason ?? null;
        } else if (kind === 'shell') {
          const s = isMap(spec) ? spec : {};
          const req: YamlMap = {};
          if (s.version !== undefined) req.version = s.version;
          if (s['min-version'] !== undefined) req['min-version'] = s['min-version'];
          if (s['lt-version'] !== undefined) req['lt-version'] = s['lt-version'];
          plan.skipped = checkRequires(req, running, features)?.reason ?? null;
          if (plan.skipped === null && !isMap(spec)) plan.crash = 'shell check missing args';
        } else if (kind !== 'stats' && kind !== 'file-compare') {
          plan.crash = `unknown check type: ${kind}`;
        }
      } catch (err) {
        if (err instanceof Outcome) plan.crash = err.reason;
        else plan.crash = (err as Error).message;
      }
    }
  });
  return plans;
}

/** run.py's check_filter_test_version_compat: a check bound impossible or redundant given the test's own bounds. */
function versionConflict(req: YamlMap, tv: TestVersion): string | null {
  for (const key of Object.keys(req)) {
    if (key === 'lt-version' && tv.min !== undefined) {
      const min = tv.min;
      const parsed = parseMin(min);
      if (parsed !== null && !versionCompatible(req[key], parsed, 'lt')) return `test requires min ${pyStr(min)} check requires lt-version ${pyStr(req[key])}`;
    } else if (key === 'min-version' && tv.min !== undefined) {
      if (pyEquals(req[key], tv.min)) return `test already requires min ${pyStr(tv.min)} not needed for the check ${pyStr(req[key])}`;
    }
  }
  return null;
}

function parseMin(v: unknown): Version | null {
  const m = /^(\d+)\.?(\d+)?\.?(\d+)?/.exec(pyStr(v).trim());
  return m === null ? null : { major: Number(m[1]), minor: Number(m[2] ?? 0), patch: Number(m[3] ?? 0) };
}

/** Evaluates one check: null when it holds, else what differed. Throws CheckCrash where run.py would raise. */
function evaluate(p: PlannedCheck, events: Array<Record<string, unknown>> | null, fastLog: string[] | null): string | null {
  const spec = p.spec;
  switch (p.kind) {
    case 'filter': {
      if (!isMap(spec)) throw new CheckCrash('filter is not a mapping');
      const filename = spec.filename === undefined ? 'eve.json' : String(spec.filename);
      if (filename !== 'eve.json' || events === null) return `${filename} does not exist`;
      if (!isMap(spec.match)) throw new CheckCrash("'NoneType' object has no attribute 'items' (filter without match)");
      const match = spec.match;
      const count = events.filter((e) => filterMatches(match, e)).length;
      if (pyEquals(count, spec.count)) return null;
      const what = spec.comment !== undefined ? `${String(spec.comment)} (filter ${show(match)})` : `filter ${show(match)}`;
      const why = typeof spec.count === 'number' && count < spec.count ? nearestMiss(match, events) : null;
      return `${what}: expected ${show(spec.count)}, got ${count}${why !== null ? ` (${why})` : ''}`;
    }
    case 'stats': {
      if (!isMap(spec)) throw new CheckCrash('stats check is not a mapping');
      let stats: unknown = NONE;
      for (const e of events ?? []) if (e.event_type === 'stats') stats = e.stats;
      if (stats === NONE) return 'stats: no stats record in eve.json';
      for (const [key, expected] of Object.entries(spec)) {
        const val = findValue(key, stats);
        if (!pyEquals(val, expected)) return val === NONE ? `stats.${key}: expected ${show(expected)}; Outpost keeps no such counter` : `stats.${key}: expected ${show(expected)}; got ${show(val)}`;
      }
      return null;
    }
    case 'shell': {
      if (!isMap(spec)) throw new CheckCrash('shell check missing args');
      const cmd = String(spec.args ?? '');
      const output = answerShell(cmd, { fastLog });
      if (output === null) return `shell check not supported: ${cmd}`;
      if (!('expect' in spec)) return null;
      return pyStr(spec.expect) === output.trim() ? null : `shell "${cmd}": expected ${pyStr(spec.expect)}, got ${output.trim()}`;
    }
    default:
      return `check type ${p.kind} not supported`;
  }
}

/** The receiving host's overlap policy from host-os-policy, best (longest) prefix first, when any is not bsd-like. */
function hostPolicyOption(settings: SuricataSettings, notes: string[]): { hostPolicy?: (p: Packet) => string | null } {
  const entries = settings.hostPolicies;
  const special = entries.filter((e) => !BSD_LIKE.has(e.policy));
  if (special.length === 0) return {};
  notes.push(`host-os-policy: ${special.map((e) => `${e.policy} for ${e.address}`).join(', ')}`);
  const sorted = [...entries].sort((a, b) => b.prefix - a.prefix);
  return {
    hostPolicy: (p: Packet) => {
      for (const e of sorted) if (e.matcher === null || e.matcher(p.addr, 4)) return e.policy;
      return null;
    },
  };
}

