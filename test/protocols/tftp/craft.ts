/** TFTP datagrams for the tests. */

/** A request datagram: opcode, then NUL-terminated strings (file name, mode, option pairs). */
export const request = (opcode: number, ...strings: string[]): Buffer => Buffer.concat([Buffer.from([0, opcode]), ...strings.map((s) => Buffer.from(`${s}\0`, 'latin1'))]);
export const dataPacket = (block: number, bytes: Uint8Array): Buffer => Buffer.concat([Buffer.from([0, 3, block >> 8, block & 0xff]), bytes]);
export const ack = (block: number): Buffer => Buffer.from([0, 4, block >> 8, block & 0xff]);
export const errorPacket = (code: number, msg: string): Buffer => Buffer.concat([Buffer.from([0, 5, code >> 8, code & 0xff]), Buffer.from(`${msg}\0`)]);
export const oack = (...kv: string[]): Buffer => Buffer.concat([Buffer.from([0, 6]), ...kv.map((s) => Buffer.from(`${s}\0`))]);
/** `n` bytes of a recognisable pattern. */
export const bytes = (n: number, seed = 1): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));
