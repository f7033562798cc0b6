import { spawn, type ChildProcess } from 'node:child_process';
import { CaptureOpenError } from './damage.js';
import { StreamSource, type ByteSource } from './source.js';

/** A live capture: tcpdump writing pcap to a pipe, one packet per write (-U). */
export interface LiveCapture {
  source: ByteSource;
  /** Asks tcpdump to stop; the source then ends after the packets already written. */
  stop(): void;
  /**
   * Settles when tcpdump has exited: rejects with a clear message when it could not capture
   * (missing, no permission, no such interface, bad filter).
   */
  done: Promise<void>;
  /** Packets the kernel dropped because tcpdump fell behind, as tcpdump reports on exit (null until then). */
  readonly droppedByKernel: number | null;
}

export interface LiveOptions {
  /** The tcpdump binary; "tcpdump" on PATH by default. */
  tcpdump?: string;
  /** Bytes per packet to capture (-s); 262144 by default, as tcpdump's own. */
  snaplen?: number;
  /** Kernel capture buffer in KiB (-B); 32 MiB by default: 512 slots on lo, thousands on Ethernet. */
  bufferKiB?: number;
  /** Called once when tcpdump says it is listening: the capture is running and its filter is set. */
  onListening?: (message: string) => void;
}

/** Starts `tcpdump -U --immediate-mode -w - -i IFACE [BPF]` and reads its standard output. */
export function startLiveCapture(iface: string, bpf: string[], options: LiveOptions = {}): LiveCapture {
  const bin = options.tcpdump ?? 'tcpdump';
  // --immediate-mode: without it the kernel hands packets over in blocks up to a second late,
  // and the packets of the last second are lost when tcpdump is stopped. Immediate mode gives
  // each packet a ring slot the size of the MTU (64 KiB on lo), so libpcap's default 2 MiB ring
  // overflows on a burst of a few dozen packets; -B raises it.
  const args = ['-U', '--immediate-mode', '-B', String(options.bufferKiB ?? 32768), '-w', '-', '-n', '-s', String(options.snaplen ?? 262144), '-i', iface, ...bpf];
  const child: ChildProcess = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const name = `tcpdump -i ${iface}`;
  let stderr = '';
  let tail = ''; // tcpdump's statistics come last, however much came before
  let listening = false;
  let droppedByKernel: number | null = null;
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    if (stderr.length < 8192) stderr += s;
    tail = (tail + s).slice(-1024);
    if (!listening && options.onListening !== undefined) {
      // Only a whole line: the pipe may deliver it in pieces.
      const line = /^tcpdump: (listening on [^\n]*)\n/m.exec(stderr);
      if (line !== null) {
        listening = true;
        options.onListening(line[1]!);
      }
    }
  });
  let stopping = false;
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') reject(new CaptureOpenError(name, `cannot run ${bin}: it is not installed or not on PATH (Debian: apt-get install tcpdump)`));
      else reject(new CaptureOpenError(name, `cannot run ${bin}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      const drops = /^(\d+) packets? dropped by kernel$/m.exec(tail);
      if (drops !== null) droppedByKernel = Number(drops[1]);
      if (code === 0 || (stopping && (signal !== null || code === null))) return resolve();
      reject(new CaptureOpenError(name, explainTcpdumpFailure(stderr, code)));
    });
  });
  // The reader sees EOF when tcpdump's stdout closes, including when it fails to start.
  const stdout = child.stdout;
  if (stdout === null) throw new CaptureOpenError(name, 'tcpdump has no standard output');
  const source = new StreamSource(name, stdout, () => {
    if (child.exitCode === null) child.kill('SIGTERM');
  });
  return {
    source,
    stop() {
      stopping = true;
      if (child.exitCode === null) child.kill('SIGTERM');
    },
    done,
    get droppedByKernel() {
      return droppedByKernel;
    },
  };
}

/** Turns tcpdump's standard error and exit code into one line that says what to do. */
export function explainTcpdumpFailure(stderr: string, code: number | null): string {
  const text = stderr.trim().split('\n').filter((l) => !/^tcpdump: (listening|verbose)/.test(l)).join(' ').trim();
  if (/permission|not permitted/i.test(text)) {
    return `tcpdump lacks permission to capture (${text}). Run as root, or grant the capability: setcap cap_net_raw,cap_net_admin=eip $(command -v tcpdump)`;
  }
  if (/no such device|doesn't exist|no suitable device/i.test(text)) return `no such interface (${text}); list them with: tcpdump -D`;
  if (/syntax error|can't parse filter|expression rejects/i.test(text)) return `the capture filter is not valid BPF (${text})`;
  return `tcpdump exited with code ${code ?? 'unknown'}${text ? `: ${text}` : ''}`;
}
