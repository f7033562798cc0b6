import { parseArgs } from 'node:util';
import { EveWriter } from '../events/writer.js';
import { Honeypot, type HoneypotAddress } from '../honeypot/index.js';
import type { ListenAddress } from '../honeypot/service.js';
import { ConfigError, loadConfig, type Config } from '../config/config.js';
import { Exit, UsageError } from './exit.js';

export const HONEYPOT_USAGE = `usage: outpost honeypot [--config FILE] [--pct HOST:PORT | --no-pct] [--listen HOST:PORT]... [options]

Runs the honeypot: an emulated PCT-enabled SSL service that answers a PCT hello (native, or an
SSLv2 hello offering PCT) with a well-formed PCT SERVER_HELLO, so that scanners flag it and an
MS04-011 exploit goes on to send its whole first flight; and generic listeners that record the
first bytes each client sends. Each connection becomes a "honeypot" EVE record on standard
output (JSON lines), with the payload's SHA-256 and first bytes and, for the PCT service, the
MS04-011 classification (probe or exploit attempt). Payloads are never executed; with --store
they are kept by SHA-256, owner-readable only, within caps. Stops on SIGINT or SIGTERM.

options:
  -c, --config FILE       the honeypot section of a configuration (outpost.example.yaml); flags win
      --pct HOST:PORT     the PCT service's address (default 0.0.0.0:443)
      --no-pct            no PCT service (listeners only)
      --listen HOST:PORT  a generic listener (repeatable)
      --store DIR         keep captured payloads in DIR/<xx>/<sha256>
  -q, --quiet             no "listening on" lines on standard error
  -h, --help              this help`;

/** HOST:PORT, [v6]:PORT, or PORT alone (every interface). */
export function listenAddress(text: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:]+)):(\d+)$/.exec(text) ?? /^()()(\d+)$/.exec(text);
  if (m === null) throw new UsageError(`"${text}" is not HOST:PORT`);
  const port = Number(m[3]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`"${text}": the port must be 0 to 65535`);
  return { host: m[1] || m[2] || '0.0.0.0', port };
}

export async function runHoneypot(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        pct: { type: 'string' },
        'no-pct': { type: 'boolean', default: false },
        listen: { type: 'string', multiple: true, default: [] },
        store: { type: 'string' },
        quiet: { type: 'boolean', short: 'q', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const o = parsed.values;
  if (o.help) {
    process.stdout.write(`${HONEYPOT_USAGE}\n`);
    return Exit.OK;
  }
  if (o['no-pct'] && o.pct !== undefined) throw new UsageError('--pct and --no-pct are alternatives');
  let fromFile: Config['honeypot'] | null = null;
  if (o.config !== undefined) {
    try {
      fromFile = loadConfig(o.config).honeypot;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`outpost honeypot: ${err.message}\n`);
      return Exit.USAGE;
    }
  }
  const listeners = (o.listen.length > 0 ? o.listen : (fromFile?.listen ?? [])).map(listenAddress);
  const pctText = o['no-pct'] ? null : (o.pct ?? (fromFile === null ? '0.0.0.0:443' : fromFile.pct));
  if (pctText === null && listeners.length === 0) throw new UsageError('nothing to run: no PCT service and no listener');
  const store = o.store ?? fromFile?.store ?? null;
  const out = new EveWriter(1);
  const honeypot = new Honeypot(
    {
      pct: pctText === null ? null : listenAddress(pctText),
      listeners,
      ...(store !== null ? { store: { dir: store } } : {}),
    },
    (ev) => {
      out.write(ev);
      out.flush();
    },
  );
  let bound: HoneypotAddress[];
  try {
    bound = await honeypot.start();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    process.stderr.write(`outpost honeypot: cannot listen: ${e.code === 'EACCES' ? `${e.message} (ports below 1024 need root or CAP_NET_BIND_SERVICE)` : e.message}\n`);
    return Exit.INPUT;
  }
  if (!o.quiet) for (const b of bound) process.stderr.write(`outpost honeypot: ${b.service} listening on ${b.host.includes(':') ? `[${b.host}]` : b.host}:${b.port}\n`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  await honeypot.stop();
  out.flush();
  if (!o.quiet) process.stderr.write(`outpost honeypot: stopped (${signal}): ${JSON.stringify(honeypot.counters)}\n`);
  return Exit.OK;
}
