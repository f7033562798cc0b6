import { formatTimestamp } from '../events/time.js';
import type { Direction } from '../events/behaviour.js';
import type { EveCommon, EveEvent } from '../events/types.js';

/** A new record of `eventType` about the same flow and endpoints as `ev` (its common fields, no seq). */
export function sameFlow(ev: EveEvent, eventType: string): EveCommon {
  const out: EveCommon = { timestamp: ev.timestamp, event_type: eventType };
  if (ev.flow_id !== undefined) out.flow_id = ev.flow_id;
  if (ev.in_iface !== undefined) out.in_iface = ev.in_iface;
  if (ev.pcap_cnt !== undefined) out.pcap_cnt = ev.pcap_cnt;
  if (ev.vlan !== undefined) out.vlan = ev.vlan;
  if (ev.src_ip !== undefined) out.src_ip = ev.src_ip;
  if (ev.src_port !== undefined) out.src_port = ev.src_port;
  if (ev.dest_ip !== undefined) out.dest_ip = ev.dest_ip;
  if (ev.dest_port !== undefined) out.dest_port = ev.dest_port;
  if (ev.ip_v !== undefined) out.ip_v = ev.ip_v;
  if (ev.proto !== undefined) out.proto = ev.proto;
  if (ev.app_proto !== undefined) out.app_proto = ev.app_proto;
  return out;
}

/** A record of `eventType` at packet time `seconds` (no flow): src and dest are filled by the caller. */
export function atTime(seconds: number, eventType: string): EveCommon {
  return { timestamp: timestampOf(seconds), event_type: eventType };
}

/**
 * EVE's timestamp for packet time in seconds, rounded to the microsecond: a float near 1e9
 * seconds holds a microsecond count only to a quarter of a microsecond, so cutting it would
 * often land one microsecond early.
 */
export function timestampOf(seconds: number): string {
  const us = Math.round(seconds * 1e6);
  const sec = Math.floor(us / 1e6);
  return formatTimestamp(sec, (us - sec * 1e6) * 1000);
}

/**
 * A map capped at `max` entries that forgets the least recently used in bulk: entries live in a
 * current and a previous generation; a lookup that finds an entry in the previous one moves it
 * forward, and when the current one is full (half the cap) the previous one is dropped whole
 * (each entry handed to `drop`, and counted in `evicted`). Every operation is O(1): a Map that
 * evicts its oldest by iterating from the front slows down as deleted slots pile up there.
 */
export class AgingMap<K, V> {
  private current = new Map<K, V>();
  private previous = new Map<K, V>();
  private readonly half: number;
  /** Entries forgotten by aging. */
  evicted = 0;

  constructor(
    max: number,
    private readonly drop: ((value: V) => void) | null = null,
  ) {
    this.half = Math.max(1, Math.floor(max / 2));
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }

  /** The entry, moved forward (recently used) when it was in the previous generation. */
  get(key: K): V | undefined {
    const v = this.current.get(key);
    if (v !== undefined) return v;
    const old = this.previous.get(key);
    if (old === undefined) return undefined;
    this.previous.delete(key);
    this.add(key, old);
    return old;
  }

  set(key: K, value: V): void {
    if (this.current.has(key)) {
      this.current.set(key, value);
      return;
    }
    this.previous.delete(key);
    this.add(key, value);
  }

  delete(key: K): boolean {
    return this.current.delete(key) || this.previous.delete(key);
  }

  /** Drops the previous generation; the current one becomes it. */
  age(): void {
    const dropped = this.previous;
    this.previous = this.current;
    this.current = new Map();
    this.evicted += dropped.size;
    if (this.drop !== null) for (const v of dropped.values()) this.drop(v);
  }

  /** Every entry, least recently used generation first (a copy: the map may change meanwhile). */
  values(): V[] {
    return [...this.previous.values(), ...this.current.values()];
  }

  /** Removes the entries `stale` says are stale. */
  sweep(stale: (value: V) => boolean): void {
    for (const m of [this.previous, this.current]) for (const [k, v] of m) if (stale(v)) m.delete(k);
  }

  private add(key: K, value: V): void {
    if (this.current.size >= this.half) this.age();
    this.current.set(key, value);
  }
}

/** Whether the address at `at` (Outpost's four words) is IPv4, held IPv4-mapped. */
export function isV4Mapped(w: Uint32Array, at: number): boolean {
  return w[at] === 0 && w[at + 1] === 0 && w[at + 2] === 0xffff;
}

/** A map key for the address at `at`: its IPv4 number, or its words as text for IPv6. */
export function addressKey(w: Uint32Array, at: number): number | string {
  if (isV4Mapped(w, at)) return w[at + 3]!;
  return `${w[at]}:${w[at + 1]}:${w[at + 2]}:${w[at + 3]}`;
}

/** Which way a behaviour crossed HOME_NET's edge, from whether its actor and its target(s) are inside. */
export function directionOf(actorHome: boolean, targetHome: boolean): Direction {
  if (actorHome) return targetHome ? 'internal' : 'outbound';
  return targetHome ? 'inbound' : 'external';
}
