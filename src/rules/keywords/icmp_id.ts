import { uintHeaderKeyword } from './header.js';

export const icmpId = uintHeaderKeyword('icmp_id', 'The identifier of an ICMP echo (or timestamp, information, mask) message.', 65535, (p) => p.icmpId);
