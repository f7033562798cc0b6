import { Layer } from '../../decode/packet.js';
import type { Keyword } from '../keyword.js';
import { check } from './header.js';
import { parseUint } from './uint.js';

/** dsize looks at one packet's payload, so a rule with it is matched on packets, never on reassembled streams (as in Suricata). */
export const dsize: Keyword = {
  name: 'dsize',
  summary: 'The size of the packet\'s payload (a packet-level check: the rule is matched on packets, not streams).',
  syntax: 'dsize:[!|<|>|<=|>=]N or A<>B',
  apply(b, value) {
    const t = parseUint('dsize', value, 65535);
    b.flow.noStream = true;
    b.headerChecks.push(check(`dsize:${t.key}`, 'dsize', (p) => p.layer === Layer.TRANSPORT && t.test(p.payloadLen)));
  },
};
