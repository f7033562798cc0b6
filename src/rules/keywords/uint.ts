import { RuleError } from '../syntax.js';

/**
 * Suricata's unsigned comparisons, shared by ttl, dsize, itype, window, id, ... :
 * `N` or `=N`, `!N`, `<N`, `<=N`, `>N`, `>=N`, and ranges `A-B` or `A<>B` (both bounds
 * exclusive, as Suricata's DETECT_UINT_RA).
 */
export interface UintTest {
  test: (x: number) => boolean;
  /** Canonical text, for sharing equal checks across rules. */
  key: string;
}

export function parseUint(keyword: string, value: string | null, max: number): UintTest {
  if (value === null) throw new RuleError(`${keyword} needs a value`);
  const v = value.trim().replace(/\s+/g, '');
  const num = (t: string): number => {
    if (!/^\d+$/.test(t) && !/^0x[0-9a-f]+$/i.test(t)) throw new RuleError(`${keyword}: "${value}" is not a number or comparison`);
    const n = Number(t);
    if (n > max) throw new RuleError(`${keyword}: ${n} is above the largest possible value, ${max}`);
    return n;
  };
  let m = /^(\d+|0x[0-9a-f]+)(?:-|<>)(\d+|0x[0-9a-f]+)$/i.exec(v);
  if (m !== null) {
    const lo = num(m[1]!);
    const hi = num(m[2]!);
    if (lo >= hi) throw new RuleError(`${keyword}: range ${lo}-${hi} is empty (bounds are exclusive)`);
    return { test: (x) => x > lo && x < hi, key: `${lo}<>${hi}` };
  }
  m = /^(<=|>=|<|>|!=|!|=)?(.+)$/.exec(v);
  const op = m?.[1] ?? '=';
  const n = num(m?.[2] ?? '');
  switch (op) {
    case '<': return { test: (x) => x < n, key: `<${n}` };
    case '<=': return { test: (x) => x <= n, key: `<=${n}` };
    case '>': return { test: (x) => x > n, key: `>${n}` };
    case '>=': return { test: (x) => x >= n, key: `>=${n}` };
    case '!':
    case '!=': return { test: (x) => x !== n, key: `!${n}` };
    default: return { test: (x) => x === n, key: `=${n}` };
  }
}
