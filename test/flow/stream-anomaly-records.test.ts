import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AnomalyEvent, EveEvent, FlowEvent } from '../../src/events/types.js';
import { StreamEvent } from '../../src/flow/events.js';
import { Pipeline } from '../../src/sensor/pipeline.js';
import { TcpConnection } from '../../src/synth/traffic.js';
import { capture, framesOf } from './harness.js';

function run(build: (conn: TcpConnection) => void, options: ConstructorParameters<typeof Pipeline>[1] = {}): { events: EveEvent[]; pipeline: Pipeline } {
  const cap = capture();
  build(new TcpConnection(cap, '10.0.0.1:40000', '10.0.0.2:80'));
  const events: EveEvent[] = [];
  const pipeline = new Pipeline((e) => events.push(e), { flow: { idSalt: 2 }, ...options });
  for (const f of framesOf(cap)) pipeline.frame(f);
  pipeline.finish();
  return { events, pipeline };
}

const anomalies = (events: EveEvent[]): AnomalyEvent[] => events.filter((e): e is AnomalyEvent => e.event_type === 'anomaly');

test('a gap becomes a stream anomaly record on the flow, with its direction and the sender as source', () => {
  const { events, pipeline } = run((conn) => {
    conn.handshake().send('client', 'GET');
    conn.segment('server', 0, 'HTTP').segment('server', 10, 'body');
    conn.packet('client', { seq: conn.seq('client', 3), ack: conn.seq('server', 14), flags: 'A' }, new Uint8Array(0));
  });
  const flow = events.find((e): e is FlowEvent => e.event_type === 'flow')!;
  const [gap, ...rest] = anomalies(events);
  assert.deepEqual(rest, []);
  assert.equal(gap?.flow_id, flow.flow_id);
  assert.deepEqual(gap?.anomaly, { type: 'stream', event: 'stream.reassembly_seq_gap', direction: 'to_client', gap_bytes: 6 });
  assert.deepEqual([gap?.src_ip, gap?.src_port, gap?.dest_ip, gap?.dest_port], ['10.0.0.2', 80, '10.0.0.1', 40000]);
  assert.equal(flow.tcp?.tc_gap, true);
  assert.equal(pipeline.anomalies.get('stream.reassembly_seq_gap'), 1);
  assert.equal(pipeline.streamBytes, 3 + 4 + 4);
});

test('overlapping different data is an anomaly record; retransmissions and same-data overlaps are only counted', () => {
  const { events, pipeline } = run((conn) => {
    conn.handshake().send('client', 'abc');
    conn.segment('client', 0, 'abc');
    conn.segment('client', 10, 'xyz').segment('client', 10, 'xyz').segment('client', 10, 'XYZ');
  });
  assert.deepEqual(anomalies(events).map((a) => [a.anomaly.event, a.anomaly.direction, a.src_ip]), [['stream.reassembly_overlap_different_data', 'to_server', '10.0.0.1'], ['stream.reassembly_seq_gap', 'to_server', '10.0.0.1']]);
  const counted = pipeline.flows.counters.streamEvents;
  assert.equal(counted[StreamEvent.pkt_retransmission], 1);
  assert.equal(counted[StreamEvent.reassembly_overlap], 1);
  assert.equal(counted[StreamEvent.reassembly_overlap_different_data], 1);
  assert.equal(pipeline.anomalies.has('stream.pkt_retransmission'), false);
});
