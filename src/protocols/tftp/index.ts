/**
 * TFTP, as Suricata's rust/src/tftp sees it (a tftp record per request), and the transfer that
 * follows on another flow, into a file (which Suricata does not follow).
 */
import type { Probe, ProtocolSpec } from '../app.js';
import { TFTP_BUFFERS } from './buffers.js';
import { isTftpRequest } from './parse.js';
import { TftpSession, TftpTransferContext } from './session.js';

export { TFTP_BUFFERS, tftpBuffer } from './buffers.js';
export { eveString, tftpRecord } from './log.js';
export {
  blksizeOf,
  isTftpRequest,
  parseTftp,
  TFTP_DEFAULT_BLKSIZE,
  TFTP_MAX_BLKSIZE,
  TFTP_MAX_OPTIONS,
  TFTP_MAX_REQUEST,
  TFTP_MIN_BLKSIZE,
  TFTP_MODES,
  TftpOpcode,
  type TftpAck,
  type TftpData,
  type TftpError,
  type TftpInvalid,
  type TftpMalformation,
  type TftpOack,
  type TftpOption,
  type TftpPacket,
  type TftpRequest,
} from './parse.js';
export { TFTP_EXPECT_SECONDS, TftpSession, TftpTransaction, TftpTransfer, TftpTransferContext } from './session.js';

/**
 * A client's request, read strictly (see isTftpRequest); a server never speaks first. On any
 * port: TFTP servers sit on other ports too, and the strict form keeps the probe from taking
 * other protocols' datagrams that happen to start 00 01 or 00 02.
 */
export function probeTftp(dir: number, data: Uint8Array): Probe {
  return dir === 0 && isTftpRequest(data) ? 'yes' : 'no';
}

/**
 * TFTP. A transfer opens through the same spec, with its request as context: it is TFTP too (its
 * app_proto is `tftp`, as Wireshark calls it and as rules name it), so no protocol name is added
 * that rules, logs and src/rules/buffers.ts would not know.
 */
export const tftpProtocol: ProtocolSpec = {
  name: 'tftp',
  transport: 'udp',
  ports: [69],
  probe: probeTftp,
  open: (flow, out, context) => new TftpSession(flow, out, context instanceof TftpTransferContext ? context : null),
  buffers: TFTP_BUFFERS,
};

/** TFTP's specs for a sensor (one: its transfers open through it too). */
export function createTftpProtocols(): ProtocolSpec[] {
  return [tftpProtocol];
}
