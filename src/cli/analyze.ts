import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CaptureOpenError, openByteSource, readCapture, type CaptureSummary } from '../capture/index.js';
import { EveWriter } from '../events/writer.js';
import type { EveEvent } from '../events/types.js';
import type { VerdictEvent, VerdictRecord } from '../events/behaviour.js';
import { compileAddress } from '../rules/addresses.js';
import { createProtocols, type FileInfo } from '../protocols/index.js';
import { Pipeline } from '../sensor/pipeline.js';
import { Exit, UsageError } from './exit.js';
import { loadRuleSet } from './ruleload.js';
import { summaryText } from './read.js';

export const ANALYZE_USAGE = `usage: outpost analyze <capture>... --rules <file|dir>... [options]

Reads captures and runs them through the sensor: decoding, flows, stream reassembly, the
protocol analyzers and the rules. Writes DIR/eve.json (alert, flow, anomaly, http, dns, tls,
irc, ftp, tftp and fileinfo records) and DIR/fast.log (Suricata's format), and a summary to
standard error. Transferred files are kept only when the configuration's file-store is enabled.

options:
  -r, --rules PATH        a rule file or a directory of *.rules (repeatable)
  -c, --config FILE       configuration (see outpost.example.yaml); defaults apply without one
      --home-net CIDRS    HOME_NET, comma separated (EXTERNAL_NET follows as its negation unless set)
  -o, --out DIR           where eve.json and fast.log go (default: the current directory)
      --json-summary      print {"events": {type: n}, "alerts": {sid: n}, "verdicts": []} on standard output
      --payload           add payload (base64) to alerts; --payload-printable and --packet likewise
  -q, --quiet             no summary on standard error
  -h, --help              this help`;

export async function runAnalyze(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        rules: { type: 'string', short: 'r', multiple: true, default: [] },
        config: { type: 'string', short: 'c' },
        'home-net': { type: 'string' },
        out: { type: 'string', short: 'o', default: '.' },
        'json-summary': { type: 'boolean', default: false },
        payload: { type: 'boolean', default: false },
        'payload-printable': { type: 'boolean', default: false },
        packet: { type: 'boolean', default: false },
        quiet: { type: 'boolean', short: 'q', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const o = parsed.values;
  if (o.help) {
    process.stdout.write(`${ANALYZE_USAGE}\n`);
    return Exit.OK;
  }
  if (parsed.positionals.length === 0) throw new UsageError('no capture given');
  const { config, ruleset, thresholds, warnings } = loadRuleSet(o.rules, o.config, o['home-net']);
  for (const w of warnings) process.stderr.write(`outpost analyze: ${w}\n`);
  if (o.rules.length === 0 && config.ruleFiles.length === 0) throw new UsageError('no rules: give --rules PATH (or rule-files in the config)');
  const report = ruleset.report;
  if (!o.quiet) {
    process.stderr.write(`outpost analyze: ${report.loaded} rules loaded of ${report.total - report.disabled} enabled (${Object.values(report.unsupported).reduce((a, b) => a + b, 0)} unsupported, ${report.errors.length} errors; see outpost rules check)\n`);
  }

  mkdirSync(o.out, { recursive: true });
  const eveFd = openSync(join(o.out, 'eve.json'), 'w');
  const fastFd = openSync(join(o.out, 'fast.log'), 'w');
  const eve = new EveWriter(eveFd);
  const fast = new EveWriter(fastFd);
  const events = new Map<string, number>();
  const alerts = new Map<number, number>();
  /** The latest verdict per host. */
  const verdicts = new Map<string, VerdictEvent>();
  const out = (ev: EveEvent): void => {
    events.set(ev.event_type, (events.get(ev.event_type) ?? 0) + 1);
    if (ev.event_type === 'alert') alerts.set(ev.alert.signature_id, (alerts.get(ev.alert.signature_id) ?? 0) + 1);
    if (ev.event_type === 'verdict') verdicts.set(ev.verdict.host, ev);
    eve.write(ev);
  };
  const vars = ruleset.ctx.vars;
  const home = compileAddress('$HOME_NET', vars.addressGroups) ?? (() => true);
  const pipeline = new Pipeline(out, {
    flow: {
      streamPolicy: config.stream.overlapPolicy,
      maxFlows: config.stream.maxFlows,
      reassemblyMemcap: config.stream.reassemblyMemcap,
      timeouts: config.flowTimeouts,
    },
    defrag: { policy: config.defrag.overlapPolicy, timeout: config.defrag.timeout, memcap: config.defrag.memcap, maxTrackers: config.defrag.trackers },
    detect: {
      rules: ruleset.rules,
      engine: { packetAlertMax: config.packetAlertMax, chunkSize: config.stream.chunkSize },
      alert: {
        categories: ruleset.ctx.classifications,
        payload: o.payload || config.eve.payload,
        payloadPrintable: o['payload-printable'] || config.eve.payloadPrintable,
        packet: o.packet || config.eve.packet,
        ...(config.eve.xff !== null ? { xff: config.eve.xff } : {}),
      },
      fastLog: (line) => fast.writeLine(line),
      ...(thresholds !== null ? { thresholds } : {}),
    },
    app: {
      protocols: createProtocols(config.appProtocols, { dnsVersion: config.eve.dnsVersion, httpLimits: config.httpLimits }),
      fileStore: { enabled: config.fileStore.enabled, maxBytes: config.fileStore.maxSize },
      storeFile: (info) => storeFile(config.fileStore.dir, info),
    },
    behaviour: {
      home,
      detectors: config.behaviour.detectors,
      correlate: config.behaviour.correlate.enabled === false ? false : config.behaviour.correlate,
    },
  });

  const started = process.hrtime.bigint();
  const summaries: CaptureSummary[] = [];
  let code: number = Exit.OK;
  try {
    for (const path of parsed.positionals) {
      try {
        summaries.push(await readCapture(await openByteSource(path), pipeline.frame));
      } catch (err) {
        if (!(err instanceof CaptureOpenError)) throw err;
        process.stderr.write(`outpost analyze: ${err.message}\n`);
        code = Math.max(code, Exit.INPUT);
      }
    }
    pipeline.finish();
  } finally {
    eve.flush();
    fast.flush();
    closeSync(eveFd);
    closeSync(fastFd);
  }
  for (const s of summaries) if (s.damage !== null) process.stderr.write(`outpost analyze: ${s.damage.message}\n`);
  if (summaries.some((s) => s.damage !== null) && code === Exit.OK) code = Exit.DAMAGED;
  if (!o.quiet) {
    process.stderr.write(summaryText(pipeline, summaries, Number(process.hrtime.bigint() - started) / 1e9));
    const top = [...alerts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10);
    const total = [...alerts.values()].reduce((a, b) => a + b, 0);
    process.stderr.write(`  alerts: ${total}${top.length > 0 ? ` (by sid: ${top.map(([sid, n]) => `${sid} ${n}`).join(', ')})` : ''}\n`);
    const behaviour = ['scan', 'flood', 'ircbot', 'backdoor', 'pct'].filter((t) => events.has(t));
    if (behaviour.length > 0) process.stderr.write(`  behaviour: ${behaviour.map((t) => `${t} ${events.get(t)!}`).join(', ')}\n`);
    for (const v of verdicts.values()) process.stderr.write(storyOf(v));
    process.stderr.write(`  written: ${join(o.out, 'eve.json')}, ${join(o.out, 'fast.log')}\n`);
  }
  if (o['json-summary']) {
    const summary = {
      events: Object.fromEntries(events),
      alerts: Object.fromEntries([...alerts.entries()].map(([sid, n]) => [String(sid), n])),
      verdicts: [...verdicts.values()].map((v) => verdictSummary(v.verdict)),
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  }
  return code;
}

/**
 * Writes a kept file to the store as Suricata's file-store does: named by its SHA-256 under a
 * directory of its first two hex digits, readable by the owner only and never executable.
 */
function storeFile(dir: string, info: FileInfo): void {
  const sub = join(dir, info.sha256.slice(0, 2));
  mkdirSync(sub, { recursive: true, mode: 0o700 });
  writeFileSync(join(sub, info.sha256), info.content!, { mode: 0o600 });
}

/** A verdict as --json-summary lists it: the record without its evidence list, plus the stages. */
function verdictSummary(v: VerdictRecord): Record<string, unknown> {
  const { evidence: _evidence, ...rest } = v;
  return rest;
}

/** A host's story in a few lines, in time order: the verdict, then one line per piece of evidence. */
function storyOf(ev: VerdictEvent): string {
  const v = ev.verdict;
  const cc = v.cc !== undefined ? `, C&C ${v.cc.ip}:${v.cc.port}${v.cc.channel !== undefined ? ` ${v.cc.channel}` : ''}` : '';
  const lines = [`  ${v.host}: ${v.verdict.toUpperCase()} (confidence ${v.confidence}, stages ${v.stages.join(' ')}${cc})`];
  for (const e of v.evidence.slice(0, 12)) lines.push(`    ${e.timestamp.slice(0, 19).replace('T', ' ')}  ${e.stage.padEnd(8)} ${e.summary}`);
  if (v.evidence.length > 12) lines.push(`    ... ${v.evidence.length - 12} more (eve.json, seq ${v.evidence[12]!.seq ?? '?'} on)`);
  return `${lines.join('\n')}\n`;
}
