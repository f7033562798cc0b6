#!/usr/bin/env node
import { Exit, UsageError } from './exit.js';
import { ANALYZE_USAGE, runAnalyze } from './analyze.js';
import { COLLECTOR_USAGE, runCollector } from './collector.js';
import { CONFORMANCE_USAGE, runConformance } from './conformance.js';
import { EXPORT_USAGE, IMPORT_USAGE, runExport, runImport } from './dshield.js';
import { HONEYPOT_USAGE, runHoneypot } from './honeypot.js';
import { READ_USAGE, runRead } from './read.js';
import { RULES_USAGE, runRules } from './rules.js';
import { runScan, SCAN_USAGE } from './scan.js';
import { runSensor, SENSOR_USAGE } from './sensor.js';
import { runUp, UP_USAGE } from './up.js';

const USAGE = `usage: outpost <command> [options]

commands:
  up        run the network on one machine: a collector and a local sensor (the demo by default)
  sensor    run a sensor: inputs through worker threads, spool, ship to the collector; enroll
  collector run the collector (HTTPS API, store, rollups); make tokens, list and revoke sensors
  import    import records into the collector's store (import dshield FILE)
  export    export a day's records (export dshield --date D)
  read      read captures or live traffic; write EVE flow and anomaly records
  analyze   run captures through decoding, flows and rules; write eve.json and fast.log
  rules     check rule files (rules check), list supported keywords (rules keywords)
  conformance  run suricata-verify tests against Outpost; pass/fail/skip per test
  honeypot  emulate a PCT-enabled SSL service and listeners; write honeypot records
  scan      find PCT-enabled and legacy-SSL servers (loopback unless --scope); say how to fix them
  help      this help ("outpost <command> --help" for one command)

See README.md and docs/cli.md.`;

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; usage: string }> = {
  read: { run: runRead, usage: READ_USAGE },
  analyze: { run: runAnalyze, usage: ANALYZE_USAGE },
  rules: { run: runRules, usage: RULES_USAGE },
  conformance: { run: runConformance, usage: CONFORMANCE_USAGE },
  honeypot: { run: runHoneypot, usage: HONEYPOT_USAGE },
  scan: { run: runScan, usage: SCAN_USAGE },
  up: { run: runUp, usage: UP_USAGE },
  sensor: { run: runSensor, usage: SENSOR_USAGE },
  collector: { run: (argv) => runCollector(argv), usage: COLLECTOR_USAGE },
  import: { run: runImport, usage: IMPORT_USAGE },
  export: { run: runExport, usage: EXPORT_USAGE },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return name === undefined ? Exit.USAGE : Exit.OK;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    process.stderr.write(`outpost: unknown command "${name}"\n\n${USAGE}\n`);
    return Exit.USAGE;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`outpost ${name}: ${err.message}\n\n${command.usage}\n`);
      return Exit.USAGE;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`outpost: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 70;
  },
);
