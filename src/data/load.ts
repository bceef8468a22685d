// loadDataset: one split of a dataset as float pixels in [0, 1], checked and checksummed.
import { createHash } from 'node:crypto';
import { DataError } from './errors.js';
import { datasetSpec, type DatasetName, type Split } from './datasets.js';

export interface Dataset {
  name: DatasetName;
  split: Split;
  /** N*H*W*C pixels in [0, 1], NHWC. */
  images: Float32Array;
  labels: Int32Array;
  count: number;
  shape: [number, number, number];
  numClasses: number;
  classNames: readonly string[];
  /** The folder the files were read from. */
  source: string;
  files: string[];
  /**
   * sha256 of the returned examples' bytes (uint8 pixels, then uint8 labels), independent of
   * compression: the embedded subset has the same checksum as the official set with the
   * same limit.
   */
  sha256: string;
}

/** The part of a dataset an evaluation step reads: pixels, labels, image shape and count. */
export type TestPoints = Pick<Dataset, 'images' | 'labels' | 'shape' | 'count'>;

export interface LoadDatasetOptions {
  /** Folder with the dataset's files (default: the dataset's default place). */
  data?: string;
  split: Split;
  /** Keep only the first `limit` examples. */
  limit?: number;
}

export function loadDataset(name: string, options: LoadDatasetOptions): Dataset {
  const spec = datasetSpec(name);
  const { split, limit } = options;
  if (split !== 'train' && split !== 'test') {
    throw new DataError(`Invalid split '${String(split)}'. Valid values: train, test.`);
  }
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
    throw new DataError(`Invalid limit ${String(limit)}: it must be a positive integer.`);
  }
  const dir = options.data ?? spec.defaultDir;
  if (dir === undefined) {
    throw new DataError(`The dataset ${name} has no default location. ${spec.hint}`);
  }
  const raw = spec.read(dir, split);
  const total = raw.labels.length;
  const count = limit === undefined ? total : Math.min(limit, total);
  const pixelsPerImage = raw.shape[0] * raw.shape[1] * raw.shape[2];
  const pixels = raw.pixels.subarray(0, count * pixelsPerImage);
  const labelBytes = raw.labels.subarray(0, count);

  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = labelBytes[i]!;
    if (label >= spec.numClasses) {
      throw new DataError(
        `Label ${label} of example ${i} in ${raw.files[raw.files.length - 1]} is outside the class range ` +
          `0..${spec.numClasses - 1} of ${name}: the file is damaged or belongs to another dataset.`,
      );
    }
    labels[i] = label;
  }
  const images = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) images[i] = pixels[i]! / 255;
  const sha256 = createHash('sha256').update(pixels).update(labelBytes).digest('hex');
  return {
    name: spec.name,
    split,
    images,
    labels,
    count,
    shape: raw.shape,
    numClasses: spec.numClasses,
    classNames: spec.classNames,
    source: dir,
    files: raw.files,
    sha256,
  };
}
