import { uintHeaderKeyword } from './header.js';

/** Suricata compares the offset in bytes (the header field times 8). */
export const fragoffset = uintHeaderKeyword('fragoffset', 'The IPv4 fragment offset, in bytes.', 65535, (p) => (p.ipVersion === 4 ? (p.ipFlagsFrag & 0x1fff) * 8 : -1));
