/**
 * DNS messages in a capture, found as the sensor finds them: frames through the decoder, UDP
 * datagrams to or from port 53 taken whole, TCP streams on port 53 reassembled by the flow table
 * and split at their length prefixes.
 */
import { openByteSource, readCapture } from '../../../src/capture/index.js';
import { Decoder } from '../../../src/decode/decoder.js';
import { IpProto, Packet } from '../../../src/decode/packet.js';
import type { Flow } from '../../../src/flow/flow.js';
import { FlowTable } from '../../../src/flow/table.js';
import { splitTcpDnsMessages } from '../../../src/protocols/dns/parse.js';

export interface CapturedDns {
  /** The frame that carried it (for TCP: the frame that completed it, as tshark counts). */
  frame: number;
  transport: 'udp' | 'tcp';
  /** The message (a copy). */
  payload: Buffer;
}

const DNS_PORT = 53;

export async function dnsMessagesIn(file: string): Promise<CapturedDns[]> {
  const out: CapturedDns[] = [];
  const pending = new Map<Flow, [Buffer, Buffer]>();
  let frame = 0;
  const table = new FlowTable(
    {
      flowEnd: () => {},
      streamEvent: () => {},
      stream: {
        data: (flow, dir, buf, off, len) => {
          if (flow.clientPort !== DNS_PORT && flow.serverPort !== DNS_PORT) return;
          const held = pending.get(flow) ?? [Buffer.alloc(0), Buffer.alloc(0)];
          pending.set(flow, held);
          const data = Buffer.concat([held[dir]!, buf.subarray(off, off + len)]);
          const split = splitTcpDnsMessages(data, 0, data.length);
          for (const m of split.messages) out.push({ frame, transport: 'tcp', payload: Buffer.from(data.subarray(m.off, m.off + m.len)) });
          held[dir] = Buffer.from(data.subarray(split.consumed));
        },
        // A hole loses the framing: start again after it (the session will resynchronise properly).
        gap: (flow, dir) => {
          const held = pending.get(flow);
          if (held !== undefined) held[dir] = Buffer.alloc(0);
        },
      },
    },
    { idSalt: 1 },
  );
  const decoder = new Decoder();
  const p = new Packet();
  await readCapture(await openByteSource(file), (f) => {
    decoder.decode(f, p);
    frame = p.number;
    if (p.proto === IpProto.UDP && (p.srcPort === DNS_PORT || p.dstPort === DNS_PORT) && p.payloadLen > 0) {
      out.push({ frame, transport: 'udp', payload: Buffer.from(p.data.subarray(p.payloadOff, p.payloadOff + p.payloadLen)) });
    }
    table.process(p);
  });
  table.flush();
  return out;
}

export async function udpDnsPayloads(file: string): Promise<CapturedDns[]> {
  return (await dnsMessagesIn(file)).filter((m) => m.transport === 'udp');
}
