/**
 * Shared by the flow tests: crafted frames in, flows, stream events and reassembled bytes out.
 * Frames go through the real decoder and flow table, as the sensor's pipeline runs them.
 */
import { Frame } from '../../src/capture/frame.js';
import { Decoder } from '../../src/decode/decoder.js';
import { Packet } from '../../src/decode/packet.js';
import type { FlowEvent } from '../../src/events/types.js';
import { STREAM_EVENTS, type StreamEventName } from '../../src/flow/events.js';
import { END_REASON_NAMES, type Flow } from '../../src/flow/flow.js';
import { flowEvent } from '../../src/flow/record.js';
import { FlowTable, type FlowTableOptions } from '../../src/flow/table.js';
import { SynthCapture } from '../../src/synth/traffic.js';

export interface EndedFlow {
  flow: Flow;
  reason: string;
  /** The EVE flow record, built when the flow ended. */
  record: FlowEvent;
}

export interface SeenStreamEvent {
  flowId: number;
  dir: number;
  name: StreamEventName;
  gapBytes: number;
}

/** One direction's reassembled output, in delivery order. */
export type Delivery = Array<{ data: string } | { gap: number }>;

/** A flow table fed with crafted captures, recording everything it reports. */
export class FlowHarness {
  readonly table: FlowTable;
  readonly decoder = new Decoder();
  readonly ended: EndedFlow[] = [];
  readonly events: SeenStreamEvent[] = [];
  /** Flows in the order `process` returned them first. */
  readonly flows: Flow[] = [];
  private readonly delivered = new Map<Flow, [Delivery, Delivery]>();
  private readonly packet = new Packet();
  private readonly frame = new Frame();

  /** `randomIds` leaves the id salt to the table (random), as in a real run; tests fix it otherwise. */
  constructor(options: FlowTableOptions = {}, randomIds = false) {
    this.table = new FlowTable(
      {
        flowEnd: (flow, reason) => this.ended.push({ flow, reason: END_REASON_NAMES[reason], record: flowEvent(flow, reason) }),
        streamEvent: (flow, dir, event, gapBytes) => this.events.push({ flowId: flow.id, dir, name: STREAM_EVENTS[event]!.name, gapBytes }),
        stream: {
          data: (flow, dir, buf, off, len) => this.out(flow, dir).push({ data: Buffer.from(buf.subarray(off, off + len)).toString('latin1') }),
          gap: (flow, dir, len) => this.out(flow, dir).push({ gap: len }),
        },
      },
      randomIds ? options : { idSalt: 1, ...options },
    );
  }

  /**
   * Runs every frame the capture holds through decoder and flow table, then empties it.
   * `reuse` overwrites each frame after its turn, as a capture reader reusing its buffer does.
   */
  feed(cap: SynthCapture, options: { reuse?: boolean } = {}): this {
    for (const f of framesOf(cap, this.frame)) {
      this.decoder.decode(f, this.packet);
      const flow = this.table.process(this.packet);
      if (flow !== null && !this.flows.includes(flow)) this.flows.push(flow);
      if (options.reuse) f.data.fill(0xee);
    }
    return this;
  }

  /** Ends every flow, as the end of a capture does. */
  finish(): this {
    this.table.flush();
    return this;
  }

  /** What was delivered in one direction: data runs joined, each gap shown as `[gap N]`. */
  text(flow: Flow, dir: number): string {
    return this.out(flow, dir)
      .map((d) => ('data' in d ? d.data : `[gap ${d.gap}]`))
      .join('');
  }

  /** The gap lengths reported in one direction, in order. */
  gaps(flow: Flow, dir: number): number[] {
    return this.out(flow, dir).flatMap((d) => ('gap' in d ? [d.gap] : []));
  }

  /** Stream event names raised on a flow (all flows when omitted), in order. */
  eventNames(flow?: Flow): StreamEventName[] {
    return this.events.filter((e) => flow === undefined || e.flowId === flow.id).map((e) => e.name);
  }

  count(name: StreamEventName, flow?: Flow): number {
    return this.eventNames(flow).filter((n) => n === name).length;
  }

  /** The only flow seen; fails when there was not exactly one. */
  only(): Flow {
    if (this.flows.length !== 1) throw new Error(`expected one flow, saw ${this.flows.length}`);
    return this.flows[0]!;
  }

  /** The record of an ended flow. */
  record(flow: Flow): FlowEvent {
    const e = this.ended.find((x) => x.flow === flow);
    if (e === undefined) throw new Error(`flow ${flow.id} has not ended`);
    return e.record;
  }

  private out(flow: Flow, dir: number): Delivery {
    let d = this.delivered.get(flow);
    if (d === undefined) {
      d = [[], []];
      this.delivered.set(flow, d);
    }
    return d[dir]!;
  }
}

/** Takes the frames an in-memory capture holds, each as a Frame (one reused object, as a reader hands them out). */
export function* framesOf(cap: SynthCapture, f = new Frame()): Generator<Frame> {
  const frames = cap.frames;
  if (frames === null) throw new Error('needs an in-memory SynthCapture (path null)');
  for (const { time, frame, wirelen } of frames.splice(0)) {
    let sec = Math.floor(time);
    let usec = Math.round((time - sec) * 1e6);
    if (usec >= 1e6) {
      sec += 1;
      usec = 0;
    }
    f.data = frame;
    f.offset = 0;
    f.caplen = frame.length;
    f.wirelen = wirelen;
    f.tsSec = sec;
    f.tsNsec = usec * 1000;
    f.linktype = cap.linktype;
    f.number++;
    yield f;
  }
}

/** An in-memory capture starting at 2004-04-21T10:00:00Z. */
export function capture(options: { vlans?: number[]; start?: number } = {}): SynthCapture {
  return new SynthCapture(null, undefined, options);
}
