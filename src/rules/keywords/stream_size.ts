import type { Keyword } from '../keyword.js';
import { RuleError } from '../syntax.js';
import { check } from './header.js';

const OPS: Record<string, (a: number, b: number) => boolean> = {
  '<': (a, b) => a < b,
  '>': (a, b) => a > b,
  '=': (a, b) => a === b,
  '!=': (a, b) => a !== b,
  '<=': (a, b) => a <= b,
  '>=': (a, b) => a >= b,
};

/**
 * The bytes a TCP connection has carried so far, by side: what the server sent, what the
 * client sent, both (each side must satisfy it) or either. Counted as the stream data
 * delivered in order so far.
 */
export const streamSize: Keyword = {
  name: 'stream_size',
  summary: 'Bytes the TCP connection carried so far: server, client, both (each) or either, compared with a number.',
  syntax: 'stream_size:<server|client|both|either>,<|>|=|!=|<=|>=,<bytes>',
  apply(b, value) {
    const m = /^\s*(server|client|both|either)\s*,\s*(<=|>=|!=|<|>|=)\s*,\s*(\d+)\s*$/.exec(value ?? '');
    if (m === null) throw new RuleError(`stream_size: "${value}" is not side,operator,bytes (side: server, client, both, either)`);
    const side = m[1]!;
    const op = OPS[m[2]!]!;
    const n = Number(m[3]);
    b.headerChecks.push(
      check(`stream_size:${side}${m[2]}${n}`, 'stream_size', (_p, flow) => {
        const tcp = flow?.tcp;
        if (tcp === null || tcp === undefined) return false;
        const client = op(tcp.streams[0].base, n);
        const server = op(tcp.streams[1].base, n);
        return side === 'server' ? server : side === 'client' ? client : side === 'both' ? client && server : client || server;
      }),
    );
  },
};
