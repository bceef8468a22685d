// The zoo on disk: <zoo>/<id>/{model.json, weights.bin, manifest.json}. Loading verifies the
// manifest and every checksum before the model is built.
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadModel, MODEL_JSON, WEIGHTS_BIN } from '../../src/io/fs-handler.js';
import type { tf } from '../../src/tf.js';
import { ZooError } from './errors.js';
import { MANIFEST_JSON, readManifest, verifyFiles, type ZooManifest } from './manifest.js';
import { hasCheckpoint, readCheckpointState, removeCheckpoint, type CheckpointState } from './checkpoint.js';
import { formatZooId, isZooId, parseZooId } from './registry.js';

export const DEFAULT_ZOO_DIR = 'zoo';

/** The zoo folder: the option, else $DCNET_ZOO, else ./zoo. */
export function resolveZooDir(zooDir?: string): string {
  return resolve(zooDir ?? process.env.DCNET_ZOO ?? DEFAULT_ZOO_DIR);
}

/** The folder of a model id inside a zoo. */
export function modelDir(id: string, zooDir?: string): string {
  return join(resolveZooDir(zooDir), ...formatZooId(parseZooId(id)).split('/'));
}

/** A valid model id is looked up in the zoo; anything else is a folder. */
export function locateModel(idOrDir: string, zooDir?: string): string {
  if (isZooId(idOrDir)) {
    const dir = modelDir(idOrDir, zooDir);
    if (!existsSync(join(dir, MANIFEST_JSON))) {
      const hint = hasCheckpoint(dir)
        ? `its training is unfinished: continue it with dcnet train --model ${idOrDir} --resume`
        : `train it with dcnet train --model ${idOrDir}`;
      throw new ZooError(`Model ${idOrDir} is not in the zoo ${resolveZooDir(zooDir)} (no ${join(dir, MANIFEST_JSON)}): ${hint}.`);
    }
    return dir;
  }
  if (!existsSync(idOrDir)) {
    // Say what is wrong with it as an id too: the user may have meant one.
    let why = '';
    try {
      parseZooId(idOrDir);
    } catch (err) {
      why = ` As a model id: ${(err as Error).message}`;
    }
    throw new ZooError(`'${idOrDir}' is neither a model folder nor a model id.${why}`);
  }
  return idOrDir;
}

/** Reads the manifest and checks every file's sha256. */
export function verifyZooModel(idOrDir: string, options: { zooDir?: string } = {}): { dir: string; manifest: ZooManifest } {
  const dir = locateModel(idOrDir, options.zooDir);
  const manifest = readManifest(dir);
  verifyFiles(dir, manifest);
  return { dir, manifest };
}

/** Loads a zoo model by id or folder after verifying it; the caller disposes the model. */
export async function loadZooModel(
  idOrDir: string,
  options: { zooDir?: string } = {},
): Promise<{ model: tf.LayersModel; manifest: ZooManifest; dir: string }> {
  const { dir, manifest } = verifyZooModel(idOrDir, options);
  const model = await loadModel(dir);
  return { model, manifest, dir };
}

export interface ZooListing {
  id: string;
  dir: string;
  status: 'complete' | 'training' | 'invalid';
  manifest?: ZooManifest;
  /** For runs in progress: the checkpoint's state. */
  checkpoint?: CheckpointState;
  error?: string;
}

/** Every model folder under the zoo (complete, in training, or broken), sorted by id. */
export function listZoo(zooDir?: string, options: { verify?: boolean } = {}): ZooListing[] {
  const root = resolveZooDir(zooDir);
  const out: ZooListing[] = [];
  const visit = (dir: string, parts: string[]): void => {
    if (parts.length === 5) {
      out.push(describeFolder(dir, parts.join('/'), options.verify ?? false));
      return;
    }
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir).sort()) {
      const sub = join(dir, name);
      if (statSync(sub).isDirectory()) visit(sub, [...parts, name]);
    }
  };
  visit(root, []);
  return out;
}

function describeFolder(dir: string, id: string, verify: boolean): ZooListing {
  try {
    if (!existsSync(join(dir, MANIFEST_JSON))) {
      if (hasCheckpoint(dir)) return { id, dir, status: 'training', checkpoint: readCheckpointState(dir) };
      return { id, dir, status: 'invalid', error: `no ${MANIFEST_JSON} and no checkpoint` };
    }
    const manifest = readManifest(dir);
    if (manifest.id !== id) throw new ZooError(`the manifest says ${manifest.id}: the folder was moved or renamed`);
    if (verify) verifyFiles(dir, manifest);
    return { id, dir, status: 'complete', manifest };
  } catch (err) {
    return { id, dir, status: 'invalid', error: (err as Error).message };
  }
}

/** Removes a model's files (never anything else in the folder). */
export function removeModelFiles(dir: string): void {
  for (const f of [MANIFEST_JSON, MODEL_JSON, WEIGHTS_BIN]) rmSync(join(dir, f), { force: true });
  removeCheckpoint(dir);
}
