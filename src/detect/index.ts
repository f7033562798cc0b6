import type { Detector, DetectorContext } from './detector.js';
import { BACKDOOR_DEFAULTS, createBackdoorDetector } from './backdoor.js';
import { createFloodDetector, FLOOD_DEFAULTS } from './flood.js';
import { createIrcbotDetector, IRCBOT_DEFAULTS } from './ircbot.js';
import { createPctDetector, PCT_DEFAULTS } from './pct.js';
import { createScanDetector, SCAN_DEFAULTS } from './scan.js';

export type { Detector, DetectorContext } from './detector.js';

/** A detector's settings: numbers, switches and lists, each with its default. */
export type DetectorOptions = Readonly<Record<string, number | boolean | string | readonly number[]>>;

/** One detector kind: its name (the event_type and the config key under `detect:`), its defaults, and how to make one. */
export interface DetectorKind<O extends DetectorOptions = DetectorOptions> {
  readonly name: string;
  /** Every option with its default; `enabled` switches the detector. */
  readonly defaults: O;
  create(ctx: DetectorContext, options: O): Detector;
}

function kind<O extends DetectorOptions>(name: string, defaults: O, create: (ctx: DetectorContext, options: O) => Detector): DetectorKind {
  return { name, defaults, create: create as (ctx: DetectorContext, options: DetectorOptions) => Detector };
}

/** The behavioural detectors, in the order they see each packet and record. */
export const DETECTOR_KINDS: readonly DetectorKind[] = [
  kind('scan', SCAN_DEFAULTS, createScanDetector),
  kind('flood', FLOOD_DEFAULTS, createFloodDetector),
  kind('ircbot', IRCBOT_DEFAULTS, createIrcbotDetector),
  kind('backdoor', BACKDOOR_DEFAULTS, createBackdoorDetector),
  kind('pct', PCT_DEFAULTS, createPctDetector),
];

/**
 * The enabled detectors, each with its defaults overlaid by `settings[name]` (already checked
 * against the defaults' keys and types by the configuration loader).
 */
export function createDetectors(ctx: DetectorContext, settings: Readonly<Record<string, Partial<DetectorOptions>>> = {}): Detector[] {
  const out: Detector[] = [];
  for (const k of DETECTOR_KINDS) {
    const options = { ...k.defaults, ...(settings[k.name] ?? {}) } as DetectorOptions;
    if (options.enabled === false) continue;
    out.push(k.create(ctx, options));
  }
  return out;
}
