import { APP_PROTOCOL_NAMES, type BufferSpec } from './buffers.js';
import type { PayloadStep, RuleNumber } from './inspect.js';
import type { FlowbitAction, FlowbitCheck, FlowConstraint, HeaderCheck, DetectionFilter, Threshold } from './rule.js';
import { RuleError } from './syntax.js';
import type { Transform } from './transforms.js';

/** The payload steps that track a cursor and can be the target of later relative steps. */
export interface PositionalStep extends PayloadStep {
  /** Set when a later step is relative to this one: a failed match should retry this step further on. */
  retry: boolean;
}

/**
 * What a rule is while its options are applied in order. Keywords read and change it; the
 * compiler turns it into a Rule. Keeps the state Suricata's parser keeps: the current sticky
 * buffer, the last content (for Snort 2 style modifiers), the last positional step (for
 * relative keywords), and byte_extract variables.
 */
export class RuleBuilder {
  gid = 1;
  sid: number | null = null;
  rev = 0;
  msg = '';
  classtype: string | null = null;
  priority: number | null = null;
  metadata: Record<string, string[]> = {};
  references: Array<{ type: string; value: string }> = [];
  target: 'src_ip' | 'dest_ip' | null = null;
  noalert = false;
  ipProto = -1;
  appProto: string | null = null;
  flow: FlowConstraint = { toServer: false, toClient: false, established: false, notEstablished: false, onlyStream: false, noStream: false };
  readonly headerChecks: HeaderCheck[] = [];
  /** Steps per buffer, in the order their buffers were first used. */
  readonly inspections = new Map<string, PayloadStep[]>();
  readonly flowbitChecks: FlowbitCheck[] = [];
  readonly flowbitActions: FlowbitAction[] = [];
  threshold: Threshold | null = null;
  detectionFilter: DetectionFilter | null = null;
  /**
   * Where payload keywords go now: "payload" until a sticky buffer keyword names another. With
   * transforms it is the inspection's key: the buffer name and the transforms' keys after "|"
   * ("dns.query|dotprefix").
   */
  buffer = 'payload';
  /** The transform chain of each inspection key that has one. */
  readonly transforms = new Map<string, Transform[]>();
  /** The keyword that set appProto, for messages. */
  private appProtoBy = '';
  /** The last content, for the modifiers that follow it (nocase, depth, http_uri, ...). */
  lastContent: (PositionalStep & { buffer: string }) | null = null;
  /** The last step that set a cursor in each buffer, for relative keywords. */
  private readonly lastPositional = new Map<string, PositionalStep>();
  /** byte_extract and byte_math variable names, by index. */
  readonly variables: string[] = [];
  /** Set by fast_pattern: the content that feeds the prefilter. */
  fastPatternStep: PayloadStep | null = null;
  /** Snort 3 syntax seen (comma arguments, service:): sticky buffers then precede their contents. */
  snort3 = false;

  constructor(
    readonly proto: string,
    readonly classifications: ReadonlyMap<string, { description: string; priority: number }>,
  ) {}

  /** Adds a payload step to the current buffer. */
  addStep(step: PayloadStep, positional: boolean): void {
    this.addStepTo(this.buffer, step, positional);
  }

  /** Adds a step to a named buffer without making it the current one (urilen, tls.version). */
  addStepTo(buffer: string, step: PayloadStep, positional: boolean): void {
    const list = this.inspections.get(buffer) ?? [];
    if (!this.inspections.has(buffer)) this.inspections.set(buffer, list);
    if (step.relative) {
      const prev = this.lastPositional.get(buffer);
      if (prev !== undefined) prev.retry = true;
    }
    list.push(step);
    if (positional) this.lastPositional.set(buffer, step as PositionalStep);
  }

  /** A sticky buffer keyword: later payload keywords inspect this buffer. */
  useBuffer(spec: BufferSpec, keyword: string): void {
    this.requireApp(spec.proto, keyword);
    this.buffer = spec.name;
    this.lastContent = null;
  }

  /** Back to the packet payload. */
  usePayload(): void {
    this.buffer = 'payload';
    this.lastContent = null;
  }

  /**
   * A transform keyword: the current sticky buffer is transformed before it is inspected. After
   * the buffer's contents (as ET writes `dns.query; content:"rs-"; startswith; dotprefix;
   * content:".example.com"; endswith;`) it starts a second inspection of the buffer, transformed,
   * and the contents before it keep seeing the bytes as they were.
   */
  addTransform(t: Transform): void {
    if (this.buffer === 'payload') throw new RuleError(`${t.name} needs a sticky buffer before it (transforms do not apply to the packet payload)`);
    const chain = [...(this.transforms.get(this.buffer) ?? []), t];
    this.lastContent = null;
    this.buffer = `${this.buffer}|${t.key}`;
    this.transforms.set(this.buffer, chain);
  }

  /** The rule needs a flow of this application protocol ('' for any that has the buffer). */
  requireApp(proto: string, keyword: string): void {
    if (proto === '') return;
    const name = APP_PROTOCOL_NAMES.get(proto) ?? proto;
    if (this.appProto !== null && this.appProto !== name) {
      throw new RuleError(`${keyword} is ${name === 'http' ? 'an' : 'a'} ${name} keyword, but the rule is for ${this.appProto}${this.appProtoBy === '' ? '' : ` (${this.appProtoBy})`}`);
    }
    if (this.appProto === null) this.appProtoBy = keyword;
    this.appProto = name;
    const overTcp = name !== 'dns' && name !== 'tftp';
    if (overTcp && (this.proto === 'udp' || this.proto.startsWith('icmp'))) throw new RuleError(`${keyword} needs TCP, but the rule is for ${this.proto}`);
  }

  /** A step has just become relative (a distance or within after its content): its predecessor must retry. */
  markRelative(step: PayloadStep): void {
    const list = [...this.inspections.values()].find((l) => l.includes(step));
    if (list === undefined) return;
    const i = list.indexOf(step);
    for (let k = i - 1; k >= 0; k--) {
      const prev = list[k] as PositionalStep;
      if ('retry' in prev) {
        prev.retry = true;
        return;
      }
    }
  }

  /** Moves a step (a content given a buffer by a later modifier, as `content:"x"; http_uri;`) to another buffer. */
  moveStep(step: PositionalStep & { buffer: string }, buffer: string): void {
    const from = this.inspections.get(step.buffer);
    if (from !== undefined) {
      const i = from.indexOf(step);
      if (i >= 0) from.splice(i, 1);
      if (from.length === 0) this.inspections.delete(step.buffer);
      if (this.lastPositional.get(step.buffer) === step) this.lastPositional.delete(step.buffer);
    }
    step.buffer = buffer;
    const list = this.inspections.get(buffer) ?? [];
    if (!this.inspections.has(buffer)) this.inspections.set(buffer, list);
    list.push(step);
    if (step.relative) this.markRelative(step);
    this.lastPositional.set(buffer, step);
  }

  /** The content the current modifier applies to; an error when there is none. */
  requireContent(keyword: string): PositionalStep & { buffer: string } {
    if (this.lastContent === null) throw new RuleError(`${keyword} needs a content before it`);
    return this.lastContent;
  }

  hasPositional(buffer = this.buffer): boolean {
    return this.lastPositional.has(buffer);
  }

  /** A number option, or a byte_extract variable name (for offset, depth, distance, within, byte_test values). */
  number(text: string, keyword: string, options: { min?: number; max?: number } = {}): RuleNumber {
    const t = text.trim();
    if (/^[-+]?\d+$/.test(t)) {
      const n = Number(t);
      if (options.min !== undefined && n < options.min) throw new RuleError(`${keyword}: ${n} is below ${options.min}`);
      if (options.max !== undefined && n > options.max) throw new RuleError(`${keyword}: ${n} is above ${options.max}`);
      return n;
    }
    if (/^0x[0-9a-f]+$/i.test(t)) return Number.parseInt(t, 16);
    const variable = this.variables.indexOf(t);
    if (variable >= 0) return { variable, name: t };
    throw new RuleError(`${keyword}: "${t}" is not a number or a byte_extract variable`);
  }

  defineVariable(name: string, keyword: string): number {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name)) throw new RuleError(`${keyword}: "${name}" is not a valid variable name`);
    const existing = this.variables.indexOf(name);
    if (existing >= 0) return existing;
    // The engine keeps 16 variable slots per inspection; Suricata allows fewer per rule.
    if (this.variables.length >= 16) throw new RuleError(`${keyword}: more than 16 variables in one rule`);
    this.variables.push(name);
    return this.variables.length - 1;
  }
}
