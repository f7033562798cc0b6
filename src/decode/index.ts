export { Decoder, type DecodeCounters } from './decoder.js';
export { Packet, IpProto, TcpFlag, Layer } from './packet.js';
export { DECODE_EVENT_NAMES, DecodeEvent, type DecodeEventName } from './events.js';
export { Defragmenter, DEFRAG_POLICIES, type DefragOptions, type DefragCounters } from './defrag.js';
export { EtherType } from './link.js';
