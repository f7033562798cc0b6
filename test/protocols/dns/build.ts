/**
 * Crafting DNS messages for the tests: names as labels (or raw bytes, for pointers and hostile
 * shapes), questions and records, and a header whose counts follow the sections unless given.
 */

/** A name as uncompressed labels ending in the root label: "www.example.com" or "" for the root. */
export function labels(name: string): Buffer {
  const parts = name === '' ? [] : name.split('.');
  return Buffer.concat([...parts.map((l) => Buffer.concat([Buffer.from([Buffer.byteLength(l, 'latin1')]), Buffer.from(l, 'latin1')])), Buffer.from([0])]);
}

/** Labels given as raw bytes each, then the root label. */
export function rawLabels(...parts: Uint8Array[]): Buffer {
  return Buffer.concat([...parts.map((l) => Buffer.concat([Buffer.from([l.length]), l])), Buffer.from([0])]);
}

/** A compression pointer to `offset` in the message. */
export function ptr(offset: number): Buffer {
  return Buffer.from([0xc0 | (offset >> 8), offset & 0xff]);
}

export interface Question {
  name: Uint8Array;
  type: number;
  class?: number;
}

export interface Rr {
  name: Uint8Array;
  type: number;
  class?: number;
  ttl?: number;
  rdata: Uint8Array;
}

export interface MessageSpec {
  id?: number;
  flags?: number;
  questions?: Question[];
  answers?: Rr[];
  authorities?: Rr[];
  additionals?: Rr[];
  /** Header counts to write instead of the sections' lengths. */
  counts?: [number, number, number, number];
}

export function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n & 0xffff);
  return b;
}

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

export function rr(r: Rr): Buffer {
  return Buffer.concat([r.name, u16(r.type), u16(r.class ?? 1), u32(r.ttl ?? 300), u16(r.rdata.length), r.rdata]);
}

export function message(m: MessageSpec): Buffer {
  const qs = m.questions ?? [];
  const an = m.answers ?? [];
  const ns = m.authorities ?? [];
  const ar = m.additionals ?? [];
  const counts = m.counts ?? [qs.length, an.length, ns.length, ar.length];
  return Buffer.concat([
    u16(m.id ?? 0x1234),
    u16(m.flags ?? 0x0100),
    ...counts.map(u16),
    ...qs.map((q) => Buffer.concat([q.name, u16(q.type), u16(q.class ?? 1)])),
    ...an.map(rr),
    ...ns.map(rr),
    ...ar.map(rr),
  ]);
}

/** Rdata builders. */
export const rd = {
  a: (ip: string): Buffer => Buffer.from(ip.split('.').map(Number)),
  aaaa: (hex: string): Buffer => Buffer.from(hex.replace(/:/g, ''), 'hex'),
  mx: (preference: number, exchange: Uint8Array): Buffer => Buffer.concat([u16(preference), exchange]),
  txt: (...strings: Array<string | Uint8Array>): Buffer =>
    Buffer.concat(strings.map((s) => {
      const b = typeof s === 'string' ? Buffer.from(s, 'latin1') : Buffer.from(s);
      return Buffer.concat([Buffer.from([b.length]), b]);
    })),
  soa: (mname: Uint8Array, rname: Uint8Array, serial: number, refresh: number, retry: number, expire: number, minimum: number): Buffer =>
    Buffer.concat([mname, rname, u32(serial), u32(refresh), u32(retry), u32(expire), u32(minimum)]),
  srv: (priority: number, weight: number, port: number, target: Uint8Array): Buffer => Buffer.concat([u16(priority), u16(weight), u16(port), target]),
  opt: (...options: Array<[number, Uint8Array]>): Buffer => Buffer.concat(options.map(([code, data]) => Buffer.concat([u16(code), u16(data.length), data]))),
  sshfp: (algorithm: number, type: number, fingerprint: Uint8Array): Buffer => Buffer.concat([Buffer.from([algorithm, type]), fingerprint]),
};

/** A response with one record of every type the parser decodes, compressed where names allow (for tables of expectations). */
export function everyTypeResponse(): Buffer {
  const q = labels('example.com'); // at offset 12
  const owner = ptr(12);
  return message({
    id: 0xbeef,
    flags: 0x8580,
    questions: [{ name: q, type: 255 }],
    answers: [
      { name: owner, type: 1, ttl: 60, rdata: rd.a('192.0.2.1') },
      { name: owner, type: 28, ttl: 60, rdata: rd.aaaa('2001:0db8:0000:0000:0000:0000:0000:0001') },
      { name: labels('www.example.com'), type: 5, rdata: ptr(12) },
      { name: owner, type: 2, rdata: labels('ns1.example.com') },
      { name: labels('1.2.0.192.in-addr.arpa'), type: 12, rdata: labels('host.example.com') },
      { name: owner, type: 15, rdata: rd.mx(10, Buffer.concat([Buffer.from([4]), Buffer.from('mail'), ptr(12)])) },
      { name: owner, type: 16, rdata: rd.txt('v=spf1 -all', '', 'second') },
      { name: labels('_sip._tcp.example.com'), type: 33, rdata: rd.srv(1, 2, 5060, labels('sip.example.com')) },
      { name: owner, type: 44, rdata: rd.sshfp(1, 2, Buffer.from('00112233445566778899aabbccddeeff00112233', 'hex')) },
      { name: owner, type: 10, rdata: Buffer.from('null-data') },
      { name: owner, type: 65534, rdata: Buffer.from([7, 0x7d, 0x12, 0, 1]) },
    ],
    authorities: [{ name: owner, type: 6, ttl: 3600, rdata: rd.soa(labels('ns1.example.com'), labels('hostmaster.example.com'), 2024010101, 7200, 900, 1209600, 300) }],
    additionals: [{ name: labels(''), type: 41, class: 1232, ttl: 0x00008000, rdata: rd.opt([10, Buffer.from('0102030405060708', 'hex')], [3, Buffer.alloc(0)]) }],
  });
}
