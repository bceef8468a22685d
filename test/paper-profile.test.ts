// The paper profile end to end on the CIFAR-10 fixture, cut down by --patch/--set to a few
// images (cnn9 costs ~1 GFLOP per image): train, attack, report; then the same profile in
// 3 shards into one run folder, merged by `dcnet report`, gives the same results.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeCifarFixture } from './helpers/datasets.js';

const root = mkdtempSync(join(tmpdir(), 'dcnet-paper-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const CLI = join(import.meta.dirname, '..', 'bin', 'dcnet.js');
const data = join(root, 'cifar-10-batches-bin');
mkdirSync(data);
writeCifarFixture(data, { perBatch: 8, test: 16, seed: 7 });
const zoo = join(root, 'zoo');

// Three targets (one per shard), one epoch on 16 images, 4 points at the table epsilon.
const patch = join(root, 'tiny-paper.json');
writeFileSync(
  patch,
  JSON.stringify({
    operators: ['standard', 'tanh-cosine', 'linear-cosine'],
    trainings: ['standard'],
    train: { batch: 8, limit: 16 },
    evaluation: {
      batch: 4,
      epsilons: [8 / 255],
      whiteBox: [{ name: 'fgsm' }, { name: 'bim', params: { steps: 2, relStepSize: 0.5 } }],
      transfer: { attacks: [{ name: 'fgsm' }] },
      scoreBased: { name: 'square', params: { queries: 4 } },
      // The paper's minimal epsilons run FAB-T at AutoAttack's full settings: cut down too.
      minimalEpsilon: { targets: 1, steps: 2 },
    },
  }),
);
const PAPER = ['--profile', 'paper', '--data', data, '--zoo', zoo, '--patch', patch, '--set', 'train.epochs=1', '--set', 'evaluation.n=4', '--no-progress'];

function dcnet(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`dcnet ${args.join(' ')} exited ${r.status}:\n${r.stderr}\n${r.stdout}`);
  return r;
}

/** Per-model results without timings. */
function accuracies(runDir: string): Record<string, unknown> {
  const dir = join(runDir, 'models');
  return Object.fromEntries(
    readdirSync(dir).map((f) => {
      const m = JSON.parse(readFileSync(join(dir, f), 'utf8'));
      return [f, { clean: m.evaluation.clean, results: m.results.map((r: { attack: string; mode: string; epsilon: number; robust: unknown }) => [r.attack, r.mode, r.epsilon, r.robust]), worst: m.worstCase }];
    }),
  );
}

const single = join(root, 'single');
// Whole CLI runs of cnn9: minutes on a loaded 2-core machine.
const SLOW = 900_000;

describe('dcnet bench --profile paper on the CIFAR-10 fixture', () => {
  it('trains cnn9 models, attacks them and writes the report', () => {
    const r = dcnet(['bench', ...PAPER, '--out', single, '--jobs', '2']);
    expect(r.stderr).toMatch(/7 cells run, 0 already done, 0 failed/);
    const profile = JSON.parse(readFileSync(join(single, 'profile.json'), 'utf8'));
    expect(profile).toMatchObject({ name: 'paper', dataset: 'cifar10', architecture: 'cnn9', train: { epochs: 1, lr: 1e-3 }, evaluation: { n: 4, tableEpsilon: 8 / 255 } });
    expect(readdirSync(join(single, 'models')).sort()).toEqual([
      'cifar10__cnn9__linear-cosine__standard__s0.json',
      'cifar10__cnn9__standard__standard__s0.json',
      'cifar10__cnn9__tanh-cosine__standard__s0.json',
    ].sort());
    const md = readFileSync(join(single, 'report.md'), 'utf8');
    expect(md).toContain('`cifar10/cnn9/standard/standard/s1`');
    expect(existsSync(join(single, 'examples.png'))).toBe(true);
  }, SLOW);

  it('3 shards into one run folder, merged by dcnet report, equal the single run', () => {
    const runDir = join(root, 'sharded');
    for (const i of [0, 1, 2]) {
      const r = dcnet(['bench', ...PAPER, '--out', runDir, '--shard', `${i}/3`, '--jobs', '1']);
      // Each shard has its target's cells and the source's training (the zoo holds every
      // model, so "training" reuses it); the first shard recorded the source for the others.
      expect(r.stderr).toMatch(i === 0 ? /3 cells run, 0 already done, 0 failed/ : /2 cells run, 1 already done, 0 failed/);
    }
    expect(readdirSync(runDir).filter((f) => f.startsWith('results.shard-')).sort()).toEqual([
      'results.shard-0-of-3.jsonl',
      'results.shard-1-of-3.jsonl',
      'results.shard-2-of-3.jsonl',
    ]);
    expect(dcnet(['report', '--run', runDir]).stdout).toMatch(/3 models/);
    expect(accuracies(runDir)).toEqual(accuracies(single));
  }, SLOW);
});
