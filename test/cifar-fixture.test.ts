// The learnable CIFAR-10 fixture: valid binary batches the reader takes, structure a network
// can learn, and the reader's error paths on corrupted copies of it.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataError, loadDataset } from '../src/data/index.js';
import { writeCifarFixture } from './helpers/datasets.js';

const root = mkdtempSync(join(tmpdir(), 'dcnet-cifar-fixture-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fixture = join(root, 'fixture');
mkdirSync(fixture);
const written = writeCifarFixture(fixture, { perBatch: 40, test: 60, seed: 3 });

/** A copy of the fixture to damage. */
function copy(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir);
  for (const f of readdirSync(fixture)) copyFileSync(join(fixture, f), join(dir, f));
  return dir;
}

function expectDataError(fn: () => unknown, ...patterns: RegExp[]): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(DataError);
  for (const p of patterns) expect((err as Error).message).toMatch(p);
}

describe('CIFAR-10 fixture', () => {
  it('is read back exactly by the CIFAR-10 reader', () => {
    const train = loadDataset('cifar10', { data: fixture, split: 'train' });
    const test = loadDataset('cifar10', { data: fixture, split: 'test' });
    expect([train.count, test.count]).toEqual([200, 60]);
    expect(Array.from(train.labels)).toEqual(Array.from(written.train.labels));
    expect(test.images[1234]).toBe(Math.fround(written.test.pixels[1234]! / 255));
    // Every class appears in training.
    expect(new Set(train.labels).size).toBe(10);
  });

  it('has learnable structure: the brightest-colour rule classifies every test image', () => {
    // Independent of any network: find the pixel values above the noise ceiling (60) and
    // match their colour to the class colours; this must recover every label.
    const test = loadDataset('cifar10', { data: fixture, split: 'test' });
    const colours = new Map<string, number>();
    const trainSet = loadDataset('cifar10', { data: fixture, split: 'train' });
    const colourOf = (images: Float32Array, i: number): string => {
      for (let p = 0; p < 32 * 32; p++) {
        const rgb = [0, 1, 2].map((c) => Math.round(images[(i * 1024 + p) * 3 + c]! * 255));
        if (rgb.some((v) => v > 60)) return rgb.join(',');
      }
      return 'none';
    };
    for (let i = 0; i < trainSet.count; i++) colours.set(colourOf(trainSet.images, i), trainSet.labels[i]!);
    expect(colours.size).toBe(10);
    let correct = 0;
    for (let i = 0; i < test.count; i++) correct += colours.get(colourOf(test.images, i)) === test.labels[i] ? 1 : 0;
    expect(correct).toBe(test.count);
  });

  it('corrupted copies: truncated, grown, empty, bad label, missing batch', () => {
    const truncated = copy('truncated');
    truncateSync(join(truncated, 'data_batch_3.bin'), 3073 * 40 - 100);
    expectDataError(() => loadDataset('cifar10', { data: truncated, split: 'train' }), /data_batch_3\.bin is truncated/, /multiple of the 3073-byte record/);

    const grown = copy('grown');
    writeFileSync(join(grown, 'test_batch.bin'), Buffer.concat([readFileSync(join(grown, 'test_batch.bin')), Buffer.alloc(7)]));
    expectDataError(() => loadDataset('cifar10', { data: grown, split: 'test' }), /test_batch\.bin is truncated or not a CIFAR-10 binary batch/);

    const empty = copy('empty');
    writeFileSync(join(empty, 'data_batch_1.bin'), new Uint8Array(0));
    expectDataError(() => loadDataset('cifar10', { data: empty, split: 'train' }), /data_batch_1\.bin/);

    const badLabel = copy('bad-label');
    const bytes = readFileSync(join(badLabel, 'test_batch.bin'));
    bytes[3073 * 5] = 200; // the label byte of record 5
    writeFileSync(join(badLabel, 'test_batch.bin'), bytes);
    expectDataError(() => loadDataset('cifar10', { data: badLabel, split: 'test' }), /Label 200 of example 5/, /outside the class range 0\.\.9/);

    const missing = copy('missing');
    rmSync(join(missing, 'data_batch_5.bin'));
    expectDataError(() => loadDataset('cifar10', { data: missing, split: 'train' }), /data_batch_5\.bin/, /cifar-10-binary/);
    // The test split does not need the training batches.
    expect(loadDataset('cifar10', { data: missing, split: 'test' }).count).toBe(60);
  });
});
