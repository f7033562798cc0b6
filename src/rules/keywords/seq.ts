import { Layer } from '../../decode/packet.js';
import { uintHeaderKeyword } from './header.js';

export const seq = uintHeaderKeyword('seq', 'The TCP sequence number.', 0xffffffff, (p) => (p.proto === 6 && p.layer === Layer.TRANSPORT ? p.seq : -1), { protos: ['tcp', 'tcp-pkt', 'tcp-stream'] });
