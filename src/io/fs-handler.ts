// Saves and loads tf.LayersModel in TF.js's own layers format (model.json + weights.bin)
// with plain node:fs, so it works on every backend (no libtensorflow file:// handler).
import { UserError } from '../errors.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../tf.js';
import { writeFileAtomic } from './atomic.js';
// Registers the custom layer class so saved decoupled models deserialize.
import '../layers/decoupled-conv2d.js';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

export class ModelFileError extends UserError {
  override name = 'ModelFileError';
}

/** An IOHandler that writes `dir/model.json` and `dir/weights.bin` atomically. */
export function fileSaveHandler(dir: string): tf.io.IOHandler {
  return {
    save: async (artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> => {
      const weightData = artifacts.weightData
        ? new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData))
        : new Uint8Array();
      writeFileAtomic(join(dir, WEIGHTS_BIN), weightData);
      const modelJson = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
      };
      writeFileAtomic(join(dir, MODEL_JSON), JSON.stringify(modelJson));
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          weightDataBytes: weightData.byteLength,
        },
      };
    },
  };
}

/** An IOHandler that reads what fileSaveHandler wrote; missing files are clear errors. */
export function fileLoadHandler(dir: string): tf.io.IOHandler {
  return {
    load: async (): Promise<tf.io.ModelArtifacts> => {
      const jsonPath = join(dir, MODEL_JSON);
      if (!existsSync(jsonPath)) {
        throw new ModelFileError(`No model at ${dir}: ${MODEL_JSON} is missing.`);
      }
      let json: {
        modelTopology: object;
        format?: string;
        generatedBy?: string;
        convertedBy?: string | null;
        weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
      };
      try {
        json = JSON.parse(readFileSync(jsonPath, 'utf8'));
      } catch (err) {
        throw new ModelFileError(`${jsonPath} is not valid JSON (${(err as Error).message}).`);
      }
      const specs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Uint8Array[] = [];
      for (const group of json.weightsManifest ?? []) {
        specs.push(...group.weights);
        for (const p of group.paths) {
          const file = join(dir, p);
          if (!existsSync(file)) throw new ModelFileError(`Weight file ${file} named in ${jsonPath} is missing.`);
          buffers.push(readFileSync(file));
        }
      }
      const total = buffers.reduce((a, b) => a + b.byteLength, 0);
      const joined = new Uint8Array(total);
      let offset = 0;
      for (const b of buffers) {
        joined.set(b, offset);
        offset += b.byteLength;
      }
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy ?? undefined,
        weightSpecs: specs,
        weightData: joined.buffer,
      };
    },
  };
}

export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  await model.save(fileSaveHandler(dir));
}

export async function loadModel(dir: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(fileLoadHandler(dir));
}
