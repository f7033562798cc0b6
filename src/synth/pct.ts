/**
 * PCT and SSLv2 hellos for tests and scenarios (../shared/DOMAIN.md §2-3). Outpost never builds
 * attack code: the exploit-shaped record here is the documented 15 header bytes of the public
 * exploits' first record, padded with zero filler, "the smallest harmless fixture that satisfies
 * both Snort revisions" of SID 2515. It carries no shellcode and overflows nothing.
 */

/** The harmless MS04-011 fixture: `80 23 01 00 02 00 03 00 01 00 16 8F 80 01 00` then 22 bytes of 00. */
export function pctExploitFixture(): Buffer {
  return Buffer.concat([Buffer.from([0x80, 0x23, 0x01, 0x00, 0x02, 0x00, 0x03, 0x00, 0x01, 0x00, 0x16, 0x8f, 0x80, 0x01, 0x00]), Buffer.alloc(22)]);
}

// The well-formed hellos live with the scanner, which sends them; re-exported so fixtures keep one source.
export { pctClientHello, sslv2ClientHello, type PctHelloSpec } from '../scanner/hellos.js';
