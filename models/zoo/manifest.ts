// manifest.json: what a zoo model is, how it was made, how well it does, and the sha256 of
// every file, so loading can refuse anything tampered with, incomplete or from an unknown
// format version.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { containedFile, MODEL_JSON, readModelJson, weightFiles, WEIGHTS_BIN } from '../../src/io/model-files.js';
import { writeFileAtomic } from '../../src/io/atomic.js';
import type { DecoupledOptions } from '../../src/ops/options.js';
import { ZooError } from './errors.js';
import type { EpochRecord } from './checkpoint.js';
import type { TrainingRecipe } from './recipe.js';
import type { ZooId } from './registry.js';

export const MANIFEST_JSON = 'manifest.json';
export const MANIFEST_FORMAT = 'dcnet-robustness/zoo-model';
/** Versions of the manifest format this toolkit reads. */
export const MANIFEST_VERSION = 1;
/** Files every model has; their checksums are in the manifest. */
export const MODEL_FILES = [MODEL_JSON, WEIGHTS_BIN] as const;

export interface DatasetRecord {
  name: string;
  /** The folder the files were read from. */
  source: string;
  shape: [number, number, number];
  numClasses: number;
  train: { count: number; sha256: string };
  test: { count: number; sha256: string };
}

/** The operator's id and every option (strides and padding belong to each layer). */
export type OperatorRecord = { id: string } & Omit<DecoupledOptions, 'strides' | 'padding'> & { learnableRadius: boolean };

export interface ZooManifest {
  format: typeof MANIFEST_FORMAT;
  formatVersion: number;
  id: string;
  model: ZooId;
  dataset: DatasetRecord;
  /** The operator with every option resolved (the spec's defaults filled in). */
  operator: OperatorRecord;
  recipe: TrainingRecipe;
  seed: number;
  epochs: number;
  toolkit: { name: 'dcnet-robustness'; version: string };
  tfjs: string;
  backend: { name: string; description: string };
  node: string;
  /** Training wall time over all sessions, and the training throughput. */
  wallTimeSeconds: number;
  trainImagesPerSecond: number;
  resumes: number;
  metrics: {
    testAccuracy: number;
    testLoss: number;
    testCount: number;
    /** Last epoch's mean loss and accuracy on the batches trained on (adversarial ones included). */
    trainLoss: number;
    trainAccuracy: number;
  };
  history: EpochRecord[];
  /** sha256 of every file of the model. */
  files: Record<string, string>;
  createdAt: string;
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Checksums the model files and writes manifest.json (atomically, last: its presence marks a complete model). */
export function writeManifest(dir: string, manifest: Omit<ZooManifest, 'files'>): ZooManifest {
  const files: Record<string, string> = {};
  for (const f of MODEL_FILES) files[f] = sha256File(join(dir, f));
  const full: ZooManifest = { ...manifest, files };
  writeFileAtomic(join(dir, MANIFEST_JSON), JSON.stringify(full, null, 2) + '\n');
  return full;
}

/** Reads manifest.json and checks its format and version (not the files). */
export function readManifest(dir: string): ZooManifest {
  const path = join(dir, MANIFEST_JSON);
  if (!existsSync(path)) {
    throw new ZooError(`No zoo model in ${dir}: ${MANIFEST_JSON} is missing (an unfinished training leaves none).`);
  }
  let m: Partial<ZooManifest>;
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as Partial<ZooManifest>;
  } catch (err) {
    throw new ZooError(`${path} is not valid JSON (${(err as Error).message}).`);
  }
  if (m.format !== MANIFEST_FORMAT) {
    throw new ZooError(`${path} is not a dcnet-robustness zoo manifest (format '${String(m.format)}', expected '${MANIFEST_FORMAT}').`);
  }
  if (m.formatVersion !== MANIFEST_VERSION) {
    throw new ZooError(
      `${path} has manifest version ${String(m.formatVersion)} (written by dcnet-robustness ` +
        `${m.toolkit?.version ?? 'unknown'}); this toolkit reads version ${MANIFEST_VERSION}. ` +
        `Use a matching toolkit version or train the model again.`,
    );
  }
  if (!m.files || typeof m.files !== 'object' || !m.id) throw new ZooError(`${path} is incomplete: no files or id.`);
  return m as ZooManifest;
}

/**
 * Checks that every file in the manifest is inside the model folder, a regular file, and has
 * its recorded sha256, and that every file loading reads (model.json's weight paths) is one of
 * them: nothing unverified is ever loaded.
 */
export function verifyFiles(dir: string, manifest: ZooManifest): void {
  for (const f of MODEL_FILES) {
    if (!(f in manifest.files)) throw new ZooError(`${join(dir, MANIFEST_JSON)} has no checksum for ${f}.`);
  }
  const verified = new Set<string>();
  for (const [file, expected] of Object.entries(manifest.files)) {
    const path = join(dir, file);
    if (!isAbsolute(file) && !existsSync(path)) throw new ZooError(`Model ${manifest.id}: ${path} is missing.`);
    const real = containedFile(dir, file, `${join(dir, MANIFEST_JSON)} (files)`);
    const actual = sha256File(real);
    if (actual !== expected) {
      throw new ZooError(
        `Model ${manifest.id}: checksum mismatch for ${path} (manifest ${String(expected).slice(0, 12)}..., file ` +
          `${actual.slice(0, 12)}...). The file was changed or damaged; train the model again.`,
      );
    }
    verified.add(real);
  }
  const { json } = readModelJson(dir);
  const read = weightFiles(dir, json).flat();
  const unverified = read.filter((f) => !verified.has(f));
  if (unverified.length) {
    throw new ZooError(
      `Model ${manifest.id}: ${MODEL_JSON} reads ${unverified.map((f) => relative(realpathSync(dir), f)).join(', ')}, ` +
        `which ${MANIFEST_JSON} has no checksum for: refused.`,
    );
  }
}
