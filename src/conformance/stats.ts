import { LinkType, normalizeLinkType, type Frame } from '../capture/index.js';
import { DECODE_EVENT_NAMES, DecodeEvent } from '../decode/events.js';
import { formatTimestamp } from '../events/time.js';
import { STREAM_EVENTS, StreamEvent } from '../flow/events.js';
import { EndReason } from '../flow/flow.js';
import type { Pipeline } from '../sensor/pipeline.js';

/**
 * Suricata's end-of-run `stats` record, filled from Outpost's own counters where Outpost keeps
 * the same number. Counters Outpost does not keep are left out, so a check on one fails saying
 * so instead of comparing against a made-up value. Not kept today: decoder.invalid (Outpost
 * counts decoder events, not the packets Suricata marks invalid), decoder.vlan, tcp.sessions, app_layer.tx and the defrag and per-memcap memory counters
 * (memcap.pressure is the fuller of the flow cap and the reassembly memcap).
 */
export class StatsCollector {
  /** Frames by link type, captured bytes, largest frame: read as the frames go by. */
  private readonly linktypes = new Map<number, number>();
  private bytes = 0;
  private maxLen = 0;
  private icmpv4 = 0;
  private icmpv6 = 0;
  private lastSec = 0;
  private lastNsec = 0;

  constructor(private readonly pipeline: Pipeline) {}

  /** Hands a frame to the pipeline, noting what the stats record needs on the way. */
  readonly frame = (f: Frame): void => {
    const lt = normalizeLinkType(f.linktype);
    this.linktypes.set(lt, (this.linktypes.get(lt) ?? 0) + 1);
    this.bytes += f.caplen;
    if (f.caplen > this.maxLen) this.maxLen = f.caplen;
    if (f.tsSec > this.lastSec || (f.tsSec === this.lastSec && f.tsNsec > this.lastNsec)) {
      this.lastSec = f.tsSec;
      this.lastNsec = f.tsNsec;
    }
    const c = this.pipeline.decoder.counters;
    const icmp = c.icmp;
    const v6 = c.ipv6;
    this.pipeline.frame(f);
    // The decoder counts ICMP of both versions together; one frame is at most one packet, so its IP version tells which.
    if (c.icmp > icmp) {
      if (c.ipv6 > v6) this.icmpv6++;
      else this.icmpv4++;
    }
  };

  /** The stats record, as Suricata writes it at the end of a pcap run (totals only). */
  record(): Record<string, unknown> {
    const p = this.pipeline;
    const c = p.decoder.counters;
    const lt = (t: number): number => this.linktypes.get(t) ?? 0;
    const events: Record<string, unknown> = {};
    DECODE_EVENT_NAMES.forEach((name, i) => setPath(events, name, c.events[i] ?? 0));
    const fc = p.flows.counters;
    STREAM_EVENTS.forEach((e, i) => {
      if (e.anomaly) setPath(events, `stream.${e.name}`, fc.streamEvents[i] ?? 0);
    });
    const decoder: Record<string, unknown> = {
      pkts: c.frames,
      bytes: this.bytes,
      ipv4: c.ipv4,
      ipv6: c.ipv6,
      ethernet: lt(LinkType.ETHERNET),
      raw: lt(LinkType.RAW),
      null: lt(LinkType.NULL) + lt(LinkType.LOOP),
      sll: lt(LinkType.LINUX_SLL),
      sll2: lt(LinkType.LINUX_SLL2),
      tcp: c.tcp,
      udp: c.udp,
      icmpv4: this.icmpv4,
      icmpv6: this.icmpv6,
      unknown_ethertype: c.events[DecodeEvent['ethernet.unknown_ethertype']] ?? 0,
      avg_pkt_size: c.frames === 0 ? 0 : Math.floor(this.bytes / c.frames),
      max_pkt_size: this.maxLen,
      event: events,
    };
    const by = (name: string): number => fc.byProto.get(name) ?? 0;
    const stats: Record<string, unknown> = {
      decoder,
      flow: {
        total: fc.created,
        tcp: by('tcp'),
        udp: by('udp'),
        icmpv4: by('icmp'),
        icmpv6: by('ipv6-icmp'),
        tcp_reuse: fc.ended[EndReason.TCP_REUSE] ?? 0,
      },
      tcp: {
        reassembly_gap: fc.streamEvents[StreamEvent.reassembly_seq_gap] ?? 0,
        overlap: (fc.streamEvents[StreamEvent.reassembly_overlap] ?? 0) + (fc.streamEvents[StreamEvent.reassembly_overlap_different_data] ?? 0),
        overlap_diff_data: fc.streamEvents[StreamEvent.reassembly_overlap_different_data] ?? 0,
      },
    };
    stats.memcap = { pressure: p.flows.pressure, pressure_max: p.flows.pressureMax };
    const app = p.app?.counters;
    if (app !== undefined) {
      // Suricata's app_layer.flow: flows per recognised protocol, DNS apart by transport, and the unrecognised by transport.
      const flow: Record<string, number> = {};
      for (const [name, n] of app.detected) {
        const udp = app.detectedUdp.get(name) ?? 0;
        const key = name.replace(/-/g, '_');
        if (name === 'dns') {
          flow.dns_tcp = n - udp;
          flow.dns_udp = udp;
        } else flow[key] = n;
      }
      flow.failed_tcp = app.failed - app.failedUdp;
      flow.failed_udp = app.failedUdp;
      stats.app_layer = { flow };
    }
    if (p.detect !== null) stats.detect = { alert: p.detect.counters.alerts, alert_queue_overflow: p.detect.counters.discarded };
    return { timestamp: formatTimestamp(this.lastSec, this.lastNsec), event_type: 'stats', stats };
  }
}

function setPath(obj: Record<string, unknown>, dotted: string, value: number): void {
  const parts = dotted.split('.');
  let node = obj;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next === 'object' && next !== null) node = next as Record<string, unknown>;
    else {
      const fresh: Record<string, unknown> = {};
      node[part] = fresh;
      node = fresh;
    }
  }
  node[parts[parts.length - 1]!] = value;
}
