// Writes tiny datasets in the real file formats, from seeded random bytes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeCifar10, encodeIdx } from '../../src/data/index.js';
import { seededUniform } from './reference.js';

export interface Written {
  pixels: Uint8Array;
  labels: Uint8Array;
}

function bytes(count: number, seed: number, max: number): Uint8Array {
  return Uint8Array.from(seededUniform(count, seed, 0, max + 1), (v) => Math.floor(v));
}

/**
 * MNIST-style IDX files. With `learnable`, each image carries its class as a bright
 * horizontal bar (row = label) over noise, so a small network can learn it in a few steps.
 */
export function writeIdxDataset(
  dir: string,
  o: { train: number; test: number; side: number; gzip: boolean; seed: number; learnable?: boolean },
): { train: Written; test: Written } {
  const out = {} as { train: Written; test: Written };
  for (const [split, prefix, count] of [['train', 'train', o.train], ['test', 't10k', o.test]] as const) {
    const seed = o.seed * 10 + (split === 'train' ? 1 : 2);
    const labels = bytes(count, seed, 9);
    const pixels = bytes(count * o.side * o.side, seed + 5, o.learnable ? 80 : 255);
    if (o.learnable) {
      for (let i = 0; i < count; i++) {
        const row = Math.floor((labels[i]! * o.side) / 10);
        for (let c = 0; c < o.side; c++) pixels[(i * o.side + row) * o.side + c] = 255;
      }
    }
    const write = (name: string, data: Uint8Array): void =>
      writeFileSync(join(dir, o.gzip ? `${name}.gz` : name), o.gzip ? gzipSync(data) : data);
    write(`${prefix}-images-idx3-ubyte`, encodeIdx([count, o.side, o.side], pixels));
    write(`${prefix}-labels-idx1-ubyte`, encodeIdx([count], labels));
    out[split] = { pixels, labels };
  }
  return out;
}

/** CIFAR-10 binary batches: data_batch_1..5.bin with `perBatch` images each, test_batch.bin. */
export function writeCifarDataset(
  dir: string,
  o: { perBatch: number; test: number; seed: number },
): { train: Written; test: Written } {
  const px = 32 * 32 * 3;
  const train: Written = { pixels: bytes(5 * o.perBatch * px, o.seed, 255), labels: bytes(5 * o.perBatch, o.seed + 1, 9) };
  for (let b = 0; b < 5; b++) {
    const from = b * o.perBatch;
    writeFileSync(
      join(dir, `data_batch_${b + 1}.bin`),
      encodeCifar10(train.pixels.subarray(from * px, (from + o.perBatch) * px), train.labels.subarray(from, from + o.perBatch)),
    );
  }
  const test: Written = { pixels: bytes(o.test * px, o.seed + 2, 255), labels: bytes(o.test, o.seed + 3, 9) };
  writeFileSync(join(dir, 'test_batch.bin'), encodeCifar10(test.pixels, test.labels));
  return { train, test };
}

/** Class colours (RGB) of the learnable CIFAR fixture: ten well-separated hues. */
const FIXTURE_COLOURS: Array<[number, number, number]> = [
  [255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [255, 0, 255],
  [0, 255, 255], [255, 128, 0], [128, 0, 255], [255, 255, 255], [0, 128, 64],
];

/**
 * A learnable CIFAR-10 fixture in the real binary format: each image is dim noise with a
 * 10x10 blob of its class's colour at a random place, so cnn9/resnet32 can learn it from a
 * few hundred images. data_batch_1..5.bin hold `perBatch` images each, test_batch.bin `test`.
 */
export function writeCifarFixture(dir: string, o: { perBatch: number; test: number; seed: number }): { train: Written; test: Written } {
  const side = 32;
  const blob = 10;
  const make = (count: number, seed: number): Written => {
    const labels = bytes(count, seed, 9);
    const pixels = bytes(count * side * side * 3, seed + 5, 60);
    const places = bytes(count * 2, seed + 7, side - blob);
    for (let i = 0; i < count; i++) {
      const colour = FIXTURE_COLOURS[labels[i]!]!;
      for (let y = places[2 * i]!; y < places[2 * i]! + blob; y++)
        for (let x = places[2 * i + 1]!; x < places[2 * i + 1]! + blob; x++)
          for (let c = 0; c < 3; c++) pixels[((i * side + y) * side + x) * 3 + c] = colour[c]!;
    }
    return { pixels, labels };
  };
  const px = side * side * 3;
  const train = make(5 * o.perBatch, o.seed * 10 + 1);
  for (let b = 0; b < 5; b++) {
    const from = b * o.perBatch;
    writeFileSync(
      join(dir, `data_batch_${b + 1}.bin`),
      encodeCifar10(train.pixels.subarray(from * px, (from + o.perBatch) * px), train.labels.subarray(from, from + o.perBatch)),
    );
  }
  const test = make(o.test, o.seed * 10 + 2);
  writeFileSync(join(dir, 'test_batch.bin'), encodeCifar10(test.pixels, test.labels));
  return { train, test };
}
