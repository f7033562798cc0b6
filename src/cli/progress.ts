/**
 * A one-line progress bar on a terminal's stderr, redrawn at most five times a second.
 * It draws nothing when stderr is not a terminal, so logs and pipes stay clean.
 */
export class ProgressBar {
  private last = 0;
  private drawn = false;
  private readonly started = Date.now();

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly label: string,
    private readonly total: number | null,
  ) {}

  static enabled(stream: NodeJS.WriteStream, total: number | null): boolean {
    // Small inputs finish before a bar helps; 16 MiB takes long enough to want one.
    return stream.isTTY === true && (total === null || total >= 16 * 1024 * 1024);
  }

  update(position: number, packets: number): void {
    const now = Date.now();
    if (now - this.last < 200) return;
    this.last = now;
    const secs = Math.max((now - this.started) / 1000, 0.001);
    const rate = `${formatCount(packets / secs)}pps`;
    let line: string;
    if (this.total !== null && this.total > 0) {
      const frac = Math.min(1, position / this.total);
      const width = 30;
      const fill = Math.round(frac * width);
      line = `${this.label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${(frac * 100).toFixed(0).padStart(3)}% ${formatBytes(position)}/${formatBytes(this.total)} ${rate}`;
    } else {
      line = `${this.label} ${formatBytes(position)} ${rate}`;
    }
    const cols = this.stream.columns ?? 80;
    this.stream.write(`\r${line.slice(0, cols - 1).padEnd(Math.min(cols - 1, line.length))}\x1b[K`);
    this.drawn = true;
  }

  clear(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}

/** 1234 → "1.2k", 5_600_000 → "5.6M". */
export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(0);
}

/** Bytes in SI units, as tshark prints them: 950 B, 12.3 kB, 4.5 MB. */
export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}
