import type { SynthCapture } from '../traffic.js';
import { UdpFlow } from '../traffic.js';
import { background, SCENARIO_HOME_NET, Story, storyRng, tlsSession, webPage, type Conversation, type ScenarioInfo, type ScenarioOptions } from './benign.js';
import { exploit, fakeExecutable, synProbe } from './seed-bot.js';

/**
 * A worm (DOMAIN.md §7: an inbound exploit, then fast propagation of the same exploit on the same
 * port, and no command and control): an outside host sends the PCT exploit's record shape (the
 * harmless fixture) to an office web server on 443; the server fetches the worm's body from its
 * infector over TFTP, then probes many addresses inside and outside on 443, fifty a second,
 * sending the same record to every one that answers. One of those it reaches inside does the
 * same in turn, fetching the body from its own infector: two infected hosts.
 */

/** One infected host's part of the worm's story. */
export interface WormGeneration {
  /** The infected host. */
  host: string;
  /** Who exploited it. */
  infector: string;
  /** When the exploit's connection opened. */
  exploited: number;
  /** The body it fetched over TFTP from its infector: file name and size. */
  egg: { file: string; size: number };
  /** Addresses it probed on 443, those that answered, and those it sent the exploit to. */
  targets: string[];
  answered: string[];
  attacked: string[];
}

/** Where the worm's story happens. */
export interface WormInfo extends ScenarioInfo {
  /** The outside host that starts it. */
  attacker: string;
  /** The port the exploit goes to. */
  port: number;
  /** The first infected host, and the second (infected by the first). */
  generations: [WormGeneration, WormGeneration];
}

const ATTACKER = '203.0.113.45';
const FIRST = '192.168.1.20';
const SECOND = '192.168.1.37';
const EGG_FILE = 'msupd32.exe';
const EGG_SIZE = 12000;
/** Hosts inside that serve 443, and so answer the worm's probes (the second generation among them). */
const INSIDE_SERVERS = [SECOND, '192.168.1.30', '192.168.1.42', '192.168.1.77', '192.168.1.88'];

/** Writes the worm's story; see the module's comment. */
export function wormScenario(cap: SynthCapture, options: ScenarioOptions = {}): WormInfo {
  const story = new Story(cap, storyRng(options.seed, 0x3013));
  const w = options.warmup ?? 120;

  // Before and during: the first victim serves the office; people browse.
  story.at(0, serve(story, FIRST, w + 60), 'warmup');
  background(story, ['192.168.1.50', '192.168.1.51', '192.168.1.52'], 0, w + 60, 3);

  const first = generation(FIRST, ATTACKER, story.start + w);
  const second = generation(SECOND, FIRST, Number.NaN);
  // The first generation's targets: 40 addresses of the /24 in a random order with the servers
  // among them, and 40 outside; the second's: 30 and 30 others.
  first.targets = shuffle(story, [...insideTargets(story, FIRST, 40), ...outsideTargets(story, 40)]);
  second.targets = shuffle(story, [...insideTargets(story, SECOND, 30).filter((t) => t !== FIRST), ...outsideTargets(story, 30)]);

  story.at(w, exploit(story, ATTACKER, FIRST, 443), 'exploit');
  story.at(w + 2, tftpFetch(story, FIRST, ATTACKER), 'egg');
  story.at(w + 5, propagate(story, first, second), 'propagation');

  const end = story.run();
  return {
    name: 'worm',
    homeNet: SCENARIO_HOME_NET,
    start: story.start,
    end,
    phases: story.phases,
    frames: story.frames,
    attacker: ATTACKER,
    port: 443,
    generations: [first, second],
  };
}

function generation(host: string, infector: string, exploited: number): WormGeneration {
  return { host, infector, exploited, egg: { file: EGG_FILE, size: EGG_SIZE }, targets: [], answered: [], attacked: [] };
}

/** `n` addresses of the /24 other than `self`, the servers with 443 open always among them. */
function insideTargets(story: Story, self: string, n: number): string[] {
  const out = INSIDE_SERVERS.filter((s) => s !== self);
  while (out.length < n) {
    const a = `192.168.1.${story.rng.int(2, 254)}`;
    if (a !== self && a !== FIRST && !out.includes(a)) out.push(a);
  }
  return out;
}

/** `n` random outside addresses in the documentation ranges; about one in eight serves 443. */
function outsideTargets(story: Story, n: number): string[] {
  const nets = ['192.0.2', '198.51.100', '203.0.113'];
  const out: string[] = [];
  while (out.length < n) {
    const a = `${story.rng.pick(nets)}.${story.rng.int(1, 254)}`;
    if (a !== ATTACKER && !out.includes(a)) out.push(a);
  }
  return out;
}

function shuffle<T>(story: Story, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = story.rng.int(0, i);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** A server's ordinary day: pages and TLS sessions for visitors, one after another. */
function* serve(story: Story, server: string, seconds: number): Conversation {
  const rng = story.rng;
  const end = story.cap.time + seconds;
  while (story.cap.time < end) {
    const who = rng.pick(['192.168.1.50', '192.168.1.51', '198.51.100.200', '192.0.2.33']);
    yield* rng.float() < 0.4 ? tlsSession(story, who, server, 'shop.office.example') : webPage(story, who, server, 'shop.office.example');
    yield rng.exp(20);
  }
}

/** A TFTP message: opcode and its fields. */
function tftp(opcode: number, ...fields: Array<number | string | Uint8Array>): Buffer {
  const parts: Buffer[] = [Buffer.from([0, opcode])];
  for (const f of fields) {
    if (typeof f === 'number') parts.push(Buffer.from([(f >>> 8) & 0xff, f & 0xff]));
    else if (typeof f === 'string') parts.push(Buffer.from(`${f}\0`, 'latin1'));
    else parts.push(Buffer.from(f));
  }
  return Buffer.concat(parts);
}

/**
 * The infected host fetches the worm's body from its infector over TFTP: a read request to 69,
 * the blocks from the server's transfer port, each acknowledged.
 */
function* tftpFetch(story: Story, host: string, from: string): Conversation {
  const clientPort = story.port(host);
  new UdpFlow(story.cap, `${host}:${clientPort}`, `${from}:69`).send('client', tftp(1, EGG_FILE, 'octet'));
  yield 0.02;
  const transfer = new UdpFlow(story.cap, `${from}:${story.rng.int(1025, 5000)}`, `${host}:${clientPort}`);
  const body = fakeExecutable(EGG_SIZE);
  for (let block = 1, at = 0; at <= body.length; block++, at += 512) {
    transfer.send('client', tftp(3, block, body.subarray(at, Math.min(body.length, at + 512))));
    yield 0.004;
    transfer.send('server', tftp(4, block));
    yield 0.001;
  }
}

/**
 * The first generation's propagation: a probe every 20 ms; a host that answers gets the exploit.
 * When it reaches the second generation, that host's own story starts two seconds later.
 */
function* propagate(story: Story, g: WormGeneration, next: WormGeneration | null): Conversation {
  const outsideOpen = new Set(g.targets.filter((t, i) => !t.startsWith('192.168.1.') && i % 8 === 3));
  for (const target of g.targets) {
    const open = INSIDE_SERVERS.includes(target) || outsideOpen.has(target);
    const alive = open || story.rng.float() < 0.3;
    synProbe(story, g.host, target, 443, open ? 'open' : alive ? 'closed' : 'silent');
    if (open) {
      g.answered.push(target);
      g.attacked.push(target);
      const offset = story.cap.time - story.start + 0.05;
      story.at(offset, exploit(story, g.host, target, 443));
      if (next !== null && target === next.host) {
        next.exploited = story.start + offset;
        story.at(offset + 2, tftpFetch(story, next.host, g.host), 'egg-2');
        story.at(offset + 5, propagate(story, next, null), 'propagation-2');
      }
    }
    yield 0.02;
  }
}
