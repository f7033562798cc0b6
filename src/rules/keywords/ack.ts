import { Layer } from '../../decode/packet.js';
import { uintHeaderKeyword } from './header.js';

export const ack = uintHeaderKeyword('ack', 'The TCP acknowledgment number.', 0xffffffff, (p) => (p.proto === 6 && p.layer === Layer.TRANSPORT ? p.ack : -1), { protos: ['tcp', 'tcp-pkt', 'tcp-stream'] });
