import type { Packet } from '../decode/packet.js';
import type { EveEvent } from '../events/types.js';
import type { Flow } from '../flow/flow.js';
import type { AddressMatcher } from '../rules/addresses.js';

/**
 * A behavioural detector: it watches packets, the records the sensor writes, or both, keeps
 * bounded state per actor, and writes its own EVE-shaped records (`scan`, `flood`, `ircbot`,
 * `backdoor`, `pct`) through its context. Time is packet time: a capture replays as it happened.
 *
 * Contract:
 * - Every hook is cheap on the common path: `packet` runs for every packet, so a detector looks
 *   at what it needs (a flow's first packets, a flag) and returns.
 * - State is capped per source and in total; what a cap throws away is counted in `counters`
 *   (an `evicted` entry), never silently.
 * - Hostile input never throws out of a hook.
 */
export interface Detector {
  /** Its event_type, which also names it in configuration and counters. */
  readonly name: string;
  /** A packet after the flow table has taken it; `flow` is null for packets without one, `dir` is 0 from the flow's client, 1 from its server. */
  packet?(p: Packet, flow: Flow | null, dir: number): void;
  /** A record the sensor is about to write (flow, alert, http, dns, tls, irc, fileinfo, ... and other detectors' records). */
  record?(ev: EveEvent): void;
  /** Packet time has moved on to `now` (seconds since the epoch): windows that closed report now. Called at most once per second of packet time. */
  tick?(now: number): void;
  /** The input is over: what is still open reports now. */
  finish?(): void;
  /** Named counters: state held, events written, and what caps evicted. */
  readonly counters: Record<string, number>;
}

/** What a detector is given. */
export interface DetectorContext {
  /** Writes one of its records (an EVE event with timestamp and event_type). */
  emit(ev: EveEvent): void;
  /** Whether an address (Packet.addr words: the source at 0, the destination at 4) is in HOME_NET. */
  home: AddressMatcher;
}
