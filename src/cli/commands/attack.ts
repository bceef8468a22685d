// `dcnet attack`: one model, one dataset, one or more attacks over an epsilon sweep:
// clean / robust / conditional robust accuracy with Wilson intervals and sanity flags.
import type { Command } from 'commander';
import { tf } from '../../tf.js';
import { existsSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadModel } from '../../io/fs-handler.js';
import { MANIFEST_JSON, loadZooModel, locateModel } from '../../../models/zoo/index.js';
import { checkOutputFile, writeFileAtomic } from '../../io/atomic.js';
import { modelIdentity } from '../../io/model-files.js';
import { loadDataset } from '../../data/index.js';
import { checkEpsilon, getAttack, loadPlugins, resolveParams } from '../../../attacks/index.js';
import { evaluate, type AttackRequest, type EvaluationResult, type Progress } from '../../eval/index.js';
import { ProgressBar, type ProgressLine } from '../../progress.js';
import { BACKEND_OPTION_HELP, UsageError, startRuntime } from '../runtime.js';
import { formatEvaluation } from '../format-evaluation.js';
import { pluginOption } from '../plugins.js';
import { parseEpsilonList, parseInteger, parseNumber, parsePositiveInteger } from '../options.js';

interface AttackOptions {
  model: string;
  attack: string;
  eps: number[];
  dataset?: string;
  zoo?: string;
  data?: string;
  split: string;
  source?: string;
  n?: number;
  batch: number;
  seed: number;
  steps?: number;
  stepSize?: number;
  relStepSize?: number;
  restarts?: number;
  queries?: number;
  decay?: number;
  loss?: string;
  checks: boolean;
  allowProbabilities?: boolean;
  json?: boolean;
  out?: string;
  checkpoint?: string;
  backend: string;
  plugin: string[];
}

/** Maps --steps etc. onto the attacks that declare those parameters. */
export function attackRequests(opts: AttackOptions): AttackRequest[] {
  const epsilons = opts.eps;
  // Refuse bad epsilons and parameters before any data or model is loaded.
  epsilons.forEach(checkEpsilon);
  const shared: Array<[string, string, number | string | undefined]> = [
    ['--steps', 'steps', opts.steps],
    ['--step-size', 'stepSize', opts.stepSize],
    ['--rel-step-size', 'relStepSize', opts.relStepSize],
    ['--restarts', 'restarts', opts.restarts],
    ['--queries', 'queries', opts.queries],
    ['--decay', 'decay', opts.decay],
    ['--loss', 'loss', opts.loss],
  ];
  const names = opts.attack.split(',').map((s) => s.trim()).filter(Boolean);
  if (!names.length) throw new UsageError('--attack: give at least one attack name.');
  const requests = names.map((full) => {
    const transfer = full.startsWith('transfer:');
    const def = getAttack(transfer ? full.slice('transfer:'.length) : full);
    const params: Record<string, number | string> = {};
    for (const [, key, value] of shared) if (value !== undefined && key in def.params) params[key] = value;
    resolveParams(def, params);
    return { name: def.name, epsilons, params, transfer };
  });
  for (const [flag, key, value] of shared) {
    if (value !== undefined && !requests.some((r) => key in r.params)) {
      throw new UsageError(`${flag} applies to none of the requested attacks (${names.join(', ')}).`);
    }
  }
  if (opts.source && !requests.some((r) => r.transfer)) {
    throw new UsageError('--source is given but no attack is a transfer attack: name one like transfer:pgd.');
  }
  return requests;
}

interface OpenedModel {
  model: tf.LayersModel;
  /** The zoo id, or the folder. */
  name: string;
  /** From the zoo manifest: the dataset it was trained on and where it was read from. */
  dataset?: { name: string; source: string };
}

/** A zoo id (verified against its manifest) or a saved model folder. */
async function openModel(idOrDir: string, zooDir: string | undefined): Promise<OpenedModel> {
  const dir = locateModel(idOrDir, zooDir);
  if (!existsSync(join(dir, MANIFEST_JSON))) return { model: await loadModel(dir), name: idOrDir };
  const { model, manifest } = await loadZooModel(idOrDir, { zooDir });
  return { model, name: manifest.id, dataset: { name: manifest.dataset.name, source: manifest.dataset.source } };
}

/** The dataset: --dataset, else the one the zoo model was trained on. */
function chooseDataset(opts: AttackOptions, target: OpenedModel): { name: string; data?: string } {
  const trained = target.dataset;
  if (opts.dataset && trained && opts.dataset !== trained.name) {
    throw new UsageError(`Model ${target.name} was trained on ${trained.name}, not ${opts.dataset}: drop --dataset or pick another model.`);
  }
  const name = opts.dataset ?? trained?.name;
  if (!name) throw new UsageError(`Model folder ${opts.model} has no zoo manifest: say which dataset to attack it on with --dataset NAME.`);
  const data = opts.data ?? (trained && existsSync(trained.source) ? trained.source : undefined);
  return { name, data };
}

/** Output paths are checked before the work, so a long run never ends in an unwritable path. */
function checkOutputs(opts: AttackOptions): void {
  if (opts.out) checkOutputFile(opts.out, '--out');
  if (opts.checkpoint) checkOutputFile(opts.checkpoint, '--checkpoint');
  if (opts.out && opts.checkpoint && resolve(opts.out) === resolve(opts.checkpoint)) {
    throw new UsageError('--out and --checkpoint name the same file: give two different paths.');
  }
}

/** A transfer source must be another model: not the same folder, nor a copy of the same files. */
function checkIndependent(model: string, source: string, zooDir: string | undefined): void {
  const [a, b] = [locateModel(model, zooDir), locateModel(source, zooDir)];
  if (realpathSync(a) === realpathSync(b) || modelIdentity(a) === modelIdentity(b)) {
    throw new UsageError(
      `--source ${source} is the same model as --model ${model} (same files): a transfer attack needs an independently trained source.`,
    );
  }
}

function modelShape(model: tf.LayersModel): [number, number, number] | undefined {
  const s = model.inputs[0]?.shape;
  return s && s.length === 4 ? [s[1]!, s[2]!, s[3]!] : undefined;
}

function progressLine(p: Progress, startedMs: number): ProgressLine {
  const computed = p.pointsDone - p.resumedPoints;
  const perPoint = computed > 0 ? (Date.now() - startedMs) / 1000 / computed : NaN;
  return {
    label: 'test points',
    done: p.pointsDone,
    total: p.pointsTotal,
    fields: [
      ...(p.resumedPoints ? [`${p.resumedPoints} from the checkpoint`] : []),
      ...(p.label ? [`done: ${p.label} at eps ${p.epsilon!.toFixed(4)}`] : []),
    ],
    etaSeconds: perPoint * (p.pointsTotal - p.pointsDone),
  };
}

export function registerAttack(program: Command): void {
  pluginOption(program
    .command('attack'))
    .description('attack a model: clean, robust and conditional robust accuracy with 95% intervals and sanity checks')
    .requiredOption('--model <id|dir>', 'zoo model id (e.g. fashion-mnist/small-cnn/tanh-cosine/standard/s0) or saved model folder')
    .requiredOption('--attack <names>', 'comma-separated attacks (dcnet info lists them, with --plugin too); transfer:<name> with --source')
    .requiredOption('--eps <list>', 'comma-separated Linf epsilons in [0, 1], fractions allowed (0,2/255,8/255)', parseEpsilonList('--eps'))
    .option('--dataset <name>', "dataset to attack on (default: a zoo model's own; required for a plain model folder)")
    .option('--zoo <dir>', 'zoo folder (default: $DCNET_ZOO or ./zoo)')
    .option('--data <dir>', 'folder with the dataset files (default: its default place)')
    .option('--split <split>', 'train or test', 'test')
    .option('--source <id|dir>', 'source model (zoo id or folder) for transfer:<attack>, trained independently of --model')
    .option('--n <count>', 'evaluate the first n test points (default: the whole split)', parsePositiveInteger('--n'))
    .option('--batch <size>', 'test points per batch', parsePositiveInteger('--batch'), 100)
    .option('--seed <seed>', 'seed of every random choice', parseInteger('--seed'), 0)
    .option('--steps <n>', 'gradient steps (bim, pgd, mi-fgsm)', parseInteger('--steps'))
    .option('--step-size <a>', 'absolute step size in [0, 1] units (bim, pgd, mi-fgsm)', parseNumber('--step-size'))
    .option('--rel-step-size <r>', 'step size as a multiple of epsilon (bim, pgd, mi-fgsm)', parseNumber('--rel-step-size'))
    .option('--restarts <n>', 'random restarts (pgd)', parseInteger('--restarts'))
    .option('--queries <n>', 'queries per point (square)', parseInteger('--queries'))
    .option('--decay <mu>', 'momentum decay (mi-fgsm)', parseNumber('--decay'))
    .option('--loss <name>', 'loss of fgsm, bim, pgd, mi-fgsm: ce, cw (logit margin) or dlr')
    .option('--no-checks', 'skip the sanity-check probes (eps-0 identity, collapse, FGSM reference, noise)')
    .option('--allow-probabilities', 'attack a model that outputs probabilities (flagged) instead of refusing')
    .option('--json', 'print the full result as JSON')
    .option('--out <file>', 'also write the JSON result to this file (atomically)')
    .option('--checkpoint <file>', 'save finished batches to this JSON-lines file; rerunning the same command resumes from it')
    .option('--backend <name>', BACKEND_OPTION_HELP, 'auto')
    .action(async (opts: AttackOptions) => {
      // Plugins first: their attacks are named in --attack.
      const plugins = await loadPlugins(opts.plugin);
      const attacks = attackRequests(opts);
      const { n, batch, seed } = opts;
      checkOutputs(opts);
      if (opts.source) checkIndependent(opts.model, opts.source, opts.zoo);
      await startRuntime(opts.backend, !!opts.json);
      if (!opts.json) for (const p of plugins) process.stderr.write(`plugin ${p.name}: ${p.attacks.join(', ')} (sha256 ${p.sha256.slice(0, 12)}…)\n`);
      const target = await openModel(opts.model, opts.zoo);
      const source = opts.source ? await openModel(opts.source, opts.zoo) : undefined;
      const chosen = chooseDataset(opts, target);
      const data = loadDataset(chosen.name, { data: chosen.data, split: opts.split as 'train' | 'test', limit: n });
      for (const m of [target, source]) {
        const shape = m && modelShape(m.model);
        if (m && shape && shape.join('x') !== data.shape.join('x')) {
          throw new UsageError(`Model ${m.name} takes ${shape.join('x')} inputs but ${data.name} images are ${data.shape.join('x')}.`);
        }
      }
      const bar = opts.json ? undefined : new ProgressBar();
      const started = Date.now();
      const result: EvaluationResult = await evaluate({
        model: target.model,
        name: target.name,
        images: data.images,
        labels: data.labels,
        shape: data.shape,
        attacks,
        ...(source ? { source: { model: source.model, name: source.name } } : {}),
        n,
        batch,
        seed,
        checks: opts.checks,
        allowProbabilities: opts.allowProbabilities,
        checkpoint: opts.checkpoint,
        onWarning: (w) => process.stderr.write(`warning: ${w}\n`),
        onProgress: bar && ((p) => bar.update(progressLine(p, started))),
      });
      bar?.finish();
      const json = JSON.stringify(
        { dataset: { name: data.name, split: data.split, sha256: data.sha256 }, ...(plugins.length ? { plugins } : {}), ...result },
        null,
        2,
      );
      if (opts.out) writeFileAtomic(opts.out, json + '\n');
      process.stdout.write(opts.json ? json + '\n' : formatEvaluation(result, data.name) + '\n');
      target.model.dispose();
      source?.model.dispose();
    });
}
