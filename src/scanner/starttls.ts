/**
 * STARTTLS before the probe, for the services that upgrade a plain connection: SMTP (RFC 3207),
 * IMAP (RFC 3501 §6.2.1), POP3 (RFC 2595 §4) and LDAP (RFC 4511 §4.14). Each is a little
 * dialogue of lines (or, for LDAP, one request and one response); `step` is fed what the server
 * sent so far and says what to send next, that the upgrade was granted, or that it was refused.
 */

export type StarttlsProtocol = 'smtp' | 'imap' | 'pop3' | 'ldap';

/** The usual port of each: a service on another port is probed directly. */
export const STARTTLS_PORTS: Readonly<Record<number, StarttlsProtocol>> = { 25: 'smtp', 587: 'smtp', 143: 'imap', 110: 'pop3', 389: 'ldap' };

/** The most a server may say before the upgrade: a long EHLO answer is a few hundred bytes. */
export const MAX_PREAMBLE = 8192;

/** LDAP ExtendedRequest, message id 1, requestName 1.3.6.1.4.1.1466.20037 (StartTLS). */
const LDAP_STARTTLS = Buffer.from('301d02010177188016312e332e362e312e342e312e313436362e3230303337', 'hex');

export type StarttlsStep =
  | { kind: 'send'; bytes: Buffer }
  | { kind: 'wait' }
  | { kind: 'ready' }
  | { kind: 'refused'; reason: string };

/** The dialogue's state: which line it waits for. */
export class StarttlsDialogue {
  private stage = 0;
  private consumed = 0;

  constructor(readonly protocol: StarttlsProtocol) {}

  /** What to send first, before the server speaks (LDAP's client speaks first). */
  opening(): Buffer | null {
    if (this.protocol !== 'ldap') return null;
    this.stage = 1;
    return LDAP_STARTTLS;
  }

  /** Reads what the server has sent so far (all of it, from the start); says what comes next. */
  step(received: Buffer): StarttlsStep {
    if (received.length > MAX_PREAMBLE) return { kind: 'refused', reason: `the server said more than ${MAX_PREAMBLE} bytes before the upgrade` };
    if (this.protocol === 'ldap') return ldapAnswer(received);
    // Text protocols: look at the complete lines not yet read.
    const text = received.subarray(this.consumed).toString('latin1');
    const lf = text.lastIndexOf('\n');
    if (lf < 0) return { kind: 'wait' };
    const lines = text.slice(0, lf).split('\n').map((l) => l.replace(/\r$/, ''));
    for (const line of lines) {
      const r = this.line(line);
      if (r.kind !== 'wait') {
        this.consumed = received.length;
        return r;
      }
    }
    this.consumed += Buffer.byteLength(text.slice(0, lf + 1), 'latin1');
    return { kind: 'wait' };
  }

  private line(line: string): StarttlsStep {
    switch (this.protocol) {
      case 'smtp':
        // 220 greeting (multi-line "220-" goes on), EHLO's 250 lines, then STARTTLS's 220.
        if (line[3] === '-') return { kind: 'wait' };
        if (this.stage === 0) return line.startsWith('220') ? this.next(1, 'EHLO outpost.scanner\r\n') : refused(line);
        if (this.stage === 1) return line.startsWith('250') ? this.next(2, 'STARTTLS\r\n') : refused(line);
        return line.startsWith('220') ? { kind: 'ready' } : refused(line);
      case 'imap':
        if (this.stage === 0) return line.startsWith('* OK') ? this.next(1, 'a1 STARTTLS\r\n') : refused(line);
        if (!line.startsWith('a1 ')) return { kind: 'wait' }; // untagged lines before the answer
        return line.startsWith('a1 OK') ? { kind: 'ready' } : refused(line);
      case 'pop3':
        if (this.stage === 0) return line.startsWith('+OK') ? this.next(1, 'STLS\r\n') : refused(line);
        return line.startsWith('+OK') ? { kind: 'ready' } : refused(line);
      default:
        return refused(line);
    }
  }

  private next(stage: number, text: string): StarttlsStep {
    this.stage = stage;
    return { kind: 'send', bytes: Buffer.from(text, 'latin1') };
  }
}

function refused(line: string): StarttlsStep {
  return { kind: 'refused', reason: `STARTTLS refused or not offered: "${line.slice(0, 80)}"` };
}

/** An LDAP ExtendedResponse (application tag 0x78): resultCode 0 (success) grants the upgrade. */
function ldapAnswer(received: Buffer): StarttlsStep {
  const at = received.indexOf(0x78);
  if (at < 0 || received.length < at + 6) return received.length > 64 ? { kind: 'refused', reason: 'not an LDAP ExtendedResponse' } : { kind: 'wait' };
  // 78 len 0a 01 <resultCode>
  const code = received.indexOf(Buffer.from([0x0a, 0x01]), at);
  if (code < 0 || code + 2 >= received.length) return { kind: 'wait' };
  return received[code + 2] === 0 ? { kind: 'ready' } : { kind: 'refused', reason: `LDAP StartTLS refused (resultCode ${received[code + 2]})` };
}
