import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createToken } from '../collector/auth.js';
import { collectorOptions, parseListen, startCollector, type Collector } from '../collector/server.js';
import { openStore } from '../collector/store/index.js';
import type { Store } from '../collector/store/store.js';
import { ConfigError, defaultConfig, loadConfig, type Config } from '../config/config.js';
import { enroll, readCredentials, writeCredentials } from '../sensor/enroll.js';
import { startSensor, type SensorRuntime } from '../sensor/runtime.js';
import type { SensorCredentials } from '../api/contract.js';
import { Exit, UsageError } from './exit.js';

export const UP_USAGE = `usage: outpost up [--config FILE] [--data DIR] [--listen HOST:PORT] [--interface IFACE]... [--read FILE]...

Runs the whole network on one machine: a collector (SQLite in DIR, ./data by default), and a
local sensor enrolled with it automatically. Without --interface or --read, the sensor replays
the bundled seed scenario (demo/seed.pcap: the 2004 bot's scan, PCT exploit, egg, IRC C&C,
propagation and flood) once; a later start keeps what is stored and does not replay it again
(remove DIR to start over). The last start-up line says where to look:

  Outpost is up: https://127.0.0.1:8443/

It runs until SIGINT or SIGTERM.

options:
      --config FILE       configuration file (sensor: and collector: sections, rules, vars)
      --data DIR          the collector's data directory and the sensor's spool (default ./data)
      --listen HOST:PORT  the collector's HTTPS address (default 127.0.0.1:8443; port 0: any free)
  -i, --interface IFACE   watch live traffic (through tcpdump) instead of the demo; repeatable
  -r, --read FILE         read a capture instead of the demo; repeatable
      --healthz ADDR      the sensor's /healthz (HOST:PORT, or off; default sensor.healthz)
  -h, --help              this help

Exit codes: 0 stopped by a signal, 1 the collector or sensor failed to start, 2 usage.`;

/** The package root (dist/src/cli/ → ../../..). */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** The bundled demo (written by `npm install`'s prepare step). */
const DEMO = join(ROOT, 'demo', 'seed.pcap');
const DEMO_RULES = join(ROOT, 'rules', 'outpost.rules');
/** In the data directory: the demo was replayed into this store (its replay is not repeated). */
const DEMO_MARK = 'demo-replayed';

/** `outpost up`. */
export async function runUp(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        data: { type: 'string' },
        listen: { type: 'string' },
        interface: { type: 'string', short: 'i', multiple: true },
        read: { type: 'string', short: 'r', multiple: true },
        healthz: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const o = parsed.values;
  if (o.help) {
    process.stdout.write(`${UP_USAGE}\n`);
    return Exit.OK;
  }
  let config: Config;
  try {
    config = o.config !== undefined ? loadConfig(o.config) : defaultConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`outpost up: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  if (o.listen !== undefined) {
    try {
      parseListen(o.listen);
    } catch (err) {
      throw new UsageError(`--listen: ${(err as Error).message}`);
    }
  }
  const data = resolve(o.data ?? config.collector.data);
  const listen = o.listen ?? config.collector.listen;
  const say = (line: string): void => void process.stderr.write(`${line}\n`);

  let store: Store | null = null;
  let collector: Collector | null = null;
  let sensor: SensorRuntime | null = null;
  const shutdown = async (): Promise<void> => {
    await sensor?.stop().catch(() => undefined);
    await collector?.close().catch(() => undefined);
    await store?.close().catch(() => undefined);
  };
  try {
    store = await openStore({ data, database: config.collector.database });
    collector = await startCollector({ ...collectorOptions({ ...config.collector, data, listen }, store), listen, data });
    say(`collector: ${collector.url} (${store.engine} store in ${config.collector.database === null ? data : 'PostgreSQL'}); CA SHA-256 ${collector.caFingerprint}`);

    const credentials = await localSensor(store, collector, join(data, 'sensor-credentials.json'));
    say(`sensor: ${credentials.sensor_id} (${credentials.name}), enrolled with ${credentials.collector}`);

    const live = o.interface ?? [];
    const files = o.read ?? [];
    const demo = live.length === 0 && files.length === 0;
    const replay = demo && !existsSync(join(data, DEMO_MARK));
    if (demo && !replay) say(`demo: already replayed into this store (remove ${data} to start over)`);
    if (replay && !existsSync(DEMO)) {
      say(`outpost up: the demo capture ${DEMO} is missing; npm install writes it (npm run prepare)`);
      return 1;
    }
    sensor = await startSensor(
      {
        ...config,
        sensor: { ...config.sensor, credentials: join(data, 'sensor-credentials.json'), spool: { ...config.sensor.spool, dir: join(data, 'spool') }, eve: { ...config.sensor.eve, path: join(data, 'eve.json') } },
      },
      {
        inputs: { interfaces: live, files: replay ? [DEMO] : files, watch: null },
        ...(demo && config.ruleFiles.length === 0 ? { rules: [DEMO_RULES] } : {}),
        ...(o.healthz !== undefined ? { healthz: o.healthz === 'off' ? null : o.healthz } : {}),
      },
    );
    if (replay || files.length > 0) {
      await sensor.done;
      const drained = (await sensor.shipper?.drain(60_000)) ?? false;
      if (replay) writeFileSync(join(data, DEMO_MARK), `${new Date().toISOString()}\n`);
      await store.rollup(Date.now());
      const counts = await store.counts();
      const verdicts = await store.verdicts(10);
      say(`replayed ${replay ? 'the seed scenario' : files.join(', ')}: ${counts.events} events stored${drained ? '' : ' (some still spooled: shipping goes on)'}`);
      for (const v of verdicts) {
        const latest = v.verdicts[0] as { verdict?: { verdict?: string; stages?: string[] } } | undefined;
        if (latest?.verdict !== undefined) say(`  verdict: ${v.host} is ${latest.verdict.verdict ?? '?'} (${(latest.verdict.stages ?? []).join(' ')})`);
      }
    } else {
      say(`sensor: watching ${live.join(', ')}`);
    }
    say(`API: ${collector.url}/api/docs (OpenAPI), ${collector.url}/api/v1/events, ${collector.url}/api/v1/top/ports?date=YYYY-MM-DD, ${collector.url}/metrics`);
    say(`Outpost is up: ${collector.url}/`);
  } catch (err) {
    say(`outpost up: ${(err as Error).message}`);
    await shutdown();
    return 1;
  }

  await new Promise<void>((resolveStop) => {
    const stop = (): void => resolveStop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  say('outpost up: stopping');
  await shutdown();
  return Exit.OK;
}

/**
 * The local sensor's credentials: kept from an earlier start when this store still knows the
 * sensor (the collector's address is updated: --listen may have changed it), else a fresh
 * enrolment with a one-use token, pinned to the CA the collector just reported.
 */
async function localSensor(store: Store, collector: Collector, path: string): Promise<SensorCredentials> {
  const known = readCredentials(path);
  if (known !== null && known.ca === collector.caPem) {
    const row = await store.getSensor(known.sensor_id);
    if (row !== undefined && row.revoked === null && row.secret === known.secret) {
      if (known.collector === collector.url) return known;
      const moved = { ...known, collector: collector.url };
      writeCredentials(path, moved, true);
      return moved;
    }
  }
  const token = await createToken(store, { expires: Date.now() + 600_000, uses: 1 });
  const { credentials } = await enroll({ collector: collector.url, token, name: 'local', caFingerprint: collector.caFingerprint });
  writeCredentials(path, credentials, true);
  return credentials;
}
