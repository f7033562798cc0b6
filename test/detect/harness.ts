import { replayFrames } from '../helpers.js';
import type { EveEvent } from '../../src/events/types.js';
import { createProtocols } from '../../src/protocols/index.js';
import { compileAddress } from '../../src/rules/addresses.js';
import { DEFAULT_VARS, withHomeNet } from '../../src/rules/vars.js';
import { Pipeline, type PipelineOptions } from '../../src/sensor/pipeline.js';
import type { SynthCapture } from '../../src/synth/traffic.js';

/** HOME_NET as a matcher over Outpost's address words. */
export function homeNet(cidrs = '192.168.0.0/16,10.0.0.0/8,172.16.0.0/12'): NonNullable<PipelineOptions['behaviour']>['home'] {
  const vars = withHomeNet(DEFAULT_VARS, cidrs, false);
  return compileAddress('$HOME_NET', vars.addressGroups)!;
}

/** Runs crafted frames through the whole sensor with the behavioural stage; returns every record written. */
export function runBehaviour(cap: SynthCapture, behaviour: Omit<NonNullable<PipelineOptions['behaviour']>, 'home'> & { home?: string } = {}): { events: EveEvent[]; pipeline: Pipeline } {
  const events: EveEvent[] = [];
  const { home, ...rest } = behaviour;
  const pipeline = new Pipeline((e) => events.push(e), { flow: { idSalt: 1 }, app: { protocols: createProtocols() }, behaviour: { home: homeNet(home), ...rest } });
  replayFrames(cap, pipeline.frame);
  pipeline.finish();
  return { events, pipeline };
}

/** The records of one type. */
export function ofType<T extends EveEvent['event_type']>(events: EveEvent[], type: T): Array<Extract<EveEvent, { event_type: T }>> {
  return events.filter((e) => e.event_type === type) as Array<Extract<EveEvent, { event_type: T }>>;
}
