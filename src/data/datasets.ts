// The datasets the toolkit knows: where their files live and how to read them. Pixels come
// out scaled to [0, 1]; any normalisation lives inside the model.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../version.js';
import { DataError } from './errors.js';
import { findDataFile, readDataFile } from './files.js';
import { parseIdx } from './idx.js';
import { parseCifar10 } from './cifar10.js';

export const DATASET_NAMES = ['fashion-mnist', 'fashion-mnist-embedded', 'mnist', 'cifar10'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];
export type Split = 'train' | 'test';

/** Raw decoded examples of one split, before scaling. */
export interface RawSplit {
  /** HWC pixels of every image, one after another. */
  pixels: Uint8Array;
  labels: Uint8Array;
  shape: [number, number, number];
  files: string[];
}

export interface DatasetSpec {
  name: DatasetName;
  numClasses: number;
  classNames: readonly string[];
  /** The Linf epsilon adversarial training uses by default (pixels in [0, 1]). */
  defaultEpsilon: number;
  /** Where the files are looked for without --data (undefined: --data is required). */
  defaultDir: string | undefined;
  /** Says where to get the files; ends every missing-file error. */
  hint: string;
  /** The official release's split sizes (a cost estimate before the files are there). */
  releaseSizes: { train: number; test: number };
  read(dir: string, split: Split): RawSplit;
}

const FASHION_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
] as const;
const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;
const CIFAR_CLASSES = [
  'airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck',
] as const;

/** Where Debian's dataset-fashion-mnist package installs the official files. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
export const EMBEDDED_DIR = join(PACKAGE_ROOT, 'data', 'fashion-mnist-embedded');

/** MNIST-style IDX files: `train-*` and `t10k-*` images (rank 3) and labels (rank 1). */
function readIdxSplit(dir: string, split: Split, hint: string): RawSplit {
  const prefix = split === 'train' ? 'train' : 't10k';
  const imagesFile = findDataFile(dir, `${prefix}-images-idx3-ubyte`, hint);
  const labelsFile = findDataFile(dir, `${prefix}-labels-idx1-ubyte`, hint);
  const images = parseIdx(readDataFile(imagesFile), 3, imagesFile);
  const labels = parseIdx(readDataFile(labelsFile), 1, labelsFile);
  const [n, h, w] = images.dims as [number, number, number];
  if (n !== labels.dims[0]) {
    throw new DataError(
      `Image and label counts differ: ${imagesFile} holds ${n} images but ${labelsFile} holds ` +
        `${labels.dims[0]} labels. The two files must come from the same release.`,
    );
  }
  return { pixels: images.data, labels: labels.data, shape: [h, w, 1], files: [imagesFile, labelsFile] };
}

/** CIFAR-10 binary batches, in `dir` or its `cifar-10-batches-bin` subfolder (the archive's). */
function readCifarSplit(dir: string, split: Split, hint: string): RawSplit {
  const nested = join(dir, 'cifar-10-batches-bin');
  const base = existsSync(join(dir, 'test_batch.bin')) || !existsSync(nested) ? dir : nested;
  const names = split === 'train' ? [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`) : ['test_batch.bin'];
  const files = names.map((name) => findDataFile(base, name, hint));
  const batches = files.map((file) => parseCifar10(readDataFile(file), file));
  const count = batches.reduce((a, b) => a + b.labels.length, 0);
  const pixels = new Uint8Array(batches.reduce((a, b) => a + b.pixels.length, 0));
  const labels = new Uint8Array(count);
  let p = 0;
  let l = 0;
  for (const b of batches) {
    pixels.set(b.pixels, p);
    labels.set(b.labels, l);
    p += b.pixels.length;
    l += b.labels.length;
  }
  return { pixels, labels, shape: [32, 32, 3], files };
}

const DATA_HINT = 'Give the folder that holds them with --data DIR.';

/** MNIST-like datasets: 10 classes, IDX files, Linf epsilon 0.1 by default. */
function idxDataset(name: DatasetName, classNames: readonly string[], defaultDir: string | undefined, hint: string): DatasetSpec {
  const releaseSizes = name === 'fashion-mnist-embedded' ? { train: 10000, test: 2000 } : { train: 60000, test: 10000 };
  return { name, numClasses: 10, classNames, defaultEpsilon: 0.1, defaultDir, hint, releaseSizes, read: (dir, split) => readIdxSplit(dir, split, hint) };
}

const CIFAR_HINT =
  `CIFAR-10: download and unpack the binary version ` +
  `(https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz: data_batch_1.bin ... data_batch_5.bin, ` +
  `test_batch.bin) and ${DATA_HINT}`;

export const DATASETS: Record<DatasetName, DatasetSpec> = {
  'fashion-mnist': idxDataset(
    'fashion-mnist',
    FASHION_CLASSES,
    DEBIAN_FASHION_MNIST_DIR,
    `The full Fashion-MNIST set: install Debian's dataset-fashion-mnist package (files in ` +
      `${DEBIAN_FASHION_MNIST_DIR}), or download the four *-ubyte.gz files from ` +
      `https://github.com/zalandoresearch/fashion-mnist and ${DATA_HINT} ` +
      `The committed subset needs no download: use the dataset fashion-mnist-embedded.`,
  ),
  'fashion-mnist-embedded': idxDataset(
    'fashion-mnist-embedded',
    FASHION_CLASSES,
    EMBEDDED_DIR,
    `The embedded subset ships with the toolkit in ${EMBEDDED_DIR}; the installation is incomplete.`,
  ),
  mnist: idxDataset(
    'mnist',
    DIGITS,
    undefined,
    `MNIST: download train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz ` +
      `and t10k-labels-idx1-ubyte.gz (e.g. from https://ossci-datasets.s3.amazonaws.com/mnist/) and ${DATA_HINT}`,
  ),
  cifar10: {
    name: 'cifar10',
    numClasses: 10,
    classNames: CIFAR_CLASSES,
    defaultEpsilon: 8 / 255,
    defaultDir: undefined,
    hint: CIFAR_HINT,
    releaseSizes: { train: 50000, test: 10000 },
    read: (dir, split) => readCifarSplit(dir, split, CIFAR_HINT),
  },
};

export function datasetSpec(name: string): DatasetSpec {
  const spec = DATASETS[name as DatasetName];
  if (!spec) {
    throw new DataError(`Unknown dataset '${name}'. Valid values: ${DATASET_NAMES.join(', ')}.`);
  }
  return spec;
}
