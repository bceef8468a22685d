// AutoAttack (Croce & Hein, ICML 2020), standard Linf version: APGD-CE, APGD-T, FAB-T and
// Square in sequence, each only on the points no earlier member fooled. The result is the
// per-point worst case; `runAutoAttack` also says which member fooled which point.
import { tf } from '../src/tf.js';
import { apgdCe } from './apgd-ce.js';
import { apgdT } from './apgd-t.js';
import { fabT } from './fab-t.js';
import { compactParam, resolveParams, targetsParam } from './params.js';
import { square } from './square.js';
import { misclassified, readMask } from './tensor-ops.js';
import type { AttackContext, AttackDefinition, ParamValues } from './types.js';

/** The members in AutoAttack's order, with their settings taken from the ensemble's parameters. */
export function autoAttackMembers(p: ParamValues): Array<{ def: AttackDefinition; params: ParamValues }> {
  const compact = p.compact as boolean;
  return [
    { def: apgdCe, params: resolveParams(apgdCe, { steps: p.steps, restarts: 1, compact }) },
    { def: apgdT, params: resolveParams(apgdT, { steps: p.steps, targets: p.targets, restarts: 1, compact }) },
    { def: fabT, params: resolveParams(fabT, { steps: p.fabSteps, targets: p.targets, compact }) },
    // AutoAttack's Square keeps the schedule written for 10,000 queries (resc_schedule=False).
    { def: square, params: resolveParams(square, { queries: p.queries, pInit: p.pInit, rescaleSchedule: false, compact }) },
  ];
}

export interface AutoAttackRun {
  adv: tf.Tensor4D;
  /** Per member, in order: per point, fooled by this member or an earlier one (1) or not (0). */
  members: Array<{ name: string; params: ParamValues; fooled: Uint8Array }>;
}

/** The ensemble with each member's cumulative success per point (reads masks back). */
export function runAutoAttack(ctx: AttackContext): AutoAttackRun {
  let current = ctx.x.clone();
  const members: AutoAttackRun['members'] = [];
  for (const { def, params } of autoAttackMembers(ctx.params)) {
    const next = ctx.remaining(current, (sub) => def.run(sub), params);
    current.dispose();
    current = tf.tidy(() => ctx.project(next));
    next.dispose();
    const fooled = readMask(() => misclassified(ctx.logits(current), ctx.labels));
    members.push({ name: def.name, params, fooled: Uint8Array.from(fooled) });
  }
  return { adv: current, members };
}

export const autoAttack: AttackDefinition = {
  name: 'autoattack',
  norm: 'linf',
  needs: 'gradients',
  iterative: true,
  randomized: true,
  description: 'AutoAttack (standard, Linf): APGD-CE, APGD-T, FAB-T, Square in sequence, each on the points still correct',
  params: {
    steps: { type: 'int', default: 100, min: 1, max: 100000, help: 'APGD-CE and APGD-T iterations (AutoAttack: 100)' },
    ...targetsParam(),
    fabSteps: { type: 'int', default: 100, min: 1, max: 100000, help: 'FAB-T iterations per target (AutoAttack: 100)' },
    queries: { type: 'int', default: 5000, min: 1, max: 1000000, help: 'Square queries per point (AutoAttack: 5000)' },
    pInit: { type: 'number', default: 0.8, min: 0.0001, max: 1, help: "Square's initial fraction of pixels (AutoAttack: 0.8)" },
    ...compactParam(),
  },
  run(ctx: AttackContext) {
    return runAutoAttack(ctx).adv;
  },
  runMembers: runAutoAttack,
};
