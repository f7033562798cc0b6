import { createHash } from 'node:crypto';

/**
 * A transform: what Suricata's transform keywords (dotprefix, to_lowercase, url_decode, ...) do
 * to a sticky buffer before its contents are matched. Pure functions of the bytes; the engine
 * applies a rule's chain once per buffer and caches the result for the other rules with the
 * same chain.
 */
export interface Transform {
  /** The keyword. */
  readonly name: string;
  /** A canonical text (name and arguments): equal chains share their result. */
  readonly key: string;
  apply(buf: Uint8Array): Uint8Array;
}

const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);

function simple(name: string, apply: (buf: Uint8Array) => Uint8Array): Transform {
  return { name, key: name, apply };
}

export const dotprefix = simple('dotprefix', (buf) => {
  const out = new Uint8Array(buf.length + 1);
  out[0] = 0x2e;
  out.set(buf, 1);
  return out;
});

export const toLowercase = simple('to_lowercase', (buf) => buf.map((c) => (c >= 0x41 && c <= 0x5a ? c | 0x20 : c)));

export const toUppercase = simple('to_uppercase', (buf) => buf.map((c) => (c >= 0x61 && c <= 0x7a ? c & 0xdf : c)));

export const stripWhitespace = simple('strip_whitespace', (buf) => buf.filter((c) => !isSpace(c)));

/** Each run of whitespace becomes one space. */
export const compressWhitespace = simple('compress_whitespace', (buf) => {
  const out = new Uint8Array(buf.length);
  let n = 0;
  let inSpace = false;
  for (const c of buf) {
    if (!isSpace(c)) {
      out[n++] = c;
      inSpace = false;
    } else if (!inSpace) {
      out[n++] = 0x20;
      inSpace = true;
    }
  }
  return out.slice(0, n);
});

const hexValue = (c: number): number => (c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1);

/** %XX decoded (a bad escape is kept as is) and "+" made a space, as Suricata's url_decode. */
export const urlDecode = simple('url_decode', (buf) => {
  const out = new Uint8Array(buf.length);
  let n = 0;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i]!;
    if (c === 0x25 && i + 2 < buf.length) {
      const hi = hexValue(buf[i + 1]!);
      const lo = hexValue(buf[i + 2]!);
      if (hi >= 0 && lo >= 0) {
        out[n++] = (hi << 4) | lo;
        i += 2;
        continue;
      }
    }
    out[n++] = c === 0x2b ? 0x20 : c;
  }
  return out.slice(0, n);
});

const digest = (name: string, algorithm: string): Transform => simple(name, (buf) => new Uint8Array(createHash(algorithm).update(buf).digest()));

export const toMd5 = digest('to_md5', 'md5');
export const toSha1 = digest('to_sha1', 'sha1');
export const toSha256 = digest('to_sha256', 'sha256');

/** XOR with a repeating key. */
export function xorTransform(key: Uint8Array): Transform {
  return {
    name: 'xor',
    key: `xor:${Buffer.from(key).toString('hex')}`,
    apply: (buf) => buf.map((c, i) => c ^ key[i % key.length]!),
  };
}

/** Applies a chain in order. */
export function applyTransforms(chain: readonly Transform[], buf: Uint8Array): Uint8Array {
  let out = buf;
  for (const t of chain) out = t.apply(out);
  return out;
}
