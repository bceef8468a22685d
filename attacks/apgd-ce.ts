// APGD-CE (Croce & Hein 2020): Auto-PGD on the cross-entropy loss; AutoAttack's first member.
import { apgdParams, apgdRun, withRestarts } from './apgd-core.js';
import { crossEntropy } from './losses.js';
import type { AttackDefinition } from './types.js';

export const apgdCe: AttackDefinition = {
  name: 'apgd-ce',
  norm: 'linf',
  needs: 'gradients',
  iterative: true,
  randomized: true,
  description: 'Auto-PGD with cross-entropy: step-size schedule with checkpoints, momentum 0.75, restarts on unfooled points',
  params: apgdParams(),
  run: (ctx) => withRestarts(ctx, (sub) => apgdRun(sub, () => crossEntropy)),
};
