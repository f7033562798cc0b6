import type { Keyword } from '../keyword.js';
import type { DetectionFilter } from '../rule.js';
import { RuleError } from '../syntax.js';
import { parseCount, parseOptionList, parseTrack, TRACKS } from './threshold.js';

/**
 * detection_filter: the rule alerts on every match after the first `count` within `seconds`
 * (match count+1 onwards), unlike threshold type threshold, which alerts on every count-th.
 * Suricata 7 takes track by_src|by_dst; Suricata 8 adds by_rule, by_both, by_flow and
 * `unique_on src_port|dst_port`, which counts distinct ports instead of matches and needs a
 * protocol with ports (doc/userguide/rules/thresholding.rst). count and seconds must be at least 1
 * (detect-detection-filter.c rejects 0).
 */

/** Header protocols without ports: unique_on has nothing to count there, and Suricata rejects it. */
const PORTLESS = new Set(['ip', 'icmp', 'icmpv4', 'icmpv6', 'pkthdr']);

export function parseDetectionFilter(text: string, proto: string): DetectionFilter {
  const what = 'detection_filter';
  const opts = parseOptionList(text, what, ['track', 'count', 'seconds', 'unique_on']);
  const trackText = opts.get('track');
  const countText = opts.get('count');
  const secondsText = opts.get('seconds');
  if (trackText === undefined || countText === undefined || secondsText === undefined) {
    const missing = ['track', 'count', 'seconds'].filter((n) => !opts.has(n));
    throw new RuleError(`${what}: missing ${missing.join(', ')}; needs track, count and seconds`);
  }
  const df: DetectionFilter = {
    track: parseTrack(trackText, what, TRACKS),
    count: parseCount(countText, what, 'count', 1),
    seconds: parseCount(secondsText, what, 'seconds', 1),
  };
  const unique = opts.get('unique_on');
  if (unique !== undefined) {
    const u = unique.toLowerCase();
    if (u !== 'src_port' && u !== 'dst_port') throw new RuleError(`${what}: unique_on "${unique}" is not src_port or dst_port`);
    if (PORTLESS.has(proto)) throw new RuleError(`${what}: unique_on ${u} needs a protocol with ports (tcp, udp, sctp), not ${proto}`);
    df.uniqueOn = u;
  }
  return df;
}

export const detectionFilter: Keyword = {
  name: 'detection_filter',
  summary: 'Alerts on every match after the first N within T seconds, counted per source, destination, address pair, rule or flow; unique_on (Suricata 8) counts distinct ports instead.',
  syntax: 'detection_filter: track by_src|by_dst|by_both|by_rule|by_flow, count N, seconds T[, unique_on src_port|dst_port]',
  apply(b, value) {
    if (b.detectionFilter !== null) throw new RuleError('detection_filter: a rule may have only one detection_filter');
    if (b.threshold !== null) throw new RuleError('detection_filter: a rule may not have both threshold and detection_filter');
    if (value === null || value.trim() === '') throw new RuleError(`detection_filter needs options: ${detectionFilter.syntax}`);
    b.detectionFilter = parseDetectionFilter(value, b.proto);
  },
};
