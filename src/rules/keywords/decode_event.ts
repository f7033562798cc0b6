import { DECODE_EVENT_NAMES, DecodeEvent, type DecodeEventName } from '../../decode/events.js';
import type { Keyword } from '../keyword.js';
import { RuleError } from '../syntax.js';
import { check } from './header.js';

/**
 * The packet raised a decoder event (Suricata's `decode-event:ipv4.trunc_pkt`, with or without
 * the "decoder." prefix). Rules with it are usually written for protocol `pkthdr`, which also
 * matches packets whose IP header could not be decoded.
 */
export const decodeEvent: Keyword = {
  name: 'decode-event',
  summary: 'The packet raised this decoder event (the anomaly records name them: ipv4.trunc_pkt, tcp.opt_invalid_len, ...).',
  syntax: 'decode-event:<layer>.<event>',
  apply(b, value) {
    const name = (value ?? '').trim().replace(/^decoder\./, '');
    if (!(DECODE_EVENT_NAMES as readonly string[]).includes(name)) {
      throw new RuleError(`decode-event: "${name}" is not a decoder event Outpost raises (see docs/events.md and DECODE_EVENT_NAMES)`);
    }
    const code = DecodeEvent[name as DecodeEventName];
    b.headerChecks.push(
      check(`decode-event:${name}`, 'decode-event', (p) => {
        for (let i = 0, n = Math.min(p.eventCount, p.events.length); i < n; i++) if (p.events[i] === code) return true;
        return false;
      }),
    );
  },
};
