import { uintHeaderKeyword } from './header.js';

export const icmpSeq = uintHeaderKeyword('icmp_seq', 'The sequence number of an ICMP echo (or timestamp, information, mask) message.', 65535, (p) => p.icmpSeq);
