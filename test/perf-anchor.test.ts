// The PyTorch anchor of the side-by-side benchmark builds the same networks as
// models/architectures.ts: our weights exported to it give the same logits (small-cnn with every
// operator of the quick profile; cnn9 and resnet32 with the standard, tanh-cosine and
// linear-cosine operators) and the same number of
// trainable parameters; its allocator configuration is the one asked for and takes effect.
// These run only where Debian's python3-torch is installed (.ci/run installs it); the
// side-by-side's own bookkeeping is tested everywhere.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tf } from '../src/tf.js';
import { buildModel } from '../models/architectures.js';
import { commandLine, comparisons, parseAnchors, roundOrder, type RunSpec } from '../src/perf/side-by-side.js';
import { addUp } from '../src/perf/workers.js';

const PYTHON = '/usr/bin/python3';
const ANCHOR = 'src/perf/pytorch_anchor.py';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
if (!hasTorch) console.warn(`perf-anchor: ${PYTHON} has no torch (apt-get install python3-torch): the anchor's checks are skipped`);

const root = mkdtempSync(join(tmpdir(), 'dcnet-anchor-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function runAnchor(args: string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const out = spawnSync(PYTHON, [ANCHOR, ...args], { encoding: 'utf8', env, maxBuffer: 1 << 26 });
  if (out.status !== 0) throw new Error(`anchor failed: ${out.stderr}`);
  return out.stdout.trim().split('\n');
}

/** A seeded uniform value in [lo, hi): weights of the batch norms, so that they matter. */
function uniform(shape: number[], lo: number, hi: number, seed: number): tf.Tensor {
  return tf.randomUniform(shape, lo, hi, 'float32', seed);
}

/**
 * Writes the model's weights in creation order (convolutions, then batch norms, then the dense
 * layer: the order the anchor's `--logits` reads them) and an input batch; returns the manifest.
 */
function exportCase(network: string, operator: string, inputShape: [number, number, number], batch: number) {
  const model = buildModel(network, { inputShape, numClasses: 10, operator, seed: 7 });
  const layers = [...model.layers].sort((a, b) => a.id - b.id);
  const convs = layers.filter((l) => l.getClassName() === 'DecoupledConv2D');
  const bns = layers.filter((l) => l.getClassName() === 'BatchNormalization');
  const dense = layers.filter((l) => l.getClassName() === 'Dense');
  bns.forEach((l, i) => {
    const c = l.getWeights()[0]!.shape[0]!;
    l.setWeights([uniform([c], 0.5, 1.5, 10 + i), uniform([c], -0.2, 0.2, 500 + i), uniform([c], -0.2, 0.2, 900 + i), uniform([c], 0.5, 1.5, 1300 + i)]);
  });
  const values = [...convs, ...bns, ...dense].flatMap((l) => l.getWeights().map((w) => w.dataSync() as Float32Array));
  const flat = new Float32Array(values.reduce((n, v) => n + v.length, 0));
  values.reduce((offset, v) => (flat.set(v, offset), offset + v.length), 0);
  const x = uniform([batch, ...inputShape], 0, 1, 3);
  const name = `${network}-${operator}`;
  writeFileSync(join(root, `${name}.weights`), flat);
  writeFileSync(join(root, `${name}.input`), x.dataSync() as Float32Array);
  const manifest = {
    network,
    operator,
    inputShape,
    classes: 10,
    weights: join(root, `${name}.weights`),
    input: join(root, `${name}.input`),
    convs: convs.map((l) => l.getWeights()[0]!.shape),
    bns: bns.map((l) => l.getWeights()[0]!.shape[0]),
    ...(dense.length > 0 ? { dense: dense[0]!.getWeights()[0]!.shape } : {}),
  };
  writeFileSync(join(root, `${name}.json`), JSON.stringify(manifest));
  const logits = tf.tidy(() => model.predict(x) as tf.Tensor).dataSync() as Float32Array;
  const parameters = model.trainableWeights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
  x.dispose();
  model.dispose();
  return { manifest: join(root, `${name}.json`), logits: [...logits], parameters };
}

// Small batches (2 images where it is cheap, so that the layout of a batch is checked too), and
// resnet32 on 16x16 (every layer kind, stride-2 'same' padding included).
const CASES: Array<[string, [number, number, number], number]> = [
  ['small-cnn', [28, 28, 1], 2],
  ['cnn9', [32, 32, 3], 1],
  ['resnet32', [16, 16, 3], 1],
];
const OPERATORS = ['standard', 'tanh-cosine', 'linear-cosine'];
/** small-cnn with every operator of the quick profile (perf:side-by-side --operators can time each). */
const QUICK_OPERATORS = ['standard', 'sphere-cosine', 'ball-cosine', 'tanh-cosine', 'linear-cosine', 'seg-cosine', 'log-cosine', 'mix-cosine'];

// A few seconds of CPU, but Python starts twice and the paper networks are built on both sides:
// on a loaded machine that took minutes.
describe.skipIf(!hasTorch)('the PyTorch anchor builds our networks', { timeout: 600_000 }, () => {
  it('same trainable parameter count and the same logits for the same weights and input', () => {
    const ours = CASES.flatMap(([network, shape, batch]) =>
      (network === 'small-cnn' ? QUICK_OPERATORS : OPERATORS).map((op) => ({ network, op, ...exportCase(network, op, shape, batch) })),
    );
    const theirs = runAnchor(['--logits', ...ours.map((c) => c.manifest)]).map(
      (line) => JSON.parse(line) as { network: string; operator: string; parameters: number[]; logits: number[] },
    );
    expect(theirs).toHaveLength(ours.length);
    ours.forEach((o, i) => {
      const t = theirs[i]!;
      expect([t.network, t.operator]).toEqual([o.network, o.op]);
      expect(t.parameters.reduce((a, b) => a + b, 0), `${o.network} ${o.op} parameters`).toBe(o.parameters);
      const scale = Math.max(...o.logits.map(Math.abs));
      expect(scale).toBeGreaterThan(0);
      const worst = Math.max(...o.logits.map((v, j) => Math.abs(v - t.logits[j]!)));
      expect(worst / scale, `${o.network} ${o.op}: largest logit difference ${worst} of ${scale}`).toBeLessThan(1e-3);
    });
  });

  it('runs tuned by default and untuned on request, says so in its JSON, and the tuned run keeps its memory', () => {
    const cell = ['--json', '--operators', 'standard', '--only', 'forward', '--batch', '128', '--steps', '4', '--warmup', '2'];
    // Set by hand in the caller's environment, the untuned run removes them.
    const env = { ...process.env, MALLOC_TOP_PAD_: '1' };
    const tuned = JSON.parse(runAnchor(cell, env).pop()!);
    const untuned = JSON.parse(runAnchor([...cell, '--untuned'], env).pop()!);
    expect(tuned.anchor).toMatchObject({
      threads: 1,
      allocator: 'tuned',
      env: { MALLOC_MMAP_THRESHOLD_: '4294967296', MALLOC_TRIM_THRESHOLD_: '4294967296', MALLOC_TOP_PAD_: '268435456' },
    });
    expect(untuned.anchor).toMatchObject({
      threads: 1,
      allocator: 'untuned',
      env: { MALLOC_MMAP_THRESHOLD_: null, MALLOC_TRIM_THRESHOLD_: null, MALLOC_TOP_PAD_: null },
    });
    expect(untuned.backend).toMatch(/-1-thread-untuned$/);
    // glibc's default unmaps the activations every step and faults them in again: 128x28x28x32
    // floats are 12.8 MB, 3,136 pages, for the first convolution's output alone (measured here:
    // 5,500-6,200 faults a step untuned, 0 tuned). A difference, not a ratio: a CI host counted
    // about 1,000 faults a step that had nothing to do with malloc (in the tuned run too).
    const faults = (r: { results: Array<{ rusage: { minorFaults: number } }> }) => r.results[0]!.rusage.minorFaults;
    expect(faults(untuned) - faults(tuned), `faults a step: untuned ${faults(untuned)}, tuned ${faults(tuned)}`).toBeGreaterThan(2000);
  });
});

describe('side-by-side bookkeeping', () => {
  it('parses anchor configurations and refuses malformed ones with one line', () => {
    expect(parseAnchors('tuned-1,untuned-2')).toEqual([
      { id: 'tuned-1', allocator: 'tuned', threads: 1 },
      { id: 'untuned-2', allocator: 'untuned', threads: 2 },
    ]);
    expect(() => parseAnchors('fast-1')).toThrow(/Invalid anchor 'fast-1'.*tuned-1,untuned-2/);
    expect(() => parseAnchors('tuned-0')).toThrow(/Invalid anchor/);
  });

  it('compares ours on one core with every anchor, ours on the whole machine with the anchors of as many threads', () => {
    const runs: RunSpec[] = [
      { side: 'ours', workers: 1, id: 'ours-1' },
      { side: 'ours', workers: 2, id: 'ours-2' },
      ...parseAnchors('tuned-1,untuned-1,tuned-2,untuned-2').map((a) => ({ side: 'anchor' as const, ...a })),
    ];
    expect(comparisons(runs).map((c) => `${c.kind}: ${c.ours}/${c.anchor}`)).toEqual([
      'one core: ours-1/tuned-1',
      'one core: ours-1/untuned-1',
      'one core: ours-1/tuned-2',
      'one core: ours-1/untuned-2',
      'whole machine: ours-2/tuned-2',
      'whole machine: ours-2/untuned-2',
    ]);
  });

  it('a wrong option or a Python without torch stops before any timing, with one line', () => {
    const run = (args: string[]) => spawnSync(process.execPath, ['dist/src/perf/side-by-side.js', ...args], { encoding: 'utf8' });
    for (const [args, message] of [
      [['--anchors', 'fast-1'], /^perf:side-by-side: Invalid anchor 'fast-1' in --anchors: give allocator-threads, e\.g\. tuned-1,untuned-2\.$/],
      [['--python', '/usr/bin/false'], /^perf:side-by-side: '\/usr\/bin\/false' cannot import torch: install Debian's PyTorch \(apt-get install python3-torch\)/],
      [['--clock', 'cpu', '--workers', '2'], /^perf:side-by-side: --clock cpu cannot time parallel workers: use --clock wall, or --no-whole-machine\.$/],
      [['--with', 'fft'], /^perf:side-by-side: Invalid --with value 'fft'\. Valid values: winograd\.$/],
    ] as const) {
      const out = run([...args]);
      expect(out.status).toBe(2);
      expect(out.stderr.trim()).toMatch(message);
    }
  });

  it('records the command as typed, less where it was saved', () => {
    expect(commandLine(['--rounds', '5', '--save', 'docs/perf/side-by-side.json'])).toBe('npm run perf:side-by-side -- --rounds 5');
    expect(commandLine(['--save=x.json'])).toBe('npm run perf:side-by-side');
  });

  it('alternates the order of the runs from round to round', () => {
    expect(roundOrder(['a', 'b', 'c'], 0)).toEqual(['a', 'b', 'c']);
    expect(roundOrder(['a', 'b', 'c'], 1)).toEqual(['c', 'b', 'a']);
    expect(roundOrder(['a', 'b', 'c'], 2)).toEqual(['a', 'b', 'c']);
  });

  it("adds the workers' images/s up cell by cell", () => {
    const r = (operator: string, imagesPerSecond: number) => ({ network: 'small-cnn', operator, step: 'train' as const, batch: 8, imagesPerSecond });
    expect(addUp([[r('standard', 100), r('tanh-cosine', 40)], [r('standard', 90), r('tanh-cosine', 50)]])).toEqual([r('standard', 190), r('tanh-cosine', 90)]);
  });
});

describe('the README block of the side-by-side artifact', () => {
  const cell = (operator: string, step: string, ours: number, anchor: number, ratio: number, ratioMin: number, ratioMax: number) => ({
    operator,
    step,
    ours,
    anchor,
    ratio,
    ratioMin,
    ratioMax,
    rounds: 3,
  });
  const artifact = {
    command: 'npm run perf:side-by-side -- --rounds 3',
    date: '2026-12-02T07:00:00.000Z',
    machine: { cpu: 'Test CPU', cores: 2, node: 'v20.0.0', platform: 'linux-x64' },
    loadAverage: { before: 0.5, after: 1.25 },
    settings: { rounds: 3, batch: 128, timedSteps: 20, warmup: 3, clock: 'wall', workers: 2, operators: ['standard'], stepKinds: ['train'] },
    anchors: [{ id: 'tuned-1', torch: '1.13.0a0', python: '3.11', threads: 1, cpuCapability: 'AVX2', allocator: 'tuned', env: {} }],
    simdCeiling: { registers: 34.56, l1Loads: 30.01, measurements: 3 },
    networks: [
      {
        network: 'small-cnn',
        batch: 128,
        backends: { 'ours-1': 'wasm', 'ours-2': 'wasm-2-workers', 'tuned-1': 'pytorch', 'tuned-2': 'pytorch' },
        comparisons: [
          { ours: 'ours-1', anchor: 'tuned-1', kind: 'one core', cells: [cell('standard', 'train', 1000, 800, 1.25, 1.1, 1.3)] },
          { ours: 'ours-2', anchor: 'tuned-2', kind: 'whole machine', cells: [cell('standard', 'train', 1900, 2000, 0.95, 0.9, 0.99)] },
        ],
        anchorRusage: { 'tuned-1': [{ operator: 'standard', step: 'train', systemSeconds: 0.0021, minorFaults: 3 }] },
        convolutions: [
          {
            ours: 'ours-1',
            anchor: 'tuned-1',
            cells: [
              // 1 GFLOP in 25 ms: 40 GFLOP/s
              { convolution: '128x14x14x32:3x3x32x64:s1:same', layers: 1, pass: 'filterGradient', flops: 1e9, oursMs: 25, anchorMs: 12.5, ratio: 0.5, ratioMin: 0.4, ratioMax: 0.6, rounds: 3 },
            ],
          },
        ],
      },
    ],
  };

  it('renders each comparison of the artifact: images/s, median ratio and range, the allocator check', async () => {
    // @ts-expect-error: plain ESM script without type declarations
    const { generators } = await import('../scripts/readme/blocks.mjs');
    const dir = mkdtempSync(join(root, 'readme-'));
    mkdirSync(join(dir, 'docs/perf'), { recursive: true });
    writeFileSync(join(dir, 'docs/perf/side-by-side.json'), JSON.stringify(artifact));
    const block = generators['perf-side-by-side'](dir) as string;
    expect(block).toContain('Measured 2026-12-02 on Test CPU (2 cores), Node v20.0.0, against PyTorch 1.13.0a0, load average 0.50 before and 1.25 after');
    expect(block).toContain('| standard | train | 1,000 | 800: **1.25x** (1.10-1.30) |');
    expect(block).toContain('| operator | step | ours, 2 workers (img/s) | anchor tuned, 2 threads |');
    expect(block).toContain('| standard | train | 1,900 | 2,000: **0.95x** (0.90-0.99) |');
    expect(block).toContain('tuned, 1 thread: 0.002 s system time and 3 page faults per step');
    expect(block).toContain('| layer (batch x input : filter) | pass | ours, 1 core | anchor tuned, 1 thread |');
    expect(block).toContain('| `128x14x14x32:3x3x32x64` | filter gradient | 25.00 ms (40.0) | 12.50 ms (80.0): **0.50x** (0.40-0.60) |');
    expect(block).toContain('ceiling on this core measured 34.6 GFLOP/s');
    // 40 GFLOP/s of a 34.56 ceiling: 116%; 25 ms against 12.5 ms: twice as fast.
    expect(block).toContain('The largest layer (`128x14x14x32:3x3x32x64:s1:same`): our three passes at 116% of the SIMD ceiling below; the anchor (tuned, 1 thread) runs them 2.0x as fast as ours.');
    expect(block).toContain('dispatched to AVX2');
    // Training runs the first layer's forward and filter gradient: here only the filter gradient
    // was timed (25 vs 12.5 ms). Steps: 128 images at 1,000/s = 128 ms, at 800/s = 160 ms;
    // 128 - 25 + 12.5 = 115.5 ms, and 160 / 115.5 = 1.385.
    expect(block).toContain('train: 25 of our 128 ms per step and 13 of the anchor\'s 160 ms; with the anchor\'s convolution times, our step would take about 116 ms (1.39x the anchor\'s speed).');
    // An artifact from before the convolution table renders without it.
    writeFileSync(join(dir, 'docs/perf/side-by-side.json'), JSON.stringify({ ...artifact, simdCeiling: undefined, networks: artifact.networks.map((n) => ({ ...n, convolutions: undefined })) }));
    const older = generators['perf-side-by-side'](dir) as string;
    expect(older).toContain('| standard | train | 1,000 | 800: **1.25x** (1.10-1.30) |');
    expect(older).not.toContain('layer (batch x input : filter)');
    expect(older).not.toContain('fastest calls in a step');
    writeFileSync(join(dir, 'docs/perf/side-by-side.json'), JSON.stringify({ ...artifact, networks: undefined }));
    expect(() => generators['perf-side-by-side'](dir)).toThrow(/docs\/perf\/side-by-side.json: not a side-by-side artifact/);
  });

  it('renders a run with opt-in kernels (--with winograd) as its own section, its kernels in the labels', async () => {
    // @ts-expect-error: plain ESM script without type declarations
    const { generators } = await import('../scripts/readme/blocks.mjs');
    const dir = mkdtempSync(join(root, 'readme-'));
    mkdirSync(join(dir, 'docs/perf'), { recursive: true });
    writeFileSync(join(dir, 'docs/perf/side-by-side.json'), JSON.stringify(artifact));
    const [network] = artifact.networks;
    const backends = { ...network!.backends, 'ours-1': 'wasm+winograd', 'ours-2': 'wasm+winograd-2-workers' };
    const withWinograd = { ...artifact, command: 'npm run perf:side-by-side -- --with winograd', networks: [{ ...network, backends, convolutions: undefined }] };
    writeFileSync(join(dir, 'docs/perf/side-by-side-winograd.json'), JSON.stringify(withWinograd));
    const block = generators['perf-side-by-side'](dir) as string;
    const [plain, winograd] = block.split('From [docs/perf/side-by-side-winograd.json]');
    expect(plain).toContain('| operator | step | ours, 1 core (img/s) | anchor tuned, 1 thread |');
    expect(plain).not.toContain('winograd (img/s)');
    expect(winograd).toContain('**small-cnn**, one core against the anchor (ours with the opt-in kernels: winograd):');
    expect(winograd).toContain('| operator | step | ours, 1 core, winograd (img/s) | anchor tuned, 1 thread |');
    expect(winograd).toContain('| operator | step | ours, 2 workers, winograd (img/s) | anchor tuned, 2 threads |');
    expect(winograd).toContain('| standard | train | 1,000 | 800: **1.25x** (1.10-1.30) |');
  });

  it('says, across operators, how low and how high the one-core medians against the tuned 1-thread anchor go', async () => {
    // @ts-expect-error: plain ESM script without type declarations
    const { generators } = await import('../scripts/readme/blocks.mjs');
    const dir = mkdtempSync(join(root, 'readme-'));
    mkdirSync(join(dir, 'docs/perf'), { recursive: true });
    const [network] = artifact.networks;
    const cells = [
      cell('standard', 'train', 1000, 800, 1.25, 1.1, 1.3),
      cell('standard', 'inputGradient', 1000, 900, 1.11, 1, 1.2),
      cell('log-cosine', 'train', 700, 1000, 0.7, 0.6, 0.8),
      cell('log-cosine', 'inputGradient', 900, 1000, 0.9, 0.8, 1),
    ];
    const many = { ...artifact, networks: [{ ...network, convolutions: undefined, comparisons: [{ ours: 'ours-1', anchor: 'tuned-1', kind: 'one core', cells }] }] };
    writeFileSync(join(dir, 'docs/perf/side-by-side.json'), JSON.stringify(many));
    const block = generators['perf-side-by-side'](dir) as string;
    expect(block).toContain('Medians against the tuned 1-thread anchor, lowest to highest over the 2 operators: train 0.70-1.25x, input gradient 0.90-1.11x.');
    // One operator: nothing to span.
    writeFileSync(join(dir, 'docs/perf/side-by-side.json'), JSON.stringify(artifact));
    expect(generators['perf-side-by-side'](dir) as string).not.toContain('lowest to highest');
  });
});
