// `dcnet zoo list | show | verify | ids`: what the local zoo holds, with metrics; one model's
// manifest; a checksum check; the registry's ids.
import { relative } from 'node:path';
import type { Command } from 'commander';
import {
  formatZooId,
  listZoo,
  resolveZooDir,
  verifyZooModel,
  zooEntries,
  TRAININGS,
  ZOO_OPERATORS,
  type Training,
  type ZooListing,
  ZooError,
} from '../../../models/zoo/index.js';
import { publishedZoos } from '../../bench/published.js';
import { PACKAGE_ROOT } from '../../version.js';
import { ARCHITECTURES, type Architecture } from '../../../models/architectures.js';
import { DATASET_NAMES, type DatasetName } from '../../data/index.js';
import { parseList, parsePositiveInteger } from '../options.js';
import { UsageError } from '../runtime.js';

const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;

function describe(e: ZooListing): string[] {
  if (e.status === 'complete' && e.manifest) {
    const m = e.manifest;
    const adv = m.recipe.adversarial ? ` ${m.recipe.adversarial.attack} eps ${m.recipe.adversarial.epsilon.toFixed(4)}` : '';
    return [
      e.id,
      pct(m.metrics.testAccuracy),
      `${m.epochs} ep`,
      `${m.dataset.train.count}/${m.dataset.test.count}`,
      `${m.trainImagesPerSecond.toFixed(0)} img/s ${m.backend.name}${adv}`,
    ];
  }
  if (e.status === 'training' && e.checkpoint) {
    return [e.id, 'unfinished', `epoch ${e.checkpoint.epoch}/${e.checkpoint.recipe.epochs}`, '', 'still running, or continue it with dcnet train --model ID --resume'];
  }
  return [e.id, 'INVALID', '', '', e.error ?? ''];
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((v, c) => v.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n') + '\n';
}

/** Comma-separated values checked against a list. */
export function registerZoo(program: Command): void {
  const zoo = program.command('zoo').description('the local model zoo: list, show, verify, ids');

  zoo
    .command('list')
    .description('models in the zoo folder with their clean test accuracy (and unfinished trainings)')
    .option('--zoo <dir>', 'zoo folder (default: $DCNET_ZOO or ./zoo)')
    .option('--verify', 'also check every file against its sha256')
    .option('--json', 'print JSON')
    .action((opts: { zoo?: string; verify?: boolean; json?: boolean }) => {
      const entries = listZoo(opts.zoo, { verify: opts.verify === true });
      if (opts.json) {
        process.stdout.write(JSON.stringify(entries.map(({ manifest, checkpoint, ...e }) => ({
          ...e,
          ...(manifest ? { metrics: manifest.metrics, epochs: manifest.epochs, recipe: manifest.recipe } : {}),
          ...(checkpoint ? { epoch: checkpoint.epoch, epochs: checkpoint.recipe.epochs } : {}),
        })), null, 2) + '\n');
        return;
      }
      if (!entries.length) {
        const committed = publishedZoos().map((z) => `--zoo ${relative(process.cwd(), z) || '.'}`);
        const hint = committed.length ? `; committed models: dcnet zoo list ${committed.join(' | ')}` : '';
        process.stdout.write(`no models in ${resolveZooDir(opts.zoo)} (train one with dcnet train --model ID${hint})\n`);
        return;
      }
      process.stdout.write(table([['id', 'clean acc', 'epochs', 'train/test', 'training'], ...entries.map(describe)]));
    });

  zoo
    .command('show <idOrDir>')
    .description("a model's manifest (after verifying its checksums)")
    .option('--zoo <dir>', 'zoo folder (default: $DCNET_ZOO or ./zoo)')
    .action((idOrDir: string, opts: { zoo?: string }) => {
      const { manifest } = verifyZooModel(idOrDir, { zooDir: opts.zoo });
      process.stdout.write(JSON.stringify(manifest, null, 2) + '\n');
    });

  zoo
    .command('verify [idOrDir]')
    .description("check a model's manifest and the sha256 of its files; without a model, every model of --zoo, or every committed one (results/*/zoo)")
    .option('--zoo <dir>', 'zoo folder (default: $DCNET_ZOO or ./zoo)')
    .action((idOrDir: string | undefined, opts: { zoo?: string }) => {
      if (idOrDir !== undefined) {
        const { dir, manifest } = verifyZooModel(idOrDir, { zooDir: opts.zoo });
        process.stdout.write(`ok ${manifest.id} (${Object.keys(manifest.files).length} files verified in ${dir})\n`);
        return;
      }
      const zoos = opts.zoo !== undefined ? [resolveZooDir(opts.zoo)] : publishedZoos();
      const entries = zoos.flatMap((z) => listZoo(z, { verify: true }));
      if (!entries.length) throw new ZooError(`No models to verify in ${zoos.length ? zoos.join(', ') : `${PACKAGE_ROOT}/results/*/zoo`}.`);
      for (const e of entries) {
        process.stdout.write(e.status === 'complete' ? `ok ${e.dir}\n` : `FAILED ${e.dir}: ${e.error ?? 'training unfinished'}\n`);
      }
      const bad = entries.filter((e) => e.status !== 'complete');
      if (bad.length) throw new ZooError(`${bad.length} of ${entries.length} model(s) failed verification (listed above).`);
      process.stdout.write(`${entries.length} model(s) verified in ${zoos.join(', ')}\n`);
    });

  zoo
    .command('ids')
    .description('model ids of the registry (the study: every dataset, architecture, operator and training)')
    .option('--dataset <list>', `comma-separated: ${DATASET_NAMES.join(', ')}`, parseList('--dataset', DATASET_NAMES))
    .option('--arch <list>', `comma-separated: ${ARCHITECTURES.join(', ')}`, parseList('--arch', ARCHITECTURES))
    .option('--operator <list>', 'comma-separated operator ids (default: standard and all 28 magnitude-angular pairs)', parseList('--operator', ZOO_OPERATORS))
    .option('--training <list>', `comma-separated: ${TRAININGS.join(', ')}`, parseList('--training', TRAININGS))
    .option('--seeds <n>', 'seeds 0..n-1 (default 1)', parsePositiveInteger('--seeds'))
    .action((opts: { dataset?: DatasetName[]; arch?: Architecture[]; operator?: string[]; training?: Training[]; seeds?: number }) => {
      const ids = zooEntries({
        datasets: opts.dataset,
        architectures: opts.arch,
        operators: opts.operator,
        trainings: opts.training,
        seeds: Array.from({ length: opts.seeds ?? 1 }, (_, i) => i),
      });
      process.stdout.write(ids.map(formatZooId).join('\n') + '\n');
    });
}
