// Attack throughput benchmark: images/s of FGSM and 10-step BIM on small-cnn (untrained
// weights suffice for speed), next to the forward pass and one input gradient measured in
// the same run, so ratios hold on a shared, noisy machine.
// Usage: node dist/attacks/bench-throughput.js [--backend wasm] [--batch 128] [--repeats 3] [--operator standard]
import { Command } from 'commander';
import { tf } from '../src/tf.js';
import { initBackend } from '../src/backend.js';
import { BACKEND_OPTION_HELP } from '../src/cli/runtime.js';
import { runEntry } from '../src/cli/entry.js';
import { parsePositiveInteger } from '../src/cli/options.js';
import { buildModel } from '../models/architectures.js';
import { logitsOf } from './model.js';
import { perturb } from './base.js';
import { lossGradient } from './tensor-ops.js';

export interface ThroughputRow {
  what: string;
  imagesPerSecond: number;
  msPerBatch: number;
}

/** Median images/s of `fn` over `repeats` timed batches after one warm-up. */
function measure(what: string, batch: number, repeats: number, fn: () => tf.Tensor | tf.Tensor[]): ThroughputRow {
  tf.dispose(fn());
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    const out = fn();
    // dataSync forces completion on asynchronous backends; wasm is synchronous anyway.
    for (const o of Array.isArray(out) ? out : [out]) o.dataSync();
    times.push(performance.now() - t);
    tf.dispose(out);
  }
  const ms = times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
  return { what, imagesPerSecond: (1000 * batch) / ms, msPerBatch: ms };
}

export async function attackThroughput(options: { backend: string; batch: number; repeats: number; operator: string }) {
  const info = await initBackend(options.backend);
  const model = buildModel('small-cnn', { inputShape: [28, 28, 1], numClasses: 10, operator: options.operator, seed: 0 });
  const logits = logitsOf(model);
  const x = tf.randomUniform([options.batch, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
  const y = tf.tidy(() => tf.cast(tf.argMax(logits(x), 1), 'int32') as tf.Tensor1D);
  const eps = 0.1;
  const rows = [
    measure('forward', options.batch, options.repeats, () => tf.tidy(() => logits(x))),
    measure('input gradient', options.batch, options.repeats, () => {
      const { grad, fooled } = lossGradient(logits, x, y);
      return [grad, fooled];
    }),
    measure('fgsm', options.batch, options.repeats, () => perturb('fgsm', logits, x, y, eps)),
    measure('bim (10 steps)', options.batch, options.repeats, () => perturb('bim', logits, x, y, eps, { steps: 10 })),
  ];
  tf.dispose([x, y]);
  model.dispose();
  return { backend: info.description, operator: options.operator, batch: options.batch, repeats: options.repeats, rows };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runEntry('bench:attacks', async () => {
    const options = new Command()
      .name('npm run bench:attacks --')
      .description('images/s of FGSM and 10-step BIM on small-cnn, beside the forward pass and one input gradient')
      .option('--backend <name>', BACKEND_OPTION_HELP, 'wasm')
      .option('--batch <n>', 'images per batch', parsePositiveInteger('--batch'), 128)
      .option('--repeats <n>', 'timed batches (median)', parsePositiveInteger('--repeats'), 3)
      .option('--operator <id>', 'operator id of small-cnn', 'standard')
      .exitOverride()
      .parse(process.argv)
      .opts<{ backend: string; batch: number; repeats: number; operator: string }>();
    const r = await attackThroughput(options);
    console.log(`small-cnn (${r.operator}), batch ${r.batch}, median of ${r.repeats}, backend ${r.backend}`);
    for (const row of r.rows) console.log(`${row.what.padEnd(16)} ${row.imagesPerSecond.toFixed(1).padStart(8)} images/s  ${row.msPerBatch.toFixed(0).padStart(6)} ms/batch`);
  });
}
