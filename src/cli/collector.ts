import { parseArgs } from 'node:util';
import { ConfigError, defaultConfig, loadConfig, type CollectorConfig } from '../config/config.js';
import { createToken } from '../collector/auth.js';
import { collectorOptions, parseListen, startCollector } from '../collector/server.js';
import { openStore } from '../collector/store/index.js';
import type { Store } from '../collector/store/store.js';
import { Exit, UsageError } from './exit.js';

export const COLLECTOR_USAGE = `usage: outpost collector [--config FILE] [--data DIR] [--database URL] [--listen HOST:PORT]
       outpost collector token create [--data DIR | --database URL] [--expires 24h] [--uses N]
       outpost collector sensor revoke ID [--data DIR | --database URL]
       outpost collector sensor list [--data DIR | --database URL] [--json]

Runs the collector: an HTTPS API (docs/network.md) where sensors enrol and ship their events,
a store (SQLite at DIR/outpost.db, or PostgreSQL with --database), rollups and retention, the
query API and /metrics. On first start it makes its own CA and server certificate under
DIR/pki/ (unless collector.tls names its own); it prints the CA's SHA-256 fingerprint, which
sensors can check at enrolment. It runs until SIGINT or SIGTERM.

  token create     makes an enrolment token and prints it (only it) on stdout; good for --uses
                   enrolments (default 1) until --expires (default 24h; 30m, 12h, 7d, or never)
  sensor revoke    refuses the sensor's requests from now on, on every collector of the store
  sensor list      enrolled sensors: id, name, last seen, acknowledged seq, version, revoked

options:
      --config FILE       configuration file (its collector: section)
      --data DIR          data directory (default ./data, or collector.data)
      --database URL      postgres://... (default: SQLite in the data directory)
      --listen HOST:PORT  where the HTTPS API listens (default 127.0.0.1:8443; port 0: any free)
      --json              sensor list: JSON, one array
  -h, --help              this help

The query API and /metrics answer loopback clients only, until the dashboard adds accounts.
Exit codes: 0 done (or stopped by a signal), 1 the store or address failed, 2 usage.`;

/** Where a command writes, so tests can capture it. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

const STD: CliIo = { out: (t) => void process.stdout.write(t), err: (t) => void process.stderr.write(t) };

/** `outpost collector ...`. */
export async function runCollector(argv: string[], io: CliIo = STD): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        data: { type: 'string' },
        database: { type: 'string' },
        listen: { type: 'string' },
        expires: { type: 'string' },
        uses: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const o = parsed.values;
  if (o.help) {
    io.out(`${COLLECTOR_USAGE}\n`);
    return Exit.OK;
  }
  let config: CollectorConfig;
  try {
    config = { ...(o.config !== undefined ? loadConfig(o.config) : defaultConfig()).collector };
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`outpost collector: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  if (o.data !== undefined) config.data = o.data;
  if (o.database !== undefined) {
    if (!/^postgres(ql)?:\/\//.test(o.database)) throw new UsageError(`--database: "${o.database}" is not a postgres:// URL`);
    config.database = o.database;
  }
  if (o.listen !== undefined) {
    try {
      parseListen(o.listen);
    } catch (err) {
      throw new UsageError(`--listen: ${(err as Error).message}`);
    }
    config.listen = o.listen;
  }

  const [sub, verb, ...rest] = parsed.positionals;
  const only = (allowed: string[]): void => {
    for (const flag of ['listen', 'expires', 'uses', 'json'] as const) {
      if (o[flag] !== undefined && o[flag] !== false && !allowed.includes(flag)) throw new UsageError(`--${flag} does not apply here`);
    }
  };
  if (sub === undefined) {
    only(['listen']);
    return serve(config, io);
  }
  if (sub === 'token' && verb === 'create' && rest.length === 0) {
    only(['expires', 'uses']);
    const expiresIn = parseDuration(o.expires ?? '24h');
    const uses = o.uses === undefined ? 1 : Number(o.uses);
    if (!Number.isSafeInteger(uses) || uses < 1) throw new UsageError(`--uses: "${o.uses}" is not a whole number ≥ 1`);
    return withStore(config, io, async (store) => {
      const now = Date.now();
      io.out(`${await createToken(store, { expires: expiresIn === null ? null : now + expiresIn, uses, now })}\n`);
      return Exit.OK;
    });
  }
  if (sub === 'sensor' && verb === 'revoke' && rest.length === 1) {
    only([]);
    const id = rest[0]!;
    return withStore(config, io, async (store) => {
      if (!(await store.revokeSensor(id, Date.now()))) {
        io.err(`outpost collector: no sensor ${id} (outpost collector sensor list shows them)\n`);
        return 1;
      }
      io.err(`sensor ${id} revoked: its requests are refused from now on\n`);
      return Exit.OK;
    });
  }
  if (sub === 'sensor' && verb === 'list' && rest.length === 0) {
    only(['json']);
    return withStore(config, io, async (store) => {
      const sensors = await store.listSensors();
      const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());
      if (o.json) {
        io.out(`${JSON.stringify(sensors.map((s) => ({ id: s.id, name: s.name, enrolled: iso(s.enrolled), revoked: iso(s.revoked), last_seen: iso(s.last_seen), acked: s.acked, version: s.version })))}\n`);
        return Exit.OK;
      }
      const rows = [['ID', 'NAME', 'LAST SEEN', 'ACKED', 'VERSION', 'REVOKED']];
      for (const s of sensors) rows.push([s.id, s.name, iso(s.last_seen) ?? '-', String(s.acked), s.version ?? '-', iso(s.revoked) ?? '-']);
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      for (const r of rows) io.out(`${r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
      return Exit.OK;
    });
  }
  throw new UsageError(`unknown subcommand "${parsed.positionals.join(' ')}"`);
}

/** Runs the server until SIGINT or SIGTERM. */
async function serve(config: CollectorConfig, io: CliIo): Promise<number> {
  return withStore(config, io, async (store) => {
    let collector;
    try {
      collector = await startCollector(collectorOptions(config, store));
    } catch (err) {
      io.err(`outpost collector: ${(err as Error).message}\n`);
      return 1;
    }
    io.err(`collector listening on ${collector.url}\n`);
    io.err(`CA certificate SHA-256 fingerprint: ${collector.caFingerprint}${collector.caCreated ? ' (new CA)' : ''}\n`);
    io.err(`store: ${config.database !== null ? 'PostgreSQL' : `SQLite in ${config.data}`}\n`);
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    io.err('collector stopping\n');
    await collector.close();
    return Exit.OK;
  });
}

async function withStore(config: CollectorConfig, io: CliIo, run: (store: Store) => Promise<number>): Promise<number> {
  let store: Store;
  try {
    store = await openStore({ data: config.data, database: config.database });
  } catch (err) {
    io.err(`outpost collector: cannot open the store (${config.database !== null ? 'PostgreSQL' : `${config.data}/outpost.db`}): ${(err as Error).message}\n`);
    return 1;
  }
  try {
    return await run(store);
  } finally {
    await store.close();
  }
}

/** 30s, 30m, 24h, 7d (or `never`: null) in milliseconds. */
export function parseDuration(v: string): number | null {
  if (v === 'never') return null;
  const m = /^(\d{1,6})([smhd])$/.exec(v.trim());
  if (m === null || Number(m[1]) === 0) throw new UsageError(`"${v}" is not a duration like 30m, 24h or 7d (or never)`);
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}
