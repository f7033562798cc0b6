import { formatTimestamp } from '../events/time.js';
import type { EveCommon, FlowEvent, TcpRecord } from '../events/types.js';
import { wordsToString } from '../wire/address.js';
import { IpProto } from '../decode/packet.js';
import { END_REASON_NAMES, FLOW_STATE_NAMES, type EndReasonValue, type Flow } from './flow.js';
import { TCP_STATE_NAMES } from './tcp.js';

/** EVE's protocol names, as Suricata writes them. */
export function eveProto(proto: number): string {
  switch (proto) {
    case IpProto.TCP: return 'TCP';
    case IpProto.UDP: return 'UDP';
    case IpProto.ICMP: return 'ICMP';
    case IpProto.ICMPV6: return 'IPv6-ICMP';
    default: return String(proto);
  }
}

function hasPorts(proto: number): boolean {
  return proto === IpProto.TCP || proto === IpProto.UDP;
}

/** The common EVE fields of a flow, client as source. */
export function flowHeader(flow: Flow, eventType: string, sec: number, nsec: number): EveCommon {
  const v4 = flow.ipVersion === 4;
  const h: EveCommon = { timestamp: formatTimestamp(sec, nsec), flow_id: flow.id, event_type: eventType };
  if (flow.vlan0 !== 0 || flow.vlan1 !== 0) h.vlan = flow.vlan1 !== 0 ? [flow.vlan0, flow.vlan1] : [flow.vlan0];
  h.src_ip = wordsToString(flow.addr, 0, v4);
  if (hasPorts(flow.proto)) h.src_port = flow.clientPort;
  h.dest_ip = wordsToString(flow.addr, 4, v4);
  if (hasPorts(flow.proto)) h.dest_port = flow.serverPort;
  h.ip_v = flow.ipVersion;
  h.proto = eveProto(flow.proto);
  if (flow.appProto !== '') h.app_proto = flow.appProto;
  return h;
}

const HEX2 = Array.from({ length: 256 }, (_, n) => n.toString(16).padStart(2, '0'));
const hex2 = (n: number): string => HEX2[n & 0xff]!;

/** Suricata's flow record for a finished flow. */
export function flowEvent(flow: Flow, reason: EndReasonValue): FlowEvent {
  const ev = flowHeader(flow, 'flow', flow.lastSec, flow.lastNsec) as FlowEvent;
  if (flow.icmpType !== -1) {
    ev.icmp_type = flow.icmpType;
    ev.icmp_code = flow.icmpCode;
  }
  if (flow.respIcmpType !== -1) {
    ev.response_icmp_type = flow.respIcmpType;
    ev.response_icmp_code = flow.respIcmpCode;
  }
  ev.flow = {
    pkts_toserver: flow.pktsToServer,
    pkts_toclient: flow.pktsToClient,
    bytes_toserver: flow.bytesToServer,
    bytes_toclient: flow.bytesToClient,
    start: formatTimestamp(flow.startSec, flow.startNsec),
    end: formatTimestamp(flow.lastSec, flow.lastNsec),
    age: Math.max(0, flow.lastSec - flow.startSec),
    state: FLOW_STATE_NAMES[flow.state],
    reason: END_REASON_NAMES[reason],
    alerted: flow.alerted,
  };
  const tcp = flow.tcp;
  if (tcp !== null) {
    const all = tcp.flagsToServer | tcp.flagsToClient;
    // Key order as Suricata writes it: flags, flag booleans, state, then the stream's notes.
    const t = { tcp_flags: hex2(all), tcp_flags_ts: hex2(tcp.flagsToServer), tcp_flags_tc: hex2(tcp.flagsToClient) } as TcpRecord;
    if (all & 0x02) t.syn = true;
    if (all & 0x01) t.fin = true;
    if (all & 0x04) t.rst = true;
    if (all & 0x08) t.psh = true;
    if (all & 0x10) t.ack = true;
    if (all & 0x20) t.urg = true;
    if (all & 0x40) t.ecn = true;
    if (all & 0x80) t.cwr = true;
    t.state = TCP_STATE_NAMES[tcp.state];
    if (tcp.midstream) t.midstream = true;
    if (tcp.streams[0].gaps > 0) t.ts_gap = true;
    if (tcp.streams[1].gaps > 0) t.tc_gap = true;
    ev.tcp = t;
  }
  return ev;
}
