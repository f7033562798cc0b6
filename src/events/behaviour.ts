/**
 * Outpost's own record kinds, written by the behavioural detectors (src/detect/) and the
 * infection correlator (src/correlate/). They follow EVE's style: the common fields first (the
 * actor as src_ip, its target as dest_ip where there is one), then an object named after the
 * event_type. Times inside are EVE timestamps; counts are exact, samples are capped.
 */
import type { EveCommon } from './types.js';

/** Which way a behaviour crossed HOME_NET's edge, from its actor's side. */
export type Direction = 'inbound' | 'outbound' | 'internal' | 'external';

/**
 * A `scan` record: one source probing many ports or hosts, reported once its window closes. Its
 * timestamp is the first probe's, src_ip the scanner; dest_ip is set when there was one target,
 * dest_port when there was one port.
 */
export interface ScanEvent extends EveCommon {
  /** Always `scan`. */
  event_type: 'scan';
  /** The scan. */
  scan: ScanRecord;
}

/** The `scan` object: who scanned what, how, and for how long. */
export interface ScanRecord {
  /** `vertical` (many ports on one host), `horizontal` (one port across many hosts) or `block` (many ports across many hosts). */
  shape: 'vertical' | 'horizontal' | 'block';
  /** The probes' kind: `syn`, `fin`, `null`, `xmas`, `ack`, `connect` (full handshakes), `udp` or `icmp` (an echo sweep). */
  kind: 'syn' | 'fin' | 'null' | 'xmas' | 'ack' | 'connect' | 'udp' | 'icmp';
  /** The scanning address. */
  scanner: string;
  /** Which way the scan went across HOME_NET's edge. */
  direction: Direction;
  /** Distinct hosts probed. */
  target_count: number;
  /** A sample of them, in the order first probed (at most 16). */
  targets: string[];
  /** Distinct ports probed (0 for ICMP). */
  port_count: number;
  /** A sample of them, in the order first probed (at most 32). */
  ports: number[];
  /** Probes counted (packets that opened a new conversation). */
  probes: number;
  /** When the first probe was seen. */
  start: string;
  /** When the last probe was seen. */
  end: string;
  /** Seconds from the first probe to the last. */
  duration: number;
  /** Probes per second over the scan (probes over the duration, at least one second). */
  rate: number;
  /** Found over the long window only: too slow for the short one. */
  slow: boolean;
  /** Probes answered by anything but a RST: a SYN-ACK (port open), a UDP reply, an echo reply (host up); the rest failed. */
  open: number;
}

/** A `flood` record: traffic at one target far above what one conversation makes. */
export interface FloodEvent extends EveCommon {
  /** Always `flood`. */
  event_type: 'flood';
  /** The flood. */
  flood: FloodRecord;
}

/** One flood: a target, the kind of traffic, its senders, and how much came over how long. */
export interface FloodRecord {
  /** `dns` (a query flood against one server), `syn`, `udp` or `amplification` (responses much larger than the requests). */
  kind: 'dns' | 'syn' | 'udp' | 'amplification';
  /** `inbound` (at a HOME_NET host) or `outbound` (sent by HOME_NET hosts at an outside one); internal and external as for scans (judged by most of the sampled sources). */
  direction: Direction;
  /** The flooded address. */
  target: string;
  /** The flooded port, when all the flood went to one (53 for DNS, the reflectors' port for amplification). */
  target_port?: number;
  /** Distinct sending addresses (reflectors, for amplification): exact up to 16, estimated within about 7% beyond (spoofed floods). */
  source_count: number;
  /** A sample of them, in the order first seen (at most 16). */
  sources: string[];
  /** Packets counted over the flood's windows: pure SYNs, UDP packets, queries or UDP packets to port 53 whichever are more (DNS), responses (amplification). */
  packets: number;
  /** Bytes counted with them (IP length). */
  bytes: number;
  /** Packets per second over the flood (packets over its duration, at least one second). */
  rate: number;
  /** Packets per second in its busiest window. */
  peak_rate: number;
  /** What came back: handshakes completed (SYN), packets the target sent (UDP, amplification), answers seen (DNS). */
  answered: number;
  /** Windows over the thresholds merged into this one flood. */
  windows: number;
  /** Seconds from the first packet counted to the last. */
  duration: number;
  /** When the first packet counted was seen. */
  start: string;
  /** When the last one was seen. */
  end: string;
  /** For a DNS flood: what the queries looked like. */
  dns?: FloodDnsRecord;
  /** For amplification: the byte ratio. */
  amplification?: FloodAmplificationRecord;
}

/** What a DNS flood's queries looked like. */
export interface FloodDnsRecord {
  /** Queries over the flood's windows (from the DNS analyzer's records). */
  queries: number;
  /** Distinct query names (estimated within about 3% when many). */
  distinct_names: number;
  /** Most names are distinct random-looking labels under one zone, as in a "water torture" attack (a8f3k2.victim.example). */
  random_subdomain: boolean;
  /** The zone they share, when they share one. */
  zone?: string;
  /** Share of the answers that were NXDOMAIN, to two decimals (0 when no answers were seen). */
  nxdomain_ratio: number;
}

/** An amplification's bytes each way between the reflectors and the victim. */
export interface FloodAmplificationRecord {
  /** Bytes the victim's address sent to the reflectors' ports (the requests, usually spoofed). */
  request_bytes: number;
  /** Bytes the reflectors sent back to the victim. */
  response_bytes: number;
  /** response_bytes / request_bytes, to two decimals; 0 when no requests were seen (sent elsewhere with the victim's address as source). */
  ratio: number;
}

/** An `ircbot` record: an IRC conversation that looks like botnet command and control. */
export interface IrcbotEvent extends EveCommon {
  /** Always `ircbot`. */
  event_type: 'ircbot';
  /** The judgement. */
  ircbot: IrcbotRecord;
}

/** The `ircbot` object: the conversation, and the signs that it is a bot. */
export interface IrcbotRecord {
  /** The (internal) client that looks like a bot. */
  client: string;
  /** The IRC server's address. */
  server: string;
  /** The IRC server's port. */
  server_port: number;
  /** The client's nick. */
  nick?: string;
  /** The channel, when one was joined. */
  channel?: string;
  /** The channel was joined with a key. */
  keyed: boolean;
  /** Each sign that fired, as `name` or `name: detail` (machine_nick, keyed_channel, command, bot_reply, shared_channel, odd_port). */
  signs: string[];
  /** How strongly the signs together say "bot" (0 to 1). */
  score: number;
  /** Bot command verbs seen, in order (at most 16), e.g. `.advscan`. */
  commands: string[];
  /** Internal hosts seen in the same channel on the same server. */
  channel_hosts: number;
  /** False for the conversation's first record; true for a later one written because a command verb it had not been given before arrived (at most 4 per conversation). */
  update: boolean;
}

/** A `backdoor` record: an internal host answering on a port it never served before. */
export interface BackdoorEvent extends EveCommon {
  /** Always `backdoor`. */
  event_type: 'backdoor';
  /** The finding. */
  backdoor: BackdoorRecord;
}

/** The `backdoor` object: the host, the new port, and why it looks like a backdoor. */
export interface BackdoorRecord {
  /** The internal host that accepted the connection. */
  host: string;
  /** The port it accepted it on. */
  port: number;
  /** `TCP` or `UDP`. */
  proto: string;
  /** Who connected. */
  client: string;
  /** Why: `new_listener` (a port never served before, after warm-up) or `shell` (a shell-like exchange on it). */
  reason: 'new_listener' | 'shell';
  /** Words or prompts that made the exchange look like a shell. */
  shell_signs?: string[];
  /** Ports this host had served before, as learned (a sample, at most 16). */
  known_ports: number[];
}

/** A `pct` record: a PCT hello seen on an SSL port, judged from the TLS analyzer's fields. */
export interface PctEvent extends EveCommon {
  /** Always `pct`. */
  event_type: 'pct';
  /** The judgement. */
  pct: PctFindingRecord;
}

/** The `pct` object: the judgement of a PCT hello, from the TLS analyzer's fields. */
export interface PctFindingRecord {
  /** `offered` (a well-formed hello offering PCT: a client or a scanner's probe) or `exploit` (PCT routing with structural anomalies). */
  verdict: 'offered' | 'exploit';
  /** "PCT offered" or "MS04-011 PCT exploit attempt". */
  signature: string;
  /** `informational` or `high`. */
  severity: 'informational' | 'high';
  /** CVE-2003-0719 for an exploit attempt. */
  cve?: string;
  /** The hello's format: `pct` (native PCT 1.0) or `sslv2` (an SSLv2 hello carrying PCT's cipher kinds). */
  format: 'pct' | 'sslv2';
  /** The structural anomalies the TLS analyzer found (empty for `offered`). */
  anomalies: string[];
  /** The client. */
  client: string;
  /** The server. */
  server: string;
  /** The server's port. */
  port: number;
}

/** A `verdict` record: a HOME_NET host judged infected from its events (BotHunter's dialog). */
export interface VerdictEvent extends EveCommon {
  /** Always `verdict`. */
  event_type: 'verdict';
  /** The verdict. */
  verdict: VerdictRecord;
}

/** The `verdict` object: the host, what it is judged to be, and the evidence. */
export interface VerdictRecord {
  /** The infected host. */
  host: string;
  /** `bot` (a C&C channel and actions that follow commands), `worm` (propagation of the same exploit, no C&C) or `infected`. */
  verdict: 'bot' | 'worm' | 'infected';
  /** How sure (0 to 1). */
  confidence: number;
  /** The stages seen, in order: E1 inbound scan, E2 inbound exploit, E3 egg download, E4 C&C, E5 outbound scan or exploit, plus `flood` and `backdoor`. */
  stages: string[];
  /** The events behind it, in time order. */
  evidence: VerdictEvidence[];
  /** The command-and-control endpoint, for a bot. */
  cc?: VerdictCc;
  /** Hosts the infected host went on to scan or attack (a sample, at most 16). */
  propagation_targets?: string[];
  /** The port and count of the propagation. */
  propagation?: { port: number | null; targets: number };
  /** The address it flooded. */
  flood_target?: string;
  /** The port it opened as a backdoor. */
  backdoor_port?: number;
  /** The first evidence's time. */
  first: string;
  /** The last evidence's time. */
  last: string;
}

/** One step of a verdict's evidence: an event, the stage it stands for, and where to find it. */
export interface VerdictEvidence {
  /** The stage this event stands for. */
  stage: string;
  /** The event's type (`alert`, `scan`, `fileinfo`, ...). */
  event_type: string;
  /** Its time. */
  timestamp: string;
  /** Its sequence number in this sensor's output (`seq`), to find it. */
  seq?: number;
  /** Its flow, when it has one. */
  flow_id?: number;
  /** One line saying what it was. */
  summary: string;
}

/** A bot's command-and-control endpoint. */
export interface VerdictCc {
  /** The server's address. */
  ip: string;
  /** Its port. */
  port: number;
  /** The IRC channel. */
  channel?: string;
  /** The bot's nick. */
  nick?: string;
}
