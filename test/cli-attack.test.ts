// `dcnet attack`: option parsing and one end-to-end run on a saved model and the embedded set.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { tf } from '../src/tf.js';
import { saveModel } from '../src/io/fs-handler.js';
import { main } from '../src/cli/main.js';
import { attackRequests } from '../src/cli/commands/attack.js';
import { trainModel } from '../models/zoo/index.js';
import { writeIdxDataset } from './helpers/datasets.js';

const base = { model: 'm', split: 'test', batch: 100, seed: 0, checks: true, backend: 'wasm' };

describe('option parsing', () => {
  it('maps shared flags onto the attacks that declare them, and refuses flags nobody uses', () => {
    const r = attackRequests({ ...base, attack: 'fgsm,bim,transfer:pgd', eps: [0.1], steps: 7, source: 's' });
    expect(r.map((a) => [a.name, a.transfer, a.params])).toEqual([
      ['fgsm', false, {}],
      ['bim', false, { steps: 7 }],
      ['pgd', true, { steps: 7 }],
    ]);
    expect(() => attackRequests({ ...base, attack: 'fgsm', eps: [0.1], restarts: 3 })).toThrow(/--restarts applies to none/);
    expect(() => attackRequests({ ...base, attack: 'fgsm', eps: [0.1], source: 's' })).toThrow(/transfer:pgd/);
    expect(() => attackRequests({ ...base, attack: 'fgsn', eps: [0.1] })).toThrow(/Unknown attack 'fgsn'/);
  });
});

describe('dcnet attack end to end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dcnet-attack-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('attacks a saved model on the embedded Fashion-MNIST subset and writes JSON', async () => {
    // A small seeded network (untrained: only the numbers' consistency is tested).
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 4, kernelSize: 3, strides: 2, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
      ],
    });
    await saveModel(model, join(dir, 'model'));
    model.dispose();
    const out = join(dir, 'result.json');
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const code = await main(['node', 'dcnet', 'attack', '--model', join(dir, 'model'), '--attack', 'fgsm,bim', '--eps', '0,0.1', '--steps', '3', '--n', '20', '--dataset', 'fashion-mnist-embedded', '--batch', '8', '--backend', 'wasm', '--out', out]);
    const printed = write.mock.calls.map((c) => String(c[0])).join('');
    write.mockRestore();
    expect(code).toBe(0);
    expect(printed).toMatch(/clean accuracy: [\d.]+%/);
    expect(printed).toMatch(/bim\(steps=3\)\s+0\.1000/);
    const r = JSON.parse(readFileSync(out, 'utf8'));
    expect(r.n).toBe(20);
    expect(r.dataset.name).toBe('fashion-mnist-embedded');
    const bim = r.attacks.find((a: { attack: string }) => a.attack === 'bim');
    expect(bim.results[0].robust.correct).toBe(r.clean.correct); // eps 0
    expect(bim.params.steps).toBe(3);
  });

  /** Runs the CLI in-process; returns the exit code, stdout and stderr. */
  async function dcnet(...args: string[]) {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const code = await main(['node', 'dcnet', ...args, '--backend', 'wasm']);
      return { code, stdout: out.mock.calls.map((c) => String(c[0])).join(''), stderr: err.mock.calls.map((c) => String(c[0])).join('') };
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  }

  it('resolves a zoo id: dataset and data folder from its manifest; transfer from another zoo model', async () => {
    const data = join(dir, 'idx');
    const zoo = join(dir, 'zoo');
    mkdirSync(data);
    writeIdxDataset(data, { train: 64, test: 24, side: 8, gzip: false, seed: 5, learnable: true });
    for (const s of [0, 1]) await trainModel({ id: `mnist/small-cnn/standard/standard/s${s}`, zooDir: zoo, data, epochs: 1, batch: 32 });
    const id = 'mnist/small-cnn/standard/standard/s0';
    const r = await dcnet('attack', '--model', id, '--zoo', zoo, '--source', 'mnist/small-cnn/standard/standard/s1', '--attack', 'fgsm,transfer:fgsm', '--eps', '0.1', '--json');
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.model).toBe(id);
    expect(result.dataset.name).toBe('mnist');
    expect(result.n).toBe(24);
    expect(result.attacks[1].label).toBe('transfer:fgsm from mnist/small-cnn/standard/standard/s1');
    const wrong = await dcnet('attack', '--model', id, '--zoo', zoo, '--dataset', 'cifar10', '--attack', 'fgsm', '--eps', '0.1');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/trained on mnist, not cifar10/);
  });

  it('asks for --dataset when a plain model folder has no manifest', async () => {
    const r = await dcnet('attack', '--model', join(dir, 'model'), '--attack', 'fgsm', '--eps', '0.1');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no zoo manifest.*--dataset NAME/);
  });

  it('prints one clear line for a user mistake', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const code = await main(['node', 'dcnet', 'attack', '--model', join(dir, 'model'), '--attack', 'fgsm', '--eps', '8', '--backend', 'wasm']);
    const printed = err.mock.calls.map((c) => String(c[0])).join('');
    err.mockRestore();
    expect(code).toBe(2);
    expect(printed).toMatch(/dcnet: Epsilon 8 is above 1.*8\/255/);
  });
});
