/**
 * Suricata versions as suricata-verify's run.py reads and compares them. The comparisons are
 * run.py's, quirks included (its `is_lt` compares the minor and patch numbers independently), so
 * a test or check is gated here exactly as upstream gates it.
 */

/** A version; a part is null only when parsed for an equality test and absent ("7" is 7.null.null). */
export interface Version {
  major: number;
  minor: number | null;
  patch: number | null;
}

/** The Suricata version Outpost answers to: the release whose behaviour it aims for. */
export const TARGET_VERSION: Version = { major: 9, minor: 0, patch: 0 };

export type VersionExpr = 'gte' | 'gt' | 'lt' | 'equal';

/**
 * run.py's parse_suricata_version: the first one to three dotted numbers of the text (a YAML
 * number such as 8.0 arrives as its text). Missing parts are 0, or null for an equality test.
 */
export function parseVersion(value: unknown, expr?: VersionExpr): Version | null {
  const m = /(?:Suricata version |^)(\d+)\.?(\d+)?\.?(\d+)?/.exec(pyStr(value).trim());
  if (m === null) return null;
  const missing = expr === 'equal' ? null : 0;
  return {
    major: Number(m[1]),
    minor: m[2] !== undefined ? Number(m[2]) : missing,
    patch: m[3] !== undefined ? Number(m[3]) : missing,
  };
}

/**
 * Python's str() of a YAML scalar, as run.py compares and parses them. A whole float (8.0)
 * arrives here as the number 8: the same version, and the same shell-check text but for a
 * trailing ".0" that no test relies on.
 */
export function pyStr(value: unknown): string {
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (value === null || value === undefined) return 'None';
  return String(value);
}

// Each comparison is run.py's Version.is_<expr>(v1, v2), with v1 the running version.
function isGte(v1: Version, v2: Version): boolean {
  if (v1.major !== v2.major) return v1.major > v2.major;
  const a = v1.minor ?? 0;
  const b = v2.minor ?? 0;
  if (a !== b) return a > b;
  return (v1.patch ?? 0) >= (v2.patch ?? 0);
}

function isGt(v1: Version, v2: Version): boolean {
  if (v1.major !== v2.major) return v1.major > v2.major;
  const a = v1.minor ?? 0;
  const b = v2.minor ?? 0;
  if (a !== b) return a > b;
  return (v1.patch ?? 0) > (v2.patch ?? 0);
}

function isLt(v1: Version, v2: Version): boolean {
  if (v1.major > v2.major) return false;
  if (v1.major < v2.major) return true;
  if ((v1.minor ?? 0) < (v2.minor ?? 0)) return true;
  if ((v1.patch ?? 0) < (v2.patch ?? 0)) return true;
  return false;
}

function isEqual(a: Version, b: Version): boolean {
  if (a.major !== b.major) return false;
  if (a.minor !== null && b.minor !== null && a.minor !== b.minor) return false;
  if (a.patch !== null && b.patch !== null && a.patch !== b.patch) return false;
  return true;
}

/** run.py's is_version_compatible: does `running` satisfy `expr` against the version text? */
export function versionCompatible(version: unknown, running: Version, expr: VersionExpr): boolean {
  const v = parseVersion(version, expr);
  if (v === null) throw new Error(`"${pyStr(version)}" is not a version`);
  switch (expr) {
    case 'gte': return isGte(running, v);
    case 'gt': return isGt(running, v);
    case 'lt': return isLt(running, v);
    case 'equal': return isEqual(running, v);
  }
}

export function formatVersion(v: Version): string {
  return [v.major, v.minor, v.patch].filter((x) => x !== null).join('.');
}
