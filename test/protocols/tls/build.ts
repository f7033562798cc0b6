/**
 * Builders for the TLS tests: hellos, records and DER certificates made byte by byte from the
 * specifications, so the parsers are checked against an encoding written independently of them.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readCapture } from '../../../src/capture/reader.js';
import { openByteSource } from '../../../src/capture/source.js';
import { Decoder } from '../../../src/decode/decoder.js';
import { Packet } from '../../../src/decode/packet.js';
import type { Flow } from '../../../src/flow/flow.js';
import { FlowTable } from '../../../src/flow/table.js';

export const u8 = (n: number): Buffer => Buffer.from([n & 0xff]);
export const u16 = (n: number): Buffer => Buffer.from([(n >>> 8) & 0xff, n & 0xff]);
export const u24 = (n: number): Buffer => Buffer.from([(n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
export const vec8 = (b: Uint8Array): Buffer => Buffer.concat([u8(b.length), b]);
export const vec16 = (b: Uint8Array): Buffer => Buffer.concat([u16(b.length), b]);
export const vec24 = (b: Uint8Array): Buffer => Buffer.concat([u24(b.length), b]);
export const list16 = (values: number[]): Buffer => Buffer.concat(values.map(u16));

export function extension(type: number, data: Uint8Array): Buffer {
  return Buffer.concat([u16(type), vec16(data)]);
}

export const sni = (host: string): Buffer => extension(0, vec16(Buffer.concat([u8(0), vec16(Buffer.from(host, 'latin1'))])));
export const alpn = (protocols: string[]): Buffer => extension(16, vec16(Buffer.concat(protocols.map((p) => vec8(Buffer.from(p, 'latin1'))))));
export const supportedVersions = (versions: number[]): Buffer => extension(43, vec8(list16(versions)));
export const supportedGroups = (groups: number[]): Buffer => extension(10, vec16(list16(groups)));
export const ecPointFormats = (formats: number[]): Buffer => extension(11, vec8(Buffer.from(formats)));
export const signatureAlgorithms = (algs: number[]): Buffer => extension(13, vec16(list16(algs)));

export interface ClientHelloSpec {
  version?: number;
  random?: Uint8Array;
  sessionId?: Uint8Array;
  ciphers: number[];
  compression?: number[];
  /** Encoded extensions (see `extension`), or null for a hello without an extensions block. */
  extensions: Buffer[] | null;
}

/** A ClientHello handshake body. */
export function clientHelloBody(s: ClientHelloSpec): Buffer {
  return Buffer.concat([
    u16(s.version ?? 0x0303),
    Buffer.from(s.random ?? Buffer.alloc(32, 0x11)),
    vec8(s.sessionId ?? Buffer.alloc(0)),
    vec16(list16(s.ciphers)),
    vec8(Buffer.from(s.compression ?? [0])),
    s.extensions === null ? Buffer.alloc(0) : vec16(Buffer.concat(s.extensions)),
  ]);
}

export interface ServerHelloSpec {
  version?: number;
  random?: Uint8Array;
  sessionId?: Uint8Array;
  cipher: number;
  extensions: Buffer[] | null;
}

export function serverHelloBody(s: ServerHelloSpec): Buffer {
  return Buffer.concat([
    u16(s.version ?? 0x0303),
    Buffer.from(s.random ?? Buffer.alloc(32, 0x22)),
    vec8(s.sessionId ?? Buffer.alloc(0)),
    u16(s.cipher),
    u8(0),
    s.extensions === null ? Buffer.alloc(0) : vec16(Buffer.concat(s.extensions)),
  ]);
}

export const handshake = (type: number, body: Uint8Array): Buffer => Buffer.concat([u8(type), u24(body.length), body]);
export const record = (type: number, body: Uint8Array, version = 0x0303): Buffer => Buffer.concat([u8(type), u16(version), u16(body.length), body]);

/** A Chrome-like TLS 1.3 ClientHello with GREASE in ciphers, extensions, groups and versions. */
export function modernClientHello(host = 'www.example.org'): { body: Buffer; expectedJa3: string } {
  const grease = [0x0a0a, 0x3a3a, 0x6a6a, 0xdada];
  const ciphers = [grease[0]!, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035];
  const keyShare = extension(51, vec16(Buffer.concat([u16(grease[2]!), vec16(Buffer.from([0])), u16(29), vec16(Buffer.alloc(32, 0x33))])));
  const extensions = [
    extension(grease[1]!, Buffer.alloc(0)),
    sni(host),
    extension(23, Buffer.alloc(0)), // extended_master_secret
    extension(0xff01, Buffer.from([0])), // renegotiation_info
    supportedGroups([grease[2]!, 29, 23, 24]),
    ecPointFormats([0]),
    extension(35, Buffer.alloc(0)), // session_ticket
    alpn(['h2', 'http/1.1']),
    extension(5, Buffer.from([1, 0, 0, 0, 0])), // status_request
    signatureAlgorithms([0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]),
    extension(18, Buffer.alloc(0)), // signed_certificate_timestamp
    keyShare,
    extension(45, vec8(Buffer.from([1]))), // psk_key_exchange_modes
    supportedVersions([grease[3]!, 0x0304, 0x0303]),
    extension(27, vec8(Buffer.from([0, 2]))), // compress_certificate
    extension(grease[0]!, Buffer.from([0])),
    extension(21, Buffer.alloc(32)), // padding
  ];
  const body = clientHelloBody({ version: 0x0303, random: Buffer.alloc(32, 0x5c), sessionId: Buffer.alloc(32, 0x77), ciphers, extensions });
  // By hand from the lists above: GREASE gone, the version field (771) not supported_versions.
  const expectedJa3 =
    '771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,' + '0-23-65281-10-11-35-16-5-13-18-51-45-43-27-21,' + '29-23-24,' + '0';
  return { body, expectedJa3 };
}

/** A TLS 1.3 ServerHello: legacy version 0x0303, supported_versions 0x0304, key_share. */
export function tls13ServerHello(): { body: Buffer; expectedJa3s: string } {
  const body = serverHelloBody({
    version: 0x0303,
    random: Buffer.alloc(32, 0x6d),
    sessionId: Buffer.alloc(32, 0x77),
    cipher: 0x1301,
    extensions: [extension(51, Buffer.concat([u16(29), vec16(Buffer.alloc(32, 0x44))])), extension(43, u16(0x0304))],
  });
  return { body, expectedJa3s: '771,4865,51-43' };
}

// ---------------------------------------------------------------------------------------------
// DER

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export const der = (tag: number, ...content: Uint8Array[]): Buffer => {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
};

export function oid(text: string): Buffer {
  const arcs = text.split('.').map((a) => BigInt(a));
  const out: number[] = [Number(arcs[0]! * 40n + arcs[1]!)];
  for (const arc of arcs.slice(2)) {
    const chunk: number[] = [];
    let v = arc;
    do {
      chunk.unshift(Number(v & 0x7fn) | (chunk.length > 0 ? 0x80 : 0));
      v >>= 7n;
    } while (v > 0n);
    out.push(...chunk);
  }
  return der(0x06, Buffer.from(out));
}

/** An attribute: [oid, tag, value bytes or string]. */
export type Attribute = [string, number, string | Uint8Array];
/** A Name from RDNs, each RDN a list of attributes (more than one makes a multi-valued RDN). */
export function name(rdns: Attribute[][]): Buffer {
  return der(0x30, ...rdns.map((rdn) => der(0x31, ...rdn.map(([o, tag, v]) => der(0x30, oid(o), der(tag, typeof v === 'string' ? Buffer.from(v, 'utf8') : v))))));
}

export interface CertSpec {
  serial: Uint8Array;
  issuer: Buffer;
  subject: Buffer;
  notBefore: [number, string];
  notAfter: [number, string];
}

const spki = (() => {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return publicKey.export({ type: 'spki', format: 'der' });
})();

/** A v3 certificate with a real P-256 public key and a signature nobody checks (parsing does not verify). */
export function certificate(s: CertSpec): Buffer {
  const ecdsaSha256 = der(0x30, oid('1.2.840.10045.4.3.2'));
  const tbs = der(
    0x30,
    der(0xa0, der(0x02, Buffer.from([2]))),
    der(0x02, s.serial),
    ecdsaSha256,
    s.issuer,
    der(0x30, der(s.notBefore[0], Buffer.from(s.notBefore[1], 'latin1')), der(s.notAfter[0], Buffer.from(s.notAfter[1], 'latin1'))),
    s.subject,
    spki,
  );
  return der(0x30, tbs, ecdsaSha256, der(0x03, Buffer.from([0]), der(0x30, der(0x02, Buffer.from([1])), der(0x02, Buffer.from([1])))));
}

// ---------------------------------------------------------------------------------------------
// Corpus streams

/** One TCP connection's reassembled data, chunk by chunk in delivery order (0 client, 1 server). */
export interface Conversation {
  clientPort: number;
  serverPort: number;
  chunks: Array<{ dir: number; data: Buffer }>;
}

/** Runs a capture through the real decoder and flow table and keeps every TCP flow's stream data. */
export async function tcpConversations(file: string): Promise<Conversation[]> {
  const byFlow = new Map<Flow, Conversation>();
  const conv = (flow: Flow): Conversation => {
    let c = byFlow.get(flow);
    if (c === undefined) {
      c = { clientPort: flow.clientPort, serverPort: flow.serverPort, chunks: [] };
      byFlow.set(flow, c);
    }
    return c;
  };
  const decoder = new Decoder();
  const packet = new Packet();
  const table = new FlowTable(
    {
      flowEnd: () => {},
      streamEvent: () => {},
      stream: {
        data: (flow, dir, buf, off, len) => conv(flow).chunks.push({ dir, data: Buffer.from(buf.subarray(off, off + len)) }),
        gap: () => {
          throw new Error('a gap in a corpus stream');
        },
      },
    },
    { idSalt: 1 },
  );
  await readCapture(await openByteSource(file), (f) => {
    decoder.decode(f, packet);
    table.process(packet);
  });
  table.flush();
  return [...byFlow.values()];
}

/** All of one direction's bytes. */
export const streamOf = (c: Conversation, dir: number): Buffer => Buffer.concat(c.chunks.filter((x) => x.dir === dir).map((x) => x.data));

/** One direction's flights: its runs of data between the other side's. */
export function flightsOf(c: Conversation, dir: number): Buffer[] {
  const out: Buffer[] = [];
  let run: Buffer[] = [];
  for (const x of c.chunks) {
    if (x.dir === dir) run.push(x.data);
    else if (run.length > 0) {
      out.push(Buffer.concat(run));
      run = [];
    }
  }
  if (run.length > 0) out.push(Buffer.concat(run));
  return out;
}
