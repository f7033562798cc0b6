import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { compileAddress, type AddressMatcher } from '../rules/addresses.js';
import type { XffOptions } from '../rules/alert.js';
import { DEFAULT_VARS, type RuleVars } from '../rules/vars.js';

/**
 * A suricata.yaml as Suricata reads it, and the part of it Outpost can act on. Suricata keeps
 * every scalar as text and merges `include:` files in place; this does the same, then pulls out
 * the settings Outpost has (variables, host-os-policy, packet-alert-max, the EVE and fast.log
 * outputs, the stream chunk size, the threshold file). Everything else is read and ignored.
 */

export type YamlMap = Record<string, unknown>;

/** A suricata.yaml that cannot be read or parsed: the test fails with this message. */
export class SuricataYamlError extends Error {}

export function isMap(v: unknown): v is YamlMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Suricata's ConfValIsTrue: 1, yes, true, on (any case). */
export function isTrue(v: unknown): boolean {
  return v === true || (typeof v === 'number' && v === 1) || (typeof v === 'string' && /^(1|yes|true|on)$/i.test(v.trim()));
}

/** Suricata's ConfValIsFalse: 0, no, false, off (any case). */
export function isFalse(v: unknown): boolean {
  return v === false || (typeof v === 'number' && v === 0) || (typeof v === 'string' && /^(0|no|false|off)$/i.test(v.trim()));
}

function readYaml(path: string): YamlMap {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SuricataYamlError(`${path}: cannot read: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    // YAML 1.1, as Suricata's libyaml reads it; a repeated key takes the later value, as Suricata's loader does.
    data = parseYaml(text, { version: '1.1', uniqueKeys: false, merge: true });
  } catch (err) {
    throw new SuricataYamlError(`${path}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (data === null || data === undefined) return {};
  if (!isMap(data)) throw new SuricataYamlError(`${path}: the top level is not a mapping`);
  return data;
}

/** Deepest include nesting followed: a file including itself would otherwise loop for ever. */
const MAX_INCLUDE_DEPTH = 8;

/**
 * Loads a suricata.yaml with its includes. An `include:` key (a file or a list of files, relative
 * to the top file's directory) is parsed into the mapping that holds it, at its place in key
 * order: later keys override it, earlier ones are overridden (conf-yaml-loader.c).
 */
export function loadSuricataYaml(path: string): YamlMap {
  const base = dirname(path);
  const out: YamlMap = {};
  mergeInto(out, readYaml(path), base, 0);
  return out;
}

function mergeInto(target: YamlMap, source: YamlMap, base: string, depth: number): void {
  for (const [key, value] of Object.entries(source)) {
    if (key === 'include') {
      if (depth >= MAX_INCLUDE_DEPTH) throw new SuricataYamlError(`includes nest deeper than ${MAX_INCLUDE_DEPTH}: does a file include itself?`);
      const files = Array.isArray(value) ? value : [value];
      for (const f of files) {
        const file = String(f);
        mergeInto(target, readYaml(isAbsolute(file) ? file : join(base, file)), base, depth + 1);
      }
      continue;
    }
    target[key] = mergeValue(target[key], value, base, depth);
  }
}

function mergeValue(old: unknown, value: unknown, base: string, depth: number): unknown {
  if (isMap(value)) {
    const into: YamlMap = isMap(old) ? old : {};
    mergeInto(into, value, base, depth);
    return into;
  }
  if (Array.isArray(value) && Array.isArray(old)) {
    // A sequence given again replaces items index by index; items past its end stay (Suricata's loader).
    const merged = [...(old as unknown[])];
    value.forEach((v, i) => {
      merged[i] = mergeValue(undefined, v, base, depth);
    });
    return merged;
  }
  if (Array.isArray(value)) return value.map((v) => mergeValue(undefined, v, base, depth));
  return value;
}

/** `--set a.b.c=value`: sets one node by its dotted name (a number names a sequence item), as text. */
export function setConfigValue(tree: YamlMap, name: string, value: string): void {
  const parts = name.split('.');
  let node: unknown = tree;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const last = i === parts.length - 1;
    if (Array.isArray(node)) {
      const idx = Number(part);
      if (!Number.isInteger(idx) || idx < 0) return;
      if (last) node[idx] = value;
      else {
        if (!isMap(node[idx]) && !Array.isArray(node[idx])) node[idx] = {};
        node = node[idx];
      }
    } else if (isMap(node)) {
      if (last) node[part] = value;
      else {
        if (!isMap(node[part]) && !Array.isArray(node[part])) node[part] = {};
        node = node[part];
      }
    } else return;
  }
}

/** A node by dotted name, or undefined. */
export function configValue(tree: YamlMap, name: string): unknown {
  let node: unknown = tree;
  for (const part of name.split('.')) {
    if (Array.isArray(node)) node = node[Number(part)];
    else if (isMap(node)) node = node[part];
    else return undefined;
  }
  return node;
}

/** The suricata.yaml Suricata ships (8.0), reduced to what the runner reads: every EVE type, payload and packet logging off. */
export function defaultSuricataYaml(): YamlMap {
  return {
    vars: {
      'address-groups': { ...DEFAULT_VARS.addressGroups },
      'port-groups': { ...DEFAULT_VARS.portGroups },
    },
    outputs: [
      { fast: { enabled: 'yes', filename: 'fast.log', append: 'yes' } },
      {
        'eve-log': {
          enabled: 'yes',
          filetype: 'regular',
          filename: 'eve.json',
          types: [
            { alert: { 'tagged-packets': 'yes' } },
            { anomaly: { enabled: 'yes' } },
            ...['http', 'dns', 'tls', 'files', 'smtp', 'ftp', 'rdp', 'nfs', 'smb', 'tftp', 'ike', 'dcerpc', 'krb5', 'bittorrent-dht', 'snmp', 'rfb', 'sip', 'quic', 'dhcp', 'ssh', 'mqtt', 'http2', 'pgsql', 'ldap', 'doh2', 'mdns', 'websocket'],
            'flow',
            { stats: { totals: 'yes', threads: 'no', deltas: 'no' } },
          ],
        },
      },
    ],
    'host-os-policy': { windows: ['0.0.0.0/0'], bsd: [], 'bsd-right': [], 'old-linux': [], linux: [], 'old-solaris': [], solaris: [], hpux10: [], hpux11: [], irix: [], macos: [], vista: [], windows2k3: [] },
    stats: { enabled: 'yes', interval: 8 },
    stream: { memcap: '64mb', 'checksum-validation': 'yes', inline: 'auto', reassembly: { memcap: '256mb', depth: '1mb', 'toserver-chunk-size': 2560, 'toclient-chunk-size': 2560 } },
  };
}

/** What the EVE log (eve.json) writes. */
export interface EveSettings {
  /** Record types written (alert, flow, anomaly, stats, http, ...). */
  types: Set<string>;
  /** Anomaly kinds logged: Suricata's default is application-layer anomalies only. */
  anomaly: { decode: boolean; stream: boolean; applayer: boolean };
  /** The dns logger's format: 3 unless the configuration asks for 2 (Suricata 8's default is 3). */
  dnsVersion: 2 | 3;
  alert: { payload: boolean; payloadPrintable: boolean; packet: boolean; xff: XffOptions | null };
  /** `ethernet: yes`: records carry the MAC addresses (Outpost writes none). */
  ethernet: boolean;
  /** `ipv6-compress: yes` (Suricata 9): IPv6 addresses as RFC 5952 text; otherwise Suricata writes every group in full. */
  ipv6Compress: boolean;
}

/** One host-os-policy entry: the policy and the address it covers, with its prefix length for best-match. */
export interface HostPolicyEntry {
  policy: string;
  address: string;
  prefix: number;
  matcher: AddressMatcher | null;
}

/** The settings Outpost takes from a suricata.yaml. */
export interface SuricataSettings {
  vars: RuleVars;
  /** null: eve.json is not written at all. */
  eve: EveSettings | null;
  /** A fast output writes fast.log. */
  fastLog: boolean;
  /** Global stats.enabled. */
  statsEnabled: boolean;
  /** packet-alert-max: 1..255, else Suricata's default 15. */
  packetAlertMax: number;
  hostPolicies: HostPolicyEntry[];
  /** stream.reassembly.toserver-chunk-size, when set. */
  chunkSize: number | null;
  /** threshold-file, as given (may hold ${TEST_DIR}). */
  thresholdFile: string | null;
  /** Settings that change behaviour Outpost does not model, for the report (exception policies, ...). */
  exceptionPolicies: string[];
  /** app-layer.protocols.http.libhtp.default-config: body bytes kept for inspection, encoding layers decoded. */
  httpLimits: { requestBodyLimit?: number; responseBodyLimit?: number; decompressLayerLimit?: number };
}

/** The libhtp default-config settings Outpost's HTTP parser takes, by key under app-layer.protocols.http.libhtp.default-config. */
export const HTTP_LIMIT_KEYS = {
  'request-body-limit': 'requestBodyLimit',
  'response-body-limit': 'responseBodyLimit',
  'response-body-decompress-layer-limit': 'decompressLayerLimit',
} as const;

function extractHttpLimits(tree: YamlMap): SuricataSettings['httpLimits'] {
  const out: SuricataSettings['httpLimits'] = {};
  for (const [key, field] of Object.entries(HTTP_LIMIT_KEYS)) {
    const v = configValue(tree, `app-layer.protocols.http.libhtp.default-config.${key}`);
    if (v === undefined || v === null) continue;
    const m = /^\s*(\d+)\s*(kb|mb|gb|kib|mib|gib|b)?\s*$/i.exec(String(v));
    if (m === null) continue;
    const unit = (m[2] ?? '').toLowerCase();
    out[field] = Number(m[1]) * (unit.startsWith('g') ? 1024 ** 3 : unit.startsWith('m') ? 1024 ** 2 : unit.startsWith('k') ? 1024 : 1);
  }
  return out;
}

/** Host-os-policy names Outpost's reassembly knows (Suricata's set). */
const HOST_POLICIES = new Set(['windows', 'bsd', 'bsd-right', 'old-linux', 'linux', 'old-solaris', 'solaris', 'hpux10', 'hpux11', 'irix', 'macos', 'vista', 'windows2k3']);

export function extractSettings(tree: YamlMap): SuricataSettings {
  const vars = extractVars(tree);
  let eve: EveSettings | null = null;
  let fastLog = false;
  const outputs = tree.outputs;
  if (Array.isArray(outputs)) {
    for (const item of outputs) {
      if (!isMap(item)) continue;
      for (const [kind, conf] of Object.entries(item)) {
        if (!isMap(conf) || !isTrue(conf.enabled)) continue;
        if (kind === 'fast' && (conf.filename === undefined || String(conf.filename) === 'fast.log')) fastLog = true;
        if (kind === 'eve-log' && (conf.filename === undefined || String(conf.filename) === 'eve.json')) eve = mergeEve(eve, conf);
      }
    }
  }
  const stats = tree.stats;
  const statsEnabled = !(isMap(stats) && isFalse(stats.enabled));
  const pam = Number(configValue(tree, 'packet-alert-max'));
  const packetAlertMax = Number.isInteger(pam) && pam >= 1 && pam <= 255 ? pam : 15;
  const chunk = Number(configValue(tree, 'stream.reassembly.toserver-chunk-size'));
  const threshold = configValue(tree, 'threshold-file');
  return {
    vars,
    eve,
    fastLog,
    statsEnabled,
    packetAlertMax,
    hostPolicies: extractHostPolicies(tree, vars),
    chunkSize: Number.isInteger(chunk) && chunk > 0 ? chunk : null,
    thresholdFile: threshold === undefined || threshold === null ? null : String(threshold),
    exceptionPolicies: exceptionPolicies(tree),
    httpLimits: extractHttpLimits(tree),
  };
}

function extractVars(tree: YamlMap): RuleVars {
  const addressGroups: Record<string, string> = {};
  const portGroups: Record<string, string> = {};
  const text = (v: unknown): string => (Array.isArray(v) ? `[${v.map(String).join(',')}]` : String(v));
  const a = configValue(tree, 'vars.address-groups');
  if (isMap(a)) for (const [k, v] of Object.entries(a)) if (v !== null && v !== undefined) addressGroups[k] = text(v);
  const p = configValue(tree, 'vars.port-groups');
  if (isMap(p)) for (const [k, v] of Object.entries(p)) if (v !== null && v !== undefined) portGroups[k] = text(v);
  return { addressGroups, portGroups };
}

function mergeEve(prior: EveSettings | null, conf: YamlMap): EveSettings {
  const eve: EveSettings = prior ?? { types: new Set(), anomaly: { decode: false, stream: false, applayer: false }, dnsVersion: 3, alert: { payload: false, payloadPrintable: false, packet: false, xff: null }, ethernet: false, ipv6Compress: false };
  if (isTrue(conf.ethernet)) eve.ethernet = true;
  if (isTrue(conf['ipv6-compress'])) eve.ipv6Compress = true;
  const types = conf.types;
  if (!Array.isArray(types)) return eve;
  for (const t of types) {
    let name: string;
    let opts: YamlMap = {};
    if (typeof t === 'string') name = t;
    else if (isMap(t)) {
      const entries = Object.entries(t);
      if (entries.length === 0) continue;
      name = entries[0]![0];
      if (isMap(entries[0]![1])) opts = entries[0]![1];
    } else continue;
    if (isFalse(opts.enabled)) continue;
    eve.types.add(name);
    if (name === 'alert') {
      if (isTrue(opts.payload)) eve.alert.payload = true;
      if (isTrue(opts['payload-printable'])) eve.alert.payloadPrintable = true;
      if (isTrue(opts.packet)) eve.alert.packet = true;
      const xff = opts.xff;
      if (isMap(xff) && isTrue(xff.enabled)) {
        eve.alert.xff = {
          mode: xff.mode === 'overwrite' ? 'overwrite' : 'extra-data',
          deployment: xff.deployment === 'forward' ? 'forward' : 'reverse',
          header: typeof xff.header === 'string' && xff.header !== '' ? xff.header : 'X-Forwarded-For',
        };
      }
    }
    if (name === 'dns' && String(opts.version) === '2') eve.dnsVersion = 2;
    if (name === 'anomaly') {
      // output-json-anomaly.c: application-layer anomalies by default; types: decode/stream/applayer switch each.
      const a = { decode: false, stream: false, applayer: true };
      const tc = opts.types;
      if (isMap(tc)) {
        for (const k of ['decode', 'stream', 'applayer'] as const) {
          if (tc[k] !== undefined && tc[k] !== null) a[k] = isTrue(tc[k]);
        }
      }
      eve.anomaly = { decode: eve.anomaly.decode || a.decode, stream: eve.anomaly.stream || a.stream, applayer: eve.anomaly.applayer || a.applayer };
    }
  }
  return eve;
}

function extractHostPolicies(tree: YamlMap, vars: RuleVars): HostPolicyEntry[] {
  const hop = tree['host-os-policy'];
  if (!isMap(hop)) return [];
  const out: HostPolicyEntry[] = [];
  for (const [policy, hosts] of Object.entries(hop)) {
    if (!HOST_POLICIES.has(policy)) continue;
    const list = Array.isArray(hosts) ? hosts : typeof hosts === 'string' ? hosts.replace(/^\[|\]$/g, '').split(',') : [];
    for (const h of list) {
      const address = String(h).trim();
      if (address === '') continue;
      const slash = address.indexOf('/');
      const prefix = slash >= 0 ? Number(address.slice(slash + 1)) : address.includes(':') ? 128 : 32;
      // An IPv4 prefix counts in the 128-bit space, so /0 over IPv4 is less specific than any IPv4 host.
      const bits = address.includes(':') ? prefix : prefix + 96;
      out.push({ policy, address, prefix: bits, matcher: compileAddress(address, vars.addressGroups) });
    }
  }
  return out;
}

/** Exception-policy settings (exception-policy, *.memcap-policy, midstream-policy, error-policy): tests of engine limits. */
function exceptionPolicies(tree: YamlMap): string[] {
  const out: string[] = [];
  const walk = (node: unknown, path: string): void => {
    if (!isMap(node)) return;
    for (const [k, v] of Object.entries(node)) {
      const p = path === '' ? k : `${path}.${k}`;
      if ((k === 'exception-policy' || k.endsWith('-policy')) && k !== 'host-os-policy' && (typeof v === 'string' || typeof v === 'boolean')) out.push(`${p}=${String(v)}`);
      else if (k !== 'host-os-policy' && k !== 'outputs' && k !== 'vars') walk(v, p);
    }
  };
  walk(tree, '');
  return out;
}
