// The performance benchmark's steps: no tensor leaks over 100 steps, a well-formed JSON
// report. (Speed itself is measured by `npm run perf`, never asserted here.)
import { describe, expect, it } from 'vitest';
import { tf } from '../src/tf.js';
import { buildModel } from '../models/architectures.js';
import { makeStep, randomBatch, STEP_KINDS } from '../src/perf/steps.js';
import { runPerf } from '../src/perf/program.js';
import { median } from '../src/perf/measure.js';
import { formatSummary, summarise } from '../src/perf/side-by-side.js';

const INPUT: [number, number, number] = [28, 28, 1];

describe('perf steps do not leak tensors', () => {
  for (const operator of ['standard', 'tanh-cosine', 'linear-cosine']) {
    for (const kind of STEP_KINDS) {
      it(`${operator} ${kind}: tensor count after 100 steps equals the count after 1`, () => {
        const model = buildModel('small-cnn', { inputShape: INPUT, numClasses: 10, operator, seed: 3 });
        const batch = randomBatch(2, INPUT, 10, 3);
        const { step, dispose } = makeStep(kind, model, batch);
        const run = () => {
          const out = step();
          expect(Number.isFinite(out.dataSync()[0]!)).toBe(true);
          out.dispose();
        };
        run();
        const afterOne = tf.memory().numTensors;
        for (let i = 1; i < 100; i++) run();
        expect(tf.memory().numTensors).toBe(afterOne);
        dispose();
        tf.dispose([batch.x, batch.y]);
        model.dispose();
      });
    }
  }

  it('a training step changes the weights and lowers the loss on a fixed batch', () => {
    const model = buildModel('small-cnn', { inputShape: INPUT, numClasses: 10, operator: 'standard', seed: 4 });
    const batch = randomBatch(4, INPUT, 10, 4);
    const { step, dispose } = makeStep('train', model, batch);
    const first = step();
    const firstLoss = first.dataSync()[0]!;
    first.dispose();
    for (let i = 0; i < 20; i++) step().dispose();
    const last = step();
    expect(last.dataSync()[0]!).toBeLessThan(firstLoss);
    last.dispose();
    dispose();
    tf.dispose([batch.x, batch.y]);
    model.dispose();
  });
});

describe('npm run perf -- --json', () => {
  it('prints exactly one JSON object with one result per operator and step', async () => {
    const before = tf.memory().numTensors;
    const printed: string[] = [];
    await runPerf(
      {
        backend: process.env.DCNET_TEST_BACKEND ?? 'wasm',
        json: true,
        network: 'small-cnn',
        operators: ['standard', 'tanh-cosine'],
        only: [...STEP_KINDS],
        batch: 2,
        steps: 1,
        warmup: 1,
        inputShape: INPUT,
        seed: 1,
        clock: 'cpu',
        profileSteps: 0, // the profile's report: perf-profile.test.ts
      },
      (text) => printed.push(text),
    );
    expect(printed).toHaveLength(1);
    const report = JSON.parse(printed[0]!);
    expect(Object.keys(report).sort()).toEqual(['backend', 'results']);
    expect(report.results).toHaveLength(6);
    for (const r of report.results) {
      expect(Object.keys(r).sort()).toEqual(['batch', 'imagesPerSecond', 'network', 'operator', 'step']);
      expect(r.imagesPerSecond).toBeGreaterThan(0);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('side-by-side summary', () => {
  const cell = (operator: string, step: string, imagesPerSecond: number) => ({
    network: 'small-cnn',
    operator,
    step,
    batch: 128,
    imagesPerSecond,
  });

  it('median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('pairs rounds: the ratio is the median of per-round ratios, not a ratio of medians', () => {
    const ours = [[cell('standard', 'train', 100)], [cell('standard', 'train', 50)], [cell('standard', 'train', 90)]];
    const anchor = [[cell('standard', 'train', 100)], [cell('standard', 'train', 50)], [cell('standard', 'train', 100)]];
    const [s] = summarise(ours, anchor);
    expect(s!.ours).toBe(90);
    expect(s!.anchor).toBe(100);
    expect(s!.ratio).toBe(1); // rounds: 1.0, 1.0, 0.9
    expect(s!.ratioMin).toBeCloseTo(0.9);
    expect(s!.ratioMax).toBe(1);
    expect(s!.rounds).toBe(3);
  });

  it('formats one row per cell with the time relative to the standard operator', () => {
    const ours = [[cell('standard', 'forward', 200), cell('tanh-cosine', 'forward', 100)]];
    const anchor = [[cell('standard', 'forward', 100), cell('tanh-cosine', 'forward', 100)]];
    const text = formatSummary(summarise(ours, anchor), 'wasm', 'pytorch');
    expect(text).toContain('medians over 1 alternating rounds');
    expect(text).toMatch(/standard\s+forward\s+200\s+100\s+2\.00\s+2\.00-2\.00\s+1\.00x/);
    expect(text).toMatch(/tanh-cosine\s+forward\s+100\s+100\s+1\.00\s+1\.00-1\.00\s+2\.00x/);
  });
});
