// Public API of the attack modules.
export type { LossFn, LogitsFn, AttackDefinition, AttackContext, ParamSpec, ParamValues, ParamValue } from './types.js';
export { AttackError } from './types.js';
export { perturb, perturbWithMembers, runAttack, checkEpsilon, DEFAULT_SEED, type AttackRef, type SweepOptions, type SweepResult } from './base.js';
export { getAttack, listAttacks, attackNames, attackOrigin, registerAttack, registerAttacks, BUILT_IN } from './registry.js';
export { validateDefinition } from './definition.js';
export { loadPlugins, resolvePlugin, pluginOfAttack, PluginError, type PluginRecord, type PluginApi } from './plugins.js';
export { resolveParams, stepSizeParams, iterationParams, resolveStepSize } from './params.js';
export { projectLinf, lossGradient, marginOf, misclassified, selectPoints } from './tensor-ops.js';
export { logitsOf } from './model.js';
// The attack contract kit is its own entry point (dcnet-robustness/testing): it is for tests.
export { crossEntropy, cwMargin, dlr, dlrTargeted, targetMargin, lossByName, LOSS_NAMES, type LossName } from './losses.js';
export { pointLoop, reassemble, type StopMode, type LoopStep } from './point-loop.js';
export { minimalLinfStep } from './linf-projection.js';
export { apgdCheckpoints } from './apgd-core.js';
export { runAutoAttack, autoAttackMembers, type AutoAttackRun } from './autoattack.js';
