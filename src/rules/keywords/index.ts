import type { Keyword } from '../keyword.js';
import { ack } from './ack.js';
import { APP_KEYWORDS } from './app.js';
import { appLayerEvent } from './app_layer_event.js';
import { BYTE_KEYWORDS } from './bytes-group.js';
import { bufferlen } from './bufferlen.js';
import { content, CONTENT_MODIFIERS } from './content.js';
import { decodeEvent } from './decode_event.js';
import { detectionFilter } from './detection_filter.js';
import { dsize } from './dsize.js';
import { flags } from './flags.js';
import { flow } from './flow.js';
import { flowbits } from './flowbits.js';
import { fragbits } from './fragbits.js';
import { fragoffset } from './fragoffset.js';
import { icmpId } from './icmp_id.js';
import { icmpSeq } from './icmp_seq.js';
import { icode } from './icode.js';
import { id } from './id.js';
import { ipProto } from './ip_proto.js';
import { ipopts } from './ipopts.js';
import { itype } from './itype.js';
import { classtype, gid, metadata, msg, noalert, priority, reference, rem, rev, sid, target } from './meta.js';
import { pcre } from './pcre.js';
import { pktData } from './pkt_data.js';
import { sameip } from './sameip.js';
import { service } from './service.js';
import { streamSize } from './stream_size.js';
import { seq } from './seq.js';
import { tos } from './tos.js';
import { TRANSFORM_KEYWORDS } from './transforms.js';
import { ttl } from './ttl.js';
import { threshold } from './threshold.js';
import { window } from './window.js';

/** Every keyword Outpost implements. */
export const KEYWORDS: readonly Keyword[] = [
  msg, sid, gid, rev, classtype, priority, metadata, reference, target, noalert, rem, service,
  content, ...Object.values(CONTENT_MODIFIERS), pcre, bufferlen,
  ...BYTE_KEYWORDS,
  flow, flowbits, pktData, threshold, detectionFilter, streamSize, decodeEvent,
  dsize, flags, ttl, tos, id, ipopts, fragbits, fragoffset, seq, ack, window, itype, icode, icmpId, icmpSeq, ipProto, sameip,
  ...APP_KEYWORDS, appLayerEvent, ...TRANSFORM_KEYWORDS,
];

/** Keywords by every name they answer to. */
export const KEYWORDS_BY_NAME: ReadonlyMap<string, Keyword> = new Map(KEYWORDS.flatMap((k) => [k.name, ...(k.aliases ?? [])].map((n) => [n, k] as const)));
