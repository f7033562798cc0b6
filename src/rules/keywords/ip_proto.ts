import type { Keyword } from '../keyword.js';
import { RuleError } from '../syntax.js';
import { check } from './header.js';

/** Protocol names ip_proto accepts, as /etc/protocols spells them. */
const NAMES: Record<string, number> = {
  hopopt: 0, icmp: 1, igmp: 2, ggp: 3, ipip: 4, tcp: 6, egp: 8, igp: 9, udp: 17, ipv6: 41, 'ipv6-route': 43, 'ipv6-frag': 44, rsvp: 46, gre: 47,
  esp: 50, ah: 51, 'ipv6-icmp': 58, icmpv6: 58, 'ipv6-nonxt': 59, 'ipv6-opts': 60, eigrp: 88, ospf: 89, pim: 103, vrrp: 112, l2tp: 115, sctp: 132,
};

export const ipProto: Keyword = {
  name: 'ip_proto',
  summary: 'The IP protocol (after IPv6 extension headers): a number or a name, with ! < >.',
  syntax: 'ip_proto:[!|<|>]6 | tcp',
  apply(b, value) {
    if (value === null) throw new RuleError('ip_proto needs a protocol');
    const m = /^\s*(!|<|>)?\s*([a-z0-9-]+)\s*$/i.exec(value);
    if (m === null) throw new RuleError(`ip_proto: "${value}" is not a protocol`);
    const n = /^\d+$/.test(m[2]!) ? Number(m[2]) : NAMES[m[2]!.toLowerCase()];
    if (n === undefined || n > 255) throw new RuleError(`ip_proto: unknown protocol "${m[2]}"`);
    const op = m[1] ?? '';
    if (op === '') b.ipProto = n;
    const test = op === '!' ? (x: number) => x !== n : op === '<' ? (x: number) => x < n : op === '>' ? (x: number) => x > n : (x: number) => x === n;
    b.headerChecks.push(check(`ip_proto:${op}${n}`, 'ip_proto', (p) => p.ipVersion !== 0 && p.proto >= 0 && test(p.proto)));
  },
};
