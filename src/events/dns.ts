/**
 * The EVE `dns` records, as Suricata writes them (rust/src/dns/log.rs, src/output-json-dns.c).
 * Two formats, chosen per sensor: version 2 (Suricata 6 and 7's default: a record per question
 * of a request, one record per response) and version 3 (Suricata 8's default: one record per
 * message). Suricata makes a transaction of every message, request or response alike, so a
 * response is never joined to its request here either: `id` (the DNS id on the wire) is what
 * ties them. Fields Suricata leaves out are left out (flags are written only when set).
 */
import type { EveCommon } from './types.js';

/** A `dns` record: the common fields (addresses as the flow has them, client first), then the `dns` object. */
export interface DnsEvent extends EveCommon {
  /** Always `dns`. */
  event_type: 'dns';
  /** The message, in the configured format. */
  dns: DnsQueryRecordV2 | DnsAnswerRecordV2 | DnsRecordV3;
}

/** Version 2, a request: one record per question, in question order. */
export interface DnsQueryRecordV2 {
  /** Always `query`. */
  type: 'query';
  /** The DNS id on the wire (0 to 65535): the response carries the same. */
  id: number;
  /** The question's name, labels joined by dots, without the root's trailing dot ("" for the root); invalid UTF-8 bytes as `\xNN`. */
  rrname: string;
  /** Present (true) when the name was cut at 1025 bytes or at the 255-label cap. */
  rrname_truncated?: true;
  /** The question's type by name (`A`, `AAAA`, `MX`, ...), or its number as text when it has none. */
  rrtype: string;
  /** The flow's transaction the message made (from 0; requests and responses each make one). */
  tx_id: number;
  /** Present (true) when the reserved Z bit (0x0040) of the header is set. */
  z?: true;
  /** The header's opcode: 0 query, 1 inverse query, 2 status, 4 notify, 5 update. */
  opcode: number;
}

/** Version 2, a response: one record per response that has a question. */
export interface DnsAnswerRecordV2 {
  /** Always 2. */
  version: 2;
  /** Always `answer`. */
  type: 'answer';
  /** The DNS id on the wire. */
  id: number;
  /** The header's 16 flag bits as lowercase hex without leading zeros (`8180`). */
  flags: string;
  /** Present (true) when QR is set: the message is a response. */
  qr?: true;
  /** Present (true) when AA is set: the answer is authoritative. */
  aa?: true;
  /** Present (true) when TC is set: the message was truncated. */
  tc?: true;
  /** Present (true) when RD is set: recursion was desired. */
  rd?: true;
  /** Present (true) when RA is set: recursion is available. */
  ra?: true;
  /** Present (true) when the reserved Z bit is set. */
  z?: true;
  /** The header's opcode. */
  opcode: number;
  /** The first question's name. */
  rrname: string;
  /** Present (true) when the first question's name was cut. */
  rrname_truncated?: true;
  /** The first question's type by name, or its number as text. */
  rrtype: string;
  /** The header's response code by name (`NOERROR`, `FORMERR`, `SERVFAIL`, `NXDOMAIN`, `NOTIMP`, `REFUSED`, `YXDOMAIN`, `YXRRSET`, `NXRRSET`, `NOTAUTH`, `NOTZONE`), or its number as text (11 to 15). */
  rcode: string;
  /** The answer section, one entry per record (per string for TXT); absent when the section is empty. */
  answers?: DnsAnswerEntry[];
  /** The answer section's data by record type, in order of first appearance; absent when the section is empty. */
  grouped?: DnsGrouped;
  /** The authority section, as `answers`; absent when empty. */
  authorities?: DnsAnswerEntry[];
}

/** Version 3: one record per message, request or response. */
export interface DnsRecordV3 {
  /** Always 3. */
  version: 3;
  /** `request` for a message from the client, `response` for one from the server. */
  type: 'request' | 'response';
  /** The flow's transaction the message made (from 0; requests and responses each make one). */
  tx_id: number;
  /** The DNS id on the wire. */
  id: number;
  /** The header's 16 flag bits as lowercase hex without leading zeros (`100` for a plain query, `8180` for a plain answer). */
  flags: string;
  /** Present (true) when QR is set. */
  qr?: true;
  /** Present (true) when AA is set. */
  aa?: true;
  /** Present (true) when TC is set. */
  tc?: true;
  /** Present (true) when RD is set. */
  rd?: true;
  /** Present (true) when RA is set. */
  ra?: true;
  /** Present (true) when the reserved Z bit is set. */
  z?: true;
  /** The header's opcode. */
  opcode: number;
  /** The header's response code by name, or its number as text (written for requests too). */
  rcode: string;
  /** The question section; absent when empty. */
  queries?: DnsQuestionEntry[];
  /** The answer section, one entry per record (per string for TXT); absent when empty. */
  answers?: DnsAnswerEntry[];
  /** The answer section's data by record type, in order of first appearance; absent when the answer section is empty, and in alerts. */
  grouped?: DnsGrouped;
  /** The authority section; absent when empty. */
  authorities?: DnsAnswerEntry[];
  /** The additional section, without OPT records that carry no option; absent when nothing is left. */
  additionals?: DnsAnswerEntry[];
}

/** One question of a version 3 record. */
export interface DnsQuestionEntry {
  /** The name, dotted. */
  rrname: string;
  /** The type by name, or its number as text. */
  rrtype: string;
  /** Present (true) when the name was cut. */
  rrname_truncated?: true;
}

/** One resource record (one string of a TXT record) of the answer, authority or additional section. */
export interface DnsAnswerEntry {
  /** The record's owner name, dotted. */
  rrname: string;
  /** Present (true) when the owner name was cut. */
  rrname_truncated?: true;
  /** The record's type by name, or its number as text. */
  rrtype: string;
  /** The time to live, in seconds (unsigned 32 bits). */
  ttl: number;
  /**
   * The data as text: A as a dotted quad, AAAA as eight four-digit hex groups (not compressed),
   * CNAME/NS/PTR and MX's exchange as a dotted name, one TXT string, NULL's bytes. Absent for
   * the types written as an object below and for types Suricata does not decode.
   */
  rdata?: string;
  /** Present (true) when the name in `rdata` was cut. */
  rdata_truncated?: true;
  /** SOA data. */
  soa?: DnsSoa;
  /** SSHFP data. */
  sshfp?: DnsSshfp;
  /** SRV data. */
  srv?: DnsSrv;
  /** OPT (EDNS) data: its options, in order. */
  opt?: DnsEdnsOption[];
}

/** An SOA record's data (RFC 1035 3.3.13). */
export interface DnsSoa {
  /** The zone's primary name server. */
  mname: string;
  /** Present (true) when `mname` was cut. */
  mname_truncated?: true;
  /** The zone administrator's mailbox, as a name. */
  rname: string;
  /** Present (true) when `rname` was cut. */
  rname_truncated?: true;
  /** The zone's serial number. */
  serial: number;
  /** Seconds before secondaries refresh. */
  refresh: number;
  /** Seconds before a failed refresh is retried. */
  retry: number;
  /** Seconds after which secondaries stop answering for the zone. */
  expire: number;
  /** The negative-caching TTL, in seconds. */
  minimum: number;
}

/** An SSHFP record's data (RFC 4255). */
export interface DnsSshfp {
  /** The fingerprint as colon-separated lowercase hex bytes. */
  fingerprint: string;
  /** The key's algorithm number (1 RSA, 2 DSA, 3 ECDSA, 4 Ed25519). */
  algo: number;
  /** The fingerprint's type number (1 SHA-1, 2 SHA-256). */
  type: number;
}

/** An SRV record's data (RFC 2782). */
export interface DnsSrv {
  /** The target's priority (lower first). */
  priority: number;
  /** The weight among targets of equal priority. */
  weight: number;
  /** The service's port. */
  port: number;
  /** The target host, dotted. */
  name: string;
}

/** One EDNS option of an OPT record (RFC 6891 6.1.2). */
export interface DnsEdnsOption {
  /** The option code (8 client subnet, 10 cookie, 12 padding, ...). */
  code: number;
  /** The option's data as lowercase hex. */
  data: string;
}

/**
 * The answer section grouped by record type name: addresses and names as text, TXT strings,
 * NULL data as text, SOA/SSHFP/SRV as their objects. Types Suricata does not decode are left out.
 */
export type DnsGrouped = Record<string, Array<string | DnsSoa | DnsSshfp | DnsSrv>>;

/** What an alert on a DNS transaction carries under `dns`, in Suricata 7's (version 2) style. */
export interface DnsAlertV2 {
  /** The request's questions as version 2 query records (empty for a response). */
  query: DnsQueryRecordV2[];
  /** The response as a version 2 answer record, when the transaction is a response with a question. */
  answer?: DnsAnswerRecordV2;
}

/** What an alert on a DNS transaction carries: `{ dns: ... }`, a version 3 record (Suricata 8) without `grouped`, or Suricata 7's query/answer pair. */
export interface DnsAlertMetadata {
  /** The transaction's message. */
  dns: DnsRecordV3 | DnsAlertV2;
}
