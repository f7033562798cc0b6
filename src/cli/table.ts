import type { AlertEvent, AnomalyEvent, EveEvent, FlowEvent } from '../events/types.js';
import { formatBytes } from './progress.js';

/** One line per record for people: flows as they end, anomalies flagged with "!". */
export function formatRecord(ev: EveEvent): string {
  switch (ev.event_type) {
    case 'flow': return formatFlow(ev);
    case 'alert': return formatAlert(ev);
    case 'anomaly': return formatAnomaly(ev);
    case 'fileinfo': return formatApp(ev, `file ${ev.fileinfo.filename ?? '-'} ${formatBytes(ev.fileinfo.size)} ${ev.fileinfo.state} ${ev.fileinfo.magic} sha256:${ev.fileinfo.sha256.slice(0, 16)}...`);
    case 'irc': return formatApp(ev, `irc ${[ev.irc.command, ev.irc.value, ev.irc.addl, ev.irc.dcc_file_name].filter((x) => x !== undefined && x !== '').join(' ')}`);
    default: return formatApp(ev, summarize(ev));
  }
}

/** A protocol record: its time, endpoints and a summary. */
function formatApp(ev: EveEvent, summary: string): string {
  return `${shortTime(ev.timestamp).padEnd(26)} ${(ev.app_proto ?? ev.proto ?? '').padEnd(9)} ${endpoint(ev.src_ip, ev.src_port)} -> ${endpoint(ev.dest_ip, ev.dest_port)}  ${summary}`;
}

/** A record without a formatter of its own: its type and its object's values, cut short. */
function summarize(ev: EveEvent): string {
  const body = (ev as unknown as Record<string, unknown>)[ev.event_type];
  const text = body === undefined ? '' : JSON.stringify(body);
  return `${ev.event_type} ${text.length > 120 ? `${text.slice(0, 117)}...` : text}`;
}

function formatAlert(ev: AlertEvent): string {
  const a = ev.alert;
  return `${shortTime(ev.timestamp).padEnd(26)} ** [${a.gid}:${a.signature_id}:${a.rev}] ${a.signature} (priority ${a.severity}) ${endpoint(ev.src_ip, ev.src_port)} -> ${endpoint(ev.dest_ip, ev.dest_port)}`;
}

export const TABLE_HEADER = `${'time'.padEnd(26)} ${'proto'.padEnd(9)} ${'client'.padEnd(40)}    ${'server'.padEnd(40)} ${'pkts'.padStart(7)} ${'bytes'.padStart(9)}  state/reason`;

function endpoint(ip: string | undefined, port: number | undefined): string {
  if (ip === undefined) return '-';
  const host = ip.includes(':') ? `[${ip}]` : ip;
  return port === undefined ? host : `${host}:${port}`;
}

function shortTime(ts: string): string {
  return ts.replace('T', ' ').replace('+0000', '');
}

function formatFlow(ev: FlowEvent): string {
  const f = ev.flow;
  const pkts = f.pkts_toserver + f.pkts_toclient;
  const bytes = f.bytes_toserver + f.bytes_toclient;
  const state = ev.tcp !== undefined ? ev.tcp.state : f.state;
  return `${shortTime(f.start).padEnd(26)} ${(ev.proto ?? '').padEnd(9)} ${endpoint(ev.src_ip, ev.src_port).padEnd(40)} -> ${endpoint(ev.dest_ip, ev.dest_port).padEnd(40)} ${String(pkts).padStart(7)} ${formatBytes(bytes).padStart(9)}  ${state}/${f.reason}`;
}

function formatAnomaly(ev: AnomalyEvent): string {
  const where = ev.src_ip !== undefined ? ` ${endpoint(ev.src_ip, ev.src_port)} -> ${endpoint(ev.dest_ip, ev.dest_port)}` : '';
  const frame = ev.pcap_cnt !== undefined ? ` (frame ${ev.pcap_cnt})` : '';
  return `${shortTime(ev.timestamp).padEnd(26)} !  ${ev.anomaly.event}${where}${frame}`;
}
