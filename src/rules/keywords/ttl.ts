import { uintHeaderKeyword } from './header.js';

export const ttl = uintHeaderKeyword('ttl', 'The IP time-to-live (IPv6 hop limit).', 255, (p) => (p.ipVersion === 0 ? -1 : p.ttl));
