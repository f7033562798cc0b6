import { APP_PROTOCOL_NAMES, BUFFERS, UNANALYZED_APP_PROTOCOLS, type BufferSpec } from '../buffers.js';
import { UnsupportedKeywordError } from '../regex.js';
import { continueFrom, type InspectContext, type PayloadStep } from '../inspect.js';
import type { Keyword } from '../keyword.js';
import { RuleError } from '../syntax.js';
import { BsizeStep } from './bsize.js';
import { content } from './content.js';
import type { Flow } from '../../flow/flow.js';
import { parseUint } from './uint.js';

/**
 * The application-layer keywords: a sticky buffer keyword for each buffer in buffers.ts (and
 * its old spellings), the Snort 2 content modifiers that move the last content into a buffer
 * (sticky in Snort 3 rules, as Snort 3 writes them), uricontent, urilen and app-layer-protocol.
 */

function sticky(spec: BufferSpec): Keyword {
  return {
    name: spec.name,
    ...(spec.aliases !== undefined ? { aliases: spec.aliases } : {}),
    summary: `Sticky buffer: ${spec.summary}`,
    syntax: spec.name,
    apply(b, value) {
      if (value !== null && value.trim() !== '') throw new RuleError(`${spec.name} takes no value`);
      b.useBuffer(spec, spec.name);
    },
  };
}

function modifier(spec: BufferSpec, name: string): Keyword {
  return {
    name,
    summary: `Content modifier: the last content inspects ${spec.name} (${spec.summary.replace(/\.$/, '')}). Sticky in Snort 3 rules.`,
    syntax: name,
    apply(b, value) {
      if (b.snort3) {
        // Snort 3: a sticky buffer before its contents. A field argument (http_header:field host) narrows it, which Outpost does not.
        if (value !== null && value.trim() !== '') throw new RuleError(`${name}: Snort 3 buffer options ("${value}") are not supported`);
        b.useBuffer(spec, name);
        return;
      }
      if (value !== null && value.trim() !== '') throw new RuleError(`${name} takes no value`);
      const c = b.requireContent(name);
      if (c.buffer !== 'payload' && c.buffer !== spec.name) throw new RuleError(`${name}: the content is already in ${c.buffer}`);
      b.requireApp(spec.proto, name);
      if (c.buffer !== spec.name) b.moveStep(c, spec.name);
    },
  };
}

const STICKY: Keyword[] = BUFFERS.filter((s) => s.internal !== true).map(sticky);
const MODIFIERS: Keyword[] = BUFFERS.filter((s) => s.modifier !== undefined).map((s) => modifier(s, s.modifier!));
const uriSpec = BUFFERS.find((s) => s.name === 'http.uri')!;
const rawUriSpec = BUFFERS.find((s) => s.name === 'http.uri.raw')!;

/** Snort 2's uricontent: a content in the normalized URI. */
export const uricontent: Keyword = {
  name: 'uricontent',
  summary: 'Snort 2: a content matched in the normalized HTTP URI (as content:"..."; http_uri;).',
  syntax: 'uricontent:[!]"pattern"',
  apply(b, value) {
    const before = b.buffer;
    b.useBuffer(uriSpec, 'uricontent');
    content.apply(b, value);
    // The buffer stays as it was for the keywords after it; the modifiers that follow apply to this content.
    const last = b.lastContent;
    b.buffer = before;
    b.lastContent = last;
  },
};

/** The URI's length. */
export const urilen: Keyword = {
  name: 'urilen',
  summary: 'The length of the HTTP URI: N, <N, >N, A<>B (exclusive), with ",norm" (default) or ",raw" for the URI as sent.',
  syntax: 'urilen:[<|>]N[,norm|raw] or A<>B[,norm|raw]',
  apply(b, value) {
    if (value === null) throw new RuleError('urilen needs a length');
    const m = /^(.*?)(?:\s*,\s*(norm|raw))?\s*$/.exec(value)!;
    const spec = m[2] === 'raw' ? rawUriSpec : uriSpec;
    b.requireApp('http', 'urilen');
    b.addStepTo(spec.name, new BsizeStep(parseUint('urilen', m[1]!, 65535)), false);
  },
};

/** The flow's application protocol, as detection found it. */
export const appLayerProtocol: Keyword = {
  name: 'app-layer-protocol',
  summary: 'The flow\'s detected application protocol is (or with ! is known and is not) this one; "failed" when detection gave up, "unknown" before it decided.',
  syntax: 'app-layer-protocol:[!]<http|dns|tls|ftp|irc|tftp|failed|unknown>',
  apply(b, value) {
    const m = /^\s*(!?)\s*([a-z0-9-]+)\s*(?:,\s*[a-z_]+\s*)?$/.exec(value ?? '');
    if (m === null) throw new RuleError('app-layer-protocol needs a protocol name');
    const negated = m[1] === '!';
    const wanted = m[2] === 'unknown' ? '' : m[2] === 'failed' ? 'failed' : APP_PROTOCOL_NAMES.get(m[2]!);
    if (wanted === undefined && UNANALYZED_APP_PROTOCOLS.has(m[2]!)) throw new UnsupportedKeywordError(`app-layer-protocol:${m[2]!}`, `app-layer-protocol: Outpost does not analyze ${m[2]!}`);
    if (wanted === undefined) throw new RuleError(`app-layer-protocol: "${m[2]}" is not a protocol Outpost detects (${[...new Set(APP_PROTOCOL_NAMES.values())].join(', ')}, failed, unknown)`);
    // As Suricata's default (direction) mode: a negated test does not match before the flow's
    // protocol is known, so "!http" means "found to be something else", not "not yet found".
    const test = negated && wanted !== '' ? (flow: Flow): boolean => flow.appProto !== '' && flow.appProto !== wanted : (flow: Flow): boolean => (flow.appProto === wanted) !== negated;
    b.headerChecks.push({ key: `app-layer-protocol:${m[1]}${wanted}`, keyword: 'app-layer-protocol', test: (_p, flow) => flow !== null && test(flow), flowTest: test });
  },
};

const TLS_VERSIONS: Readonly<Record<string, number>> = { '1.0': 0x0301, '1.1': 0x0302, '1.2': 0x0303, '1.3': 0x0304, '3.0': 0x0300, sslv3: 0x0300, '2.0': 0x0002, sslv2: 0x0002 };

/** The two bytes of a transaction's "tls.version" buffer are the wanted version. */
class VersionStep implements PayloadStep {
  readonly keyword = 'tls.version';
  readonly relative = false;

  constructor(readonly version: number) {}

  match(ctx: InspectContext, cursor: number, steps: readonly PayloadStep[], index: number): boolean {
    if (ctx.length < 2) return false;
    const v = (ctx.buf[ctx.start]! << 8) | ctx.buf[ctx.start + 1]!;
    return v === this.version && continueFrom(ctx, cursor, steps, index + 1);
  }
}

export const tlsVersion: Keyword = {
  name: 'tls.version',
  aliases: ['tls_version'],
  summary: 'The TLS version the server chose (or the client offered, before a ServerHello): 1.0, 1.1, 1.2, 1.3, sslv3, or a number such as 0x0303.',
  syntax: 'tls.version:<1.0|1.1|1.2|1.3|sslv3|0xNNNN>',
  apply(b, value) {
    const t = (value ?? '').trim().toLowerCase();
    const v = TLS_VERSIONS[t] ?? (/^0x[0-9a-f]{1,4}$/.test(t) ? Number.parseInt(t, 16) : undefined);
    if (v === undefined) throw new RuleError(`tls.version: "${value}" is not a TLS version (1.0, 1.1, 1.2, 1.3, sslv3 or 0xNNNN)`);
    b.requireApp('tls', 'tls.version');
    b.addStepTo('tls.version', new VersionStep(v), false);
  },
};

export const APP_KEYWORDS: readonly Keyword[] = [...STICKY, ...MODIFIERS, uricontent, urilen, appLayerProtocol, tlsVersion];
