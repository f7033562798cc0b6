import { splitRuleFile } from '../rules/file.js';
import { parseRuleSyntax, type RuleSyntax } from '../rules/syntax.js';
import { isMap } from './suricata-config.js';

/**
 * What a test needs that Outpost does not have, read from its rules and its checks. Each finding
 * names the missing part, so a skip says why ("needs the HTTP analyzer"), never only that it
 * was skipped.
 */

/** Application protocols by the name rules and EVE use, with the analyzer's display name. */
const APP_PROTOCOLS: ReadonlyMap<string, string> = new Map([
  ['http', 'HTTP'], ['http1', 'HTTP'], ['http2', 'HTTP/2'], ['dns', 'DNS'], ['tls', 'TLS'], ['ssl', 'TLS'], ['smtp', 'SMTP'], ['email', 'SMTP'],
  ['ftp', 'FTP'], ['ftp-data', 'FTP'], ['ftp_data', 'FTP'], ['ssh', 'SSH'], ['smb', 'SMB'], ['dcerpc', 'DCERPC'], ['dhcp', 'DHCP'], ['ntp', 'NTP'],
  ['tftp', 'TFTP'], ['krb5', 'Kerberos'], ['ike', 'IKE'], ['ikev2', 'IKE'], ['snmp', 'SNMP'], ['sip', 'SIP'], ['rfb', 'RFB'], ['mqtt', 'MQTT'],
  ['rdp', 'RDP'], ['nfs', 'NFS'], ['imap', 'IMAP'], ['pop3', 'POP3'], ['modbus', 'Modbus'], ['dnp3', 'DNP3'], ['enip', 'ENIP'], ['cip', 'ENIP'],
  ['quic', 'QUIC'], ['doh2', 'DoH2'], ['ldap', 'LDAP'], ['bittorrent-dht', 'BitTorrent DHT'], ['bittorrent_dht', 'BitTorrent DHT'],
  ['telnet', 'Telnet'], ['websocket', 'WebSocket'], ['pgsql', 'PostgreSQL'], ['mdns', 'mDNS'], ['sdp', 'SIP'], ['arp', ''],
]);

/** Keywords and buffers that work on files carried by an application protocol. */
const FILE_KEYWORDS = new Set(['file.data', 'file_data', 'filename', 'fileext', 'filemagic', 'filemd5', 'filesha1', 'filesha256', 'filesize', 'filestore', 'file.name', 'file.magic', 'file.mime']);

/** pcre modifiers that make the pattern look at an HTTP buffer (Suricata's /U /I /P /Q /H /D /M /C /K /S /Y /V /W /Z). */
const HTTP_PCRE_FLAGS = /[UIPQHDMCKSYVWZ]/;

/** What the protocol part of the analysis found: protocol display names, and whether files are needed. */
export interface AppNeeds {
  protocols: Set<string>;
  files: boolean;
  /** app-layer-protocol / app_proto: protocol detection itself. */
  detection: boolean;
  /** Where it was seen, for the reason ("rule sid 1: http.uri"). */
  evidence: string[];
}

export function emptyNeeds(): AppNeeds {
  return { protocols: new Set(), files: false, detection: false, evidence: [] };
}

/** The protocol named by a keyword's prefix ("http.uri", "dns_query", "tls.sni", "ja3.hash", "dce_iface"). */
function keywordProtocol(name: string): string | null {
  if (name === 'uricontent' || name === 'urilen') return 'HTTP';
  if (/^(ja3|ja3s|ja4)[._]/.test(name) || name === 'ssl_state' || name === 'ssl_version') return 'TLS';
  if (/^dce_/.test(name)) return 'DCERPC';
  if (name === 'ftpbounce' || name === 'ftpdata_command') return 'FTP';
  if (/^(hassh)/.test(name)) return 'SSH';
  if (name === 'modbus') return 'Modbus';
  if (/^krb5/.test(name)) return 'Kerberos';
  if (/^dnp3/.test(name)) return 'DNP3';
  if (/^(enip|cip)_/.test(name)) return 'ENIP';
  const m = /^([a-z0-9-]+?)(?:[._]|$)/.exec(name);
  if (m === null) return null;
  const prefix = m[1]!;
  if (prefix === 'http' && name.startsWith('http2')) return 'HTTP/2';
  if (!/[._]/.test(name)) return null;
  const p = APP_PROTOCOLS.get(prefix);
  return p === undefined || p === '' ? null : p;
}

/** Reads the rules of a file for application-layer needs: header protocols, app keywords, HTTP pcre modifiers. */
export function ruleAppNeeds(text: string, needs: AppNeeds): void {
  for (const line of splitRuleFile(text)) {
    if (line.disabled) continue;
    let syntax: RuleSyntax;
    try {
      syntax = parseRuleSyntax(line.text);
    } catch {
      continue; // the rule loader reports it
    }
    const sid = syntax.options.find((o) => o.name === 'sid')?.value ?? `line ${line.line}`;
    const proto = APP_PROTOCOLS.get(syntax.proto);
    if (proto !== undefined && proto !== '') {
      needs.protocols.add(proto);
      needs.evidence.push(`sid ${sid}: alert ${syntax.proto}`);
    }
    for (const o of syntax.options) {
      const name = o.name;
      if (FILE_KEYWORDS.has(name)) {
        needs.files = true;
        needs.evidence.push(`sid ${sid}: ${name}`);
        continue;
      }
      if (name === 'app-layer-protocol') {
        needs.detection = true;
        const p = APP_PROTOCOLS.get((o.value ?? '').replace(/^!/, '').split(/[,\s]/)[0]!.trim());
        if (p !== undefined && p !== '') needs.protocols.add(p);
        needs.evidence.push(`sid ${sid}: app-layer-protocol:${o.value ?? ''}`);
        continue;
      }
      if (name === 'app-layer-event') {
        const p = APP_PROTOCOLS.get((o.value ?? '').split('.')[0]!.trim());
        if (p !== undefined && p !== '') needs.protocols.add(p);
        else needs.detection = true;
        needs.evidence.push(`sid ${sid}: app-layer-event:${o.value ?? ''}`);
        continue;
      }
      if (name === 'pcre' && o.value !== null) {
        const m = /\/([A-Za-z]*)"?\s*$/.exec(o.value);
        if (m !== null && HTTP_PCRE_FLAGS.test(m[1]!)) {
          needs.protocols.add('HTTP');
          needs.evidence.push(`sid ${sid}: pcre /${m[1]}`);
        }
        continue;
      }
      const p = keywordProtocol(name);
      if (p !== null) {
        needs.protocols.add(p);
        needs.evidence.push(`sid ${sid}: ${name}`);
      }
    }
  }
}

/** EVE record types written by the protocol analyzers and file tracking. */
function eventTypeNeed(type: string, needs: AppNeeds): boolean {
  if (type === 'fileinfo' || type === 'files') {
    needs.files = true;
    return true;
  }
  if (type === 'frame') {
    needs.detection = true;
    return true;
  }
  const p = APP_PROTOCOLS.get(type);
  if (p === undefined || p === '') return false;
  needs.protocols.add(p);
  return true;
}

/** The first segment of a dotted EVE key ("http.hostname" → "http", "dns.answers[0].rrname" → "dns"). */
function keyHead(key: string): string {
  return key.split('.')[0]!.replace(/\[\d+\]$/, '');
}

function keyNeed(key: string, needs: AppNeeds): boolean {
  let k = key;
  if (k.startsWith('stats.')) k = k.slice('stats.'.length);
  if (k.startsWith('app_layer.')) {
    const proto = k.split('.')[2];
    const p = proto === undefined ? undefined : APP_PROTOCOLS.get(proto.replace(/^dcerpc_.*/, 'dcerpc'));
    if (p !== undefined && p !== '') needs.protocols.add(p);
    else needs.detection = true;
    return true;
  }
  const head = keyHead(k);
  if (head === 'app_proto' || head.startsWith('app_proto_') || key === 'anomaly.app_proto' || key === 'anomaly.layer') {
    needs.detection = true;
    return true;
  }
  return eventTypeNeed(head, needs);
}

/**
 * Reads the checks for application-layer needs. Only filters that expect records (count > 0)
 * count: a check that something is absent holds without the analyzer.
 */
export function checkAppNeeds(filters: Array<Record<string, unknown>>, statsKeys: string[], needs: AppNeeds): void {
  for (const f of filters) {
    const match = isMap(f.match) ? f.match : {};
    if (f.count === 0) continue;
    for (const [key, value] of Object.entries(match)) {
      let hit = false;
      if (key === 'event_type' && typeof value === 'string') hit = eventTypeNeed(value, needs);
      else if (key === 'has-key') hit = (Array.isArray(value) ? value : [value]).some((v) => keyNeed(String(v), needs));
      else if (key === 'anomaly.type' && value === 'applayer') {
        needs.detection = true;
        hit = true;
      } else if (key !== 'not-has-key') hit = keyNeed(key, needs);
      if (hit) needs.evidence.push(`check ${key}: ${JSON.stringify(value)}`);
    }
  }
  for (const key of statsKeys) if (keyNeed(key, needs)) needs.evidence.push(`stats ${key}`);
}

/**
 * The analyzers a sensor runs, by the display names above (from the EVE app_proto names of its
 * protocols): tests that need only these run. Protocol detection and file tracking come with them.
 */
export function analyzedNames(appProtos: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const p of appProtos) {
    const name = APP_PROTOCOLS.get(p);
    if (name !== undefined && name !== '') out.add(name);
  }
  return out;
}

/** "needs the SMTP analyzer (not in Outpost)", or null when everything needed is there. */
export function appNeedsReason(needs: AppNeeds, analyzed: ReadonlySet<string> = new Set()): string | null {
  const missing = [...needs.protocols].filter((p) => !analyzed.has(p)).sort();
  const parts: string[] = [];
  if (missing.length > 0) parts.push(`the ${missing.join(', ')} analyzer${missing.length > 1 ? 's' : ''}`);
  if (analyzed.size === 0) {
    if (needs.files) parts.push('file tracking (fileinfo)');
    if (parts.length === 0 && needs.detection) parts.push('application-layer protocol detection');
  }
  if (parts.length === 0) return null;
  return `needs ${parts.join(' and ')} (not in Outpost)`;
}

/**
 * Checks of verdicts: drop records, `verdict` objects, blocked alerts. They only mean something
 * for an inline sensor. Only checks expecting records (count > 0) count.
 */
export function verdictCheck(filters: Array<Record<string, unknown>>): string | null {
  for (const f of filters) {
    if (f.count === 0) continue;
    const match = isMap(f.match) ? f.match : {};
    for (const [key, value] of Object.entries(match)) {
      if (key === 'event_type' && value === 'drop') return 'checks drop records';
      if (/(^|\.)verdict(\.|$)/.test(key) || (key === 'has-key' && /verdict/.test(String(value)))) return `checks ${key}`;
      if (key === 'alert.action' && value === 'blocked') return 'checks blocked alerts';
      if ((key === 'flow.action' || key === 'drop.reason') && value !== undefined) return `checks ${key}`;
      if (key.startsWith('drop.')) return `checks ${key}`;
    }
  }
  return null;
}

/** Stats that are Suricata's own bookkeeping (memory use, allocation failures, bitmaps): nothing to compare. */
export function engineInternalStat(key: string): boolean {
  return /memuse|memcap|alloc_fail|bitmap|^uptime|\bthreads\.|exception_policy|^stats\.(uptime|threads)/.test(key);
}
