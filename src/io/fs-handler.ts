// Saves and loads tf.LayersModel in TF.js's own layers format (model.json + weights.bin)
// with plain node:fs, so it works on every backend (no libtensorflow file:// handler).
import { join } from 'node:path';
import { tf } from '../tf.js';
import { writeFileAtomic } from './atomic.js';
import { ModelFileError } from './errors.js';
import { MODEL_JSON, readModelJson, readWeights, WEIGHTS_BIN } from './model-files.js';
// Registers the custom layer class so saved decoupled models deserialize.
import '../layers/decoupled-conv2d.js';
import '../layers/batch-norm.js';

export { MODEL_JSON, WEIGHTS_BIN, ModelFileError };

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

/** An IOHandler that reads what fileSaveHandler wrote, after checking every file (model-files.ts). */
export function fileLoadHandler(dir: string): tf.io.IOHandler {
  return {
    load: async (): Promise<tf.io.ModelArtifacts> => {
      const { json } = readModelJson(dir);
      const { specs, data } = readWeights(dir, json);
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy ?? undefined,
        weightSpecs: specs,
        weightData: data.buffer as ArrayBuffer,
      };
    },
  };
}

export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  await model.save(fileSaveHandler(dir));
}

/** Loads a saved model; a topology TF.js cannot build (an unknown layer class, bad settings) is one clear error. */
export async function loadModel(dir: string): Promise<tf.LayersModel> {
  const handler = fileLoadHandler(dir);
  try {
    return await tf.loadLayersModel(handler);
  } catch (err) {
    if (err instanceof ModelFileError) throw err;
    const message = (err as Error).message.split('\n')[0];
    throw new ModelFileError(`Cannot build the model in ${dir}: ${message}`);
  }
}
