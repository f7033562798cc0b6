import { openByteSource } from '../../src/capture/source.js';
import { readCapture } from '../../src/capture/reader.js';
import type { AlertEvent } from '../../src/events/types.js';
import { createProtocols } from '../../src/protocols/index.js';
import type { ProtocolSpec } from '../../src/protocols/app.js';
import { RuleSet } from '../../src/rules/ruleset.js';
import { Pipeline, type PipelineOptions } from '../../src/sensor/pipeline.js';

/** A record as JSON sees it: any field by name. */
export type Record_ = Record<string, unknown> & { event_type: string };

/**
 * Runs a capture through the whole sensor pipeline (decode, flows, the application layer,
 * rules when given) and returns every record it wrote.
 */
export async function analyzeCapture(
  file: string,
  options: { rules?: string; protocols?: ProtocolSpec[]; fileStore?: { enabled: boolean; maxBytes: number } } = {},
): Promise<{ events: Record_[]; alerts: AlertEvent[]; pipeline: Pipeline }> {
  const events: Record_[] = [];
  let detect: PipelineOptions['detect'];
  if (options.rules !== undefined) {
    const set = new RuleSet();
    const report = set.loadText(options.rules, 'test.rules');
    if (report.errors.length > 0 || Object.keys(report.unsupported).length > 0) throw new Error(`rules did not load: ${JSON.stringify(report.errors)} ${JSON.stringify(report.unsupported)}`);
    detect = { rules: set.rules, alert: { categories: set.ctx.classifications } };
  }
  const pipeline = new Pipeline((e) => events.push(e as unknown as Record_), {
    flow: { idSalt: 1 },
    app: { protocols: options.protocols ?? createProtocols(), ...(options.fileStore !== undefined ? { fileStore: options.fileStore } : {}) },
    ...(detect !== undefined ? { detect } : {}),
  });
  await readCapture(await openByteSource(file), pipeline.frame);
  pipeline.finish();
  return { events, alerts: events.filter((e) => e.event_type === 'alert') as unknown as AlertEvent[], pipeline };
}
