import type { Keyword } from '../keyword.js';
import { RuleError } from '../syntax.js';
import {
  compressWhitespace, dotprefix, stripWhitespace, toLowercase, toMd5, toSha1, toSha256, toUppercase, urlDecode, xorTransform, type Transform,
} from '../transforms.js';

/** A transform keyword without arguments; it must directly follow its sticky buffer. */
function plain(t: Transform, summary: string): Keyword {
  return {
    name: t.name,
    summary: `Transform: ${summary}`,
    syntax: t.name,
    apply(b, value) {
      if (value !== null && value.trim() !== '') throw new RuleError(`${t.name} takes no value`);
      b.addTransform(t);
    },
  };
}

export const xor: Keyword = {
  name: 'xor',
  summary: 'Transform: XOR the buffer with a repeating key given in hex.',
  syntax: 'xor:"0d0ac8ff"',
  apply(b, value) {
    const hex = (value ?? '').trim().replace(/^"|"$/g, '');
    if (!/^([0-9a-fA-F]{2})+$/.test(hex) || hex.length > 510) throw new RuleError('xor needs a key of 1 to 255 bytes in hex, as xor:"0d0ac8ff"');
    b.addTransform(xorTransform(Buffer.from(hex, 'hex')));
  },
};

export const TRANSFORM_KEYWORDS: readonly Keyword[] = [
  plain(dotprefix, 'prepend a "." (so content:".example.com"; endswith; matches the domain and its subdomains).'),
  plain(toLowercase, 'ASCII letters to lower case.'),
  plain(toUppercase, 'ASCII letters to upper case.'),
  plain(stripWhitespace, 'remove all whitespace (space, \\t, \\n, \\v, \\f, \\r).'),
  plain(compressWhitespace, 'each run of whitespace becomes one space.'),
  plain(urlDecode, 'decode %XX escapes and "+" as a space.'),
  plain(toMd5, 'the buffer\'s MD5 digest (16 raw bytes).'),
  plain(toSha1, 'the buffer\'s SHA-1 digest (20 raw bytes).'),
  plain(toSha256, 'the buffer\'s SHA-256 digest (32 raw bytes).'),
  xor,
];
