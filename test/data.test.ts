// Dataset readers: IDX (raw and gzip) and CIFAR-10 binary, every documented error, the
// embedded subset.
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEBIAN_FASHION_MNIST_DIR,
  encodeCifar10,
  encodeIdx,
  loadDataset,
} from '../src/data/index.js';
import { expectDataError, writeIdxDataset, writeCifarDataset } from './helpers/datasets.js';

const root = mkdtempSync(join(tmpdir(), 'dcnet-data-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => {
  const dir = join(root, `d${n++}`);
  mkdirSync(dir);
  return dir;
};

describe('IDX reader', () => {
  for (const gzip of [false, true]) {
    it(`reads ${gzip ? 'gzipped' : 'raw'} files, scales pixels to [0, 1], keeps labels`, () => {
      const dir = fresh();
      const written = writeIdxDataset(dir, { train: 12, test: 5, side: 6, gzip, seed: 3 });
      const train = loadDataset('mnist', { data: dir, split: 'train' });
      expect(train.count).toBe(12);
      expect(train.shape).toEqual([6, 6, 1]);
      expect(train.numClasses).toBe(10);
      expect(train.images.length).toBe(12 * 36);
      expect(Array.from(train.labels)).toEqual(Array.from(written.train.labels));
      for (let i = 0; i < train.images.length; i++) expect(train.images[i]).toBe(Math.fround(written.train.pixels[i]! / 255));
      expect(Math.max(...train.images)).toBeLessThanOrEqual(1);
      const test = loadDataset('mnist', { data: dir, split: 'test', limit: 3 });
      expect(test.count).toBe(3);
      expect(test.labels.length).toBe(3);
      expect(test.images.length).toBe(3 * 36);
    });
  }

  it('checksums the decoded examples, so raw and gzip files agree', () => {
    const a = fresh();
    const b = fresh();
    writeIdxDataset(a, { train: 8, test: 4, side: 4, gzip: false, seed: 1 });
    writeIdxDataset(b, { train: 8, test: 4, side: 4, gzip: true, seed: 1 });
    const ha = loadDataset('mnist', { data: a, split: 'train' }).sha256;
    expect(ha).toMatch(/^[0-9a-f]{64}$/);
    expect(loadDataset('mnist', { data: b, split: 'train' }).sha256).toBe(ha);
    expect(loadDataset('mnist', { data: b, split: 'train', limit: 7 }).sha256).not.toBe(ha);
  });

  it('missing file: names both candidate paths and says how to fix it', () => {
    const dir = fresh();
    expectDataError(() => loadDataset('mnist', { data: dir, split: 'train' }), /train-images-idx3-ubyte/, /--data DIR/);
  });

  it('wrong magic number: shows found and expected', () => {
    const dir = fresh();
    writeIdxDataset(dir, { train: 4, test: 4, side: 4, gzip: false, seed: 1 });
    // A labels file where the images file should be.
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), encodeIdx([4], new Uint8Array(4)));
    expectDataError(
      () => loadDataset('mnist', { data: dir, split: 'train' }),
      /train-images-idx3-ubyte has the wrong magic number 0x00000801: expected 0x00000803/,
    );
  });

  it('truncated file: expected vs actual size', () => {
    const dir = fresh();
    writeIdxDataset(dir, { train: 4, test: 4, side: 4, gzip: true, seed: 1 });
    const full = encodeIdx([4, 4, 4], new Uint8Array(64));
    writeFileSync(join(dir, 't10k-images-idx3-ubyte.gz'), gzipSync(full.subarray(0, full.length - 10)));
    expectDataError(
      () => loadDataset('mnist', { data: dir, split: 'test' }),
      /t10k-images-idx3-ubyte\.gz is truncated: expected 80 bytes for 4 x 4 x 4 values, found 70/,
    );
  });

  it('trailing bytes are refused too', () => {
    const dir = fresh();
    writeIdxDataset(dir, { train: 4, test: 4, side: 4, gzip: false, seed: 1 });
    const extra = new Uint8Array([...encodeIdx([4], new Uint8Array(4)), 0, 0]);
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), extra);
    expectDataError(() => loadDataset('mnist', { data: dir, split: 'train' }), /2 bytes after/);
  });

  it('damaged gzip stream', () => {
    const dir = fresh();
    writeIdxDataset(dir, { train: 4, test: 4, side: 4, gzip: true, seed: 1 });
    const gz = gzipSync(encodeIdx([4], new Uint8Array(4)));
    writeFileSync(join(dir, 'train-labels-idx1-ubyte.gz'), gz.subarray(0, gz.length - 6));
    expectDataError(() => loadDataset('mnist', { data: dir, split: 'train' }), /damaged gzip/);
  });

  it('label outside the class range names the example and the file', () => {
    const dir = fresh();
    writeIdxDataset(dir, { train: 4, test: 4, side: 4, gzip: false, seed: 1 });
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), encodeIdx([4], new Uint8Array([1, 2, 10, 3])));
    expectDataError(
      () => loadDataset('mnist', { data: dir, split: 'train' }),
      /Label 10 of example 2 in .*train-labels-idx1-ubyte is outside the class range 0\.\.9/,
    );
  });

  it('image and label counts that differ', () => {
    const dir = fresh();
    writeIdxDataset(dir, { train: 4, test: 4, side: 4, gzip: false, seed: 1 });
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), encodeIdx([3], new Uint8Array(3)));
    expectDataError(() => loadDataset('mnist', { data: dir, split: 'train' }), /holds 4 images but .* holds 3 labels/);
  });

  it('bad names and options', () => {
    expectDataError(() => loadDataset('imagenet', { split: 'train' }), /Unknown dataset 'imagenet'.*fashion-mnist/);
    expectDataError(() => loadDataset('cifar10', { split: 'train' }), /no default location.*cifar-10-binary/);
    expectDataError(() => loadDataset('mnist', { data: fresh(), split: 'val' as never }), /Invalid split 'val'/);
    expectDataError(() => loadDataset('fashion-mnist-embedded', { split: 'train', limit: 0 }), /Invalid limit 0/);
  });
});

describe('CIFAR-10 binary reader', () => {
  it('reads 5 training batches and the test batch, planes to HWC', () => {
    const dir = fresh();
    const nested = join(dir, 'cifar-10-batches-bin');
    mkdirSync(nested);
    const written = writeCifarDataset(nested, { perBatch: 2, test: 3, seed: 4 });
    const train = loadDataset('cifar10', { data: dir, split: 'train' });
    expect(train.count).toBe(10);
    expect(train.shape).toEqual([32, 32, 3]);
    expect(Array.from(train.labels)).toEqual(Array.from(written.train.labels));
    // The pixel (row 1, col 2) of image 7, green channel.
    const idx = ((7 * 32 + 1) * 32 + 2) * 3 + 1;
    expect(train.images[idx]).toBe(Math.fround(written.train.pixels[idx]! / 255));
    const test = loadDataset('cifar10', { data: nested, split: 'test' });
    expect(test.count).toBe(3);
    expect(Array.from(test.labels)).toEqual(Array.from(written.test.labels));
  });

  it('reads the channel planes in R, G, B order', () => {
    const pixels = new Uint8Array(32 * 32 * 3);
    pixels[0] = 10; // red of pixel 0
    pixels[4] = 20; // green of pixel 1
    const rec = encodeCifar10(pixels, new Uint8Array([7]));
    expect(rec[0]).toBe(7);
    expect(rec[1]).toBe(10); // red plane, pixel 0
    expect(rec[1 + 1024 + 1]).toBe(20); // green plane, pixel 1
  });

  it('truncated batch and bad labels', () => {
    const dir = fresh();
    writeCifarDataset(dir, { perBatch: 2, test: 2, seed: 4 });
    writeFileSync(join(dir, 'test_batch.bin'), new Uint8Array(3073 * 2 - 5));
    expectDataError(() => loadDataset('cifar10', { data: dir, split: 'test' }), /test_batch\.bin is truncated/, /6141 bytes/);
    const bad = encodeCifar10(new Uint8Array(32 * 32 * 3), new Uint8Array([11]));
    writeFileSync(join(dir, 'test_batch.bin'), bad);
    expectDataError(() => loadDataset('cifar10', { data: dir, split: 'test' }), /Label 11 of example 0/);
    rmSync(join(dir, 'data_batch_4.bin'));
    expectDataError(() => loadDataset('cifar10', { data: dir, split: 'train' }), /data_batch_4\.bin/);
  });
});

describe('embedded Fashion-MNIST subset', () => {
  it('ships 10,000 training and 2,000 test images, every class present', () => {
    const train = loadDataset('fashion-mnist-embedded', { split: 'train' });
    const test = loadDataset('fashion-mnist-embedded', { split: 'test' });
    expect([train.count, test.count]).toEqual([10000, 2000]);
    expect(train.shape).toEqual([28, 28, 1]);
    for (const d of [train, test]) {
      const counts = new Array(10).fill(0);
      d.labels.forEach((l) => counts[l]++);
      expect(Math.min(...counts)).toBeGreaterThan(d.count / 20);
    }
    expect(train.sha256).toBe('b134f74849da1a1bcd32ee8c73b764a5657b0f25350e9ed3b4a4e8cb8505b14b');
  });

  it.skipIf(!existsSync(join(DEBIAN_FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz')))(
    'equals the first examples of the official files',
    () => {
      for (const [split, limit] of [['train', 10000], ['test', 2000]] as const) {
        const official = loadDataset('fashion-mnist', { split, limit });
        expect(loadDataset('fashion-mnist-embedded', { split }).sha256).toBe(official.sha256);
      }
    },
  );
});
