/**
 * One probe: connect, send one hello, read the answer up to a cap and a timeout, classify it.
 * Never throws for anything the network or the peer does: a refused connection is "closed", a
 * connect that never completes is "unreachable", and everything after connecting is a ReplyClass.
 */
import { connect, type Socket } from 'node:net';
import { classifyReply, replyComplete, type ReplyClass, type ReplyEnd } from './classify.js';
import { probeHello, type ProbeKind } from './hellos.js';
import { StarttlsDialogue, type StarttlsProtocol } from './starttls.js';

/** One TLS record (2^14 plus 2048 bytes of expansion, RFC 5246 §6.2.3) and its header: the most a first answer can need. */
export const MAX_REPLY = 16384 + 2048 + 5;

export interface ProbeOptions {
  /** Milliseconds for the TCP connect. */
  connectTimeoutMs: number;
  /** Milliseconds for the answer, from the moment the hello is sent (and for each STARTTLS step). */
  readTimeoutMs: number;
  /** Upgrade the connection with STARTTLS first (SMTP, IMAP, POP3, LDAP). */
  starttls?: StarttlsProtocol;
}

/** A default fit for a LAN or loopback: a live SSL server answers a hello in well under a second. */
export const PROBE_DEFAULTS: ProbeOptions = { connectTimeoutMs: 3000, readTimeoutMs: 3000 };

export type ProbeOutcome =
  /** Connection refused: nothing listens. */
  | 'closed'
  /** The connect timed out or the host or network is unreachable. */
  | 'unreachable'
  /** Connected and sent; `reply` says what came back. */
  | 'answered';

export interface ProbeResult {
  probe: ProbeKind;
  host: string;
  port: number;
  outcome: ProbeOutcome;
  /** The classified answer, when connected. */
  reply: ReplyClass | null;
  /** The bytes of the answer (at most MAX_REPLY), for evidence. */
  bytes: Buffer;
  /** The probe as sent. */
  sent: Buffer;
  /** Milliseconds from connect start to the end of the read. */
  elapsedMs: number;
  /** The socket error code, when there was one (ECONNREFUSED, EHOSTUNREACH, ...). */
  error: string | null;
  /** With STARTTLS: the protocol, and why the upgrade failed when it did (then no hello was sent). */
  starttls?: { protocol: StarttlsProtocol; refused: string | null };
}

/** Sends `kind` (or the given bytes) to host:port and classifies the answer. Resolves always. */
export function runProbe(host: string, port: number, kind: ProbeKind, options: ProbeOptions = PROBE_DEFAULTS, hello: Buffer = probeHello(kind)): Promise<ProbeResult> {
  const started = performance.now();
  return new Promise((resolveProbe) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let connected = false;
    let done = false;
    let timer: NodeJS.Timeout | null = null;
    const socket: Socket = connect({ host, port });
    const finish = (outcome: ProbeOutcome, end: ReplyEnd | null, error: string | null): void => {
      if (done) return;
      done = true;
      if (timer !== null) clearTimeout(timer);
      socket.removeAllListeners('data');
      socket.on('error', () => {}); // a late error after the verdict changes nothing
      socket.destroy();
      const bytes = Buffer.concat(chunks, size).subarray(0, MAX_REPLY);
      resolveProbe({
        probe: kind,
        host,
        port,
        outcome,
        // A failed upgrade sent no hello: its bytes are the plain protocol's, not an SSL answer.
        reply: end === null ? null : upgrading ? classifyReply(bytes, Buffer.alloc(0), 'close') : classifyReply(bytes, hello, end),
        bytes,
        sent: hello,
        elapsedMs: performance.now() - started,
        error,
        ...(options.starttls !== undefined ? { starttls: { protocol: options.starttls, refused: upgrading ? (refusedWhy ?? 'the connection ended before the upgrade') : null } } : {}),
      });
    };
    const dialogue = options.starttls === undefined ? null : new StarttlsDialogue(options.starttls);
    let upgrading = dialogue !== null;
    let refusedWhy: string | null = null;
    const sendHello = (): void => {
      upgrading = false;
      chunks.length = 0;
      size = 0;
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(() => finish('answered', 'timeout', null), options.readTimeoutMs);
      socket.write(hello);
    };
    timer = setTimeout(() => finish('unreachable', null, 'ETIMEDOUT'), options.connectTimeoutMs);
    socket.once('connect', () => {
      connected = true;
      if (dialogue === null) {
        sendHello();
        return;
      }
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(() => {
        refusedWhy = 'no answer to STARTTLS in time';
        finish('answered', 'timeout', null);
      }, options.readTimeoutMs);
      const opening = dialogue.opening();
      if (opening !== null) socket.write(opening);
    });
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (upgrading) {
        const step = dialogue!.step(Buffer.concat(chunks, size));
        if (step.kind === 'send') socket.write(step.bytes);
        else if (step.kind === 'ready') sendHello();
        else if (step.kind === 'refused') {
          refusedWhy = step.reason;
          finish('answered', 'close', null);
        }
        return;
      }
      const bytes = size > MAX_REPLY ? Buffer.concat(chunks, size).subarray(0, MAX_REPLY) : Buffer.concat(chunks, size);
      if (size >= MAX_REPLY || replyComplete(bytes, hello)) finish('answered', 'complete', null);
    });
    socket.once('end', () => finish('answered', 'close', null));
    socket.once('close', () => finish(connected ? 'answered' : 'unreachable', 'close', null));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? 'EUNKNOWN';
      if (!connected) finish(code === 'ECONNREFUSED' ? 'closed' : 'unreachable', null, code);
      else finish('answered', code === 'ECONNRESET' ? 'reset' : 'close', code);
    });
  });
}
