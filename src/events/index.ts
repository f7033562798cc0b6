export type { EveCommon, EveEvent, FlowEvent, FlowRecord, TcpRecord, AnomalyEvent, AnomalyRecord } from './types.js';
export { formatTimestamp } from './time.js';
export { EveWriter } from './writer.js';
