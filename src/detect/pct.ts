import type { PctEvent } from '../events/behaviour.js';
import type { EveEvent } from '../events/types.js';
import type { TlsEvent } from '../events/tls.js';
import type { Detector, DetectorContext } from './detector.js';
import { sameFlow } from './util.js';

/**
 * The MS04-011 detector (DOMAIN.md §3): it reads the TLS analyzer's PCT and SSLv2 fields, so it
 * judges the hello's structure rather than bytes at fixed offsets as SID 2515 does. A client
 * whose hello would route a PCT-capable Schannel server into PCT (the first cipher kind 8F with
 * "version" bytes of 0x8001 or more, or a native PCT CLIENT_HELLO) and whose record has a
 * structural anomaly (a session-id length outside 0 and 16, a spec length that is not a
 * multiple, lengths that do not add up, a first flight far longer than the record) is an exploit
 * attempt. A well-formed hello offering PCT (a client, or a scanner's probe) is only "offered".
 */
export const PCT_DEFAULTS = {
  enabled: true,
  /** Server ports judged; empty: every port the TLS analyzer recognised SSL on (it finds SSL by content). */
  ports: [] as readonly number[],
  /** Report well-formed hellos offering PCT ("PCT offered", informational). */
  'report-offered': true,
};

export function createPctDetector(ctx: DetectorContext, options: typeof PCT_DEFAULTS): Detector {
  const ports = new Set(options.ports);
  const counters = { hellos: 0, offered: 0, exploits: 0 };
  return {
    name: 'pct',
    counters,
    record(ev: EveEvent): void {
      if (ev.event_type !== 'tls') return;
      const tls = (ev as TlsEvent).tls;
      const pct = tls.pct;
      if (pct === undefined) return;
      if (ports.size > 0 && !ports.has(ev.dest_port ?? -1)) return;
      counters.hellos++;
      if (!pct.offered && !pct.routed) return;
      const anomalies = tls.anomalies ?? [];
      const exploit = pct.routed && anomalies.length > 0;
      if (!exploit && (!options['report-offered'] || anomalies.length > 0)) return;
      if (exploit) counters.exploits++;
      else counters.offered++;
      const out = sameFlow(ev, 'pct') as PctEvent;
      out.pct = {
        verdict: exploit ? 'exploit' : 'offered',
        signature: exploit ? 'MS04-011 PCT exploit attempt' : 'PCT offered',
        severity: exploit ? 'high' : 'informational',
        ...(exploit ? { cve: 'CVE-2003-0719' } : {}),
        format: pct.native ? 'pct' : 'sslv2',
        anomalies: exploit ? [...anomalies] : [],
        client: ev.src_ip ?? '',
        server: ev.dest_ip ?? '',
        port: ev.dest_port ?? 0,
      };
      ctx.emit(out);
    },
  };
}
