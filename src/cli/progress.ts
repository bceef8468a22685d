// A one-line progress bar on stderr for long runs: redrawn in place on a terminal; elsewhere
// (logs, CI) one line per finished epoch and at most one every 30 s in between.
export interface ProgressLine {
  /** e.g. "epoch 3/15" */
  label: string;
  done: number;
  total: number;
  /** e.g. ["loss 0.3121", "acc 88.6%"] */
  fields: string[];
  etaSeconds?: number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
}

export function renderProgress(p: ProgressLine, width = 24): string {
  const frac = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
  const filled = Math.round(frac * width);
  const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
  const eta = p.etaSeconds === undefined ? [] : [`ETA ${formatDuration(p.etaSeconds)}`];
  return [`${p.label} [${bar}] ${p.done}/${p.total}`, ...p.fields, ...eta].join('  ');
}

export class ProgressBar {
  private lastDraw = 0;
  private pending = false;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly intervalMs = 200,
    private readonly logIntervalMs = 30_000,
  ) {}

  private get tty(): boolean {
    return this.stream.isTTY === true;
  }

  /** Draws the line (throttled on a terminal; finished lines and one per logIntervalMs elsewhere). */
  update(p: ProgressLine): void {
    const finished = p.done >= p.total;
    const now = Date.now();
    if (!this.tty) {
      if (this.lastDraw === 0) this.lastDraw = now;
      if (finished || now - this.lastDraw >= this.logIntervalMs) {
        this.stream.write(renderProgress(p) + '\n');
        this.lastDraw = now;
      }
      return;
    }
    if (!finished && now - this.lastDraw < this.intervalMs) return;
    this.lastDraw = now;
    const cols = this.stream.columns ?? 120;
    this.stream.write('\r\x1b[2K' + renderProgress(p).slice(0, cols - 1));
    this.pending = !finished;
    if (finished) this.stream.write('\n');
  }

  /** Ends a half-drawn line before other output. */
  finish(): void {
    if (this.tty && this.pending) this.stream.write('\n');
    this.pending = false;
  }
}
