/**
 * One probe: connect, send one hello, read the answer up to a cap and a timeout, classify it.
 * Never throws for anything the network or the peer does: a refused connection is "closed", a
 * connect that never completes is "unreachable", and everything after connecting is a ReplyClass.
 */
import { connect, type Socket } from 'node:net';
import { classifyReply, replyComplete, type ReplyClass, type ReplyEnd } from './classify.js';
import { probeHello, type ProbeKind } from './hellos.js';

/** One TLS record (2^14 plus 2048 bytes of expansion, RFC 5246 §6.2.3) and its header: the most a first answer can need. */
export const MAX_REPLY = 16384 + 2048 + 5;

export interface ProbeOptions {
  /** Milliseconds for the TCP connect. */
  connectTimeoutMs: number;
  /** Milliseconds for the answer, from the moment the hello is sent. */
  readTimeoutMs: number;
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
        reply: end === null ? null : classifyReply(bytes, hello, end),
        bytes,
        sent: hello,
        elapsedMs: performance.now() - started,
        error,
      });
    };
    timer = setTimeout(() => finish('unreachable', null, 'ETIMEDOUT'), options.connectTimeoutMs);
    socket.once('connect', () => {
      connected = true;
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(() => finish('answered', 'timeout', null), options.readTimeoutMs);
      socket.write(hello);
    });
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
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
