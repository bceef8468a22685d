// The performance benchmark's steps: no tensor leaks over 100 steps, a well-formed JSON
// report. (Speed itself is measured by `npm run perf`, never asserted here.)
import { describe, expect, it } from 'vitest';
import { tf } from '../src/tf.js';
import { buildModel } from '../models/architectures.js';
import { makeStep, randomBatch, STEP_KINDS } from '../src/perf/steps.js';
import { runPerf } from '../src/perf/program.js';

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
