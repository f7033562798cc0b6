import type { Packet } from '../decode/packet.js';
import type { EveEvent } from '../events/types.js';
import type { Flow } from '../flow/flow.js';
import type { Detector } from '../detect/detector.js';

/**
 * A packet time further ahead than this (seconds) of the stage's clock is taken for a garbled
 * timestamp, not for time passing: one bad packet must not close every window at once (or
 * freeze them at a far future). A capture that really resumes after a longer pause moves the
 * clock once packets agree on it (see `tick`).
 */
const MAX_TIME_JUMP = 86400;

/**
 * The behavioural stage between the packet path and the output: every record the sensor writes
 * gets its sequence number (`seq`, the id evidence refers to), goes out, and is then shown to the
 * detectors and the correlator, whose own records take the same path. Packets go to the detectors
 * that watch packets; packet time drives their windows (at most one tick per second).
 *
 * Records are dispatched one at a time, first in, first out: a record a detector emits while it
 * looks at another waits until every hook has seen that one, so each hook sees records in the
 * order they were written and is never re-entered. A hook that throws is counted
 * (`<name>.errors`) and the others go on: a detector's bug never stops the sensor.
 */
export class BehaviourStage {
  private seq = 0;
  private lastTick = 0;
  /** A jump past MAX_TIME_JUMP waiting to be confirmed by a second packet near it. */
  private jumpTo = 0;
  private readonly all: Detector[] = [];
  private packetHooks: Detector[] = [];
  private recordHooks: Detector[] = [];
  private tickHooks: Detector[] = [];
  private readonly queue: EveEvent[] = [];
  private dispatching = false;
  private readonly errors = new Map<Detector, number>();
  /** Packets whose time jumped too far ahead to be believed alone. */
  timeJumps = 0;

  constructor(private readonly sink: (ev: EveEvent) => void) {}

  /** Adds detectors (then the correlator, last: it sees their records). */
  add(detectors: readonly Detector[]): void {
    this.all.push(...detectors);
    this.packetHooks = this.all.filter((d) => d.packet !== undefined);
    this.recordHooks = this.all.filter((d) => d.record !== undefined);
    this.tickHooks = this.all.filter((d) => d.tick !== undefined);
  }

  /** The detectors and the correlator, in the order they see records. */
  get detectors(): readonly Detector[] {
    return this.all;
  }

  /** A record from the sensor or from a detector. Bound: handed out as the detectors' emit. */
  readonly event = (ev: EveEvent): void => {
    if (ev.seq === undefined) ev.seq = ++this.seq;
    this.sink(ev);
    if (this.dispatching) {
      this.queue.push(ev);
      return;
    }
    this.dispatching = true;
    try {
      this.dispatch(ev);
      // Records emitted meanwhile, in order (the queue is short: a record begets one or two).
      for (let i = 0; i < this.queue.length; i++) this.dispatch(this.queue[i]!);
    } finally {
      this.queue.length = 0;
      this.dispatching = false;
    }
  };

  private dispatch(ev: EveEvent): void {
    const hooks = this.recordHooks;
    for (let i = 0; i < hooks.length; i++) {
      try {
        hooks[i]!.record!(ev);
      } catch {
        this.failed(hooks[i]!);
      }
    }
  }

  /** A packet after the flow table (and the rules): to the detectors that watch packets. */
  packet(p: Packet, flow: Flow | null, dir: number): void {
    const hooks = this.packetHooks;
    for (let i = 0; i < hooks.length; i++) {
      try {
        hooks[i]!.packet!(p, flow, dir);
      } catch {
        this.failed(hooks[i]!);
      }
    }
    if (p.tsSec > this.lastTick) this.tick(p.tsSec);
  }

  /**
   * Packet time has moved on to `now` (whole seconds): the detectors' windows close. The first
   * packet time is taken as it is; a jump of more than a day ahead only once a second packet
   * confirms it.
   */
  tick(now: number): void {
    if (!(now > this.lastTick)) return;
    if (this.lastTick > 0 && now - this.lastTick > MAX_TIME_JUMP) {
      if (this.jumpTo === 0 || Math.abs(now - this.jumpTo) > MAX_TIME_JUMP) {
        this.jumpTo = now;
        this.timeJumps++;
        return;
      }
    }
    this.jumpTo = 0;
    this.lastTick = now;
    for (const d of this.tickHooks) {
      try {
        d.tick!(now);
      } catch {
        this.failed(d);
      }
    }
  }

  /** The input is over: detectors report what is still open, the correlator last. */
  finish(): void {
    for (const d of this.all) {
      try {
        d.finish?.();
      } catch {
        this.failed(d);
      }
    }
  }

  /** Every detector's counters as "name.counter", with the stage's own (`<name>.errors`, `stage.time_jumps`). */
  counters(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const d of this.all) {
      for (const [k, v] of Object.entries(d.counters)) out[`${d.name}.${k}`] = v;
      const errors = this.errors.get(d);
      if (errors !== undefined) out[`${d.name}.errors`] = (out[`${d.name}.errors`] ?? 0) + errors;
    }
    out['stage.time_jumps'] = this.timeJumps;
    return out;
  }

  private failed(d: Detector): void {
    this.errors.set(d, (this.errors.get(d) ?? 0) + 1);
  }
}
