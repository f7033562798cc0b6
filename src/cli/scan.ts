import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_PORTS, findingsCsv, findingsHtml, parseScope, scan, scanResultJson, ScopeError, type Finding } from '../scanner/index.js';
import { Exit, UsageError } from './exit.js';

export const SCAN_USAGE = `usage: outpost scan <host[:port]|cidr>... [--ports LIST] [--json] [--scope FILE] [options]

Finds PCT-enabled and legacy-SSL servers and says how to fix them. Each endpoint gets a native
PCT 1.0 CLIENT_HELLO, an SSLv2 CLIENT-HELLO offering PCT, a plain SSLv2 CLIENT-HELLO, and SSLv3
and TLS 1.0-1.3 ClientHellos (all well-formed; never the exploit's shape); each answer is
classified (docs: ../shared/DOMAIN.md §2) into testssl.sh-compatible findings with the reply
bytes as evidence, a CVE, a CVSS and a concrete remediation.

Only loopback (127.0.0.0/8, ::1) is scanned unless --scope names the networks you are
authorised to test; a target outside it refuses the whole scan.

options:
      --ports LIST        ports for targets without one (default ${DEFAULT_PORTS.join(',')})
      --scope FILE        authorised CIDRs, one per line (# comments)
      --json              print {"scanResult": [findings...]} (testssl.sh's --jsonfile shape)
      --csv FILE          also write the findings as CSV (testssl.sh's --csvfile columns)
      --html FILE         also write a self-contained HTML report (no script)
      --concurrency N     endpoints probed at once (default 16)
      --timeout MS        per-probe read timeout (default 3000)
      --rate N            connections started per second at most (default: no limit)
  -h, --help              this help

Exit codes: 0 scanned (whatever was found), 1 a target was refused (scope) or unreadable, 2 usage.
SMTP (25, 587), IMAP (143), POP3 (110) and LDAP (389) are probed after STARTTLS.
Not built yet: a rate limit, sending findings to a collector.`;

export async function runScan(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        ports: { type: 'string' },
        scope: { type: 'string' },
        json: { type: 'boolean', default: false },
        csv: { type: 'string' },
        html: { type: 'string' },
        concurrency: { type: 'string' },
        timeout: { type: 'string' },
        rate: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const o = parsed.values;
  if (o.help) {
    process.stdout.write(`${SCAN_USAGE}\n`);
    return Exit.OK;
  }
  if (parsed.positionals.length === 0) throw new UsageError('no target given');
  const ports = o.ports?.split(',').map((p) => Number(p.trim()));
  if (ports !== undefined && ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) throw new UsageError(`--ports: "${o.ports}" is not a list of ports 1 to 65535`);
  const number = (v: string | undefined, name: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name}: "${v}" is not a positive whole number`);
    return n;
  };
  let scope;
  if (o.scope !== undefined) {
    try {
      scope = parseScope(readFileSync(o.scope, 'utf8'), o.scope);
    } catch (err) {
      process.stderr.write(`outpost scan: ${(err as Error).message}\n`);
      return 1;
    }
  }
  let report;
  try {
    const concurrency = number(o.concurrency, 'concurrency');
    const timeout = number(o.timeout, 'timeout');
    const rate = number(o.rate, 'rate');
    const progress = progressLine();
    report = await scan({
      ...(rate !== undefined ? { rate } : {}),
      ...(progress !== null ? { onProgress: progress } : {}),
      targets: parsed.positionals,
      ...(ports !== undefined ? { ports } : {}),
      ...(scope !== undefined ? { scope } : {}),
      ...(concurrency !== undefined ? { concurrency } : {}),
      ...(timeout !== undefined ? { readTimeoutMs: timeout } : {}),
    });
  } catch (err) {
    if (err instanceof ScopeError) {
      process.stderr.write(`outpost scan: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  if (o.csv !== undefined) writeFileSync(o.csv, findingsCsv(report.findings));
  if (o.html !== undefined) writeFileSync(o.html, findingsHtml(report.findings, { generated: new Date().toISOString(), targets: parsed.positionals }));
  if (o.json) process.stdout.write(`${JSON.stringify(scanResultJson(report.findings), null, 2)}\n`);
  else process.stdout.write(table(report.findings));
  return Exit.OK;
}

/** One line per finding, grouped by endpoint; remediation under the findings that need one. */
function table(findings: readonly Finding[]): string {
  const lines: string[] = [];
  let endpoint = '';
  for (const f of findings) {
    const here = `${f.ip}:${f.port}`;
    if (here !== endpoint) {
      lines.push('', here);
      endpoint = here;
    }
    lines.push(`  ${f.id.padEnd(8)} ${f.severity.padEnd(8)} ${f.finding}${f.cve !== '' ? ` (${f.cve})` : ''}`);
  }
  const fixes = findings.filter((f) => f.severity === 'CRITICAL' || f.severity === 'HIGH');
  for (const f of fixes) lines.push('', `How to fix ${f.id} on ${f.ip}:${f.port}:`, ...f.remediation.split('\n').map((l) => `  ${l}`));
  return `${lines.join('\n').trimStart()}\n`;
}

/** On a terminal, one line on stderr redrawn at most five times a second: endpoints done of all. */
function progressLine(): ((done: number, total: number) => void) | null {
  if (process.stderr.isTTY !== true) return null;
  let last = 0;
  return (done, total) => {
    const now = Date.now();
    if (now - last < 200 && done < total) return;
    last = now;
    process.stderr.write(`\routpost scan: ${done}/${total} endpoints\x1b[K${done === total ? '\n' : ''}`);
  };
}
