import { parseArgs } from 'node:util';
import { CaptureOpenError, openByteSource, readCapture, startLiveCapture, type CaptureSummary, type LiveCapture } from '../capture/index.js';
import { EveWriter } from '../events/writer.js';
import { END_REASON_NAMES } from '../flow/flow.js';
import { Pipeline } from '../sensor/pipeline.js';
import { Exit, UsageError } from './exit.js';
import { formatBytes, formatCount, ProgressBar } from './progress.js';
import { formatRecord, TABLE_HEADER } from './table.js';

export const READ_USAGE = `usage: outpost read [options] <capture>...
       outpost read [options] -i <interface> [bpf filter...]

Reads pcap or pcapng captures (gzip-compressed too; "-" is standard input), or live
traffic through tcpdump, and writes EVE flow and anomaly records as JSON lines to
standard output. A summary goes to standard error.

options:
  -i, --interface IFACE   capture live on IFACE (runs tcpdump -U --immediate-mode -w -);
                          the remaining arguments are a BPF filter, as tcpdump takes them
  -f, --format FORMAT     eve (JSON lines, the default) or table (one line per record, for people)
      --types LIST        records to write: flow,anomaly (default both)
      --stream-policy P   TCP overlap policy: bsd (default), linux, old-linux, solaris, first, last, ...
      --defrag-policy P   IP fragment overlap policy: bsd (default), bsd-right, linux, windows, solaris, first, last
      --max-flows N       flows held at once before the oldest are evicted (default 262144)
  -q, --quiet             no summary and no progress bar
  -h, --help              this help

exit codes: 0 done; 1 an input was damaged (what came before it was processed);
            2 usage; 3 an input could not be opened; 4 live capture failed;
            130 interrupted (SIGINT), 143 terminated (SIGTERM) while reading files`;

export async function runRead(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        interface: { type: 'string', short: 'i' },
        format: { type: 'string', short: 'f', default: 'eve' },
        types: { type: 'string', default: 'flow,anomaly' },
        'stream-policy': { type: 'string' },
        'defrag-policy': { type: 'string' },
        'max-flows': { type: 'string' },
        quiet: { type: 'boolean', short: 'q', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const o = parsed.values;
  if (o.help) {
    process.stdout.write(`${READ_USAGE}\n`);
    return Exit.OK;
  }
  const format = o.format;
  if (format !== 'eve' && format !== 'table') throw new UsageError(`--format must be eve or table, not "${format}"`);
  const types = new Set(o.types.split(',').map((t) => t.trim()).filter((t) => t !== ''));
  for (const t of types) if (t !== 'flow' && t !== 'anomaly') throw new UsageError(`--types takes flow and anomaly, not "${t}"`);
  let maxFlows: number | undefined;
  if (o['max-flows'] !== undefined) {
    maxFlows = Number(o['max-flows']);
    if (!Number.isInteger(maxFlows) || maxFlows < 1) throw new UsageError(`--max-flows must be a positive whole number, not "${o['max-flows']}"`);
  }
  const live = o.interface;
  if (live === undefined && parsed.positionals.length === 0) throw new UsageError('no capture given (name a file, "-" for standard input, or -i IFACE)');

  const out = new EveWriter(1);
  if (format === 'table') out.writeLine(TABLE_HEADER);
  let pipeline: Pipeline;
  try {
    pipeline = new Pipeline((ev) => (format === 'eve' ? out.write(ev) : out.writeLine(formatRecord(ev))), {
      flow: {
        ...(maxFlows !== undefined ? { maxFlows } : {}),
        ...(o['stream-policy'] !== undefined ? { streamPolicy: o['stream-policy'] } : {}),
      },
      defrag: o['defrag-policy'] !== undefined ? { policy: o['defrag-policy'] } : {},
      emit: { flow: types.has('flow'), anomaly: types.has('anomaly') },
      ...(live !== undefined ? { iface: live } : {}),
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }

  const started = process.hrtime.bigint();
  const summaries: CaptureSummary[] = [];
  const abort = new AbortController();
  let capture: LiveCapture | null = null;
  let interrupted: NodeJS.Signals | false = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupted = signal;
    if (capture !== null) capture.stop();
    else abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let code: number = Exit.OK;
  try {
    if (live !== undefined) {
      capture = startLiveCapture(live, parsed.positionals, {
        ...(o.quiet ? {} : { onListening: (m: string) => process.stderr.write(`outpost read: tcpdump ${m}; stop with Ctrl-C\n`) }),
      });
      const failure = capture.done.then(() => null, (err: unknown) => err);
      let empty: CaptureOpenError | null = null;
      try {
        summaries.push(await readOne(capture.source, pipeline, o.quiet, abort.signal));
      } catch (err) {
        // tcpdump wrote nothing: it failed to start (said by `failure`), or was stopped first.
        if (!(err instanceof CaptureOpenError)) throw err;
        empty = err;
      }
      const err = await failure;
      const dropped = capture.droppedByKernel ?? 0;
      if (dropped > 0) process.stderr.write(`outpost read: ${capture.source.name}: the kernel dropped ${dropped} packet${dropped === 1 ? '' : 's'} while tcpdump fell behind\n`);
      if (err !== null) {
        process.stderr.write(`outpost read: ${(err as Error).message}\n`);
        code = Exit.LIVE;
      } else if (empty !== null && !interrupted) {
        process.stderr.write(`outpost read: ${empty.message}\n`);
        code = Exit.LIVE;
      }
      interrupted = false; // a signal is how a live capture is meant to end
    } else {
      for (const path of parsed.positionals) {
        if (abort.signal.aborted) break;
        let source;
        try {
          source = await openByteSource(path);
        } catch (err) {
          if (!(err instanceof CaptureOpenError)) throw err;
          process.stderr.write(`outpost read: ${err.message}\n`);
          code = Math.max(code, Exit.INPUT);
          continue;
        }
        try {
          summaries.push(await readOne(source, pipeline, o.quiet, abort.signal));
        } catch (err) {
          if (!(err instanceof CaptureOpenError)) throw err;
          process.stderr.write(`outpost read: ${err.message}\n`);
          code = Math.max(code, Exit.INPUT);
        }
      }
    }
    pipeline.finish();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    out.flush();
  }
  const damaged = summaries.filter((s) => s.damage !== null);
  for (const s of damaged) process.stderr.write(`outpost read: ${s.damage!.message}\n`);
  if (damaged.length > 0 && code === Exit.OK) code = Exit.DAMAGED;
  if (!o.quiet) process.stderr.write(summaryText(pipeline, summaries, Number(process.hrtime.bigint() - started) / 1e9));
  if (interrupted !== false) return interrupted === 'SIGTERM' ? Exit.TERMINATED : Exit.INTERRUPTED;
  return code;
}

async function readOne(source: Parameters<typeof readCapture>[0], pipeline: Pipeline, quiet: boolean, signal: AbortSignal): Promise<CaptureSummary> {
  const bar = !quiet && ProgressBar.enabled(process.stderr, source.size) ? new ProgressBar(process.stderr, source.name, source.size) : null;
  try {
    return await readCapture(source, pipeline.frame, {
      signal,
      ...(bar !== null ? { onProgress: (pos: number) => bar.update(pos, pipeline.decoder.counters.frames) } : {}),
    });
  } finally {
    bar?.clear();
  }
}

/** The summary on stderr: packets, bytes, flows by protocol, anomalies by reason, time taken. */
export function summaryText(pipeline: Pipeline, summaries: CaptureSummary[], seconds: number): string {
  const c = pipeline.decoder.counters;
  const fc = pipeline.flows.counters;
  const lines: string[] = [];
  const rate = seconds > 0 ? ` (${formatCount(c.frames / seconds)}pps, ${formatCount((c.bytes * 8) / seconds)}bit/s)` : '';
  lines.push(`outpost read: ${summaries.length} capture${summaries.length === 1 ? '' : 's'}, ${c.frames} packets, ${formatBytes(c.bytes)} in ${seconds.toFixed(2)} s${rate}`);
  const byProto = [...fc.byProto.entries()].sort((a, b) => b[1] - a[1]).map(([p, n]) => `${p} ${n}`).join(', ');
  lines.push(`  flows: ${fc.created}${byProto ? ` (${byProto})` : ''}`);
  const ended = END_REASON_NAMES.map((r, i) => [r, fc.ended[i] ?? 0] as const).filter(([, n]) => n > 0).map(([r, n]) => `${r} ${n}`).join(', ');
  if (ended) lines.push(`  flow ends: ${ended}`);
  const app = pipeline.app?.counters;
  if (app !== undefined) {
    const detected = [...app.detected.entries()].sort((a, b) => b[1] - a[1]).map(([p, n]) => `${p} ${n}`);
    lines.push(`  application protocols: ${detected.length > 0 ? detected.join(', ') : 'none recognised'}${app.failed > 0 ? `; ${app.failed} flows unrecognised` : ''}`);
  }
  const anomalies = [...pipeline.anomalies.entries()].sort((a, b) => b[1] - a[1]);
  const total = anomalies.reduce((s, [, n]) => s + n, 0);
  lines.push(`  anomalies: ${total}${total > 0 ? ` (${anomalies.map(([n, k]) => `${n} ${k}`).join(', ')})` : ''}`);
  const notes: string[] = [];
  if (c.truncated > 0) notes.push(`${c.truncated} cut short by the snaplen`);
  if (c.nonIp > 0) notes.push(`${c.nonIp} not IP`);
  if (c.unknownLinkType > 0) notes.push(`${c.unknownLinkType} of an unsupported link type`);
  const d = pipeline.decoder.defrag.counters;
  if (d.fragments > 0) notes.push(`${d.fragments} fragments, ${d.reassembled} datagrams rebuilt`);
  if (notes.length > 0) lines.push(`  packets: ${notes.join('; ')}`);
  return `${lines.join('\n')}\n`;
}
