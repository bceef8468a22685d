// `dcnet train --model ID`: trains one zoo model with a progress bar, a checkpoint after every
// epoch and --resume, then prints the clean test accuracy.
import type { Command } from 'commander';
import {
  formatZooId,
  parseZooId,
  resolveRecipe,
  trainModel,
  TrainingAborted,
  TRAININGS,
  DEFAULT_EPOCHS,
  type RecipeOverrides,
  type TrainProgress,
} from '../../../models/zoo/index.js';
import { BACKEND_OPTION_HELP, startRuntime, UsageError } from '../runtime.js';
import { DATASET_NAMES, datasetSpec } from '../../data/index.js';
import { ProgressBar } from '../../progress.js';
import { parseInteger, parseNumber, parsePositiveInteger } from '../options.js';

interface TrainCliOptions {
  model: string;
  seed?: number;
  epochs?: number;
  batch?: number;
  lr?: number;
  eps?: number;
  attackSteps?: number;
  attackStepSize?: number;
  advFraction?: number;
  advWeight?: number;
  labelSmoothing?: number;
  augment?: string;
  projectionPeriod?: number;
  radius?: number;
  learnableRadius?: boolean;
  trainLimit?: number;
  testLimit?: number;
  data?: string;
  zoo?: string;
  out?: string;
  resume?: boolean;
  force?: boolean;
  backend: string;
  json?: boolean;
}

/** The id with --seed applied: the id may omit its seed part, or must agree with --seed. */
export function effectiveId(model: string, seed: number | undefined): string {
  const parts = model.split('/');
  if (parts.length === 4) return formatZooId(parseZooId(`${model}/s${seed ?? 0}`));
  const id = parseZooId(model);
  if (seed !== undefined && seed !== id.seed) {
    throw new UsageError(`--seed ${seed} contradicts the seed in the model id ${model}; give one of them.`);
  }
  return formatZooId(id);
}

const DEFAULT_EPSILONS = Object.fromEntries(DATASET_NAMES.map((d) => [d, datasetSpec(d).defaultEpsilon]));

function perDataset<T>(table: Record<string, T>, show: (v: T) => string): string {
  return Object.entries(table).map(([d, v]) => `${d} ${show(v)}`).join(', ');
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a zoo model: dataset/architecture/operator/training/s<seed>')
    .requiredOption('--model <id>', `model id, e.g. fashion-mnist/small-cnn/tanh-cosine/fgsm-at/s0 (trainings: ${TRAININGS.join(', ')})`)
    .option('--seed <n>', 'seed (if the id has no s<seed> part)', parseInteger('--seed', { min: 0 }))
    .option('--epochs <n>', `epochs (default per dataset: ${perDataset(DEFAULT_EPOCHS, String)})`, parsePositiveInteger('--epochs'))
    .option('--batch <n>', 'batch size (default 128)', parsePositiveInteger('--batch'))
    .option('--lr <x>', 'Adam learning rate (default 1e-3)', parseNumber('--lr'))
    .option('--eps <x>', `adversarial training Linf epsilon in [0, 1] (default per dataset: ${perDataset(DEFAULT_EPSILONS, (e) => e.toFixed(4))})`, parseNumber('--eps', { min: 0 }))
    .option('--attack-steps <n>', 'pgd-at: PGD steps (default 10)', parsePositiveInteger('--attack-steps'))
    .option('--attack-step-size <x>', 'pgd-at: PGD step size (default eps/4)', parseNumber('--attack-step-size'))
    .option('--adv-fraction <x>', 'share of each batch made adversarial (default fgsm-at 0.5, pgd-at 1)', parseNumber('--adv-fraction'))
    .option('--adv-weight <x>', 'loss weight of adversarial examples (default 1)', parseNumber('--adv-weight'))
    .option('--augment <kind>', 'training augmentation: none, crop-flip (4-pixel reflect pad, random crop, horizontal flip; default on cifar10)')
    .option('--label-smoothing <x>', 'label smoothing (default 0)', parseNumber('--label-smoothing'))
    .option('--projection-period <n>', 'decoupled models: weight projection every n steps, 0 = never (default 100)', parseInteger('--projection-period', { min: 0 }))
    .option('--radius <x>', 'decoupled operator radius rho (default 1)', parseNumber('--radius'))
    .option('--learnable-radius', 'decoupled models: learn the radius per channel')
    .option('--train-limit <n>', 'use only the first n training examples', parsePositiveInteger('--train-limit'))
    .option('--test-limit <n>', 'use only the first n test examples', parsePositiveInteger('--test-limit'))
    .option('--data <dir>', 'dataset folder (default: fashion-mnist /usr/share/datasets/fashion-mnist; embedded subset built in)')
    .option('--zoo <dir>', 'zoo folder (default: $DCNET_ZOO or ./zoo)')
    .option('--out <dir>', 'model folder (default: <zoo>/<id>)')
    .option('--resume', 'continue from the last checkpoint in the model folder')
    .option('--force', 'delete an existing model or checkpoint in the folder and train from scratch')
    .option('--backend <name>', BACKEND_OPTION_HELP, 'auto')
    .option('--json', 'print the manifest as JSON on stdout')
    .action(async (opts: TrainCliOptions) => {
      if (opts.resume && opts.force) throw new UsageError('--resume and --force contradict each other; give one.');
      const id = effectiveId(opts.model, opts.seed);
      const zid = parseZooId(id);
      const operatorOptions = {
        ...(opts.radius !== undefined ? { radius: opts.radius } : {}),
        ...(opts.learnableRadius ? { learnableRadius: true } : {}),
      };
      const overrides: RecipeOverrides = {
        epochs: opts.epochs,
        batchSize: opts.batch,
        learningRate: opts.lr,
        epsilon: opts.eps,
        attackSteps: opts.attackSteps,
        attackStepSize: opts.attackStepSize,
        adversarialFraction: opts.advFraction,
        adversarialWeight: opts.advWeight,
        labelSmoothing: opts.labelSmoothing,
        augmentation: opts.augment,
        projectionPeriod: opts.projectionPeriod,
        trainLimit: opts.trainLimit,
        testLimit: opts.testLimit,
        ...(Object.keys(operatorOptions).length ? { operatorOptions } : {}),
      };
      // Bad options are reported before the backend starts.
      resolveRecipe(zid, overrides);
      await startRuntime(opts.backend);
      const bar = new ProgressBar();
      const controller = new AbortController();
      const onSigint = (): void => controller.abort();
      process.once('SIGINT', onSigint);
      process.stderr.write(`training ${id}\n`);
      try {
        const result = await trainModel({
          id,
          zooDir: opts.zoo,
          out: opts.out,
          data: opts.data,
          ...overrides,
          resume: opts.resume === true,
          overwrite: opts.force === true,
          signal: controller.signal,
          onProgress: (p) => bar.update(progressLine(p)),
        });
        bar.finish();
        const m = result.manifest;
        if (result.resumedFromEpoch > 0) process.stderr.write(`(resumed after epoch ${result.resumedFromEpoch})\n`);
        if (opts.json) {
          process.stdout.write(JSON.stringify(m, null, 2) + '\n');
          return;
        }
        const adv = m.recipe.adversarial;
        process.stdout.write(
          [
            `model ${m.id}`,
            `clean test accuracy ${(100 * m.metrics.testAccuracy).toFixed(2)}% (${m.metrics.testCount} ${zid.dataset} test images)`,
            `trained ${m.epochs} epochs on ${m.dataset.train.count} images in ${m.wallTimeSeconds.toFixed(1)} s ` +
              `(${m.trainImagesPerSecond.toFixed(0)} images/s, ${m.backend.name})` +
              (adv ? `, ${adv.attack} examples at eps ${adv.epsilon.toFixed(4)} (${adv.fraction * 100}% of each batch)` : ''),
            `saved to ${result.dir}`,
          ].join('\n') + '\n',
        );
      } catch (err) {
        bar.finish();
        if (err instanceof TrainingAborted) {
          throw new UsageError(`interrupted. The last finished epoch is checkpointed: continue with --resume.`);
        }
        throw err;
      } finally {
        process.off('SIGINT', onSigint);
      }
    });
}

function progressLine(p: TrainProgress): Parameters<ProgressBar['update']>[0] {
  if (p.phase === 'evaluate') return { label: 'test', done: p.batch, total: p.batches, fields: [] };
  return {
    label: `epoch ${p.epoch}/${p.epochs}`,
    done: p.batch,
    total: p.batches,
    fields: [`loss ${p.loss.toFixed(4)}`, `acc ${(100 * p.accuracy).toFixed(1)}%`, `${p.imagesPerSecond.toFixed(0)} img/s`],
    etaSeconds: p.etaSeconds,
  };
}
