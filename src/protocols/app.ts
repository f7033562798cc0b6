import type { Flow } from '../flow/flow.js';
import type { Keyword } from '../rules/keyword.js';

/**
 * The application layer's contract. Each protocol is one folder (`protocols/<name>/`) laid out
 * as Suricata's Rust app-layer is: `parse.ts` (bounded, pure parsing of bytes), `session.ts`
 * (the per-flow state machine), `buffers.ts` (what rules may inspect) and `log.ts` (its EVE
 * record). Its `index.ts` exports one ProtocolSpec; `protocols/index.ts` lists them all.
 * No protocol imports another's folder.
 */

/** What probing the first bytes of one side says: this protocol, not it, or show me more. */
export type Probe = 'yes' | 'no' | 'more';

export interface ProtocolSpec {
  /** The EVE app_proto name: http, dns, tls, irc, ftp, ftp-data, tftp. */
  name: string;
  transport: 'tcp' | 'udp' | 'both';
  /** Ports where the protocol is the first guess: a hint only, content decides. */
  ports: readonly number[];
  /**
   * Looks at the first bytes one side sent (all of them so far, up to 1 KiB). Must be cheap and
   * must not throw. `dir` is 0 for the client, 1 for the server.
   */
  probe(dir: number, data: Uint8Array): Probe;
  /** Starts the protocol's state for a flow once it is recognised. */
  open(flow: Flow, out: AppOutput): AppSession;
  /** Rule keywords the protocol provides: its sticky buffers and keywords (http.uri, dns.query, ...). */
  keywords: readonly Keyword[];
}

/** A protocol's per-flow state: fed in order, both directions. */
export interface AppSession {
  /** Stream data in order (TCP), or one datagram's payload (UDP). A view: copy what you keep. */
  data(dir: number, buf: Uint8Array, off: number, len: number): void;
  /** `len` bytes are missing in this direction (TCP). */
  gap(dir: number, len: number): void;
  /** The flow ends: finish what is pending (log incomplete transactions). */
  close(): void;
}

/** One request/response (or query/answer) exchange, as rules and logs see it. */
export interface AppTransaction {
  /** Per flow, from 0, in the order the transactions started. */
  readonly id: number;
  /** A buffer rules may inspect (e.g. "http.uri"), or null when this transaction has none (yet). */
  buffer(name: string): Uint8Array | null;
  /** A buffer that comes as several values (e.g. "dns.query" for each question), or null. */
  buffers?(name: string): readonly Uint8Array[] | null;
}

/** A file carried by a flow (HTTP body, FTP data, TFTP): for fileinfo records. */
export interface FileInfo {
  /** The name the protocol gives it (URI path, FTP/TFTP file name), when it has one. */
  filename: string | null;
  size: number;
  sha256: string;
  /** What the first bytes say it is: "PE32 executable", "ELF", "zip archive", ... */
  magic: string;
  /** The transfer ended normally (CLOSED) or was cut short (TRUNCATED). */
  state: 'CLOSED' | 'TRUNCATED';
  /** Whether the file's bytes were kept (only when configured, up to a size cap). */
  stored: boolean;
  direction: 'to_server' | 'to_client';
  tx_id: number;
}

/** What a protocol session reports back, through the framework, to logs and to rules. */
export interface AppOutput {
  /** Writes the protocol's EVE record (e.g. event_type "http" with an "http" object); common fields are added. */
  record(eventType: string, body: Record<string, unknown>, dir: number, txId?: number): void;
  /** A transaction reached a point where its buffers for `dir` are complete: rules inspect it now. */
  inspect(tx: AppTransaction, dir: number): void;
  /** Something malformed or evasive in the protocol: an applayer anomaly (and a counter). */
  anomaly(event: string, dir: number): void;
  /** A transferred file. */
  file(info: FileInfo): void;
  /** Whether files' bytes are to be kept, and how many at most. */
  readonly fileStore: { enabled: boolean; maxBytes: number };
}
