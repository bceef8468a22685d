// Times the benchmark's steps: warm-up steps first (kernel set-up, XNNPACK packing), then a
// fixed number of timed steps; each step's small result is read back so the work is done.
import { tf } from '../tf.js';
import { buildModel } from '../../models/architectures.js';
import { makeStep, randomBatch, type StepKind } from './steps.js';

export interface PerfCell {
  network: string;
  operator: string;
  step: StepKind;
  batch: number;
}

export interface PerfResult extends PerfCell {
  imagesPerSecond: number;
}

/**
 * wall: elapsed time (what a user waits). cpu: this process's CPU time, steadier on a machine
 * shared with other jobs (a single-threaded runtime's CPU time is the one core's work).
 */
export const CLOCKS = ['wall', 'cpu'] as const;
export type Clock = (typeof CLOCKS)[number];

/** Seconds on the chosen clock, from an arbitrary origin. */
export function clockSeconds(clock: Clock): number {
  if (clock === 'wall') return performance.now() / 1000;
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

export interface PerfSettings {
  inputShape: [number, number, number];
  classes: number;
  steps: number;
  warmup: number;
  seed: number;
  clock: Clock;
}

/**
 * Runs one cell: builds the model, warms up, times `steps` steps one by one; images per
 * second from the median step; frees everything.
 */
export function measureCell(cell: PerfCell, s: PerfSettings): PerfResult {
  const model = buildModel(cell.network as never, {
    inputShape: s.inputShape,
    numClasses: s.classes,
    operator: cell.operator,
    seed: s.seed,
  });
  const batch = randomBatch(cell.batch, s.inputShape, s.classes, s.seed);
  const { step, dispose } = makeStep(cell.step, model, batch);
  try {
    for (let i = 0; i < s.warmup; i++) readAndDispose(step());
    const seconds: number[] = [];
    for (let i = 0; i < s.steps; i++) {
      const start = clockSeconds(s.clock);
      readAndDispose(step());
      seconds.push(clockSeconds(s.clock) - start);
    }
    return { ...cell, imagesPerSecond: cell.batch / median(seconds) };
  } finally {
    dispose();
    tf.dispose([batch.x, batch.y]);
    model.dispose();
  }
}

/**
 * The median step time: on a shared machine (steal time) a few slow steps would move the mean;
 * the PyTorch anchor reports the same statistic.
 */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function readAndDispose(t: tf.Tensor): void {
  t.dataSync();
  t.dispose();
}
