import { IpProto } from '../../decode/packet.js';
import { FlowState, TO_SERVER } from '../../flow/flow.js';
import type { Keyword } from '../keyword.js';
import { RuleError } from '../syntax.js';
import { check } from './header.js';

/**
 * The flow keyword: direction (to_server / from_client, to_client / from_server), state
 * (established, not_established, stateless) and stream use (only_stream, no_stream).
 * Established means, for TCP, that the handshake completed before this packet (the handshake's
 * own last ACK is not established, as in Suricata); for other protocols, that packets have gone
 * both ways (the first reply is established).
 */
export const flow: Keyword = {
  name: 'flow',
  summary: 'Flow direction and state: to_server|to_client, established|not_established|stateless, only_stream|no_stream.',
  syntax: 'flow:[to_server|from_client|to_client|from_server][,established|not_established|stateless][,only_stream|no_stream]',
  apply(b, value) {
    if (value === null) throw new RuleError('flow needs at least one option');
    const parts = value.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
    if (parts.length > 3) throw new RuleError('flow takes at most three options');
    for (const part of parts) {
      switch (part) {
        case 'to_server':
        case 'from_client':
          b.flow.toServer = true;
          break;
        case 'to_client':
        case 'from_server':
          b.flow.toClient = true;
          break;
        case 'established':
          b.flow.established = true;
          break;
        case 'not_established':
          b.flow.notEstablished = true;
          break;
        case 'stateless':
          break;
        case 'only_stream':
          b.flow.onlyStream = true;
          break;
        case 'no_stream':
          b.flow.noStream = true;
          break;
        case 'no_frag':
        case 'only_frag':
          break;
        default:
          throw new RuleError(`flow: "${part}" is not a flow option`);
      }
    }
    const f = b.flow;
    if (f.toServer && f.toClient) throw new RuleError('flow: to_server and to_client cannot both hold');
    if (f.established && f.notEstablished) throw new RuleError('flow: established and not_established cannot both hold');
    if (f.onlyStream && f.noStream) throw new RuleError('flow: only_stream and no_stream cannot both hold');
    const key = `flow:${f.toServer ? 'ts' : f.toClient ? 'tc' : ''},${f.established ? 'est' : f.notEstablished ? 'notest' : ''}`;
    const wantDir = f.toServer ? TO_SERVER : f.toClient ? 1 : -1;
    const est = f.established;
    const notEst = f.notEstablished;
    b.headerChecks.push(
      check(key, 'flow', (p, fl, dir) => {
        if (fl === null) return false;
        if (wantDir >= 0 && dir !== wantDir) return false;
        if (!est && !notEst) return true;
        return isEstablished(p.proto, fl) === est;
      }),
    );
  },
};

/** Whether the flow counted as established when this packet arrived (see the keyword's comment). */
export function isEstablished(proto: number, fl: import('../../flow/flow.js').Flow): boolean {
  if (proto === IpProto.TCP) return fl.tcp !== null && fl.tcp.establishedBefore;
  return fl.state === FlowState.ESTABLISHED;
}
