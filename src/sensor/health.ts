import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { formatTimestamp } from '../events/time.js';
import type { SensorStats, SensorStatsEvent } from '../events/sensor.js';
import { API } from '../api/contract.js';

/**
 * The sensor's health: the `sensor_stats` record it writes every stats interval, and the local
 * /healthz endpoint that serves the same figures with the shipper's state. /healthz answers 503
 * when the sensor is not doing its job: the collector refused its credentials (shipping stopped)
 * or the spool is dropping events to stay within its disk budget. Loopback by default: it tells
 * a local monitor (systemd, Docker, Nagios) what it needs, and nothing to the network.
 */

/** Outpost's version, from package.json (beside dist/ in the package). */
export const OUTPOST_VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
})();

/** The figures sensor_stats is made of, as the runtime gathers them. */
export interface StatsInput {
  uptimeS: number;
  /** Packets read since start, and at the previous record (with its time), for pps. */
  packets: number;
  previousPackets: number;
  intervalS: number;
  captureDrops: number;
  internalDrops: number;
  spool: { depth: number; bytes: number; dropped: number; acked: number; nextSeq: number };
  rules: Record<string, number>;
  appLayer: Record<string, number>;
}

/** The sensor_stats object. */
export function buildSensorStats(i: StatsInput): SensorStats {
  return {
    version: OUTPOST_VERSION,
    uptime: Math.round(i.uptimeS),
    pps: i.intervalS > 0 ? Math.round(((i.packets - i.previousPackets) / i.intervalS) * 10) / 10 : 0,
    packets: i.packets,
    capture_drops: i.captureDrops,
    internal_drops: i.internalDrops,
    spool_depth: i.spool.depth,
    spool_bytes: i.spool.bytes,
    spool_dropped: i.spool.dropped,
    acked_seq: i.spool.acked,
    next_seq: i.spool.nextSeq,
    rules: i.rules,
    app_layer: i.appLayer,
  };
}

/** A sensor_stats record, timestamped now (wall clock: it describes the sensor, not traffic). */
export function sensorStatsEvent(stats: SensorStats, now = Date.now()): SensorStatsEvent {
  return { timestamp: formatTimestamp(Math.floor(now / 1000), (now % 1000) * 1e6), event_type: 'sensor_stats', sensor_stats: stats };
}

/** What /healthz reports. */
export interface HealthReport {
  /** The latest figures (null before the first stats pass). */
  stats: SensorStats | null;
  /** Shipping: off (local only), or the shipper's state. */
  shipping: 'off' | Record<string, unknown>;
  /** Why shipping stopped for good (the collector refused the credentials: 401/403), or null. */
  refused: string | null;
  /** The spool dropped events to its disk budget recently. */
  spoolDropping: boolean;
}

/** The status code and body for a report: 200 when healthy, 503 with the reasons when not. */
export function healthReply(r: HealthReport): { status: number; body: Record<string, unknown> } {
  const problems: string[] = [];
  if (r.refused !== null) problems.push(`shipping stopped: ${r.refused}`);
  if (r.spoolDropping) problems.push('the spool is dropping events (disk budget full)');
  return {
    status: problems.length === 0 ? 200 : 503,
    body: { status: problems.length === 0 ? 'ok' : 'unhealthy', problems, sensor_stats: r.stats, shipping: r.shipping },
  };
}

/** The /healthz listener. */
export class HealthServer {
  private constructor(
    private readonly server: Server,
    /** The bound address (the port is the real one when 0 was asked for). */
    readonly host: string,
    readonly port: number,
  ) {}

  /** Listens on HOST:PORT ([v6]:PORT); `report` is asked on every request. */
  static start(hostPort: string, report: () => HealthReport): Promise<HealthServer> {
    const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(hostPort);
    if (m === null) return Promise.reject(new Error(`healthz: "${hostPort}" is not HOST:PORT`));
    const host = m[1] ?? m[2]!;
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json' }).end('{"error":"method_not_allowed"}\n');
        return;
      }
      if (path !== API.healthz) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found","reason":"only /healthz is served here"}\n');
        return;
      }
      let reply;
      try {
        reply = healthReply(report());
      } catch (err) {
        reply = { status: 500, body: { status: 'error', problems: [(err as Error).message] } };
      }
      res.writeHead(reply.status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : `${JSON.stringify(reply.body)}\n`);
    });
    // A monitor's probe is tiny: a slow or idle client must not hold a socket.
    server.headersTimeout = 5000;
    server.requestTimeout = 5000;
    server.keepAliveTimeout = 1000;
    return new Promise((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(new Error(`healthz: cannot listen on ${hostPort}: ${err.code ?? err.message}`)));
      server.listen(Number(m[3]), host, () => {
        const a = server.address();
        const port = a !== null && typeof a === 'object' ? a.port : Number(m[3]);
        resolve(new HealthServer(server, host, port));
      });
    });
  }

  /** The URL of /healthz. */
  get url(): string {
    return `http://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}${API.healthz}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
