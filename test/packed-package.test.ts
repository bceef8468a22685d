// The library as documented: the packed package, installed in a fresh project, exports every
// entry point the README and docs/ import from, with every name they import; the attack
// contract kit lives at /testing only; deep imports are closed; and the bring-your-own-model
// examples of docs/ run as written: a layers model saved by a script and attacked by the
// installed `dcnet`, and a graph model attacked through the library.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packedProject, REPO_ROOT, type PackedProject } from './helpers/packed-project.js';
import { seededUniform } from './helpers/reference.js';

const ENTRY_POINTS = ['dcnet-robustness', 'dcnet-robustness/data', 'dcnet-robustness/zoo', 'dcnet-robustness/attacks', 'dcnet-robustness/eval', 'dcnet-robustness/reports', 'dcnet-robustness/testing'];

/** Every `import { a, b } from 'dcnet-robustness...'` in the README and docs/. */
function documentedImports(): Map<string, Set<string>> {
  const files = ['README.md', ...readdirSync(join(REPO_ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];
  const found = new Map<string, Set<string>>();
  for (const f of files) {
    const text = readFileSync(join(REPO_ROOT, f), 'utf8');
    for (const m of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'(dcnet-robustness[^']*)'/g)) {
      const names = found.get(m[2]!) ?? new Set<string>();
      for (const n of m[1]!.split(',').map((s) => s.trim().replace(/^type\s+/, '')).filter(Boolean)) names.add(n);
      found.set(m[2]!, names);
    }
  }
  return found;
}

/**
 * A graph model as tensorflowjs_converter writes one (GraphDef JSON + weights): 28x28x1 images
 * -> reshape -> matmul -> bias add -> 10 logits.
 */
function writeGraphModel(dir: string): void {
  const f32 = { type: 'DT_FLOAT' };
  const dims = (d: number[]) => ({ dim: d.map((size) => ({ size: String(size) })) });
  const constant = (name: string, dtype: string, shape: number[]) => ({ name, op: 'Const', attr: { dtype: { type: dtype }, value: { tensor: { dtype, tensorShape: dims(shape) } } } });
  const modelTopology = {
    node: [
      { name: 'images', op: 'Placeholder', attr: { dtype: f32, shape: { shape: dims([-1, 28, 28, 1]) } } },
      constant('flat_shape', 'DT_INT32', [2]),
      constant('dense/kernel', 'DT_FLOAT', [784, 10]),
      constant('dense/bias', 'DT_FLOAT', [10]),
      { name: 'flat', op: 'Reshape', input: ['images', 'flat_shape'], attr: { T: f32, Tshape: { type: 'DT_INT32' } } },
      { name: 'dense/MatMul', op: 'MatMul', input: ['flat', 'dense/kernel'], attr: { T: f32, transpose_a: { b: false }, transpose_b: { b: false } } },
      { name: 'logits', op: 'BiasAdd', input: ['dense/MatMul', 'dense/bias'], attr: { T: f32 } },
    ],
    versions: { producer: 1395 },
  };
  const weights = [
    { name: 'flat_shape', shape: [2], dtype: 'int32' },
    { name: 'dense/kernel', shape: [784, 10], dtype: 'float32' },
    { name: 'dense/bias', shape: [10], dtype: 'float32' },
  ];
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ format: 'graph-model', generatedBy: '2.15.0', convertedBy: 'TensorFlow.js Converter v4.22.0', modelTopology, weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights }] }));
  const data = [new Int32Array([-1, 784]), seededUniform(7840, 5, -0.1, 0.1), new Float32Array(10)];
  writeFileSync(join(dir, 'group1-shard1of1.bin'), Buffer.concat(data.map((a) => Buffer.from(a.buffer))));
}

let project: PackedProject;
beforeAll(() => {
  project = packedProject();
});
afterAll(() => project?.remove());

describe('the packed package', () => {
  it('documents only public entry points, and each exports the names the docs import', () => {
    const documented = documentedImports();
    expect([...documented.keys()].filter((p) => !ENTRY_POINTS.includes(p))).toEqual([]);
    for (const p of ['dcnet-robustness', 'dcnet-robustness/data', 'dcnet-robustness/zoo', 'dcnet-robustness/attacks', 'dcnet-robustness/eval', 'dcnet-robustness/testing']) {
      expect(documented.has(p), `${p} is documented`).toBe(true);
    }
    const wanted = Object.fromEntries([...documented].map(([p, names]) => [p, [...names]]));
    const r = project.runScript(
      'check-exports.mjs',
      `const wanted = ${JSON.stringify({ ...wanted, 'dcnet-robustness': [...(wanted['dcnet-robustness'] ?? []), 'saveModel', 'loadModel', 'UserError'], 'dcnet-robustness/reports': ['writeReport'] })};
const missing = [];
for (const [path, names] of Object.entries(wanted)) {
  const m = await import(path);
  for (const n of names) if (!(n in m)) missing.push(path + ': ' + n);
}
const root = await import('dcnet-robustness');
const attacks = await import('dcnet-robustness/attacks');
let deep = 'open';
try { await import('dcnet-robustness/dist/src/index.js'); } catch (e) { deep = e.code; }
console.log(JSON.stringify({ missing, contractInRoot: 'checkAttackContract' in root || 'checkAttackContract' in attacks, deep }));
`,
    );
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!)).toEqual({ missing: [], contractInRoot: false, deep: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });
  });

  it('saveModel/loadModel round-trip a model through the package name', () => {
    const r = project.runScript(
      'round-trip.mjs',
      `import { tf, initBackend, saveModel, loadModel, DecoupledConv2D } from 'dcnet-robustness';
await initBackend('cpu');
const model = tf.sequential({ layers: [new DecoupledConv2D({ inputShape: [6, 6, 1], filters: 2, kernelSize: 3, magnitude: 'tanh', angular: 'cosine' }), tf.layers.flatten(), tf.layers.dense({ units: 3 })] });
await saveModel(model, 'saved');
const back = await loadModel('saved');
const x = tf.randomUniform([2, 6, 6, 1], 0, 1, 'float32', 3);
console.log(JSON.stringify(Array.from(model.predict(x).dataSync()).every((v, i) => v === back.predict(x).dataSync()[i])));
`,
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('true');
  });

  it("runs docs/examples/bring-your-own-model.mjs as written, and the installed dcnet attacks the model it saved", () => {
    const example = readFileSync(join(REPO_ROOT, 'docs', 'examples', 'bring-your-own-model.mjs'), 'utf8');
    const r = project.runScript('byom.mjs', example, ['my-model']);
    expect(r.status, r.stderr).toBe(0);
    const lib = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { clean: number; robust: Array<[number, number]> };
    expect(lib.clean).toBeGreaterThan(0.5); // 2 epochs on 2,000 images: a real classifier
    expect(lib.robust[0]).toEqual([0, lib.clean]); // eps 0 changes nothing
    expect(lib.robust[1]![1]).toBeLessThan(lib.clean);

    const cli = project.runBin('dcnet', ['attack', '--model', 'my-model', '--dataset', 'fashion-mnist-embedded', '--attack', 'fgsm', '--eps', '0,0.1', '--n', '200', '--backend', 'wasm', '--json']);
    expect(cli.status, cli.stderr).toBe(0);
    const json = JSON.parse(cli.stdout) as { clean: { accuracy: number }; attacks: Array<{ attack: string; results: Array<{ epsilon: number; robust: { accuracy: number } }> }> };
    const fgsm = json.attacks.find((a) => a.attack === 'fgsm')!;
    expect(fgsm.results.map((e) => e.epsilon)).toEqual([0, 0.1]);
    expect(fgsm.results[0]!.robust.accuracy).toBe(json.clean.accuracy);
    expect(fgsm.results[1]!.robust.accuracy).toBeLessThanOrEqual(json.clean.accuracy);
  });

  it('runs docs/examples/attack-graph-model.mjs as written on a graph model', () => {
    writeGraphModel(join(project.dir, 'my-graph-model'));
    const example = readFileSync(join(REPO_ROOT, 'docs', 'examples', 'attack-graph-model.mjs'), 'utf8');
    const r = project.runScript('attack-graph.mjs', example, ['my-graph-model', 'fashion-mnist-embedded']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { clean: number; robust: Array<[number, number]> };
    expect(out.robust.map(([eps]) => eps)).toEqual([0, 0.05, 0.1]);
    expect(out.robust[0]![1]).toBe(out.clean);
    // PGD differentiates through the graph: random weights, yet larger balls fool more points.
    expect(out.robust[2]![1]).toBeLessThanOrEqual(out.robust[1]![1]);
    expect(out.robust[2]![1]).toBeLessThan(out.clean);
  });
});
