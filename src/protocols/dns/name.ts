/**
 * DNS names (RFC 1035 4.1.4): labels, compression pointers, and the defensive limits Suricata's
 * Rust parser (rust/src/dns/parser.rs, `dns_parse_name`) applies, with the same numbers and the
 * same outcomes, so that the names, the truncation flags and the events match Suricata's.
 */

/**
 * Longest name kept, in bytes of dotted text: 1025, Suricata's MAX_NAME_LEN, "what dnsmasq uses"
 * (most tools stop at 255). A longer name is cut there and flagged truncated (NAME_TOO_LONG).
 */
export const MAX_NAME_LEN = 1025;

/**
 * Labels plus pointers followed per name: 255, Suricata's segment cap, "our safeguard against an
 * infinite loop": every step of the loop counts, so a pointer cycle ends here (TOO_MANY_LABELS).
 */
export const MAX_NAME_SEGMENTS = 255;

/** What reading a name noticed, as Suricata's DNSNameFlags (merged into the message's events). */
export const NameFlag = {
  /** A pointer pointed at itself. */
  INFINITE_LOOP: 1,
  /** The name was cut: longer than MAX_NAME_LEN, or more than MAX_NAME_SEGMENTS after a pointer. */
  TRUNCATED: 2,
  /** More than MAX_NAME_SEGMENTS labels and pointers. */
  LABEL_LIMIT: 4,
} as const;

/** A decoded domain name. */
export interface DnsName {
  /**
   * The labels joined with '.', as bytes: what Suricata's `dns.query` buffer holds and its EVE
   * `rrname` prints. The root name is empty. A '.' inside a label is not escaped (as in Suricata).
   */
  readonly bytes: Uint8Array;
  /**
   * The name as Suricata's EVE writes it (JsonBuilder::set_string_from_bytes): the bytes as UTF-8
   * when they are valid UTF-8; otherwise bytes below 0x80 as they are and each other byte as the
   * four characters `\xNN`. Control characters stay as they are (JSON escapes them on output).
   * The root name is "" (Suricata prints no `<root>`).
   */
  readonly text: string;
  /** Cut short (Suricata's `rrname_truncated`, `rdata_truncated`, `mname_truncated`...). */
  readonly truncated: boolean;
}

/** The outcome of reading one name. */
export interface NameRead {
  /** The name, or null when it could not be read (the message is then malformed there). */
  name: DnsName | null;
  /** Where the data after the name starts (after the first pointer, when one was followed); where reading failed, on error. */
  next: number;
  /** NameFlag bits. */
  flags: number;
  /** Why the name could not be read, or null. */
  error: string | null;
}

/** Scratch for the name being built: at most MAX_NAME_LEN plus one '.' and one 63-byte label before it is cut. */
const scratch = new Uint8Array(MAX_NAME_LEN + 1 + 63);

/**
 * Reads the name at `pos`. The message spans [msgStart, msgEnd) of `buf` (pointers are offsets
 * from msgStart); until a pointer is followed the name must lie within [pos, end), the record's
 * data for a name inside RDATA. Never throws; the work is bounded by MAX_NAME_SEGMENTS steps.
 *
 * As in Suricata: a name that reaches `end` without its zero byte ends there; a pointer to
 * exactly the end of the message gives an empty rest; a pointer to itself is a loop, an error
 * unless a pointer was followed before it; label types 01 and 10 are errors; past the segment
 * cap the name is cut when a pointer was followed and an error otherwise; past MAX_NAME_LEN the
 * name is cut, and reading goes on to find its end unless a pointer was followed.
 */
export function readName(buf: Uint8Array, msgStart: number, msgEnd: number, pos: number, end: number): NameRead {
  let p = pos;
  let limit = end;
  let pivot = -1;
  let outLen = 0;
  let count = 0;
  let flags = 0;
  for (;;) {
    if (p >= limit) break;
    const len = buf[p]!;
    if (len === 0) {
      p++;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0) {
      if (p + 1 + len > limit) return fail(p, flags, `a ${len}-byte label runs past the end of its data`);
      if ((flags & NameFlag.TRUNCATED) === 0) {
        if (outLen > 0) scratch[outLen++] = 0x2e;
        scratch.set(buf.subarray(p + 1, p + 1 + len), outLen);
        outLen += len;
      }
      p += 1 + len;
    } else if (kind === 0xc0) {
      if (p + 2 > limit) return fail(p, flags, 'a compression pointer is cut short');
      const target = ((len & 0x3f) << 8) | buf[p + 1]!;
      if (target > msgEnd - msgStart) return fail(p, flags, `a compression pointer to offset ${target} is past the end of the message`);
      // Suricata compares the rest of the input with the message from the target on: taken here as the same place, both running to the message's end.
      if (msgStart + target === p && limit === msgEnd) {
        flags |= NameFlag.INFINITE_LOOP;
        if (pivot >= 0) break;
        return fail(p, flags, `a compression pointer at offset ${p - msgStart} points at itself`);
      }
      if (pivot < 0) pivot = p + 2;
      p = msgStart + target;
      limit = msgEnd;
    } else {
      return fail(p, flags, `label type 0x${kind.toString(16)} is reserved`);
    }
    count++;
    if (count > MAX_NAME_SEGMENTS) {
      flags |= NameFlag.LABEL_LIMIT;
      if (pivot < 0) return fail(p, flags, `more than ${MAX_NAME_SEGMENTS} labels and pointers`);
      flags |= NameFlag.TRUNCATED;
      break;
    }
    if (outLen > MAX_NAME_LEN) {
      outLen = MAX_NAME_LEN;
      flags |= NameFlag.TRUNCATED;
      if (pivot >= 0) break;
    }
  }
  const bytes = scratch.slice(0, outLen);
  return { name: { bytes, text: eveText(bytes), truncated: (flags & NameFlag.TRUNCATED) !== 0 }, next: pivot >= 0 ? pivot : p, flags, error: null };
}

function fail(at: number, flags: number, error: string): NameRead {
  return { name: null, next: at, flags, error };
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Bytes as Suricata's EVE writes them (rust/src/jsonbuilder.rs, set_string_from_bytes): valid
 * UTF-8 as text; otherwise each byte below 0x80 as its character and each other byte as `\xNN`.
 */
export function eveText(bytes: Uint8Array): string {
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return latin1(bytes);
  try {
    return utf8.decode(bytes);
  } catch {
    let out = '';
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      out += b < 0x80 ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
    }
    return out;
  }
}

/** Bytes as one character each: a loop for names of ordinary length, Buffer's decoder for long ones. */
function latin1(bytes: Uint8Array): string {
  if (bytes.length > 64) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += String.fromCharCode(bytes[i]!);
  return out;
}
