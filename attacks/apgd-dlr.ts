// APGD-DLR (Croce & Hein 2020): Auto-PGD on the Difference of Logits Ratio loss, which is
// invariant to shifting and rescaling the logits (no vanishing gradient from saturation).
import { apgdParams, apgdRun, withRestarts } from './apgd-core.js';
import { dlr } from './losses.js';
import type { AttackDefinition } from './types.js';

export const apgdDlr: AttackDefinition = {
  name: 'apgd-dlr',
  norm: 'linf',
  needs: 'gradients',
  iterative: true,
  randomized: true,
  description: 'Auto-PGD with the DLR loss (shift- and scale-invariant margin); needs at least 3 classes',
  params: apgdParams(),
  run: (ctx) => withRestarts(ctx, (sub) => apgdRun(sub, () => dlr)),
};
