import { isIPv6 } from 'node:net';

/**
 * Request URIs as Suricata's http.uri sees them: libhtp's parse (htp_parse_uri), then its
 * normalisation under the IDS personality that suricata.yaml.in selects (libhtp htp_config.c
 * htp_config_set_server_personality(HTP_SERVER_IDS); Suricata's app-layer-htp.c settings):
 *
 * Path (htp_decode_path_inplace, htp_utf8_decode_path_inplace, htp_normalize_uri_path_inplace):
 *  1. every %XX is decoded, reserved or not (%2F too: path-separators-decode is on);
 *  2. %uXXXX is decoded (u-encoding-decode on): %u00XX to XX, others by best fit, else '?';
 *  3. invalid or truncated %-escapes stay as they are (url-encoding-invalid-handling: preserve-percent);
 *  4. a backslash, raw or decoded, becomes '/' (backslash-convert-slashes);
 *  5. runs of '/' become one (path-separators-compress);
 *  6. NUL, raw or encoded, is kept (nul-*-terminates off);
 *  7. UTF-8 sequences (overlong forms allowed) become one byte by best fit, invalid ones '?';
 *  8. "." and ".." segments are removed (RFC 3986 5.2.4, libhtp's reading of it);
 *  9. case is kept: IDS would lowercase, Suricata turns that off ("Signatures do not expect this").
 * Query: %XX decoded (not %u, not '+': Suricata sets plusspace-decode off), invalid escapes kept.
 * Fragment: decoded as the path's escapes (steps 2, 3) without the path rules.
 * The normalised URI is path, "?query", "#fragment": scheme, credentials, host and port are left
 * out (uri-include-all: false, Suricata's default). Double decoding is off (double-decode-path
 * and double-decode-query: no), so DOUBLE_ENCODED_URI is never raised.
 */

/** A URI split as libhtp does, making no attempt to validate the parts. */
export interface UriParts {
  scheme: Uint8Array | null;
  username: Uint8Array | null;
  password: Uint8Array | null;
  hostname: Uint8Array | null;
  port: Uint8Array | null;
  path: Uint8Array | null;
  query: Uint8Array | null;
  fragment: Uint8Array | null;
}

/** What decoding noticed (libhtp's HTP_PATH_* and HTP_URLEN_* flags): evidence of evasion. */
export interface UriFlags {
  encodedSeparator: boolean;
  invalidEncoding: boolean;
  encodedNul: boolean;
  rawNul: boolean;
  overlongU: boolean;
  halfFullRange: boolean;
  utf8Valid: boolean;
  utf8Invalid: boolean;
  utf8Overlong: boolean;
}

export function emptyUriFlags(): UriFlags {
  return {
    encodedSeparator: false,
    invalidEncoding: false,
    encodedNul: false,
    rawNul: false,
    overlongU: false,
    halfFullRange: false,
    utf8Valid: false,
    utf8Invalid: false,
    utf8Overlong: false,
  };
}

/**
 * A copy of bytes. Never `.slice()` on bytes that came from outside: a Node Buffer's slice is a
 * view, so a kept "copy" would change when the capture reader reuses its buffer.
 */
export function copyBytes(data: Uint8Array, start = 0, end = data.length): Uint8Array {
  return Uint8Array.prototype.slice.call(data, start, end);
}

const SLASH = 0x2f;
const BACKSLASH = 0x5c;
const PERCENT = 0x25;
const REPLACEMENT = 0x3f; // '?': libhtp's bestfit_replacement_byte

function indexOf(data: Uint8Array, byte: number, from: number, to: number): number {
  for (let i = from; i < to; i++) if (data[i] === byte) return i;
  return -1;
}

/** htp_parse_uri: scheme (when it does not start with '/'), authority (after "//"), path, query, fragment. */
export function parseUri(input: Uint8Array | null): UriParts {
  const u: UriParts = { scheme: null, username: null, password: null, hostname: null, port: null, path: null, query: null, fragment: null };
  if (input === null || input.length === 0) return u;
  const data = input;
  const len = data.length;
  let pos = 0;
  if (data[0] !== SLASH) {
    const colon = indexOf(data, 0x3a, 0, len);
    if (colon >= 0) {
      u.scheme = copyBytes(data, 0, colon);
      pos = colon + 1;
    }
  }
  // Authority only after a scheme, and only with exactly two slashes.
  if (u.scheme !== null && pos + 2 < len && data[pos] === SLASH && data[pos + 1] === SLASH && data[pos + 2] !== SLASH) {
    const start = pos + 2;
    pos = start;
    while (pos < len && data[pos] !== 0x3f && data[pos] !== SLASH && data[pos] !== 0x23) pos++;
    let hostStart = start;
    const at = indexOf(data, 0x40, start, pos);
    if (at >= 0) {
      const colon = indexOf(data, 0x3a, start, at);
      if (colon >= 0) {
        u.username = copyBytes(data, start, colon);
        u.password = copyBytes(data, colon + 1, at);
      } else {
        u.username = copyBytes(data, start, at);
      }
      hostStart = at + 1;
    }
    if (hostStart < pos && data[hostStart] === 0x5b) {
      const close = indexOf(data, 0x5d, hostStart, pos);
      if (close < 0) {
        u.hostname = copyBytes(data, hostStart, pos);
      } else {
        u.hostname = copyBytes(data, hostStart, close + 1);
        const colon = indexOf(data, 0x3a, close + 1, pos);
        if (colon >= 0) u.port = copyBytes(data, colon + 1, pos);
      }
    } else {
      const colon = indexOf(data, 0x3a, hostStart, pos);
      if (colon >= 0) {
        u.port = copyBytes(data, colon + 1, pos);
        u.hostname = copyBytes(data, hostStart, colon);
      } else {
        u.hostname = copyBytes(data, hostStart, pos);
      }
    }
  }
  const pathStart = pos;
  while (pos < len && data[pos] !== 0x3f && data[pos] !== 0x23) pos++;
  u.path = copyBytes(data, pathStart, pos);
  if (pos === len) return u;
  if (data[pos] === 0x3f) {
    const qs = pos + 1;
    while (pos < len && data[pos] !== 0x23) pos++;
    u.query = copyBytes(data, qs, pos);
    if (pos === len) return u;
  }
  u.fragment = copyBytes(data, pos + 1);
  return u;
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));
}

function hexValue(c: number): number {
  return c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10;
}

function x2c(data: Uint8Array, at: number): number {
  return hexValue(data[at]!) * 16 + hexValue(data[at + 1]!);
}

/**
 * Best-fit of a Unicode code point to one byte, standing in for libhtp's bestfit_1252 table
 * (Windows' best fit to code page 1252): Latin letters with diacritics fold to their base letter
 * (Unicode's compatibility decomposition), full-width ASCII to ASCII, and the look-alike
 * punctuation, digits and Greek letters below to what the table maps them to. Everything else is
 * '?'. It differs from the table for a few rare letters (e.g. U+017F, U+0132 fold here, not there).
 */
const BESTFIT_PAIRS: ReadonlyArray<readonly [number, string]> = [
  [0x0111, 'd'], [0x0126, 'H'], [0x0127, 'h'], [0x0131, 'i'], [0x0141, 'L'], [0x0142, 'l'], [0x0166, 'T'], [0x0167, 't'],
  [0x0180, 'b'], [0x0197, 'I'], [0x019a, 'l'], [0x019f, 'O'], [0x01ab, 't'], [0x01ae, 'T'], [0x01b6, 'z'], [0x01c0, '|'],
  [0x01c3, '!'], [0x01e4, 'G'], [0x01e5, 'g'], [0x0261, 'g'], [0x02b9, "'"], [0x02ba, '"'], [0x02bc, "'"], [0x02c4, '^'],
  [0x02c8, "'"], [0x02cb, '`'], [0x02cd, '_'], [0x0300, '`'], [0x0302, '^'], [0x0303, '~'], [0x030e, '"'], [0x0331, '_'],
  [0x0332, '_'], [0x037e, ';'], [0x0393, 'G'], [0x0398, 'T'], [0x03a3, 'S'], [0x03a6, 'F'], [0x03a9, 'O'], [0x03b1, 'a'],
  [0x03b4, 'd'], [0x03b5, 'e'], [0x03c0, 'p'], [0x03c3, 's'], [0x03c4, 't'], [0x03c6, 'f'], [0x04bb, 'h'], [0x0589, ':'],
  [0x066a, '%'], [0x2000, ' '], [0x2001, ' '], [0x2002, ' '], [0x2003, ' '], [0x2004, ' '], [0x2005, ' '], [0x2006, ' '],
  [0x2010, '-'], [0x2011, '-'], [0x2017, '='], [0x2032, "'"], [0x2035, '`'], [0x2044, '/'], [0x2074, '4'], [0x2075, '5'],
  [0x2076, '6'], [0x2077, '7'], [0x2078, '8'], [0x207f, 'n'], [0x2080, '0'], [0x2081, '1'], [0x2082, '2'], [0x2083, '3'],
  [0x2084, '4'], [0x2085, '5'], [0x2086, '6'], [0x2087, '7'], [0x2088, '8'], [0x2089, '9'], [0x20a7, 'P'], [0x2102, 'C'],
  [0x2107, 'E'], [0x210a, 'g'], [0x210b, 'H'], [0x210c, 'H'], [0x210d, 'H'], [0x210e, 'h'], [0x2110, 'I'], [0x2111, 'I'],
  [0x2112, 'L'], [0x2113, 'l'], [0x2115, 'N'], [0x2118, 'P'], [0x2119, 'P'], [0x211a, 'Q'], [0x211b, 'R'], [0x211c, 'R'],
  [0x211d, 'R'], [0x2124, 'Z'], [0x2128, 'Z'], [0x212a, 'K'], [0x212c, 'B'], [0x212d, 'C'], [0x212e, 'e'], [0x212f, 'e'],
  [0x2130, 'E'], [0x2131, 'F'], [0x2133, 'M'], [0x2134, 'o'], [0x2212, '-'], [0x2215, '/'], [0x2216, '\\'], [0x2217, '*'],
  [0x221a, 'v'], [0x221e, '8'], [0x2223, '|'], [0x2229, 'n'], [0x2236, ':'], [0x223c, '~'], [0x2261, '='], [0x2264, '='],
  [0x2265, '='], [0x2303, '^'], [0x2320, '('], [0x2321, ')'], [0x2329, '<'], [0x232a, '>'], [0x2500, '-'], [0x250c, '+'],
  [0x2510, '+'], [0x2514, '+'], [0x2518, '+'], [0x251c, '+'], [0x252c, '-'], [0x2534, '-'], [0x253c, '+'], [0x2550, '-'],
  [0x2584, '_'], [0x2758, '|'], [0x3000, ' '], [0x3008, '<'], [0x3009, '>'], [0x301a, '['], [0x301b, ']'],
];
const BESTFIT_EXTRA: ReadonlyMap<number, number> = new Map(BESTFIT_PAIRS.map(([cp, ch]) => [cp, ch.charCodeAt(0)]));

export function bestfit(codepoint: number): number {
  if (codepoint < 0x100) return codepoint;
  if (codepoint > 0xffff) return REPLACEMENT;
  if (codepoint >= 0xff01 && codepoint <= 0xff5e) return codepoint - 0xfee0;
  const extra = BESTFIT_EXTRA.get(codepoint);
  if (extra !== undefined) return extra;
  if (codepoint <= 0x024f) {
    const base = String.fromCharCode(codepoint).normalize('NFKD').charCodeAt(0);
    if ((base >= 0x41 && base <= 0x5a) || (base >= 0x61 && base <= 0x7a)) return base;
  }
  return REPLACEMENT;
}

/** A %uXXXX escape (libhtp decode_u_encoding_path/_params): %u00XX is XX (overlong), others by best fit. */
function decodeU(data: Uint8Array, at: number, flags: UriFlags): number {
  const c1 = x2c(data, at);
  const c2 = x2c(data, at + 2);
  if (c1 === 0) {
    flags.overlongU = true;
    return c2;
  }
  if (c1 === 0xff) flags.halfFullRange = true;
  return bestfit((c1 << 8) | c2);
}

/** Steps 1-6 of the path rules (htp_decode_path_inplace, IDS personality). */
export function decodePath(path: Uint8Array, flags: UriFlags): Uint8Array {
  const len = path.length;
  const out = new Uint8Array(len);
  let w = 0;
  let r = 0;
  let previousSeparator = false;
  while (r < len) {
    let c = path[r]!;
    if (c === PERCENT) {
      if (r + 2 < len) {
        let handled = false;
        if (path[r + 1] === 0x75 || path[r + 1] === 0x55) {
          handled = true;
          if (r + 5 < len && isHex(path[r + 2]) && isHex(path[r + 3]) && isHex(path[r + 4]) && isHex(path[r + 5])) {
            c = decodeU(path, r + 2, flags);
            r += 6;
            if (c === 0) flags.encodedNul = true;
            if (c === SLASH || c === BACKSLASH) flags.encodedSeparator = true;
          } else {
            flags.invalidEncoding = true;
            r++;
          }
        }
        if (!handled) {
          if (isHex(path[r + 1]) && isHex(path[r + 2])) {
            c = x2c(path, r + 1);
            if (c === 0) flags.encodedNul = true;
            if (c === SLASH || c === BACKSLASH) flags.encodedSeparator = true;
            r += 3;
          } else {
            flags.invalidEncoding = true;
            r++;
          }
        }
      } else {
        flags.invalidEncoding = true;
        r++;
      }
    } else {
      if (c === 0) flags.rawNul = true;
      r++;
    }
    if (c === BACKSLASH) c = SLASH;
    if (c === SLASH) {
      if (!previousSeparator) out[w++] = c;
      previousSeparator = true;
    } else {
      out[w++] = c;
      previousSeparator = false;
    }
  }
  return copyBytes(out, 0, w);
}

/**
 * Step 7 (htp_utf8_decode_path_inplace with Hoehrmann's decoder, overlong forms allowed): each
 * valid sequence becomes its best-fit byte, each invalid one '?', and a sequence cut off by the
 * end of the path is dropped, as libhtp does.
 */
export function utf8BestfitPath(path: Uint8Array, flags: UriFlags): Uint8Array {
  const out = new Uint8Array(path.length);
  let w = 0;
  let r = 0;
  let need = 0;
  let cp = 0;
  let count = 0;
  let lo = 0x80;
  let hi = 0xbf;
  let seenValid = false;
  while (r < path.length) {
    const b = path[r]!;
    if (need === 0) {
      if (b < 0x80) {
        out[w++] = b;
        r++;
        continue;
      }
      lo = 0x80;
      hi = 0xbf;
      if (b >= 0xc0 && b <= 0xdf) {
        need = 1;
        cp = b & 0x1f;
      } else if (b >= 0xe0 && b <= 0xef) {
        need = 2;
        cp = b & 0x0f;
        if (b === 0xed) hi = 0x9f; // no UTF-16 surrogates
      } else if (b >= 0xf0 && b <= 0xf3) {
        need = 3;
        cp = b & 0x07;
      } else if (b === 0xf4) {
        need = 3;
        cp = 4;
        hi = 0x8f; // nothing past U+10FFFF
      } else {
        flags.utf8Invalid = true;
        out[w++] = REPLACEMENT;
        r++;
        continue;
      }
      count = 1;
      r++;
      continue;
    }
    if (b >= lo && b <= hi) {
      cp = (cp << 6) | (b & 0x3f);
      count++;
      r++;
      need--;
      lo = 0x80;
      hi = 0xbf;
      if (need === 0) {
        seenValid = true;
        if ((count === 2 && cp < 0x80) || (count === 3 && cp < 0x800) || (count === 4 && cp < 0x10000)) flags.utf8Overlong = true;
        if (cp >= 0xff00 && cp <= 0xffef) flags.halfFullRange = true;
        out[w++] = bestfit(cp);
      }
      continue;
    }
    // Not a continuation byte: the sequence is invalid and this byte starts the next one.
    flags.utf8Invalid = true;
    out[w++] = REPLACEMENT;
    need = 0;
  }
  if (seenValid && !flags.utf8Invalid) flags.utf8Valid = true;
  return copyBytes(out, 0, w);
}

/** Step 8: remove "." and ".." segments, a faithful port of libhtp's htp_normalize_uri_path_inplace. */
export function removeDotSegments(path: Uint8Array): Uint8Array {
  const data = copyBytes(path);
  const len = data.length;
  let r = 0;
  let w = 0;
  let c = -1;
  const DOT = 0x2e;
  while (r < len && w < len) {
    if (c === -1) c = data[r++]!;
    // A: a prefix "../" or "./" is removed.
    if (c === DOT) {
      if (r + 1 < len && data[r] === DOT && data[r + 1] === SLASH) {
        c = -1;
        r += 2;
        continue;
      } else if (r < len && data[r] === SLASH) {
        c = -1;
        r += 1;
        continue;
      }
    }
    if (c === SLASH) {
      // B: "/./" or a final "/." becomes "/".
      if (r + 1 < len && data[r] === DOT && data[r + 1] === SLASH) {
        r += 2;
        continue;
      } else if (r + 1 === len && data[r] === DOT) {
        r += 1;
        continue;
      }
      // C: "/../" or a final "/.." becomes "/" and the last output segment goes.
      if (r + 2 < len && data[r] === DOT && data[r + 1] === DOT && data[r + 2] === SLASH) {
        r += 3;
        while (w > 0 && data[w - 1] !== SLASH) w--;
        if (w > 0) w--;
        continue;
      } else if (r + 2 === len && data[r] === DOT && data[r + 1] === DOT) {
        r += 2;
        while (w > 0 && data[w - 1] !== SLASH) w--;
        if (w > 0) w--;
        continue;
      }
    }
    // D: a lone "." or ".." is removed.
    if (c === DOT && r === len) {
      r++;
      continue;
    }
    if (c === DOT && r + 1 === len && data[r] === DOT) {
      r += 2;
      continue;
    }
    // E: move the first segment (with its leading '/') to the output.
    data[w++] = c;
    while (r < len && data[r] !== SLASH && w < len) data[w++] = data[r++]!;
    c = -1;
  }
  // As in libhtp, a '/' still pending from B or C when the input ends is dropped: "/a/.." is "".
  return copyBytes(data, 0, w);
}

/**
 * htp_urldecode_inplace: %XX decoded, %uXXXX too when `uEncoding`, invalid escapes kept; '+' is
 * left alone (Suricata: plusspace-decode off).
 */
export function urlDecode(data: Uint8Array, uEncoding: boolean, flags: UriFlags): Uint8Array {
  const len = data.length;
  const out = new Uint8Array(len);
  let w = 0;
  let r = 0;
  while (r < len) {
    let c = data[r]!;
    if (c === PERCENT) {
      if (r + 2 < len) {
        let handled = false;
        if (uEncoding && (data[r + 1] === 0x75 || data[r + 1] === 0x55)) {
          handled = true;
          if (r + 5 < len && isHex(data[r + 2]) && isHex(data[r + 3]) && isHex(data[r + 4]) && isHex(data[r + 5])) {
            c = decodeU(data, r + 2, flags);
            r += 6;
          } else {
            flags.invalidEncoding = true;
            r++;
          }
        }
        if (!handled) {
          if (isHex(data[r + 1]) && isHex(data[r + 2])) {
            c = x2c(data, r + 1);
            r += 3;
          } else {
            flags.invalidEncoding = true;
            r++;
          }
        }
      } else {
        flags.invalidEncoding = true;
        r++;
      }
      if (c === 0) flags.encodedNul = true;
    } else {
      if (c === 0) flags.rawNul = true;
      r++;
    }
    out[w++] = c;
  }
  return copyBytes(out, 0, w);
}

/** The normalised path: decoding, best fit, then dot segments. */
export function normalizePath(path: Uint8Array, flags: UriFlags): Uint8Array {
  return removeDotSegments(utf8BestfitPath(decodePath(path, flags), flags));
}

function lowercase(data: Uint8Array): Uint8Array {
  const out = copyBytes(data);
  for (let i = 0; i < out.length; i++) if (out[i]! >= 0x41 && out[i]! <= 0x5a) out[i]! += 32;
  return out;
}

/** htp_normalize_hostname_inplace: lowercase, trailing dots removed. */
export function normalizeHostname(hostname: Uint8Array): Uint8Array {
  let end = hostname.length;
  while (end > 0 && hostname[end - 1] === 0x2e) end--;
  return lowercase(hostname.subarray(0, end));
}

/** htp_validate_hostname: a bracketed IPv6 address, or dot-separated labels of letters, digits, '-' and '_' (1-63 each, 255 in all). */
export function validHostname(hostname: Uint8Array): boolean {
  const len = hostname.length;
  if (len === 0 || len > 255) return false;
  if (hostname[0] === 0x5b) {
    if (len < 2 || hostname[len - 1] !== 0x5d) return false;
    const inner = String.fromCharCode(...hostname.subarray(1, len - 1));
    return !inner.includes('%') && isIPv6(inner);
  }
  let pos = 0;
  while (pos < len) {
    const start = pos;
    while (pos < len && hostname[pos] !== 0x2e) {
      const c = hostname[pos]!;
      const ok = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f;
      if (!ok) return false;
      pos++;
    }
    if (pos - start === 0 || pos - start > 63) return false;
    if (pos >= len) return true;
    const dots = pos;
    while (pos < len && hostname[pos] === 0x2e) pos++;
    if (pos - dots !== 1) return false;
  }
  return true;
}

function isLws(c: number | undefined): boolean {
  return c === 0x20 || c === 0x09;
}

function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0b || c === 0x0c || c === 0x0d;
}

/**
 * htp_parse_positive_integer_whitespace in base 10: digits with optional SP/HT around them, or
 * -1. Capped at 2^53 - 1, past which a JavaScript number is no longer exact.
 */
export function parseDecimal(data: Uint8Array): number {
  let pos = 0;
  const len = data.length;
  while (pos < len && isLws(data[pos])) pos++;
  const start = pos;
  let v = 0;
  while (pos < len && data[pos]! >= 0x30 && data[pos]! <= 0x39) {
    v = v * 10 + (data[pos]! - 0x30);
    if (v > Number.MAX_SAFE_INTEGER) return -1;
    pos++;
  }
  if (pos === start) return -1;
  while (pos < len) if (!isLws(data[pos++])) return -1;
  return v;
}

function parsePort(data: Uint8Array): number | null {
  const p = parseDecimal(data);
  return p > 0 && p < 65536 ? p : null;
}

/** An authority (Host header value, CONNECT target) split as libhtp's htp_parse_hostport. */
export interface HostPort {
  /** Lowercased; null when there is no usable host at all. */
  hostname: Uint8Array | null;
  port: Uint8Array | null;
  portNumber: number | null;
  /** Empty, bad brackets, bad port, or a hostname that fails validHostname. */
  invalid: boolean;
}

export function parseHostPort(value: Uint8Array): HostPort {
  let start = 0;
  let end = value.length;
  while (start < end && isSpace(value[start])) start++;
  while (end > start && isSpace(value[end - 1])) end--;
  const data = value.subarray(start, end);
  const r: HostPort = { hostname: null, port: null, portNumber: null, invalid: false };
  if (data.length === 0) {
    r.invalid = true;
    return r;
  }
  if (data[0] === 0x5b) {
    const close = indexOf(data, 0x5d, 0, data.length);
    if (close < 0) {
      r.invalid = true;
      return r;
    }
    r.hostname = lowercase(data.subarray(0, close + 1));
    if (close + 1 < data.length) {
      if (data[close + 1] === 0x3a) {
        r.port = copyBytes(data, close + 2);
        r.portNumber = parsePort(r.port);
        if (r.portNumber === null) r.invalid = true;
      } else {
        r.invalid = true;
      }
    }
  } else {
    const colon = indexOf(data, 0x3a, 0, data.length);
    if (colon < 0) {
      r.hostname = lowercase(data);
    } else {
      let hostEnd = colon;
      while (hostEnd > 0 && isSpace(data[hostEnd - 1])) hostEnd--;
      r.hostname = lowercase(data.subarray(0, hostEnd));
      r.port = copyBytes(data, colon + 1);
      r.portNumber = parsePort(r.port);
      if (r.portNumber === null) r.invalid = true;
    }
  }
  if (r.hostname !== null && !validHostname(r.hostname)) r.invalid = true;
  return r;
}

/** A request URI normalised for http.uri, with what decoding noticed. */
export interface NormalizedUri {
  parts: UriParts;
  /** path + "?" query + "#" fragment, decoded; empty when the URI has none (CONNECT, "*"-less authority). */
  normalized: Uint8Array;
  /** The host the URI names (normalised), when it is absolute or a CONNECT authority. */
  hostname: Uint8Array | null;
  portNumber: number | null;
  /** The URI's host or port is malformed (REQUEST_URI_HOST_INVALID). */
  hostInvalid: boolean;
  flags: UriFlags;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Parses and normalises a request URI; `connect` reads it as an authority (CONNECT host:port). */
export function normalizeUri(raw: Uint8Array | null, connect: boolean): NormalizedUri {
  const flags = emptyUriFlags();
  if (connect) {
    const hp = parseHostPort(raw ?? new Uint8Array(0));
    const parts: UriParts = { scheme: null, username: null, password: null, hostname: hp.hostname, port: hp.port, path: null, query: null, fragment: null };
    const hostname = hp.hostname === null ? null : normalizeHostname(urlDecode(hp.hostname, true, flags));
    return { parts, normalized: new Uint8Array(0), hostname, portNumber: hp.portNumber, hostInvalid: hp.invalid || (hostname !== null && !validHostname(hostname)), flags };
  }
  const parts = parseUri(raw);
  const pieces: Uint8Array[] = [];
  if (parts.path !== null) pieces.push(normalizePath(parts.path, flags));
  if (parts.query !== null) pieces.push(Uint8Array.of(0x3f), urlDecode(parts.query, false, flags));
  if (parts.fragment !== null) pieces.push(Uint8Array.of(0x23), urlDecode(parts.fragment, true, flags));
  let hostname: Uint8Array | null = null;
  let portNumber: number | null = null;
  let hostInvalid = false;
  if (parts.hostname !== null) {
    hostname = normalizeHostname(urlDecode(parts.hostname, true, flags));
    if (!validHostname(hostname)) hostInvalid = true;
  }
  if (parts.port !== null) {
    portNumber = parsePort(parts.port);
    if (portNumber === null) hostInvalid = true;
  }
  return { parts, normalized: concat(pieces), hostname, portNumber, hostInvalid, flags };
}
