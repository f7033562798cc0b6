/**
 * Runs a capture file through the real decoder, flow table and reassembly, and feeds each IRC
 * flow's streams (with each chunk's packet time) to an IrcConversation, as the sensor's wiring
 * will. A flow is IRC when its server port is one Zeek registers the analyzer for (6666-6669);
 * a flow to an address and port that a DCC SEND offered is a DCC transfer (Zeek's
 * schedule_analyzer), whose file is "seen" once 4096 bytes are in or at its end (Zeek's bof buffer).
 */
import { readCapture } from '../../../src/capture/reader.js';
import { openByteSource } from '../../../src/capture/source.js';
import { Decoder } from '../../../src/decode/decoder.js';
import { Packet } from '../../../src/decode/packet.js';
import type { Flow } from '../../../src/flow/flow.js';
import { FlowTable } from '../../../src/flow/table.js';
import { DccExpectations, IrcConversation, type DccTransfer, type DecodedLine, type IrcConversationWeird, type IrcEvent, type IrcLogRecord } from '../../../src/protocols/irc/index.js';
import { wordsToString } from '../../../src/wire/address.js';

/** Zeek's IRC ports (main.zeek). */
export const IRC_PORTS = [6666, 6667, 6668, 6669];
/** Zeek's default_file_bof_buffer_size: file_sniff runs once this much of a file is in. */
const BOF_BUFFER = 4096;

export interface IrcFlowResult {
  client: string;
  server: string;
  conversation: IrcConversation;
  lines: Array<{ dir: number; line: DecodedLine; ts: number; end: number }>;
  events: Array<{ dir: number; event: IrcEvent; ts: number }>;
  weirds: Array<{ dir: number; name: IrcConversationWeird; ts: number }>;
  rows: IrcLogRecord[];
  /** For each row, the line being decoded when it was written (null for a DCC row written from its transfer). */
  rowLines: Array<{ dir: number; line: DecodedLine; ts: number; end: number } | null>;
  /** What each side sent, as delivered. */
  bytes: [number, number];
  /** The stream as delivered: each chunk (copied), its side and time. */
  chunks: Array<{ dir: number; data: Uint8Array; ts: number }>;
}

export interface CaptureRun {
  irc: IrcFlowResult[];
  /** Every event of every IRC flow, in the order they happened (across flows). */
  events: Array<{ flow: IrcFlowResult; dir: number; event: IrcEvent; ts: number }>;
  /** Every row of every IRC flow, in the order written. */
  rows: Array<{ flow: IrcFlowResult; row: IrcLogRecord }>;
  dccFlows: string[];
  expectations: DccExpectations;
}

type FlowRole = { kind: 'irc'; result: IrcFlowResult; ended: [boolean, boolean] } | { kind: 'dcc'; transfer: DccTransfer; bytes: number; ended: [boolean, boolean] } | { kind: 'other' };

function endpoint(flow: Flow, server: boolean): string {
  const v4 = flow.ipVersion === 4;
  const a = wordsToString(flow.addr, server ? 4 : 0, v4);
  return `${v4 ? a : `[${a}]`}:${server ? flow.serverPort : flow.clientPort}`;
}

export async function runCapture(file: string): Promise<CaptureRun> {
  const expectations = new DccExpectations();
  const run: CaptureRun = { irc: [], events: [], rows: [], dccFlows: [], expectations };
  const roles = new Map<Flow, FlowRole>();
  let now = 0;

  /** True while an IRC flow's data is being fed (rows written then come from its lines). */
  let inLine = false;

  const roleOf = (flow: Flow): FlowRole => {
    let role = roles.get(flow);
    if (role !== undefined) return role;
    const serverAddr = wordsToString(flow.addr, 4, flow.ipVersion === 4);
    const transfer = flow.proto === 6 ? expectations.connection(serverAddr, flow.serverPort, now) : null;
    if (transfer !== null) {
      role = { kind: 'dcc', transfer, bytes: 0, ended: [false, false] };
      run.dccFlows.push(`${endpoint(flow, false)} -> ${endpoint(flow, true)}`);
    } else if (flow.proto === 6 && IRC_PORTS.includes(flow.serverPort)) {
      const result: IrcFlowResult = { client: endpoint(flow, false), server: endpoint(flow, true), conversation: null as unknown as IrcConversation, lines: [], events: [], weirds: [], rows: [], rowLines: [], bytes: [0, 0], chunks: [] };
      let current: IrcFlowResult['lines'][number] | null = null;
      result.conversation = new IrcConversation(
        {
          line: (dir, line, ts, end) => {
            current = { dir, line, ts, end };
            result.lines.push(current);
          },
          event: (dir, event, ts) => {
            result.events.push({ dir, event, ts });
            run.events.push({ flow: result, dir, event, ts });
          },
          log: (row) => {
            result.rows.push(row);
            result.rowLines.push(inLine ? current : null);
            run.rows.push({ flow: result, row });
          },
          weird: (dir, name, ts) => result.weirds.push({ dir, name, ts }),
        },
        expectations,
      );
      run.irc.push(result);
      role = { kind: 'irc', result, ended: [false, false] };
    } else {
      role = { kind: 'other' };
    }
    roles.set(flow, role);
    return role;
  };

  const finishDcc = (role: FlowRole): void => {
    if (role.kind !== 'dcc') return;
    if (role.bytes > 0) role.transfer.fileSeen(now);
    role.transfer.close();
  };

  const table = new FlowTable(
    {
      flowEnd: (flow) => finishDcc(roleOf(flow)),
      streamEvent: () => {},
      stream: {
        data: (flow, dir, buf, off, len) => {
          const role = roleOf(flow);
          if (role.kind === 'irc') {
            role.result.bytes[dir === 0 ? 0 : 1] += len;
            role.result.chunks.push({ dir, data: buf.slice(off, off + len), ts: now });
            inLine = true;
            role.result.conversation.data(dir, buf, off, len, now);
            inLine = false;
          } else if (role.kind === 'dcc') {
            const before = role.bytes;
            role.bytes += len;
            if (before < BOF_BUFFER && role.bytes >= BOF_BUFFER) role.transfer.fileSeen(now);
          }
        },
        gap: (flow, dir) => {
          const role = roleOf(flow);
          if (role.kind === 'irc') role.result.conversation.gap(dir);
        },
      },
    },
    { idSalt: 1 },
  );

  const decoder = new Decoder();
  const packet = new Packet();
  await readCapture(await openByteSource(file), (frame) => {
    decoder.decode(frame, packet);
    now = frame.tsSec + Math.round(frame.tsNsec / 1000) / 1e6;
    const flow = table.process(packet);
    if (flow === null || flow.tcp === null) return;
    const role = roleOf(flow);
    if (role.kind === 'other') return;
    // A side that sent FIN, once all it sent was delivered: Zeek's EndpointEOF.
    for (const dir of [0, 1] as const) {
      const s = flow.tcp.streams[dir];
      if (role.ended[dir] || s.finAt < 0 || s.base < s.finAt) continue;
      role.ended[dir] = true;
      if (role.kind === 'irc') {
        inLine = true;
        role.result.conversation.end(dir, now);
        inLine = false;
      }
      else if (role.ended[0] && role.ended[1]) finishDcc(role);
    }
  });
  table.flush();
  return run;
}
