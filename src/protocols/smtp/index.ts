import type { Probe, ProtocolSpec } from '../app.js';
import { SmtpSession } from './session.js';

export { SmtpSession, SMTP_MAX_LINE } from './session.js';

const SMTP_PORTS = [25, 587];

/** A server greets with 220 (then a space or a hyphen); a client opens with EHLO or HELO and a name. */
function probeSmtp(dir: number, data: Uint8Array): Probe {
  const need = dir === 1 ? 4 : 5;
  if (data.length < need) return 'more';
  const head = String.fromCharCode(...data.subarray(0, need)).toUpperCase();
  if (dir === 1) return head.startsWith('220') && (head[3] === ' ' || head[3] === '-') ? 'yes' : 'no';
  return head === 'EHLO ' || head === 'HELO ' ? 'yes' : 'no';
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
