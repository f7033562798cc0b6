/**
 * X.509 certificate fields as Suricata's EVE tls record writes them. Node's X509Certificate decides
 * whether the DER is a certificate; the strings Suricata prints come from the DER itself, because
 * Node's differ: its subject is one "key=value" per line with OpenSSL's names (emailAddress), and
 * its serial drops the DER integer's leading zero byte. Suricata (rust/src/x509, x509-parser)
 * prints:
 *
 * - subject/issuerdn: RDNs in certificate order joined by ", ", multi-valued RDNs joined by " + ",
 *   each "ABBR=value" with CN C L ST O OU DC Email, else the OID registry's short name, else
 *   "OID(1.2.3)"; non-string values in uppercase hex; a name with a string that is not UTF-8 prints
 *   as "<X509Error: Invalid X.509 name>".
 * - serial: the DER integer's content bytes, uppercase hex, joined by ":" ("00:9C:FC:...").
 * - fingerprint: SHA-1 of the DER, lowercase hex, joined by ":".
 * - notbefore/notafter: UTC "YYYY-MM-DDTHH:MM:SS".
 */
import { createHash, X509Certificate } from 'node:crypto';

export interface CertificateInfo {
  /** Subject DN: "C=US, O=Example, CN=www.example.com". */
  subject: string | null;
  /** Issuer DN, same form. */
  issuerdn: string | null;
  /** "00:9C:FC:DA:1D:A4:70:87:5D". */
  serial: string | null;
  /** SHA-1 of the DER as "b8:18:2d:...": always given, it identifies the bytes even when they are not a certificate. */
  fingerprint: string;
  /** "2011-11-06T20:47:37" (UTC). */
  notbefore: string | null;
  notafter: string | null;
  /** Why the fields could not be read (they are null then), or null. */
  problem: string | null;
}

/** Certificates in the wild stay far below this; a DER length needing more than 4 bytes is not one. */
const MAX_DER_LENGTH_BYTES = 4;

interface Tlv {
  tag: number;
  /** Content range. */
  start: number;
  end: number;
}

/** One DER element at `pos`, inside `[pos, end)`; null when it does not fit or is not DER. */
function tlv(der: Uint8Array, pos: number, end: number): Tlv | null {
  if (end - pos < 2) return null;
  const tag = der[pos]!;
  if ((tag & 0x1f) === 0x1f) return null; // high tag numbers: none in a certificate's structure
  let len = der[pos + 1]!;
  let p = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > MAX_DER_LENGTH_BYTES || end - p < n) return null; // n = 0 is BER's indefinite length
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[p++]!;
  }
  if (len > end - p) return null;
  return { tag, start: p, end: p + len };
}

class NotDer extends Error {}

function expect(der: Uint8Array, pos: number, end: number, tag: number, what: string): Tlv {
  const t = tlv(der, pos, end);
  if (t === null || t.tag !== tag) throw new NotDer(`${what} is not DER (expected tag 0x${tag.toString(16)})`);
  return t;
}

/** x509-parser's abbreviations, then oid-registry's short names for name attributes. */
const ATTRIBUTE_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'Email',
  '2.5.4.0': 'objectClass',
  '2.5.4.1': 'aliasedEntryName',
  '2.5.4.2': 'knowledgeInformation',
  '2.5.4.4': 'surname',
  '2.5.4.5': 'serialNumber',
  '2.5.4.9': 'streetAddress',
  '2.5.4.12': 'title',
  '2.5.4.13': 'description',
  '2.5.4.14': 'searchGuide',
  '2.5.4.15': 'businessCategory',
  '2.5.4.16': 'postalAddress',
  '2.5.4.17': 'postalCode',
  '2.5.4.41': 'name',
  '2.5.4.42': 'givenName',
  '2.5.4.43': 'initials',
  '2.5.4.44': 'generationQualifier',
  '2.5.4.45': 'uniqueIdentifier',
  '2.5.4.46': 'dnQualifier',
  '1.2.840.113549.1.9.2': 'unstructuredName',
  '1.3.6.1.4.1.311.60.2.1.1': 'msJurisdictionLocality',
  '1.3.6.1.4.1.311.60.2.1.2': 'msJurisdictionStateOrProvince',
  '1.3.6.1.4.1.311.60.2.1.3': 'msJurisdictionCountry',
};

/** Dotted OID text from its DER content. */
function oidText(bytes: Uint8Array): string {
  const arcs: bigint[] = [];
  let v = 0n;
  for (const b of bytes) {
    v = (v << 7n) | BigInt(b & 0x7f);
    if ((b & 0x80) === 0) {
      arcs.push(v);
      v = 0n;
    }
  }
  if (arcs.length === 0) return '';
  const first = arcs[0]!;
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join('.');
}

/** ASN.1 string types x509-parser prints as text (UniversalString is not among them). */
const STRING_TAGS = new Set([0x07, 0x0c, 0x12, 0x13, 0x14, 0x15, 0x16, 0x19, 0x1a, 0x1b, 0x1e]);
// ignoreBOM keeps a leading BOM, as Rust's from_utf8 does.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

class NotUtf8 extends Error {}

function attributeValue(der: Uint8Array, t: Tlv): string {
  const content = der.subarray(t.start, t.end);
  if (!STRING_TAGS.has(t.tag)) return Buffer.from(content).toString('hex').toUpperCase();
  try {
    return utf8.decode(content);
  } catch {
    throw new NotUtf8();
  }
}

function nameString(der: Uint8Array, name: Tlv): string {
  const rdns: string[] = [];
  let utf8Failed = false;
  for (let p = name.start; p < name.end; ) {
    const set = expect(der, p, name.end, 0x31, 'a name RDN');
    const attrs: string[] = [];
    for (let q = set.start; q < set.end; ) {
      const seq = expect(der, q, set.end, 0x30, 'a name attribute');
      const oid = expect(der, seq.start, seq.end, 0x06, 'an attribute type');
      const value = tlv(der, oid.end, seq.end);
      if (value === null) throw new NotDer('an attribute value is not DER');
      const text = oidText(der.subarray(oid.start, oid.end));
      try {
        attrs.push(`${ATTRIBUTE_NAMES[text] ?? `OID(${text})`}=${attributeValue(der, value)}`);
      } catch (err) {
        if (!(err instanceof NotUtf8)) throw err;
        utf8Failed = true;
      }
      q = seq.end;
    }
    if (set.start === set.end) throw new NotDer('an RDN is empty'); // SET SIZE (1..MAX)
    rdns.push(attrs.join(' + '));
    p = set.end;
  }
  return utf8Failed ? '<X509Error: Invalid X.509 name>' : rdns.join(', ');
}

/** UTCTime (YYMMDDHHMM[SS]Z, years 50-99 are 19xx) or GeneralizedTime (YYYYMMDDHHMM[SS][.f]Z) as "YYYY-MM-DDTHH:MM:SS". */
function timeString(der: Uint8Array, t: Tlv): string {
  const s = Buffer.from(der.subarray(t.start, t.end)).toString('latin1');
  const m = t.tag === 0x17 ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z$/.exec(s) : t.tag === 0x18 ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:[.,]\d+)?Z$/.exec(s) : null;
  if (m === null) throw new NotDer(`a validity time is not a UTC time (${JSON.stringify(s.slice(0, 32))})`);
  let year = Number(m[1]);
  if (t.tag === 0x17) year += year < 50 ? 2000 : 1900;
  const date = new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? '0')));
  if (Number.isNaN(date.getTime())) throw new NotDer('a validity time is out of range');
  // Date.UTC normalises (Feb 30 becomes Mar 2), as Suricata's epoch round trip does.
  return date.toISOString().slice(0, 19);
}

const colonHex = (bytes: Uint8Array | Buffer, upper: boolean): string => {
  const h = Buffer.from(bytes).toString('hex');
  return (upper ? h.toUpperCase() : h).replace(/(..)(?!$)/g, '$1:');
};

/**
 * Certificates already read, by fingerprint and length: a network sees the same few certificates
 * in flow after flow, and checking one in full (Node's X509Certificate) costs far more than its
 * hash. Bounded: emptied when full.
 */
const seen = new Map<string, CertificateInfo>();
const SEEN_MAX = 4096;

/** Reads one DER certificate. Never throws: bytes that are not a certificate give `problem`. */
export function certificateInfo(der: Uint8Array): CertificateInfo {
  const fingerprint = colonHex(createHash('sha1').update(der).digest(), false);
  const key = `${fingerprint}/${der.length}`;
  const known = seen.get(key);
  if (known !== undefined) return { ...known };
  if (seen.size >= SEEN_MAX) seen.clear();
  const info = readCertificate(der, fingerprint);
  seen.set(key, info);
  return { ...info };
}

function readCertificate(der: Uint8Array, fingerprint: string): CertificateInfo {
  const info: CertificateInfo = { subject: null, issuerdn: null, serial: null, fingerprint, notbefore: null, notafter: null, problem: null };
  let fields: Omit<CertificateInfo, 'fingerprint' | 'problem'>;
  try {
    const cert = expect(der, 0, der.length, 0x30, 'the certificate');
    const tbs = expect(der, cert.start, cert.end, 0x30, 'tbsCertificate');
    let p = tbs.start;
    const first = tlv(der, p, tbs.end);
    if (first !== null && first.tag === 0xa0) p = first.end; // [0] version, absent in v1
    const serial = expect(der, p, tbs.end, 0x02, 'the serial number');
    const signature = expect(der, serial.end, tbs.end, 0x30, 'the signature algorithm');
    const issuer = expect(der, signature.end, tbs.end, 0x30, 'the issuer');
    const validity = expect(der, issuer.end, tbs.end, 0x30, 'the validity');
    const subject = expect(der, validity.end, tbs.end, 0x30, 'the subject');
    const before = tlv(der, validity.start, validity.end);
    const after = before === null ? null : tlv(der, before.end, validity.end);
    if (before === null || after === null) throw new NotDer('the validity is not two times');
    if (serial.end === serial.start) throw new NotDer('the serial number is empty');
    fields = {
      subject: nameString(der, subject),
      issuerdn: nameString(der, issuer),
      serial: colonHex(der.subarray(serial.start, serial.end), true),
      notbefore: timeString(der, before),
      notafter: timeString(der, after),
    };
  } catch (err) {
    info.problem = `not a certificate: ${err instanceof Error ? err.message : String(err)}`;
    return info;
  }
  try {
    new X509Certificate(der); // the whole structure (key, extensions, signature) must hold too
  } catch (err) {
    info.problem = `not a certificate: ${err instanceof Error ? err.message : String(err)}`;
    return info;
  }
  return { ...info, ...fields };
}

/** id-ce-subjectAltName (RFC 5280 §4.2.1.6). */
const SAN_OID = '2.5.29.17';

/**
 * The subject alternative names of a DER certificate as Suricata's EVE `subjectaltname` lists
 * them (rust/src/x509 SCGeneralName): dNSName and URI as written, iPAddress as Rust prints a
 * byte slice ("[192, 0, 2, 1]"). The other kinds (rfc822Name, directoryName, ...) Suricata
 * prints through x509-parser's Debug form, which is not reproduced here: they are left out.
 * Empty when the certificate has none or cannot be read. Never throws.
 */
export function subjectAltNames(der: Uint8Array): string[] {
  try {
    const cert = expect(der, 0, der.length, 0x30, 'the certificate');
    const tbs = expect(der, cert.start, cert.end, 0x30, 'tbsCertificate');
    for (let p = tbs.start; p < tbs.end; ) {
      const t = tlv(der, p, tbs.end);
      if (t === null) return [];
      p = t.end;
      if (t.tag !== 0xa3) continue; // [3] extensions, after the fields before it
      const list = expect(der, t.start, t.end, 0x30, 'the extensions');
      for (let q = list.start; q < list.end; ) {
        const ext = expect(der, q, list.end, 0x30, 'an extension');
        q = ext.end;
        const oid = expect(der, ext.start, ext.end, 0x06, 'an extension id');
        if (oidText(der.subarray(oid.start, oid.end)) !== SAN_OID) continue;
        let v = tlv(der, oid.end, ext.end);
        if (v !== null && v.tag === 0x01) v = tlv(der, v.end, ext.end); // critical
        if (v === null || v.tag !== 0x04) return [];
        const names = expect(der, v.start, v.end, 0x30, 'GeneralNames');
        const out: string[] = [];
        for (let r = names.start; r < names.end; ) {
          const n = tlv(der, r, names.end);
          if (n === null) break;
          r = n.end;
          const bytes = der.subarray(n.start, n.end);
          if (n.tag === 0x82 || n.tag === 0x86) out.push(Buffer.from(bytes).toString('latin1'));
          else if (n.tag === 0x87) out.push(`[${Array.from(bytes).join(', ')}]`);
        }
        return out;
      }
      return [];
    }
  } catch {
    return [];
  }
  return [];
}
