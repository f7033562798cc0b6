import { createHash, type Hash } from 'node:crypto';
import type { AppOutput, FileInfo } from './app.js';
import { copyBytes } from '../wire/bytes.js';

/**
 * File tracking shared by the protocols that carry files (HTTP bodies, FTP data, TFTP): the
 * size, a SHA-256 computed as the bytes pass, the type sniffed from the first bytes, and the
 * bytes themselves only when storing is configured, up to its cap. File bytes are data: they
 * are hashed and sniffed, never run or interpreted further.
 */

/** How many first bytes type sniffing looks at. */
const SNIFF_BYTES = 4096;

export class FileTracker {
  private readonly hash: Hash = createHash('sha256');
  private size = 0;
  private readonly head = new Uint8Array(SNIFF_BYTES);
  private headLen = 0;
  private readonly kept: Uint8Array[] | null;
  private keptLen = 0;
  private gaps = false;
  private closed = false;

  constructor(
    private readonly out: AppOutput,
    private readonly filename: string | null,
    private readonly direction: 'to_server' | 'to_client',
    private readonly txId: number,
    /** The carrying transaction's protocol record, for the fileinfo record (Suricata adds the `http` object). */
    private readonly metadata: (() => object | null) | null = null,
  ) {
    this.kept = out.fileStore.enabled ? [] : null;
  }

  get bytes(): number {
    return this.size;
  }

  /** More of the file, in order. */
  append(buf: Uint8Array, off = 0, len = buf.length - off): void {
    if (this.closed || len <= 0) return;
    const view = buf.subarray(off, off + len);
    this.hash.update(view);
    this.size += len;
    if (this.headLen < SNIFF_BYTES) {
      const n = Math.min(SNIFF_BYTES - this.headLen, len);
      this.head.set(view.subarray(0, n), this.headLen);
      this.headLen += n;
    }
    if (this.kept !== null && this.keptLen < this.out.fileStore.maxBytes) {
      const n = Math.min(this.out.fileStore.maxBytes - this.keptLen, len);
      this.kept.push(copyBytes(view, 0, n));
      this.keptLen += n;
    }
  }

  /** Bytes of the file are missing: it will be TRUNCATED, whatever follows. */
  gap(): void {
    this.gaps = true;
  }

  /** The transfer is over: reports the file (once). `complete` false when it was cut short. */
  close(complete: boolean): FileInfo | null {
    if (this.closed) return null;
    this.closed = true;
    const info: FileInfo = {
      filename: this.filename,
      size: this.size,
      sha256: this.hash.digest('hex'),
      magic: sniff(this.head.subarray(0, this.headLen)),
      state: complete && !this.gaps ? 'CLOSED' : 'TRUNCATED',
      gaps: this.gaps,
      stored: this.kept !== null && this.keptLen === this.size,
      direction: this.direction,
      tx_id: this.txId,
    };
    const meta = this.metadata?.() ?? null;
    if (meta !== null) info.metadata = meta;
    if (info.stored) info.content = concat(this.kept!, this.keptLen);
    this.out.file(info);
    return info;
  }
}

function concat(parts: Uint8Array[], len: number): Uint8Array {
  const out = new Uint8Array(len);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const ascii = (b: Uint8Array, at: number, s: string): boolean => {
  if (at + s.length > b.length) return false;
  for (let i = 0; i < s.length; i++) if (b[at + i] !== s.charCodeAt(i)) return false;
  return true;
};
const u16le = (b: Uint8Array, at: number): number => b[at]! | (b[at + 1]! << 8);
const u32le = (b: Uint8Array, at: number): number => (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;

/** A Windows executable: PE32 or PE32+ (with its subsystem and machine), or plain MS-DOS. */
function pe(b: Uint8Array): string {
  if (b.length < 0x40) return 'MS-DOS executable';
  const at = u32le(b, 0x3c);
  if (at + 24 + 2 > b.length || !ascii(b, at, 'PE\0\0')) return 'MS-DOS executable';
  const machine = u16le(b, at + 4);
  const characteristics = u16le(b, at + 22);
  const opt = at + 24;
  const plus = u16le(b, opt) === 0x20b;
  const subsystem = opt + 70 <= b.length ? u16le(b, opt + 68) : 0;
  const kind = subsystem === 2 ? '(GUI)' : subsystem === 3 ? '(console)' : subsystem === 1 ? '(native)' : '';
  const cpu = machine === 0x14c ? 'Intel 80386' : machine === 0x8664 ? 'x86-64' : machine === 0xaa64 ? 'Aarch64' : machine === 0x1c0 ? 'ARM' : `machine 0x${machine.toString(16)}`;
  const dll = (characteristics & 0x2000) !== 0 ? ' (DLL)' : '';
  return `PE32${plus ? '+' : ''} executable${dll} ${kind ? `${kind} ` : ''}${cpu}, for MS Windows`;
}

function elf(b: Uint8Array): string {
  if (b.length < 18) return 'ELF';
  const bits = b[4] === 2 ? '64-bit' : '32-bit';
  const order = b[5] === 2 ? 'MSB' : 'LSB';
  const type = b[5] === 2 ? (b[16]! << 8) | b[17]! : u16le(b, 16);
  const kind = type === 1 ? 'relocatable' : type === 2 ? 'executable' : type === 3 ? 'shared object' : type === 4 ? 'core file' : 'unknown type';
  return `ELF ${bits} ${order} ${kind}`;
}

/** Whether the bytes are text: printable ASCII and common whitespace only. */
function isText(b: Uint8Array): boolean {
  if (b.length === 0) return false;
  for (const c of b) if (c < 0x20 ? c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x0c : c > 0x7e) return false;
  return true;
}

/**
 * What a file is, from its first bytes, in libmagic's words (as Suricata's fileinfo.magic
 * shows them): executables (PE, ELF, Mach-O, Java class), archives, documents, images,
 * scripts, markup, text, else "data"; "empty" for no bytes.
 */
export function sniff(b: Uint8Array): string {
  if (b.length === 0) return 'empty';
  if (ascii(b, 0, 'MZ')) return pe(b);
  if (ascii(b, 0, '\x7fELF')) return elf(b);
  if (b.length >= 4 && ((b[0] === 0xca && b[1] === 0xfe && b[2] === 0xba && b[3] === 0xbe))) return 'compiled Java class data';
  if (b.length >= 4 && ((b[0] === 0xcf || b[0] === 0xce) && b[1] === 0xfa && b[2] === 0xed && b[3] === 0xfe)) return 'Mach-O executable';
  if (ascii(b, 0, 'PK\x03\x04')) return 'Zip archive data';
  if (ascii(b, 0, '%PDF-')) return `PDF document, version ${String.fromCharCode(...b.subarray(5, 8))}`;
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gzip compressed data';
  if (ascii(b, 0, 'BZh')) return 'bzip2 compressed data';
  if (ascii(b, 0, 'Rar!')) return 'RAR archive data';
  if (b.length >= 6 && ascii(b, 0, '7z') && b[2] === 0xbc && b[3] === 0xaf) return '7-zip archive data';
  if (ascii(b, 0, 'MSCF')) return 'Microsoft Cabinet archive data';
  if (b.length >= 4 && b[0] === 0xd0 && b[1] === 0xcf && b[2] === 0x11 && b[3] === 0xe0) return 'Composite Document File V2 Document';
  if (ascii(b, 0, 'GIF87a') || ascii(b, 0, 'GIF89a')) return `GIF image data, version ${String.fromCharCode(...b.subarray(3, 6))}`;
  if (ascii(b, 0, '\x89PNG')) return 'PNG image data';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'JPEG image data';
  if (ascii(b, 0, 'FWS') || ascii(b, 0, 'CWS')) return 'Macromedia Flash data';
  const head = Buffer.from(b.subarray(0, 512)).toString('latin1').trimStart().toLowerCase();
  if (head.startsWith('#!')) {
    const interp = /^#!\s*(\S+)/.exec(head)?.[1] ?? '';
    return `${interp === '' ? 'a' : `a ${interp}`} script, ASCII text executable`;
  }
  if (head.startsWith('<?php')) return 'PHP script, ASCII text';
  if (head.startsWith('<!doctype html') || head.startsWith('<html') || head.startsWith('<head') || head.startsWith('<script')) return 'HTML document, ASCII text';
  if (head.startsWith('<?xml')) return 'XML document text';
  if (isText(b)) return 'ASCII text';
  return 'data';
}

/** The MIME type of what sniff() found (as Zeek's file analysis names it), or null when sniffing says nothing useful. */
export function mimeType(b: Uint8Array): string | null {
  const m = sniff(b);
  if (m.startsWith('PE32') || m === 'MS-DOS executable') return 'application/x-dosexec';
  if (m.startsWith('ELF')) return 'application/x-executable';
  if (m === 'Mach-O executable') return 'application/x-mach-o-executable';
  if (m === 'compiled Java class data') return 'application/x-java-applet';
  if (m === 'Zip archive data') return 'application/zip';
  if (m.startsWith('PDF')) return 'application/pdf';
  if (m === 'gzip compressed data') return 'application/x-gzip';
  if (m === 'bzip2 compressed data') return 'application/x-bzip2';
  if (m === 'RAR archive data') return 'application/x-rar';
  if (m === '7-zip archive data') return 'application/x-7z-compressed';
  if (m === 'Microsoft Cabinet archive data') return 'application/vnd.ms-cab-compressed';
  if (m === 'Composite Document File V2 Document') return 'application/msword';
  if (m.startsWith('GIF')) return 'image/gif';
  if (m === 'PNG image data') return 'image/png';
  if (m === 'JPEG image data') return 'image/jpeg';
  if (m === 'Macromedia Flash data') return 'application/x-shockwave-flash';
  if (m.includes('script')) return m.startsWith('PHP') ? 'text/x-php' : 'text/x-shellscript';
  if (m.startsWith('HTML')) return 'text/html';
  if (m.startsWith('XML')) return 'application/xml';
  if (m === 'ASCII text') return 'text/plain';
  return null;
}
