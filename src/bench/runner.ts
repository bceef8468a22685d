// `dcnet bench`: runs the profile's cells in parallel worker threads (p-limit), appends each
// result as soon as its cell ends, and skips cells that already have a result (resume).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pLimit from 'p-limit';
import { PACKAGE_ROOT } from '../version.js';
import { type Cell, planCells, shardCells, type ShardSpec } from './cells.js';
import type { BenchProfile } from './profile.js';
import { RunProgress } from './progress.js';
import { appendRecord, appendSession, type CellRecord, pinProfile, readRecords } from './results-store.js';
import { WorkerPool } from './worker-pool.js';
import type { SourceDone } from './executors.js';
import { UserError } from '../errors.js';

export interface BenchOptions {
  profile: BenchProfile;
  runDir: string;
  zooDir: string;
  jobs: number;
  shard: ShardSpec;
  backend: string;
  /** Show the progress display on stderr (default true). */
  progress?: boolean;
}

export interface WorkerSetup {
  profile: BenchProfile;
  zooDir: string;
  backend: string;
  shard: string;
}

export interface BenchOutcome {
  planned: number;
  alreadyDone: number;
  ran: number;
  failed: Array<{ cellId: string; message: string }>;
  skipped: Array<{ cellId: string; because: string }>;
  wallSeconds: number;
}

const WORKER_FILE = pathToFileURL(join(PACKAGE_ROOT, 'dist', 'src', 'bench', 'worker.js'));

function label(cell: Cell): string {
  return `${cell.kind} ${cell.model.operator}/${cell.model.training}/s${cell.model.seed}`;
}

/**
 * Workers keep each transfer source's examples for its targets: `onDone(source)` is called once
 * the last of the given evaluation cells of that source is settled (done, failed or skipped).
 */
export function whenSourceDone(cells: Cell[], onDone: (sourceId: string) => void): (settled: Cell) => void {
  const targetsLeft = new Map<string, number>();
  for (const c of cells) if (c.kind === 'evaluate') targetsLeft.set(c.source.id, (targetsLeft.get(c.source.id) ?? 0) + 1);
  return (cell) => {
    if (cell.kind !== 'evaluate') return;
    const left = targetsLeft.get(cell.source.id)! - 1;
    targetsLeft.set(cell.source.id, left);
    if (left === 0) onDone(cell.source.id);
  };
}

export async function runBench(opts: BenchOptions): Promise<BenchOutcome> {
  const started = Date.now();
  pinProfile(opts.runDir, opts.profile);
  const cells = shardCells(planCells(opts.profile), opts.shard);
  const { records } = readRecords(opts.runDir);
  const todo = cells.filter((c) => !records.has(c.id));
  const remainingByKind = new Map<string, number>();
  for (const c of todo) remainingByKind.set(c.kind, (remainingByKind.get(c.kind) ?? 0) + 1);
  const shardName = `${opts.shard.index}/${opts.shard.count}`;
  const outcome: BenchOutcome = {
    planned: cells.length,
    alreadyDone: cells.length - todo.length,
    ran: 0,
    failed: [],
    skipped: [],
    wallSeconds: 0,
  };
  if (todo.length === 0) return { ...outcome, wallSeconds: 0 };

  const jobs = Math.max(1, Math.min(opts.jobs, todo.length));
  const progress = new RunProgress(cells.length, remainingByKind, jobs, outcome.alreadyDone, opts.progress === false ? devNull() : process.stderr);
  const setup: WorkerSetup = { profile: opts.profile, zooDir: opts.zooDir, backend: opts.backend, shard: shardName };
  const pool = new WorkerPool(jobs, WORKER_FILE, setup, (id, text, fraction) => progress.update(id, text, fraction));
  const limit = pLimit(jobs);
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
    await limit(async () => {
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
          result: value.result,
        };
        appendRecord(opts.runDir, opts.shard, record);
        records.set(cell.id, record);
        outcome.ran++;
        progress.finish(cell.id, true);
      } catch (err) {
        // A worker that cannot start fails the whole run (below), not this cell.
        if (pool.failure) throw err;
        const message = err instanceof Error ? err.message : String(err);
        outcome.failed.push({ cellId: cell.id, message });
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
    await Promise.allSettled(cells.map(schedule));
  } finally {
    progress.close();
    await pool.close();
  }
  if (pool.failure) throw pool.failure;
  outcome.wallSeconds = (Date.now() - started) / 1000;
  appendSession(opts.runDir, {
    shard: shardName,
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date().toISOString(),
    wallSeconds: outcome.wallSeconds,
    jobs,
    backend: opts.backend,
    ran: outcome.ran,
    failed: outcome.failed.length,
  });
  return outcome;
}

function devNull(): NodeJS.WriteStream {
  return { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream;
}
