/**
 * Decoder events: a malformed or suspicious header becomes one of these, never an exception.
 * The names are Suricata's decode-event names (`decode-event:ipv4.trunc_pkt`), so rules and
 * dashboards written for Suricata read them unchanged. The number is the index in this list.
 */
export const DECODE_EVENT_NAMES = [
  'ethernet.pkt_too_small',
  'vlan.header_too_small',
  'vlan.too_many_layers',
  'sll.pkt_too_small',
  'ltnull.pkt_too_small',
  'ltnull.unsupported_type',
  'ipraw.invalid_ip_version',
  'ipv4.pkt_too_small',
  'ipv4.hlen_too_small',
  'ipv4.iplen_smaller_than_hlen',
  'ipv4.trunc_pkt',
  'ipv4.opt_invalid_len',
  'ipv4.opt_malformed',
  'ipv4.opt_duplicate',
  'ipv4.opt_eol_required',
  'ipv4.wrong_ip_version',
  'ipv4.icmpv6',
  'ipv4.frag_overlap',
  'ipv4.frag_pkt_too_large',
  'ipv4.frag_ignored',
  'ipv6.pkt_too_small',
  'ipv6.trunc_pkt',
  'ipv6.trunc_exthdr',
  'ipv6.exthdr_dupl_fh',
  'ipv6.exthdr_useless_fh',
  'ipv6.exthdr_dupl_rh',
  'ipv6.exthdr_dupl_hh',
  'ipv6.exthdr_dupl_dh',
  'ipv6.exthdr_dupl_ah',
  'ipv6.exthdr_invalid_optlen',
  'ipv6.wrong_ip_version',
  'ipv6.rh_type_0',
  'ipv6.data_after_none_header',
  'ipv6.icmpv4',
  'ipv6.frag_overlap',
  'ipv6.frag_pkt_too_large',
  'ipv6.frag_ignored',
  'ipv6.fh_non_zero_reserved_field',
  'tcp.pkt_too_small',
  'tcp.hlen_too_small',
  'tcp.invalid_optlen',
  'tcp.opt_invalid_len',
  'tcp.opt_duplicate',
  'udp.pkt_too_small',
  'udp.hlen_too_small',
  'udp.hlen_invalid',
  'icmpv4.pkt_too_small',
  'icmpv4.unknown_type',
  'icmpv4.unknown_code',
  'icmpv4.ipv4_trunc_pkt',
  'icmpv4.ipv4_unknown_ver',
  'icmpv6.pkt_too_small',
  'icmpv6.unknown_code',
  'icmpv6.ipv6_trunc_pkt',
  'icmpv6.ipv6_unknown_version',
] as const;

export type DecodeEventName = (typeof DECODE_EVENT_NAMES)[number];

/** Event codes by name, for the decoders' hot paths (a number compare, no string). */
export const DecodeEvent: { readonly [K in DecodeEventName]: number } = Object.fromEntries(
  DECODE_EVENT_NAMES.map((n, i) => [n, i]),
) as { [K in DecodeEventName]: number };
