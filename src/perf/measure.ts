// Times the benchmark's steps: warm-up steps first (kernel set-up, XNNPACK packing), then a
// fixed number of timed steps; each step's small result is read back so the work is done.
import { tf } from '../tf.js';
import { buildModel } from '../../models/architectures.js';
import { clockSeconds, type Clock } from './clock.js';
import { profileSteps, type StepProfile } from './kernel-profile.js';
import { makeStep, randomBatch, type Step, type StepKind } from './steps.js';

export { CLOCKS, clockSeconds, type Clock } from './clock.js';

export interface PerfCell {
  network: string;
  operator: string;
  step: StepKind;
  batch: number;
  /** The decoupled layers' options (a learnable radius changes the cost: more ops per layer). */
  operatorOptions?: { learnableRadius?: boolean };
}

export interface PerfResult extends PerfCell {
  imagesPerSecond: number;
}

export interface PerfSettings {
  inputShape: [number, number, number];
  classes: number;
  steps: number;
  warmup: number;
  seed: number;
  clock: Clock;
}

/** A cell's model, batch and step, warmed up; `close()` frees them. */
function openCell(cell: PerfCell, s: PerfSettings): { step: Step; close: () => void } {
  const model = buildModel(cell.network as never, {
    inputShape: s.inputShape,
    numClasses: s.classes,
    operator: cell.operator,
    ...(cell.operatorOptions ? { operatorOptions: cell.operatorOptions } : {}),
    seed: s.seed,
  });
  const batch = randomBatch(cell.batch, s.inputShape, s.classes, s.seed);
  const { step, dispose } = makeStep(cell.step, model, batch);
  const close = () => {
    dispose();
    tf.dispose([batch.x, batch.y]);
    model.dispose();
  };
  try {
    for (let i = 0; i < s.warmup; i++) readAndDispose(step());
  } catch (err) {
    close();
    throw err;
  }
  return { step, close };
}

/**
 * Runs one cell: builds the model, warms up, times `steps` steps one by one; images per
 * second from the median step; frees everything.
 */
export function measureCell(cell: PerfCell, s: PerfSettings): PerfResult {
  const { step, close } = openCell(cell, s);
  try {
    const seconds: number[] = [];
    for (let i = 0; i < s.steps; i++) {
      const start = clockSeconds(s.clock);
      readAndDispose(step());
      seconds.push(clockSeconds(s.clock) - start);
    }
    return { ...cell, imagesPerSecond: cell.batch / median(seconds) };
  } finally {
    close();
  }
}

/** The per-kernel profile of `runs` steps of one cell (after its warm-up). */
export async function profileCell(cell: PerfCell, s: PerfSettings, runs: number): Promise<StepProfile> {
  const { step, close } = openCell(cell, s);
  try {
    return await profileSteps(() => readAndDispose(step()), runs, s.clock);
  } finally {
    close();
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
