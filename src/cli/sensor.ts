import { parseArgs } from 'node:util';
import { ConfigError, defaultConfig, loadConfig, type Config } from '../config/config.js';
import { credentialsTooOpen, enroll, readCredentials, writeCredentials } from '../sensor/enroll.js';
import { startSensor, type RuntimeOptions, type SensorRuntime } from '../sensor/runtime.js';
import { Exit, UsageError } from './exit.js';

export const SENSOR_USAGE = `usage: outpost sensor [--config FILE] [--interface IFACE]... [--read FILE]... [--watch DIR] [options]
       outpost sensor enroll --collector https://HOST:PORT --token T [--name NAME] [--credentials FILE] [--ca-fingerprint SHA256] [--force]

Runs the sensor: live interfaces (through tcpdump), capture files and a directory watched for new
captures go through worker threads (decoding, flows, protocols, rules, behavioural detectors),
then the correlator; every record goes to the durable spool, to the local eve.json (rotated by
size) and, when the sensor is enrolled, to the collector. sensor_stats records and /healthz
report its health. Input flags replace the config's sensor.inputs; without credentials the sensor
runs local only (events wait in the spool, up to its disk budget).

options:
  -c, --config FILE       configuration (sensor: section; rules, vars, detectors as for analyze)
  -i, --interface IFACE   capture live from IFACE (repeatable)
  -r, --read FILE         read a capture file (repeatable; in order)
      --watch DIR         read new *.pcap, *.pcapng (and .gz) files dropped into DIR, once each
      --bpf FILTER        capture filter for the interfaces
      --rules PATH        rule file or directory beyond the config's rule-files (repeatable)
      --workers N         packet worker threads (default: sensor.workers, auto = cores - 1)
      --no-ship           local only, even when enrolled
      --drain-timeout S   with files only: seconds to wait for the spool to drain before exiting (default 30)
  -h, --help              this help

enroll options:
      --collector URL     https://HOST:PORT of the collector
      --token T           the token "outpost collector token create" printed
      --name NAME         this sensor's name (default sensor.name: the host name)
      --credentials FILE  where to keep the credentials (default sensor.credentials), mode 0600
      --ca-fingerprint H  the collector's CA SHA-256 (it prints it at start): checked before the token is sent
      --force             replace existing credentials

Exit codes: 0 stopped (SIGINT/SIGTERM) or the files are done; 1 the sensor failed, or (files
only) a capture was damaged or could not be read; 2 usage; 3 enrolment failed or the sensor could
not start.`;

export async function runSensor(argv: string[]): Promise<number> {
  if (argv[0] === 'enroll') return runEnroll(argv.slice(1));
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        interface: { type: 'string', short: 'i', multiple: true },
        read: { type: 'string', short: 'r', multiple: true },
        watch: { type: 'string' },
        bpf: { type: 'string' },
        rules: { type: 'string', multiple: true },
        workers: { type: 'string' },
        'no-ship': { type: 'boolean', default: false },
        'drain-timeout': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const o = parsed.values;
  if (o.help) {
    process.stdout.write(`${SENSOR_USAGE}\n`);
    return Exit.OK;
  }
  const config = configFrom(o.config);
  const workers = o.workers === undefined ? undefined : positive(o.workers, 'workers', 64);
  const drainS = o['drain-timeout'] === undefined ? 30 : positive(o['drain-timeout'], 'drain-timeout', 86400, true);
  const flagged = o.interface !== undefined || o.read !== undefined || o.watch !== undefined;
  const s = config.sensor;
  const inputs = flagged ? { interfaces: o.interface ?? [], files: o.read ?? [], watch: o.watch ?? null } : { interfaces: s.inputs.interfaces, files: s.inputs.files, watch: s.inputs.watch };
  if (inputs.interfaces.length === 0 && inputs.files.length === 0 && inputs.watch === null) throw new UsageError('no inputs: give --interface, --read or --watch (or sensor.inputs in the config)');
  const say = (line: string): void => void process.stderr.write(`outpost sensor: ${line}\n`);

  const ship = !o['no-ship'];
  if (ship) {
    let creds;
    try {
      creds = readCredentials(s.credentials);
    } catch (err) {
      say((err as Error).message);
      return Exit.INPUT;
    }
    if (creds === null) say(`not enrolled (no ${s.credentials}): running local only; events wait in ${s.spool.dir} up to ${formatBytes(s.spool.budget)} (outpost sensor enroll to ship them)`);
    else if (credentialsTooOpen(s.credentials)) say(`warning: ${s.credentials} is readable by others (it holds the signing secret): chmod 600 it`);
  }
  const options: RuntimeOptions = {
    inputs: { ...inputs, ...(o.bpf !== undefined ? { bpf: o.bpf } : {}) },
    ship,
    log: say,
    ...(workers !== undefined ? { workers } : {}),
    ...(o.rules !== undefined ? { rules: o.rules } : {}),
  };
  // Signals are caught from here on: one that comes while the sensor starts stops it once started.
  let signalled: string | null = null;
  let wake: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (wake = resolve));
  const onSignal = (name: NodeJS.Signals): void => {
    signalled = name;
    wake();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let sensor: SensorRuntime;
  try {
    sensor = await startSensor(config, options);
  } catch (err) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    say(`cannot start: ${(err as Error).message}`);
    return Exit.INPUT;
  }
  const r = sensor.rules;
  const what = [
    ...inputs.interfaces.map((i) => `interface ${i}`),
    ...(inputs.files.length > 0 ? [`${inputs.files.length} file${inputs.files.length === 1 ? '' : 's'}`] : []),
    ...(inputs.watch !== null ? [`watching ${inputs.watch}`] : []),
  ];
  const shipping = sensor.credentials !== null && sensor.shipper !== null ? `shipping to ${sensor.credentials.collector} as ${sensor.credentials.sensor_id}` : 'local only';
  say(`sensor running: ${sensor.workers} worker${sensor.workers === 1 ? '' : 's'}, inputs ${what.join(', ')}, ${r.loaded} rules, ${shipping}${sensor.health !== null ? `, health ${sensor.health.url}` : ''}`);
  for (const w of r.warnings) say(`rules: ${w}`);

  const finite = inputs.interfaces.length === 0 && inputs.watch === null;
  const onHup = (): void => sensor.reopenLogs();
  process.on('SIGHUP', onHup);
  let code: number = Exit.OK;
  try {
    // A failure settles `failed`; `ended` then never settles (a rejection here would escape the race).
    const ended = finite ? sensor.done.then(() => 'done' as const, () => new Promise<never>(() => undefined)) : new Promise<never>(() => undefined);
    const failed = sensor.done.then(
      () => new Promise<never>(() => undefined),
      (err: unknown) => err as Error,
    );
    const first = await Promise.race([ended, stopped.then(() => 'signal' as const), failed]);
    if (first instanceof Error) code = 1;
    else if (first === 'done' && sensor.shipper !== null) {
      const drained = await Promise.race([sensor.shipper.drain(drainS * 1000), stopped.then(() => false)]);
      const left = sensor.spool.stats().depth;
      if (!drained && left > 0) say(`${left} events not yet acknowledged by the collector stay in the spool (${sensor.spool.stats().lastError ?? sensor.shipper.state().lastError ?? 'drain timed out'}); they ship on the next start`);
    }
  } finally {
    if (signalled !== null) say(`${signalled}: stopping`);
    process.off('SIGHUP', onHup);
    await sensor.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const st = sensor.stats();
  if (finite && code === Exit.OK && (st.app_layer.captures_damaged ?? 0) > 0) code = Exit.DAMAGED;
  say(`stopped: ${st.packets} packets, ${[...sensor.recordCounts().values()].reduce((a, b) => a + b, 0)} records (seq up to ${st.next_seq - 1}), ${st.internal_drops} internal drops, ${st.capture_drops} capture drops`);
  return code;
}

async function runEnroll(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        collector: { type: 'string' },
        token: { type: 'string' },
        name: { type: 'string' },
        credentials: { type: 'string' },
        'ca-fingerprint': { type: 'string' },
        force: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const o = parsed.values;
  if (o.help) {
    process.stdout.write(`${SENSOR_USAGE}\n`);
    return Exit.OK;
  }
  if (o.collector === undefined) throw new UsageError('enroll: --collector https://HOST:PORT is required');
  if (o.token === undefined || o.token === '') throw new UsageError('enroll: --token is required (outpost collector token create prints one)');
  const config = configFrom(o.config);
  const path = o.credentials ?? config.sensor.credentials;
  const name = o.name ?? config.sensor.name;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw new UsageError(`enroll: --name "${name}": letters, digits, _ . - (up to 64)`);
  const say = (line: string): void => void process.stderr.write(`outpost sensor enroll: ${line}\n`);
  // Checked before the token is spent: a refusal afterwards would waste a one-use token.
  if (readCredentialsQuietly(path) && !o.force) {
    say(`${path} exists (this sensor is enrolled already); add --force to replace it`);
    return Exit.INPUT;
  }
  try {
    const result = await enroll({ collector: o.collector, token: o.token, name, caFingerprint: o['ca-fingerprint'] ?? null });
    writeCredentials(path, result.credentials, o.force);
    if (result.trust === 'first-use') {
      say(`trusted on first use: the collector's CA has SHA-256 ${result.fingerprint}`);
      say('compare it with the fingerprint the collector printed at start ("CA SHA-256 ..."); if they differ, delete the credentials and revoke this sensor');
    } else say(`the collector's CA matches ${result.fingerprint}`);
    say(`enrolled as ${result.credentials.sensor_id} (${name}) with ${result.credentials.collector}; credentials in ${path} (mode 0600)`);
    return Exit.OK;
  } catch (err) {
    say((err as Error).message);
    return Exit.INPUT;
  }
}

function readCredentialsQuietly(path: string): boolean {
  try {
    return readCredentials(path) !== null;
  } catch {
    return true; // a damaged file is still a file --force must agree to replace
  }
}

function configFrom(path: string | undefined): Config {
  try {
    return path === undefined ? defaultConfig() : loadConfig(path);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
}

function positive(v: string, name: string, max: number, zero = false): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < (zero ? 0 : 1) || n > max) throw new UsageError(`--${name}: "${v}" is not a whole number from ${zero ? 0 : 1} to ${max}`);
  return n;
}

function formatBytes(n: number): string {
  return n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(1)} GiB` : n >= 1024 ** 2 ? `${(n / 1024 ** 2).toFixed(0)} MiB` : `${n} bytes`;
}
