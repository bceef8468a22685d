// Bad options fail with an error that names the option and lists the valid values.
import { describe, expect, it } from 'vitest';
import { tf } from '../src/tf.js';
import { decoupledConv2d } from '../src/ops/decoupled.js';
import { DecoupledConv2D } from '../src/layers/decoupled-conv2d.js';
import { operatorId, parseOperatorId, resolveOptions } from '../src/ops/options.js';

const x = () => tf.zeros([1, 4, 4, 2]) as tf.Tensor4D;
const w = (k = 3) => tf.zeros([k, k, 2, 3]) as tf.Tensor4D;

describe('option validation', () => {
  it('unknown magnitude names the option and the valid values', () => {
    expect(() => decoupledConv2d(x(), w(), { magnitude: 'cube' as never })).toThrow(
      /Invalid magnitude 'cube'\. Valid values: standard, sphere, ball, tanh, linear, seg, log, mix/,
    );
  });
  it('unknown angular and weighting', () => {
    expect(() => resolveOptions({ angular: 'tan' as never })).toThrow(/Invalid angular 'tan'.*linear, cosine, sigmoid, sqcosine/);
    expect(() => resolveOptions({ weighting: 'cubic' as never })).toThrow(/Invalid weighting 'cubic'.*none, linear, nonlinear-a, nonlinear-b/);
  });
  it('radius <= 0', () => {
    expect(() => decoupledConv2d(x(), w(), { radius: 0 })).toThrow(/Invalid radius 0: it must be a finite number > 0/);
    expect(() => resolveOptions({ radius: -1 })).toThrow(/radius/);
    expect(() => new DecoupledConv2D({ filters: 2, kernelSize: 3, radius: -2 })).toThrow(/Invalid radius -2/);
  });
  it('kernel larger than the input with valid padding', () => {
    expect(() => decoupledConv2d(x(), w(5), { padding: 'valid' })).toThrow(
      /Invalid padding 'valid': kernel 5x5 is larger than the 4x4 input\. Valid values: same, valid/,
    );
    expect(() => decoupledConv2d(x(), w(5), { padding: 'valid', magnitude: 'standard' })).toThrow(/padding 'valid'/);
    // 'same' pads, so it works.
    expect(decoupledConv2d(x(), w(5), { padding: 'same' }).shape).toEqual([1, 4, 4, 3]);
  });
  it('other bad options', () => {
    expect(() => resolveOptions({ padding: 'full' as never })).toThrow(/Invalid padding 'full'\. Valid values: same, valid/);
    expect(() => resolveOptions({ strides: 0 })).toThrow(/Invalid strides 0/);
    expect(() => resolveOptions({ k: 0 })).toThrow(/Invalid k 0/);
    expect(() => resolveOptions({ magnitude: 'standard', weighting: 'linear' })).toThrow(/weighting 'linear' for magnitude 'standard'/);
    expect(() => resolveOptions({ radious: 1 } as never)).toThrow(/Unknown operator option 'radious'/);
    expect(() => new DecoupledConv2D({ filters: 2, kernelSize: 3, magnitude: 'linear', learnableRadius: true })).toThrow(/learnableRadius.*'linear'/);
    expect(() => decoupledConv2d(x(), tf.zeros([3, 3, 5, 1]) as tf.Tensor4D)).toThrow(/Input has 2 channels but the filter expects 5/);
  });
  it('defaults follow the authors code', () => {
    expect(resolveOptions()).toMatchObject({ alpha: 1, beta: 0.5, k: 0.3, radius: 1, weighting: 'none' });
  });
  it('operator ids round-trip', () => {
    for (const id of ['standard', 'tanh-cosine', 'ball-sigmoid-wlinear', 'seg-sqcosine-wnonlinear-b']) {
      expect(operatorId(parseOperatorId(id))).toBe(id);
    }
    expect(() => parseOperatorId('cube-cosine')).toThrow(/Invalid magnitude 'cube'/);
  });
});
