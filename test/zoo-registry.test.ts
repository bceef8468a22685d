// The zoo registry (ids) and the training recipe's defaults and validation: no backend work.
import { describe, expect, it } from 'vitest';
import {
  formatZooId,
  isZooId,
  parseZooId,
  recipeMismatch,
  resolveRecipe,
  zooEntries,
  ZOO_OPERATORS,
  ZooError,
} from '../models/zoo/index.js';
import { effectiveId } from '../src/cli/commands/train.js';

describe('model ids', () => {
  it('parse and format round trip', () => {
    const id = 'fashion-mnist/small-cnn/tanh-cosine/fgsm-at/s0';
    const z = parseZooId(id);
    expect(z).toEqual({ dataset: 'fashion-mnist', architecture: 'small-cnn', operator: 'tanh-cosine', training: 'fgsm-at', seed: 0 });
    expect(formatZooId(z)).toBe(id);
    expect(parseZooId('cifar10/resnet32/standard/pgd-at/s12').seed).toBe(12);
    expect(parseZooId('mnist/cnn9/ball-sigmoid-wnonlinear-b/standard/s3').operator).toBe('ball-sigmoid-wnonlinear-b');
  });

  const bad: Array<[string, RegExp]> = [
    ['fashion-mnist/small-cnn/tanh-cosine/fgsm-at', /expected <dataset>\/<architecture>\/<operator>\/<training>\/s<seed>/],
    ['imagenet/small-cnn/standard/standard/s0', /unknown dataset 'imagenet'.*fashion-mnist-embedded/],
    ['mnist/vgg16/standard/standard/s0', /unknown architecture 'vgg16'.*small-cnn, small-cnn-bn, cnn9, resnet32/],
    ['mnist/small-cnn/tanh-cos/standard/s0', /Invalid angular 'cos'/],
    ['mnist/small-cnn/standard/trades/s0', /unknown training 'trades'.*standard, fgsm-at, pgd-at/],
    ['mnist/small-cnn/standard/standard/0', /seed part '0'/],
    ['mnist/small-cnn/standard/standard/s01', /seed part 's01'/],
    ['mnist/small-cnn/standard/standard/s-1', /seed part/],
  ];
  for (const [id, pattern] of bad) {
    it(`refuses ${id}`, () => {
      expect(() => parseZooId(id)).toThrow(ZooError);
      expect(() => parseZooId(id)).toThrow(pattern);
      expect(isZooId(id)).toBe(false);
    });
  }

  it('the registry lists the study: baseline plus 28 operators, 3 trainings', () => {
    expect(ZOO_OPERATORS).toHaveLength(29);
    expect(ZOO_OPERATORS[0]).toBe('standard');
    expect(ZOO_OPERATORS).toContain('linear-cosine');
    const fm = zooEntries({ datasets: ['fashion-mnist'], architectures: ['small-cnn'] });
    expect(fm).toHaveLength(29 * 3);
    const ids = fm.map(formatZooId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain('fashion-mnist/small-cnn/tanh-cosine/fgsm-at/s0');
    expect(zooEntries()).toHaveLength(4 * 4 * 29 * 3);
    expect(parseZooId('fashion-mnist/small-cnn-bn/ball-cosine/fgsm-at/s2').architecture).toBe('small-cnn-bn');
    expect(zooEntries({ seeds: [0, 1, 2], operators: ['standard'], trainings: ['standard'], datasets: ['mnist'], architectures: ['cnn9'] }).map(formatZooId)).toEqual([
      'mnist/cnn9/standard/standard/s0',
      'mnist/cnn9/standard/standard/s1',
      'mnist/cnn9/standard/standard/s2',
    ]);
    expect(() => zooEntries({ operators: ['tanh-cos'] })).toThrow(/Invalid angular 'cos'/);
  });

  it('the CLI accepts an id without seed plus --seed, and refuses contradictions', () => {
    expect(effectiveId('mnist/small-cnn/standard/standard', 4)).toBe('mnist/small-cnn/standard/standard/s4');
    expect(effectiveId('mnist/small-cnn/standard/standard', undefined)).toBe('mnist/small-cnn/standard/standard/s0');
    expect(effectiveId('mnist/small-cnn/standard/standard/s2', 2)).toBe('mnist/small-cnn/standard/standard/s2');
    expect(() => effectiveId('mnist/small-cnn/standard/standard/s2', 3)).toThrow(/contradicts/);
  });
});

describe('training recipe', () => {
  it('documented defaults', () => {
    const r = resolveRecipe(parseZooId('fashion-mnist/small-cnn/standard/standard/s0'));
    expect(r).toMatchObject({ optimizer: 'adam', learningRate: 1e-3, batchSize: 128, labelSmoothing: 0, projectionPeriod: 100, epochs: 6 });
    expect(r.adversarial).toBeUndefined();
    expect(r.augmentation).toBe('none');
    expect(resolveRecipe(parseZooId('cifar10/resnet32/standard/standard/s0')).augmentation).toBe('crop-flip');
    const f = resolveRecipe(parseZooId('fashion-mnist/small-cnn/tanh-cosine/fgsm-at/s0'));
    expect(f.adversarial).toEqual({ attack: 'fgsm', epsilon: 0.1, fraction: 0.5, weight: 1 });
    const c = resolveRecipe(parseZooId('cifar10/resnet32/standard/fgsm-at/s0'));
    expect(c.adversarial!.epsilon).toBeCloseTo(8 / 255, 12);
    const p = resolveRecipe(parseZooId('mnist/small-cnn/standard/pgd-at/s0'), { epsilon: 0.2 });
    expect(p.adversarial).toEqual({ attack: 'pgd', epsilon: 0.2, fraction: 1, weight: 1, steps: 10, stepSize: 0.05 });
  });

  it('compares recipes for resume and reuse: epochs may differ, nothing else', () => {
    const id = parseZooId('mnist/small-cnn/standard/fgsm-at/s0');
    const r = resolveRecipe(id);
    expect(recipeMismatch(r, resolveRecipe(id, { epochs: 99 }))).toBeUndefined();
    expect(recipeMismatch(r, resolveRecipe(id, { epsilon: 0.2 }))).toMatch(/adversarial: checkpoint .*"epsilon":0.1.*now .*"epsilon":0.2/);
    // A recipe saved before the augmentation setting existed means no augmentation.
    const { augmentation: _a, ...older } = r;
    expect(recipeMismatch(older as never, r)).toBeUndefined();
  });

  it('refuses bad values and options that do not apply', () => {
    const std = parseZooId('mnist/small-cnn/standard/standard/s0');
    const fgsm = parseZooId('mnist/small-cnn/standard/fgsm-at/s0');
    expect(() => resolveRecipe(std, { epochs: 0 })).toThrow(/Invalid epochs 0/);
    expect(() => resolveRecipe(std, { batchSize: 1.5 })).toThrow(/Invalid batch size/);
    expect(() => resolveRecipe(std, { learningRate: -1 })).toThrow(/Invalid learning rate/);
    expect(() => resolveRecipe(std, { augmentation: 'mixup' })).toThrow(/Invalid augmentation 'mixup'.*crop-flip/);
    expect(() => resolveRecipe(std, { epsilon: 0.1 })).toThrow(/only applies to adversarial training/);
    expect(() => resolveRecipe(std, { operatorOptions: { radius: 2 } })).toThrow(/decoupled operators only/);
    expect(() => resolveRecipe(fgsm, { epsilon: 8 })).toThrow(/Invalid eps 8.*8\/255/);
    expect(() => resolveRecipe(fgsm, { attackSteps: 5 })).toThrow(/pgd-at only/);
    expect(() => resolveRecipe(fgsm, { adversarialFraction: 1.5 })).toThrow(/adversarial fraction/);
  });
});
