// Which backend a request gets, with the loaders injected: the native packages
// (tfjs-node, tfjs-node-gpu) need not be installed to test the choice.
import { describe, expect, it } from 'vitest';
import { BackendError, chooseBackend, type BackendName } from '../src/backend.js';

/** A starter where only `available` load; the others fail as a missing package does. */
function machine(available: Partial<Record<BackendName, string | Error>>) {
  const tried: BackendName[] = [];
  const start = async (name: BackendName): Promise<string> => {
    tried.push(name);
    const what = available[name];
    if (typeof what === 'string') return what;
    if (what instanceof Error) throw what;
    throw Object.assign(new Error(`Cannot find package '@tensorflow/${name}'`), { code: 'ERR_MODULE_NOT_FOUND' });
  };
  return { start, tried };
}

describe('backend choice', () => {
  it('auto takes tensorflow-gpu when its package loads', async () => {
    const m = machine({ 'tensorflow-gpu': 'tensorflow', tensorflow: 'tensorflow', wasm: 'wasm', cpu: 'cpu' });
    expect(await chooseBackend('auto', m.start)).toEqual({ name: 'tensorflow-gpu', engineName: 'tensorflow' });
    expect(m.tried).toEqual(['tensorflow-gpu']);
  });

  it('auto falls back in order: tensorflow, then wasm, then cpu', async () => {
    const noGpu = machine({ 'tensorflow-gpu': new Error('libtensorflow loaded but sees no CUDA device'), tensorflow: 'tensorflow', wasm: 'wasm' });
    expect((await chooseBackend('auto', noGpu.start)).name).toBe('tensorflow');
    const wasmOnly = machine({ wasm: 'wasm', cpu: 'cpu' });
    expect((await chooseBackend('auto', wasmOnly.start)).name).toBe('wasm');
    expect(wasmOnly.tried).toEqual(['tensorflow-gpu', 'tensorflow', 'wasm']);
    expect((await chooseBackend('auto', machine({ cpu: 'cpu' }).start)).name).toBe('cpu');
  });

  it('a named backend that is not installed names the package to install', async () => {
    const m = machine({ wasm: 'wasm', cpu: 'cpu' });
    await expect(chooseBackend('tensorflow-gpu', m.start)).rejects.toThrow(
      /Backend 'tensorflow-gpu' cannot load \(its package is not installed\)\. Install it with: npm install @tensorflow\/tfjs-node-gpu@4\.22\.0 .*CUDA/,
    );
    await expect(chooseBackend('tensorflow', m.start)).rejects.toThrow(/Install it with: npm install @tensorflow\/tfjs-node@4\.22\.0/);
    // A named backend never falls back silently.
    expect(m.tried).toEqual(['tensorflow-gpu', 'tensorflow']);
  });

  it('an installed package that fails to start says why', async () => {
    const m = machine({ 'tensorflow-gpu': new Error('libtensorflow loaded but sees no CUDA device') });
    await expect(chooseBackend('tensorflow-gpu', m.start)).rejects.toThrow(/cannot load \(libtensorflow loaded but sees no CUDA device\)/);
  });

  it('unknown names and no backend at all are user errors', async () => {
    await expect(chooseBackend('gpu', machine({}).start)).rejects.toThrow(/Unknown backend 'gpu'\. Valid values: auto, tensorflow-gpu, tensorflow, wasm, cpu/);
    const err = await chooseBackend('auto', machine({}).start).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as Error).message).toMatch(/No TF.js backend could start:\n {2}tensorflow-gpu: Cannot find package/);
  });
});
