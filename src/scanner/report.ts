import type { Finding } from './findings.js';

/**
 * Scan reports besides JSON: CSV in testssl.sh's `--csvfile` layout, and one self-contained
 * HTML page (no script, no external resource; every value escaped, since findings quote what
 * servers sent).
 */

const CSV_COLUMNS = ['id', 'fqdn/ip', 'port', 'severity', 'finding', 'cve', 'cwe'] as const;

/** One CSV field: quoted, inner quotes doubled (RFC 4180), as testssl.sh quotes every field. */
function csvField(value: string): string {
  return `"${value.replace(/"/g, '""')}"`;
}

/** testssl.sh's CSV: a header, then one line per finding. Evidence and remediation are JSON's. */
export function findingsCsv(findings: readonly Finding[]): string {
  const lines = [CSV_COLUMNS.map(csvField).join(',')];
  for (const f of findings) lines.push([f.id, f.ip, f.port, f.severity, f.finding, f.cve, f.cwe].map(csvField).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for HTML element content or a quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const SEVERITY_ORDER = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'WARN', 'INFO', 'OK'];

/**
 * A self-contained HTML report: a summary by severity, the findings by endpoint, and under each
 * CRITICAL or HIGH finding its remediation and evidence. Styles are inline in a <style> element;
 * there is no script at all.
 */
export function findingsHtml(findings: readonly Finding[], meta: { generated: string; targets: readonly string[] }): string {
  const counts = new Map<string, number>();
  for (const f of findings) counts.set(f.severity, (counts.get(f.severity) ?? 0) + 1);
  const summary = SEVERITY_ORDER.filter((s) => counts.has(s))
    .map((s) => `<li class="${s.toLowerCase()}">${s}: ${counts.get(s)!}</li>`)
    .join('');
  const rows: string[] = [];
  for (const f of findings) {
    rows.push(
      `<tr class="${escapeHtml(f.severity.toLowerCase())}"><td>${escapeHtml(f.ip)}:${escapeHtml(f.port)}</td><td>${escapeHtml(f.id)}</td><td>${escapeHtml(f.severity)}</td><td>${escapeHtml(f.finding)}</td><td>${escapeHtml(f.cve)}</td></tr>`,
    );
    if (f.severity === 'CRITICAL' || f.severity === 'HIGH') {
      rows.push(`<tr class="fix"><td colspan="5"><details><summary>How to fix</summary><pre>${escapeHtml(f.remediation)}</pre>${f.evidence !== '' ? `<p>Evidence (reply bytes): <code>${escapeHtml(f.evidence)}</code></p>` : ''}</details></td></tr>`);
    }
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Outpost scan</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}
.critical td:nth-child(3){color:#fff;background:#a00}.high td:nth-child(3){background:#e60;color:#fff}
.low td:nth-child(3){background:#fd6}pre{white-space:pre-wrap}code{word-break:break-all}
li.critical{color:#a00}li.high{color:#e60}
</style></head><body>
<h1>Outpost scan</h1>
<p>Generated ${escapeHtml(meta.generated)} for ${meta.targets.map(escapeHtml).join(', ')}.</p>
<ul>${summary}</ul>
<table><thead><tr><th>endpoint</th><th>id</th><th>severity</th><th>finding</th><th>CVE</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>
</body></html>
`;
}
