/**
 * The EVE records Outpost writes. Each record type is defined once, here, with a doc comment
 * on every field: docs/events.md is generated from this file (`npm run docs`), and a test fails
 * when the two disagree. Field names and meanings follow Suricata's EVE format, so tools that
 * read Suricata's eve.json (EveBox, Elastic, Splunk) read Outpost's.
 */

import type { BackdoorEvent, FloodEvent, IrcbotEvent, PctEvent, ScanEvent, VerdictEvent } from './behaviour.js';
import type { DnsEvent } from './dns.js';
import type { FirewallEvent } from './firewall.js';
import type { HoneypotEvent } from './honeypot.js';
import type { FtpDataEvent, FtpEvent } from './ftp.js';
import type { HttpEvent } from './http.js';
import type { SensorStatsEvent, SpoolDropEvent } from './sensor.js';
import type { IrcRecord } from './irc.js';
import type { TftpEvent } from './tftp.js';
import type { TlsEvent } from './tls.js';

/** Fields every EVE record may carry. */
export interface EveCommon {
  /** When it happened, in packet time: ISO 8601 with microseconds and a UTC offset, e.g. `2004-04-21T10:00:00.123456+0000`. */
  timestamp: string;
  /** The kind of record: `flow`, `anomaly`, and later `alert`, `dns`, `scan`, ... */
  event_type: string;
  /** The flow the record belongs to, unique within a run (Suricata's 51-bit flow_id). */
  flow_id?: number;
  /** The capture interface, for live capture. */
  in_iface?: string;
  /** Frame number in the capture of the packet that produced the record (1-based). */
  pcap_cnt?: number;
  /** VLAN ids, outermost first. */
  vlan?: number[];
  /** Source address: the flow's client for flow records, the packet's sender otherwise. */
  src_ip?: string;
  /** Source port (TCP and UDP only). */
  src_port?: number;
  /** Destination address: the flow's server for flow records, the packet's receiver otherwise. */
  dest_ip?: string;
  /** Destination port (TCP and UDP only). */
  dest_port?: number;
  /** The IP version, 4 or 6 (Suricata 8's common field). */
  ip_v?: number;
  /** Transport protocol: `TCP`, `UDP`, `ICMP`, `IPv6-ICMP`, or the IP protocol number as text. */
  proto?: string;
  /** Application protocol of the flow, once known (`http`, `tls`, ...). */
  app_proto?: string;
  /** The flow's variables as the record was written: Suricata's EVE metadata. */
  metadata?: EveFlowVars;
  /** Traffic identification from flowbits named `traffic/id/NAME` and `traffic/label/NAME`, as Suricata's traffic-id rules set them. */
  traffic?: EveTraffic;
  /** The sensor that produced the record. */
  sensor_id?: string;
  /** The sensor's sequence number for the record: with sensor_id, the record's identity across the network. */
  seq?: number;
}

/** Variables a flow carries, written on each of its records. */
export interface EveFlowVars {
  /** The flowbits set on the flow, in the order they were first set (traffic/ bits excepted). */
  flowbits?: string[];
}

/** What Suricata's traffic-id rules have recognised the flow as. */
export interface EveTraffic {
  /** Names from flowbits `traffic/id/NAME`: the application (e.g. `mozilla`, `bing`). */
  id?: string[];
  /** Names from flowbits `traffic/label/NAME`: the category (e.g. `search`). */
  label?: string[];
}

/** A finished flow: Suricata's `flow` record. */
export interface FlowEvent extends EveCommon {
  /** Always `flow`. */
  event_type: 'flow';
  /** ICMP: the type of the first client-to-server message. */
  icmp_type?: number;
  /** ICMP: the code of the first client-to-server message. */
  icmp_code?: number;
  /** ICMP: the type of the first server-to-client message. */
  response_icmp_type?: number;
  /** ICMP: the code of the first server-to-client message. */
  response_icmp_code?: number;
  /** Counters and times of the flow. */
  flow: FlowRecord;
  /** TCP flags and state, for TCP flows. */
  tcp?: TcpRecord;
}

/** The `flow` object of a flow record. */
export interface FlowRecord {
  /** Packets from client to server (a reassembled IP datagram counts each of its fragments). */
  pkts_toserver: number;
  /** Packets from server to client. */
  pkts_toclient: number;
  /** Bytes on the wire from client to server, link header included (tshark's frame.len; Suricata counts captured bytes). */
  bytes_toserver: number;
  /** Bytes on the wire from server to client. */
  bytes_toclient: number;
  /** Time of the first packet. */
  start: string;
  /** Time of the last packet. */
  end: string;
  /** Whole seconds from start to end. */
  age: number;
  /** `new` (no reply or no handshake yet), `established`, or `closed` (TCP closed or reset). */
  state: 'new' | 'established' | 'closed';
  /** Why the record was written: `timeout`, `shutdown` (input ended), `forced` (evicted: flow table full), or `tcp_reuse` (a new SYN reused the tuple). */
  reason: 'timeout' | 'shutdown' | 'forced' | 'tcp_reuse';
  /** Whether any alert fired on the flow. */
  alerted: boolean;
}

/** The `tcp` object of a TCP flow record. */
export interface TcpRecord {
  /** OR of all TCP flags seen, as two hex digits. */
  tcp_flags: string;
  /** OR of the flags seen from client to server, as two hex digits. */
  tcp_flags_ts: string;
  /** OR of the flags seen from server to client, as two hex digits. */
  tcp_flags_tc: string;
  /** A SYN was seen. */
  syn?: true;
  /** A FIN was seen. */
  fin?: true;
  /** A RST was seen. */
  rst?: true;
  /** A PSH was seen. */
  psh?: true;
  /** An ACK was seen. */
  ack?: true;
  /** An URG was seen. */
  urg?: true;
  /** An ECE was seen. */
  ecn?: true;
  /** A CWR was seen. */
  cwr?: true;
  /** TCP state at the end, in Suricata's names: `none`, `syn_sent`, `syn_recv`, `established`, `fin_wait1`, `fin_wait2`, `time_wait`, `last_ack`, `close_wait`, `closing` or `closed`. As in Suricata, the closing states are the server's view: the client closing first passes through `close_wait` and `last_ack`, the server closing first through `fin_wait1`, `fin_wait2` and `time_wait`. */
  state: string;
  /** The connection was picked up mid-way: the client's SYN was not seen (the capture started later, or missed it). */
  midstream?: true;
  /** Client-to-server data had a hole that was never filled. */
  ts_gap?: true;
  /** Server-to-client data had a hole that was never filled. */
  tc_gap?: true;
}

/** Something malformed or evasive in the traffic: Suricata's `anomaly` record. */
export interface AnomalyEvent extends EveCommon {
  /** Always `anomaly`. */
  event_type: 'anomaly';
  /** For a frame with an unknown EtherType: that EtherType. */
  ether?: EtherRecord;
  /** What was wrong. */
  anomaly: AnomalyRecord;
}

/** The `anomaly` object of an anomaly record. */
export interface AnomalyRecord {
  /** For applayer events: the protocol whose parser raised it. */
  app_proto?: string;
  /** `decode` for a malformed header, `stream` for a TCP stream event, `applayer` for a protocol parser's. */
  type: 'decode' | 'stream' | 'applayer';
  /** Suricata's event name, e.g. `decoder.ipv4.trunc_pkt` or `stream.reassembly_seq_gap`; rules match it with `decode-event:` and `stream-event:` minus the prefix. */
  event: string;
  /** For stream events: the direction, `to_server` or `to_client`. */
  direction?: 'to_server' | 'to_client';
  /** For gaps: the number of bytes missing. */
  gap_bytes?: number;
  /** For applayer events: where it was found, `proto_parser` (the protocol's parser). */
  layer?: 'proto_parser';
}

/** A rule matched: Suricata's `alert` record. */
export interface AlertEvent extends EveCommon {
  /** Always `alert`. */
  event_type: 'alert';
  /** ICMP: the matched packet's type. */
  icmp_type?: number;
  /** ICMP: the matched packet's code. */
  icmp_code?: number;
  /** Where the packet came from: `wire/pcap` for a captured packet, `defrag` for a rebuilt datagram, `stream (flow timeout)` for stream data inspected when its flow ended. */
  pkt_src: string;
  /** The application transaction the rule matched on (per flow, from 0), for rules on application buffers. */
  tx_id?: number;
  /** The rule that matched and what it says. */
  alert: AlertRecord;
  /** The direction of the matched data in its flow: `to_server` or `to_client`. */
  direction?: 'to_server' | 'to_client';
  /** The flow's counters when the alert fired (the client as source). */
  flow?: AlertFlowRecord;
  /** The matched payload (the packet's, or the stream chunk's), base64; only when payload logging is on. */
  payload?: string;
  /** The matched payload with unprintable bytes as dots; only when printable payload logging is on. */
  payload_printable?: string;
  /** 1 when the payload is reassembled stream data, 0 when it is one packet's. */
  stream?: number;
  /** The Ethernet addresses of the packet, when Ethernet logging is on. */
  ether?: EtherRecord;
  /** The whole packet, base64, link header included; only when packet logging is on. */
  packet?: string;
  /** The link type of `packet`. */
  packet_info?: PacketInfo;
}

/** The `alert` object of an alert record. */
export interface AlertRecord {
  /** `allowed` (Outpost is passive: it never blocks), as Suricata writes for an IDS. */
  action: 'allowed' | 'blocked';
  /** Generator id (1 for text rules). */
  gid: number;
  /** The rule's sid. */
  signature_id: number;
  /** The rule's revision. */
  rev: number;
  /** The rule's msg. */
  signature: string;
  /** The classtype's description, "" without a classtype. */
  category: string;
  /** The rule's priority (1 highest). */
  severity: number;
  /** The side the rule names as the source, when the rule has a target keyword. */
  source?: AlertEndpoint;
  /** The side the rule names as the target, when the rule has a target keyword. */
  target?: AlertEndpoint;
  /** The rule's metadata keyword as key to values. */
  metadata?: Record<string, string[]>;
  /** The client's address from the HTTP request's X-Forwarded-For header (xff mode extra-data). */
  xff?: string;
}

/** One side of an alert (alert.source, alert.target). */
export interface AlertEndpoint {
  /** Address. */
  ip: string;
  /** Port, for TCP and UDP. */
  port?: number;
}

/** The `flow` object of an alert record. */
export interface AlertFlowRecord {
  /** Packets from client to server so far. */
  pkts_toserver: number;
  /** Packets from server to client so far. */
  pkts_toclient: number;
  /** Bytes on the wire from client to server so far. */
  bytes_toserver: number;
  /** Bytes on the wire from server to client so far. */
  bytes_toclient: number;
  /** Time of the flow's first packet. */
  start: string;
  /** The client's address. */
  src_ip: string;
  /** The server's address. */
  dest_ip: string;
  /** The client's port (TCP and UDP). */
  src_port?: number;
  /** The server's port (TCP and UDP). */
  dest_port?: number;
}

/** The `packet_info` object of an alert record. */
export interface PacketInfo {
  /** LINKTYPE_ value of the logged packet. */
  linktype: number;
  /** Its name, as Suricata writes it (EN10MB, LINUX_SLL, IPv6, ...). */
  linktype_name: string;
}

/** The `ether` object: a frame's Ethernet header. */
export interface EtherRecord {
  /** Source MAC address, colon-separated hex. */
  src_mac?: string;
  /** Destination MAC address, colon-separated hex. */
  dest_mac?: string;
  /** The EtherType, for an unknown one. */
  ether_type?: number;
}

/** Any record Outpost writes. */
/** An IRC row (Zeek's irc.log): Outpost's `irc` record. */
export interface IrcEvent extends EveCommon {
  /** Always `irc`. */
  event_type: 'irc';
  /** The row. */
  irc: IrcRecord;
}

/** A file a protocol carried (an HTTP body, an FTP or TFTP transfer, a DCC SEND): Suricata's `fileinfo` record. */
export interface FileinfoEvent extends EveCommon {
  /** Always `fileinfo`. */
  event_type: 'fileinfo';
  /** The transaction that carried the file. */
  tx_id: number;
  /** The file. */
  fileinfo: FileinfoRecord;
}

/** The `fileinfo` object. */
export interface FileinfoRecord {
  /** The name the protocol gave it (the URI's path, the FTP or TFTP file name, the DCC offer's), when it gave one. */
  filename?: string;
  /** Its type, from its first bytes, in libmagic's words ("PE32 executable (GUI) Intel 80386, for MS Windows", "ELF 32-bit LSB executable", "ASCII text", "data"). */
  magic: string;
  /** Bytes of it are missing. */
  gaps: boolean;
  /** `CLOSED` when the transfer ended normally, `TRUNCATED` when it was cut short or had gaps. */
  state: 'CLOSED' | 'TRUNCATED';
  /** SHA-256 of the bytes seen, hex. */
  sha256: string;
  /** Whether its bytes were stored (only when file storing is configured, and it fits the cap). */
  stored: boolean;
  /** Bytes seen. */
  size: number;
  /** The transaction that carried it. */
  tx_id: number;
}

export type EveEvent =
  | FlowEvent
  | AnomalyEvent
  | AlertEvent
  | IrcEvent
  | FileinfoEvent
  | DnsEvent
  | TlsEvent
  | FtpEvent
  | FtpDataEvent
  | TftpEvent
  | HttpEvent
  | ScanEvent
  | FloodEvent
  | IrcbotEvent
  | BackdoorEvent
  | PctEvent
  | VerdictEvent
  | HoneypotEvent
  | SensorStatsEvent
  | SpoolDropEvent
  | FirewallEvent;
