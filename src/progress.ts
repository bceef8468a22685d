// The one progress renderer of long runs (train, attack, bench) and the one duration format.
// On a terminal a status line is redrawn in place (throttled); elsewhere (logs, CI) only the
// lines that matter are written, plus at most one every 30 s in between.

/** 65 -> "01:05", 3725 -> "1:02:05"; not a duration -> "--:--". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
}

export interface StatusLineOptions {
  /** Least time between two redraws on a terminal. */
  intervalMs?: number;
  /** Least time between two routine lines in a log. */
  logIntervalMs?: number;
}

export interface ShowOptions {
  /** Always drawn (a finished epoch, a cell that starts or ends), never throttled away. */
  important?: boolean;
  /** The line is complete: on a terminal, the next one starts below it. */
  endLine?: boolean;
}

/** A status line on a stream: redrawn in place on a terminal, logged sparingly elsewhere. */
export class StatusLine {
  private last = 0;
  private pending = false;
  private readonly intervalMs: number;
  private readonly logIntervalMs: number;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    options: StatusLineOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 200;
    this.logIntervalMs = options.logIntervalMs ?? 30_000;
  }

  show(text: string, options: ShowOptions = {}): void {
    const now = Date.now();
    if (this.stream.isTTY !== true) {
      // The first routine line waits a whole interval: short runs log only what matters.
      if (this.last === 0) this.last = now;
      if (options.important || now - this.last >= this.logIntervalMs) {
        this.stream.write(text + '\n');
        this.last = now;
      }
      return;
    }
    if (!options.important && now - this.last < this.intervalMs) return;
    this.last = now;
    const cols = this.stream.columns ?? 120;
    this.stream.write('\r\x1b[2K' + text.slice(0, cols - 1));
    this.pending = !options.endLine;
    if (options.endLine) this.stream.write('\n');
  }

  /** Ends a half-drawn line before other output. */
  finish(): void {
    if (this.stream.isTTY === true && this.pending) this.stream.write('\n');
    this.pending = false;
  }
}

export interface ProgressLine {
  /** e.g. "epoch 3/15" */
  label: string;
  done: number;
  total: number;
  /** e.g. ["loss 0.3121", "acc 88.6%"] */
  fields: string[];
  etaSeconds?: number;
}

export function renderProgress(p: ProgressLine, width = 24): string {
  const frac = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
  const filled = Math.round(frac * width);
  const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
  const eta = p.etaSeconds === undefined ? [] : [`ETA ${formatDuration(p.etaSeconds)}`];
  return [`${p.label} [${bar}] ${p.done}/${p.total}`, ...p.fields, ...eta].join('  ');
}

/** A progress bar (done/total): a finished bar is always shown and ends its line. */
export class ProgressBar {
  private readonly line: StatusLine;

  constructor(stream: NodeJS.WriteStream = process.stderr, intervalMs = 200, logIntervalMs = 30_000) {
    this.line = new StatusLine(stream, { intervalMs, logIntervalMs });
  }

  update(p: ProgressLine): void {
    const finished = p.done >= p.total;
    this.line.show(renderProgress(p), { important: finished, endLine: finished });
  }

  finish(): void {
    this.line.finish();
  }
}
