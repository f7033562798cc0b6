import { LinkType } from '../../capture/linktype.js';
import { SynthCapture } from '../traffic.js';
import { benignScenario, SCENARIO_START, type BenignInfo, type ScenarioInfo, type ScenarioOptions } from './benign.js';
import { seedBotScenario, type SeedBotInfo, type SeedBotOptions } from './seed-bot.js';
import { wormScenario, type WormInfo } from './worm.js';

/**
 * Whole stories written into one capture each, for the end-to-end tests of detection and
 * correlation and for demos: the seed bot of April 2004, a worm, and a quarter hour of an office
 * with nothing wrong in it. Each writes from the capture's clock on and says what it wrote.
 */

export {
  background,
  browse,
  dnsLookup,
  dnsMessage,
  htmlPage,
  httpRequest,
  httpResponse,
  IrcLink,
  ircRegister,
  RESOLVER,
  SCENARIO_HOME_NET,
  SCENARIO_START,
  sshSession,
  Story,
  storyRng,
  tlsClientHello,
  tlsServerHello,
  tlsSession,
  webPage,
  type BenignInfo,
  type Conversation,
  type ScenarioInfo,
  type ScenarioOptions,
  type ScenarioPhase,
} from './benign.js';
export { exploit, fakeExecutable, synProbe, type SeedBotInfo, type SeedBotOptions } from './seed-bot.js';
export { type WormGeneration, type WormInfo } from './worm.js';
export { benignScenario, seedBotScenario, wormScenario };

/** The scenarios by name. */
export const SCENARIOS = {
  'seed-bot': seedBotScenario,
  worm: wormScenario,
  benign: benignScenario,
} as const satisfies Record<string, (cap: SynthCapture, options?: ScenarioOptions) => ScenarioInfo>;

export type ScenarioName = keyof typeof SCENARIOS;

/** What each scenario returns, by name. */
export interface ScenarioInfos {
  'seed-bot': SeedBotInfo;
  worm: WormInfo;
  benign: BenignInfo;
}

/** True for a scenario's name. */
export function isScenarioName(name: string): name is ScenarioName {
  return Object.hasOwn(SCENARIOS, name);
}

/**
 * Writes one scenario as a classic pcap (Ethernet, microseconds) starting at SCENARIO_START, and
 * returns what it wrote. An unknown name is the caller's mistake: the message lists the known ones.
 */
export function writeScenario<N extends ScenarioName>(name: N, path: string, options: N extends 'seed-bot' ? SeedBotOptions : ScenarioOptions = {}): ScenarioInfos[N] {
  if (!isScenarioName(name)) throw new Error(`unknown scenario "${String(name)}": known are ${Object.keys(SCENARIOS).join(', ')}`);
  const cap = new SynthCapture(path, LinkType.ETHERNET, { start: SCENARIO_START });
  try {
    return (SCENARIOS[name] as (cap: SynthCapture, options?: ScenarioOptions) => ScenarioInfo)(cap, options) as ScenarioInfos[N];
  } finally {
    cap.close();
  }
}
