/** Shared by the decode tests: crafted bytes in, a decoded Packet out. */
import { Frame } from '../../src/capture/frame.js';
import { DECODE_EVENT_NAMES, Decoder, Packet, type DecodeEventName, type DefragOptions } from '../../src/decode/index.js';
import { wordsToString } from '../../src/wire/address.js';

export interface FrameSpec {
  /** LINKTYPE_ value; Ethernet by default. */
  linktype?: number;
  /** Bytes on the wire; the captured length by default. */
  wirelen?: number;
  /** Bytes captured; all of `data` by default (less simulates a snaplen cut). */
  caplen?: number;
  tsSec?: number;
  tsNsec?: number;
  number?: number;
}

export function frameOf(data: Uint8Array, spec: FrameSpec = {}): Frame {
  const f = new Frame();
  f.data = data;
  f.offset = 0;
  f.caplen = spec.caplen ?? data.length;
  f.wirelen = spec.wirelen ?? data.length;
  f.linktype = spec.linktype ?? 1;
  f.tsSec = spec.tsSec ?? 1_700_000_000;
  f.tsNsec = spec.tsNsec ?? 0;
  f.number = spec.number ?? 1;
  return f;
}

/** Decodes one frame with a fresh decoder. */
export function decodeOne(data: Uint8Array, spec: FrameSpec = {}, defrag: DefragOptions = {}): { p: Packet; d: Decoder } {
  const d = new Decoder(defrag);
  const p = new Packet();
  d.decode(frameOf(data, spec), p);
  return { p, d };
}

/** The names of the events the packet raised, in order. */
export function eventNames(p: Packet): DecodeEventName[] {
  const out: DecodeEventName[] = [];
  for (let i = 0; i < Math.min(p.eventCount, p.events.length); i++) out.push(DECODE_EVENT_NAMES[p.events[i]!]!);
  return out;
}

/** How often the decoder counted an event, by name. */
export function eventCount(d: Decoder, name: DecodeEventName): number {
  return d.counters.events[DECODE_EVENT_NAMES.indexOf(name)]!;
}

export function srcAddr(p: Packet): string {
  return wordsToString(p.addr, 0, p.ipVersion === 4);
}

export function dstAddr(p: Packet): string {
  return wordsToString(p.addr, 4, p.ipVersion === 4);
}

export function text(b: Uint8Array): string {
  return Buffer.from(b).toString('latin1');
}
