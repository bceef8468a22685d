#!/usr/bin/env node
// The cross-backend check at benchmark sizes (test/cross-backend.test.ts runs it at CI sizes):
// trains (or reuses) zoo models, then runs the same test points through forward, input
// gradient, one training step's gradients and FGSM/BIM on the cpu reference and on wasm, and
// prints the largest relative differences and the robust accuracies on both backends.
// Usage (after `npm run build`):
//   node scripts/cross-backend.mjs [--points 200] [--eps 0.1] [--epochs 1] [--train-limit 2048]
//     [--attacks fgsm,bim] [--work <dir>] [id ...]
// Default ids: the small-cnn SegConv-sigmoid and TanhConv-linear models of issue 10.
// Exits 1 when a model disagrees (differences beyond float32 tolerance, or attack outcomes
// that differ other than float near-ties: |margin| <= 1e-4 on either backend). Points where a
// ReLU or max-pool decision differs at a near-tie (input within 1e-5 of the layer's largest
// value of the tie) are reported apart: there the gradient legitimately takes another path.
import { Command } from 'commander';
import { existsSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { initBackend } = await import(join(root, 'dist/src/backend.js'));
const { parseNumber, parseInteger } = await import(join(root, 'dist/src/cli/options.js'));
const { trainModel, loadZooModel, parseZooId } = await import(join(root, 'dist/models/zoo/index.js'));
const { loadDataset } = await import(join(root, 'dist/src/data/load.js'));
const { compareProbes, onBackend, probeModel } = await import(join(root, 'dist/src/eval/cross-backend.js'));

const program = new Command('cross-backend')
  .option('--points <n>', 'test points', parseInteger('--points'), 200)
  .option('--eps <x>', 'Linf epsilon of FGSM and BIM', parseNumber('--eps'), 0.1)
  .option('--epochs <n>', 'epochs when a model must be trained', parseInteger('--epochs'), 1)
  .option('--train-limit <n>', 'training images when a model must be trained', parseInteger('--train-limit'), 2048)
  .option('--attacks <names>', 'comma-separated attacks (BIM: 10 steps, slow on the cpu backend)', 'fgsm,bim')
  .option('--work <dir>', 'folder of the trained models (reused when present)', join(root, '.cross-backend'))
  .argument('[ids...]', 'zoo model ids')
  .parse();
const o = program.opts();
const ids = program.args.length
  ? program.args
  : ['seg-sigmoid', 'tanh-linear'].map((op) => `fashion-mnist-embedded/small-cnn/${op}/standard/s0`);

const TIE_MARGIN = 1e-4;
const TOLERANCE = { logits: 1e-4, inputGradient: 1e-3, trainingLoss: 1e-5, weightGradients: 1e-3 };
await initBackend('wasm');
mkdirSync(o.work, { recursive: true });
let failed = false;
for (const id of ids) {
  const dir = join(o.work, id.replaceAll('/', '_'));
  if (!existsSync(join(dir, 'model.json'))) {
    await trainModel({ id, out: dir, epochs: o.epochs, trainLimit: o.trainLimit, testLimit: 256 });
  }
  const { model } = await loadZooModel(dir);
  const test = loadDataset(parseZooId(id).dataset, { split: 'test', limit: o.points });
  const attacks = Object.fromEntries(o.attacks.split(',').map((name) => [name, {}]));
  const probe = () => probeModel(model, test.images, [test.count, ...test.shape], test.labels, { attacks, epsilon: o.eps });
  const cpu = await onBackend('cpu', probe);
  const wasm = await onBackend('wasm', probe);
  const c = compareProbes(wasm, cpu, TIE_MARGIN);
  console.log(`${id} (${test.count} points, eps ${o.eps})`);
  for (const key of Object.keys(TOLERANCE)) {
    const bad = !(c[key] <= TOLERANCE[key]);
    failed ||= bad;
    const over = key === 'inputGradient' ? ` (over the ${test.count - c.gateFlips.points.length} points whose ReLU/max-pool decisions agree)` : '';
    console.log(`  ${key.padEnd(16)} max relative difference ${c[key].toExponential(2)}${over}${bad ? '  > ' + TOLERANCE[key] : ''}`);
  }
  // A decision that differs only where the gate's input is within rounding of a tie moves that
  // point's gradient to another unit: counted, not failed. One away from a tie fails.
  const g = c.gateFlips;
  failed ||= g.notTies > 0;
  console.log(
    `  gate near-ties    ${g.points.length} point(s) where a ReLU/max-pool decision differs at a near-tie` +
      `${g.points.length ? ` (points ${g.points.join(', ')}; their largest input-gradient difference ${g.inputGradient.toExponential(2)})` : ''}` +
      `; decisions differing away from a tie: ${g.notTies}`,
  );
  for (const [name, a] of Object.entries(c.attacks)) {
    const robust = (fooled) => ((100 * (test.count - fooled)) / test.count).toFixed(1);
    const bad = a.differing > a.nearTies;
    failed ||= bad;
    console.log(
      `  ${name.padEnd(16)} robust accuracy wasm ${robust(a.fooled[0])}% (${test.count - a.fooled[0]}), ` +
        `cpu ${robust(a.fooled[1])}% (${test.count - a.fooled[1]}); outcomes differing ${a.differing}, near-ties ${a.nearTies}`,
    );
  }
  model.dispose();
}
process.exitCode = failed ? 1 : 0;
