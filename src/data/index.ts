// Datasets: IDX (MNIST, Fashion-MNIST) and CIFAR-10 binary readers, the embedded subset.
export { DataError } from './errors.js';
export {
  DATASETS,
  DATASET_NAMES,
  DEBIAN_FASHION_MNIST_DIR,
  EMBEDDED_DIR,
  datasetSpec,
  type DatasetName,
  type DatasetSpec,
  type Split,
} from './datasets.js';
export { loadDataset, type Dataset, type LoadDatasetOptions } from './load.js';
export { parseIdx, encodeIdx, type IdxArray } from './idx.js';
export { parseCifar10, encodeCifar10 } from './cifar10.js';
