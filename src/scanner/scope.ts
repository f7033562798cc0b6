/**
 * Which targets a scan may touch. Targets are `host`, `host:port`, `[v6]:port` or a CIDR. Without
 * a scope file only loopback (127.0.0.0/8 and ::1) may be scanned; a scope file lists the CIDRs
 * the user is authorised to test, one per line, `#` starting a comment.
 */
import { BlockList, isIP } from 'node:net';

/** A user's mistake in a target or scope file, or a target outside the scope: said in words, nothing sent. */
export class ScopeError extends Error {
  override name = 'ScopeError';
}

/** One parsed target: a host (name or address) or a CIDR, with an optional port. */
export interface Target {
  /** As the user wrote it (for messages). */
  text: string;
  /** A name or an address; for a CIDR, its network address. */
  host: string;
  /** Prefix length when the target is a CIDR, else null. */
  prefix: number | null;
  port: number | null;
}

/** The CIDRs a scan may touch. */
export interface Scope {
  /** Where the scope came from, for messages ("default: loopback only" or the file name). */
  source: string;
  cidrs: string[];
  list: BlockList;
}

/** Addresses one CIDR may expand to: a /16 is a site survey; more than that is not an audit this tool is for. */
export const MAX_CIDR_ADDRESSES = 65536;

const familyOf = (address: string): 'ipv4' | 'ipv6' => (isIP(address) === 6 ? 'ipv6' : 'ipv4');

function parsePort(text: string, where: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) throw new ScopeError(`${where}: port "${text}" is not a number from 1 to 65535`);
  return port;
}

function parsePrefix(address: string, text: string, where: string): number {
  const max = isIP(address) === 6 ? 128 : 32;
  const prefix = /^\d{1,3}$/.test(text) ? Number(text) : NaN;
  if (!(prefix >= 0 && prefix <= max)) throw new ScopeError(`${where}: prefix "/${text}" is not 0 to ${max}`);
  return prefix;
}

/** Parses one target. Throws ScopeError (saying what is wrong) for a malformed one. */
export function parseTarget(text: string): Target {
  const t = text.trim();
  const where = `target "${text}"`;
  if (t === '') throw new ScopeError(`${where}: empty`);
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (bracket !== null) {
    if (isIP(bracket[1]!) !== 6) throw new ScopeError(`${where}: "${bracket[1]}" in brackets is not an IPv6 address`);
    return { text, host: bracket[1]!, prefix: null, port: bracket[2] === undefined ? null : parsePort(bracket[2], where) };
  }
  const slash = t.indexOf('/');
  if (slash >= 0) {
    const address = t.slice(0, slash);
    if (isIP(address) === 0) throw new ScopeError(`${where}: "${address}" is not an IP address (a CIDR is address/prefix)`);
    return { text, host: address, prefix: parsePrefix(address, t.slice(slash + 1), where), port: null };
  }
  if (isIP(t) === 6) return { text, host: t, prefix: null, port: null };
  const colon = t.lastIndexOf(':');
  const host = colon >= 0 ? t.slice(0, colon) : t;
  if (!/^[A-Za-z0-9.-]+$/.test(host)) throw new ScopeError(`${where}: "${host}" is neither an address nor a host name`);
  return { text, host, prefix: null, port: colon >= 0 ? parsePort(t.slice(colon + 1), where) : null };
}

function toBigInt(address: string): bigint {
  if (isIP(address) === 4) return address.split('.').reduce((a, p) => (a << 8n) | BigInt(Number(p)), 0n);
  // Expand "::" and an embedded IPv4 tail into eight 16-bit groups.
  let text = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4 !== null) {
    const n = toBigInt(v4[1]!);
    text = text.slice(0, v4.index) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [left, right] = text.includes('::') ? text.split('::') : [text, null];
  const l = left === '' || left === undefined ? [] : left.split(':');
  const r = right === null || right === '' || right === undefined ? [] : right.split(':');
  const groups = right === null ? l : [...l, ...Array<string>(8 - l.length - r.length).fill('0'), ...r];
  return groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function fromBigInt(n: bigint, family: 'ipv4' | 'ipv6'): string {
  if (family === 'ipv4') return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 0xffn)).join('.');
  const groups: string[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(((n >> s) & 0xffffn).toString(16));
  return groups.join(':');
}

/** The addresses of a CIDR target, network and broadcast included, in order. Throws ScopeError past MAX_CIDR_ADDRESSES. */
export function expandCidr(address: string, prefix: number): string[] {
  const family = familyOf(address);
  const bits = family === 'ipv4' ? 32 : 128;
  const count = 1n << BigInt(bits - prefix);
  if (count > BigInt(MAX_CIDR_ADDRESSES)) throw new ScopeError(`${address}/${prefix} holds ${count} addresses; at most ${MAX_CIDR_ADDRESSES} (a /16) per target`);
  const start = (toBigInt(address) >> BigInt(bits - prefix)) << BigInt(bits - prefix);
  const out: string[] = [];
  for (let i = 0n; i < count; i++) out.push(fromBigInt(start + i, family));
  return out;
}

function addCidr(list: BlockList, text: string, where: string): void {
  const slash = text.indexOf('/');
  const address = slash >= 0 ? text.slice(0, slash) : text;
  if (isIP(address) === 0) throw new ScopeError(`${where}: "${text}" is not a CIDR or an IP address`);
  const prefix = slash >= 0 ? parsePrefix(address, text.slice(slash + 1), where) : isIP(address) === 6 ? 128 : 32;
  list.addSubnet(address, prefix, familyOf(address));
}

/** The scope without a scope file: loopback only. */
export function loopbackScope(): Scope {
  const list = new BlockList();
  list.addSubnet('127.0.0.0', 8, 'ipv4');
  list.addAddress('::1', 'ipv6');
  return { source: 'default (no scope file: loopback only)', cidrs: ['127.0.0.0/8', '::1/128'], list };
}

/** Parses a scope file's text: one CIDR or address per line, `#` comments, blank lines ignored. Errors say file:line. */
export function parseScope(text: string, source: string): Scope {
  const list = new BlockList();
  const cidrs: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    addCidr(list, line, `${source}:${i + 1}`);
    cidrs.push(line);
  });
  if (cidrs.length === 0) throw new ScopeError(`${source}: no CIDRs listed; a scope file lists the networks you are authorised to test, one per line`);
  return { source, cidrs, list };
}

/** Whether an address is inside the scope. */
export function inScope(scope: Scope, address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return scope.list.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/** The message for an address outside the scope: why it is refused, and how to authorise it. */
export function refusal(scope: Scope, target: string, address: string): string {
  const allowed = scope.cidrs.join(', ');
  const how =
    scope.source.startsWith('default')
      ? 'Without --scope FILE only loopback (127.0.0.0/8, ::1) is scanned, so that a typo never probes a network you have no permission to test. List the CIDRs you are authorised to test in a scope file (one per line, # comments) and pass --scope FILE.'
      : `Add it to ${scope.source} only if you are authorised to test it.`;
  return `refused: ${target}${address === target ? '' : ` (${address})`} is outside the scope (${allowed}). ${how}`;
}
