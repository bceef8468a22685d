// Exit codes that tell the truth and folders that are never clobbered, through bin/dcnet.js:
// failed bench cells exit non-zero and are named, a second writer on a locked folder refuses,
// folders holding something else refuse, and output paths are checked before any work.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../src/tf.js';
import { saveModel } from '../src/io/fs-handler.js';
import { writeIdxDataset } from './helpers/datasets.js';
import { executeCell } from '../src/bench/executors.js';
import { planCells } from '../src/bench/cells.js';
import { BUILTIN_PROFILES } from '../src/bench/profile.js';
import { modelDir } from '../models/zoo/index.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'dcnet.js');
const BACKEND = process.env.DCNET_TEST_BACKEND ?? 'wasm';
const root = mkdtempSync(join(tmpdir(), 'dcnet-cli-safety-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function dcnet(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A lock file held by a live process of this host (this test runner). */
function holdLock(path: string): void {
  writeFileSync(path, JSON.stringify({ pid: process.pid, host: hostname(), command: 'bench (another one)', since: 'now' }));
}

/** A small seeded 28x28 model saved as a plain folder (no zoo manifest). */
async function savedModel(dir: string, seed: number): Promise<void> {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 2, kernelSize: 3, strides: 4, kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
  await saveModel(model, dir);
  model.dispose();
}

describe('dcnet bench', () => {
  let profile: string;
  beforeAll(() => {
    // The tiny profile on an MNIST folder with a test split and no training split: the
    // profile passes its checks (they read the test split), then every training cell fails.
    const tiny = JSON.parse(dcnet('bench', '--print-profile', 'tiny').stdout);
    const data = join(root, 'test-split-only');
    mkdirSync(data);
    writeIdxDataset(data, { train: 1, test: tiny.evaluation.n, side: 28, gzip: false, seed: 3 });
    for (const f of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte']) rmSync(join(data, f));
    profile = join(root, 'failing.json');
    writeFileSync(profile, JSON.stringify({ ...tiny, name: 'failing', dataset: 'mnist', data }));
  });

  it('exits non-zero when cells fail and names them', () => {
    const r = dcnet('bench', '--profile', profile, '--out', join(root, 'failing-run'), '--zoo', join(root, 'zoo'), '--jobs', '1', '--no-progress', '--backend', BACKEND);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/0 cells run, 0 already done, 3 failed, 2 skipped/);
    // In the order they ran: the transfer source first.
    expect(r.stderr).toMatch(/dcnet: 3 cell\(s\) failed: train:mnist\/small-cnn\/standard\/standard\/s1, train:mnist\/small-cnn\/standard\/standard\/s0, train:mnist\/small-cnn\/tanh-cosine\/standard\/s0\./);
  });

  it('refuses a run folder another bench holds, naming the holder', () => {
    const run = join(root, 'locked-run');
    mkdirSync(run);
    holdLock(join(run, '.results.jsonl.lock'));
    const r = dcnet('bench', '--profile', 'tiny', '--out', run, '--zoo', join(root, 'zoo'), '--no-progress', '--backend', BACKEND);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`dcnet: The run folder .*locked-run is in use by process ${process.pid} on ${hostname()} \\(bench \\(another one\\)\\)`));
    expect(r.stderr).not.toMatch(/cells run/);
  });

  it('a train cell whose model another process is training waits for it instead of failing', async () => {
    const profile = { ...structuredClone(BUILTIN_PROFILES.tiny!), train: { ...BUILTIN_PROFILES.tiny!.train, limit: 128 } };
    const cell = planCells(profile).find((c) => c.kind === 'train')!;
    const zoo = join(root, 'shared-zoo');
    const dir = modelDir(cell.model.id, zoo);
    mkdirSync(dir, { recursive: true });
    holdLock(join(dir, '.train.lock'));
    const seen: string[] = [];
    const result = await executeCell(cell, { profile, zooDir: zoo, backend: BACKEND, shard: '0/1' }, (text) => {
      seen.push(text);
      // The other process finishes (here: gives the folder up) once we are seen waiting.
      if (text.startsWith('waiting')) rmSync(join(dir, '.train.lock'), { force: true });
    });
    expect(seen[0]).toBe(`waiting: another process is training ${cell.model.id}`);
    expect(result).toMatchObject({ id: cell.model.id, reused: false, epochs: 1 });
  });

  it('refuses --out into a folder that is not a run folder, and writes nothing there', () => {
    const dir = join(root, 'home');
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    const r = dcnet('bench', '--profile', 'tiny', '--out', dir, '--zoo', join(root, 'zoo'), '--no-progress', '--backend', BACKEND);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/is not a benchmark run folder \(no profile\.json, but it holds notes\.txt\)/);
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
    expect(spawnSync('ls', ['-A', dir], { encoding: 'utf8' }).stdout.trim()).toBe('notes.txt');
  });
});

describe('dcnet report', () => {
  it('skips a torn line in a results file and says so', () => {
    const run = join(root, 'torn-run');
    mkdirSync(run);
    writeFileSync(join(run, 'profile.json'), dcnet('bench', '--print-profile', 'tiny').stdout);
    writeFileSync(join(run, 'results.jsonl'), '{"schema":"dcnet-robustness/cell-res');
    const r = dcnet('report', '--run', run);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/report: skipped 1 torn line of .*results\.jsonl \(line 1\)/);
    expect(r.stdout).toMatch(/0 models/);
  });
});

describe('dcnet train', () => {
  const data = join(root, 'data');
  const common = ['--data', data, '--epochs', '1', '--batch', '32', '--backend', BACKEND];
  beforeAll(() => {
    mkdirSync(data);
    writeIdxDataset(data, { train: 64, test: 16, side: 8, gzip: false, seed: 5, learnable: true });
  });

  it('refuses --out into a folder holding another model unless --force', async () => {
    const out = join(root, 'other-model');
    await savedModel(out, 1);
    const before = readFileSync(join(out, 'weights.bin'));
    const r = dcnet('train', '--model', 'mnist/small-cnn/standard/standard/s0', '--out', out, ...common);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/holds another model \(model\.json, weights\.bin, no zoo manifest\): choose another --out, or use --force/);
    expect(readFileSync(join(out, 'weights.bin')).equals(before)).toBe(true);
    // A trained zoo model of another id: refused too, naming it.
    const zooModel = join(root, 'zoo-model');
    expect(dcnet('train', '--model', 'mnist/small-cnn/standard/standard/s1', '--out', zooModel, ...common).status).toBe(0);
    const again = dcnet('train', '--model', 'mnist/small-cnn/standard/standard/s0', '--out', zooModel, ...common);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/holds another model \(mnist\/small-cnn\/standard\/standard\/s1\)/);
    const forced = dcnet('train', '--model', 'mnist/small-cnn/standard/standard/s0', '--out', out, '--force', ...common);
    expect(forced.status, forced.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).id).toBe('mnist/small-cnn/standard/standard/s0');
  });

  it('refuses a model folder another training holds', () => {
    const out = join(root, 'locked-model');
    mkdirSync(out);
    holdLock(join(out, '.train.lock'));
    const r = dcnet('train', '--model', 'mnist/small-cnn/standard/standard/s0', '--out', out, ...common);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/The model folder .*locked-model is in use by process \d+/);
  });
});

describe('dcnet attack', () => {
  const model = join(root, 'attack-model');
  beforeAll(async () => {
    await savedModel(model, 3);
  });
  const attack = (...args: string[]) =>
    dcnet('attack', '--model', model, '--dataset', 'fashion-mnist-embedded', '--attack', 'fgsm', '--eps', '0.1', '--n', '8', '--backend', BACKEND, ...args);

  it('checks --out and --checkpoint before any work starts', () => {
    const dir = join(root, 'a-folder');
    mkdirSync(dir);
    const r = attack('--out', dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--out .*a-folder is a folder: give a file path/);
    // Refused before the backend started: no backend line, no result.
    expect(r.stderr).not.toMatch(/backend:/);
    writeFileSync(join(root, 'plain-file'), '');
    const c = attack('--checkpoint', join(root, 'plain-file', 'ckpt.jsonl'));
    expect(c.status).toBe(2);
    expect(c.stderr).toMatch(/--checkpoint .* cannot be created: .*plain-file is a file, not a folder/);
  });

  it('refuses a transfer source that is the target model: the same folder or a copy of its files', () => {
    const same = attack('--attack', 'transfer:fgsm', '--source', model);
    expect(same.status).toBe(2);
    expect(same.stderr).toMatch(/--source .* is the same model as --model .* \(same files\)/);
    const copy = join(root, 'attack-model-copy');
    cpSync(model, copy, { recursive: true });
    const copied = attack('--attack', 'transfer:fgsm', '--source', copy);
    expect(copied.status).toBe(2);
    expect(copied.stderr).toMatch(/is the same model as --model/);
  });

  it('accepts an independent source', async () => {
    const other = join(root, 'attack-source');
    await savedModel(other, 11);
    const r = attack('--attack', 'transfer:fgsm', '--source', other);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/clean accuracy/);
  });
});
