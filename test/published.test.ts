// The published results committed in results/<profile>/ and their models (zoo/): every committed
// model verifies; a damaged one stops the bench before any work; retraining a committed model
// from its manifest's recipe on the same backend gives the same weights.bin, byte for byte; and
// `dcnet bench --no-train` on a subset of a published profile's cells reproduces its results.csv rows.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listZoo, modelDir } from '../models/zoo/index.js';
import { committedModels } from './helpers/committed.js';
import { NoTrainError, publishedDir, publishedZoos, resolveModelSources } from '../src/bench/published.js';
import { loadProfile } from '../src/bench/profile.js';
import { targetModels } from '../src/bench/cells.js';
import { datasetSpec } from '../src/data/datasets.js';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'bin', 'dcnet.js');
const tmp = mkdtempSync(join(tmpdir(), 'dcnet-published-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function dcnet(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: tmp });
}

const models = committedModels(ROOT);
const tiny = loadProfile('tiny');

describe('committed models', () => {
  it('the tiny profile is published with its models (the reproducibility check needs one)', () => {
    expect(models.filter((m) => m.profile === 'tiny').map((m) => m.manifest.id).sort()).toEqual(
      [...targetModels(tiny).map((t) => t.id), 'fashion-mnist-embedded/small-cnn/standard/standard/s1'].sort(),
    );
  });

  it('dcnet zoo verify (no model) checks every committed model and passes', () => {
    const r = dcnet(['zoo', 'verify']);
    expect(r.status, r.stderr).toBe(0);
    const ok = r.stdout.split('\n').filter((l) => l.startsWith('ok '));
    expect(ok.map((l) => l.slice(3)).sort()).toEqual(models.map((m) => m.dir).sort());
    expect(r.stdout).toContain(`${models.length} model(s) verified`);
  });

  it('a tampered or missing committed file fails zoo verify and stops the bench before any work', () => {
    const root = join(tmp, 'clone');
    cpSync(publishedDir('tiny', ROOT), publishedDir('tiny', root), { recursive: true });
    const zoo = join(publishedDir('tiny', root), 'zoo');
    const [target] = targetModels(tiny);
    const weights = join(modelDir(target!.id, zoo), 'weights.bin');
    const bytes = readFileSync(weights);
    bytes[100] ^= 1;
    writeFileSync(weights, bytes);
    const r = dcnet(['zoo', 'verify', '--zoo', zoo]);
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(new RegExp(`FAILED .*standard/standard/s0: .*weights\\.bin`));
    expect(r.stderr).toMatch(/1 of 3 model\(s\) failed verification/);
    const ids = targetModels(tiny).map((t) => t.id);
    expect(() => resolveModelSources(tiny, ids, { zooDir: join(tmp, 'zoo'), mode: 'default', root })).toThrow(
      /The committed model fashion-mnist-embedded\/small-cnn\/standard\/standard\/s0 is damaged: .*weights\.bin.*--retrain/,
    );
    // --retrain does not read the committed zoo at all.
    expect(resolveModelSources(tiny, ids, { zooDir: join(tmp, 'zoo'), mode: 'retrain', root }).committed).toEqual({});
    rmSync(weights);
    expect(() => resolveModelSources(tiny, ids, { zooDir: join(tmp, 'zoo'), mode: 'default', root })).toThrow(/is damaged: .*weights\.bin/);
  });

  it('committed models trained with other settings are not used (a note says why); --no-train then names them', () => {
    const changed = loadProfile('tiny', { set: ['train.epochs=2'] });
    const ids = targetModels(changed).map((t) => t.id);
    const s = resolveModelSources(changed, ids, { zooDir: join(tmp, 'zoo'), mode: 'default' });
    expect(s.committed).toEqual({});
    expect(s.notes[0]).toMatch(/committed .*s0 not used: trained with other settings \(epochs: zoo 1, profile 2\)/);
    expect(() => resolveModelSources(changed, ids, { zooDir: join(tmp, 'zoo'), mode: 'no-train' })).toThrow(NoTrainError);
    expect(() => resolveModelSources(changed, ids, { zooDir: join(tmp, 'zoo'), mode: 'no-train' })).toThrow(
      new RegExp(`--no-train: 2 model\\(s\\) would have to be trained .*: ${ids.join(', ')}\\. Drop --no-train`),
    );
  });

  it('dcnet bench --no-train refuses, before any work, a profile whose models are not all there', () => {
    const run = join(tmp, 'never');
    const r = dcnet(['bench', '--profile', 'tiny', '--no-train', '--set', 'seed=5', '--out', run, '--zoo', join(tmp, 'zoo'), '--no-progress']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/dcnet: --no-train: 2 model\(s\) would have to be trained .*tanh-cosine\/standard\/s5\. Drop --no-train/);
    expect(r.stderr).not.toMatch(/cells run/);
    expect(existsSync(join(run, 'profile.json'))).toBe(false);
  });

  it('--dry-run lists committed models apart and costs no training for them; --publish and --retrain/--no-train refuse what contradicts them', () => {
    const dry = dcnet(['bench', '--profile', 'tiny', '--dry-run', '--zoo', join(tmp, 'zoo')]);
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/models to train \(0, 1 epochs each\):\ncommitted models, verified, attacked without training \(3; --retrain trains them\):/);
    expect(dry.stdout).toMatch(/\(training 0\.00, attacks/);
    const retrain = dcnet(['bench', '--profile', 'tiny', '--dry-run', '--retrain', '--zoo', join(tmp, 'zoo')]);
    expect(retrain.stdout).toMatch(/models to train \(3, 1 epochs each\)/);
    expect(retrain.stdout).not.toMatch(/committed models/);
    const cases: Array<[string[], RegExp]> = [
      [['--retrain', '--no-train'], /^dcnet: --retrain and --no-train contradict each other: choose one\.$/],
      [['--publish', '--out', join(tmp, 'x'), '--zoo', join(tmp, 'z')], /^dcnet: --publish runs the profile as it is into results\/tiny\/ \(run folder and zoo\): drop --out, --zoo\.$/],
      [['--publish', '--set', 'train.epochs=2'], /drop --set \(to publish a changed profile, save it with --print-profile, give it its own name and publish that file\)\.$/],
      [['--publish', '--no-train'], /drop --no-train\.$/],
    ];
    for (const [args, message] of cases) {
      const r = dcnet(['bench', '--profile', 'tiny', ...args]);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr.trim()).toMatch(message);
    }
  });

  it('publishedZoos lists results/<profile>/zoo folders', () => {
    expect(publishedZoos(ROOT)).toEqual([...new Set(models.map((m) => join(ROOT, 'results', m.profile, 'zoo')))].sort());
  });
});

describe('reproducibility', () => {
  // Retrained from nothing but the manifest (recipe, seed, backend): the weights are the
  // committed ones, bit for bit (the checksums in the manifest).
  for (const m of models.filter((x) => x.profile === 'tiny' && x.manifest.model.seed === 0)) {
    it(`retraining ${m.manifest.id} from its manifest gives the committed weights.bin`, () => {
      const r = m.manifest.recipe;
      const zoo = join(tmp, 'retrained');
      const args = ['train', '--model', m.manifest.id, '--zoo', zoo, '--backend', m.manifest.backend.name, '--json',
        '--epochs', String(r.epochs), '--batch', String(r.batchSize), '--lr', String(r.learningRate),
        ...(r.trainLimit ? ['--train-limit', String(r.trainLimit)] : [])];
      const out = dcnet(args);
      expect(out.status, out.stderr).toBe(0);
      const again = listZoo(zoo).find((e) => e.id === m.manifest.id)!.manifest!;
      expect(again.recipe).toEqual(m.manifest.recipe);
      expect(again.files['weights.bin']).toBe(m.manifest.files['weights.bin']);
      expect(again.metrics.testAccuracy).toBe(m.manifest.metrics.testAccuracy);
    });
  }
});

type Row = Record<string, string>;
/** RFC 4180 fields (quotes doubled inside quoted fields), as csv-stringify writes them; header row as keys. */
function readCsv(file: string): Row[] {
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const split = (line: string): string[] => [...line.matchAll(/(?:^|,)("(?:[^"]|"")*"|[^,]*)/g)].map((m) => (m[1]!.startsWith('"') ? m[1]!.slice(1, -1).replace(/""/g, '"') : m[1]!));
  const header = split(lines[0]!);
  return lines.slice(1).map((l) => Object.fromEntries(split(l).map((v, i) => [header[i], v])));
}
// Timings and the toolkit version are not results.
const comparable = ({ images_per_second: _t, toolkit_version: _v, ...rest }: Row) => rest;

describe('fresh clone: the published results reproduce', () => {
  // For each published profile: its first target model's evaluation cell, cut down to FGSM
  // (white-box, and transfer FGSM from the committed source) on the published test points, with
  // the committed models only. Its clean and FGSM rows must equal the committed ones exactly.
  // The study's other targets (more seeds, the ablation) and its passes that results.csv does
  // not hold (saturation, the 10,000-point pass) are cut too; a profile without them is unchanged.
  // A profile on a dataset that is not installed (the study needs Debian's dataset-fashion-mnist,
  // which .ci/run installs) is skipped, saying so.
  const published = readdirSync(join(ROOT, 'results')).filter((p) => existsSync(join(ROOT, 'results', p, 'results.csv')));
  for (const name of published) {
    const dir = publishedDir(name, ROOT);
    const profile = JSON.parse(readFileSync(join(dir, 'profile.json'), 'utf8'));
    const dataDir = profile.data ?? datasetSpec(profile.dataset).defaultDir;
    const missing = dataDir !== undefined && !existsSync(dataDir);
    if (missing) console.warn(`test/published.test.ts: results/${name} not re-run: its dataset ${profile.dataset} is not in ${dataDir}`);
    // The first of the profile's own models (its seed, not the extra seeds or the ablation) with
    // results: a run published before it finished has some.
    const rows = readCsv(join(dir, 'results.csv'));
    const first = targetModels(profile).find((t) => !t.ablation && t.seed === profile.seed && rows.some((r) => r.model_id === t.id));
    if (!first) console.warn(`test/published.test.ts: results/${name} not re-run: its results.csv has no evaluated model yet`);
    it.skipIf(missing || !first)(`dcnet bench --profile results/${name}/profile.json --no-train reproduces the first evaluated model's clean and FGSM rows of results/${name}/results.csv`, () => {
      if (!first) return;
      const run = join(tmp, `rerun-${name}`);
      const patch = {
        operators: [first.operator],
        trainings: [first.training],
        extraSeeds: null,
        ablation: null,
        evaluation: {
          whiteBox: [{ name: 'fgsm' }],
          transfer: { attacks: [{ name: 'fgsm' }] },
          scoreBased: { name: 'square', params: { queries: 1 } },
          minimalEpsilon: null,
          saturation: null,
          wide: null,
        },
      };
      // The published profile itself (not today's built-in one of that name), cut down by --patch.
      const r = dcnet(['bench', '--profile', join(dir, 'profile.json'), '--no-train', '--patch', JSON.stringify(patch), '--out', run, '--zoo', join(tmp, 'empty-zoo'),
        '--backend', rows[0]!.backend!, '--jobs', '1', '--no-progress']);
      expect(r.status, r.stderr).toBe(0);
      // The target, the transfer source and, where the profile has one, the other family's source.
      expect(r.stderr).toMatch(new RegExp(`${profile.evaluation.transfer.otherFamily ? 3 : 2} committed model\\(s\\) verified`));
      // The main evaluation's rows (the wide pass, cut here, has its own).
      const pick = (all: Row[]) => all.filter((x) => x.model_id === first.id && x.points === 'main' && (x.attack === 'fgsm' || x.mode === 'clean')).map(comparable);
      const want = pick(rows);
      expect(want.length).toBeGreaterThanOrEqual(1 + 2 * profile.evaluation.epsilons.length);
      expect(pick(readCsv(join(run, 'results.csv')))).toEqual(want);
      // The study's cut-down cell evaluates 1,000 full Fashion-MNIST points: about a minute.
    }, 300_000);
  }
});
