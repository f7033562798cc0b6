import type { ProtocolSpec } from './app.js';
import { createDnsProtocol } from './dns/index.js';
import { createFtpProtocols } from './ftp/index.js';
import { createHttpProtocol, httpProtocol } from './http/index.js';
import type { HttpLimits } from './http/limits.js';
import { createIrcProtocols } from './irc/index.js';
import { smtpProtocol } from './smtp/index.js';
import { createTftpProtocols } from './tftp/index.js';
import { tlsProtocol } from './tls/index.js';

export type { AppOutput, AppSession, AppTransaction, Expectation, FileInfo, ProtocolSpec } from './app.js';
export { AppLayer, type AppLayerCounters, type AppLayerSink } from './layer.js';

/** How the protocols write their records, where a choice exists. */
export interface ProtocolOptions {
  /** DNS records in Suricata's v2 format (Suricata 7, the default) or v3 (Suricata 8). */
  dnsVersion?: 2 | 3;
  /** HTTP bounds other than Suricata's shipped ones (body bytes kept, encoding layers decoded, ...). */
  httpLimits?: Partial<HttpLimits>;
}

/**
 * The protocols a sensor runs, made fresh for each sensor (some keep state across their flows,
 * as IRC's table of DCC offers): all of them, or those named (a name enables its companions:
 * "irc" brings "irc-dcc-data", "ftp" brings "ftp-data").
 */
export function createProtocols(enabled?: ReadonlySet<string>, options: ProtocolOptions = {}): ProtocolSpec[] {
  const all = [
    options.httpLimits !== undefined && Object.keys(options.httpLimits).length > 0 ? createHttpProtocol({ limits: options.httpLimits }) : httpProtocol,
    tlsProtocol,
    createDnsProtocol({ version: options.dnsVersion ?? 2, alertVersion: options.dnsVersion ?? 2 }),
    ...createFtpProtocols(),
    ...createTftpProtocols(),
    ...createIrcProtocols(),
    smtpProtocol,
  ];
  if (enabled === undefined) return all;
  return all.filter((s) => enabled.has(s.name) || enabled.has(s.name.split('-')[0]!));
}
