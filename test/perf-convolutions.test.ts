// The convolution layers alone (npm run perf -- --convolutions, and the side-by-side's table):
// which layers a network has, their FLOPs, the spec format both sides read, the pairing of
// rounds, and the anchor timing the same geometry (where Debian's python3-torch is installed).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { tf } from '../src/tf.js';
import { initBackend } from '../src/backend.js';
import { convolutionFlops, formatSpec, networkConvolutions, outputSize, parseSpec, timeConvolution } from '../src/perf/convolutions.js';
import { runPerf } from '../src/perf/program.js';
import { summariseConvolutions } from '../src/perf/side-by-side.js';

const PYTHON = '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;

describe('convolution specs', () => {
  it("lists a network's distinct convolution layers in build order", () => {
    expect(networkConvolutions('small-cnn', [28, 28, 1], 128).map(formatSpec)).toEqual([
      '128x28x28x1:3x3x1x32:s1:same',
      '128x14x14x32:3x3x32x64:s1:same',
    ]);
    // resnet32 on 32x32x3: its stride-2 units and 1x1 shortcuts are layers of their own.
    expect(networkConvolutions('small-cnn', [28, 28, 1], 128).map((c) => c.layers)).toEqual([1, 1]);
    const resnet = networkConvolutions('resnet32', [32, 32, 3], 8);
    const names = resnet.map(formatSpec);
    expect(names).toContain('8x32x32x3:3x3x3x96:s1:same');
    expect(names.some((s) => s.endsWith(':s2:same'))).toBe(true);
    expect(new Set(names).size).toBe(names.length);
    // 5 residual units of 2 convolutions per stage: the first stage's 10 layers share one shape.
    expect(resnet.find((c) => formatSpec(c) === '8x32x32x96:3x3x96x96:s1:same')!.layers).toBe(10);
    // 1 + 2 * 5 * 3 convolutions, 2 shortcut projections and the 1x1 classifier.
    expect(resnet.reduce((n, c) => n + c.layers, 0)).toBe(34);
  });

  it('FLOPs and output sizes by hand', () => {
    // 2 x 128 images x 14 x 14 pixels x 64 filters x 3 x 3 taps x 32 channels
    expect(convolutionFlops(parseSpec('128x14x14x32:3x3x32x64:s1:same'))).toBe(924_844_032);
    expect(outputSize(parseSpec('1x7x7x3:2x2x3x4:s2:same'))).toEqual([4, 4]);
    expect(outputSize(parseSpec('1x7x7x3:3x3x3x4:s2:valid'))).toEqual([3, 3]);
    expect(convolutionFlops(parseSpec('1x5x5x2:3x3x2x1:s1:valid'))).toBe(2 * 9 * 9 * 2);
  });

  it('reads what it writes, and refuses a malformed or inconsistent spec with one line', () => {
    const s = '4x9x9x3:3x3x3x8:s2:valid';
    expect(formatSpec(parseSpec(s))).toBe(s);
    for (const bad of ['128x14x14:3x3x32x64:s1:same', '1x5x5x2:3x3x3x4:s1:same', '1x5x5x2:3x3x2x4:s0:same', '1x2x2x1:3x3x1x1:s1:valid', '1x5x5x2:3x3x2x4:s1:full']) {
      expect(() => parseSpec(bad), bad).toThrow(/^Invalid convolution '.*': /);
    }
  });
});

describe('timing a convolution alone', () => {
  it('times the three passes and frees every tensor', async () => {
    await initBackend(process.env.DCNET_TEST_BACKEND ?? 'wasm');
    const before = tf.memory().numTensors;
    const t = timeConvolution(parseSpec('2x6x6x4:3x3x4x8:s1:same'), { steps: 2, warmup: 1, seed: 1, clock: 'cpu' });
    expect(t.map((r) => r.pass)).toEqual(['forward', 'inputGradient', 'filterGradient']);
    for (const r of t) expect(r.ms).toBeGreaterThanOrEqual(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('perf --convolutions prints one JSON object and nothing else', async () => {
    const printed: string[] = [];
    await runPerf(
      {
        backend: process.env.DCNET_TEST_BACKEND ?? 'wasm',
        json: true,
        network: 'small-cnn',
        operators: ['standard'],
        only: ['train'],
        batch: 2,
        steps: 1,
        warmup: 0,
        seed: 1,
        clock: 'cpu',
        profileSteps: 0,
        convolutions: [parseSpec('2x6x6x4:3x3x4x8:s1:same')],
      },
      (text) => printed.push(text),
    );
    expect(printed).toHaveLength(1);
    const report = JSON.parse(printed[0]!);
    expect(Object.keys(report).sort()).toEqual(['backend', 'convolutions']);
    expect(report.convolutions.map((c: { convolution: string }) => c.convolution)).toEqual(Array(3).fill('2x6x6x4:3x3x4x8:s1:same'));
  });
});

describe('pairing the convolution rounds', () => {
  it('median ms per side; the ratio is anchor ms / ours ms per round, then the median', () => {
    const t = (ms: number) => [{ convolution: 'c', pass: 'forward' as const, ms }];
    const s = summariseConvolutions([t(10), t(30), t(20)], [t(5), t(30), t(5)], new Map([['c', { flops: 1e9, layers: 2 }]]));
    expect(s).toHaveLength(1);
    expect(s[0]).toMatchObject({ convolution: 'c', layers: 2, pass: 'forward', flops: 1e9, rounds: 3 });
    expect(s[0]!.oursMs).toBeCloseTo(20);
    expect(s[0]!.anchorMs).toBeCloseTo(5);
    expect(s[0]!.ratio).toBeCloseTo(0.5); // rounds: 0.5, 1, 0.25
    expect(s[0]!.ratioMin).toBeCloseTo(0.25);
    expect(s[0]!.ratioMax).toBeCloseTo(1);
  });
});

describe.skipIf(!hasTorch)('the anchor times the same convolutions', { timeout: 120_000 }, () => {
  it('each pass of each spec, with the geometry our side computes, and its vector instructions', () => {
    const specs = ['2x6x6x3:3x3x3x4:s1:same', '2x7x7x3:2x2x3x4:s2:same', '1x9x9x2:3x3x2x5:s2:valid'];
    const out = spawnSync(PYTHON, ['src/perf/pytorch_anchor.py', '--json', '--convolutions', specs.join(','), '--steps', '1', '--warmup', '0'], { encoding: 'utf8' });
    expect(out.status, out.stderr).toBe(0);
    const report = JSON.parse(out.stdout.trim().split('\n').pop()!);
    expect(report.anchor.cpuCapability).toMatch(/^[A-Z0-9_]+$/);
    const rows = report.convolutions as Array<{ convolution: string; pass: string; ms: number; outputShape: number[] }>;
    expect(rows.map((r) => `${r.convolution} ${r.pass}`)).toEqual(specs.flatMap((s) => ['forward', 'inputGradient', 'filterGradient'].map((p) => `${s} ${p}`)));
    for (const spec of specs) {
      const s = parseSpec(spec);
      const [n, , , c] = s.input;
      const [kh, kw, , co] = s.filter;
      const [forward, , filterGradient] = rows.filter((r) => r.convolution === spec);
      expect(forward!.outputShape, spec).toEqual([n, co, ...outputSize(s)]); // NCHW
      expect(filterGradient!.outputShape, spec).toEqual([co, c, kh, kw]);
    }
    const bad = spawnSync(PYTHON, ['src/perf/pytorch_anchor.py', '--convolutions', '1x5x5x2:3x3x3x4:s1:same'], { encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/invalid --convolutions entry '1x5x5x2:3x3x3x4:s1:same'/);
  });
});
