import { uintHeaderKeyword } from './header.js';

export const icode = uintHeaderKeyword('icode', 'The ICMP (or ICMPv6) code.', 255, (p) => p.icmpCode);
