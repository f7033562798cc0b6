import { replayFrames } from '../helpers.js';
import type { AlertEvent, EveEvent } from '../../src/events/types.js';
import type { XffOptions } from '../../src/rules/alert.js';
import { RuleSet } from '../../src/rules/ruleset.js';
import { createProtocols } from '../../src/protocols/index.js';
import { Pipeline } from '../../src/sensor/pipeline.js';
import { SynthCapture } from '../../src/synth/traffic.js';
import { DEFAULT_VARS, withHomeNet } from '../../src/rules/vars.js';

/** Runs crafted traffic through a pipeline with the given rules; returns what came out. */
export function detect(
  rules: string,
  craft: (cap: SynthCapture) => void,
  options: { homeNet?: string; packetAlertMax?: number; payload?: boolean; xff?: XffOptions } = {},
): { events: EveEvent[]; alerts: AlertEvent[]; fast: string[]; set: RuleSet; sids: number[] } {
  const set = new RuleSet(options.homeNet !== undefined ? { vars: withHomeNet(DEFAULT_VARS, options.homeNet, false) } : {});
  const report = set.loadText(rules, 'test.rules');
  if (report.errors.length > 0 || Object.keys(report.unsupported).length > 0) {
    throw new Error(`rules did not load: ${JSON.stringify(report.errors)} ${JSON.stringify(report.unsupported)}`);
  }
  const events: EveEvent[] = [];
  const fast: string[] = [];
  const pipeline = new Pipeline((e) => events.push(e), {
    detect: {
      rules: set.rules,
      engine: options.packetAlertMax !== undefined ? { packetAlertMax: options.packetAlertMax } : {},
      alert: { categories: set.ctx.classifications, payload: options.payload ?? false, ...(options.xff !== undefined ? { xff: options.xff } : {}) },
      fastLog: (l) => fast.push(l),
    },
    flow: { idSalt: 1 },
    app: { protocols: createProtocols() },
  });
  const cap = new SynthCapture(null);
  craft(cap);
  replayFrames(cap, pipeline.frame);
  pipeline.finish();
  const alerts = events.filter((e): e is AlertEvent => e.event_type === 'alert');
  return { events, alerts, fast, set, sids: alerts.map((a) => a.alert.signature_id) };
}
