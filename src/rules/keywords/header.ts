import type { Packet } from '../../decode/packet.js';
import type { Flow } from '../../flow/flow.js';
import type { Keyword } from '../keyword.js';
import type { HeaderCheck } from '../rule.js';
import { RuleError } from '../syntax.js';
import { parseUint } from './uint.js';

/**
 * A header keyword whose value is one unsigned comparison on a packet field (ttl, tos, id,
 * window, itype, icode, icmp_id, icmp_seq, seq, ack, dsize, fragoffset). Each is still its own
 * keyword with its own help; this is only the shared shape.
 */
export function uintHeaderKeyword(
  name: string,
  summary: string,
  max: number,
  field: (p: Packet) => number,
  options: { aliases?: string[]; protos?: string[] } = {},
): Keyword {
  return {
    name,
    ...(options.aliases !== undefined ? { aliases: options.aliases } : {}),
    summary,
    syntax: `${name}:[!|<|>|<=|>=]N or A-B (exclusive range)`,
    apply(b, value) {
      if (options.protos !== undefined && !options.protos.includes(b.proto) && b.proto !== 'ip') {
        throw new RuleError(`${name} applies to ${options.protos.join('/')} rules, not ${b.proto}`);
      }
      const t = parseUint(name, value, max);
      b.headerChecks.push(check(`${name}:${t.key}`, name, (p) => {
        const x = field(p);
        return x >= 0 && t.test(x);
      }));
    },
  };
}

export function check(key: string, keyword: string, test: (p: Packet, flow: Flow | null, dir: number) => boolean): HeaderCheck {
  return { key, keyword, test };
}
