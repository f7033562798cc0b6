import { APP_PROTOCOL_NAMES, UNANALYZED_APP_PROTOCOLS } from '../buffers.js';
import { flowDetect } from '../flowstate.js';
import type { Keyword } from '../keyword.js';
import { UnsupportedKeywordError } from '../regex.js';
import { RuleError } from '../syntax.js';
import { check } from './header.js';

/**
 * An application-layer event was raised on the flow by the packet being inspected (Suricata's
 * `app-layer-event:http.request_field_too_long`; names compare regardless of case). The events
 * are the ones the analyzers raise as applayer anomalies; Suricata's protocol-detection events
 * (`applayer_*`) are not raised by Outpost, so rules on them are unsupported, not silent.
 */
export const appLayerEvent: Keyword = {
  name: 'app-layer-event',
  summary: 'The analyzer of the flow\'s protocol raised this event on the packet: <protocol>.<event>, as the applayer anomaly records name them.',
  syntax: 'app-layer-event:<protocol>.<event>',
  apply(b, value) {
    const text = (value ?? '').trim().toLowerCase();
    const m = /^([a-z0-9-]+)\.([a-z0-9_.]+)$/.exec(text);
    if (m === null) {
      if (/^applayer_[a-z_]+$/.test(text)) throw new UnsupportedKeywordError(`app-layer-event:${text}`, `app-layer-event: ${text} is a protocol-detection event Outpost does not raise`);
      throw new RuleError(`app-layer-event: "${value ?? ''}" is not <protocol>.<event>`);
    }
    const proto = APP_PROTOCOL_NAMES.get(m[1]!);
    if (proto === undefined) {
      if (UNANALYZED_APP_PROTOCOLS.has(m[1]!)) throw new UnsupportedKeywordError(`app-layer-event:${m[1]!}`, `app-layer-event: Outpost does not analyze ${m[1]!}`);
      throw new RuleError(`app-layer-event: "${m[1]!}" is not a protocol Outpost analyzes`);
    }
    const name = `${proto}.${m[2]!}`;
    b.headerChecks.push(
      check(`app-layer-event:${name}`, 'app-layer-event', (p, flow) => {
        if (flow === null) return false;
        const fd = flowDetect(flow);
        return fd.appEventsFrame === p.number && fd.appEvents !== null && fd.appEvents.includes(name);
      }),
    );
  },
};
