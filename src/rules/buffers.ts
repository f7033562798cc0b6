/**
 * The application buffers rules may inspect, as Suricata names them: which protocol provides
 * each, which side of a transaction it comes from, and the older spellings that reach it (Snort 2
 * content modifiers such as `http_uri`, Suricata 4 sticky names such as `dns_query`, pcre's
 * buffer letters). The protocols (src/protocols/<name>/buffers.ts) fill these buffers; rules only
 * know them by name.
 */

/** Where a buffer's bytes come from: the client's side of a transaction, the server's, or either (the one being inspected). */
export type BufferDirection = 'to_server' | 'to_client' | 'both';

export interface BufferSpec {
  /** The Suricata sticky buffer name. */
  name: string;
  /** The application protocol (EVE app_proto) that provides it. */
  proto: string;
  dir: BufferDirection;
  /** One value per item (a DNS query per question, a TLS certificate per chain entry): a rule matches when one item does. */
  multi?: boolean;
  /** What it holds, in one line, for `outpost rules keywords`. */
  summary: string;
  /** Other sticky names for it (Suricata 4 underscored names, Snort 3 buffers). */
  aliases?: string[];
  /**
   * The Snort 2 / Suricata content modifier that moves the last content into it (sticky in Snort 3
   * rules). The buffers Suricata added later have underscored sticky names (aliases) instead.
   */
  modifier?: string;
  /** pcre's buffer letter (Snort 2 / Suricata: /U for the URI, ...). */
  pcre?: string;
  /** Read by a keyword (tls.version), not named as a sticky buffer. */
  internal?: true;
}

const http = (name: string, dir: BufferDirection, summary: string, more: Partial<BufferSpec> = {}): BufferSpec => ({ name, proto: 'http', dir, summary, ...more });

export const BUFFERS: readonly BufferSpec[] = [
  http('http.uri', 'to_server', 'The request URI, normalized (percent-decoding of unreserved characters, path normalization).', { modifier: 'http_uri', pcre: 'U' }),
  http('http.uri.raw', 'to_server', 'The request URI as sent.', { modifier: 'http_raw_uri', pcre: 'I' }),
  http('http.method', 'to_server', 'The request method.', { modifier: 'http_method', pcre: 'M' }),
  http('http.host', 'to_server', 'The Host header value, lowercased, without its port (or the host of an absolute URI).', { modifier: 'http_host', pcre: 'W' }),
  http('http.host.raw', 'to_server', 'The Host header value as sent.', { modifier: 'http_raw_host', pcre: 'Z' }),
  http('http.header', 'both', 'The headers, normalized: "Name: value\\r\\n" each, without the Cookie and Set-Cookie headers.', { modifier: 'http_header', pcre: 'H' }),
  http('http.header.raw', 'both', 'The header block as sent.', { modifier: 'http_raw_header', pcre: 'D' }),
  http('http.header_names', 'both', 'The header names in order, as "\\r\\nName1\\r\\nName2\\r\\n\\r\\n".', { aliases: ['http_header_names'] }),
  http('http.user_agent', 'to_server', 'The User-Agent header value.', { modifier: 'http_user_agent', pcre: 'V' }),
  http('http.cookie', 'both', 'The Cookie (request) or Set-Cookie (response) header value.', { modifier: 'http_cookie', pcre: 'C' }),
  http('http.referer', 'to_server', 'The Referer header value.', { aliases: ['http_referer'] }),
  http('http.accept', 'to_server', 'The Accept header value.', { aliases: ['http_accept'] }),
  http('http.accept_enc', 'to_server', 'The Accept-Encoding header value.', { aliases: ['http_accept_enc'] }),
  http('http.accept_lang', 'to_server', 'The Accept-Language header value.', { aliases: ['http_accept_lang'] }),
  http('http.connection', 'both', 'The Connection header value.', { aliases: ['http_connection'] }),
  http('http.content_type', 'both', 'The Content-Type header value.', { aliases: ['http_content_type'] }),
  http('http.content_len', 'both', 'The Content-Length header value.', { aliases: ['http_content_len'] }),
  http('http.location', 'to_client', 'The Location header value.', { aliases: ['http_location'] }),
  http('http.server', 'to_client', 'The Server header value.', { aliases: ['http_server'] }),
  http('http.request_line', 'to_server', 'The request line, without its line end.', { aliases: ['http_request_line'] }),
  http('http.response_line', 'to_client', 'The status line, without its line end.', { aliases: ['http_response_line'] }),
  http('http.start', 'both', 'The start line, then the headers normalized ("Name: value\\r\\n" each), then "\\r\\n".', { aliases: ['http_start'] }),
  http('http.protocol', 'both', 'The protocol of the start line ("HTTP/1.1").', { aliases: ['http_protocol'] }),
  http('http.stat_code', 'to_client', 'The status code, three digits.', { modifier: 'http_stat_code', pcre: 'S' }),
  http('http.stat_msg', 'to_client', 'The status message.', { modifier: 'http_stat_msg', pcre: 'Y' }),
  http('http.request_body', 'to_server', 'The request body, de-chunked (as far as it is kept).', { modifier: 'http_client_body', pcre: 'P' }),
  http('http.response_body', 'to_client', 'The response body, de-chunked and decompressed (as far as it is kept).', { modifier: 'http_server_body', pcre: 'Q' }),
  http('file.data', 'both', 'A file\'s bytes: the HTTP body of the side inspected, de-chunked and decompressed.', { aliases: ['file_data'] }),

  { name: 'dns.query', proto: 'dns', dir: 'to_server', multi: true, summary: 'Each query name, dotted ("www.example.com").', aliases: ['dns_query'] },
  { name: 'dns.queries.rrname', proto: 'dns', dir: 'both', multi: true, summary: 'Each question\'s name, in queries and in responses.' },
  { name: 'dns.answer.name', proto: 'dns', dir: 'to_client', multi: true, summary: 'Each answer record\'s name.' },

  { name: 'tls.sni', proto: 'tls', dir: 'to_server', summary: 'The server name the ClientHello asks for.', aliases: ['tls_sni'] },
  { name: 'tls.cert_subject', proto: 'tls', dir: 'to_client', summary: 'The server certificate\'s subject, as OpenSSL prints it ("C=US, O=..., CN=...").', aliases: ['tls_cert_subject'] },
  { name: 'tls.cert_issuer', proto: 'tls', dir: 'to_client', summary: 'The server certificate\'s issuer.', aliases: ['tls_cert_issuer'] },
  { name: 'tls.cert_serial', proto: 'tls', dir: 'to_client', summary: 'The server certificate\'s serial, as colon-separated hex ("00:A1:...").', aliases: ['tls_cert_serial'] },
  { name: 'tls.cert_fingerprint', proto: 'tls', dir: 'to_client', summary: 'The server certificate\'s SHA-1 fingerprint, as colon-separated lowercase hex.', aliases: ['tls_cert_fingerprint'] },
  { name: 'tls.certs', proto: 'tls', dir: 'to_client', multi: true, summary: 'Each certificate of the chain, DER.' },
  { name: 'ja3.hash', proto: 'tls', dir: 'to_server', summary: 'The ClientHello\'s JA3 hash (32 hex digits).', aliases: ['ja3_hash'] },
  { name: 'ja3.string', proto: 'tls', dir: 'to_server', summary: 'The ClientHello\'s JA3 string.', aliases: ['ja3_string'] },
  { name: 'ja3s.hash', proto: 'tls', dir: 'to_client', summary: 'The ServerHello\'s JA3S hash.', aliases: ['ja3s_hash'] },
  { name: 'ja3s.string', proto: 'tls', dir: 'to_client', summary: 'The ServerHello\'s JA3S string.', aliases: ['ja3s_string'] },

  { name: 'tls.version', proto: 'tls', dir: 'both', internal: true, summary: 'The version as two bytes: the ServerHello\'s, or the ClientHello\'s before one.' },

  { name: 'ftp.command', proto: 'ftp', dir: 'to_server', summary: 'The FTP command verb ("STOR", "RETR").' },
  { name: 'ftp.command_data', proto: 'ftp', dir: 'to_server', summary: 'The FTP command\'s argument.' },

  { name: 'file.name', proto: '', dir: 'both', summary: 'A transferred file\'s name (HTTP URI path, FTP or TFTP file name).' },
];

/** Buffers by every sticky name they answer to. */
export const BUFFERS_BY_NAME: ReadonlyMap<string, BufferSpec> = new Map(BUFFERS.flatMap((b) => [b.name, ...(b.aliases ?? [])].map((n) => [n, b] as const)));

/** Application protocols Outpost follows, with the other names rule headers and keywords use for them. */
export const APP_PROTOCOL_NAMES: ReadonlyMap<string, string> = new Map([
  ['http', 'http'],
  ['http1', 'http'],
  ['dns', 'dns'],
  ['tls', 'tls'],
  ['ssl', 'tls'],
  ['irc', 'irc'],
  ['ftp', 'ftp'],
  ['ftp-data', 'ftp-data'],
  ['tftp', 'tftp'],
]);

/** Application protocols a rule header may name that Outpost does not analyze. */
export const UNANALYZED_APP_PROTOCOLS: ReadonlySet<string> = new Set([
  'http2', 'smtp', 'ssh', 'smb', 'dcerpc', 'dhcp', 'ntp', 'krb5', 'ikev2', 'snmp',
  'sip', 'rfb', 'mqtt', 'rdp', 'nfs', 'imap', 'pop3', 'modbus', 'dnp3', 'enip', 'quic', 'doh2', 'ldap', 'bittorrent-dht', 'telnet', 'file', 'websocket', 'pgsql',
]);

/**
 * A transaction as rules see it: its buffers by name, per side. The protocols' transactions
 * (src/protocols/app.ts AppTransaction) are these.
 */
export interface InspectableTx {
  /** Per flow, from 0, in the order the transactions started. */
  readonly id: number;
  /** A single-valued buffer of one side (0 request, 1 response), or null when the transaction has none (yet). */
  buffer(name: string, side: number): Uint8Array | null;
  /** A multi-valued buffer's items (dns.query, tls.certs), or null. */
  buffers?(name: string, side: number): readonly Uint8Array[] | null;
  /** What an alert on this transaction shows of it: the protocol's EVE object under its name ({ http: {...} }). */
  alertMetadata?(): Record<string, unknown> | null;
}
