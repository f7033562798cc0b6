/**
 * The sensor runtime's own records (src/sensor/): its periodic health (`sensor_stats`, Suricata's
 * `stats` in spirit, with the network's figures added) and the spool's warning when its disk
 * budget forces it to drop events (`spool_drop`). They ship to the collector like any other
 * record, so the collector sees a sensor's health and its losses from the sensor's own words.
 */
import type { EveCommon } from './types.js';

/** A `sensor_stats` record: the sensor's health, every `sensor.stats-interval` seconds. */
export interface SensorStatsEvent extends EveCommon {
  /** Always `sensor_stats`. */
  event_type: 'sensor_stats';
  /** The figures. */
  sensor_stats: SensorStats;
}

/** The `sensor_stats` object. */
export interface SensorStats {
  /** Outpost's version on the sensor. */
  version: string;
  /** Seconds since the sensor started. */
  uptime: number;
  /** Packets per second over the last interval. */
  pps: number;
  /** Packets read since start. */
  packets: number;
  /** Packets the capture dropped (tcpdump's kernel drop count, when it reports one). */
  capture_drops: number;
  /** Packets the sensor dropped itself (a worker queue full, a packet it could not decode). */
  internal_drops: number;
  /** Events waiting in the spool, not yet acknowledged by the collector. */
  spool_depth: number;
  /** Bytes the spool holds on disk. */
  spool_bytes: number;
  /** Events the spool dropped since start because its disk budget ran out. */
  spool_dropped: number;
  /** The highest sequence number the collector has acknowledged. */
  acked_seq: number;
  /** The sequence number the next event will get. */
  next_seq: number;
  /** Rule engine counters (rules loaded, alerts, ...), by name. */
  rules: Record<string, number>;
  /** Application layer counters (flows per protocol, parse errors, ...), by name. */
  app_layer: Record<string, number>;
}

/** A `spool_drop` record: the spool dropped its oldest events to stay within its disk budget. Never silent. */
export interface SpoolDropEvent extends EveCommon {
  /** Always `spool_drop`. */
  event_type: 'spool_drop';
  /** What was dropped. */
  spool_drop: SpoolDrop;
}

/** The `spool_drop` object. */
export interface SpoolDrop {
  /** Events dropped by this pass. */
  dropped: number;
  /** The first dropped event's sequence number. */
  first_seq: number;
  /** The last dropped event's sequence number. */
  last_seq: number;
  /** Bytes freed. */
  bytes: number;
  /** Events dropped since the spool was created (this pass included). */
  total_dropped: number;
  /** The disk budget, bytes. */
  budget: number;
}
