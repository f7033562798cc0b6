export { Frame, type FrameSink } from './frame.js';
export { CaptureDamage, CaptureOpenError } from './damage.js';
export { LinkType, linkTypeName, normalizeLinkType } from './linktype.js';
export { readCapture, type CaptureSummary, type ReadOptions } from './reader.js';
export { openByteSource, StreamSource, type ByteSource } from './source.js';
export { startLiveCapture, type LiveCapture, type LiveOptions } from './live.js';
export { PcapWriter, type PcapWriterOptions } from './writer.js';
export { PcapngWriter, type PcapngInterface } from './pcapng-writer.js';
export { MAX_SNAPLEN } from './parser.js';
