// A profile's published results, committed in the repository: `results/<profile>/` is the run
// folder of the published run (report, results.csv, per-model JSON...) and `results/<profile>/zoo/`
// the models it attacked. `dcnet bench` attacks those committed models instead of training
// its own, after checking their checksums and recipes before any work.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { MANIFEST_JSON, modelDir, verifyZooModel, ZooError, type ZooManifest } from '../../models/zoo/index.js';
import { PACKAGE_ROOT } from '../version.js';
import { UserError } from '../errors.js';
import { profileRecipeMismatch } from './recipe-match.js';
import type { BenchProfile } from './profile.js';

/** Where a profile's results are published (committed): `results/<name>` in the repository. */
export function publishedDir(profileName: string, root = PACKAGE_ROOT): string {
  return join(root, 'results', profileName);
}

/** The committed zoo of a profile's published run. */
export function publishedZooDir(profileName: string, root = PACKAGE_ROOT): string {
  return join(publishedDir(profileName, root), 'zoo');
}

/** Every committed zoo: `results/<profile>/zoo` of the repository. */
export function publishedZoos(root = PACKAGE_ROOT): string[] {
  const results = join(root, 'results');
  if (!existsSync(results)) return [];
  return readdirSync(results)
    .sort()
    .map((name) => publishedZooDir(name, root))
    .filter((dir) => existsSync(dir));
}

/** Where the bench's models come from: `default` uses committed ones, `retrain` never does. */
export type ModelSourceMode = 'default' | 'retrain' | 'no-train';

export interface ModelSources {
  /** Model id -> the committed zoo it is read from (verified, trained as the profile says). */
  committed: Record<string, string>;
  /** Committed models that are not used, and why (shown to the user). */
  notes: string[];
}

/** A model of a zoo that is complete, intact (checksums) and trained as the profile says; else why not. */
function usable(id: string, zooDir: string, profile: BenchProfile): { manifest?: ZooManifest; why?: string } {
  if (!existsSync(join(modelDir(id, zooDir), MANIFEST_JSON))) return { why: 'absent' };
  const { manifest } = verifyZooModel(id, { zooDir });
  const mismatch = profileRecipeMismatch(manifest, profile, id);
  return mismatch ? { why: mismatch } : { manifest };
}

/**
 * Decides, before any work, which of `ids` are read from the profile's committed zoo. A
 * committed model with a damaged or missing file stops the run (one line naming the file); one
 * trained with other settings (a profile changed by --set) is skipped with a note. With
 * `no-train`, a model that is neither committed nor complete in the run's zoo is an error
 * naming every such model.
 */
export function resolveModelSources(
  profile: BenchProfile,
  ids: string[],
  opts: { zooDir: string; mode: ModelSourceMode; root?: string },
): ModelSources {
  const committedZoo = publishedZooDir(profile.name, opts.root);
  const out: ModelSources = { committed: {}, notes: [] };
  if (opts.mode !== 'retrain' && existsSync(committedZoo)) {
    for (const id of ids) {
      if (!existsSync(modelDir(id, committedZoo))) continue;
      let found: ReturnType<typeof usable>;
      try {
        found = usable(id, committedZoo, profile);
      } catch (err) {
        throw new ZooError(
          `The committed model ${id} is damaged: ${(err as Error).message} ` +
            `Restore it (git checkout -- ${modelDir(id, committedZoo)}) or run with --retrain to train your own.`,
        );
      }
      if (found.manifest) out.committed[id] = committedZoo;
      else if (found.why === 'absent') {
        throw new ZooError(
          `The committed model folder ${modelDir(id, committedZoo)} has no ${MANIFEST_JSON}: ` +
            `restore it (git checkout) or run with --retrain to train your own.`,
        );
      } else out.notes.push(`committed ${id} not used: trained with other settings (${found.why})`);
    }
  }
  if (opts.mode === 'no-train') {
    const missing = ids.filter((id) => !out.committed[id] && !usable(id, opts.zooDir, profile).manifest);
    if (missing.length) {
      throw new NoTrainError(
        `--no-train: ${missing.length} model(s) would have to be trained (neither committed in ${committedZoo} ` +
          `nor trained as the profile says in the zoo ${opts.zooDir}): ${missing.join(', ')}. Drop --no-train to train them.`,
      );
    }
  }
  return out;
}

export class NoTrainError extends UserError {
  override name = 'NoTrainError';
}
