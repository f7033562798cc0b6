/** The Internet checksum (RFC 1071): ones' complement of the ones' complement sum of 16-bit words. */

/** Adds `len` bytes at `off` to a running 32-bit sum (not yet folded). */
export function sumWords(b: Uint8Array, off: number, len: number, sum = 0): number {
  let i = off;
  const end = off + len - 1;
  for (; i < end; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (i === end) sum += b[i]! << 8;
  return sum;
}

/** Folds a running sum to 16 bits and complements it. */
export function finishChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

export function internetChecksum(b: Uint8Array, off: number, len: number): number {
  return finishChecksum(sumWords(b, off, len));
}
