/**
 * Stream events, named as Suricata's `stream-event:` keywords. Only some are written as
 * anomaly records (`anomaly: true`); the rest are counted, being common on healthy networks.
 */
export const STREAM_EVENTS = [
  { name: 'reassembly_seq_gap', anomaly: true },
  { name: 'reassembly_overlap_different_data', anomaly: true },
  { name: 'pkt_retransmission', anomaly: false },
  { name: 'reassembly_overlap', anomaly: false },
  { name: 'reassembly_memcap', anomaly: true },
] as const;

export type StreamEventName = (typeof STREAM_EVENTS)[number]['name'];

export const StreamEvent: { readonly [K in StreamEventName]: number } = Object.fromEntries(
  STREAM_EVENTS.map((e, i) => [e.name, i]),
) as { [K in StreamEventName]: number };
