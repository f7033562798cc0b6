import type { ProtocolSpec } from './app.js';
import { createIrcProtocols } from './irc/index.js';

export type { AppOutput, AppSession, AppTransaction, Expectation, FileInfo, ProtocolSpec } from './app.js';
export { AppLayer, type AppLayerCounters, type AppLayerSink } from './layer.js';

/**
 * The protocols a sensor runs, made fresh for each sensor (some keep state across their flows,
 * as IRC's table of DCC offers): all of them, or those named (a name enables its companions:
 * "irc" brings "irc-dcc-data", "ftp" brings "ftp-data").
 */
export function createProtocols(enabled?: ReadonlySet<string>): ProtocolSpec[] {
  const all = [...createIrcProtocols()];
  if (enabled === undefined) return all;
  return all.filter((s) => enabled.has(s.name) || enabled.has(s.name.split('-')[0]!));
}
