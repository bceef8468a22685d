// Attack throughput benchmark on small-cnn. Two parts:
// - kernels: images/s of the forward pass, one input gradient, FGSM and 10-step BIM on an
//   untrained small-cnn (speed does not depend on the weights), measured in the same run so
//   ratios hold on a shared, noisy machine;
// - attacks: seconds per 1,000 points of APGD-CE (100 it), APGD-T, FAB-T, Square (5,000
//   queries) and the AutoAttack ensemble on trained small-cnns (standard and decoupled). With
//   early stop by compaction their cost follows the points that stay robust, so they are timed
//   on trained models from the zoo (trained with the quick recipe when missing) and real test points.
// Usage: node dist/attacks/bench-throughput.js [--backend wasm] [--batch 128] [--repeats 3]
//        [--operators standard,tanh-cosine] [--n 100] [--attack-batch 100] [--eps 0.1] [--zoo DIR]
//        [--only kernels|attacks] [--json]
// The issue-13 measurement (1,000 points, full settings): --only attacks --n 1000.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { tf } from '../src/tf.js';
import { initBackend } from '../src/backend.js';
import { loadDataset } from '../src/data/index.js';
import { BACKEND_OPTION_HELP } from '../src/cli/runtime.js';
import { runEntry } from '../src/cli/entry.js';
import { parseList, parseNumber, parsePositiveInteger } from '../src/cli/options.js';
import { buildModel } from '../models/architectures.js';
import { loadZooModel, modelDir, resolveZooDir, trainModel } from '../models/zoo/index.js';
import { logitsOf } from './model.js';
import { perturb } from './base.js';
import { lossGradient, misclassified, readMask } from './tensor-ops.js';
import type { LogitsFn } from './types.js';

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
      const { grad, fooled, loss } = lossGradient(logits, x, y);
      return [grad, fooled, loss];
    }),
    measure('fgsm', options.batch, options.repeats, () => perturb('fgsm', logits, x, y, eps)),
    measure('bim (10 steps)', options.batch, options.repeats, () => perturb('bim', logits, x, y, eps, { steps: 10 })),
  ];
  tf.dispose([x, y]);
  model.dispose();
  return { backend: info.description, operator: options.operator, batch: options.batch, repeats: options.repeats, rows };
}

/** The AutoAttack-grade attacks at their standard settings. */
export const STANDARD_ATTACKS: Array<{ what: string; attack: string; params: Record<string, unknown> }> = [
  { what: 'apgd-ce (100 it)', attack: 'apgd-ce', params: { steps: 100 } },
  { what: 'apgd-t (9 targets x 100 it)', attack: 'apgd-t', params: {} },
  { what: 'fab-t (9 targets x 100 it)', attack: 'fab-t', params: {} },
  { what: 'square (5000 queries, p_init 0.8)', attack: 'square', params: { queries: 5000, pInit: 0.8 } },
  { what: 'autoattack (standard)', attack: 'autoattack', params: {} },
];

export interface AttackCostRow {
  model: string;
  what: string;
  attack: string;
  points: number;
  seconds: number;
  secondsPer1000: number;
  /** Process CPU time (user + system) per 1,000 points: what the attack costs on a busy machine. */
  cpuSecondsPer1000: number;
  imagesPerSecond: number;
  /** Robust accuracy over the points (clean mistakes count as not robust). */
  robustAccuracy: number;
}

/** A trained small-cnn from the zoo, trained with the quick profile's recipe if it is missing. */
async function trainedModel(operator: string, zooDir: string): Promise<{ id: string; logits: LogitsFn; model: tf.LayersModel }> {
  const id = `fashion-mnist-embedded/small-cnn/${operator}/standard/s0`;
  if (!existsSync(join(modelDir(id, zooDir), 'manifest.json'))) {
    console.error(`training ${id} (2 epochs, the quick profile's recipe) into ${zooDir} ...`);
    await trainModel({ id, zooDir, epochs: 2 });
  }
  const { model } = await loadZooModel(id, { zooDir });
  return { id, model, logits: logitsOf(model) };
}

export async function attackCosts(options: { backend: string; operators: string[]; attacks?: string[]; n: number; batch: number; eps: number; zoo?: string }) {
  const chosen = STANDARD_ATTACKS.filter((a) => !options.attacks || options.attacks.includes(a.attack));
  const info = await initBackend(options.backend);
  const zooDir = resolveZooDir(options.zoo);
  const test = loadDataset('fashion-mnist-embedded', { split: 'test', limit: options.n });
  const rows: AttackCostRow[] = [];
  for (const operator of options.operators) {
    const { id, model, logits } = await trainedModel(operator, zooDir);
    for (const a of chosen) {
      let seconds = 0;
      let cpu = 0;
      let robust = 0;
      for (let start = 0; start < options.n; start += options.batch) {
        const m = Math.min(options.batch, options.n - start);
        const x = tf.tensor4d(test.images.subarray(start * 784, (start + m) * 784), [m, 28, 28, 1]);
        const y = tf.tensor1d(test.labels.subarray(start, start + m), 'int32');
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        // Point ids: Square's per-point streams make its result independent of the batch size.
        const ids = Array.from({ length: m }, (_, i) => start + i);
        const adv = perturb(a.attack, logits, x, y, options.eps, a.params, 0, ids);
        const wrong = readMask(() => misclassified(logits(adv), y));
        seconds += (performance.now() - t0) / 1000;
        const c = process.cpuUsage(c0);
        cpu += (c.user + c.system) / 1e6;
        robust += Array.from(wrong).filter((v) => !v).length;
        tf.dispose([x, y, adv]);
      }
      rows.push({
        model: id,
        what: a.what,
        attack: a.attack,
        points: options.n,
        seconds,
        secondsPer1000: (seconds / options.n) * 1000,
        cpuSecondsPer1000: (cpu / options.n) * 1000,
        imagesPerSecond: options.n / seconds,
        robustAccuracy: robust / options.n,
      });
      console.error(`${id}  ${a.what}: ${seconds.toFixed(1)} s (${cpu.toFixed(1)} s CPU) for ${options.n} points`);
    }
    model.dispose();
  }
  return { backend: info.description, eps: options.eps, n: options.n, batch: options.batch, rows };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runEntry('bench:attacks', async () => {
    const values = new Command()
      .name('npm run bench:attacks --')
      .description('images/s of FGSM and BIM on small-cnn, and seconds per 1,000 test points of the AutoAttack members and the ensemble')
      .option('--backend <name>', BACKEND_OPTION_HELP, 'wasm')
      .option('--batch <n>', 'images per batch', parsePositiveInteger('--batch'), 128)
      .option('--repeats <n>', 'timed batches (median)', parsePositiveInteger('--repeats'), 3)
      .option('--operators <ids>', 'operator ids of small-cnn', parseList('--operators'), ['standard', 'tanh-cosine'])
      .option('--n <count>', 'test points attacked per model (attacks part; the issue-13 target is 1000)', parsePositiveInteger('--n'), 100)
      .option('--attacks <names>', `attacks part: which of ${STANDARD_ATTACKS.map((a) => a.attack).join(',')}`, parseList('--attacks', STANDARD_ATTACKS.map((a) => a.attack)))
      .option('--attack-batch <n>', 'points per attack call (attacks part)', parsePositiveInteger('--attack-batch'), 100)
      .option('--eps <e>', 'epsilon of the attacks part', parseNumber('--eps', { min: 0, max: 1 }), 0.1)
      .option('--zoo <dir>', 'zoo with the trained models (trained there when missing)')
      .option('--only <part>', 'kernels or attacks')
      .option('--json', 'print JSON')
      .exitOverride()
      .parse(process.argv)
      .opts<{ backend: string; batch: number; attackBatch: number; attacks?: string[]; repeats: number; operators: string[]; n: number; eps: number; zoo?: string; only?: string; json?: boolean }>();
    const operators = values.operators;
    const out: Record<string, unknown> = {};
    if (values.only !== 'attacks') {
      out.kernels = [];
      for (const operator of operators) {
        const r = await attackThroughput({ backend: values.backend, batch: values.batch, repeats: values.repeats, operator });
        (out.kernels as unknown[]).push(r);
        if (!values.json) {
          console.log(`small-cnn (${r.operator}, untrained), batch ${r.batch}, median of ${r.repeats}, backend ${r.backend}`);
          for (const row of r.rows) console.log(`  ${row.what.padEnd(16)} ${row.imagesPerSecond.toFixed(1).padStart(8)} images/s  ${row.msPerBatch.toFixed(0).padStart(6)} ms/batch`);
        }
      }
    }
    if (values.only !== 'kernels') {
      const r = await attackCosts({ backend: values.backend, operators, attacks: values.attacks, n: values.n, batch: values.attackBatch, eps: values.eps, zoo: values.zoo });
      out.attacks = r;
      if (!values.json) {
        console.log(`\ntrained small-cnn, first ${r.n} test points of fashion-mnist-embedded, eps ${r.eps}, batch ${r.batch}, backend ${r.backend}`);
        for (const row of r.rows) {
          console.log(
            `  ${row.model.padEnd(52)} ${row.what.padEnd(34)} ${row.secondsPer1000.toFixed(0).padStart(7)} s/1000 points ` +
              `(${row.cpuSecondsPer1000.toFixed(0).padStart(5)} s CPU) ` +
              `${row.imagesPerSecond.toFixed(2).padStart(8)} images/s  robust ${(row.robustAccuracy * 100).toFixed(1)}%`,
          );
        }
      }
    }
    if (values.json) console.log(JSON.stringify(out, null, 2));
  });
}
