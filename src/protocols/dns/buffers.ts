/**
 * What rules may inspect of a DNS transaction, by the names in src/rules/buffers.ts, filled as
 * Suricata's getters fill them (rust/src/dns/dns.rs SCDnsTxGetQueryName, SCDnsTxGetAnswerName):
 * each name as its dotted bytes, one item per question or answer record, in message order.
 */
import type { DnsMessage } from './parse.js';
import type { DnsSide } from './log.js';

/** The buffers a DNS transaction fills. */
export const DNS_BUFFERS = ['dns.query', 'dns.queries.rrname', 'dns.answer.name'] as const;

/**
 * A multi-valued buffer of a transaction whose message came from `messageSide`, asked for
 * `side`: null when the transaction has none there. As in Suricata, the items stop at the
 * first empty name (its getter reports an empty name as the end of the list).
 */
export function dnsBuffers(msg: DnsMessage, messageSide: DnsSide, name: string, side: number): readonly Uint8Array[] | null {
  if (side !== messageSide) return null;
  switch (name) {
    case 'dns.query':
      return side === 0 ? names(msg.questions.map((q) => q.name.bytes)) : null;
    case 'dns.queries.rrname':
      return names(msg.questions.map((q) => q.name.bytes));
    case 'dns.answer.name':
      return side === 1 ? names(msg.answers.map((a) => a.name.bytes)) : null;
    default:
      return null;
  }
}

function names(all: Uint8Array[]): Uint8Array[] {
  const end = all.findIndex((n) => n.length === 0);
  return end < 0 ? all : all.slice(0, end);
}
