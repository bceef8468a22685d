// `dcnet attack`: option parsing and one end-to-end run on a saved model and the embedded set.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { tf } from '../src/tf.js';
import { saveModel } from '../src/io/fs-handler.js';
import { main } from '../src/cli/main.js';
import { attackRequests, parseEpsilons } from '../src/cli/commands/attack.js';

const base = { model: 'm', dataset: 'fashion-mnist-embedded', split: 'test', batch: '100', seed: '0', checks: true, backend: 'wasm' };

describe('option parsing', () => {
  it('reads epsilons with fractions and refuses garbage', () => {
    expect(parseEpsilons('0, 2/255,0.1')).toEqual([0, 2 / 255, 0.1]);
    expect(() => parseEpsilons('8/255,abc')).toThrow(/'abc' is not a number/);
  });
  it('maps shared flags onto the attacks that declare them, and refuses flags nobody uses', () => {
    const r = attackRequests({ ...base, attack: 'fgsm,bim,transfer:pgd', eps: '0.1', steps: '7', source: 's' });
    expect(r.map((a) => [a.name, a.transfer, a.params])).toEqual([
      ['fgsm', false, {}],
      ['bim', false, { steps: 7 }],
      ['pgd', true, { steps: 7 }],
    ]);
    expect(() => attackRequests({ ...base, attack: 'fgsm', eps: '0.1', restarts: '3' })).toThrow(/--restarts applies to none/);
    expect(() => attackRequests({ ...base, attack: 'fgsm', eps: '0.1', source: 's' })).toThrow(/transfer:pgd/);
    expect(() => attackRequests({ ...base, attack: 'fgsn', eps: '0.1' })).toThrow(/Unknown attack 'fgsn'/);
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
    const code = await main(['node', 'dcnet', 'attack', '--model', join(dir, 'model'), '--attack', 'fgsm,bim', '--eps', '0,0.1', '--steps', '3', '--n', '20', '--batch', '8', '--backend', 'wasm', '--out', out]);
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

  it('prints one clear line for a user mistake', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const code = await main(['node', 'dcnet', 'attack', '--model', join(dir, 'model'), '--attack', 'fgsm', '--eps', '8', '--backend', 'wasm']);
    const printed = err.mock.calls.map((c) => String(c[0])).join('');
    err.mockRestore();
    expect(code).toBe(2);
    expect(printed).toMatch(/dcnet: Epsilon 8 is above 1.*8\/255/);
  });
});
