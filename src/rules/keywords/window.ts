import { Layer } from '../../decode/packet.js';
import { uintHeaderKeyword } from './header.js';

export const window = uintHeaderKeyword('window', 'The TCP window size field (unscaled).', 65535, (p) => (p.proto === 6 && p.layer === Layer.TRANSPORT ? p.window : -1), { protos: ['tcp', 'tcp-pkt', 'tcp-stream'] });
