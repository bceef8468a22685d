// Training checkpoints: model weights, Adam state, the epoch, the shuffle generator's state
// and the history, in ONE file written atomically (temp + rename), so a kill at any moment
// leaves either the previous or the new checkpoint, never a mix.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../../src/tf.js';
import type { Tensor } from '../../src/tf.js';
import { writeFileAtomic } from '../../src/io/atomic.js';
import { ZooError } from './errors.js';
import type { TrainingRecipe } from './recipe.js';

export const CHECKPOINT_FILE = 'checkpoint.bin';
const MAGIC = 'DCNETCK1';
const CHECKPOINT_VERSION = 1;

export interface EpochRecord {
  epoch: number;
  loss: number;
  accuracy: number;
  seconds: number;
  imagesPerSecond: number;
}

/** Everything but the tensors. */
export interface CheckpointState {
  id: string;
  recipe: TrainingRecipe;
  datasetSha256: { train: string; test: string };
  /** Epochs completed. */
  epoch: number;
  /** Optimisation steps completed. */
  step: number;
  rngState: number;
  /** Training seconds so far (over all sessions). */
  elapsedSeconds: number;
  history: EpochRecord[];
  /** How many times the run was resumed. */
  resumes: number;
}

export interface Checkpoint extends CheckpointState {
  modelWeights: Tensor[];
  adamStep: number;
  adamMoments: Tensor[];
}

interface Header extends CheckpointState {
  version: number;
  adamStep: number;
  modelSpecs: tf.io.WeightsManifestEntry[];
  adamSpecs: tf.io.WeightsManifestEntry[];
  modelBytes: number;
}

export function checkpointPath(dir: string): string {
  return join(dir, CHECKPOINT_FILE);
}

const named = (prefix: string, ts: Tensor[]): Array<{ name: string; tensor: Tensor }> => ts.map((tensor, i) => ({ name: `${prefix}${i}`, tensor }));

export async function saveCheckpoint(dir: string, c: Checkpoint): Promise<void> {
  const model = await tf.io.encodeWeights(named('w', c.modelWeights));
  const adam = await tf.io.encodeWeights(named('m', c.adamMoments));
  const { modelWeights: _w, adamMoments: _m, ...state } = c;
  const modelData = new Uint8Array(model.data);
  const header: Header = {
    ...state,
    version: CHECKPOINT_VERSION,
    modelSpecs: model.specs,
    adamSpecs: adam.specs,
    modelBytes: modelData.byteLength,
  };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const adamData = new Uint8Array(adam.data);
  const out = new Uint8Array(8 + 4 + headerBytes.length + modelData.length + adamData.length);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, headerBytes.length);
  out.set(headerBytes, 12);
  out.set(modelData, 12 + headerBytes.length);
  out.set(adamData, 12 + headerBytes.length + modelData.length);
  writeFileAtomic(checkpointPath(dir), out);
}

function decode(data: Uint8Array, specs: tf.io.WeightsManifestEntry[], prefix: string): Tensor[] {
  // A fresh copy: a Buffer's slice() is a view into a shared pool, not a copy.
  const copy = new Uint8Array(data).buffer;
  const map = tf.io.decodeWeights(copy, specs);
  return specs.map((_, i) => map[`${prefix}${i}`]!);
}

/** The header of a checkpoint file and where its tensor data starts. */
function readHeader(path: string): { header: Header; bytes: Uint8Array; start: number } {
  const bytes = readFileSync(path);
  const damaged = (why: string): ZooError =>
    new ZooError(`Checkpoint ${path} is damaged (${why}). Delete it and train again without --resume.`);
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) throw damaged('not a dcnet checkpoint');
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8);
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength))) as Header;
  } catch {
    throw damaged('unreadable header');
  }
  if (header.version !== CHECKPOINT_VERSION) {
    throw new ZooError(
      `Checkpoint ${path} has version ${header.version}; this toolkit reads version ${CHECKPOINT_VERSION}. ` +
        `Train again without --resume.`,
    );
  }
  const start = 12 + headerLength;
  const expectedEnd = start + header.modelBytes + specsBytes(header.adamSpecs);
  if (bytes.length !== expectedEnd) throw damaged(`expected ${expectedEnd} bytes, found ${bytes.length}`);
  return { header, bytes, start };
}

/** Reads a checkpoint; a damaged file is a ZooError that says to start over. */
export function loadCheckpoint(dir: string): Checkpoint {
  const { header, bytes, start } = readHeader(checkpointPath(dir));
  const { modelSpecs, adamSpecs, modelBytes, version: _v, ...state } = header;
  return {
    ...state,
    modelWeights: decode(bytes.subarray(start, start + modelBytes), modelSpecs, 'w'),
    adamMoments: decode(bytes.subarray(start + modelBytes), adamSpecs, 'm'),
  };
}

function specsBytes(specs: tf.io.WeightsManifestEntry[]): number {
  return specs.reduce((a, s) => a + 4 * s.shape.reduce((p, d) => p * d, 1), 0);
}

export function hasCheckpoint(dir: string): boolean {
  return existsSync(checkpointPath(dir));
}

export function removeCheckpoint(dir: string): void {
  rmSync(checkpointPath(dir), { force: true });
}

/** Only the state (no tensors), e.g. for `dcnet zoo list` to show runs in progress. */
export function readCheckpointState(dir: string): CheckpointState {
  const { modelSpecs: _s, adamSpecs: _a, modelBytes: _b, version: _v, ...state } = readHeader(checkpointPath(dir)).header;
  return state;
}
