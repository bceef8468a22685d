// `dcnet bench`: runs the profile's cells in parallel worker threads (priority-limit.ts), appends each
// result as soon as its cell ends, and skips cells that already have a result (resume).
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { PACKAGE_ROOT } from '../version.js';
import { type Cell, planCells, shardCells, type ShardSpec } from './cells.js';
import type { BenchProfile } from './profile.js';
import { RunProgress } from './progress.js';
import { acquireLock } from '../io/lock.js';
import { appendRecord, appendSession, type CellRecord, checkRunFolder, lockFileName, pinPlugins, pinProfile, readRecords, type SessionRecord } from './results-store.js';
import type { PluginRecord } from '../../attacks/index.js';
import { priorityLimit } from './priority-limit.js';
import { WorkerPool } from './worker-pool.js';
import type { SourceDone } from './executors.js';
import { UserError } from '../errors.js';
import { resolveModelSources, type ModelSourceMode } from './published.js';

export interface BenchOptions {
  profile: BenchProfile;
  runDir: string;
  zooDir: string;
  jobs: number;
  shard: ShardSpec;
  backend: string;
  /** Show the progress display on stderr (default true). */
  progress?: boolean;
  /** Attack plugins already loaded in this process; every worker loads them too. */
  plugins?: PluginRecord[];
  /** Use the profile's committed models (default), never (`retrain`), or train nothing (`no-train`). */
  models?: ModelSourceMode;
  /** Where published results live (tests); default the package's `results/`. */
  publishedRoot?: string;
  /**
   * On SIGINT/SIGTERM, record the sitting in sessions.jsonl (marked interrupted) and exit
   * (the CLI): a study that spans sittings keeps the wall time of each one it was stopped in.
   */
  recordInterruption?: boolean;
}

export interface WorkerSetup {
  profile: BenchProfile;
  zooDir: string;
  backend: string;
  shard: string;
  plugins: PluginRecord[];
  /** Model id -> committed zoo, for the models read from the profile's published results. */
  committed?: Record<string, string>;
}

export interface BenchOutcome {
  planned: number;
  alreadyDone: number;
  ran: number;
  failed: Array<{ cellId: string; message: string }>;
  skipped: Array<{ cellId: string; because: string }>;
  /** Torn lines skipped in the results files (a killed run), one message per file. */
  torn: string[];
  wallSeconds: number;
}

const WORKER_FILE = pathToFileURL(join(PACKAGE_ROOT, 'dist', 'src', 'bench', 'worker.js'));

function label(cell: Cell): string {
  return `${cell.kind} ${cell.model.operator}/${cell.model.training}/s${cell.model.seed}`;
}

/** The transfer sources an evaluation cell attacks from (none for a training cell). */
const sourcesOf = (c: Cell): string[] => (c.kind === 'evaluate' ? [c.source.id, ...(c.otherSource ? [c.otherSource.id] : [])] : []);

/**
 * Workers keep each transfer source's examples for its targets: `onDone(source)` is called once
 * the last of the given evaluation cells of that source is settled (done, failed or skipped).
 */
export function whenSourceDone(cells: Cell[], onDone: (sourceId: string) => void): (settled: Cell) => void {
  const targetsLeft = new Map<string, number>();
  for (const c of cells) for (const id of sourcesOf(c)) targetsLeft.set(id, (targetsLeft.get(id) ?? 0) + 1);
  return (cell) => {
    for (const id of sourcesOf(cell)) {
      const left = targetsLeft.get(id)! - 1;
      targetsLeft.set(id, left);
      if (left === 0) onDone(id);
    }
  };
}

/** Runs the cells of one shard, holding that shard's lock on the run folder throughout. */
export async function runBench(opts: BenchOptions): Promise<BenchOutcome> {
  checkRunFolder(opts.runDir);
  const lock = acquireLock(opts.runDir, lockFileName(opts.shard), 'run folder');
  const sitting: Sitting = { started: Date.now(), loadBefore: loadavg()[0]!, jobs: opts.jobs, ran: 0, failed: 0 };
  const onSignal = (signal: NodeJS.Signals) => {
    appendSession(opts.runDir, sessionRecord(opts, sitting, signal));
    lock.release();
    process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
  };
  const signals: NodeJS.Signals[] = opts.recordInterruption ? ['SIGINT', 'SIGTERM'] : [];
  signals.forEach((s) => process.once(s, onSignal));
  try {
    return await runCells(opts, sitting);
  } finally {
    signals.forEach((s) => process.off(s, onSignal));
    lock.release();
  }
}

/** What a sitting has done so far: its session record, at the end or when interrupted. */
interface Sitting {
  started: number;
  loadBefore: number;
  jobs: number;
  ran: number;
  failed: number;
}

function sessionRecord(opts: BenchOptions, s: Sitting, interrupted?: NodeJS.Signals): SessionRecord {
  return {
    shard: `${opts.shard.index}/${opts.shard.count}`,
    startedAt: new Date(s.started).toISOString(),
    finishedAt: new Date().toISOString(),
    wallSeconds: (Date.now() - s.started) / 1000,
    jobs: s.jobs,
    backend: opts.backend,
    ran: s.ran,
    failed: s.failed,
    machine: { ...machine(), loadAverage: [s.loadBefore, loadavg()[0]!] },
    ...(interrupted ? { interrupted } : {}),
  };
}

async function runCells(opts: BenchOptions, sitting: Sitting): Promise<BenchOutcome> {
  const started = sitting.started;
  const plugins = opts.plugins ?? [];
  const cells = shardCells(planCells(opts.profile), opts.shard);
  const { records, torn } = readRecords(opts.runDir);
  const todo = cells.filter((c) => !records.has(c.id));
  // Committed models are checked (checksums, recipe) here, before any cell runs.
  const ids = new Set(todo.flatMap((c) => (c.kind === 'train' ? [c.model.id] : [c.model.id, c.source.id])));
  const sources = resolveModelSources(opts.profile, [...ids], {
    zooDir: opts.zooDir,
    mode: opts.models ?? 'default',
    ...(opts.publishedRoot ? { root: opts.publishedRoot } : {}),
  });
  for (const note of sources.notes) process.stderr.write(`bench: ${note}\n`);
  const committedCount = Object.keys(sources.committed).length;
  if (committedCount) process.stderr.write(`bench: ${committedCount} committed model(s) verified; they are attacked, not trained (--retrain trains your own)\n`);
  pinProfile(opts.runDir, opts.profile);
  pinPlugins(opts.runDir, plugins);
  const remainingByKind = new Map<string, number>();
  for (const c of todo) remainingByKind.set(c.kind, (remainingByKind.get(c.kind) ?? 0) + 1);
  const shardName = `${opts.shard.index}/${opts.shard.count}`;
  const outcome: BenchOutcome = {
    planned: cells.length,
    alreadyDone: cells.length - todo.length,
    ran: 0,
    failed: [],
    skipped: [],
    torn,
    wallSeconds: 0,
  };
  if (todo.length === 0) return { ...outcome, wallSeconds: 0 };

  const jobs = Math.max(1, Math.min(opts.jobs, todo.length));
  sitting.jobs = jobs;
  const progress = new RunProgress(cells.length, remainingByKind, jobs, outcome.alreadyDone, opts.progress === false ? devNull() : process.stderr);
  const setup: WorkerSetup = { profile: opts.profile, zooDir: opts.zooDir, backend: opts.backend, shard: shardName, plugins, committed: sources.committed };
  const pool = new WorkerPool(jobs, WORKER_FILE, setup, (id, text, fraction) => progress.update(id, text, fraction));
  const limit = priorityLimit(jobs);
  const finished = new Map<string, Promise<void>>();
  const settled = whenSourceDone(todo, (sourceId) => pool.broadcast({ sourceDone: sourceId } satisfies SourceDone));

  const schedule = (cell: Cell): Promise<void> => {
    const existing = finished.get(cell.id);
    if (existing) return existing;
    const needs = cell.kind === 'evaluate' ? cell.needs : [];
    const p = (async () => {
      if (records.has(cell.id)) return;
      try {
        await runCell(cell, needs);
      } finally {
        settled(cell);
      }
    })();
    finished.set(cell.id, p);
    return p;
  };

  const runCell = async (cell: Cell, needs: string[]): Promise<void> => {
    const depCells = needs.map((id) => cells.find((c) => c.id === id)).filter((c): c is Cell => Boolean(c));
    const depResults = await Promise.allSettled(depCells.map(schedule));
    const failedDep = depResults.findIndex((r) => r.status === 'rejected');
    if (failedDep >= 0) {
      const because = depCells[failedDep]!.id;
      outcome.skipped.push({ cellId: cell.id, because });
      throw new Error(`skipped: ${because} did not finish`);
    }
    await limit(cell.kind === 'evaluate' ? 'first' : 'later', async () => {
      progress.start(cell.id, cell.kind, label(cell));
      const startedAt = new Date();
      try {
        const value = await pool.run<{ result: unknown; backend: string; toolkitVersion: string }>(cell.id, cell);
        const record: CellRecord = {
          schema: 'dcnet-robustness/cell-result@1',
          cellId: cell.id,
          kind: cell.kind,
          modelId: cell.model.id,
          shard: shardName,
          startedAt: startedAt.toISOString(),
          finishedAt: new Date().toISOString(),
          wallSeconds: (Date.now() - startedAt.getTime()) / 1000,
          backend: value.backend,
          toolkitVersion: value.toolkitVersion,
          ...(plugins.length ? { plugins } : {}),
          result: value.result,
        };
        appendRecord(opts.runDir, opts.shard, record);
        records.set(cell.id, record);
        outcome.ran++;
        sitting.ran++;
        progress.finish(cell.id, true);
      } catch (err) {
        // A worker that cannot start fails the whole run (below), not this cell.
        if (pool.failure) throw err;
        const message = err instanceof Error ? err.message : String(err);
        outcome.failed.push({ cellId: cell.id, message });
        sitting.failed++;
        progress.finish(cell.id, false);
        // A user error is its one-line message; anything else is a bug: show where it happened.
        if (err instanceof Error && !(err instanceof UserError) && err.stack) {
          process.stderr.write(`\n${cell.id} failed:\n${err.stack}\n`);
        }
        throw err;
      }
    });
  };

  try {
    // Transfer sources train first: every evaluation needs one, so evaluations can start early.
    const sources = new Set(cells.flatMap(sourcesOf));
    const isSource = (c: Cell) => c.kind === 'train' && sources.has(c.model.id);
    await Promise.allSettled([...cells.filter(isSource), ...cells.filter((c) => !isSource(c))].map(schedule));
  } finally {
    progress.close();
    await pool.close();
  }
  if (pool.failure) throw pool.failure;
  outcome.wallSeconds = (Date.now() - started) / 1000;
  appendSession(opts.runDir, sessionRecord(opts, sitting));
  return outcome;
}

/** The machine a session ran on, recorded with its wall time (published runs say where they ran). */
function machine(): { cpu: string; cores: number; node: string } {
  const c = cpus();
  return { cpu: c[0]?.model.trim() ?? 'unknown', cores: c.length, node: process.version };
}

function devNull(): NodeJS.WriteStream {
  return { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream;
}
