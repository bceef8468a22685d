// Constructed per-model results with chosen accuracies, for testing the report layer.
import type { BenchProfile } from '../../src/bench/profile.js';
import { modelId } from '../../src/bench/cells.js';
import { familyOf, MODEL_RESULT_SCHEMA, type ModelResult } from '../../reports/model-result.js';
import { accuracy as wilson } from '../../src/eval/index.js';

/** robust(op, training, mode, attack, eps) gives the number of robust points out of n. */
export function fakeResults(
  profile: BenchProfile,
  n: number,
  robust: (op: string, training: string, mode: string, attack: string, eps: number) => number,
): ModelResult[] {
  const e = profile.evaluation;
  return profile.trainings.flatMap((training) =>
    profile.operators.map((operator): ModelResult => {
      const clean = robust(operator, training, 'clean', 'none', 0);
      const attacks: Array<[ModelResult['results'][number]['mode'], string]> = [
        ...e.whiteBox.map((a) => ['white-box', a.name] as ['white-box', string]),
        ...e.transfer.attacks.map((a) => ['transfer', a.name] as ['transfer', string]),
        ['score-based', e.scoreBased.name],
      ];
      const results = attacks.flatMap(([mode, attack]) =>
        e.epsilons.map((eps) => {
          const r = robust(operator, training, mode, attack, eps);
          return { attack, mode, params: {}, epsilon: eps, robust: wilson(r, n), conditional: wilson(r, clean) };
        }),
      );
      return {
        schema: MODEL_RESULT_SCHEMA,
        model: { id: modelId(profile, operator, training, profile.seed), dataset: profile.dataset, architecture: profile.architecture, operator, family: familyOf(operator), training, seed: profile.seed },
        evaluation: { n, seed: 0, backend: 'wasm', toolkitVersion: 'test', wallSeconds: 1, clean: wilson(clean, n) },
        results,
        worstCase: e.epsilons.map((eps) => ({ mode: 'all' as const, epsilon: eps, robust: wilson(Math.min(...results.filter((r) => r.epsilon === eps).map((r) => r.robust.correct)), n) })),
        sanity: [{ id: 'eps0-identity', status: 'passed', message: 'eps 0 returns the input', numbers: {} }],
      };
    }),
  );
}
