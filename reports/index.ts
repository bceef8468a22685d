// The report folder's files from the per-model results: models/*.json (one per model),
// results.csv, report.md, accuracy-vs-eps-*.svg, examples.png. Pure: reading a run folder
// and writing the files is the benchmark's job (src/bench/report.ts).
import { join } from 'node:path';
import { renderCsv } from './csv.js';
import { decodeImages, type ExampleSet, perturbationTile } from './examples.js';
import { renderMarkdown, type ReportInput } from './markdown.js';
import { MODEL_RESULT_SCHEMA, type ModelResult, operatorTitle } from './model-result.js';
import { gridPng, type Tile } from './png.js';
import { renderAccuracyVsEps } from './svg.js';
import { accuracy } from '../src/eval/wilson.js';
import { accuracyAt } from '../src/eval/minimal-epsilon.js';

export type { ReportInput, ReportProfile, RunSession } from './markdown.js';
export { toModelResult, familyOf, operatorTitle, MODEL_RESULT_SCHEMA, type ModelResult, type AttackRow, type WorstCaseRow } from './model-result.js';
export { compareAll, type Comparison } from './comparisons.js';

/** What an evaluation cell returns: the model's result and a few example images. */
export interface EvaluateCellResult {
  model: ModelResult;
  examples?: ExampleSet;
}

const modelFileName = (id: string) => `${id.replace(/[^A-Za-z0-9._-]+/g, '__')}.json`;

/** Every file of the report, by its path inside the run folder; `results` in table order. */
export function renderReport(input: Omit<ReportInput, 'models' | 'examplesLegend'>, results: EvaluateCellResult[]): Map<string, string | Uint8Array> {
  const models = results.map((r) => r.model);
  for (const m of models) {
    if (m.schema !== MODEL_RESULT_SCHEMA) throw new Error(`Result of ${m.model?.id} has schema ${m.schema}, expected ${MODEL_RESULT_SCHEMA}: rerun its evaluation cell.`);
  }
  const files = new Map<string, string | Uint8Array>();
  for (const m of models) files.set(join('models', modelFileName(m.model.id)), JSON.stringify(m, null, 2) + '\n');
  files.set('results.csv', renderCsv(models));
  const grid = models.length ? examplesGrid(results) : undefined;
  if (grid) files.set('examples.png', grid.png);
  files.set('report.md', renderMarkdown({ ...input, models, ...(grid ? { examplesLegend: grid.legend } : {}) }));
  const e = input.profile.evaluation;
  const plots: Array<[string, 'white-box' | 'transfer' | 'score-based', string]> = [
    ...e.whiteBox.map((a) => [`white-box ${a.name.toUpperCase()}`, 'white-box', a.name] as [string, 'white-box', string]),
    ...e.transfer.attacks.map((a) => [`transfer ${a.name.toUpperCase()}`, 'transfer', a.name] as [string, 'transfer', string]),
    [`score-based ${e.scoreBased.name}`, 'score-based', e.scoreBased.name],
  ];
  // Plots show the study's own models (an ablation's, on another architecture, would repeat each operator).
  const plotted = models.filter((m) => m.model.architecture === input.profile.architecture && m.model.seed === input.profile.seed);
  if (plotted.length) {
    const seen = new Set<string>();
    for (const [heading, mode, attack] of plots) {
      const name = `accuracy-vs-eps-${mode}-${attack}.svg`;
      if (seen.has(name)) continue; // a second setting of one attack (the effort check) is in the tables
      seen.add(name);
      const svg = renderAccuracyVsEps(plotted, mode, attack, e.epsilons, `Robust accuracy vs epsilon: ${heading} (${input.profile.dataset}, ${input.profile.architecture}); dotted: random noise (worst of its draws)`);
      files.set(name, svg);
    }
    const withMinimal = plotted.filter((m) => m.minimalEpsilon);
    if (withMinimal.length) files.set('accuracy-vs-eps-minimal.svg', minimalEpsilonPlot(withMinimal, input.profile.dataset, input.profile.architecture));
  }
  return files;
}

/**
 * Rows: test points. Columns: the clean image, then for each model (standard training)
 * its adversarial image and the perturbation (grey = 0, white/black = +-eps).
 */
function examplesGrid(results: EvaluateCellResult[]): { png: Buffer; legend: string } | undefined {
  const withExamples = results.filter((r) => r.examples && r.model.model.training === 'standard').slice(0, 8);
  if (withExamples.length === 0) return undefined;
  const first = withExamples[0]!.examples!;
  const clean = decodeImages(first.clean, first.shape);
  const perModel = withExamples.map((r) => ({ adv: decodeImages(r.examples!.adversarial, r.examples!.shape), eps: r.examples!.epsilon }));
  const cols = 1 + 2 * perModel.length;
  const tiles: Array<Tile | undefined> = [];
  clean.forEach((c, i) => {
    tiles.push(c);
    for (const m of perModel) {
      const a = m.adv[i];
      tiles.push(a, a ? perturbationTile(c, a, m.eps) : undefined);
    }
  });
  const ex = first;
  const legend =
    `examples.png: rows are test points ${ex.indices.join(', ')} (labels ${ex.labels.join(', ')}); columns: the clean image, then for ` +
    withExamples.map((r) => `${operatorTitle(r.model.model.operator)}`).join(', ') +
    ` (standard training) the ${ex.attack.toUpperCase()} adversarial image at eps ${ex.epsilon} and its perturbation (grey = 0, white/black = +-eps).`;
  return { png: gridPng(tiles, cols), legend };
}

/** Accuracy vs epsilon implied by the FAB-T minimal epsilons, out to where every model is at chance. */
function minimalEpsilonPlot(models: ModelResult[], dataset: string, architecture: string): string {
  const ends = models.map((m) => m.minimalEpsilon!.chanceAt ?? Math.max(...m.minimalEpsilon!.curve.map((c) => c.epsilon)));
  const top = Math.max(...ends, 1e-3);
  const grid = Array.from({ length: 10 }, (_, i) => +((top * (i + 1)) / 10).toPrecision(3));
  return renderAccuracyVsEps(
    models,
    'all',
    'minimal',
    grid,
    `Accuracy vs epsilon from FAB-T minimal epsilons (${dataset}, ${architecture}), out to chance level`,
    (m, e) => {
      const per = m.minimalEpsilon!.perPoint;
      return accuracy(Math.round(accuracyAt(per, e) * per.length), per.length);
    },
  );
}
