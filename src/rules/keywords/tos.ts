import { uintHeaderKeyword } from './header.js';

export const tos = uintHeaderKeyword('tos', 'The IPv4 type-of-service byte (IPv6 traffic class); decimal or 0x hex.', 255, (p) => (p.ipVersion === 0 ? -1 : p.tos));
