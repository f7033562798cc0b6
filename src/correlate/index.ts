import type { VerdictEvent, VerdictEvidence, VerdictRecord } from '../events/behaviour.js';
import type { EveEvent } from '../events/types.js';
import type { Detector, DetectorContext } from '../detect/detector.js';
import { secondsOf } from '../events/time.js';
import { atTime } from '../detect/util.js';
import { textToWords } from '../wire/address.js';
import { stagesOf, type Stage, type StageHit } from './stages.js';

export { STAGE_NAMES, STAGE_TABLE, stagesOf, type Stage, type StageHit } from './stages.js';

/**
 * The infection correlator (BotHunter's dialog, DOMAIN.md §7): every record is read as stages of
 * HOME_NET hosts' dialogs (stages.ts), and a host is declared infected on an inbound exploit (E2)
 * plus any of E3-E5, or on two distinct stages among E3-E5, all within `window` seconds. Its
 * `verdict` record is written once the host's dialog has been quiet for `settle` seconds (or at
 * the end of the input), and again only if the verdict or its stages change.
 */
export const CORRELATE_DEFAULTS = {
  enabled: true,
  /** Seconds the evidence of one declaration may span. */
  window: 3600,
  /** Seconds after an inbound exploit in which an executable download counts as the egg (E3). */
  'egg-window': 600,
  /** Seconds of quiet after which a declared host's verdict is written. */
  settle: 300,
  /** Hosts followed at once; the least recently active is dropped beyond it (counted). */
  'max-hosts': 65536,
  /** Evidence kept per host: the first of each stage, then the latest up to this many. */
  'max-evidence': 64,
};

export type CorrelateOptions = typeof CORRELATE_DEFAULTS;

interface Evidence extends StageHit {
  /** An executable download that counts as E3 only with an exploit or attack from its sender around it. */
  needsContext: boolean;
  time: number;
  timestamp: string;
  event_type: string;
  seq: number | undefined;
  flow_id: number | undefined;
}

interface Dialog {
  host: string;
  evidence: Evidence[];
  /** When the dialog last grew. */
  last: number;
  /** The verdict last written (kind and stages), to write again only on a change. */
  written: string | null;
  /** The IRC nick and channel from the C&C evidence. */
  channel?: string;
  nick?: string;
}

export function createCorrelator(ctx: DetectorContext, settings: Partial<CorrelateOptions>): Detector {
  const o: CorrelateOptions = { ...CORRELATE_DEFAULTS, ...settings };
  const dialogs = new Map<string, Dialog>();
  const counters = { hosts: 0, evidence: 0, verdicts: 0, evicted_hosts: 0, expired_hosts: 0, dropped_evidence: 0, errors: 0 };
  const words = new Uint32Array(8);
  const isHome = (ip: string): boolean => textToWords(ip, words, 0) && ctx.home(words, 0);
  let now = 0;
  /** Dialogs with evidence not judged since it arrived. */
  const dirty = new Set<Dialog>();

  const dialogOf = (host: string): Dialog => {
    let d = dialogs.get(host);
    if (d !== undefined) {
      // Most recently active last: eviction takes from the front.
      dialogs.delete(host);
      dialogs.set(host, d);
      return d;
    }
    if (dialogs.size >= o['max-hosts']) {
      const oldest = dialogs.keys().next().value as string;
      const gone = dialogs.get(oldest)!;
      write(gone);
      dirty.delete(gone);
      dialogs.delete(oldest);
      counters.evicted_hosts++;
    }
    d = { host, evidence: [], last: 0, written: null };
    dialogs.set(host, d);
    counters.hosts = dialogs.size;
    return d;
  };

  const add = (d: Dialog, e: Evidence): void => {
    const ev = d.evidence;
    if (ev.length >= o['max-evidence']) {
      // Keep the first of each stage; drop the oldest repeat.
      const seen = new Set<Stage>();
      const i = ev.findIndex((x) => {
        if (seen.has(x.stage)) return true;
        seen.add(x.stage);
        return false;
      });
      ev.splice(i >= 0 ? i : 0, 1);
      counters.dropped_evidence++;
    }
    ev.push(e);
    // Quiet is measured from when evidence arrives: a scan's or flood's record is dated by its
    // start but written when it stops, perhaps an hour later.
    d.last = Math.max(d.last, now, e.time);
    dirty.add(d);
    counters.evidence++;
  };

  /** An egg candidate has its context: an inbound exploit at most egg-window before it, or an earlier scan or exploit by its sender. */
  const inContext = (d: Dialog, egg: Evidence): boolean =>
    d.evidence.some(
      (e) =>
        (e.stage === 'E2' && egg.time >= e.time && egg.time - e.time <= o['egg-window']) ||
        ((e.stage === 'E1' || e.stage === 'E2') && egg.peer !== null && e.peer === egg.peer && e.time <= egg.time),
    );

  /** The evidence that declares the host infected (within the window ending at its latest), or null. */
  const declared = (d: Dialog): Evidence[] | null => {
    // Records arrive nearly in time order (a flow's record comes at its end): judge in time order.
    const usable = d.evidence.filter((e) => !e.needsContext || inContext(d, e)).sort((a, b) => a.time - b.time);
    if (usable.length === 0) return null;
    const end = usable[usable.length - 1]!.time;
    const recent = usable.filter((e) => e.time >= end - o.window);
    const stages = new Set(recent.map((e) => e.stage));
    const later = ['E3', 'E4', 'E5'].filter((s) => stages.has(s as Stage)).length;
    if ((stages.has('E2') && later >= 1) || later >= 2) return recent;
    return null;
  };

  const write = (d: Dialog): void => {
    const evidence = declared(d);
    if (evidence === null) return;
    const record = verdictOf(d, evidence);
    const key = `${record.verdict}|${record.stages.join(',')}`;
    if (d.written === key) return;
    d.written = key;
    const out = atTime(evidence[evidence.length - 1]!.time, 'verdict') as VerdictEvent;
    out.src_ip = d.host;
    if (record.cc !== undefined) {
      out.dest_ip = record.cc.ip;
      out.dest_port = record.cc.port;
    }
    out.verdict = record;
    counters.verdicts++;
    ctx.emit(out);
  };

  const verdictOf = (d: Dialog, evidence: Evidence[]): VerdictRecord => {
    const order: Stage[] = ['E1', 'E2', 'E3', 'E4', 'E5', 'flood', 'backdoor'];
    const has = (s: Stage): boolean => evidence.some((e) => e.stage === s);
    const stages = order.filter(has);
    const first = (s: Stage): Evidence | undefined => evidence.find((e) => e.stage === s);
    const cc = first('E4');
    const e2 = evidence.filter((e) => e.stage === 'E2');
    const e5 = evidence.filter((e) => e.stage === 'E5');
    const ccTime = cc?.time ?? Infinity;
    // A bot: a C&C channel, then actions that follow its commands (propagation, a flood, a download, a backdoor).
    const acts = evidence.some((e) => (e.stage === 'E5' || e.stage === 'flood' || e.stage === 'E3' || e.stage === 'backdoor') && e.time >= ccTime);
    // A worm: it came in by an exploit and sends the same exploit (or at the same port) on, without C&C.
    const sameExploit = e2.some((a) => e5.some((b) => (a.exploit !== null && a.exploit === b.exploit) || (a.port !== null && a.port === b.port)));
    const verdict: VerdictRecord['verdict'] = cc !== undefined && acts ? 'bot' : cc === undefined && sameExploit ? 'worm' : 'infected';
    const confidence = Math.min(0.99, Number((0.4 + 0.1 * stages.length + (verdict === 'infected' ? 0 : 0.1)).toFixed(2)));
    const targets = [...new Set(e5.map((e) => e.peer).filter((p): p is string => p !== null))];
    const flood = first('flood');
    const backdoor = first('backdoor');
    const rec: VerdictRecord = {
      host: d.host,
      verdict,
      confidence,
      stages,
      evidence: evidence.map(
        (e): VerdictEvidence => ({
          stage: e.stage,
          event_type: e.event_type,
          timestamp: e.timestamp,
          ...(e.seq !== undefined ? { seq: e.seq } : {}),
          ...(e.flow_id !== undefined ? { flow_id: e.flow_id } : {}),
          summary: e.summary,
        }),
      ),
      first: evidence[0]!.timestamp,
      last: evidence[evidence.length - 1]!.timestamp,
    };
    if (cc !== undefined && cc.peer !== null) rec.cc = { ip: cc.peer, port: cc.port ?? 0, ...(d.channel !== undefined ? { channel: d.channel } : {}), ...(d.nick !== undefined ? { nick: d.nick } : {}) };
    if (e5.length > 0) {
      rec.propagation_targets = targets.slice(0, 16);
      rec.propagation = { port: mostCommonPort(e5), targets: targets.length };
    }
    if (flood?.peer != null) rec.flood_target = flood.peer;
    if (backdoor?.port != null) rec.backdoor_port = backdoor.port;
    return rec;
  };

  /**
   * Dialogs that grew and are now quiet are judged; dialogs idle for longer than the window are
   * forgotten (oldest activity first: the map is kept in that order), written first if declared.
   */
  const settle = (): void => {
    for (const d of dirty) {
      if (now - d.last < o.settle) continue;
      dirty.delete(d);
      write(d);
    }
    for (const [host, d] of dialogs) {
      if (now - d.last <= o.window) break;
      if (dirty.delete(d)) write(d);
      dialogs.delete(host);
      counters.expired_hosts++;
    }
    counters.hosts = dialogs.size;
  };

  return {
    name: 'verdict',
    counters,
    record(ev: EveEvent): void {
      if (ev.event_type === 'verdict') return;
      const hits = stagesOf(ev, isHome);
      if (hits.length === 0) return;
      const time = secondsOf(ev.timestamp);
      for (const h of hits) {
        const d = dialogOf(h.host);
        // An executable download is an egg only in context (an inbound exploit shortly before, or
        // a sender that attacked this host). That context may be written after it (a TLS record
        // comes at its flow's end), so the download is kept and judged when the dialog is.
        const needsContext = h.stage === 'E3' && ev.app_proto !== 'tftp';
        if (h.stage === 'E4' && ev.event_type === 'ircbot') {
          const b = (ev as { ircbot: { channel?: string; nick?: string } }).ircbot;
          if (b.channel !== undefined) d.channel = b.channel;
          if (b.nick !== undefined) d.nick = b.nick;
        }
        add(d, { ...h, time, timestamp: ev.timestamp, event_type: ev.event_type, seq: ev.seq, flow_id: ev.flow_id, needsContext });
      }
    },
    tick(t: number): void {
      now = t;
      settle();
    },
    finish(): void {
      for (const d of dialogs.values()) write(d);
    },
  };
}

/** The port most of the evidence names (a scan over several ports names none), or null when none or a tie. */
function mostCommonPort(evidence: readonly Evidence[]): number | null {
  const counts = new Map<number, number>();
  for (const e of evidence) if (e.port !== null) counts.set(e.port, (counts.get(e.port) ?? 0) + 1);
  const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1]);
  if (ranked.length === 0 || (ranked.length > 1 && ranked[0]![1] === ranked[1]![1])) return null;
  return ranked[0]![0];
}


