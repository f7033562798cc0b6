import type { Probe, ProtocolSpec } from '../app.js';
import { SmtpSession } from './session.js';

export { SmtpSession, SMTP_MAX_LINE } from './session.js';

const SMTP_PORTS = [25, 587];

/**
 * A server greets with 220 and a space or hyphen; away from SMTP's ports the greeting must also
 * say SMTP (an FTP server greets with 220 too). A client opens with EHLO or HELO and a name.
 */
function probeSmtp(dir: number, data: Uint8Array, serverPort: number): Probe {
  const need = dir === 1 ? 4 : 5;
  if (data.length < need) return 'more';
  const head = String.fromCharCode(...data.subarray(0, need)).toUpperCase();
  if (dir === 0) return head === 'EHLO ' || head === 'HELO ' ? 'yes' : 'no';
  if (!head.startsWith('220') || (head[3] !== ' ' && head[3] !== '-')) return 'no';
  if (SMTP_PORTS.includes(serverPort)) return 'yes';
  const lf = data.indexOf(0x0a);
  const line = Buffer.from(data.buffer, data.byteOffset, lf < 0 ? data.length : lf).toString('latin1');
  if (/SMTP/i.test(line)) return 'yes';
  return lf < 0 ? 'more' : 'no';
}

/**
 * SMTP, followed only to STARTTLS: the connection is then the TLS analyzer's (so a PCT hello on
 * port 25 after STARTTLS is read field by field, as Snort's SID 2528 needed). It writes no
 * records and fills no buffers (`followOnly`).
 */
export const smtpProtocol: ProtocolSpec = {
  name: 'smtp',
  transport: 'tcp',
  ports: SMTP_PORTS,
  probe: probeSmtp,
  open: (_flow, out) => new SmtpSession(out),
  buffers: [],
  followOnly: true,
};
