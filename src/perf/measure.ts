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

export interface PerfSettings {
  inputShape: [number, number, number];
  classes: number;
  steps: number;
  warmup: number;
  seed: number;
}

/** Runs one cell: builds the model, warms up, times `steps` steps; frees everything. */
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
    const start = performance.now();
    for (let i = 0; i < s.steps; i++) readAndDispose(step());
    const seconds = (performance.now() - start) / 1000;
    return { ...cell, imagesPerSecond: (cell.batch * s.steps) / seconds };
  } finally {
    dispose();
    tf.dispose([batch.x, batch.y]);
    model.dispose();
  }
}

function readAndDispose(t: tf.Tensor): void {
  t.dataSync();
  t.dispose();
}
