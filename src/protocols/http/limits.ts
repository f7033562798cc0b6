/**
 * The HTTP parser's bounds. Each default is the number Suricata (suricata.yaml.in, app-layer-htp.h)
 * or libhtp (htp_private.h, libhtp-rs config.rs) ships, with its source; the one stand-in says why.
 */
export interface HttpLimits {
  /**
   * Longest line the parser buffers (request line, status line, one header with its folded
   * continuation lines, chunk-size line), line end included. Past it: *_FIELD_TOO_LONG and that
   * direction stops, as libhtp does.
   */
  fieldLimit: number;
  /** Distinct header names per message before *_TOO_MANY_HEADERS (and that direction stops). */
  maxHeaders: number;
  /** Repeated header lines kept per message; later repeats are counted but dropped. */
  maxHeaderRepetitions: number;
  /** Transactions open at once (requests not yet answered) before the request side stops. */
  maxTransactions: number;
  /** Request body bytes kept for inspection (after dechunking and decompression); the rest is counted. */
  requestBodyLimit: number;
  /** Response body bytes kept for inspection (after dechunking and decompression); the rest is counted. */
  responseBodyLimit: number;
  /** Content-Encoding layers decoded; more is TOO_MANY_ENCODING_LAYERS and the extra layers stay encoded. */
  decompressLayerLimit: number;
  /** A body is a compression bomb once it decompresses past this many bytes... */
  compressionBombLimit: number;
  /** ...and more than this many times its compressed size (both must hold, as in libhtp). */
  compressionBombRatio: number;
  /** Decompressed bytes produced per body at most, whatever the ratio: stands in for libhtp's time limit. */
  decompressMaxBytes: number;
  /** Anomaly events reported per connection; then one TOO_MANY_WARNINGS and silence. */
  maxEvents: number;
  /** Client bytes held while a CONNECT waits for its answer; more and the client is taken to be tunnelling. */
  connectPendingMax: number;
}

export const DEFAULT_HTTP_LIMITS: Readonly<HttpLimits> = Object.freeze({
  // Suricata meta-field-limit "Default is 18k" = libhtp HTP_FIELD_LIMIT_HARD 18000 (htp_private.h).
  fieldLimit: 18000,
  // libhtp-rs config.rs number_headers_limit: 1024 (htp_config_set_number_headers_limit).
  maxHeaders: 1024,
  // libhtp-rs process_request_header: repeats counted per message, dropped once 64 are kept.
  maxHeaderRepetitions: 64,
  // libhtp-rs config.rs max_tx: 512 (htp_config_set_max_tx): more open transactions is an error.
  maxTransactions: 512,
  // suricata.yaml.in libhtp default-config: request-body-limit: 100kb (the compiled default is 4096).
  requestBodyLimit: 100 * 1024,
  // suricata.yaml.in libhtp default-config: response-body-limit: 100kb.
  responseBodyLimit: 100 * 1024,
  // suricata.yaml.in: response-body-decompress-layer-limit: 2 (libhtp-rs DEFAULT_LAYER_LIMIT 2).
  decompressLayerLimit: 2,
  // libhtp HTP_COMPRESSION_BOMB_LIMIT 1048576 = Suricata HTP_CONFIG_DEFAULT_COMPRESSION_BOMB_LIMIT.
  compressionBombLimit: 1048576,
  // libhtp HTP_COMPRESSION_BOMB_RATIO 2048 ("deflate max ratio is about 1000", so two layers).
  compressionBombRatio: 2048,
  // libhtp stops after 100 ms decompressing (HTP_CONFIG_DEFAULT_COMPRESSION_TIME_LIMIT 100000 us);
  // a time limit would make results depend on the machine, so a byte count: this inflater makes
  // 80-180 MB/s of its worst case (runs of one byte, inflate.test.ts), so 100 ms is 8 MiB or more.
  decompressMaxBytes: 8 * 1024 * 1024,
  // Suricata app-layer-htp.c HTP_MAX_MESSAGES 512, then HTTP_DECODER_EVENT_TOO_MANY_WARNINGS.
  maxEvents: 512,
  // Outpost's own: Suricata leaves such data unconsumed in the stream (bounded by stream depth);
  // 64 KiB is several TLS client flights, far beyond any pipelined request before a 2xx.
  connectPendingMax: 64 * 1024,
});

/** The defaults with some fields replaced. */
export function httpLimits(overrides: Partial<HttpLimits> = {}): HttpLimits {
  return { ...DEFAULT_HTTP_LIMITS, ...overrides };
}
