import { isIP } from 'node:net';
import { LinkType } from '../capture/linktype.js';
import type { Packet } from '../decode/packet.js';
import { IpProto, Layer } from '../decode/packet.js';
import { formatTimestamp } from '../events/time.js';
import type { AlertEvent, AlertRecord } from '../events/types.js';
import { TO_SERVER } from '../flow/flow.js';
import { eveProto } from '../flow/record.js';
import { wordsToString } from '../wire/address.js';
import type { AlertHit } from './engine.js';

export interface AlertOptions {
  /** Add `payload` (base64) and `stream`. */
  payload?: boolean;
  /** Add `payload_printable`. */
  payloadPrintable?: boolean;
  /** Add `packet` (base64) and `packet_info`. */
  packet?: boolean;
  /** Add `ether` (MAC addresses) for Ethernet frames. */
  ethernet?: boolean;
  /** Classtype descriptions, for alert.category. */
  categories: ReadonlyMap<string, { description: string }>;
  /** Interface, for live capture. */
  iface?: string;
  /** The client's address from an HTTP proxy header, as Suricata's xff option. */
  xff?: XffOptions;
}

/**
 * Suricata's X-Forwarded-For handling for alerts on HTTP transactions behind a proxy: the
 * client's address is read from the request's header and either added to the alert
 * (`extra-data`: alert.xff) or written over the proxy's address (`overwrite`: src_ip for an alert
 * on the request side, dest_ip on the response side).
 */
export interface XffOptions {
  mode: 'extra-data' | 'overwrite';
  /** `reverse` (the proxy is in front of the servers): the last address of the header's list; `forward`: the first. */
  deployment: 'reverse' | 'forward';
  /** The header to read (default X-Forwarded-For). */
  header: string;
}

const hasPorts = (proto: number): boolean => proto === IpProto.TCP || proto === IpProto.UDP;

/** Builds Suricata's EVE alert record for a hit. The packet is read now, so this runs inside the engine's callback. */
export function alertEvent(hit: AlertHit, options: AlertOptions): AlertEvent {
  const { rule, packet: p, flow, dir } = hit;
  let sec: number;
  let nsec: number;
  let srcIp: string;
  let dstIp: string;
  let sport: number | undefined;
  let dport: number | undefined;
  let proto: number;
  if (p !== null) {
    sec = p.tsSec;
    nsec = p.tsNsec;
    const v4 = p.ipVersion === 4;
    srcIp = p.ipVersion === 0 ? '' : wordsToString(p.addr, 0, v4);
    dstIp = p.ipVersion === 0 ? '' : wordsToString(p.addr, 4, v4);
    proto = p.proto;
    if (p.layer === Layer.TRANSPORT && hasPorts(proto)) {
      sport = p.srcPort;
      dport = p.dstPort;
    }
  } else {
    // A flow-end pseudo packet: the flow's endpoints, oriented by the direction.
    const f = flow!;
    sec = f.lastSec;
    nsec = f.lastNsec;
    const v4 = f.ipVersion === 4;
    const fwd = dir === TO_SERVER;
    srcIp = wordsToString(f.addr, fwd ? 0 : 4, v4);
    dstIp = wordsToString(f.addr, fwd ? 4 : 0, v4);
    sport = fwd ? f.clientPort : f.serverPort;
    dport = fwd ? f.serverPort : f.clientPort;
    proto = f.proto;
  }
  const ev = { timestamp: formatTimestamp(sec, nsec) } as AlertEvent;
  if (flow !== null) ev.flow_id = flow.id;
  if (options.iface !== undefined) ev.in_iface = options.iface;
  if (p !== null) ev.pcap_cnt = p.number;
  ev.event_type = 'alert';
  if (p !== null && p.vlanCount > 0) ev.vlan = p.vlanCount > 1 ? [p.vlan0, p.vlan1] : [p.vlan0];
  if (srcIp !== '') {
    ev.src_ip = srcIp;
    if (sport !== undefined) ev.src_port = sport;
    ev.dest_ip = dstIp;
    if (dport !== undefined) ev.dest_port = dport;
    ev.ip_v = p !== null ? p.ipVersion : flow!.ipVersion;
    ev.proto = eveProto(proto);
  }
  if (p !== null && p.icmpType >= 0) {
    ev.icmp_type = p.icmpType;
    ev.icmp_code = p.icmpCode;
  }
  ev.pkt_src = hit.source === 'flow-end' ? 'stream (flow timeout)' : p !== null && p.reassembled ? 'defrag' : 'wire/pcap';
  if (hit.tx !== null) ev.tx_id = hit.tx.id;
  const alert: AlertRecord = {
    action: 'allowed',
    gid: rule.gid,
    signature_id: rule.sid,
    rev: rule.rev,
    signature: rule.msg,
    category: rule.classtype === null ? '' : (options.categories.get(rule.classtype)?.description ?? ''),
    severity: rule.priority,
  };
  if (rule.target !== null && srcIp !== '') {
    const src = { ip: srcIp, ...(sport !== undefined ? { port: sport } : {}) };
    const dst = { ip: dstIp, ...(dport !== undefined ? { port: dport } : {}) };
    alert.source = rule.target === 'src_ip' ? dst : src;
    alert.target = rule.target === 'src_ip' ? src : dst;
  }
  const meta = Object.keys(rule.metadata);
  if (meta.length > 0) {
    alert.metadata = {};
    for (const k of meta.sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()))) alert.metadata[k] = rule.metadata[k]!;
  }
  ev.alert = alert;
  if (options.xff !== undefined && hit.tx !== null && flow?.appProto === 'http') {
    const client = forwardedFor(hit.tx.buffer('http.header', 0), options.xff);
    if (client !== null) {
      if (options.xff.mode === 'extra-data') alert.xff = client;
      else if (dir === TO_SERVER) ev.src_ip = client;
      else ev.dest_ip = client;
    }
  }
  if (flow !== null) {
    if (flow.appProto !== '') ev.app_proto = flow.appProto;
    ev.direction = dir === TO_SERVER ? 'to_server' : 'to_client';
    const v4 = flow.ipVersion === 4;
    ev.flow = {
      pkts_toserver: flow.pktsToServer,
      pkts_toclient: flow.pktsToClient,
      bytes_toserver: flow.bytesToServer,
      bytes_toclient: flow.bytesToClient,
      start: formatTimestamp(flow.startSec, flow.startNsec),
      src_ip: wordsToString(flow.addr, 0, v4),
      dest_ip: wordsToString(flow.addr, 4, v4),
      ...(hasPorts(flow.proto) ? { src_port: flow.clientPort, dest_port: flow.serverPort } : {}),
    };
  }
  // The transaction's protocol record (http, dns, tls, ...), as Suricata's alert metadata shows it.
  const txMeta = hit.tx?.alertMetadata?.() ?? null;
  if (txMeta !== null) Object.assign(ev, txMeta);
  const payload = hit.chunk ?? (p !== null ? p.data.subarray(p.payloadOff, p.payloadOff + p.payloadLen) : null);
  if (options.payload === true && payload !== null) {
    ev.payload = Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString('base64');
    ev.stream = hit.chunk !== null ? 1 : 0;
  }
  if (options.payloadPrintable === true && payload !== null) ev.payload_printable = printable(payload);
  if (options.ethernet === true && p !== null && p.linktype === LinkType.ETHERNET && p.frameLength >= 14) {
    ev.ether = { src_mac: mac(p.data, p.frameOffset + 6), dest_mac: mac(p.data, p.frameOffset) };
  }
  if (options.packet === true && p !== null && hit.source !== 'flow-end') packetBytes(ev, p);
  return ev;
}

/** The client address an HTTP request's forwarding header names, or null when it names none that parses as an IP address. */
export function forwardedFor(headers: Uint8Array | null, xff: XffOptions): string | null {
  if (headers === null) return null;
  const wanted = xff.header.toLowerCase();
  let value: string | null = null;
  for (const line of Buffer.from(headers.buffer, headers.byteOffset, headers.length).toString('latin1').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === wanted) value = line.slice(colon + 1);
  }
  if (value === null) return null;
  const list = value.split(',').map((a) => a.trim()).filter((a) => a !== '');
  const pick = xff.deployment === 'reverse' ? list[list.length - 1] : list[0];
  return pick !== undefined && isIP(pick) !== 0 ? pick : null;
}

function mac(b: Uint8Array, at: number): string {
  return Array.from(b.subarray(at, at + 6), (x) => x.toString(16).padStart(2, '0')).join(':');
}

/** The frame as captured, link header first (for a rebuilt datagram: the first fragment's link header and the whole datagram). */
function packetBytes(ev: AlertEvent, p: Packet): void {
  ev.packet = Buffer.from(p.data.buffer, p.data.byteOffset + p.frameOffset, p.frameLength).toString('base64');
  ev.packet_info = { linktype: p.linktype, linktype_name: linkTypeSuricataName(p.linktype) };
}

/** Link type names as Suricata's packet_info writes them. */
function linkTypeSuricataName(lt: number): string {
  switch (lt) {
    case LinkType.NULL: return 'NULL';
    case LinkType.ETHERNET: return 'EN10MB';
    case LinkType.RAW: return 'RAW';
    case LinkType.LOOP: return 'LOOP';
    case LinkType.LINUX_SLL: return 'LINUX_SLL';
    case LinkType.LINUX_SLL2: return 'LINUX_SLL2';
    case LinkType.IPV4: return 'IPv4';
    case LinkType.IPV6: return 'IPv6';
    default: return String(lt);
  }
}

/** Bytes 0x20-0x7e as themselves, the rest as '.', as Suricata's payload_printable (which keeps \r, \n and \t too). */
export function printable(b: Uint8Array): string {
  let s = '';
  for (const c of b) s += (c >= 0x20 && c < 0x7f) || c === 0x0a || c === 0x0d || c === 0x09 ? String.fromCharCode(c) : '.';
  return s;
}

/**
 * Suricata's fast.log line:
 * `04/21/2004-10:00:00.123456  [**] [1:2515:9] msg [**] [Classification: ...] [Priority: 1] {TCP} a:1 -> b:2`
 * in UTC, as all Outpost times. ICMP "ports" are the type and code; a missing classtype prints as "(null)", as Suricata's does.
 */
export function fastLogLine(ev: AlertEvent): string {
  const t = ev.timestamp; // 2004-04-21T10:00:00.123456+0000
  const when = `${t.slice(5, 7)}/${t.slice(8, 10)}/${t.slice(0, 4)}-${t.slice(11, 26)}`;
  const a = ev.alert;
  const category = a.category === '' ? '(null)' : a.category;
  const sport = ev.src_port ?? ev.icmp_type ?? 0;
  const dport = ev.dest_port ?? ev.icmp_code ?? 0;
  return `${when}  [**] [${a.gid}:${a.signature_id}:${a.rev}] ${a.signature} [**] [Classification: ${category}] [Priority: ${a.severity}] {${ev.proto ?? 'IP'}} ${ev.src_ip ?? ''}:${sport} -> ${ev.dest_ip ?? ''}:${dport}`;
}
