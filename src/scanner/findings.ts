/**
 * Findings in testssl.sh's JSON shape ({id, ip, port, severity, cve, cwe, finding}) plus
 * `evidence` (the reply bytes, hex), `cvss` and `remediation`. The ids are testssl's and stable:
 * PCT, SSLv2, SSLv3, TLS1, TLS1_1, TLS1_2, TLS1_3, service. Severities follow testssl.sh.
 */
import { speaksSsl, tlsVersionLabel } from './classify.js';
import { TLS_PROBE_VERSION, type ProbeKind, type TlsProbeKind } from './hellos.js';
import type { ProbeResult } from './probe.js';

export type Severity = 'OK' | 'INFO' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';

export type FindingId = 'PCT' | 'SSLv2' | 'SSLv3' | 'TLS1' | 'TLS1_1' | 'TLS1_2' | 'TLS1_3' | 'service';

/** One finding, as testssl.sh's `--jsonfile` writes it, plus evidence, CVSS and remediation. */
export interface Finding {
  /** Stable id (testssl's). */
  id: FindingId;
  /** The address scanned; `name/address` when the target was a host name, as testssl writes it. */
  ip: string;
  /** The TCP port, a string as in testssl's output. */
  port: string;
  severity: Severity;
  /** CVE ids, space-separated; empty when none applies. */
  cve: string;
  /** CWE id ("CWE-119"); empty when none applies. */
  cwe: string;
  /** What was found, in words. */
  finding: string;
  /** The reply bytes that decided it, hex (at most EVIDENCE_BYTES); empty when nothing came back. */
  evidence: string;
  /** CVSS v2 base score as text ("10.0"); empty when none applies. */
  cvss: string;
  /** What to do about it; empty when nothing needs doing. */
  remediation: string;
}

/** Enough for any hello or error and the start of a certificate, small enough for a report row. */
export const EVIDENCE_BYTES = 512;

const evidenceOf = (r: ProbeResult | undefined): string => (r === undefined ? '' : r.bytes.subarray(0, EVIDENCE_BYTES).toString('hex'));

/** The KB 187498 / MS04-011 fix: disable PCT 1.0 for Schannel's server and client sides. */
export const PCT_REG_FILE = [
  'Windows Registry Editor Version 5.00',
  '',
  '[HKEY_LOCAL_MACHINE\\System\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\PCT 1.0\\Server]',
  '"Enabled"=dword:00000000',
  '',
  '[HKEY_LOCAL_MACHINE\\System\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\PCT 1.0\\Client]',
  '"Enabled"=dword:00000000',
].join('\n');

export const PCT_REMEDIATION = [
  'Install MS04-011 (KB 835732), which fixes CVE-2003-0719 in Schannel (Lsasrv.dll).',
  'Then disable PCT 1.0 (KB 187498): import this .reg file (or create the REG_DWORD Enabled = 0 under both keys) and reboot:',
  '',
  PCT_REG_FILE,
  '',
  'Verify afterwards by rescanning: the native PCT 1.0 CLIENT_HELLO and the SSLv2 CLIENT-HELLO offering PCT (cipher kind 8F 80 01) must both get a "no PCT" answer',
  '(an SSLv2 ERROR, an SSLv2 SERVER-HELLO, a TLS alert or a plain close), never a PCT SERVER_HELLO or a PCT ERROR.',
].join('\n');

const IIS_KEY = (protocol: string): string =>
  `IIS/Schannel: set "Enabled"=dword:00000000 under HKLM\\System\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\${protocol}\\Server (and \\Client), then reboot.`;

/** Server-configuration advice per legacy protocol. */
export const PROTOCOL_REMEDIATION: Readonly<Record<'SSLv2' | 'SSLv3' | 'TLS1' | 'TLS1_1', string>> = {
  SSLv2: ['Disable SSLv2.', 'Apache mod_ssl: SSLProtocol -all +TLSv1.2 +TLSv1.3', 'nginx: ssl_protocols TLSv1.2 TLSv1.3;', IIS_KEY('SSL 2.0')].join('\n'),
  SSLv3: ['Disable SSLv3 (POODLE, CVE-2014-3566).', 'Apache mod_ssl: SSLProtocol -all +TLSv1.2 +TLSv1.3', 'nginx: ssl_protocols TLSv1.2 TLSv1.3;', IIS_KEY('SSL 3.0')].join('\n'),
  TLS1: ['Disable TLS 1.0 (deprecated by RFC 8996).', 'Apache mod_ssl: SSLProtocol -all +TLSv1.2 +TLSv1.3', 'nginx: ssl_protocols TLSv1.2 TLSv1.3;', IIS_KEY('TLS 1.0')].join('\n'),
  TLS1_1: ['Disable TLS 1.1 (deprecated by RFC 8996).', 'Apache mod_ssl: SSLProtocol -all +TLSv1.2 +TLSv1.3', 'nginx: ssl_protocols TLSv1.2 TLSv1.3;', IIS_KEY('TLS 1.1')].join('\n'),
};

/** Everything a scan learnt about one host:port: every probe's result, by probe. */
export interface EndpointResults {
  /** As the finding's `ip` field shows it. */
  ip: string;
  port: number;
  results: Partial<Record<ProbeKind, ProbeResult>>;
}

const TLS_FINDINGS: readonly { id: FindingId; probe: TlsProbeKind; offered: Severity; notOffered: Severity; cve: string; cwe: string }[] = [
  { id: 'SSLv3', probe: 'ssl3', offered: 'HIGH', notOffered: 'OK', cve: 'CVE-2014-3566', cwe: 'CWE-310' },
  { id: 'TLS1', probe: 'tls1', offered: 'LOW', notOffered: 'INFO', cve: '', cwe: 'CWE-327' },
  { id: 'TLS1_1', probe: 'tls1_1', offered: 'LOW', notOffered: 'INFO', cve: '', cwe: 'CWE-327' },
  { id: 'TLS1_2', probe: 'tls1_2', offered: 'OK', notOffered: 'INFO', cve: '', cwe: '' },
  { id: 'TLS1_3', probe: 'tls1_3', offered: 'OK', notOffered: 'INFO', cve: '', cwe: '' },
];

const base = (e: EndpointResults): Pick<Finding, 'ip' | 'port'> => ({ ip: e.ip, port: String(e.port) });

/** What the service on a port is: closed, unreachable, not SSL, silent, or SSL/TLS. */
export function serviceFinding(e: EndpointResults): Finding {
  const all = Object.values(e.results);
  const answered = all.filter((r) => r.outcome === 'answered');
  const ssl = answered.find((r) => r.reply !== null && speaksSsl(r.reply.kind));
  const echo = answered.find((r) => r.reply?.kind === 'echo');
  const other = answered.find((r) => r.reply?.kind === 'not_ssl');
  let finding: string;
  let evidence = '';
  const refusedUpgrade = answered.find((r) => r.starttls?.refused != null);
  if (ssl !== undefined) {
    finding = 'SSL/TLS';
  } else if (refusedUpgrade !== undefined) {
    finding = `not SSL (${refusedUpgrade.starttls!.protocol.toUpperCase()}: ${refusedUpgrade.starttls!.refused!})`;
    evidence = evidenceOf(refusedUpgrade);
  } else if (all.length > 0 && all.every((r) => r.outcome === 'closed')) {
    finding = 'closed';
  } else if (answered.length === 0) {
    finding = 'unreachable (connect timed out or host unreachable)';
  } else if (echo !== undefined || other !== undefined) {
    const r = echo ?? other!;
    finding = `not SSL (${r.reply!.summary})`;
    evidence = evidenceOf(r);
  } else {
    finding = 'not SSL (no SSL/TLS answer to any hello)';
  }
  return { id: 'service', ...base(e), severity: 'INFO', cve: '', cwe: '', finding, evidence, cvss: '', remediation: '' };
}

function pctFinding(e: EndpointResults): Finding {
  const probes = [e.results.pct, e.results.sslv2_pct].filter((r): r is ProbeResult => r !== undefined);
  const rank = (r: ProbeResult): number => (r.reply?.kind === 'pct_enabled' ? 3 : r.reply?.kind === 'pct_illegal_message' ? 2 : r.reply?.kind === 'pct_active' ? 1 : 0);
  const worst = probes.reduce<ProbeResult | undefined>((a, r) => (a === undefined || rank(r) > rank(a) ? r : a), undefined);
  const how = worst === undefined ? '' : worst.probe === 'pct' ? 'native PCT 1.0 CLIENT_HELLO' : 'SSLv2 CLIENT-HELLO offering PCT (8F 80 01)';
  const vulnerable = { cve: 'CVE-2003-0719', cwe: 'CWE-119', cvss: '10.0', remediation: PCT_REMEDIATION };
  switch (worst === undefined ? 0 : rank(worst)) {
    case 3:
      return { id: 'PCT', ...base(e), severity: 'CRITICAL', finding: `PCT 1.0 enabled: the server answered a ${how} with a PCT SERVER_HELLO (MS04-011 exposure)`, evidence: evidenceOf(worst), ...vulnerable };
    case 2:
      return { id: 'PCT', ...base(e), severity: 'CRITICAL', finding: `PCT code active: PCT ERROR ILLEGAL_MESSAGE to a ${how}, as unpatched IIS answers (MS04-011 exposure likely)`, evidence: evidenceOf(worst), ...vulnerable };
    case 1:
      return { id: 'PCT', ...base(e), severity: 'HIGH', finding: `PCT code active: a PCT ERROR to a ${how} (${worst!.reply!.summary})`, evidence: evidenceOf(worst), ...vulnerable };
  }
  const replies = probes.map((r) => `${r.probe === 'pct' ? 'native PCT' : 'SSLv2+PCT'}: ${r.reply?.summary ?? r.outcome}`).join('; ');
  return { id: 'PCT', ...base(e), severity: 'OK', cve: '', cwe: '', finding: `not offered (${replies})`, evidence: probes.map(evidenceOf).join(' '), cvss: '', remediation: '' };
}

function sslv2Finding(e: EndpointResults): Finding {
  const r = e.results.sslv2;
  if (r?.reply?.kind === 'sslv2_server_hello') {
    return { id: 'SSLv2', ...base(e), severity: 'CRITICAL', cve: 'CVE-2016-0800 CVE-2016-0703', cwe: 'CWE-310', finding: 'offered', evidence: evidenceOf(r), cvss: '', remediation: PROTOCOL_REMEDIATION.SSLv2 };
  }
  return { id: 'SSLv2', ...base(e), severity: 'OK', cve: '', cwe: '', finding: `not offered${r?.reply ? ` (${r.reply.summary})` : ''}`, evidence: evidenceOf(r), cvss: '', remediation: '' };
}

function tlsFinding(e: EndpointResults, spec: (typeof TLS_FINDINGS)[number]): Finding {
  const r = e.results[spec.probe];
  const want = TLS_PROBE_VERSION[spec.probe];
  const offered = r?.reply?.kind === 'tls_server_hello' && r.reply.version === want;
  const remediation = offered && spec.id in PROTOCOL_REMEDIATION ? PROTOCOL_REMEDIATION[spec.id as keyof typeof PROTOCOL_REMEDIATION] : '';
  let finding = offered ? (spec.offered === 'OK' ? 'offered' : 'offered (deprecated)') : 'not offered';
  if (!offered && r?.reply) finding += r.reply.kind === 'tls_server_hello' ? ` (server chose ${tlsVersionLabel(r.reply.version ?? 0)})` : ` (${r.reply.summary})`;
  return {
    id: spec.id,
    ...base(e),
    severity: offered ? spec.offered : spec.notOffered,
    cve: offered ? spec.cve : '',
    cwe: offered ? spec.cwe : '',
    finding,
    evidence: evidenceOf(r),
    cvss: '',
    remediation,
  };
}

/**
 * The findings for one host:port: always `service`; when it speaks SSL/TLS, also PCT, SSLv2,
 * SSLv3, TLS1, TLS1_1, TLS1_2 and TLS1_3 (for the probes that were sent).
 */
export function endpointFindings(e: EndpointResults): Finding[] {
  const service = serviceFinding(e);
  if (service.finding !== 'SSL/TLS') return [service];
  const out = [service];
  if (e.results.pct !== undefined || e.results.sslv2_pct !== undefined) out.push(pctFinding(e));
  if (e.results.sslv2 !== undefined) out.push(sslv2Finding(e));
  for (const spec of TLS_FINDINGS) if (e.results[spec.probe] !== undefined) out.push(tlsFinding(e, spec));
  return out;
}

/** The `--json` document: testssl's `{"scanResult": [...]}`. */
export function scanResultJson(findings: readonly Finding[]): { scanResult: Finding[] } {
  return { scanResult: [...findings] };
}
