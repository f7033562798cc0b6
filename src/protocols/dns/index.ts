/**
 * DNS over UDP and TCP, as Suricata's Rust DNS parses, logs and detects it. What other rooms may
 * use: the ProtocolSpec (and a factory for the log format), the session, the records.
 */
import { IpProto } from '../../decode/packet.js';
import type { Probe, ProtocolSpec } from '../app.js';
import { DNS_BUFFERS } from './buffers.js';
import type { DnsLogVersion } from './log.js';
import { DNS_HEADER_LEN, parseDnsMessage, plausibleHeader, type DnsHeader } from './parse.js';
import { DnsSession, probeMessage, probeTcpMessage } from './session.js';

export { DNS_BUFFERS, dnsBuffers } from './buffers.js';
export { dnsAlertMetadata, dnsRecords, type DnsLogVersion, type DnsSide } from './log.js';
export { DnsSession, DnsTransaction, MAX_HELD_BYTES, probeMessage, probeTcpMessage, type DnsProbe, type DnsSessionOptions } from './session.js';

/** The port DNS is registered on in Suricata (detection-ports 53); elsewhere the probe is strict. */
export const DNS_PORT = 53;

/** How a sensor logs DNS. */
export interface DnsProtocolOptions {
  /** The EVE dns format: 2 (Suricata 6 and 7's default; Outpost's default) or 3 (Suricata 8's). */
  version?: DnsLogVersion;
  /** The style of the `dns` object in alerts; by default the one that goes with `version`. */
  alertVersion?: DnsLogVersion;
}

/** The DNS protocol, logging in the given format. */
export function createDnsProtocol(options: DnsProtocolOptions = {}): ProtocolSpec {
  const version = options.version ?? 2;
  const sessionOptions = { version, alertVersion: options.alertVersion ?? version };
  return {
    name: 'dns',
    transport: 'both',
    ports: [DNS_PORT],
    buffers: DNS_BUFFERS,
    probe: probeDns,
    open: (flow, out) => new DnsSession(out, flow.proto === IpProto.TCP, sessionOptions),
  };
}

/** DNS with EVE version 2 records, as Suricata 7 writes them. */
export const dnsProtocol: ProtocolSpec = createDnsProtocol();

/**
 * Whether a side's first bytes are DNS. The probe is not told the transport, so the bytes are
 * read both ways: as one datagram, and as a stream that starts with a length-prefixed message
 * ("more" is for streams: the layer takes it as "no" for a datagram, decided on its own).
 *
 * On port 53, Suricata's probe (dns.rs probe_udp, probe_tcp): the message parses (questions and
 * answers) and passes the header check; for TCP, only the header while the first message is
 * still arriving. Elsewhere the first message must be whole and look like what resolvers send:
 * nothing after its last record, no parse problem, one question of a common class, a standard
 * opcode-0 message with Z clear and a common response code, and for a query no answer or
 * authority. Random bytes pass far less than once in 2^40 tries. Never throws.
 */
export function probeDns(_dir: number, data: Uint8Array, serverPort: number): Probe {
  try {
    const strict = serverPort !== DNS_PORT;
    if (strict ? plainMessage(data, 0, data.length) : probeMessage(data, 0, data.length, data.length).dns) return 'yes';
    return strict ? streamElsewhere(data) : streamAt53(data);
  } catch {
    return 'no';
  }
}

/** A DNS-over-TCP stream's first bytes: a 2-byte length and at least the 12-byte header. */
const TCP_MIN = 2 + DNS_HEADER_LEN;

function streamAt53(data: Uint8Array): Probe {
  if (data.length < TCP_MIN) return 'more';
  return probeTcpMessage(data, 0, data.length).dns ? 'yes' : 'no';
}

function streamElsewhere(data: Uint8Array): Probe {
  if (data.length < TCP_MIN) return 'more';
  const dlen = (data[0]! << 8) | data[1]!;
  if (dlen < DNS_HEADER_LEN) return 'no';
  if (data.length >= 2 + dlen) return plainMessage(data, 2, dlen) ? 'yes' : 'no';
  // Still arriving: go on waiting only while the header could be an ordinary one.
  const m = parseDnsMessage(data, 2, DNS_HEADER_LEN);
  const h = m.header;
  return h !== null && plausibleHeader(h, dlen) && plainHeader(h) ? 'more' : 'no';
}

/** Common classes: IN, CH, HS, ANY (without mDNS's unicast-response bit). */
const CLASSES = new Set([1, 3, 4, 255]);

/** Whether [off, off + len) is one ordinary query or response, parsed whole to its last byte. */
function plainMessage(data: Uint8Array, off: number, len: number): boolean {
  const m = parseDnsMessage(data, off, len);
  const h = m.header;
  if (h === null || !m.valid || !m.plausible || m.problems.length > 0 || m.end !== off + len) return false;
  return plainHeader(h) && CLASSES.has(m.questions[0]!.class & 0x7fff);
}

function plainHeader(h: DnsHeader): boolean {
  if (h.qdcount !== 1 || h.opcode !== 0 || h.z) return false;
  if (h.qr) return h.rcode <= 5;
  return h.rcode === 0 && h.ancount === 0 && h.nscount === 0;
}
