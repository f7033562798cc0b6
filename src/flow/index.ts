export { Flow, FlowState, EndReason, TO_SERVER, TO_CLIENT, FLOW_STATE_NAMES, END_REASON_NAMES, type EndReasonValue } from './flow.js';
export { FlowTable, protoName, type FlowTableOptions, type FlowSink, type FlowCounters, type StateTimeouts } from './table.js';
export { TcpSession, TcpState, TCP_STATE_NAMES } from './tcp.js';
export { Stream, STREAM_POLICIES, streamPolicy, type StreamSink, type StreamLimits } from './reassembly.js';
export { STREAM_EVENTS, StreamEvent, type StreamEventName } from './events.js';
export { flowEvent, flowHeader, eveProto } from './record.js';
