import type { Keyword } from '../keyword.js';
import { RuleError } from '../syntax.js';

/** Back to the packet payload (and its stream) after a sticky buffer. */
export const pktData: Keyword = {
  name: 'pkt_data',
  summary: 'Inspect the packet payload (or reassembled stream) again, after a sticky buffer.',
  syntax: 'pkt_data',
  apply(b, value) {
    if (value !== null) throw new RuleError('pkt_data takes no value');
    b.usePayload();
  },
};
