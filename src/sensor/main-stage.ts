import { createCorrelator, type CorrelateOptions } from '../correlate/index.js';
import type { Detector } from '../detect/detector.js';
import { secondsOf } from '../events/time.js';
import type { EveEvent } from '../events/types.js';
import type { AddressMatcher } from '../rules/addresses.js';

/**
 * The main thread's record path. Every record (from the workers, from the correlator, and the
 * sensor's own) goes, in this order:
 *
 * 1. `sensor_id` is set when the sensor is enrolled (the collector sets it anyway, from the
 *    credential; setting it here makes eve.json say the same), and any `seq` is removed (a
 *    worker's behaviour stage numbers records its own way: that number must not leak);
 * 2. the spool appends it, which gives it its `seq`: the number the collector will know it by;
 * 3. eve.json gets it, with that `seq`;
 * 4. the correlator sees it, so the evidence its verdicts cite carries seqs that exist in the
 *    spool, in eve.json and at the collector. A verdict takes this same path from step 1.
 *
 * Appending before the correlator is what keeps the citations true: a verdict can only cite a
 * record the correlator has seen, and it has seen only records already numbered. Records are
 * handled one at a time, first in, first out (as the workers' behaviour stage does): a verdict
 * written while the correlator looks at a record waits until that record is done, so the
 * correlator is never re-entered and eve.json keeps cause before effect.
 */

/** Where records are kept: the spool (its append gives the seq). */
export interface RecordStore {
  append(ev: EveEvent): number;
}

/** Where records are shown: the local eve.json. */
export interface RecordLog {
  write(ev: EveEvent): void;
}

export interface RecordPathOptions {
  store: RecordStore;
  /** The local eve.json (null: none). */
  log: RecordLog | null;
  /** The enrolled sensor's id (null: not enrolled). */
  sensorId: string | null;
  /** HOME_NET, for the correlator. */
  home: AddressMatcher;
  /** The correlator's settings; false: no correlator. */
  correlate: Partial<CorrelateOptions> | false;
}

/**
 * A packet time further ahead than this (s) of the correlator's clock is not believed from one
 * record alone (a garbled timestamp would close every dialog at once): the behaviour stage's rule.
 */
const MAX_TIME_JUMP = 86400;

/** The main thread's record path: numbering, eve.json, the correlator. */
export class RecordPath {
  private readonly correlator: Detector | null;
  private readonly queue: EveEvent[] = [];
  private busy = false;
  /** Packet time (s) the correlator was last told; the next candidate past a jump. */
  private clock = 0;
  private jumpTo = 0;
  private lastPrefix = '';
  /** Records by event_type. */
  readonly byType = new Map<string, number>();
  /** Records appended. */
  records = 0;
  /** Correlator hooks that threw (counted, never fatal). */
  correlatorErrors = 0;
  /** Records the spool refused (not serialisable, or over its size cap), and the last reason. */
  unstorable = 0;
  lastError: string | null = null;

  constructor(private readonly o: RecordPathOptions) {
    this.correlator = o.correlate === false ? null : createCorrelator({ emit: (ev) => this.enqueue(ev), home: o.home }, o.correlate);
  }

  /** A record from a worker: packet time, so it also moves the correlator's clock. */
  record(ev: EveEvent): void {
    this.advance(ev.timestamp);
    this.enqueue(ev);
  }

  /**
   * The sensor's own record (sensor_stats, spool_drop): wall-clock time, so it does not move the
   * correlator's packet-time clock. Safe to call from inside the spool's append (its drop
   * callback): it then waits for the record being appended.
   */
  own(ev: EveEvent): void {
    this.enqueue(ev);
  }

  /** The input is over: the correlator writes its verdicts for what is still open. */
  finish(): void {
    this.guard(() => this.correlator?.finish?.());
    this.drain();
  }

  /** The correlator's counters (`verdict.*`), with its errors. */
  counters(): Record<string, number> {
    const out: Record<string, number> = {};
    if (this.correlator !== null) for (const [k, v] of Object.entries(this.correlator.counters)) out[`verdict.${k}`] = v;
    if (this.correlatorErrors > 0) out['verdict.errors'] = this.correlatorErrors;
    return out;
  }

  private enqueue(ev: EveEvent): void {
    this.queue.push(ev);
    if (!this.busy) this.drain();
  }

  private drain(): void {
    if (this.busy) return;
    this.busy = true;
    try {
      // The queue is short: a record begets a verdict now and then, a spool drop its warning.
      for (let i = 0; i < this.queue.length; i++) this.handle(this.queue[i]!);
    } finally {
      this.queue.length = 0;
      this.busy = false;
    }
  }

  private handle(ev: EveEvent): void {
    delete ev.seq;
    // The spooled line carries no sensor_id: the collector sets it from the signing credential, so
    // what waits in the spool still ships after the sensor is enrolled again under a new id.
    delete ev.sensor_id;
    try {
      this.o.store.append(ev);
      if (this.o.sensorId !== null) ev.sensor_id = this.o.sensorId;
    } catch (err) {
      // A record JSON cannot hold (or over the spool's size cap): a bug upstream, counted, never fatal.
      this.unstorable++;
      this.lastError = (err as Error).message;
      return;
    }
    this.records++;
    this.byType.set(ev.event_type, (this.byType.get(ev.event_type) ?? 0) + 1);
    this.o.log?.write(ev);
    const c = this.correlator;
    if (c !== null && ev.event_type !== 'sensor_stats' && ev.event_type !== 'spool_drop') this.guard(() => c.record!(ev));
  }

  /** Moves the correlator's clock to a record's second, believing a jump of more than a day only when a second record confirms it. */
  private advance(timestamp: string): void {
    const c = this.correlator;
    if (c === null || typeof timestamp !== 'string') return;
    const prefix = timestamp.slice(0, 19);
    if (prefix === this.lastPrefix) return;
    this.lastPrefix = prefix;
    const now = Math.floor(secondsOf(timestamp));
    if (!(now > this.clock)) return;
    if (this.clock > 0 && now - this.clock > MAX_TIME_JUMP) {
      if (this.jumpTo === 0 || Math.abs(now - this.jumpTo) > MAX_TIME_JUMP) {
        this.jumpTo = now;
        return;
      }
    }
    this.jumpTo = 0;
    this.clock = now;
    this.guard(() => c.tick?.(now));
    // A tick's verdicts wait in the queue: handle them now, before the record that moved the clock.
    if (!this.busy && this.queue.length > 0) this.drain();
  }

  private guard(f: () => void): void {
    try {
      f();
    } catch {
      this.correlatorErrors++;
    }
  }
}
