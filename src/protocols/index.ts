import type { ProtocolSpec } from './app.js';
import { createDnsProtocol } from './dns/index.js';
import { createFtpProtocols } from './ftp/index.js';
import { httpProtocol } from './http/index.js';
import { createIrcProtocols } from './irc/index.js';
import { createTftpProtocols } from './tftp/index.js';
import { tlsProtocol } from './tls/index.js';

export type { AppOutput, AppSession, AppTransaction, Expectation, FileInfo, ProtocolSpec } from './app.js';
export { AppLayer, type AppLayerCounters, type AppLayerSink } from './layer.js';

/** How the protocols write their records, where a choice exists. */
export interface ProtocolOptions {
  /** DNS records in Suricata's v2 format (Suricata 7, the default) or v3 (Suricata 8). */
  dnsVersion?: 2 | 3;
}

/**
 * The protocols a sensor runs, made fresh for each sensor (some keep state across their flows,
 * as IRC's table of DCC offers): all of them, or those named (a name enables its companions:
 * "irc" brings "irc-dcc-data", "ftp" brings "ftp-data").
 */
export function createProtocols(enabled?: ReadonlySet<string>, options: ProtocolOptions = {}): ProtocolSpec[] {
  const all = [
    httpProtocol,
    tlsProtocol,
    createDnsProtocol({ version: options.dnsVersion ?? 2, alertVersion: options.dnsVersion ?? 2 }),
    ...createFtpProtocols(),
    ...createTftpProtocols(),
    ...createIrcProtocols(),
  ];
  if (enabled === undefined) return all;
  return all.filter((s) => enabled.has(s.name) || enabled.has(s.name.split('-')[0]!));
}
