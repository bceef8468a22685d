// The study profile end to end, cut down to a CI budget (--patch): the embedded subset, the
// baseline, TanhConv and LinearConv for one epoch on 256 images, an extra seed, the ablation
// on small-cnn, 40 points; the report renders the seed variance, ablation and saturation
// sections and the transfer from the other family, and the learnable radius reaches the
// models that use one.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = mkdtempSync(join(tmpdir(), 'dcnet-study-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const CLI = join(import.meta.dirname, '..', 'bin', 'dcnet.js');

const PATCH = {
  dataset: 'fashion-mnist-embedded',
  operators: ['standard', 'tanh-cosine', 'linear-cosine'],
  trainings: ['standard'],
  train: { epochs: 1, limit: 256 },
  extraSeeds: [{ operators: ['standard', 'tanh-cosine'], trainings: ['standard'], seeds: [2] }],
  ablation: { architecture: 'small-cnn', operators: ['tanh-cosine', 'linear-cosine'], trainings: ['standard'] },
  evaluation: {
    n: 40,
    batch: 40,
    epsilons: [0.1, 0.3],
    whiteBox: [{ name: 'fgsm' }, { name: 'bim', params: { steps: 2, relStepSize: 0.5 } }],
    transfer: { attacks: [{ name: 'fgsm' }] },
    scoreBased: { name: 'square', params: { queries: 5 } },
    minimalEpsilon: { targets: 1, steps: 2 },
    saturation: { points: 20 },
    wide: { n: 80, attacks: [{ name: 'fgsm', epsilons: [0.1] }] },
  },
};

describe('dcnet bench --profile study (cut down)', () => {
  it('trains the study, its extra seeds and its ablation, and reports all three', () => {
    const out = join(root, 'run');
    const zoo = join(root, 'zoo');
    const r = spawnSync(process.execPath, [CLI, 'bench', '--profile', 'study', '--patch', JSON.stringify(PATCH), '--out', out, '--zoo', zoo, '--jobs', '2', '--no-progress'], {
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    // 3 targets + 2 extra seeds + 2 ablation models + the source trained; 7 evaluated.
    expect(r.stderr).toMatch(/15 cells run, 0 already done, 0 failed/);
    expect(readdirSync(join(out, 'models'))).toHaveLength(7);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain('## Seed variance');
    expect(md).toMatch(/\| TanhConv \| standard \| clean \| s0 \d+\.\d, s2 \d+\.\d \|/);
    expect(md).toContain("## Ablation: the paper's regime against no batch norm and a fixed radius");
    expect(md).toMatch(/TanhConv − LinearConv \(bounded − unbounded\) in each regime.*The answers agree on \d+ of \d+ rows/);
    expect(md).toContain('## Saturation of the decoupled layers');
    // FGSM and the noise baseline on more points than the tables (80 of the split).
    expect(md).toContain('## On 80 test points');
    expect(md).toMatch(/\| `fashion-mnist-embedded\/small-cnn-bn\/tanh-cosine\/standard\/s0` \| \d+\.\d \([^|]*; [+−]\d+\.\d \[[^|]* vs baseline \| /);
    expect(md).toMatch(/\| `fashion-mnist-embedded\/small-cnn-bn\/tanh-cosine\/standard\/s0` \| 1 \| TanhConv \| learnable \|/);
    expect(md).toMatch(/\| `fashion-mnist-embedded\/small-cnn-bn\/linear-cosine\/standard\/s0` \| 1 \| LinearConv \| fixed \(unused\) \|/);
    expect(md).toContain('| batch norm | after every convolution | after every convolution |');
    expect(md).toContain('learnable for the operators that use a radius');
    // Transfer from the other family: TanhConv from LinearConv's model, the others from TanhConv's.
    expect(md).toMatch(/\| FGSM from the other family \| \d+\.\d \(/);
    // The second source is s0, as the tables' models: the report says so, with the s2 models as the measure.
    expect(md).toMatch(/FGSM from the other family at eps 0\.1 leaves baseline \d+\.\d% at s0 against \d+\.\d% at s2; TanhConv \d+\.\d% at s0 against \d+\.\d% at s2\. /);
    expect(md).toContain('| second transfer source | a model of the other operator family: bounded targets from LinearConv, the others from TanhConv (standard training, s0) |');
    // The ablation models are not in the study's tables: the operator columns appear once.
    expect(md).toContain('| attack | baseline | TanhConv | LinearConv |');
    // ...but their sanity checks and training are listed with every other model's.
    expect(md).toMatch(/- `fashion-mnist-embedded\/small-cnn\/linear-cosine\/standard\/s0`: \d+ checks passed/);
    expect(md).toMatch(/\| `fashion-mnist-embedded\/small-cnn\/tanh-cosine\/standard\/s0` \| bounded \| \d+\.\d+% \|/);
    const manifest = (id: string) => JSON.parse(readFileSync(join(zoo, id, 'manifest.json'), 'utf8'));
    expect(manifest('fashion-mnist-embedded/small-cnn-bn/tanh-cosine/standard/s0').recipe.operatorOptions).toEqual({ learnableRadius: true });
    expect(manifest('fashion-mnist-embedded/small-cnn/tanh-cosine/standard/s0').recipe.operatorOptions).toEqual({});
    expect(manifest('fashion-mnist-embedded/small-cnn-bn/linear-cosine/standard/s0').recipe.operatorOptions).toEqual({});
    const tanh = JSON.parse(readFileSync(join(out, 'models', 'fashion-mnist-embedded__small-cnn-bn__tanh-cosine__standard__s0.json'), 'utf8'));
    expect(tanh.saturation.layers).toHaveLength(2);
    const fromOther = tanh.results.filter((r: { sourceRole?: string }) => r.sourceRole === 'other-family');
    expect(fromOther.map((r: { source: string; epsilon: number }) => [r.source, r.epsilon])).toEqual([
      ['fashion-mnist-embedded/small-cnn-bn/linear-cosine/standard/s0', 0.1],
      ['fashion-mnist-embedded/small-cnn-bn/linear-cosine/standard/s0', 0.3],
    ]);
    expect(tanh.saturation).toMatchObject({ attack: 'bim', epsilon: 0.1, points: 20 });
    expect(tanh.wide.n).toBe(80);
    expect(tanh.wide.results.map((r: { attack: string; epsilon: number }) => [r.attack, r.epsilon])).toEqual([
      ['fgsm', 0.1],
      ['noise', 0.1],
    ]);
    // results.csv holds the wide pass too, as its own rows (points = wide, n = 80).
    const csv = readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n');
    const wideRows = csv.filter((l) => l.startsWith('fashion-mnist-embedded/small-cnn-bn/tanh-cosine/standard/s0,') && l.includes(',wide,'));
    expect(wideRows.map((l) => l.split(',').slice(7, 11))).toEqual([
      ['wide', 'none', 'clean', ''],
      ['wide', 'fgsm', 'white-box', ''],
      ['wide', 'noise', 'noise', ''],
    ]);
    expect(wideRows.map((l) => l.split(',')[13])).toEqual(['80', '80', '80']);
    expect(wideRows[1]).toContain(`,${tanh.wide.results[0].robust.accuracy.toFixed(6)},`);
    const baseline = JSON.parse(readFileSync(join(out, 'models', 'fashion-mnist-embedded__small-cnn-bn__standard__standard__s0.json'), 'utf8'));
    expect(baseline.saturation).toBeUndefined();
  });
});
