import { uintHeaderKeyword } from './header.js';

export const id = uintHeaderKeyword('id', 'The IPv4 identification field.', 65535, (p) => (p.ipVersion === 4 ? p.ipId : -1));
