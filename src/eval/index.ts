// Public API of the evaluation engine.
export { clearTransferCache, type TransferCache } from './batch.js';
export { evaluate, type EvaluateOptions, type AttackRequest, type ModelRef, type Progress } from './evaluate.js';
export * from './types.js';
export { wilsonInterval, accuracy, countOnes } from './wilson.js';
export { runChecks, type CheckInputs, type RunRecord } from './checks.js';
export { checkInputRange } from './inputs.js';
export { worstCase, worstCaseBits } from './aggregate.js';
export { encodeBits, decodeBits } from './bits.js';
export { verdicts, moreEffort, NOISE_FRAGILE_SHARE } from './verdicts.js';
export { attackLabel } from './plan.js';
export type { BatchOutcome } from './batch.js';
