import { compileAddressSet } from './addresses.js';
import { APP_PROTOCOL_NAMES, BUFFERS_BY_NAME, UNANALYZED_APP_PROTOCOLS } from './buffers.js';
import { RuleBuilder } from './builder.js';
import type { PayloadStep } from './inspect.js';
import { NOT_YET } from './keyword.js';
import { RegexRefusedError, UnsupportedKeywordError } from './regex.js';
import { ContentStep } from './keywords/content.js';
import { NeedsDceRpc } from './keywords/bytes.js';
import { KEYWORDS_BY_NAME } from './keywords/index.js';
import { compilePorts, portRanges } from './ports.js';
import type { FastPattern, Inspection, Rule } from './rule.js';
import { RuleError, type Location, type RuleSyntax } from './syntax.js';
import type { RuleVars } from './vars.js';

/** A rule the engine cannot run because it needs something not built yet; counted per keyword, never dropped silently. */
export class UnsupportedRule extends Error {
  constructor(
    readonly keyword: string,
    readonly reason: string,
  ) {
    super(`${keyword}: ${reason}`);
  }
}

export { UnsupportedKeywordError } from './regex.js';

export interface CompileContext {
  vars: RuleVars;
  classifications: ReadonlyMap<string, { description: string; priority: number }>;
}

/** Header protocols: the IP protocol each needs (-1 any) and how its payload is inspected. */
const PROTOCOLS: Record<string, { ipProto: number[] | null; mode?: 'packet' | 'stream' }> = {
  tcp: { ipProto: [6] },
  'tcp-pkt': { ipProto: [6], mode: 'packet' },
  'tcp-stream': { ipProto: [6], mode: 'stream' },
  udp: { ipProto: [17] },
  icmp: { ipProto: [1, 58] },
  icmpv4: { ipProto: [1] },
  icmpv6: { ipProto: [58] },
  ip: { ipProto: null },
  pkthdr: { ipProto: null },
  sctp: { ipProto: [132] },
};

/** The IP protocol each followed application protocol runs over (-1: TCP or UDP). */
const APP_IP_PROTO: Readonly<Record<string, number>> = { http: 6, tls: 6, irc: 6, ftp: 6, 'ftp-data': 6, tftp: 17, dns: -1 };


/** Header keywords that make a TCP rule packet-only, as in Suricata (they describe one packet, not a stream). */
const PACKET_KEYWORDS = new Set(['dsize', 'flags', 'fragbits', 'ipopts', 'tos', 'icmp_id', 'ttl', 'window', 'seq', 'ack', 'id', 'fragoffset', 'sameip', 'ip_proto', 'itype', 'icode', 'icmp_seq']);

/**
 * Compiles one rule. Throws RuleError for a mistake (with a column when known) and
 * UnsupportedRule when the rule needs a keyword or protocol Outpost does not implement yet.
 */
export function compileRule(syntax: RuleSyntax, text: string, location: Location, ctx: CompileContext, order: number): Rule {
  const headerApp = APP_PROTOCOL_NAMES.get(syntax.proto) ?? null;
  const protoSpec = headerApp !== null ? { ipProto: APP_IP_PROTO[headerApp] === -1 ? null : [APP_IP_PROTO[headerApp]!] } : PROTOCOLS[syntax.proto];
  if (protoSpec === undefined) {
    if (UNANALYZED_APP_PROTOCOLS.has(syntax.proto)) throw new UnsupportedRule(`proto:${syntax.proto}`, 'an application-layer protocol Outpost does not analyze');
    throw new RuleError(`"${syntax.proto}" is not a protocol (tcp, udp, icmp, ip, or an application protocol)`);
  }
  const b = new RuleBuilder(syntax.proto, ctx.classifications);
  if (headerApp !== null) b.requireApp(headerApp, `the rule header (${syntax.proto})`);
  // Snort 3 puts sticky buffers before their contents and writes content arguments after commas.
  b.snort3 = syntax.options.some((o) => o.name === 'service' || (o.name === 'content' && o.value !== null && /"\s*,/.test(o.value)));
  for (const opt of syntax.options) {
    const keyword = KEYWORDS_BY_NAME.get(opt.name);
    if (keyword === undefined) {
      const why = NOT_YET[opt.name];
      if (why !== undefined) throw new UnsupportedRule(opt.name, why);
      throw new RuleError(`unknown keyword "${opt.name}"`, opt.column);
    }
    try {
      keyword.apply(b, opt.value);
    } catch (err) {
      if (err instanceof UnsupportedKeywordError || err instanceof NeedsDceRpc) throw new UnsupportedRule(err.keyword, err.message);
      // A valid pattern Outpost cannot run within its cost bound, or cannot translate exactly: not the user's mistake.
      if (err instanceof RegexRefusedError) throw new UnsupportedRule(`pcre (${err.reason})`, err.message);
      if (err instanceof RuleError) throw new RuleError(`${opt.name}: ${err.message.startsWith(opt.name) ? err.message.slice(opt.name.length).replace(/^:?\s*/, '') : err.message}`, opt.column);
      throw err;
    }
  }
  if (b.sid === null) throw new RuleError('the rule has no sid');

  const srcSet = compileAddressSet(syntax.src, ctx.vars.addressGroups);
  const dstSet = compileAddressSet(syntax.dst, ctx.vars.addressGroups);
  const src = srcSet?.match ?? null;
  const dst = dstSet?.match ?? null;
  // ip rules may name ports: they then match TCP and UDP packets only (as Suricata's do).
  const hasPorts = syntax.proto !== 'icmp' && syntax.proto !== 'icmpv4' && syntax.proto !== 'icmpv6' && syntax.proto !== 'pkthdr';
  if (!hasPorts && (syntax.srcPorts !== 'any' || syntax.dstPorts !== 'any')) throw new RuleError(`ports must be "any" for ${syntax.proto} rules`);
  const srcPorts = compilePorts(syntax.srcPorts, ctx.vars.portGroups);
  const dstPorts = compilePorts(syntax.dstPorts, ctx.vars.portGroups);

  const inspections: Inspection[] = [...b.inspections.entries()].map(([key, steps]) => ({ buffer: key.split('|')[0]!, key, transforms: b.transforms.get(key) ?? [], steps }));
  for (const i of inspections) validateSteps(i.steps);
  if (syntax.direction === '=>' && (b.appProto === null || !inspections.some((i) => i.buffer !== 'payload'))) throw new RuleError('=> (a transactional rule) needs application buffers to match');
  if (syntax.direction === '=>' && (b.flow.toServer || b.flow.toClient)) throw new RuleError('=> (a transactional rule) matches both sides: it takes no flow direction');
  const txDirs = syntax.direction === '=>' ? 2 : transactionDirections(inspections, b.flow);
  if (b.appProto !== null && txDirs === 0) {
    // An application protocol without its buffers: the packet and stream rules of flows of that protocol.
    const wanted = b.appProto;
    b.headerChecks.push({ key: `app-layer-protocol:${wanted}`, keyword: 'app-layer-protocol', test: (_p, f) => f !== null && f.appProto === wanted, flowTest: (f) => f.appProto === wanted });
  }
  const classification = b.classtype === null ? undefined : ctx.classifications.get(b.classtype);

  const flow = { ...b.flow };
  if (protoSpec.mode === 'packet') flow.noStream = true;
  if (protoSpec.mode === 'stream') flow.onlyStream = true;

  const rule: Rule = {
    gid: b.gid,
    sid: b.sid,
    rev: b.rev,
    msg: b.msg,
    action: syntax.action,
    classtype: b.classtype,
    priority: b.priority ?? classification?.priority ?? 3,
    metadata: b.metadata,
    references: b.references,
    target: b.target,
    noalert: b.noalert,
    proto: syntax.proto,
    ipProto: b.ipProto >= 0 ? b.ipProto : protoSpec.ipProto === null ? -1 : protoSpec.ipProto[0]!,
    appProto: b.appProto,
    txDirs,
    src,
    srcPorts: hasPorts ? srcPorts : null,
    dst,
    dstPorts: hasPorts ? dstPorts : null,
    srcSet,
    dstSet,
    srcPortText: syntax.srcPorts,
    dstPortText: syntax.dstPorts,
    srcPortRanges: hasPorts && srcPorts !== null ? portRanges(syntax.srcPorts, ctx.vars.portGroups) : null,
    dstPortRanges: hasPorts && dstPorts !== null ? portRanges(syntax.dstPorts, ctx.vars.portGroups) : null,
    bidirectional: syntax.direction === '<>',
    transactional: syntax.direction === '=>',
    flow,
    headerChecks: b.headerChecks,
    inspections,
    fastPattern: chooseFastPattern(b),
    flowbitChecks: b.flowbitChecks,
    flowbitActions: b.flowbitActions,
    threshold: b.threshold,
    detectionFilter: b.detectionFilter,
    payloadMode: 'packet',
    ipOnly: false,
    order,
    location,
    text,
  };
  rule.payloadMode = payloadMode(rule);
  rule.ipOnly = rule.appProto === null && rule.inspections.length === 0 && rule.headerChecks.length === 0 && rule.flowbitChecks.length === 0 && rule.flowbitActions.length === 0 && rule.srcPorts === null && rule.dstPorts === null;
  return rule;
}

/**
 * When a rule inspecting application buffers runs, as a bit set: 1 when a transaction's request
 * is ready (to_server), 2 when its response is (to_client); 0 for a rule without such buffers. A
 * rule with buffers of both sides runs on the response, reading the request's from the same
 * transaction; buffers of either side follow the flow keyword's direction, or run on both.
 */
export function transactionDirections(inspections: readonly Inspection[], flow: { toServer: boolean; toClient: boolean }): number {
  let server = false;
  let client = false;
  let any = false;
  for (const i of inspections) {
    if (i.buffer === 'payload') continue;
    const spec = BUFFERS_BY_NAME.get(i.buffer);
    if (spec === undefined) continue;
    any = true;
    if (spec.dir === 'to_server') server = true;
    else if (spec.dir === 'to_client') client = true;
  }
  if (!any) return 0;
  if (client) return 2;
  if (server) return flow.toClient ? 2 : 1;
  return flow.toServer ? 1 : flow.toClient ? 2 : 3;
}

/** Where a TCP rule's payload steps look, as Suricata decides it (see NOTES.md). */
export function payloadMode(rule: Rule): 'packet' | 'stream' | 'both' {
  if (rule.ipProto !== 6 && rule.proto !== 'tcp') return 'packet';
  if (rule.flow.noStream) return 'packet';
  if (rule.flow.onlyStream) return 'stream';
  if (rule.headerChecks.some((c) => PACKET_KEYWORDS.has(c.keyword))) return 'packet';
  // depth, offset or startswith on a payload content, or stream_size, add packet inspection (Suricata's SigValidate).
  const positioned =
    rule.inspections.some((i) => i.buffer === 'payload' && i.steps.some((s) => s instanceof ContentStep && (s.offset !== null || s.depth !== null || s.startswith))) ||
    rule.headerChecks.some((c) => c.keyword === 'stream_size');
  return positioned ? 'both' : 'stream';
}

function validateSteps(steps: PayloadStep[]): void {
  for (const s of steps) {
    if (s instanceof ContentStep && s.within !== null && typeof s.within === 'number' && s.within < s.pattern.length) {
      throw new RuleError(`within:${s.within} is shorter than its ${s.pattern.length}-byte content`);
    }
    if (s instanceof ContentStep && s.depth !== null && typeof s.depth === 'number' && s.depth < s.pattern.length) {
      throw new RuleError(`depth:${s.depth} is shorter than its ${s.pattern.length}-byte content`);
    }
  }
}

/**
 * The prefilter pattern: the content marked fast_pattern, else the longest positive content
 * (Suricata picks by buffer priority, then length). Negated contents never qualify.
 */
function chooseFastPattern(b: RuleBuilder): FastPattern | null {
  let best: ContentStep | null = null;
  let bestBuffer = '';
  // A rule inspecting transactions is looked for by its buffers' contents, not the payload's.
  const appOnly = [...b.inspections.keys()].some((k) => k !== 'payload');
  const explicit = appOnly && b.fastPatternStep instanceof ContentStep && b.fastPatternStep.buffer === 'payload' ? null : b.fastPatternStep;
  for (const [buffer, steps] of b.inspections) {
    if (appOnly && buffer === 'payload') continue;
    for (const s of steps) {
      if (!(s instanceof ContentStep) || s.negated) continue;
      if (explicit === s) {
        best = s;
        bestBuffer = buffer;
        break;
      }
      if (explicit === null && (best === null || s.pattern.length > best.pattern.length)) {
        best = s;
        bestBuffer = buffer;
      }
    }
  }
  if (best === null) return null;
  const bytes = best.fastPatternChop === null ? best.pattern : best.pattern.subarray(best.fastPatternChop[0], best.fastPatternChop[0] + best.fastPatternChop[1]);
  return { buffer: bestBuffer, bytes, nocase: best.nocase, only: false };
}
