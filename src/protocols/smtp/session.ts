import type { AppOutput, AppSession } from '../app.js';

/** Longest command or reply line kept (RFC 5321 allows 512 for commands and replies; extensions raise it a little). */
export const SMTP_MAX_LINE = 4096;

/**
 * A side's line splitter: complete lines go to `line`, with where the line ended in the chunk,
 * so that the bytes after a line can be handed on. A line longer than the cap is dropped whole
 * (counted by the caller as an anomaly), never buffered without bound.
 */
class Lines {
  private buf = new Uint8Array(0);
  private len = 0;
  private overflow = false;

  /** Calls `line(text, end)` for each complete line; stops early when it returns false. */
  feed(data: Uint8Array, off: number, end: number, line: (text: string, next: number) => boolean, tooLong: () => void): void {
    let start = off;
    for (let i = off; i < end; i++) {
      if (data[i] !== 0x0a) continue;
      const text = this.take(data, start, i);
      start = i + 1;
      if (text !== null && !line(text, start)) return;
    }
    this.keep(data, start, end, tooLong);
  }

  private take(data: Uint8Array, start: number, lf: number): string | null {
    let text: string | null;
    if (this.overflow) text = null;
    else if (this.len === 0) text = latin1(data, start, lf);
    else {
      this.keep(data, start, lf, () => {});
      text = this.overflow ? null : latin1(this.buf, 0, this.len);
    }
    this.len = 0;
    this.overflow = false;
    return text === null ? null : text.replace(/\r$/, '');
  }

  private keep(data: Uint8Array, start: number, end: number, tooLong: () => void): void {
    const n = end - start;
    if (n <= 0 || this.overflow) return;
    if (this.len + n > SMTP_MAX_LINE) {
      this.overflow = true;
      this.len = 0;
      tooLong();
      return;
    }
    if (this.len + n > this.buf.length) {
      const grown = new Uint8Array(Math.min(SMTP_MAX_LINE, Math.max(256, (this.len + n) * 2)));
      grown.set(this.buf.subarray(0, this.len));
      this.buf = grown;
    }
    this.buf.set(data.subarray(start, end), this.len);
    this.len += n;
  }
}

function latin1(b: Uint8Array, start: number, end: number): string {
  return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1');
}

/**
 * Client bytes sent after STARTTLS before the server's answer (a client that does not wait),
 * kept this far to hand to TLS: a TLS or SSLv2 hello is well under it (16 KiB is TLS's record size).
 */
const EARLY_CLIENT_BYTES = 16384;

/**
 * SMTP followed only as far as STARTTLS (RFC 3207): command and reply lines are read, and when
 * the server answers the client's STARTTLS with 220, the rest of the connection is handed to the
 * TLS analyzer, as Suricata's SMTP parser hands it on. Nothing is logged: Outpost has no SMTP
 * records yet. A refused STARTTLS (454, 5xx) leaves the session in plain text; a mail
 * transaction (MAIL, DATA, BDAT) ends the following, since STARTTLS may only come before one.
 */
export class SmtpSession implements AppSession {
  private readonly lines: [Lines, Lines] = [new Lines(), new Lines()];
  /** The client asked for STARTTLS and the server has not answered yet. */
  private asked = false;
  /** Client bytes after its STARTTLS line (the start of its TLS hello, if it did not wait). */
  private early: Uint8Array[] = [];
  private earlyBytes = 0;
  private done = false;

  constructor(private readonly out: AppOutput) {}

  data(dir: number, buf: Uint8Array, off: number, len: number): void {
    if (this.done) return;
    const end = off + len;
    if (dir === 0 && this.asked) {
      this.hold(buf, off, end);
      return;
    }
    this.lines[dir]!.feed(
      buf,
      off,
      end,
      (text, next) => (dir === 0 ? this.command(text, buf, next, end) : this.reply(text, buf, next, end)),
      () => this.out.anomaly('LINE_TOO_LONG', dir),
    );
  }

  gap(dir: number, _len: number): void {
    // A hole in the command stream: where STARTTLS stands is no longer known.
    if (dir === 0 && !this.done) this.asked = false;
  }

  close(): void {
    this.early = [];
  }

  private command(text: string, buf: Uint8Array, next: number, end: number): boolean {
    const verb = text.trim().slice(0, 8).toUpperCase();
    // STARTTLS comes before a mail transaction (RFC 3207): once one starts, there is nothing more to follow.
    if (verb.startsWith('MAIL ') || verb === 'DATA' || verb.startsWith('BDAT ')) {
      this.done = true;
      return false;
    }
    if (verb !== 'STARTTLS') return true;
    this.asked = true;
    this.hold(buf, next, end);
    return false;
  }

  private reply(text: string, buf: Uint8Array, next: number, end: number): boolean {
    if (!this.asked) return true;
    const code = text.slice(0, 3);
    // A multi-line reply ("220-...") goes on until its last line ("220 ...").
    if (text[3] === '-') return true;
    this.asked = false;
    if (code !== '220') {
      this.early = [];
      this.earlyBytes = 0;
      return true;
    }
    this.done = true;
    const client = concat(this.early, this.earlyBytes);
    this.early = [];
    this.out.upgrade('tls', [client, buf.subarray(next, end)]);
    return false;
  }

  private hold(buf: Uint8Array, start: number, end: number): void {
    const n = Math.min(end - start, EARLY_CLIENT_BYTES - this.earlyBytes);
    if (n <= 0) return;
    this.early.push(buf.slice(start, start + n));
    this.earlyBytes += n;
  }
}

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
