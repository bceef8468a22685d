// The benchmark grid: cells, sharding, profile validation.
import { describe, expect, it } from 'vitest';
import { planCells, resolveShard, shardCells, targetModels } from '../src/bench/cells.js';
import { trainOverrides } from '../src/bench/recipe-match.js';
import { BUILTIN_PROFILES, loadProfile, validateProfile } from '../src/bench/profile.js';

const quick = BUILTIN_PROFILES.quick!;

describe('cells', () => {
  it('trains every target and the transfer source, and evaluates every target', () => {
    const cells = planCells(quick);
    const targets = quick.operators.length * quick.trainings.length;
    expect(cells.filter((c) => c.kind === 'train')).toHaveLength(targets + 1);
    expect(cells.filter((c) => c.kind === 'evaluate')).toHaveLength(targets);
    expect(cells.map((c) => c.id)).toContain('train:fashion-mnist-embedded/small-cnn/standard/standard/s1');
    expect(cells.map((c) => c.id)).toContain('evaluate:fashion-mnist-embedded/small-cnn/tanh-cosine/fgsm-at/s0');
  });

  it('refuses a transfer source that is also a target', () => {
    const p = structuredClone(quick);
    p.evaluation.transfer.source.seed = p.seed;
    expect(() => planCells(p)).toThrow(/also a target/);
  });

  it('shards partition the evaluations, and each shard has what its evaluations need', () => {
    const cells = planCells(quick);
    for (const n of [1, 2, 3, 5, 40]) {
      const shards = Array.from({ length: n }, (_, i) => shardCells(cells, { index: i, count: n }));
      const evals = shards.flatMap((s) => s.filter((c) => c.kind === 'evaluate').map((c) => c.id));
      expect(evals.sort()).toEqual(cells.filter((c) => c.kind === 'evaluate').map((c) => c.id).sort());
      for (const s of shards) {
        const ids = new Set(s.map((c) => c.id));
        for (const c of s) if (c.kind === 'evaluate') c.needs.forEach((d) => expect(ids.has(d)).toBe(true));
      }
      // Deterministic: the same call gives the same share.
      expect(shardCells(cells, { index: 0, count: n })).toEqual(shards[0]);
    }
  });

  it('takes the shard from --shard, Kubernetes or Slurm', () => {
    expect(resolveShard('1/4', {})).toEqual({ index: 1, count: 4 });
    expect(() => resolveShard('4/4', {})).toThrow(/Invalid --shard '4\/4'/);
    expect(resolveShard(undefined, {})).toEqual({ index: 0, count: 1 });
    expect(resolveShard(undefined, { JOB_COMPLETION_INDEX: '2', DCNET_SHARDS: '3' })).toEqual({ index: 2, count: 3 });
    expect(resolveShard(undefined, { JOB_COMPLETION_INDEX: '2' }, 5)).toEqual({ index: 2, count: 5 });
    expect(() => resolveShard(undefined, { JOB_COMPLETION_INDEX: '2' })).toThrow(/no shard count/);
    expect(resolveShard(undefined, { SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '4' })).toEqual({ index: 3, count: 4 });
  });
});

describe('profiles', () => {
  it('built-in profiles are valid and JSON round-trips', () => {
    for (const p of Object.values(BUILTIN_PROFILES)) expect(validateProfile(JSON.parse(JSON.stringify(p)))).toEqual(p);
  });
  it('bad profiles name the field', () => {
    expect(() => loadProfile('nope')).toThrow(/Unknown profile 'nope'.*quick, study, paper, tiny/);
    const p = structuredClone(quick) as unknown as Record<string, unknown>;
    (p.evaluation as { epsilons: number[] }).epsilons = [8];
    expect(() => validateProfile(p)).toThrow(/epsilons.*8\/255 = 0.0314, not 8/);
    expect(() => validateProfile({ ...quick, architecture: 'vgg' })).toThrow(/architecture: "vgg" is not one of small-cnn, small-cnn-bn, cnn9, resnet32/);
    expect(() => validateProfile({ ...quick, operators: ['tanh-cos'] })).toThrow(/Invalid angular 'cos'/);
  });
});

describe('the study profile', () => {
  const study = BUILTIN_PROFILES.study!;

  it('targets: every operator x training, 3 seeds of baseline, TanhConv and LinearConv, the ablation on small-cnn', () => {
    const ids = targetModels(study).map((m) => m.id);
    expect(ids).toHaveLength(8 * 2 + 3 * 2 + 2 * 2);
    expect(new Set(ids).size).toBe(ids.length);
    for (const op of ['standard', 'tanh-cosine', 'linear-cosine']) {
      for (const s of [0, 2, 3]) expect(ids).toContain(`fashion-mnist/small-cnn-bn/${op}/standard/s${s}`);
    }
    expect(ids).toContain('fashion-mnist/small-cnn/tanh-cosine/fgsm-at/s0');
    expect(targetModels(study).filter((m) => m.ablation).map((m) => m.id)).toEqual([
      'fashion-mnist/small-cnn/tanh-cosine/standard/s0',
      'fashion-mnist/small-cnn/linear-cosine/standard/s0',
      'fashion-mnist/small-cnn/tanh-cosine/fgsm-at/s0',
      'fashion-mnist/small-cnn/linear-cosine/fgsm-at/s0',
    ]);
    // One transfer source, trained once for every target.
    expect(planCells(study).filter((c) => c.kind === 'train')).toHaveLength(ids.length + 1);
  });

  it('the learnable radius goes to the study operators that use a radius, never to the ablation', () => {
    const learnable = (id: string) => trainOverrides(study, id).operatorOptions?.learnableRadius === true;
    expect(learnable('fashion-mnist/small-cnn-bn/tanh-cosine/standard/s0')).toBe(true);
    expect(learnable('fashion-mnist/small-cnn-bn/ball-cosine/fgsm-at/s0')).toBe(true);
    expect(learnable('fashion-mnist/small-cnn-bn/seg-cosine/standard/s0')).toBe(true);
    for (const op of ['standard', 'sphere-cosine', 'linear-cosine', 'log-cosine', 'mix-cosine']) expect(learnable(`fashion-mnist/small-cnn-bn/${op}/standard/s0`)).toBe(false);
    expect(learnable('fashion-mnist/small-cnn/tanh-cosine/standard/s0')).toBe(false);
  });

  it('refuses extra seeds and ablations that do not fit the study', () => {
    const bad = (patch: (p: typeof study) => void, message: RegExp) => {
      const p = structuredClone(study);
      patch(p);
      expect(() => validateProfile(p)).toThrow(message);
    };
    bad((p) => (p.extraSeeds = [{ operators: ['tanh-sigmoid'], trainings: ['standard'], seeds: [2] }]), /extraSeeds\.0\.operators\.0: operator "tanh-sigmoid" is not one of the profile's operators/);
    bad((p) => (p.extraSeeds = [{ operators: ['standard'], trainings: ['standard'], seeds: [0] }]), /seed 0 is the profile's own seed/);
    bad((p) => (p.extraSeeds = [{ operators: ['standard'], trainings: ['standard'], seeds: [1] }]), /seed 1 of standard\/standard is the transfer source/);
    bad((p) => (p.ablation!.architecture = 'small-cnn-bn'), /the ablation needs another architecture than the study's small-cnn-bn/);
    bad((p) => (p.ablation!.trainings = ['pgd-at']), /training "pgd-at" is not one of the profile's trainings/);
  });
});
