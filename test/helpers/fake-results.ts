// Constructed per-model results with chosen accuracies, for testing the report layer. The
// robust test points of a row are its first k points (so outcomes are nested across models).
import type { BenchProfile } from '../../src/bench/profile.js';
import { modelId } from '../../src/bench/cells.js';
import { familyOf, MODEL_RESULT_SCHEMA, type ModelResult } from '../../reports/model-result.js';
import { accuracy as wilson, encodeBits } from '../../src/eval/index.js';

const firstK = (k: number, n: number) => encodeBits(Uint8Array.from({ length: n }, (_, i) => (i < k ? 1 : 0)));

/** robust(op, training, mode, attack, eps) gives the number of robust test points out of n. */
export function fakeResults(
  profile: BenchProfile,
  n: number,
  robust: (op: string, training: string, mode: string, attack: string, eps: number) => number,
  seed = profile.seed,
): ModelResult[] {
  const e = profile.evaluation;
  return profile.trainings.flatMap((training) =>
    profile.operators.map((operator): ModelResult => {
      const clean = robust(operator, training, 'clean', 'none', 0);
      const attacks: Array<[ModelResult['results'][number]['mode'], { name: string; params?: Record<string, unknown> }]> = [
        ...e.whiteBox.map((a) => ['white-box', a] as ['white-box', typeof a]),
        ...e.transfer.attacks.map((a) => ['transfer', a] as ['transfer', typeof a]),
        ['score-based', e.scoreBased],
        ['noise', { name: 'noise' }],
      ];
      const results = attacks.flatMap(([mode, a]) =>
        e.epsilons.map((eps) => {
          const r = robust(operator, training, mode, a.name, eps);
          return { attack: a.name, label: a.name, mode, params: a.params ?? {}, epsilon: eps, robust: wilson(r, n), conditional: wilson(r, clean), perPoint: firstK(r, n), ...(mode === 'noise' ? { draws: [wilson(r, n)], mean: r / n } : {}) };
        }),
      );
      const worst = (mode: 'white-box' | 'transfer' | 'all', eps: number) => {
        const k = Math.min(...results.filter((r) => r.epsilon === eps && r.mode !== 'noise' && (mode === 'all' || r.mode === mode)).map((r) => r.robust.correct));
        return { mode, epsilon: eps, robust: wilson(k, n), perPoint: firstK(k, n) };
      };
      return {
        schema: MODEL_RESULT_SCHEMA,
        model: { id: modelId(profile, operator, training, seed), dataset: profile.dataset, architecture: profile.architecture, operator, family: familyOf(operator), training, seed },
        evaluation: { n, seed: 0, backend: 'wasm', toolkitVersion: 'test', wallSeconds: 1, clean: wilson(clean, n), cleanPerPoint: firstK(clean, n) },
        results,
        worstCase: e.epsilons.flatMap((eps) => [worst('white-box', eps), worst('transfer', eps), worst('all', eps)]),
        sanity: [{ id: 'eps0-identity', status: 'passed', message: 'eps 0 returns the input', numbers: {} }],
        verdict: { label: 'robustness-measured', reason: 'no sign of gradient masking or noise fragility', noiseFragileEpsilons: [], measuring: ['bim at eps 0.1'], rows: [] },
      };
    }),
  );
}
