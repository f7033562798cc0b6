/**
 * EVE timestamps: Suricata's format with microseconds and a numeric offset. Outpost always
 * writes UTC (+0000), so the same capture gives the same output on every machine.
 */
export function formatTimestamp(sec: number, nsec: number): string {
  // Records come in time order, so the date and time to the second repeat: format them once.
  if (sec !== cachedSec) {
    cachedSec = sec;
    cachedPrefix = secondPrefix(sec);
  }
  const usec = Math.floor(nsec / 1000);
  return `${cachedPrefix}.${usec < 100000 ? String(usec).padStart(6, '0') : usec}+0000`;
}

let cachedSec = Number.NaN;
let cachedPrefix = '';

function secondPrefix(sec: number): string {
  const d = new Date(sec * 1000);
  const y = d.getUTCFullYear();
  return `${y < 1000 ? String(y).padStart(4, '0') : y}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}T${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Seconds since the epoch of an EVE timestamp ("2004-04-21T10:00:08.005100+0000"); 0 when it is not one. */
export function secondsOf(timestamp: string): number {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?([+-])(\d\d):?(\d\d)$/.exec(timestamp);
  if (m === null) return 0;
  const base = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) / 1000;
  const frac = m[7] === undefined ? 0 : Number(`0.${m[7]}`);
  const offset = (Number(m[9]) * 60 + Number(m[10])) * 60 * (m[8] === '-' ? -1 : 1);
  return base + frac - offset;
}
