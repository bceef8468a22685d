// Progress of a whole benchmark run: cells done/total, the cells running now, elapsed, ETA.
import { formatDuration, StatusLine } from '../progress.js';

export interface CellProgress {
  label: string;
  kind: string;
  startedAt: number;
  text: string;
  fraction: number;
}

export class RunProgress {
  private readonly started = Date.now();
  private readonly running = new Map<string, CellProgress>();
  private readonly durations = new Map<string, number[]>();
  private done = 0;
  private failed = 0;
  private readonly status: StatusLine;

  constructor(
    private readonly total: number,
    private readonly remainingByKind: Map<string, number>,
    private readonly jobs: number,
    alreadyDone: number,
    out: NodeJS.WriteStream = process.stderr,
  ) {
    this.done = alreadyDone;
    this.status = new StatusLine(out, { intervalMs: 1000 });
  }

  start(id: string, kind: string, label: string): void {
    this.running.set(id, { label, kind, startedAt: Date.now(), text: 'starting', fraction: 0 });
    this.render(true);
  }

  update(id: string, text: string, fraction?: number): void {
    const p = this.running.get(id);
    if (!p) return;
    p.text = text;
    if (fraction !== undefined) p.fraction = Math.min(1, Math.max(0, fraction));
    this.render(false);
  }

  finish(id: string, ok: boolean): void {
    const p = this.running.get(id);
    this.running.delete(id);
    if (p) {
      const list = this.durations.get(p.kind) ?? [];
      if (ok) list.push((Date.now() - p.startedAt) / 1000);
      this.durations.set(p.kind, list);
      this.remainingByKind.set(p.kind, (this.remainingByKind.get(p.kind) ?? 1) - 1);
    }
    if (ok) this.done++;
    else this.failed++;
    this.render(true);
  }

  /** Seconds left: mean duration per kind times the cells left, shared by the workers. */
  eta(): number {
    const all = [...this.durations.values()].flat();
    const overall = all.length ? all.reduce((a, b) => a + b, 0) / all.length : NaN;
    let work = 0;
    for (const [kind, left] of this.remainingByKind) {
      const list = this.durations.get(kind) ?? [];
      const mean = list.length ? list.reduce((a, b) => a + b, 0) / list.length : overall;
      const runningOfKind = [...this.running.values()].filter((r) => r.kind === kind);
      const runningLeft = runningOfKind.reduce((a, r) => a + (1 - r.fraction), 0);
      work += mean * (left - runningOfKind.length + runningLeft);
    }
    return work / this.jobs;
  }

  line(): string {
    const elapsed = (Date.now() - this.started) / 1000;
    const current = [...this.running.values()]
      .map((r) => `${r.label} ${r.text}`)
      .join(' | ');
    const failed = this.failed ? `, ${this.failed} failed` : '';
    return `[${this.done}/${this.total} cells${failed}] elapsed ${formatDuration(elapsed)}, ETA ${formatDuration(this.eta())}${current ? ' :: ' + current : ''}`;
  }

  /** Cells starting and ending are always shown; progress within a cell is throttled. */
  private render(important: boolean): void {
    this.status.show(this.line(), { important });
  }

  close(): void {
    this.status.finish();
  }
}
