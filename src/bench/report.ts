// `dcnet report`: merges every shard's results of a run and writes the report folder.
import { mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { renderReport, type EvaluateCellResult } from '../../reports/index.js';
import { MODEL_RESULT_SCHEMA } from '../../reports/model-result.js';
import { ProfileError } from './profile.js';
import { writeFileAtomic } from '../io/atomic.js';
import { planCells, targetModels } from './cells.js';
import { readPinnedProfile, readRecords, readSessions } from './results-store.js';

export interface ReportSummary {
  runDir: string;
  models: number;
  missing: string[];
  files: string[];
}

export function writeReport(runDir: string): ReportSummary {
  const profile = readPinnedProfile(runDir);
  const { records } = readRecords(runDir);
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
  const results = targetModels(profile)
    .map((t) => byModel.get(t.id))
    .filter((r): r is EvaluateCellResult => r !== undefined);
  const old = results.find((r) => r.model?.schema !== MODEL_RESULT_SCHEMA);
  if (old) {
    throw new ProfileError(
      `${runDir} holds results written by another toolkit version (${old.model?.schema ?? 'no schema'}, this one reads ${MODEL_RESULT_SCHEMA}): ` +
        'run `dcnet bench` into a new run folder (--run NAME) to get a report.',
    );
  }
  const files = renderReport(
    {
      runName: basename(runDir),
      profile,
      backend,
      toolkitVersion,
      cellSeconds,
      sessions: readSessions(runDir),
      generatedAt: new Date().toISOString(),
      missing,
    },
    results,
  );
  for (const [name, data] of files) {
    mkdirSync(dirname(join(runDir, name)), { recursive: true });
    writeFileAtomic(join(runDir, name), data);
  }
  return { runDir, models: results.length, missing, files: [...files.keys()] };
}
