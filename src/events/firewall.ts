/**
 * Firewall-log records imported from DShield's submission format (`outpost import dshield`,
 * src/collector/dshield.ts): one tab-separated line per packet group, as DShield's clients write
 * them (date with its UTC offset, submitter, count, source address and port, target address and
 * port, protocol, TCP flags). The common fields carry the addresses, ports and protocol in EVE's
 * words; the `firewall` object keeps what EVE has no field for.
 */
import type { EveCommon } from './types.js';

/** An imported firewall-log line: DShield's record of one packet group. */
export interface FirewallEvent extends EveCommon {
  /** Always `firewall`. */
  event_type: 'firewall';
  /** ICMP: the message type (DShield writes it in the source-port column). */
  icmp_type?: number;
  /** ICMP: the message code (DShield writes it in the target-port column). */
  icmp_code?: number;
  /** What the line said beyond the common fields. */
  firewall: FirewallRecord;
}

/** The `firewall` object of a firewall record. */
export interface FirewallRecord {
  /** Packets the line stands for (DShield's count: 1, or N for a "last message repeated N times"). */
  count: number;
  /** TCP flags as DShield writes them: letters from `12UAPRSF` (`S` a SYN, `SA` a SYN-ACK, `1` and `2` the two reserved bits); empty when the line had none or is not TCP. */
  tcp_flags: string;
  /** The DShield user id that submitted the line (digits; `0` is anonymous). */
  submitter: string;
  /** The UTC offset the line's time was written with (`-05:00`), as DShield clients write the submitter's zone; the timestamp is converted to UTC. */
  tz: string;
  /** The line as read, when it is at most 512 bytes (DShield lines are under 200): evidence of what was imported. */
  raw?: string;
}
