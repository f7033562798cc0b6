import type { Flow } from '../flow/flow.js';
import type { InspectableTx } from '../rules/buffers.js';

/**
 * The application layer's contract. Each protocol is one folder (`protocols/<name>/`) laid out
 * as Suricata's Rust app-layer is: `parse.ts` (bounded, pure parsing of bytes), `session.ts`
 * (the per-flow state machine), `buffers.ts` (what rules may inspect) and `log.ts` (its EVE
 * record). Its `index.ts` exports its ProtocolSpec(s); `protocols/index.ts` lists them all.
 * No protocol imports another's folder; shared pieces (file tracking) live beside this file.
 */

/** What probing the first bytes of one side says: this protocol, not it, or show me more. */
export type Probe = 'yes' | 'no' | 'more';

export interface ProtocolSpec {
  /** The EVE app_proto name: http, dns, tls, irc, ftp, ftp-data, tftp, smtp. */
  name: string;
  transport: 'tcp' | 'udp' | 'both';
  /** Ports where the protocol is the first guess: a hint only, content decides. */
  ports: readonly number[];
  /**
   * Looks at the first bytes one side sent (TCP: all of them so far, up to 1 KiB; UDP: one
   * datagram). Must be cheap and must not throw. `dir` is 0 for the client, 1 for the server;
   * `serverPort` lets a protocol be stricter away from its usual ports.
   */
  probe(dir: number, data: Uint8Array, serverPort: number): Probe;
  /**
   * Starts the protocol's state for a flow once it is recognised, or once it opens as a
   * connection the protocol expected (`context` is what `expect` was given).
   */
  open(flow: Flow, out: AppOutput, context?: unknown): AppSession;
  /** The rule buffers its transactions fill, by their names in src/rules/buffers.ts (http.uri, dns.query, ...). */
  buffers: readonly string[];
  /**
   * Followed only to hand the flow on (SMTP, until STARTTLS hands it to TLS): it writes no
   * records and fills no buffers, so it does not count as an analyzer of its own.
   */
  followOnly?: true;
}

/** A protocol's per-flow state: fed in order, both directions. */
export interface AppSession {
  /** Stream data in order (TCP), or one datagram's payload (UDP). A view: copy what you keep. */
  data(dir: number, buf: Uint8Array, off: number, len: number): void;
  /** `len` bytes are missing in this direction (TCP). */
  gap(dir: number, len: number): void;
  /** TCP: the side sent FIN and all its data was delivered (a line or message cut short may be finished now). */
  end?(dir: number): void;
  /** The flow ends: finish what is pending (log incomplete transactions). */
  close(): void;
}

/**
 * One request/response (or query/answer) exchange, as rules and logs see it: its id, its
 * buffers by name and side (`buffer("http.uri", 0)`), and what an alert on it shows.
 */
export type AppTransaction = InspectableTx;

/**
 * A connection a protocol expects to follow from what it read (an FTP data channel from PORT or
 * PASV, a TFTP transfer's reply port): when a flow to `serverAddr`:`serverPort` (from
 * `clientAddr`, when given) opens within `seconds`, it is handed to the protocol `proto` with
 * `context`, without probing.
 */
export interface Expectation {
  proto: string;
  /** The address the connection goes to, as four words (IPv4 as ::ffff:a.b.c.d, as Flow.addr keeps it). */
  serverAddr: Uint32Array;
  serverPort: number;
  /** The address it comes from, or null for any. */
  clientAddr: Uint32Array | null;
  seconds: number;
  context: unknown;
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
  /** Bytes of it are missing (a hole in the stream), as opposed to a file cut at a limit. */
  gaps: boolean;
  /** The carrying transaction's protocol record (`{ http: {...} }`), written into the fileinfo record. */
  metadata?: object;
  /** Whether the file's bytes were kept (only when configured, and the file fits the cap). */
  stored: boolean;
  /** The bytes, when stored: written out by the sensor (never run), not logged. */
  content?: Uint8Array;
  direction: 'to_server' | 'to_client';
  tx_id: number;
}

/** What a protocol session reports back, through the framework, to logs and to rules. */
export interface AppOutput {
  /** Writes the protocol's EVE record (e.g. event_type "http" with an "http" object); common fields are added. */
  record(eventType: string, body: object, dir: number, txId?: number): void;
  /** A transaction reached a point where its buffers for `dir` are complete: rules inspect it now. */
  inspect(tx: AppTransaction, dir: number): void;
  /** Something malformed or evasive in the protocol: an applayer anomaly (and a counter). */
  anomaly(event: string, dir: number): void;
  /** A transferred file. */
  file(info: FileInfo): void;
  /** Whether files' bytes are to be kept, and how many at most. */
  readonly fileStore: { enabled: boolean; maxBytes: number };
  /** The time of the packet being processed (or of the flow's last one at its end), in seconds since the epoch. */
  now(): number;
  /** A connection that will follow (see Expectation). */
  expect(e: Expectation): void;
  /**
   * Hands the rest of the flow to another protocol (STARTTLS: what follows is TLS). Once the
   * current `data` call returns, this session is closed and `proto`'s opened; `carry` holds
   * bytes already received past the switch, per side, delivered to the new session first.
   */
  upgrade(proto: string, carry: readonly [Uint8Array, Uint8Array]): void;
}
