// results.csv: one row per model x attack x epsilon (and a clean row per model, and the
// random-noise rows), with every setting and both robust-accuracy definitions with their intervals.
// A profile's wide pass (cheap attacks on more test points) adds its own clean, attack and noise
// rows, told apart by `points` = wide (the main evaluation's rows: main) and their n.
import { stringify } from 'csv-stringify/sync';
import type { Accuracy, ModelResult } from './model-result.js';

const COLUMNS = [
  'model_id', 'dataset', 'architecture', 'operator', 'family', 'training', 'model_seed',
  'points', 'attack', 'mode', 'source_model', 'epsilon', 'params', 'n', 'attack_seed',
  'clean_acc', 'clean_lo', 'clean_hi',
  'robust_acc', 'robust_lo', 'robust_hi',
  'conditional_robust_acc', 'conditional_lo', 'conditional_hi', 'clean_correct',
  'images_per_second', 'backend', 'toolkit_version',
  // Random-noise rows (mode noise): robust_acc is the worst case over the draws; this is their mean.
  'noise_mean_of_draws',
] as const;

const f = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '' : x.toFixed(6));
const acc = (a: Accuracy | undefined) => [f(a?.accuracy), f(a?.ci95[0]), f(a?.ci95[1])];

export function renderCsv(models: ModelResult[]): string {
  const rows: unknown[][] = [];
  for (const m of models) {
    const base = [m.model.id, m.model.dataset, m.model.architecture, m.model.operator, m.model.family, m.model.training, m.model.seed];
    const tail = [m.evaluation.backend, m.evaluation.toolkitVersion];
    const passes = [{ points: 'main', clean: m.evaluation.clean, results: m.results }, ...(m.wide ? [{ points: 'wide', clean: m.wide.clean, results: m.wide.results }] : [])];
    for (const { points, clean, results } of passes) {
      rows.push([...base, points, 'none', 'clean', '', 0, '{}', clean.n, m.evaluation.seed, ...acc(clean), ...acc(clean), '', '', '', clean.correct, '', ...tail, '']);
      for (const r of results) {
        rows.push([
          ...base, points, r.attack, r.mode, r.source ?? '', r.epsilon, JSON.stringify(r.params), r.robust.n, m.evaluation.seed,
          ...acc(clean), ...acc(r.robust), ...acc(r.conditional), r.conditional.n, f(r.imagesPerSecond), ...tail, f(r.mean),
        ]);
      }
    }
  }
  return stringify(rows, { header: true, columns: [...COLUMNS] });
}
