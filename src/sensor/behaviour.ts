import type { Packet } from '../decode/packet.js';
import type { EveEvent } from '../events/types.js';
import type { Flow } from '../flow/flow.js';
import type { Detector } from '../detect/detector.js';

/**
 * The behavioural stage between the packet path and the output: every record the sensor writes
 * gets its sequence number (`seq`, the id evidence refers to), goes out, and is then shown to the
 * detectors and the correlator, whose own records take the same path. Packets go to the detectors
 * that watch packets; packet time drives their windows (at most one tick per second).
 */
export class BehaviourStage {
  private seq = 0;
  private lastTick = 0;
  private readonly all: Detector[] = [];
  private packetHooks: Detector[] = [];
  private recordHooks: Detector[] = [];
  private tickHooks: Detector[] = [];

  constructor(private readonly sink: (ev: EveEvent) => void) {}

  /** Adds detectors (then the correlator, last: it sees their records). */
  add(detectors: readonly Detector[]): void {
    this.all.push(...detectors);
    this.packetHooks = this.all.filter((d) => d.packet !== undefined);
    this.recordHooks = this.all.filter((d) => d.record !== undefined);
    this.tickHooks = this.all.filter((d) => d.tick !== undefined);
  }

  get detectors(): readonly Detector[] {
    return this.all;
  }

  /** A record from the sensor or from a detector. Bound: handed out as the detectors' emit. */
  readonly event = (ev: EveEvent): void => {
    if (ev.seq === undefined) ev.seq = ++this.seq;
    this.sink(ev);
    const hooks = this.recordHooks;
    for (let i = 0; i < hooks.length; i++) hooks[i]!.record!(ev);
  };

  packet(p: Packet, flow: Flow | null, dir: number): void {
    const hooks = this.packetHooks;
    for (let i = 0; i < hooks.length; i++) hooks[i]!.packet!(p, flow, dir);
    if (p.tsSec > this.lastTick) this.tick(p.tsSec);
  }

  /** Moves packet time on without a packet (a quiet live capture). */
  tick(now: number): void {
    if (now <= this.lastTick) return;
    this.lastTick = now;
    for (const d of this.tickHooks) d.tick!(now);
  }

  /** The input is over: detectors report what is still open, the correlator last. */
  finish(): void {
    for (const d of this.all) d.finish?.();
  }

  /** Every detector's counters, as "name.counter". */
  counters(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const d of this.all) for (const [k, v] of Object.entries(d.counters)) out[`${d.name}.${k}`] = v;
    return out;
  }
}
