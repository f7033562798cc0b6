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

export interface PctHelloSpec {
  /** 4-byte cipher specs (PCT 1.0 CIPHER_SPEC values). */
  ciphers?: number[];
  /** 2-byte hash, certificate and exchange specs. */
  hashes?: number[];
  certs?: number[];
  exchanges?: number[];
  challenge?: Uint8Array;
}

/**
 * A well-formed native PCT 1.0 CLIENT_HELLO (draft-benaloh-pct-00), as a scanner sends it:
 * 2-byte record header, type 01, version 80 01, a zero session id, a 32-byte challenge, offset
 * 00 0A, five lengths, and the spec lists whose lengths add up to the record.
 */
export function pctClientHello(spec: PctHelloSpec = {}): Buffer {
  const ciphers = spec.ciphers ?? [0x00048003, 0x00048001]; // RC4 with 128- and 40-bit keys (values illustrative: any 4-byte specs are well-formed)
  const hashes = spec.hashes ?? [0x0001, 0x0003]; // MD5, SHA
  const certs = spec.certs ?? [0x0001]; // X.509
  const exchanges = spec.exchanges ?? [0x0001]; // RSA
  const challenge = spec.challenge ?? Buffer.alloc(32, 0x5a);
  const lists = Buffer.alloc(ciphers.length * 4 + (hashes.length + certs.length + exchanges.length) * 2);
  let o = 0;
  for (const c of ciphers) o = lists.writeUInt32BE(c >>> 0, o);
  for (const h of [...hashes, ...certs, ...exchanges]) o = lists.writeUInt16BE(h, o);
  const body = Buffer.alloc(80);
  body[0] = 0x01; // CLIENT_HELLO
  body[1] = 0x80; // version 80 01
  body[2] = 0x01;
  body[3] = 0x00; // pad
  // session id (32 zero bytes) at body[4..35]
  Buffer.from(challenge).copy(body, 36, 0, 32);
  body.writeUInt16BE(0x000a, 68); // offset
  body.writeUInt16BE(ciphers.length * 4, 70);
  body.writeUInt16BE(hashes.length * 2, 72);
  body.writeUInt16BE(certs.length * 2, 74);
  body.writeUInt16BE(exchanges.length * 2, 76);
  body.writeUInt16BE(0, 78); // key arg length
  const record = Buffer.concat([body, lists]);
  return Buffer.concat([Buffer.from([0x80 | (record.length >>> 8), record.length & 0xff]), record]);
}

/**
 * An SSLv2 CLIENT-HELLO, optionally offering PCT with the cipher kind 8F 80 01 first (how a
 * PCT-capable client announces itself inside SSLv2). Well-formed: 3-byte kinds, a 16-byte
 * challenge, no session id.
 */
export function sslv2ClientHello(options: { offerPct?: boolean; kinds?: number[] } = {}): Buffer {
  const kinds = options.kinds ?? [0x010080, 0x020080, 0x030080, 0x040080, 0x060040, 0x0700c0];
  const all = options.offerPct === true ? [0x8f8001, ...kinds] : kinds;
  const challenge = Buffer.alloc(16, 0x42);
  const body = Buffer.alloc(9);
  body[0] = 0x01;
  body.writeUInt16BE(0x0002, 1); // SSL 2.0
  body.writeUInt16BE(all.length * 3, 3);
  body.writeUInt16BE(0, 5);
  body.writeUInt16BE(challenge.length, 7);
  const specs = Buffer.alloc(all.length * 3);
  all.forEach((k, i) => specs.writeUIntBE(k, i * 3, 3));
  const record = Buffer.concat([body, specs, challenge]);
  return Buffer.concat([Buffer.from([0x80 | (record.length >>> 8), record.length & 0xff]), record]);
}
