import { IpProto, TcpFlag, type Packet } from '../decode/packet.js';
import type { BackdoorEvent } from '../events/behaviour.js';
import type { EveCommon, EveEvent } from '../events/types.js';
import { flowHeader, type Flow } from '../flow/index.js';
import type { Detector, DetectorContext } from './detector.js';
import { addressKey, AgingMap } from './util.js';

/**
 * The backdoor detector: a HOME_NET host that starts accepting connections on a port it never
 * served before (bots open ports on their victims: 1957, 31337, a bind shell). Which ports a
 * host serves is learned from traffic: during the warm-up (packet time from the first packet
 * seen) every accepted port is learned and nothing is reported; after it, a host accepting on an
 * unknown port is a new listener.
 *
 * "Accepting" is a TCP connection to the host that it answered with a SYN-ACK (or, when the
 * SYN-ACK was not captured, with data after a captured SYN), or for UDP a datagram it answered.
 * A new TCP listener is not reported at once: its first exchange (up to `inspect-bytes`, for
 * `inspect-seconds`, or until the flow ends) is read for a shell (a Windows console banner, a
 * `C:\>` prompt, `uid=0(root)`, a `$ ` or `# ` prompt). A shell is reported as `shell` on any
 * port; without one, a new listener is reported as `new_listener` from `min-port` up, and a new
 * well-known port below it (a new mail or web server) is learned silently. The connections that
 * FTP and IRC DCC announced (and TFTP transfers) are someone's data channel, not a listener.
 * One record per (host, port, protocol): the port is learned when first reported.
 *
 * Known limits: a passive FTP data connection that carries no data (an empty listing) is not
 * recognised as FTP's and can be reported; a host serving more than `max-ports-per-host` ports
 * forgets its oldest, which can then be reported again.
 */
export const BACKDOOR_DEFAULTS = {
  enabled: true,
  /** Seconds of packet time, from the first packet seen, during which listeners are only learned (none reported). */
  warmup: 600,
  /** Lowest port a new listener is reported on without a shell; below it, new well-known services are learned silently. */
  'min-port': 1024,
  /** Judge UDP too: a host answering datagrams on a port it never answered on. */
  udp: true,
  /** Bytes of a new TCP listener's first exchange (both ways) read for signs of a shell. */
  'inspect-bytes': 4096,
  /** Seconds of packet time a new TCP listener's exchange is watched before it is reported without one. */
  'inspect-seconds': 30,
  /** Hosts remembered; the least recently accepting are forgotten first (half of them at a time). */
  'max-hosts': 65536,
  /** Ports remembered per host (TCP and UDP apart); the oldest is forgotten first. */
  'max-ports-per-host': 256,
  /** Ports remembered over all hosts (about 40 bytes each); past it the least recently accepting hosts are forgotten. */
  'max-ports': 262144,
  /** New TCP listeners whose exchange is watched at once; past it the oldest are judged without waiting. */
  'max-pending': 1024,
  /** Ports never reported as new listeners (a P2P or VoIP range this network uses); a shell on them still is. */
  'ignore-ports': [] as readonly number[],
};

/** Data channels other protocols announce: their server ports are someone's transfer, not a listener. */
const DATA_CHANNELS = new Set(['ftp-data', 'irc-dcc-data']);
/** The SYN-ACK was not captured: the server's first data segments still show it accepted. */
const DATA_BACK_PACKETS = 3;
/** A UDP port is held apart from the same TCP port in a host's set. */
const UDP_PORT = 0x10000;
/** known_ports and shell_signs are samples. */
const MAX_KNOWN_SAMPLE = 16;
const MAX_SIGNS = 8;
/** A sign quotes the peer's text, cut here. */
const MAX_QUOTE = 48;

/** What the server side of a shell prints. */
const SERVER_SIGNS: ReadonlyArray<readonly [string, RegExp]> = [
  ['banner', /Microsoft Windows (?:XP |2000 )?\[Version [0-9.]+\]/],
  ['banner', /\(C\) Copyright 1985-\d{4} Microsoft Corp/],
  ['prompt', /(?:^|[\r\n])([A-Za-z]:\\[^\r\n<>|"]{0,64}>)/],
  ['uid', /uid=\d+\([^)\s]{1,32}\)/],
  ['error', /is not recognized as an internal or external command|: command not found/],
  // A short printable line that ends the segment in "$ " or "# ", as sh, bash and a root shell prompt.
  ['prompt', /(?:^|[\r\n])([ -~]{0,40}[$#] )$/],
];
/** What a person or a bot types into one (one command per line). */
const CLIENT_INPUT = /^(id|whoami|uname(?: -a)?|pwd|ls(?: -\w+)?|dir|cd \S+|wget \S+|tftp -i \S+ get \S+|echo open \S+.*|net user.*|cmd(?:\.exe)?|ipconfig|hostname|ver|unset HISTFILE|\/bin\/sh(?: -i)?)[ \t]*\r?$/im;

/** The signs of a shell in one segment's text, from the server (`dir` 1) or the client. */
export function shellSigns(text: string, dir: number): string[] {
  const out: string[] = [];
  if (dir === 0) {
    const m = CLIENT_INPUT.exec(text);
    if (m !== null) out.push(`input: ${m[1]!.slice(0, MAX_QUOTE)}`);
    return out;
  }
  for (const [name, re] of SERVER_SIGNS) {
    const m = re.exec(text);
    if (m !== null) out.push(`${name}: ${(m[1] ?? m[0]).replace(/^[\r\n]+/, '').slice(0, MAX_QUOTE)}`);
  }
  return out;
}


/** A host's learned ports (`port`, or `port | UDP_PORT`), in the order learned. */
interface Host {
  readonly ports: Set<number>;
}

/** A new TCP listener whose first exchange is being read. */
interface Pending {
  readonly flowId: number;
  readonly flow: Flow;
  readonly header: EveCommon;
  readonly port: number;
  readonly known: number[];
  readonly deadline: number;
  bytes: number;
  readonly signs: string[];
  shell: boolean;
}

export function createBackdoorDetector(ctx: DetectorContext, options: typeof BACKDOOR_DEFAULTS): Detector {
  const warmup = options.warmup;
  const minPort = options['min-port'];
  const udp = options.udp;
  const inspectBytes = Math.max(0, options['inspect-bytes']);
  const inspectSeconds = options['inspect-seconds'];
  const maxHosts = Math.max(1, options['max-hosts']);
  const maxPortsPerHost = Math.max(1, options['max-ports-per-host']);
  const maxPorts = Math.max(1, options['max-ports']);
  const maxPending = Math.max(1, options['max-pending']);
  const ignore = new Set(options['ignore-ports']);
  let ports = 0;
  /** Hosts by IPv4 address (a number) or IPv6 words (a string), aged by when they last accepted. */
  const hosts = new AgingMap<number | string, Host>(maxHosts, (h) => {
    ports -= h.ports.size;
  });
  /** New TCP listeners by flow id; one pushed out by aging is judged on what was seen. */
  const pending = new AgingMap<number, Pending>(maxPending, (e) => decide(e, null));
  let warmEnd = Number.NaN;
  const counters = {
    hosts: 0,
    ports: 0,
    pending: 0,
    learned: 0,
    events: 0,
    shells: 0,
    quiet_low_ports: 0,
    /** New listeners that exchanged no data (a scan's probe met them): not reported. */
    probed_only: 0,
    data_channels: 0,
    errors: 0,
    evicted_hosts: 0,
    evicted_ports: 0,
    evicted_pending: 0,
  };

  function learn(host: Host, port: number): void {
    if (host.ports.size >= maxPortsPerHost) {
      const oldest = host.ports.values().next().value;
      if (oldest !== undefined) host.ports.delete(oldest);
      ports--;
      counters.evicted_ports++;
    }
    host.ports.add(port);
    ports++;
    counters.learned++;
    while (ports > maxPorts && hosts.size > 0) hosts.age();
    counters.ports = ports;
    counters.hosts = hosts.size;
    counters.evicted_hosts = hosts.evicted;
  }

  /** The server of `flow` (the packet's sender) accepted it: learn or judge its port. */
  function accepted(p: Packet, flow: Flow, protoBit: number): void {
    if (!ctx.home(flow.addr, 4)) return;
    const key = addressKey(flow.addr, 4);
    const port = flow.serverPort | protoBit;
    // Looking a host up keeps it: a busy server is the last forgotten.
    let host = hosts.get(key);
    if (host !== undefined) {
      if (host.ports.has(port)) return;
    } else {
      host = { ports: new Set() };
      hosts.set(key, host);
    }
    if (p.tsSec < warmEnd || dataChannel(flow.appProto, flow.serverPort)) {
      if (p.tsSec >= warmEnd) counters.data_channels++;
      learn(host, port);
      return;
    }
    const known = knownSample(host);
    learn(host, port);
    const header = flowHeader(flow, 'backdoor', p.tsSec, p.tsNsec);
    if (protoBit === UDP_PORT) {
      judge(header, flow.serverPort, known, []);
      return;
    }
    pending.set(flow.id, { flowId: flow.id, flow, header, port: flow.serverPort, known, deadline: p.tsSec + inspectSeconds, bytes: 0, signs: [], shell: false });
    counters.pending = pending.size;
    counters.evicted_pending = pending.evicted;
  }

  /** Reads a pending listener's exchange for a shell; judges it once it shows one or enough was read. */
  function inspect(e: Pending, p: Packet, flow: Flow, dir: number): void {
    if (DATA_CHANNELS.has(flow.appProto)) {
      decide(e, flow.appProto);
      return;
    }
    if (p.payloadLen === 0) return;
    const n = Math.min(p.payloadLen, inspectBytes - e.bytes);
    if (n > 0) {
      e.bytes += n;
      const text = Buffer.from(p.data.buffer, p.data.byteOffset + p.payloadOff, n).toString('latin1');
      for (const s of shellSigns(text, dir)) {
        if (dir === 1) e.shell = true;
        if (e.signs.length < MAX_SIGNS && !e.signs.includes(s)) e.signs.push(s);
      }
    }
    if (e.shell || e.bytes >= inspectBytes) decide(e, flow.appProto);
  }

  /** A pending listener's watch is over: report it (or not) from what was seen. */
  function decide(e: Pending, appProto: string | null): void {
    pending.delete(e.flowId);
    counters.pending = pending.size;
    const proto = appProto ?? (e.flow.id === e.flowId ? e.flow.appProto : '');
    if (dataChannel(proto, e.port)) {
      counters.data_channels++;
      return;
    }
    // A SYN-ACK answered by the client's RST, or a connection closed without a byte either way,
    // is a port scan's probe meeting an open port, not someone using a backdoor.
    if (e.bytes === 0) {
      counters.probed_only++;
      return;
    }
    if (proto !== '' && proto !== 'failed') e.header.app_proto = proto;
    judge(e.header, e.port, e.known, e.shell ? e.signs : []);
  }

  function judge(header: EveCommon, port: number, known: number[], signs: string[]): void {
    const shell = signs.length > 0;
    if (!shell && (port < minPort || ignore.has(port))) {
      counters.quiet_low_ports++;
      return;
    }
    const ev = header as BackdoorEvent;
    ev.backdoor = {
      host: header.dest_ip ?? '',
      port,
      proto: header.proto ?? '',
      client: header.src_ip ?? '',
      reason: shell ? 'shell' : 'new_listener',
      ...(shell ? { shell_signs: [...signs] } : {}),
      known_ports: known,
    };
    counters.events++;
    if (shell) counters.shells++;
    ctx.emit(ev);
  }

  function knownSample(host: Host): number[] {
    const out: number[] = [];
    for (const p of host.ports) {
      const port = p & 0xffff;
      if (!out.includes(port)) out.push(port);
      if (out.length >= MAX_KNOWN_SAMPLE) break;
    }
    return out;
  }

  return {
    name: 'backdoor',
    counters,
    packet(p: Packet, flow: Flow | null, dir: number): void {
      if (warmEnd !== warmEnd) warmEnd = p.tsSec + warmup; // NaN until the first packet
      if (flow === null) return;
      try {
        if (pending.size !== 0) {
          const e = pending.get(flow.id);
          if (e !== undefined && e.flow === flow) inspect(e, p, flow, dir);
        }
        if (dir !== 1) return;
        if (p.proto === IpProto.TCP) {
          const f = p.tcpFlags;
          if ((f & (TcpFlag.SYN | TcpFlag.ACK | TcpFlag.RST)) !== (TcpFlag.SYN | TcpFlag.ACK)) {
            // Data back without a captured SYN-ACK, after a captured SYN.
            const tcp = flow.tcp;
            if (p.payloadLen === 0 || (f & TcpFlag.RST) !== 0 || flow.pktsToClient > DATA_BACK_PACKETS || tcp === null || tcp.midstream || (tcp.flagsToClient & TcpFlag.SYN) !== 0) return;
          }
          accepted(p, flow, 0);
        } else if (p.proto === IpProto.UDP) {
          if (!udp || flow.pktsToClient !== 1 || flow.pktsToServer === 0) return;
          accepted(p, flow, UDP_PORT);
        }
      } catch {
        counters.errors++;
      }
    },
    record(ev: EveEvent): void {
      if (pending.size === 0 || ev.event_type !== 'flow' || ev.flow_id === undefined) return;
      const e = pending.get(ev.flow_id);
      if (e !== undefined) decide(e, ev.app_proto ?? '');
    },
    tick(now: number): void {
      if (pending.size === 0) return;
      for (const e of pending.values()) if (now >= e.deadline) decide(e, null);
    },
    finish(): void {
      for (const e of pending.values()) decide(e, null);
    },
  };
}

/** Whether a flow is a data channel another protocol announced (FTP data, IRC DCC, a TFTP transfer off port 69). */
function dataChannel(appProto: string, serverPort: number): boolean {
  return DATA_CHANNELS.has(appProto) || (appProto === 'tftp' && serverPort !== 69);
}
