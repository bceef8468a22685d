// Saved models are untrusted input: weight paths stay inside the model folder, only regular
// files of exactly the declared size are read, and malformed or non-finite models are refused
// with one clear line before any layer is built or any attack runs.
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../src/tf.js';
import { loadModel, saveModel } from '../src/io/fs-handler.js';
import { verifyZooModel } from '../models/zoo/index.js';
import { UserError } from '../src/errors.js';

const root = mkdtempSync(join(tmpdir(), 'dcnet-model-files-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const BIN = join(import.meta.dirname, '..', 'bin', 'dcnet.js');

let pristine: string;
/** Weights of the pristine model: dense kernel [4, 3] then bias [3], float32. */
const WEIGHT_BYTES = (4 * 3 + 3) * 4;

beforeAll(async () => {
  pristine = join(root, 'pristine');
  const model = tf.sequential({
    layers: [tf.layers.dense({ inputShape: [4], units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) })],
  });
  await saveModel(model, pristine);
  model.dispose();
});

let k = 0;
/** A copy of the pristine model with model.json edited by `edit`. */
function variant(edit?: (json: Record<string, any>) => void): string {
  const dir = join(root, `m${k++}`);
  cpSync(pristine, dir, { recursive: true });
  if (edit) {
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    edit(json);
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
  }
  return dir;
}

const setPath = (path: string) => (json: Record<string, any>) => {
  json.weightsManifest[0].paths = [path];
};

describe('weight files stay inside the model folder', () => {
  it('loads the pristine model (the checks pass on what saveModel writes)', async () => {
    const m = await loadModel(pristine);
    expect(m.weights.map((w) => w.shape)).toEqual([[4, 3], [3]]);
    expect(readFileSync(join(pristine, 'weights.bin')).byteLength).toBe(WEIGHT_BYTES);
    m.dispose();
  });

  it('refuses a relative path leaving the folder, even to a file of the right size', async () => {
    mkdirSync(join(root, 'secret'), { recursive: true });
    writeFileSync(join(root, 'secret', 'secret.bin'), Buffer.alloc(WEIGHT_BYTES, 1));
    const dir = variant(setPath('../secret/secret.bin'));
    await expect(loadModel(dir)).rejects.toThrow(/names \.\.\/secret\/secret\.bin, which is outside the model folder/);
  });

  it('refuses an absolute path (/dev/zero) before reading it', async () => {
    const dir = variant(setPath('/dev/zero'));
    await expect(loadModel(dir)).rejects.toThrow(/names "\/dev\/zero": only paths inside the model folder/);
  });

  it('refuses a symlink pointing out of the folder, to a file or a device', async () => {
    const dir = variant();
    rmSync(join(dir, 'weights.bin'));
    symlinkSync(join(root, 'secret', 'secret.bin'), join(dir, 'weights.bin'));
    await expect(loadModel(dir)).rejects.toThrow(/outside the model folder/);
    const dev = variant();
    rmSync(join(dev, 'weights.bin'));
    symlinkSync('/dev/zero', join(dev, 'weights.bin'));
    await expect(loadModel(dev)).rejects.toThrow(/outside the model folder/);
    // model.json itself too.
    const json = variant();
    cpSync(join(json, 'model.json'), join(root, 'secret', 'model.json'));
    rmSync(join(json, 'model.json'));
    symlinkSync(join(root, 'secret', 'model.json'), join(json, 'model.json'));
    await expect(loadModel(json)).rejects.toThrow(/names model\.json, which is outside the model folder/);
  });

  it('refuses a FIFO inside the folder (reading it would hang)', async () => {
    const dir = variant();
    rmSync(join(dir, 'weights.bin'));
    expect(spawnSync('mkfifo', [join(dir, 'weights.bin')]).status).toBe(0);
    await expect(loadModel(dir)).rejects.toThrow(/not a regular file/);
  });

  it('refuses weight files shorter or longer than the declared shapes', async () => {
    const short = variant();
    truncateSync(join(short, 'weights.bin'), WEIGHT_BYTES - 4);
    await expect(loadModel(short)).rejects.toThrow(new RegExp(`holds ${WEIGHT_BYTES - 4} bytes, but .* need ${WEIGHT_BYTES} \\(too short`));
    const long = variant();
    appendFileSync(join(long, 'weights.bin'), Buffer.alloc(4));
    await expect(loadModel(long)).rejects.toThrow(new RegExp(`holds ${WEIGHT_BYTES + 4} bytes, but .* need ${WEIGHT_BYTES} \\(too long`));
  });
});

describe('malformed models get one clear line', () => {
  it('no modelTopology', async () => {
    const dir = variant((j) => delete j.modelTopology);
    await expect(loadModel(dir)).rejects.toThrow(/has no modelTopology: it is not a TF.js layers model/);
  });

  it('an unknown layer class', async () => {
    const dir = variant((j) => {
      j.modelTopology.config.layers[0].class_name = 'NoSuchLayer';
    });
    const err = await loadModel(dir).catch((e: Error) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/^Cannot build the model in .*: Unknown layer: NoSuchLayer/);
    expect((err as Error).message).not.toContain('\n');
  });

  it('a layer or weight declaring a shape too large for memory, refused before anything is allocated', async () => {
    const before = tf.memory().numBytes;
    const units = variant((j) => {
      j.modelTopology.config.layers[0].config.units = 1e12;
    });
    await expect(loadModel(units)).rejects.toThrow(/units 1000000000000 is too large to build/);
    const spec = variant((j) => {
      j.weightsManifest[0].weights[0].shape = [1e6, 1e6];
    });
    await expect(loadModel(spec)).rejects.toThrow(/declares shape \[1000000, 1000000\] .* too large to load/);
    expect(tf.memory().numBytes).toBe(before);
  });

  it('NaN or infinite weights', async () => {
    for (const [value, shown] of [[NaN, 'NaN'], [-Infinity, '-Infinity']] as const) {
      const dir = variant();
      const w = new Float32Array(new Uint8Array(readFileSync(join(dir, 'weights.bin'))).buffer);
      w[5] = value;
      writeFileSync(join(dir, 'weights.bin'), new Uint8Array(w.buffer));
      await expect(loadModel(dir)).rejects.toThrow(new RegExp(`weight dense_\\w+/kernel holds ${shown} values: refused`));
    }
  });

  it('dcnet attack on a NaN model: exit 2 and one line, no stack trace, no attack run', () => {
    const dir = variant();
    const w = new Float32Array(new Uint8Array(readFileSync(join(dir, 'weights.bin'))).buffer);
    w[0] = NaN;
    writeFileSync(join(dir, 'weights.bin'), new Uint8Array(w.buffer));
    const r = spawnSync(process.execPath, [BIN, 'attack', '--model', dir, '--dataset', 'fashion-mnist-embedded', '--attack', 'fgsm', '--eps', '0.1', '--n', '4', '--backend', 'wasm'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('dcnet:'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/holds NaN values: refused/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
  });
});

describe('zoo verification covers every file loading reads', () => {
  const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
  /** Writes a manifest over `files` (default: the right checksums of model.json and weights.bin). */
  function manifest(dir: string, files?: Record<string, string>): string {
    files ??= { 'model.json': sha(join(dir, 'model.json')), 'weights.bin': sha(join(dir, 'weights.bin')) };
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ format: 'dcnet-robustness/zoo-model', formatVersion: 1, id: 'hand-made', files }));
    return dir;
  }

  it('accepts a folder whose manifest checksums every file', () => {
    expect(verifyZooModel(manifest(variant())).manifest.id).toBe('hand-made');
  });

  it('refuses manifest file names leaving the folder', () => {
    const dir = variant();
    const outside = join(root, 'secret', 'secret.bin');
    manifest(dir, { '../secret/secret.bin': sha(outside), 'model.json': sha(join(dir, 'model.json')), 'weights.bin': sha(join(dir, 'weights.bin')) });
    expect(() => verifyZooModel(dir)).toThrow(/names \.\.\/secret\/secret\.bin, which is outside the model folder/);
  });

  it('refuses a model.json that reads a file the manifest has no checksum for, or one outside the folder', () => {
    const dir = variant(setPath('./extra.bin'));
    cpSync(join(dir, 'weights.bin'), join(dir, 'extra.bin'));
    manifest(dir);
    expect(() => verifyZooModel(dir)).toThrow(/model\.json reads extra\.bin, which manifest\.json has no checksum for: refused/);
    // The CLI's zoo verify says so too, with a non-zero exit.
    const r = spawnSync(process.execPath, [BIN, 'zoo', 'verify', dir], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/no checksum for/);
    // A weight path leaving the folder fails verification itself, not only loading.
    const escaping = manifest(variant(setPath('../secret/secret.bin')));
    expect(() => verifyZooModel(escaping)).toThrow(/names \.\.\/secret\/secret\.bin, which is outside the model folder/);
  });
});
