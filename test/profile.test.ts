// Profiles: the schema (every problem found before any work, by its path), overrides
// (--patch, --set), and the cost estimate of --dry-run against hand-counted work.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILTIN_PROFILES, loadProfile, ProfileError, validateProfile, type BenchProfile } from '../src/bench/profile.js';
import { mergePatch, parseSet } from '../src/bench/profile-overrides.js';
import { didYouMean, editDistance } from '../src/bench/did-you-mean.js';
import { attackWork, estimateCost, type UnitCost } from '../src/bench/cost.js';
import { calibrationKey, calibrator, type CalibrationRequest } from '../src/bench/calibration.js';
import { dryRun } from '../src/bench/dry-run.js';

const root = mkdtempSync(join(tmpdir(), 'dcnet-profile-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const CLI = join(import.meta.dirname, '..', 'bin', 'dcnet.js');

const tiny = (): BenchProfile => structuredClone(BUILTIN_PROFILES.tiny!);

/** The ProfileError message of validating `edit(tiny)`. */
function problems(edit: (p: Record<string, any>) => void): string {
  const p = tiny() as unknown as Record<string, any>;
  edit(p);
  try {
    validateProfile(p, 'test');
  } catch (err) {
    expect(err).toBeInstanceOf(ProfileError);
    return (err as Error).message;
  }
  throw new Error('the profile was accepted');
}

describe('profile schema', () => {
  it('accepts every built-in profile as it is', () => {
    for (const p of Object.values(BUILTIN_PROFILES)) expect(validateProfile(structuredClone(p), p.name)).toEqual(p);
  });

  it('refuses unknown keys, naming the nearest valid one', () => {
    expect(problems((p) => (p.train.epoch = 1))).toMatch(/train: unknown key 'epoch' \(did you mean 'epochs'\?\)/);
    expect(problems((p) => (p.evaluaton = {}))).toMatch(/\(top level\): unknown key 'evaluaton' \(did you mean 'evaluation'\?\)/);
    expect(problems((p) => (p.evaluation.whiteBox[1].parms = {}))).toMatch(/evaluation\.whiteBox\.1: unknown key 'parms' \(did you mean 'params'\?\)/);
  });

  it('refuses string numbers and wrong types', () => {
    expect(problems((p) => (p.train.epochs = '1'))).toMatch(/train\.epochs: .*expected number, received string/);
    expect(problems((p) => (p.evaluation.n = 2.5))).toMatch(/evaluation\.n: .*expected int/);
    expect(problems((p) => (p.seed = -1))).toMatch(/seed: .*>=0/);
    expect(problems((p) => (p.evaluation.seed = 'x'))).toMatch(/evaluation\.seed/);
    expect(problems((p) => (p.operators = []))).toMatch(/operators: /);
  });

  it('checks attack names and parameters against the attack registry', () => {
    expect(problems((p) => (p.evaluation.whiteBox[0].name = 'fgms'))).toMatch(/unknown attack "fgms" \(did you mean 'fgsm'\?\)/);
    expect(problems((p) => (p.evaluation.whiteBox[1].params.steps = 0))).toMatch(/evaluation\.whiteBox\.1\.params: .*'steps' = 0 is out of range/);
    expect(problems((p) => (p.evaluation.whiteBox[1].params.steps = '3'))).toMatch(/'steps' must be a finite number, got "3"/);
    expect(problems((p) => (p.evaluation.scoreBased.params = { querys: 5 }))).toMatch(/has no parameter 'querys'/);
    expect(problems((p) => (p.evaluation.scoreBased = { name: 'pgd' }))).toMatch(/needs an attack that only queries outputs/);
  });

  it('checks epsilons, duplicates, the transfer source, the dataset, the run name', () => {
    expect(problems((p) => (p.evaluation.epsilons = [0.1, 8]))).toMatch(/evaluation\.epsilons\.1: .*\(8\/255 = 0\.0314, not 8\)/);
    expect(problems((p) => (p.evaluation.tableEpsilon = 0.2))).toMatch(/tableEpsilon: 0\.2 must be one of evaluation\.epsilons/);
    expect(problems((p) => (p.evaluation.scoreBased.epsilons = [0.3]))).toMatch(/must include the table epsilon 0\.1/);
    expect(problems((p) => p.operators.push('standard'))).toMatch(/operators\.2: operator "standard" appears twice/);
    expect(problems((p) => p.evaluation.whiteBox.push({ name: 'fgsm' }))).toMatch(/evaluation\.whiteBox\.2: attack fgsm with the same settings appears twice/);
    // The same attack with other settings (an effort check) is not a duplicate.
    const effort = tiny();
    effort.evaluation.whiteBox.push({ name: 'bim', params: { steps: 6, relStepSize: 0.5 } });
    expect(validateProfile(effort).evaluation.whiteBox).toHaveLength(3);
    expect(problems((p) => (p.evaluation.transfer.source.seed = 0))).toMatch(/transfer source standard\/standard with seed 0 is also a target/);
    expect(problems((p) => (p.evaluation.transfer.source.operator = 'tanh'))).toMatch(/Invalid operator 'tanh'/);
    expect(problems((p) => (p.dataset = 'cifar'))).toMatch(/dataset: "cifar" is not one of .* \(did you mean 'cifar10'\?\)/);
    for (const name of ['..', 'a/b', '', 'x y']) expect(problems((p) => (p.name = name))).toMatch(/name: must be a plain folder name/);
  });

  it('lists every problem at once', () => {
    const msg = problems((p) => {
      p.train.lr = 0;
      p.architecture = 'cnn-9';
      p.evaluation.batch = '64';
    });
    expect(msg).toMatch(/^Profile test is invalid: /);
    for (const path of ['train.lr', 'architecture', 'evaluation.batch']) expect(msg).toContain(`${path}: `);
    expect(msg).toContain(`(did you mean 'cnn9'?)`);
  });

  it('did-you-mean suggests only close names', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(didYouMean('epoch', ['epochs', 'batch'])).toBe(` (did you mean 'epochs'?)`);
    expect(didYouMean('zzzzzz', ['epochs', 'batch'])).toBe('');
  });
});

describe('profile overrides', () => {
  it('--set parses dotted paths and JSON values (strings otherwise)', () => {
    expect(parseSet('train.epochs=3')).toEqual({ path: ['train', 'epochs'], value: 3 });
    expect(parseSet('name=my-run')).toEqual({ path: ['name'], value: 'my-run' });
    expect(parseSet('evaluation.epsilons=[0.1,0.2]')).toEqual({ path: ['evaluation', 'epsilons'], value: [0.1, 0.2] });
    expect(parseSet('evaluation.seed="5"').value).toBe('5');
    expect(() => parseSet('train.epochs')).toThrow(/expected key=value/);
    expect(() => parseSet('train..epochs=1')).toThrow(/expected key=value/);
  });

  it('merge patch: objects merge, arrays and values replace, null deletes', () => {
    expect(mergePatch({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, d: null, e: { f: 1 } })).toEqual({ a: { b: 1, c: [3] }, e: { f: 1 } });
  });

  it('apply to any profile, are validated, and leave the built-in alone', () => {
    const patchFile = join(root, 'patch.json');
    writeFileSync(patchFile, JSON.stringify({ train: { epochs: 5, limit: null }, operators: ['standard'] }));
    const p = loadProfile('tiny', { patch: patchFile, set: ['train.epochs=2', 'evaluation.whiteBox.1.params.steps=7', 'evaluation.n=32'] });
    expect(p.train).toEqual({ epochs: 2, batch: 64, lr: 2e-3, eps: 0.1 });
    expect(p.operators).toEqual(['standard']);
    expect(p.evaluation.whiteBox[1]!.params).toEqual({ steps: 7, relStepSize: 0.5 });
    expect(p.evaluation.n).toBe(32);
    expect(BUILTIN_PROFILES.tiny!.train.epochs).toBe(1);
    expect(loadProfile('quick', { patch: '{"seed": 4}' }).seed).toBe(4);
    expect(() => loadProfile('tiny', { set: ['train.epoch=2'] })).toThrow(/Profile tiny \(with --patch\/--set\) is invalid: train: unknown key 'epoch' \(did you mean 'epochs'\?\)/);
    expect(() => loadProfile('tiny', { set: ['seed.x=1'] })).toThrow(/--set seed\.x: seed is 0, not an object or list/);
    expect(() => loadProfile('tiny', { set: ['operators.5=standard'] })).toThrow(/operators is a list of 2; '5' is not an index 0\.\.2/);
    expect(() => loadProfile('tiny', { patch: '{"seed": ' })).toThrow(/--patch \(inline\) is not a JSON object/);
    expect(() => loadProfile('tiny', { patch: join(root, 'missing.json') })).toThrow(/no such file, and not inline JSON/);
  });

  it('the CLI refuses a bad profile before any work, with one line and exit code 2', () => {
    const runDir = join(root, 'never');
    const cases: Array<[string[], RegExp]> = [
      [['--set', 'train.epoch=1'], /unknown key 'epoch' \(did you mean 'epochs'\?\)/],
      [['--set', 'evaluation.n=5000'], /evaluation\.n is 5000 but the fashion-mnist-embedded test split holds 2000 images/],
      [['--run', '../x'], /Invalid --run '\.\.\/x': a plain folder name/],
    ];
    for (const [args, message] of cases) {
      const r = spawnSync(process.execPath, [CLI, 'bench', '--profile', 'tiny', '--out', runDir, ...args], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(existsSync(runDir)).toBe(false);
    }
  });
});

describe('cost estimate', () => {
  // Seconds per image: decoupled operators cost twice the standard convolution.
  const cost = (op: string): UnitCost => (op === 'standard' ? { train: 1, forward: 0.01, inputGradient: 0.1 } : { train: 2, forward: 0.02, inputGradient: 0.2 });
  const sizes = { train: 100, test: 50 };

  it('counts the work of every cell (tiny profile, by hand)', () => {
    // Training (1 epoch, 100 images; then the 50 test images): standard 100 + 0.5, tanh
    // 200 + 1, the source 100.5. Evaluation of a target with forward f, gradient g on its 50
    // points (of n = 64) at 2 epsilons: clean 50f, FGSM 100(g + f), BIM 100(3g + f), Square
    // 100 x 10f, transfer scoring 100f, noise 5 draws x 100f, FAB-T minimal epsilons (1
    // target, 10 steps) 50(10g + f) = 1900f + 900g; the source's FGSM examples once per
    // worker (one here): 100(0.1 + 0.01) = 11.
    const e = estimateCost(tiny(), { index: 0, count: 1 }, sizes, cost);
    expect(e.seconds.train).toBeCloseTo(402, 9);
    expect(e.seconds.evaluate).toBeCloseTo(1900 * 0.01 + 900 * 0.1 + (1900 * 0.02 + 900 * 0.2) + 11, 9);
    // Two workers may each compute the source's examples.
    expect(estimateCost(tiny(), { index: 0, count: 1 }, sizes, cost, new Set(), 2).seconds.evaluate).toBeCloseTo(e.seconds.evaluate + 11, 9);
    // A shard counts only its cells (its target and the source it needs).
    const shard1 = estimateCost(tiny(), { index: 1, count: 2 }, sizes, cost);
    expect(shard1.cells.map((c) => c.cell.id)).toEqual([
      'train:fashion-mnist-embedded/small-cnn/tanh-cosine/standard/s0',
      'train:fashion-mnist-embedded/small-cnn/standard/standard/s1',
      'evaluate:fashion-mnist-embedded/small-cnn/tanh-cosine/standard/s0',
    ]);
    expect(shard1.seconds.train).toBeCloseTo(201 + 100.5, 9);
  });

  it('an attack costs steps x restarts x targets gradients; AutoAttack the sum of its members', () => {
    expect(attackWork({ name: 'pgd', params: { steps: 20, restarts: 2 } })).toEqual({ inputGradient: 40, forward: 1 });
    expect(attackWork({ name: 'apgd-t', params: { steps: 25, targets: 3 } })).toEqual({ inputGradient: 75, forward: 1 });
    expect(attackWork({ name: 'square', params: { queries: 200 } })).toEqual({ forward: 200 });
    // APGD-CE 25 + APGD-T 25 x 3 + FAB-T 10 x 3 gradients (each with a scoring forward), Square 100 queries.
    expect(attackWork({ name: 'autoattack', params: { steps: 25, targets: 3, fabSteps: 10, queries: 100 } })).toEqual({ train: 0, inputGradient: 130, forward: 103 });
  });

  it('adversarial training adds its attack gradients (fgsm-at: half of each batch)', () => {
    const p = tiny();
    p.trainings = ['fgsm-at'];
    const e = estimateCost(p, { index: 0, count: 1 }, sizes, cost);
    // Targets: 100.5 + 0.5 x 100 x 0.1 and 201 + 0.5 x 100 x 0.2; the source is standard.
    expect(e.seconds.train).toBeCloseTo(105.5 + 211 + 100.5, 9);
  });

  it('the calibration is measured once, then read from the cache file', () => {
    const calls: CalibrationRequest[] = [];
    const c = calibrator(join(root, 'cache'), (r) => {
      calls.push(r);
      return r.step === 'train' ? 0.5 : 0.25;
    });
    const req: CalibrationRequest = { backend: 'wasm', architecture: 'cnn9', operator: 'standard', step: 'train', inputShape: [32, 32, 3], classes: 10, batch: 8, steps: 2 };
    expect(c.measure(req)).toMatchObject({ cost: { secondsPerImage: 0.5 }, cached: false });
    expect(c.measure(req)).toMatchObject({ cost: { secondsPerImage: 0.5 }, cached: true });
    expect(c.measure({ ...req, step: 'forward' })).toMatchObject({ cost: { secondsPerImage: 0.25 }, cached: false });
    expect(calls).toHaveLength(2);
    // Another process (a fresh calibrator) reads the same file.
    expect(calibrator(join(root, 'cache'), () => 9).measure(req).cached).toBe(true);
    // A damaged cache is measured again and rewritten.
    writeFileSync(c.file, '{"schema": ');
    expect(c.measure(req).cached).toBe(false);
    expect(JSON.parse(readFileSync(c.file, 'utf8')).schema).toBe('dcnet-robustness/calibration@1');
  });

  it('dry run prints cells, models, attacks and the estimate in CPU-hours', () => {
    const c = calibrator(join(root, 'cache-dry'), (r) => cost(r.operator)[r.step]);
    const { text, cpuSeconds } = dryRun({ profile: tiny(), shard: { index: 0, count: 1 }, jobs: 2, backend: 'wasm', sizes, calibrator: c });
    expect(cpuSeconds).toBeCloseTo(402 + 109 + 218 + 2 * 11, 9);
    expect(text).toContain('cells: 5 (3 train, 2 evaluate)');
    expect(text).toContain('  fashion-mnist-embedded/small-cnn/standard/standard/s1');
    expect(text).toContain('white-box: fgsm (1 gradient(s) per point, 2 eps), bim (3 gradient(s) per point, 2 eps)');
    expect(text).toContain('score-based: square (10 queries per point, 2 eps)');
    expect(text).toContain('  tanh-cosine: train 2000.0 ms, forward 20.0 ms, input gradient 200.0 ms');
    expect(text).toContain(`estimate: ${(751 / 3600).toFixed(2)} CPU-hours`);
  });

  it('dry run calibrates every operator, with a learnable radius where the profile trains one', () => {
    const calls: CalibrationRequest[] = [];
    const c = calibrator(join(root, 'cache-each'), (r) => {
      calls.push(r);
      return r.learnableRadius ? 2 : 1;
    });
    const p = tiny();
    p.operators = ['standard', 'sphere-cosine', 'ball-cosine', 'tanh-cosine', 'linear-cosine'];
    p.train.learnableRadius = true;
    const { text } = dryRun({ profile: p, shard: { index: 0, count: 1 }, jobs: 2, backend: 'wasm', sizes, calibrator: c });
    const train = calls.filter((r) => r.step === 'train');
    expect(train.map((r) => [r.operator, r.learnableRadius ?? false])).toEqual([
      ['standard', false], ['sphere-cosine', false], ['ball-cosine', true], ['tanh-cosine', true], ['linear-cosine', false],
    ]);
    expect(text).toContain('  ball-cosine (learnable radius): train 2000.0 ms');
    expect(text).toContain('  sphere-cosine: train 1000.0 ms');
    // The learnable radius is its own cache entry.
    expect(new Set(calls.map((r) => calibrationKey(r))).size).toBe(calls.length);
    expect(calibrationKey({ ...train[2]!, learnableRadius: undefined })).not.toBe(calibrationKey(train[2]!));
  });
});
