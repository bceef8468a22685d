// A saved model's files are untrusted input: model.json names the weight files and declares
// every weight's shape. Everything is checked before a byte of weights is read or a layer is
// built: files stay inside the model folder and are regular files, sizes match the declared
// shapes exactly, declared dimensions fit in memory, and no weight is NaN or infinite.
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { tf } from '../tf.js';
import { ModelFileError } from './errors.js';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

/** model.json larger than this is not a model description (a device, a wrong file). */
const MAX_MODEL_JSON_BYTES = 64 * 1024 * 1024;
/** Largest element count of one declared weight, and of all of them: 2^28 floats = 1 GiB. */
const MAX_ELEMENTS = 2 ** 28;

export interface WeightGroup {
  paths: string[];
  weights: tf.io.WeightsManifestEntry[];
}

export interface ModelJson {
  modelTopology: Record<string, unknown>;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  weightsManifest: WeightGroup[];
}

/**
 * The real path of `name` inside `dir`, refusing one that leaves the folder (`..`, an absolute
 * path, a symlink pointing out) or that is not a regular file (a FIFO, a device, a folder).
 */
export function containedFile(dir: string, name: string, what: string): string {
  if (typeof name !== 'string' || !name || isAbsolute(name)) {
    throw new ModelFileError(`${what} names ${JSON.stringify(name)}: only paths inside the model folder ${dir} are allowed.`);
  }
  const root = realpathSync(dir);
  let real: string;
  try {
    real = realpathSync(resolve(root, name));
  } catch {
    throw new ModelFileError(`${what} names ${name}, but ${join(dir, name)} is missing.`);
  }
  const rel = relative(root, real);
  if (rel === '' || rel === '..' || rel.startsWith('..' + sep) || isAbsolute(rel)) {
    throw new ModelFileError(`${what} names ${name}, which is outside the model folder ${dir}: refused.`);
  }
  if (!statSync(real).isFile()) {
    throw new ModelFileError(`${what} names ${name}, which is not a regular file (a device, pipe or folder): refused.`);
  }
  return real;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Bytes per element as stored, by the quantized dtype if any. */
function storedBytes(spec: tf.io.WeightsManifestEntry): number | undefined {
  const q = spec.quantization?.dtype;
  if (q) return { uint8: 1, uint16: 2, float16: 2 }[q];
  return ({ float32: 4, int32: 4, bool: 1 } as Record<string, number>)[spec.dtype];
}

/** Bytes a weight spec declares; refuses malformed specs and shapes too large for memory. */
export function specBytes(spec: tf.io.WeightsManifestEntry, where: string): number {
  if (!isObject(spec) || typeof spec.name !== 'string' || !Array.isArray(spec.shape)) {
    throw new ModelFileError(`${where}: a weight entry without a name and shape.`);
  }
  if (!spec.shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ModelFileError(`${where}: weight ${spec.name} has shape [${spec.shape.join(', ')}]: dimensions must be integers >= 0.`);
  }
  const elements = spec.shape.reduce((a, b) => a * b, 1);
  if (elements > MAX_ELEMENTS) {
    throw new ModelFileError(`${where}: weight ${spec.name} declares shape [${spec.shape.join(', ')}] (${elements} values), too large to load.`);
  }
  const bytes = storedBytes(spec);
  if (bytes === undefined) {
    throw new ModelFileError(`${where}: weight ${spec.name} has dtype ${spec.quantization?.dtype ?? spec.dtype}, which is not supported.`);
  }
  return elements * bytes;
}

/** Reads and checks model.json's structure (not the weights). */
export function readModelJson(dir: string): { path: string; json: ModelJson } {
  const path = join(dir, MODEL_JSON);
  if (!existsSync(path)) throw new ModelFileError(`No model at ${dir}: ${MODEL_JSON} is missing.`);
  const real = containedFile(dir, MODEL_JSON, `Model folder ${dir}`);
  if (statSync(real).size > MAX_MODEL_JSON_BYTES) throw new ModelFileError(`${path} is larger than ${MAX_MODEL_JSON_BYTES} bytes: not a model description.`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(real, 'utf8'));
  } catch (err) {
    throw new ModelFileError(`${path} is not valid JSON (${(err as Error).message}).`);
  }
  if (!isObject(json)) throw new ModelFileError(`${path} is not a JSON object.`);
  if (!isObject(json.modelTopology)) {
    throw new ModelFileError(`${path} has no modelTopology: it is not a TF.js layers model (a graph model must be converted to the layers format first).`);
  }
  const groups = json.weightsManifest ?? [];
  if (!Array.isArray(groups) || !groups.every((g) => isObject(g) && Array.isArray(g.paths) && Array.isArray(g.weights))) {
    throw new ModelFileError(`${path}: weightsManifest must be a list of {paths, weights} groups.`);
  }
  checkTopologySize(json.modelTopology, path);
  return { path, json: { ...(json as unknown as ModelJson), weightsManifest: groups as WeightGroup[] } };
}

/**
 * Layer settings that size a weight or an activation. A layer building a weight larger than
 * the model's whole declared weights would allocate it (with its initializer) before any
 * shape check, so such numbers are refused before the model is built.
 */
const SIZE_KEYS = new Set(['units', 'filters', 'kernel_size', 'batch_input_shape', 'input_dim', 'output_dim', 'target_shape', 'depth_multiplier', 'n', 'size', 'pool_size', 'dims']);

function checkTopologySize(topology: unknown, path: string): void {
  const visit = (v: unknown, key: string | undefined): void => {
    if (Array.isArray(v)) {
      if (key && SIZE_KEYS.has(key)) {
        const dims = v.filter((d): d is number => typeof d === 'number');
        const product = dims.reduce((a, b) => a * b, 1);
        if (product > MAX_ELEMENTS) throw new ModelFileError(`${path}: ${key} [${v.join(', ')}] is too large to build.`);
      }
      for (const x of v) visit(x, key);
    } else if (isObject(v)) {
      for (const [k, x] of Object.entries(v)) visit(x, k);
    } else if (typeof v === 'number' && key && SIZE_KEYS.has(key) && (!Number.isFinite(v) || v > MAX_ELEMENTS)) {
      throw new ModelFileError(`${path}: ${key} ${v} is too large to build.`);
    }
  };
  visit(topology, undefined);
}

/** The real paths of the weight files model.json names, in order, each contained and regular. */
export function weightFiles(dir: string, json: ModelJson): string[][] {
  return json.weightsManifest.map((g) => g.paths.map((p) => containedFile(dir, p, `${join(dir, MODEL_JSON)}'s weightsManifest`)));
}

/** The first non-finite value of a weight as stored, or undefined. */
function nonFinite(spec: tf.io.WeightsManifestEntry, bytes: Uint8Array): number | undefined {
  const q = spec.quantization;
  if (q) {
    if (q.dtype === 'float16') {
      const u16 = new Uint16Array(bytes.slice().buffer);
      for (const h of u16) if ((h & 0x7c00) === 0x7c00) return NaN;
      return undefined;
    }
    return [q.scale, q.min].find((v) => v !== undefined && !Number.isFinite(v));
  }
  if (spec.dtype !== 'float32') return undefined;
  const f32 = new Float32Array(bytes.slice().buffer);
  for (const x of f32) if (!Number.isFinite(x)) return x;
  return undefined;
}

/**
 * Reads the weights model.json declares: every file contained and regular, each group's files
 * exactly as long as its specs declare, no NaN or infinite value.
 */
export function readWeights(dir: string, json: ModelJson): { specs: tf.io.WeightsManifestEntry[]; data: Uint8Array } {
  const jsonPath = join(dir, MODEL_JSON);
  const files = weightFiles(dir, json);
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const declared = json.weightsManifest.map((g) => g.weights.reduce((sum, s) => sum + specBytes(s, jsonPath), 0));
  json.weightsManifest.forEach((group, gi) => {
    const actual = files[gi]!.reduce((sum, f) => sum + statSync(f).size, 0);
    if (actual !== declared[gi]) {
      const many = group.paths.length > 1;
      throw new ModelFileError(
        `${jsonPath}: weight file${many ? 's' : ''} ${group.paths.join(', ')} hold${many ? '' : 's'} ${actual} bytes, ` +
          `but the weights declared for ${many ? 'them' : 'it'} need ${declared[gi]} (${actual < declared[gi]! ? 'too short: truncated' : 'too long'}): refused.`,
      );
    }
  });
  const data = new Uint8Array(declared.reduce((a, b) => a + b, 0));
  let offset = 0;
  for (const f of files.flat()) {
    const b = readFileSync(f);
    // Changed since it was measured: refuse rather than overrun.
    if (offset + b.byteLength > data.byteLength) throw new ModelFileError(`${f} changed while the model was loading.`);
    data.set(b, offset);
    offset += b.byteLength;
  }
  offset = 0;
  for (const s of specs) {
    const n = specBytes(s, jsonPath);
    const bad = nonFinite(s, data.subarray(offset, offset + n));
    if (bad !== undefined) throw new ModelFileError(`${jsonPath}: weight ${s.name} holds ${bad} values: refused (the model is damaged or diverged in training).`);
    offset += n;
  }
  return { specs, data };
}

/**
 * The identity of a saved model: sha256 over model.json and the weight files it reads, so a
 * copy of a model in another folder, or a zoo id and its folder, are the same model.
 */
export function modelIdentity(dir: string): string {
  const { json } = readModelJson(dir);
  const hash = createHash('sha256').update(readFileSync(containedFile(dir, MODEL_JSON, `Model folder ${dir}`)));
  for (const f of weightFiles(dir, json).flat()) hash.update(readFileSync(f));
  return hash.digest('hex');
}
