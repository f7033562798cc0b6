import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { CORRELATE_DEFAULTS, type CorrelateOptions } from '../correlate/index.js';
import { DETECTOR_KINDS, type DetectorOptions } from '../detect/index.js';
import { DEFAULT_HTTP_LIMITS } from '../protocols/http/limits.js';
import type { XffOptions } from '../rules/alert.js';
import { DEFAULT_VARS, type RuleVars } from '../rules/vars.js';

/**
 * Outpost's configuration: one YAML file, in Suricata's layout where Suricata has the option
 * (vars, rule files, classification and threshold files, packet-alert-max, eve payload options,
 * flow timeouts, defrag), so a Suricata user recognises it. Every option has a default, so no
 * file is needed; outpost.example.yaml lists them all. Unknown keys are errors, with the key's
 * path and what is allowed there.
 */

/** A size such as 32mb, 64kb, 1gb or a plain byte count. */
const size = z.union([z.number().int().nonnegative(), z.string().regex(/^\s*\d+\s*(b|kb|mb|gb|kib|mib|gib)?\s*$/i, 'a size such as 64kb, 32mb or 1gb')]).transform(parseSize);

export function parseSize(v: number | string): number {
  if (typeof v === 'number') return v;
  const m = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(v)!;
  const n = Number(m[1]);
  const unit = m[2]!.toLowerCase();
  const mult = unit.startsWith('g') ? 1024 ** 3 : unit.startsWith('m') ? 1024 ** 2 : unit.startsWith('k') ? 1024 : 1;
  return n * mult;
}

const yesNo = z.union([z.boolean(), z.enum(['yes', 'no'])]).transform((v) => v === true || v === 'yes');
const seconds = z.number().int().nonnegative();
const enabledOnly = z.strictObject({ enabled: yesNo.optional() });
const timeouts = z.strictObject({ new: seconds.optional(), established: seconds.optional(), closed: seconds.optional() });

/** The application protocols Outpost analyzes, by the names app-layer.protocols takes. */
export const APP_PROTOCOLS = ['http', 'dns', 'tls', 'irc', 'ftp', 'tftp', 'smtp'] as const;

const STREAM_POLICIES = ['bsd', 'bsd-right', 'linux', 'old-linux', 'solaris', 'old-solaris', 'windows', 'windows2k3', 'vista', 'macos', 'hpux10', 'hpux11', 'irix', 'first', 'last'] as const;

/** HOST:PORT or [v6]:PORT. */
const HOST_PORT = /^(?:\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/;

/**
 * A detector's (or the correlator's) settings, checked against its defaults: each key it has,
 * of the default's type (a switch, a non-negative number, a list of ports, text).
 */
function optionsSchema(defaults: Readonly<Record<string, unknown>>): z.ZodType<Record<string, unknown>> {
  const shape: Record<string, z.ZodType> = {};
  for (const [k, v] of Object.entries(defaults)) {
    const t = typeof v === 'boolean' ? yesNo : typeof v === 'number' ? z.number().nonnegative() : Array.isArray(v) ? z.array(z.number().int().min(0).max(65535)) : z.string();
    shape[k] = t.optional();
  }
  return z.strictObject(shape) as unknown as z.ZodType<Record<string, unknown>>;
}

export const ConfigSchema = z.strictObject({
  vars: z
    .strictObject({
      'address-groups': z.record(z.string(), z.union([z.string(), z.array(z.string())])).optional(),
      'port-groups': z.record(z.string(), z.union([z.string(), z.number(), z.array(z.union([z.string(), z.number()]))])).optional(),
    })
    .optional(),
  'default-rule-path': z.string().optional(),
  'rule-files': z.array(z.string()).optional(),
  'classification-file': z.string().optional(),
  'reference-config-file': z.string().optional(),
  'threshold-file': z.string().optional(),
  'packet-alert-max': z.number().int().min(1).max(255).optional(),
  outputs: z
    .strictObject({
      eve: z
        .strictObject({
          payload: yesNo.optional(),
          'payload-printable': yesNo.optional(),
          packet: yesNo.optional(),
          dns: z.strictObject({ version: z.union([z.literal(2), z.literal(3)]) }).optional(),
          xff: z
            .strictObject({
              enabled: yesNo.optional(),
              mode: z.enum(['extra-data', 'overwrite']).optional(),
              deployment: z.enum(['reverse', 'forward']).optional(),
              header: z.string().min(1).optional(),
            })
            .optional(),
        })
        .optional(),
    })
    .optional(),
  stream: z
    .strictObject({
      'overlap-policy': z.enum(STREAM_POLICIES).optional(),
      'chunk-size': z.number().int().min(64).max(1048576).optional(),
      'max-flows': z.number().int().min(1).optional(),
      'reassembly-memcap': size.optional(),
    })
    .optional(),
  'flow-timeouts': z
    .strictObject({ tcp: timeouts.optional(), udp: timeouts.optional(), icmp: timeouts.optional(), default: timeouts.optional() })
    .optional(),
  'app-layer': z
    .strictObject({
      protocols: z
        .strictObject({
          http: z
            .strictObject({
              enabled: yesNo.optional(),
              // Suricata's layout, so its users find the same keys.
              libhtp: z
                .strictObject({
                  'default-config': z
                    .strictObject({
                      'request-body-limit': size.optional(),
                      'response-body-limit': size.optional(),
                      'response-body-decompress-layer-limit': z.number().int().min(0).max(16).optional(),
                    })
                    .optional(),
                })
                .optional(),
            })
            .optional(),
          dns: enabledOnly.optional(),
          tls: enabledOnly.optional(),
          irc: enabledOnly.optional(),
          ftp: enabledOnly.optional(),
          tftp: enabledOnly.optional(),
          smtp: enabledOnly.optional(),
        })
        .optional(),
    })
    .optional(),
  'file-store': z
    .strictObject({
      enabled: yesNo.optional(),
      dir: z.string().optional(),
      'max-size': size.optional(),
    })
    .optional(),
  detect: z.strictObject(Object.fromEntries(DETECTOR_KINDS.map((k) => [k.name, optionsSchema(k.defaults).optional()]))).optional(),
  correlate: optionsSchema(CORRELATE_DEFAULTS).optional(),
  honeypot: z
    .strictObject({
      pct: z.union([z.string().regex(HOST_PORT, 'HOST:PORT'), z.literal('off')]).optional(),
      listen: z.array(z.string().regex(HOST_PORT, 'HOST:PORT')).optional(),
      store: z.string().optional(),
    })
    .optional(),
  sensor: z
    .strictObject({
      name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - (up to 64)').optional(),
      credentials: z.string().optional(),
      workers: z.union([z.number().int().min(1).max(64), z.literal('auto')]).optional(),
      inputs: z
        .strictObject({
          interfaces: z.array(z.string()).optional(),
          files: z.array(z.string()).optional(),
          watch: z.string().optional(),
          bpf: z.string().optional(),
        })
        .optional(),
      spool: z
        .strictObject({
          dir: z.string().optional(),
          budget: size.optional(),
          'segment-size': size.optional(),
          fsync: z.enum(['always', 'batch', 'none']).optional(),
          'fsync-interval': z.number().int().min(1).max(60000).optional(),
        })
        .optional(),
      ship: z
        .strictObject({
          'batch-events': z.number().int().min(1).max(100000).optional(),
          'batch-bytes': size.optional(),
          'backoff-min': z.number().int().min(1).optional(),
          'backoff-max': z.number().int().min(1).optional(),
        })
        .optional(),
      eve: z.strictObject({ path: z.string().optional(), 'rotate-size': size.optional(), keep: z.number().int().min(0).max(1000).optional() }).optional(),
      'stats-interval': z.number().int().min(1).max(86400).optional(),
      healthz: z.union([z.string().regex(HOST_PORT, 'HOST:PORT'), z.literal('off')]).optional(),
    })
    .optional(),
  collector: z
    .strictObject({
      listen: z.string().regex(HOST_PORT, 'HOST:PORT').optional(),
      data: z.string().optional(),
      database: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL').optional(),
      tls: z.strictObject({ cert: z.string().optional(), key: z.string().optional() }).optional(),
      retention: z
        .strictObject({ events: z.number().int().min(1).optional(), minute: z.number().int().min(1).optional(), hour: z.number().int().min(1).optional(), day: z.number().int().min(0).optional() })
        .optional(),
      ingest: z
        .strictObject({
          'max-body': size.optional(),
          'max-inflated': size.optional(),
          'max-events': z.number().int().min(1).optional(),
          'rate-limit': z.number().int().min(0).optional(),
        })
        .optional(),
      'rollup-interval': z.number().int().min(1).max(3600).optional(),
    })
    .optional(),
  defrag: z
    .strictObject({
      'overlap-policy': z.enum(['bsd', 'bsd-right', 'linux', 'windows', 'solaris', 'first', 'last']).optional(),
      timeout: z.number().int().min(1).max(86400).optional(),
      memcap: size.optional(),
      trackers: z.number().int().min(1).optional(),
    })
    .optional(),
});

export type ConfigFile = z.infer<typeof ConfigSchema>;

/** A configuration mistake: the file, the key's path and what is allowed. */
export class ConfigError extends Error {}

/** Everything the rest of Outpost reads, with defaults filled in. */
export interface Config {
  /** Directory relative paths in the file resolve against. */
  base: string;
  vars: RuleVars;
  /** Whether EXTERNAL_NET was set explicitly (else it follows HOME_NET). */
  externalNetSet: boolean;
  ruleFiles: string[];
  classificationFile: string | null;
  referenceFile: string | null;
  thresholdFile: string | null;
  packetAlertMax: number;
  eve: { payload: boolean; payloadPrintable: boolean; packet: boolean; dnsVersion: 2 | 3; xff: XffOptions | null };
  stream: { overlapPolicy: string; chunkSize: number; maxFlows: number; reassemblyMemcap: number };
  /** Per-protocol timeouts given in the file ("default" applies to other protocols). */
  flowTimeouts: Partial<Record<'tcp' | 'udp' | 'icmp' | 'other', Partial<Record<'new' | 'established' | 'closed', number>>>>;
  defrag: { overlapPolicy: string; timeout: number; memcap: number; trackers: number };
  /** The application protocols analyzed (all by default). */
  appProtocols: ReadonlySet<string>;
  /** HTTP bounds given in the file (libhtp's default-config): request and response body bytes kept for inspection, encoding layers decoded. */
  httpLimits: { requestBodyLimit: number; responseBodyLimit: number; decompressLayerLimit: number };
  /** The honeypot: the PCT service's HOST:PORT (null: none), generic listeners, and where payloads are kept (null: hashed only). */
  honeypot: { pct: string | null; listen: string[]; store: string | null };
  /** The sensor runtime (`outpost sensor`): inputs, workers, spool, shipping, local eve.json, health (docs/network.md). */
  sensor: SensorConfig;
  /** The collector (`outpost collector`): listen address, store, TLS, retention, ingest limits (docs/network.md). */
  collector: CollectorConfig;
  /** Behavioural detectors' settings by name (over each one's defaults), and the correlator's. */
  behaviour: { detectors: Record<string, DetectorOptions>; correlate: CorrelateOptions };
  /** Keeping transferred files: off by default; each file up to maxSize bytes, written to dir named by its SHA-256. */
  fileStore: { enabled: boolean; dir: string; maxSize: number };
}

/** `sensor:` with defaults filled in. Paths are absolute; sizes in bytes; times in milliseconds unless named `…S`. */
export interface SensorConfig {
  /** The sensor's name, sent at enrolment (the host name by default). */
  name: string;
  /** The enrolment file (mode 0600): collector URL, sensor id, secret, pinned CA. */
  credentials: string;
  /** Packet worker threads (`auto`: one per core beyond the reader's, at least 1). */
  workers: number | 'auto';
  /** Live interfaces (through tcpdump), capture files, and a directory watched for new captures (null: none). */
  inputs: { interfaces: string[]; files: string[]; watch: string | null; bpf: string | null };
  /** The durable spool: directory, disk budget, segment size, fsync policy and its group-commit interval. */
  spool: { dir: string; budget: number; segmentSize: number; fsync: 'always' | 'batch' | 'none'; fsyncInterval: number };
  /** Shipping: events and bytes per batch, retry backoff bounds. */
  ship: { batchEvents: number; batchBytes: number; backoffMin: number; backoffMax: number };
  /** Local eve.json: path (null: none), rotation size, rotated files kept. */
  eve: { path: string | null; rotateSize: number; keep: number };
  /** Seconds between sensor_stats records. */
  statsIntervalS: number;
  /** HOST:PORT of the local /healthz endpoint (null: off). */
  healthz: string | null;
}

/** `collector:` with defaults filled in. */
export interface CollectorConfig {
  /** HOST:PORT the HTTPS API listens on. */
  listen: string;
  /** Directory for the SQLite store, the generated CA and server certificate. */
  data: string;
  /** postgres:// URL (null: SQLite at DATA/outpost.db). */
  database: string | null;
  /** The server's own certificate and key (PEM files); null: made under DATA/pki on first start. */
  tls: { cert: string | null; key: string | null };
  /** Days to keep raw events, minute rollups and hour rollups; day rollups (0: forever). */
  retention: { events: number; minute: number; hour: number; day: number };
  /** Ingest caps: body bytes as sent, bytes once inflated, events per batch, events per second per sensor (0: no limit). */
  ingest: { maxBody: number; maxInflated: number; maxEvents: number; rateLimit: number };
  /** Seconds between rollup passes. */
  rollupIntervalS: number;
}

export function defaultConfig(base = process.cwd()): Config {
  return resolveConfig({}, base);
}

/** Loads and checks a config file. Throws ConfigError with a message naming the file and key. */
export function loadConfig(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${path}: cannot read: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = parseYaml(text, { prettyErrors: true }) ?? {};
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos !== undefined ? `:${err.linePos[0].line}:${err.linePos[0].col}` : '';
    throw new ConfigError(`${path}${where}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const parsed = ConfigSchema.safeParse(data);
  if (!parsed.success) throw new ConfigError(`${path}: ${describeIssues(parsed.error)}`);
  return resolveConfig(parsed.data, dirname(resolve(path)));
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const key = i.path.join('.') || '(top level)';
      if (i.code === 'unrecognized_keys') {
        const allowed = allowedKeysAt(i.path.map(String));
        return `unknown key ${i.keys.map((k) => `"${[...i.path, k].join('.')}"`).join(', ')}${allowed.length > 0 ? `; allowed here: ${allowed.join(', ')}` : ''}`;
      }
      return `${key}: ${i.message}`;
    })
    .join('; ');
}

/** The keys the schema allows at a path, for messages. */
function allowedKeysAt(path: string[]): string[] {
  let schema: z.ZodType = ConfigSchema;
  for (const key of path) {
    const inner = unwrap(schema);
    if (!(inner instanceof z.ZodObject)) return [];
    const next = (inner.shape as Record<string, z.ZodType>)[key];
    if (next === undefined) return [];
    schema = next;
  }
  const obj = unwrap(schema);
  return obj instanceof z.ZodObject ? Object.keys(obj.shape as object) : [];
}

function unwrap(s: z.ZodType): z.ZodType {
  let t = s;
  while (t instanceof z.ZodOptional) t = t.unwrap() as z.ZodType;
  return t;
}

function timeoutsOf(t: ConfigFile['flow-timeouts']): Config['flowTimeouts'] {
  const out: Config['flowTimeouts'] = {};
  for (const [from, to] of [['tcp', 'tcp'], ['udp', 'udp'], ['icmp', 'icmp'], ['default', 'other']] as const) {
    const v = t?.[from];
    if (v === undefined) continue;
    const o: Partial<Record<'new' | 'established' | 'closed', number>> = {};
    if (v.new !== undefined) o.new = v.new;
    if (v.established !== undefined) o.established = v.established;
    if (v.closed !== undefined) o.closed = v.closed;
    out[to] = o;
  }
  return out;
}

function resolveConfig(c: ConfigFile, base: string): Config {
  const at = (p: string | undefined): string | null => (p === undefined ? null : isAbsolute(p) ? p : resolve(base, p));
  const addressGroups: Record<string, string> = { ...DEFAULT_VARS.addressGroups };
  const portGroups: Record<string, string> = { ...DEFAULT_VARS.portGroups };
  for (const [k, v] of Object.entries(c.vars?.['address-groups'] ?? {})) addressGroups[k] = Array.isArray(v) ? `[${v.join(',')}]` : v;
  for (const [k, v] of Object.entries(c.vars?.['port-groups'] ?? {})) portGroups[k] = Array.isArray(v) ? `[${v.join(',')}]` : String(v);
  const rulePath = c['default-rule-path'] ?? '.';
  return {
    base,
    vars: { addressGroups, portGroups },
    externalNetSet: c.vars?.['address-groups']?.EXTERNAL_NET !== undefined,
    ruleFiles: (c['rule-files'] ?? []).map((f) => (isAbsolute(f) ? f : resolve(base, rulePath, f))),
    classificationFile: at(c['classification-file']),
    referenceFile: at(c['reference-config-file']),
    thresholdFile: at(c['threshold-file']),
    packetAlertMax: c['packet-alert-max'] ?? 15,
    eve: {
      payload: c.outputs?.eve?.payload ?? false,
      payloadPrintable: c.outputs?.eve?.['payload-printable'] ?? false,
      packet: c.outputs?.eve?.packet ?? false,
      dnsVersion: c.outputs?.eve?.dns?.version ?? 2,
      xff:
        c.outputs?.eve?.xff?.enabled === true
          ? { mode: c.outputs.eve.xff.mode ?? 'extra-data', deployment: c.outputs.eve.xff.deployment ?? 'reverse', header: c.outputs.eve.xff.header ?? 'X-Forwarded-For' }
          : null,
    },
    stream: {
      overlapPolicy: c.stream?.['overlap-policy'] ?? 'bsd',
      chunkSize: c.stream?.['chunk-size'] ?? 2560,
      maxFlows: c.stream?.['max-flows'] ?? 262144,
      reassemblyMemcap: c.stream?.['reassembly-memcap'] ?? 256 * 1024 * 1024,
    },
    flowTimeouts: timeoutsOf(c['flow-timeouts']),
    appProtocols: new Set(APP_PROTOCOLS.filter((p) => c['app-layer']?.protocols?.[p]?.enabled ?? true)),
    httpLimits: httpLimitsOf(c['app-layer']?.protocols?.http?.libhtp?.['default-config']),
    honeypot: {
      pct: c.honeypot?.pct === 'off' ? null : (c.honeypot?.pct ?? '0.0.0.0:443'),
      listen: c.honeypot?.listen ?? [],
      store: at(c.honeypot?.store) ?? null,
    },
    sensor: {
      name: c.sensor?.name ?? (hostname().replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 64) || 'sensor'),
      credentials: at(c.sensor?.credentials) ?? resolve(base, 'data', 'sensor-credentials.json'),
      workers: c.sensor?.workers ?? 'auto',
      inputs: {
        interfaces: c.sensor?.inputs?.interfaces ?? [],
        files: (c.sensor?.inputs?.files ?? []).map((f) => at(f)!),
        watch: at(c.sensor?.inputs?.watch),
        bpf: c.sensor?.inputs?.bpf ?? null,
      },
      spool: {
        dir: at(c.sensor?.spool?.dir) ?? resolve(base, 'data', 'spool'),
        budget: c.sensor?.spool?.budget ?? 1024 ** 3,
        segmentSize: c.sensor?.spool?.['segment-size'] ?? 16 * 1024 ** 2,
        fsync: c.sensor?.spool?.fsync ?? 'batch',
        fsyncInterval: c.sensor?.spool?.['fsync-interval'] ?? 100,
      },
      ship: {
        batchEvents: c.sensor?.ship?.['batch-events'] ?? 1000,
        batchBytes: c.sensor?.ship?.['batch-bytes'] ?? 4 * 1024 ** 2,
        backoffMin: c.sensor?.ship?.['backoff-min'] ?? 500,
        backoffMax: c.sensor?.ship?.['backoff-max'] ?? 60000,
      },
      eve: { path: at(c.sensor?.eve?.path) ?? resolve(base, 'data', 'eve.json'), rotateSize: c.sensor?.eve?.['rotate-size'] ?? 100 * 1024 ** 2, keep: c.sensor?.eve?.keep ?? 5 },
      statsIntervalS: c.sensor?.['stats-interval'] ?? 60,
      healthz: c.sensor?.healthz === 'off' ? null : (c.sensor?.healthz ?? '127.0.0.1:8071'),
    },
    collector: {
      listen: c.collector?.listen ?? '127.0.0.1:8443',
      data: at(c.collector?.data) ?? resolve(base, 'data'),
      database: c.collector?.database ?? null,
      tls: { cert: at(c.collector?.tls?.cert), key: at(c.collector?.tls?.key) },
      retention: {
        events: c.collector?.retention?.events ?? 30,
        minute: c.collector?.retention?.minute ?? 2,
        hour: c.collector?.retention?.hour ?? 90,
        day: c.collector?.retention?.day ?? 0,
      },
      ingest: {
        maxBody: c.collector?.ingest?.['max-body'] ?? 8 * 1024 ** 2,
        maxInflated: c.collector?.ingest?.['max-inflated'] ?? 64 * 1024 ** 2,
        maxEvents: c.collector?.ingest?.['max-events'] ?? 10000,
        rateLimit: c.collector?.ingest?.['rate-limit'] ?? 100000,
      },
      rollupIntervalS: c.collector?.['rollup-interval'] ?? 60,
    },
    behaviour: {
      detectors: Object.fromEntries(DETECTOR_KINDS.map((k) => [k.name, { ...k.defaults, ...((c.detect?.[k.name] ?? {}) as DetectorOptions) }])),
      correlate: { ...CORRELATE_DEFAULTS, ...((c.correlate ?? {}) as Partial<CorrelateOptions>) },
    },
    fileStore: {
      enabled: c['file-store']?.enabled ?? false,
      dir: at(c['file-store']?.dir) ?? resolve(base, 'filestore'),
      // 16 MiB holds any bot binary of the period many times over, and bounds what one transfer can make the sensor hold.
      maxSize: c['file-store']?.['max-size'] ?? 16 * 1024 * 1024,
    },
    defrag: {
      overlapPolicy: c.defrag?.['overlap-policy'] ?? 'bsd',
      timeout: c.defrag?.timeout ?? 60,
      memcap: c.defrag?.memcap ?? 32 * 1024 * 1024,
      trackers: c.defrag?.trackers ?? 65535,
    },
  };
}

function httpLimitsOf(
  d: { 'request-body-limit'?: number | undefined; 'response-body-limit'?: number | undefined; 'response-body-decompress-layer-limit'?: number | undefined } | undefined,
): Config['httpLimits'] {
  return {
    requestBodyLimit: d?.['request-body-limit'] ?? DEFAULT_HTTP_LIMITS.requestBodyLimit,
    responseBodyLimit: d?.['response-body-limit'] ?? DEFAULT_HTTP_LIMITS.responseBodyLimit,
    decompressLayerLimit: d?.['response-body-decompress-layer-limit'] ?? DEFAULT_HTTP_LIMITS.decompressLayerLimit,
  };
}
