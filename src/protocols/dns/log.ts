/**
 * The EVE `dns` records, field for field and in field order as Suricata writes them
 * (rust/src/dns/log.rs and src/output-json-dns.c): version 2 (Suricata 7's default) and
 * version 3 (Suricata 8's), and the `dns` object alerts carry. Every record is built from one
 * parsed message: Suricata makes a transaction of each request and of each response.
 */
import type { DnsAlertMetadata, DnsAlertV2, DnsAnswerEntry, DnsAnswerRecordV2, DnsEdnsOption, DnsGrouped, DnsQueryRecordV2, DnsQuestionEntry, DnsRecordV3, DnsSoa, DnsSrv, DnsSshfp } from '../../events/dns.js';
import { hex, rrTypeName, RrType, type DnsMessage, type DnsQuestion, type DnsRecord } from './parse.js';

/** The EVE dns format: 2 as Suricata 6 and 7 write it by default, 3 as Suricata 8 does. */
export type DnsLogVersion = 2 | 3;

/** Which side of the conversation a message came from: 0 the client's (a request), 1 the server's (a response). */
export type DnsSide = 0 | 1;

/**
 * The records a transaction's message makes in the EVE log: version 2 writes one per question
 * of a request and one for a response; version 3 one per message. None when the message has no
 * question (Suricata logs a message only for a question whose type it is configured to log).
 */
export function dnsRecords(msg: DnsMessage, side: DnsSide, txId: number, version: DnsLogVersion): Array<DnsQueryRecordV2 | DnsAnswerRecordV2 | DnsRecordV3> {
  if (msg.header === null || msg.questions.length === 0) return [];
  if (version === 3) return [recordV3(msg, side, txId, { grouped: true, knownTypesOnly: false })];
  if (side === 0) return queryRecordsV2(msg, txId, false);
  return [answerRecordV2(msg)];
}

/**
 * What an alert on the transaction shows under `dns`: Suricata 8 writes the version 3 record,
 * detailed only (no `grouped`) and listing only the questions of types it names; Suricata 7
 * writes `query` (the request's questions, as version 2 records) and `answer` (the response's
 * version 2 record, when one of its questions has a type it names).
 */
export function dnsAlertMetadata(msg: DnsMessage, side: DnsSide, txId: number, version: DnsLogVersion): DnsAlertMetadata | null {
  if (msg.header === null) return null;
  if (version === 3) return { dns: recordV3(msg, side, txId, { grouped: false, knownTypesOnly: true }) };
  const v2: DnsAlertV2 = { query: side === 0 ? queryRecordsV2(msg, txId, true) : [] };
  if (side === 1 && msg.questions.some((q) => knownType(q.type))) v2.answer = answerRecordV2(msg);
  return { dns: v2 };
}

/** Version 2: a query record per question (output-json-dns.c JsonDnsLoggerToServer, log.rs dns_log_query). */
function queryRecordsV2(msg: DnsMessage, txId: number, knownTypesOnly: boolean): DnsQueryRecordV2[] {
  const h = msg.header!;
  const out: DnsQueryRecordV2[] = [];
  for (const q of msg.questions) {
    if (knownTypesOnly && !knownType(q.type)) continue;
    const r = { type: 'query', id: h.id, rrname: q.name.text } as DnsQueryRecordV2;
    if (q.name.truncated) r.rrname_truncated = true;
    r.rrtype = q.typeName;
    r.tx_id = txId;
    if (h.z) r.z = true;
    r.opcode = h.opcode;
    out.push(r);
  }
  return out;
}

/** Version 2: the answer record of a response (log.rs dns_log_json_answer), both formats (detailed and grouped), as by default. */
function answerRecordV2(msg: DnsMessage): DnsAnswerRecordV2 {
  const h = msg.header!;
  const r = { version: 2, type: 'answer', id: h.id, flags: h.flags.toString(16) } as DnsAnswerRecordV2;
  headerBits(r, msg);
  r.opcode = h.opcode;
  const first = msg.questions[0];
  if (first !== undefined) {
    r.rrname = first.name.text;
    if (first.name.truncated) r.rrname_truncated = true;
    r.rrtype = first.typeName;
  }
  r.rcode = h.rcodeName;
  if (msg.answers.length > 0) {
    r.answers = entries(msg.answers);
    r.grouped = grouped(msg.answers);
  }
  if (msg.authorities.length > 0) r.authorities = entries(msg.authorities);
  return r;
}

/** Version 3: one record per message (log.rs log_json). */
function recordV3(msg: DnsMessage, side: DnsSide, txId: number, opts: { grouped: boolean; knownTypesOnly: boolean }): DnsRecordV3 {
  const h = msg.header!;
  const r = { version: 3, type: side === 0 ? 'request' : 'response', tx_id: txId, id: h.id, flags: h.flags.toString(16) } as DnsRecordV3;
  headerBits(r, msg);
  r.opcode = h.opcode;
  r.rcode = h.rcodeName;
  if (msg.questions.length > 0) r.queries = msg.questions.filter((q) => !opts.knownTypesOnly || knownType(q.type)).map(questionEntry);
  if (msg.answers.length > 0) {
    r.answers = entries(msg.answers);
    if (opts.grouped) r.grouped = grouped(msg.answers);
  }
  if (msg.authorities.length > 0) r.authorities = entries(msg.authorities);
  // OPT records without options say nothing Suricata logs; the section is left out when nothing else is in it.
  const additionals = msg.additionals.filter((a) => !(a.rdata.kind === 'opt' && a.rdata.options.length === 0));
  if (additionals.length > 0) r.additionals = entries(additionals);
  return r;
}

/** The header flags Suricata writes, each only when set, in its order. */
function headerBits(r: { qr?: true; aa?: true; tc?: true; rd?: true; ra?: true; z?: true }, msg: DnsMessage): void {
  const h = msg.header!;
  if (h.qr) r.qr = true;
  if (h.aa) r.aa = true;
  if (h.tc) r.tc = true;
  if (h.rd) r.rd = true;
  if (h.ra) r.ra = true;
  if (h.z) r.z = true;
}

function questionEntry(q: DnsQuestion): DnsQuestionEntry {
  return q.name.truncated ? { rrname: q.name.text, rrtype: q.typeName, rrname_truncated: true } : { rrname: q.name.text, rrtype: q.typeName };
}

/** A section's entries: one per record, one per string of a TXT record (log.rs dns_log_json_answer_detail). */
function entries(records: readonly DnsRecord[]): DnsAnswerEntry[] {
  const out: DnsAnswerEntry[] = [];
  for (const rec of records) {
    const d = rec.rdata;
    if (d.kind === 'txt') {
      for (const t of d.texts) out.push({ ...entryHead(rec), rdata: t });
      continue;
    }
    // Zero-length TXT data is a record of no strings: Suricata writes no entry for it.
    if (d.kind === 'empty' && rec.type === RrType.TXT) continue;
    const e = entryHead(rec);
    switch (d.kind) {
      case 'a':
      case 'aaaa':
      case 'null':
        e.rdata = d.text;
        break;
      case 'cname':
      case 'ns':
      case 'ptr':
        e.rdata = d.name.text;
        if (d.name.truncated) e.rdata_truncated = true;
        break;
      case 'mx':
        e.rdata = d.exchange.text;
        if (d.exchange.truncated) e.rdata_truncated = true;
        break;
      case 'soa':
        e.soa = soa(d);
        break;
      case 'sshfp':
        e.sshfp = sshfp(d);
        break;
      case 'srv':
        e.srv = srv(d);
        break;
      case 'opt':
        e.opt = d.options.map((o): DnsEdnsOption => ({ code: o.code, data: hex(o.data) }));
        break;
      case 'empty':
        if (emptyAsText(rec.type)) e.rdata = '';
        break;
      case 'unknown':
        break;
    }
    out.push(e);
  }
  return out;
}

function entryHead(rec: DnsRecord): DnsAnswerEntry {
  return rec.name.truncated ? { rrname: rec.name.text, rrname_truncated: true, rrtype: rec.typeName, ttl: rec.ttl } : { rrname: rec.name.text, rrtype: rec.typeName, ttl: rec.ttl };
}

/** The answer section grouped by type name, in order of first appearance (Suricata's order is its hash map's). */
function grouped(records: readonly DnsRecord[]): DnsGrouped {
  const g: DnsGrouped = {};
  const add = (rec: DnsRecord, ...values: Array<string | DnsSoa | DnsSshfp | DnsSrv>): void => {
    const list = (g[rec.typeName] ??= []);
    list.push(...values);
  };
  for (const rec of records) {
    const d = rec.rdata;
    switch (d.kind) {
      case 'a':
      case 'aaaa':
      case 'null':
        add(rec, d.text);
        break;
      case 'cname':
      case 'ns':
      case 'ptr':
        add(rec, d.name.text);
        break;
      case 'mx':
        add(rec, d.exchange.text);
        break;
      case 'txt':
        add(rec, ...d.texts);
        break;
      case 'soa':
        add(rec, soa(d));
        break;
      case 'sshfp':
        add(rec, sshfp(d));
        break;
      case 'srv':
        add(rec, srv(d));
        break;
      case 'empty':
        if (emptyAsText(rec.type)) add(rec, '');
        else if (rec.type === RrType.TXT) add(rec);
        break;
      case 'opt':
      case 'unknown':
        break;
    }
  }
  return g;
}

/**
 * Zero-length data Suricata still decodes (its ticket 7574): addresses and NULL data of no
 * bytes, and names that end where they start, all written as "".
 */
function emptyAsText(type: number): boolean {
  return type === RrType.A || type === RrType.AAAA || type === RrType.CNAME || type === RrType.NS || type === RrType.PTR || type === RrType.NULL;
}

function soa(d: Extract<DnsRecord['rdata'], { kind: 'soa' }>): DnsSoa {
  const s = { mname: d.mname.text } as DnsSoa;
  if (d.mname.truncated) s.mname_truncated = true;
  s.rname = d.rname.text;
  if (d.rname.truncated) s.rname_truncated = true;
  s.serial = d.serial;
  s.refresh = d.refresh;
  s.retry = d.retry;
  s.expire = d.expire;
  s.minimum = d.minimum;
  return s;
}

function sshfp(d: Extract<DnsRecord['rdata'], { kind: 'sshfp' }>): DnsSshfp {
  return { fingerprint: Array.from(d.fingerprint, (b) => b.toString(16).padStart(2, '0')).join(':'), algo: d.algorithm, type: d.fingerprintType };
}

function srv(d: Extract<DnsRecord['rdata'], { kind: 'srv' }>): DnsSrv {
  return { priority: d.priority, weight: d.weight, port: d.port, name: d.target.text };
}

/** Whether Suricata names the type: its alert output lists only questions of the types it can be told to log. */
function knownType(type: number): boolean {
  return rrTypeName(type) !== String(type);
}
