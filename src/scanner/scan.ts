/**
 * A scan: targets × ports, every probe against each, with a concurrency limit, per-probe
 * timeouts and bounded retries. The scope is checked for every address before the first packet:
 * one address outside it refuses the whole scan (ScopeError), so nothing is half-sent.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { endpointFindings, type EndpointResults, type Finding } from './findings.js';
import { PROBE_KINDS, type ProbeKind } from './hellos.js';
import { PROBE_DEFAULTS, runProbe, type ProbeResult } from './probe.js';
import { expandCidr, inScope, loopbackScope, parseTarget, refusal, ScopeError, type Scope } from './scope.js';
import { STARTTLS_PORTS, type StarttlsProtocol } from './starttls.js';

/** The ports issue 8 names: HTTPS, LDAPS, IMAPS, POP3S, SMTPS, SMTP (where PCT-era Schannel listened). */
export const DEFAULT_PORTS: readonly number[] = [443, 636, 993, 995, 465, 25];

/** Connections at once: well under the usual 1024 open-file limit, leaving room for the rest of the process. */
export const MAX_CONCURRENCY = 256;
/** Retries per probe: a lost SYN or a busy server gets a second and third chance, a dead one does not stall the scan. */
export const MAX_RETRIES = 3;
/** host:port pairs per scan: a /16 on one port; results for more would not fit a report anyone reads. */
export const MAX_ENDPOINTS = 65536;

export interface ScanOptions {
  /** `host`, `host:port`, `[v6]:port` or CIDR, as the user wrote them. */
  targets: readonly string[];
  /** Ports for targets without their own (DEFAULT_PORTS when absent). */
  ports?: readonly number[];
  /** The authorised networks (loopback only when absent). */
  scope?: Scope;
  /** Endpoints probed at once (1..MAX_CONCURRENCY; default 16). */
  concurrency?: number;
  connectTimeoutMs?: number;
  readTimeoutMs?: number;
  /** Retries of a probe that timed out or could not connect (0..MAX_RETRIES; default 1). */
  retries?: number;
  /** Which probes to send (all by default). */
  probes?: readonly ProbeKind[];
  /** Connections started per second at most, over all endpoints (unlimited when absent). */
  rate?: number;
  /** Ports to upgrade with STARTTLS before each probe, and how (STARTTLS_PORTS: 25, 587, 143, 110, 389); false: none. */
  starttls?: Readonly<Record<number, StarttlsProtocol>> | false;
  /** Called after each endpoint, for a progress bar. */
  onProgress?: (done: number, total: number) => void;
}

/** One host:port to scan. */
export interface Endpoint {
  /** The address connected to. */
  address: string;
  port: number;
  /** For findings: `name/address` for a host name, the address otherwise. */
  label: string;
}

export interface ScanReport {
  findings: Finding[];
  endpoints: EndpointResults[];
  /** Every probe's time in milliseconds, for timing figures. */
  probeTimesMs: number[];
}

const clamp = (v: number | undefined, fallback: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, Math.floor(v ?? fallback)));

async function resolveHost(host: string): Promise<string> {
  if (isIP(host) !== 0) return host;
  try {
    return (await lookup(host)).address;
  } catch (err) {
    throw new ScopeError(`target "${host}": cannot resolve the name (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/**
 * The endpoints of a scan, every address checked against the scope. Throws ScopeError for a
 * malformed target, an unresolvable name, an address outside the scope, or too many endpoints.
 */
export async function planScan(targets: readonly string[], ports: readonly number[] = DEFAULT_PORTS, scope: Scope = loopbackScope()): Promise<Endpoint[]> {
  if (targets.length === 0) throw new ScopeError('no targets: give host[:port] or a CIDR');
  const endpoints: Endpoint[] = [];
  for (const text of targets) {
    const target = parseTarget(text);
    const addresses = target.prefix !== null ? expandCidr(target.host, target.prefix) : [await resolveHost(target.host)];
    for (const address of addresses) if (!inScope(scope, address)) throw new ScopeError(refusal(scope, text, address));
    const label = (address: string): string => (isIP(target.host) === 0 ? `${target.host}/${address}` : address);
    for (const address of addresses) {
      for (const port of target.port !== null ? [target.port] : ports) {
        endpoints.push({ address, port, label: label(address) });
        if (endpoints.length > MAX_ENDPOINTS) throw new ScopeError(`more than ${MAX_ENDPOINTS} host:port pairs; split the scan`);
      }
    }
  }
  return endpoints;
}

const worthRetry = (r: ProbeResult): boolean => r.outcome === 'unreachable' || r.reply?.kind === 'timeout';

type RunOptions = Required<Pick<ScanOptions, 'connectTimeoutMs' | 'readTimeoutMs' | 'retries'>> & {
  starttls: Readonly<Record<number, StarttlsProtocol>>;
  /** Waits until the rate limit allows the next connection. */
  pace: () => Promise<void>;
};

/** A rate limit shared by every worker: connections start at most `perSecond` a second, evenly spaced. */
function pacer(perSecond: number | undefined): () => Promise<void> {
  if (perSecond === undefined || perSecond <= 0) return () => Promise.resolve();
  const gap = 1000 / perSecond;
  let nextAt = 0;
  return () => {
    const now = performance.now();
    const at = Math.max(now, nextAt);
    nextAt = at + gap;
    return at <= now ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, at - now));
  };
}

async function probeWithRetries(e: Endpoint, kind: ProbeKind, o: RunOptions, times: number[]): Promise<ProbeResult> {
  const upgrade = o.starttls[e.port];
  const po = { connectTimeoutMs: o.connectTimeoutMs, readTimeoutMs: o.readTimeoutMs, ...(upgrade !== undefined ? { starttls: upgrade } : {}) };
  await o.pace();
  let result = await runProbe(e.address, e.port, kind, po);
  times.push(result.elapsedMs);
  for (let i = 0; i < o.retries && worthRetry(result); i++) {
    await o.pace();
    result = await runProbe(e.address, e.port, kind, po);
    times.push(result.elapsedMs);
  }
  return result;
}

/** Every probe against one endpoint; stops after the first when nothing listens or the host is unreachable. */
async function scanEndpoint(e: Endpoint, probes: readonly ProbeKind[], o: RunOptions, times: number[]): Promise<EndpointResults> {
  const results: EndpointResults['results'] = {};
  for (const kind of probes) {
    const r = await probeWithRetries(e, kind, o, times);
    results[kind] = r;
    if (r.outcome !== 'answered') break;
  }
  return { ip: e.label, port: e.port, results };
}

/** Runs a scan. Rejects only with ScopeError (before any traffic); network trouble becomes findings. */
export async function scan(options: ScanOptions): Promise<ScanReport> {
  const endpoints = await planScan(options.targets, options.ports ?? DEFAULT_PORTS, options.scope ?? loopbackScope());
  const o = {
    connectTimeoutMs: clamp(options.connectTimeoutMs, PROBE_DEFAULTS.connectTimeoutMs, 1, 60_000),
    readTimeoutMs: clamp(options.readTimeoutMs, PROBE_DEFAULTS.readTimeoutMs, 1, 60_000),
    retries: clamp(options.retries, 1, 0, MAX_RETRIES),
    starttls: options.starttls === false ? {} : (options.starttls ?? STARTTLS_PORTS),
    pace: pacer(options.rate),
  };
  const concurrency = clamp(options.concurrency, 16, 1, MAX_CONCURRENCY);
  const probes = options.probes ?? PROBE_KINDS;
  const out: EndpointResults[] = new Array<EndpointResults>(endpoints.length);
  const times: number[] = [];
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < endpoints.length) {
      const i = next++;
      out[i] = await scanEndpoint(endpoints[i]!, probes, o, times);
      options.onProgress?.(++done, endpoints.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, endpoints.length) }, worker));
  return { findings: out.flatMap(endpointFindings), endpoints: out, probeTimesMs: times };
}
