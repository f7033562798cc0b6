import { Layer } from '../../decode/packet.js';
import type { Keyword } from '../keyword.js';
import { check } from './header.js';
import { parseUint } from './uint.js';

/**
 * dsize looks at one packet's payload, so a rule with it is matched on packets, never on
 * reassembled streams (as in Suricata). Also as in Suricata, only `<`, `<=` (and `=0`) can match
 * a packet without payload: every other form requires payload (SignatureCreateMask).
 */
export const dsize: Keyword = {
  name: 'dsize',
  summary: 'The size of the packet\'s payload (a packet-level check: the rule is matched on packets, not streams).',
  syntax: 'dsize:[!|<|>|<=|>=]N or A<>B',
  apply(b, value) {
    const t = parseUint('dsize', value, 65535);
    b.flow.noStream = true;
    const emptyOk = t.key.startsWith('<') || t.key === '=0';
    b.headerChecks.push(check(`dsize:${t.key}`, 'dsize', (p) => p.layer === Layer.TRANSPORT && (emptyOk || p.payloadLen > 0) && t.test(p.payloadLen)));
  },
};
