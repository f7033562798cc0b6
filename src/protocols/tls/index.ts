/**
 * TLS, SSL 2.0 and native PCT 1.0, as Suricata's `tls` app-layer sees them (plus PCT, which
 * Suricata reads as SSLv2). What other rooms may use: the ProtocolSpec, and the session for
 * tests and tools.
 */
import type { AppOutput, Probe, ProtocolSpec } from '../app.js';
import { ContentType, HandshakeType, recordFormat, TLS_MAX_RECORD } from './parse.js';
import { TLS_BUFFERS } from './buffers.js';
import { TlsSession } from './session.js';

export { TLS_BUFFERS, txBuffer, txBuffers } from './buffers.js';
export { tlsRecord } from './log.js';
export { TLS_EVENTS, TlsSession, TlsTransaction, type CertificateChain, type ServerAnswer, type TlsEventName } from './session.js';

/**
 * Where TLS is the first guess: HTTPS, SMTPS, NNTPS, LDAPS, FTPS, telnets, IMAPS, IRCS, POP3S,
 * SIP over TLS, IRC over TLS and the usual alternate HTTPS port. A hint only: content decides.
 */
const TLS_PORTS = [443, 465, 563, 636, 989, 990, 992, 993, 994, 995, 5061, 6697, 8443] as const;

/** The bytes that decide every case below (a 2-byte SSLv2 header, type, and the version at body 3-4). */
const PROBE_NEED = 7;

/**
 * Whether a side's first bytes are a TLS record, an SSLv2 record or a native PCT record, by
 * content on any port. A client opens with a handshake record carrying a ClientHello, an SSLv2
 * CLIENT-HELLO (any version whose top bit is clear: SSL 2.0's 00 02, an SSLv3/TLS client's 03
 * xx, and the MS04-011 exploit's 02 bd) or a PCT CLIENT_HELLO (top bit set, 80 01). A server
 * answers with a handshake record (ServerHello), a TLS alert, an SSLv2 SERVER-HELLO (00 02) or
 * ERROR, or a PCT SERVER_HELLO or ERROR. On a TLS port a side may also open with other TLS
 * records (a flow picked up mid-stream). Never throws.
 */
export function probeTls(dir: number, data: Uint8Array, serverPort: number): Probe {
  try {
    const format = recordFormat(data);
    if (format === 'more') return 'more';
    if (format === 'unknown') return 'no';
    if (format === 'tls') return probeTlsRecord(dir, data, serverPort);
    return probeLegacy(dir, data, format);
  } catch {
    return 'no';
  }
}

function probeTlsRecord(dir: number, data: Uint8Array, serverPort: number): Probe {
  if (data.length < 5) return 'more';
  const length = (data[3]! << 8) | data[4]!;
  if (length === 0 || length > TLS_MAX_RECORD) return 'no';
  switch (data[0]) {
    case ContentType.HANDSHAKE: {
      if (data.length < 6) return 'more';
      const wanted = dir === 0 ? HandshakeType.CLIENT_HELLO : HandshakeType.SERVER_HELLO;
      return data[5] === wanted ? 'yes' : 'no';
    }
    case ContentType.ALERT:
      return dir === 1 && length === 2 ? 'yes' : 'no';
    default:
      return (TLS_PORTS as readonly number[]).includes(serverPort) ? 'yes' : 'no';
  }
}

function probeLegacy(dir: number, data: Uint8Array, format: 'sslv2' | 'pct'): Probe {
  const length = ((data[0]! & 0x7f) << 8) | data[1]!;
  const type = data[2]!;
  if (dir === 0) {
    if (type !== 0x01) return 'no';
    // The fixed fields: SSLv2's 9 body bytes to the challenge length, PCT's version and pad.
    if (length < (format === 'sslv2' ? 9 : 4)) return 'no';
    if (format === 'pct') return 'yes';
    if (data.length < PROBE_NEED) return 'more';
    // A version whose first byte is at most 3 (SSL 2.0, SSLv3/TLS, or a made-up one as the exploit's).
    return data[3]! <= 3 ? 'yes' : 'no';
  }
  if (format === 'pct') return type === 0x02 || (type === 0x05 && length >= 5) ? 'yes' : 'no';
  if (type === 0x00) return length === 3 ? 'yes' : 'no'; // ERROR: type and a 2-byte code
  if (type !== 0x04) return 'no';
  if (data.length < PROBE_NEED) return 'more';
  return data[5] === 0x00 && data[6] === 0x02 ? 'yes' : 'no';
}

export const tlsProtocol: ProtocolSpec = {
  name: 'tls',
  transport: 'tcp',
  ports: TLS_PORTS,
  probe: probeTls,
  open: (_flow, out: AppOutput) => new TlsSession(out),
  buffers: TLS_BUFFERS,
};
