// One UserError base class: every mistake a user can make raises a subclass of it, the CLIs
// print it as one line (exit 2) by `instanceof`, and it stays a UserError across the bench's
// worker boundary while a bug keeps its stack.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deserializeError, serializeError, UserError } from '../src/errors.js';
import { loadDataset } from '../src/data/index.js';
import { parseZooId } from '../models/zoo/index.js';
import { perturb } from '../attacks/index.js';
import { resolveShard } from '../src/bench/cells.js';
import { loadProfile } from '../src/bench/profile.js';
import { initBackend } from '../src/backend.js';
import { parseOperatorId } from '../src/ops/options.js';
import { tf } from '../src/tf.js';

const ROOT = join(import.meta.dirname, '..');
const node = (script: string, ...args: string[]) => spawnSync(process.execPath, [join(ROOT, script), ...args], { encoding: 'utf8' });

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('UserError', () => {
  it('is the base of every error a user causes: data, zoo, attack, shard, profile, operator, backend', async () => {
    const x = tf.zeros([1, 2, 2, 1]) as tf.Tensor4D;
    const errors = [
      thrown(() => loadDataset('imagenet', { split: 'test' })),
      thrown(() => parseZooId('mnist/small-cnn/standard')),
      thrown(() => perturb('fgsm', (t) => tf.reshape(t, [1, 4]) as tf.Tensor2D, x, tf.tensor1d([0], 'int32'), -0.1)),
      thrown(() => resolveShard('3/2', {})),
      thrown(() => loadProfile('no-such-profile')),
      thrown(() => parseOperatorId('tanh-cos')),
      await initBackend('gpu-please').catch((e: unknown) => e),
    ];
    x.dispose();
    const names = errors.map((e) => (e as Error).name);
    expect(names).toEqual(['DataError', 'ZooError', 'AttackError', 'ShardError', 'ProfileError', 'OptionError', 'BackendError']);
    for (const e of errors) expect(e).toBeInstanceOf(UserError);
  });

  it('crosses a worker boundary (structured clone) as a UserError; a bug stays a plain Error with its stack', () => {
    const user = deserializeError(structuredClone(serializeError(thrown(() => parseZooId('x')))));
    expect(user).toBeInstanceOf(UserError);
    expect(user.name).toBe('ZooError');
    expect(user.message).toMatch(/x/);

    const bug = new TypeError('cannot read properties of undefined');
    const back = deserializeError(structuredClone(serializeError(bug)));
    expect(back).not.toBeInstanceOf(UserError);
    expect(back.name).toBe('TypeError');
    expect(back.stack).toBe(bug.stack);

    const notAnError = deserializeError(structuredClone(serializeError('a string')));
    expect(notAnError).not.toBeInstanceOf(UserError);
    expect(notAnError.message).toBe('a string');
  });

  it('dcnet prints a user error as one line and exits 2', () => {
    const r = node('bin/dcnet.js', 'zoo', 'show', 'mnist/small-cnn/nonsense/standard/s0');
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^dcnet: .*nonsense/);
  });

  it('the perf CLIs print a user error as one line and exit 2', () => {
    const perf = node('dist/src/perf/cli.js', '--operators', 'tanh-cos', '--steps', '1', '--backend', 'cpu');
    expect(perf.status).toBe(2);
    expect(perf.stderr.trim().split('\n').filter((l) => !l.startsWith('backend:'))).toHaveLength(1);
    expect(perf.stderr).toMatch(/^perf: Invalid operator 'tanh-cos'/m);

    const compare = node('dist/src/perf/compare.js', 'only-one.json');
    expect(compare.status).toBe(2);
    expect(compare.stderr).toMatch(/^perf:compare: Usage: /);
  });
});
