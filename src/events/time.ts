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
