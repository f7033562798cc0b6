/**
 * IP addresses as Outpost holds them: four 32-bit words, big-endian order.
 * An IPv4 address is held IPv4-mapped (::ffff:a.b.c.d) so one comparison serves both families.
 */

export type AddressWords = Uint32Array;

/** Writes the 16-byte IPv6 address at `off` into words[at..at+3]. */
export function loadIpv6(b: Uint8Array, off: number, words: Uint32Array, at: number): void {
  for (let k = 0; k < 4; k++) {
    const o = off + k * 4;
    words[at + k] = ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
  }
}

/** Writes the 4-byte IPv4 address at `off` into words[at..at+3], IPv4-mapped. */
export function loadIpv4(b: Uint8Array, off: number, words: Uint32Array, at: number): void {
  words[at] = 0;
  words[at + 1] = 0;
  words[at + 2] = 0xffff;
  words[at + 3] = ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

export function ipv4ToString(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

/** Formats four words as text; `v4` picks dotted-quad for IPv4-mapped words. RFC 5952 for IPv6. */
export function wordsToString(words: Uint32Array, at: number, v4: boolean): string {
  if (v4) return ipv4ToString(words[at + 3]!);
  const groups: number[] = [];
  for (let k = 0; k < 4; k++) {
    const w = words[at + k]!;
    groups.push(w >>> 16, w & 0xffff);
  }
  // The longest run of two or more zero groups becomes "::" (first one wins a tie).
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (g: number[]): string => g.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

/** Parses dotted-quad IPv4 text; null when it is not one. */
export function parseIpv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let v = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    v = v * 256 + n;
  }
  return v >>> 0;
}

/** Parses IPv6 text (with "::" and an optional trailing dotted quad) into 16 bytes; null when invalid. */
export function parseIpv6(text: string): Uint8Array | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parseGroups = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    const items = s.split(':');
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (i === items.length - 1 && item.includes('.')) {
        const v4 = parseIpv4(item);
        if (v4 === null) return null;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(item)) return null;
        out.push(parseInt(item, 16));
      }
    }
    return out;
  };
  const head = parseGroups(halves[0]!);
  const tail = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (head === null || tail === null) return null;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return null;
  const groups = [...head, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[i * 2] = g >>> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}

/** Writes an address given as text (dotted quad or IPv6) into words[at..at+3] as Outpost holds it; false when it is neither. */
export function textToWords(text: string, words: Uint32Array, at: number): boolean {
  const v4 = parseIpv4(text);
  if (v4 !== null) {
    words[at] = 0;
    words[at + 1] = 0;
    words[at + 2] = 0xffff;
    words[at + 3] = v4 >>> 0;
    return true;
  }
  const v6 = parseIpv6(text);
  if (v6 === null) return false;
  loadIpv6(v6, 0, words, at);
  return true;
}
