// The library as documented: the packed package, installed in a fresh project, exports every
// entry point the README and docs/ import from, with every name they import; the attack
// contract kit lives at /testing only; deep imports are closed; and the bring-your-own-model
// example of docs/ runs as written, its saved model attacked by the installed `dcnet`.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packedProject, REPO_ROOT, type PackedProject } from './helpers/packed-project.js';

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
});
