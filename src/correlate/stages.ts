import type { BackdoorEvent, FloodEvent, IrcbotEvent, PctEvent, ScanEvent } from '../events/behaviour.js';
import type { AlertEvent, EveEvent, FileinfoEvent } from '../events/types.js';
import { DEFAULT_CLASSIFICATIONS } from '../rules/classifications.js';

/**
 * BotHunter's infection dialog stages (DOMAIN.md §7), plus the two actions a bot is told to take
 * that are not propagation.
 */
export type Stage = 'E1' | 'E2' | 'E3' | 'E4' | 'E5' | 'flood' | 'backdoor';

export const STAGE_NAMES: Readonly<Record<Stage, string>> = {
  E1: 'inbound scan',
  E2: 'inbound exploit',
  E3: 'egg download',
  E4: 'command and control',
  E5: 'outbound scan or exploit',
  flood: 'outbound flood',
  backdoor: 'backdoor',
};

/** One event read as a stage of one host's dialog. */
export interface StageHit {
  /** The HOME_NET host whose dialog this is. */
  host: string;
  stage: Stage;
  /** The other end: the attacker (E1, E2), the egg's source (E3), the C&C server (E4), a victim (E5), the flood target. */
  peer: string | null;
  /** The port the activity used (the exploited or scanned port, the C&C port, the backdoor port). */
  port: number | null;
  /** What identifies the exploit (an alert's sid, "pct"): a worm propagates the same one it came in by. */
  exploit: string | null;
  summary: string;
}

/**
 * Alert classtypes by what they say about the target of the alert (its destination, for a rule
 * written client to server): an exploit, reconnaissance, or a compromised host calling home.
 * The alert's category is the classtype's description (classification.config).
 */
const EXPLOIT_CLASSTYPES = ['attempted-admin', 'attempted-user', 'successful-admin', 'successful-user', 'shellcode-detect', 'web-application-attack', 'rpc-portmap-decode', 'system-call-detect', 'unsuccessful-user', 'default-login-attempt', 'suspicious-login'];
const RECON_CLASSTYPES = ['attempted-recon', 'successful-recon-limited', 'successful-recon-largescale', 'network-scan'];
const CC_CLASSTYPES = ['trojan-activity', 'command-and-control', 'domain-c2', 'targeted-activity', 'exploit-kit', 'coin-mining'];

const byDescription = (names: readonly string[]): Set<string> =>
  new Set(DEFAULT_CLASSIFICATIONS.filter(([name]) => names.includes(name)).map(([, description]) => description));
const EXPLOIT = byDescription(EXPLOIT_CLASSTYPES);
const RECON = byDescription(RECON_CLASSTYPES);
const CC = byDescription(CC_CLASSTYPES);

/** Where each kind of event lands, for docs/correlate.md. */
export const STAGE_TABLE: ReadonlyArray<readonly [string, string]> = [
  ['`scan` into HOME_NET', 'E1 for each HOME_NET host in the scan\'s sample of targets (its first 16)'],
  ['`scan` from a HOME_NET host', 'E5 for the scanner'],
  ['`pct` exploit at a HOME_NET server', 'E2 for the server'],
  ['`pct` exploit from a HOME_NET client', 'E5 for the client'],
  [`\`alert\`, classtype ${EXPLOIT_CLASSTYPES.join(', ')}`, 'E2 for a HOME_NET destination; E5 for a HOME_NET source attacking out'],
  [`\`alert\`, classtype ${RECON_CLASSTYPES.join(', ')}`, 'E1 for a HOME_NET destination; E5 for a HOME_NET source'],
  [`\`alert\`, classtype ${CC_CLASSTYPES.join(', ')}, or metadata mitre_tactic_name Command_And_Control`, 'E4 for the HOME_NET end'],
  ['`fileinfo` of an executable (PE, ELF) or any TFTP transfer, to a HOME_NET host', 'E3 for the host, when it follows an E2 within the egg window or comes from a host that attacked it'],
  ['`ircbot`', 'E4 for the client (the C&C server, channel and nick kept)'],
  ['`flood` sent by HOME_NET hosts', '`flood` for each sending HOME_NET host'],
  ['`backdoor`', '`backdoor` for the host'],
];

/** No stage: shared, so the common case (a flow, dns or http record) allocates nothing. */
const NONE: StageHit[] = [];
Object.freeze(NONE);

/** A file's magic says it runs: a Windows PE (or DOS MZ) or an ELF. */
export function isExecutableMagic(magic: string): boolean {
  return /^(PE32|MS-DOS executable|ELF )/.test(magic);
}

/** The stages an event stands for (none for most records). `home` says whether an address is in HOME_NET. */
export function stagesOf(ev: EveEvent, home: (ip: string) => boolean): readonly StageHit[] {
  switch (ev.event_type) {
    case 'scan': {
      const s = (ev as ScanEvent).scan;
      const hits: StageHit[] = [];
      const summary = `${s.shape} ${s.kind} scan by ${s.scanner}: ${s.port_count} ports on ${s.target_count} hosts`;
      if (home(s.scanner)) hits.push({ host: s.scanner, stage: 'E5', peer: s.targets[0] ?? null, port: s.port_count === 1 ? (s.ports[0] ?? null) : null, exploit: null, summary });
      else for (const t of s.targets) if (home(t)) hits.push({ host: t, stage: 'E1', peer: s.scanner, port: null, exploit: null, summary });
      return hits;
    }
    case 'pct': {
      const p = (ev as PctEvent).pct;
      if (p.verdict !== 'exploit') return NONE;
      const hits: StageHit[] = [];
      const summary = `MS04-011 PCT exploit attempt ${p.client} -> ${p.server}:${p.port}`;
      if (home(p.server)) hits.push({ host: p.server, stage: 'E2', peer: p.client, port: p.port, exploit: 'pct', summary });
      if (home(p.client)) hits.push({ host: p.client, stage: 'E5', peer: p.server, port: p.port, exploit: 'pct', summary });
      return hits;
    }
    case 'alert': {
      const a = ev as AlertEvent;
      const src = a.src_ip;
      const dst = a.dest_ip;
      if (src === undefined || dst === undefined) return NONE;
      const category = a.alert.category;
      const tactic = a.alert.metadata?.mitre_tactic_name?.join(' ') ?? '';
      const summary = `alert ${a.alert.signature_id} "${a.alert.signature}" ${src} -> ${dst}`;
      const exploit = `sid:${a.alert.gid}:${a.alert.signature_id}`;
      // For a rule written from the attacker's side, the packet's destination is the target; a
      // to_client alert reverses the packet, so the target is then its source.
      const toClient = a.direction === 'to_client';
      const attacker = toClient ? dst : src;
      const target = toClient ? src : dst;
      const targetPort = (toClient ? a.src_port : a.dest_port) ?? null;
      const hits: StageHit[] = [];
      if (CC.has(category) || /Command_And_Control/i.test(tactic)) {
        for (const h of [src, dst]) if (home(h)) hits.push({ host: h, stage: 'E4', peer: h === src ? dst : src, port: h === src ? (a.dest_port ?? null) : (a.src_port ?? null), exploit: null, summary });
        return hits.slice(0, 1);
      }
      const isExploit = EXPLOIT.has(category);
      const isRecon = RECON.has(category);
      if (!isExploit && !isRecon) return NONE;
      if (home(target)) hits.push({ host: target, stage: isExploit ? 'E2' : 'E1', peer: attacker, port: targetPort, exploit: isExploit ? exploit : null, summary });
      if (home(attacker)) hits.push({ host: attacker, stage: 'E5', peer: target, port: targetPort, exploit: isExploit ? exploit : null, summary });
      return hits;
    }
    case 'fileinfo': {
      const f = ev as FileinfoEvent;
      // A file record is written from its sender: the receiver is the destination.
      const receiver = f.dest_ip;
      const sender = f.src_ip;
      if (receiver === undefined || sender === undefined || !home(receiver)) return NONE;
      const info = f.fileinfo;
      const tftp = f.app_proto === 'tftp';
      if (!tftp && !isExecutableMagic(info.magic)) return NONE;
      return [{ host: receiver, stage: 'E3', peer: sender, port: f.src_port ?? null, exploit: null, summary: `${info.magic.split(',')[0]} ${info.filename ?? '(unnamed)'} (${info.size} bytes) from ${sender}${f.app_proto !== undefined ? ` over ${f.app_proto}` : ''}` }];
    }
    case 'ircbot': {
      const b = (ev as IrcbotEvent).ircbot;
      if (!home(b.client)) return NONE;
      return [{ host: b.client, stage: 'E4', peer: b.server, port: b.server_port, exploit: null, summary: `IRC C&C ${b.server}:${b.server_port}${b.channel !== undefined ? ` ${b.channel}` : ''}${b.nick !== undefined ? ` as ${b.nick}` : ''} (${b.signs.join(', ')})` }];
    }
    case 'flood': {
      const f = (ev as FloodEvent).flood;
      const hits: StageHit[] = [];
      for (const s of f.sources) if (home(s)) hits.push({ host: s, stage: 'flood', peer: f.target, port: f.target_port ?? null, exploit: null, summary: `${f.kind} flood at ${f.target}${f.target_port !== undefined ? `:${f.target_port}` : ''}, ${f.rate.toFixed(0)} packets/s` });
      return hits;
    }
    case 'backdoor': {
      const b = (ev as BackdoorEvent).backdoor;
      if (!home(b.host)) return NONE;
      return [{ host: b.host, stage: 'backdoor', peer: b.client, port: b.port, exploit: null, summary: `${b.host} accepted ${b.client} on ${b.proto} ${b.port} (${b.reason})` }];
    }
    default:
      return NONE;
  }
}
