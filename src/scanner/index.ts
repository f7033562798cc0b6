/**
 * The scanner (issue 8): finds PCT-enabled and legacy-SSL servers and says how to fix them. What
 * other rooms (the CLI, the collector) may use.
 */
export { classifyReply, replyComplete, speaksSsl, type ReplyClass, type ReplyEnd, type ReplyKind } from './classify.js';
export { endpointFindings, PCT_REG_FILE, PCT_REMEDIATION, PROTOCOL_REMEDIATION, scanResultJson, type EndpointResults, type Finding, type FindingId, type Severity } from './findings.js';
export { pctClientHello, PROBE_KINDS, probeHello, sslv2ClientHello, tlsClientHello, type ProbeKind } from './hellos.js';
export { MAX_REPLY, PROBE_DEFAULTS, runProbe, type ProbeOptions, type ProbeResult } from './probe.js';
export { DEFAULT_PORTS, MAX_CONCURRENCY, MAX_RETRIES, planScan, scan, type Endpoint, type ScanOptions, type ScanReport } from './scan.js';
export { inScope, loopbackScope, parseScope, parseTarget, ScopeError, type Scope, type Target } from './scope.js';
export { escapeHtml, findingsCsv, findingsHtml } from './report.js';
export { MAX_PREAMBLE, STARTTLS_PORTS, StarttlsDialogue, type StarttlsProtocol } from './starttls.js';
