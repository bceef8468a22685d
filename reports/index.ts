// `dcnet report`: merges every shard's results of a run and writes the report folder:
// models/*.json (one per model), results.csv, report.md, accuracy-vs-eps-*.svg, examples.png.
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { planCells, targetModels } from '../src/bench/cells.js';
import { readPinnedPlugins, readPinnedProfile, readRecords, readSessions } from '../src/bench/results-store.js';
import { writeFileAtomic } from '../src/io/atomic.js';
import { renderCsv } from './csv.js';
import { decodeImages, type ExampleSet, perturbationTile } from './examples.js';
import { renderMarkdown } from './markdown.js';
import { MODEL_RESULT_SCHEMA, type ModelResult, operatorTitle } from './model-result.js';
import { gridPng, type Tile } from './png.js';
import { renderAccuracyVsEps } from './svg.js';

/** What an evaluation cell returns: the model's result and a few example images. */
export interface EvaluateCellResult {
  model: ModelResult;
  examples?: ExampleSet;
}

export interface ReportSummary {
  runDir: string;
  models: number;
  missing: string[];
  files: string[];
}

const modelFileName = (id: string) => `${id.replace(/[^A-Za-z0-9._-]+/g, '__')}.json`;

export function writeReport(runDir: string): ReportSummary {
  const profile = readPinnedProfile(runDir);
  const { records } = readRecords(runDir);
  const targets = targetModels(profile);
  const byModel = new Map<string, EvaluateCellResult>();
  let cellSeconds = 0;
  let backend = '';
  let toolkitVersion = '';
  for (const rec of records.values()) {
    cellSeconds += rec.wallSeconds;
    backend ||= rec.backend;
    toolkitVersion ||= rec.toolkitVersion;
    if (rec.kind === 'evaluate') byModel.set(rec.modelId, rec.result as EvaluateCellResult);
  }
  const missing = planCells(profile)
    .filter((c) => !records.has(c.id))
    .map((c) => c.id);
  // Table order is the profile's order, whatever order the cells finished in.
  const results = targets.map((t) => byModel.get(t.id)).filter((r): r is EvaluateCellResult => r !== undefined);
  const models = results.map((r) => r.model);
  for (const m of models) {
    if (m.schema !== MODEL_RESULT_SCHEMA) throw new Error(`Result of ${m.model?.id} has schema ${m.schema}, expected ${MODEL_RESULT_SCHEMA}.`);
  }

  const files: string[] = [];
  const write = (name: string, data: string | Uint8Array) => {
    writeFileAtomic(join(runDir, name), data);
    files.push(name);
  };
  mkdirSync(join(runDir, 'models'), { recursive: true });
  for (const m of models) write(join('models', modelFileName(m.model.id)), JSON.stringify(m, null, 2) + '\n');
  write('results.csv', renderCsv(models));
  const grid = models.length ? examplesGrid(results) : undefined;
  if (grid) write('examples.png', grid.png);
  write(
    'report.md',
    renderMarkdown({
      runName: basename(runDir),
      profile,
      models,
      backend,
      toolkitVersion,
      cellSeconds,
      sessions: readSessions(runDir),
      generatedAt: new Date().toISOString(),
      missing,
      examplesLegend: grid?.legend,
      plugins: readPinnedPlugins(runDir),
    }),
  );
  const plots: Array<[string, 'white-box' | 'transfer' | 'score-based', string]> = [
    ...profile.evaluation.whiteBox.map((a) => [`white-box ${a.name.toUpperCase()}`, 'white-box', a.name] as [string, 'white-box', string]),
    ...profile.evaluation.transfer.attacks.map((a) => [`transfer ${a.name.toUpperCase()}`, 'transfer', a.name] as [string, 'transfer', string]),
    [`score-based ${profile.evaluation.scoreBased.name}`, 'score-based', profile.evaluation.scoreBased.name],
  ];
  if (models.length) {
    for (const [heading, mode, attack] of plots) {
      const svg = renderAccuracyVsEps(models, mode, attack, profile.evaluation.epsilons, `Robust accuracy vs epsilon: ${heading} (${profile.dataset}, ${profile.architecture})`);
      write(`accuracy-vs-eps-${mode}-${attack}.svg`, svg);
    }
  }
  return { runDir, models: models.length, missing, files };
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
