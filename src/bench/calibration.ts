// Per-image costs of a network's training step, forward pass and input gradient on the
// running backend: a short measurement (the perf program's own steps), cached per machine
// and backend so a second --dry-run answers at once.
import { existsSync, readFileSync } from 'node:fs';
import { cpus, homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { measureCell, type PerfSettings } from '../perf/measure.js';
import type { StepKind } from '../perf/steps.js';
import { VERSION } from '../version.js';

export const CALIBRATION_SCHEMA = 'dcnet-robustness/calibration@1';

export interface CalibrationRequest {
  backend: string;
  architecture: string;
  operator: string;
  inputShape: [number, number, number];
  classes: number;
  step: StepKind;
  /** Images per measured step (the run's batch, capped: a calibration, not a benchmark). */
  batch: number;
  /** Timed steps (after one warm-up step). */
  steps: number;
  /** Decoupled operators with a learnable radius (as the profile trains them). */
  learnableRadius?: boolean;
}

export interface CalibrationEntry {
  secondsPerImage: number;
  measuredAt: string;
}

interface CacheFile {
  schema: string;
  entries: Record<string, CalibrationEntry>;
}

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DCNET_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'dcnet-robustness');
}

/** The machine (host, CPU model and count), backend, toolkit version and what was measured. */
export function calibrationKey(r: CalibrationRequest): string {
  const cpu = `${cpus()[0]?.model ?? 'cpu'} x${cpus().length}`;
  return [hostname(), cpu, r.backend, VERSION, r.architecture, r.learnableRadius ? `${r.operator}+learnable-radius` : r.operator, r.step, r.inputShape.join('x'), `b${r.batch}`].join('|');
}

function readCache(file: string): CacheFile {
  if (!existsSync(file)) return { schema: CALIBRATION_SCHEMA, entries: {} };
  try {
    const c = JSON.parse(readFileSync(file, 'utf8')) as CacheFile;
    if (c.schema === CALIBRATION_SCHEMA && typeof c.entries === 'object' && c.entries) return c;
  } catch {
    // A damaged cache is only a cache: measure again and overwrite it.
  }
  return { schema: CALIBRATION_SCHEMA, entries: {} };
}

export interface Calibrator {
  /** Seconds per image of one step kind; measured once, then from the cache. */
  measure(r: CalibrationRequest): { cost: CalibrationEntry; cached: boolean };
  file: string;
}

export function calibrator(
  cacheDir: string = defaultCacheDir(),
  measure: (r: CalibrationRequest) => number = measureSecondsPerImage,
): Calibrator {
  const file = join(cacheDir, 'calibration.json');
  return {
    file,
    measure(r) {
      const key = calibrationKey(r);
      const cache = readCache(file);
      const hit = cache.entries[key];
      if (hit) return { cost: hit, cached: true };
      const cost: CalibrationEntry = { secondsPerImage: measure(r), measuredAt: new Date().toISOString() };
      // Read again just before writing: another process may have added entries meanwhile.
      const latest = readCache(file);
      latest.entries[key] = cost;
      writeFileAtomic(file, JSON.stringify(latest, null, 2) + '\n');
      return { cost, cached: false };
    },
  };
}

/**
 * Seconds per image from the median of `steps` timed steps after one warm-up step, on this
 * process's CPU time: the estimate is in CPU-hours, and other jobs on a shared machine
 * (measured: load 5 on 2 cores doubled wall-clock step times) must not inflate it.
 */
export function measureSecondsPerImage(r: CalibrationRequest): number {
  const settings: PerfSettings = { inputShape: r.inputShape, classes: r.classes, steps: r.steps, warmup: 1, seed: 1, clock: 'cpu' };
  const cell = { network: r.architecture, operator: r.operator, step: r.step, batch: r.batch, ...(r.learnableRadius ? { operatorOptions: { learnableRadius: true } } : {}) };
  return 1 / measureCell(cell, settings).imagesPerSecond;
}
