/**
 * Whole flights for the session tests, made from the specifications with build.ts's encoders:
 * TLS ClientHello and server flights (ServerHello, Certificate, CertificateRequest,
 * ServerHelloDone), certificates with subject alternative names, and PCT 1.0 server answers
 * (DOMAIN.md §2). Nothing here is attack code: the PCT client side comes from src/synth/pct.ts.
 */
import { generateKeyPairSync } from 'node:crypto';
import { alpn, certificate, clientHelloBody, der, extension, handshake, name, oid, record, serverHelloBody, sni, supportedVersions, u16, u8, vec24, type Attribute } from './build.js';

export const UTF8 = 0x0c;
export const PRINTABLE = 0x13;

const cn = (value: string): Attribute[][] => [[['2.5.4.6', PRINTABLE, 'US']], [['2.5.4.10', UTF8, 'Example Org']], [['2.5.4.3', UTF8, value]]];

/** A certificate for `host`, issued by "C=US, O=Example Org, CN=Example CA". */
export function hostCertificate(host: string, serial = Buffer.from([0x00, 0x9c, 0xfc, 0xda])): Buffer {
  return certificate({ serial, issuer: name(cn('Example CA')), subject: name(cn(host)), notBefore: [0x17, '040421100000Z'], notAfter: [0x17, '050421100000Z'] });
}

const spki = (() => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' }))();

/** A v3 certificate with a subjectAltName extension (dNSName entries, and one iPAddress). */
export function sanCertificate(host: string, dnsNames: string[], ip: number[]): Buffer {
  const names = der(0x30, ...dnsNames.map((n) => der(0x82, Buffer.from(n, 'latin1'))), der(0x87, Buffer.from(ip)));
  const extensions = der(0xa3, der(0x30, der(0x30, oid('2.5.29.17'), der(0x04, names))));
  const alg = der(0x30, oid('1.2.840.10045.4.3.2'));
  const tbs = der(
    0x30,
    der(0xa0, der(0x02, Buffer.from([2]))),
    der(0x02, Buffer.from([0x01, 0x02])),
    alg,
    name(cn('Example CA')),
    der(0x30, der(0x17, Buffer.from('040421100000Z', 'latin1')), der(0x17, Buffer.from('050421100000Z', 'latin1'))),
    name(cn(host)),
    spki,
    extensions,
  );
  return der(0x30, tbs, alg, der(0x03, Buffer.from([0]), der(0x30, der(0x02, Buffer.from([1])), der(0x02, Buffer.from([1])))));
}

export interface ClientHelloOptions {
  host?: string | null;
  alpns?: string[];
  sessionId?: Buffer;
  ticket?: boolean;
  /** supported_versions entries (a TLS 1.3 client). */
  versions?: number[];
  /** More extensions, encoded. */
  extensions?: Buffer[];
  ciphers?: number[];
}

export function clientHelloMessage(o: ClientHelloOptions = {}): Buffer {
  const exts: Buffer[] = [];
  if (o.host !== null) exts.push(sni(o.host ?? 'www.example.com'));
  if (o.alpns !== undefined) exts.push(alpn(o.alpns));
  if (o.ticket === true) exts.push(extension(35, Buffer.alloc(0)));
  if (o.versions !== undefined) exts.push(supportedVersions(o.versions));
  exts.push(...(o.extensions ?? []));
  return handshake(1, clientHelloBody({ ciphers: o.ciphers ?? [0xc02f, 0xc030, 0x009c], extensions: exts, ...(o.sessionId !== undefined ? { sessionId: o.sessionId } : {}) }));
}

/** A ClientHello in one handshake record (record version 0x0301, as clients send it). */
export function clientHelloRecord(o: ClientHelloOptions = {}): Buffer {
  return record(22, clientHelloMessage(o), 0x0301);
}

export interface ServerFlightOptions {
  certs?: Buffer[];
  sessionId?: Buffer;
  alpn?: string;
  /** A CertificateRequest before ServerHelloDone (mutual TLS). */
  certificateRequest?: boolean;
  /** End with ServerHelloDone (TLS 1.2); false for a resumption (ServerHello alone). */
  done?: boolean;
  cipher?: number;
}

export function certificateMessage(certs: Buffer[]): Buffer {
  return handshake(11, vec24(Buffer.concat(certs.map((c) => vec24(c)))));
}

/** ServerHello [Certificate] [CertificateRequest] [ServerHelloDone] in one handshake record. */
export function serverFlight(o: ServerFlightOptions = {}): Buffer {
  const msgs = [handshake(2, serverHelloBody({ cipher: o.cipher ?? 0xc02f, extensions: o.alpn !== undefined ? [alpn([o.alpn])] : [], ...(o.sessionId !== undefined ? { sessionId: o.sessionId } : {}) }))];
  if (o.certs !== undefined) msgs.push(certificateMessage(o.certs));
  if (o.certificateRequest === true) msgs.push(handshake(13, Buffer.concat([u8(1), u8(1), u16(2), u16(0x0401), u16(0)])));
  if (o.done !== false) msgs.push(handshake(14, Buffer.alloc(0)));
  return record(22, Buffer.concat(msgs));
}

export const changeCipherSpec = (): Buffer => record(20, Buffer.from([1]));
export const applicationData = (n: number, fill = 0x5a): Buffer => record(23, Buffer.alloc(n, fill));

/** A PCT 1.0 SERVER_HELLO (DOMAIN.md §2): the server has PCT enabled. */
export function pctServerHello(certificateDer: Buffer = Buffer.alloc(0)): Buffer {
  const fixed = Buffer.concat([
    u8(0x02), // SERVER_HELLO
    u8(0), // pad
    u16(0x8001),
    u8(0), // restart ok
    u8(0), // client auth request
    Buffer.from([0x00, 0x04, 0x80, 0x03]), // cipher
    u16(0x0001), // hash
    u16(0x0001), // cert
    u16(0x0001), // exchange
    Buffer.alloc(32, 0x33), // connection id
    u16(certificateDer.length),
    u16(0),
    u16(0),
    u16(0),
  ]);
  const body = Buffer.concat([fixed, certificateDer]);
  return Buffer.concat([u16(0x8000 | body.length), body]);
}

/** A PCT ERROR (`80 05 05 00 03 00 00` is ILLEGAL_MESSAGE, as unpatched IIS answers). */
export const pctError = (code = 3): Buffer => Buffer.from([0x80, 0x05, 0x05, 0x00, code, 0x00, 0x00]);
/** SSLv2 ERROR NO-CIPHER: a server without PCT. */
export const sslv2NoCipher = (): Buffer => Buffer.from([0x80, 0x03, 0x00, 0x00, 0x01]);

/** An SSLv2 SERVER-HELLO carrying an X.509 certificate. */
export function sslv2ServerHello(certificateDer: Buffer): Buffer {
  const kinds = Buffer.from([0x01, 0x00, 0x80, 0x07, 0x00, 0xc0]);
  const connectionId = Buffer.alloc(16, 0x44);
  const body = Buffer.concat([u8(0x04), u8(0), u8(1), u16(0x0002), u16(certificateDer.length), u16(kinds.length), u16(connectionId.length), certificateDer, kinds, connectionId]);
  return Buffer.concat([u16(0x8000 | body.length), body]);
}

/** A heartbeat request record: type, claimed payload length, the bytes actually sent. */
export const heartbeat = (claimed: number, sent: number, type = 1): Buffer => record(24, Buffer.concat([u8(type), u16(claimed), Buffer.alloc(sent, 0x42)]));

