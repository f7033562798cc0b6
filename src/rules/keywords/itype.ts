import { uintHeaderKeyword } from './header.js';

export const itype = uintHeaderKeyword('itype', 'The ICMP (or ICMPv6) type.', 255, (p) => p.icmpType);
