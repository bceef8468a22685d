// The model zoo's library API: registry, training, loading and listing.
export { ZooError } from './errors.js';
export {
  TRAININGS,
  ZOO_OPERATORS,
  formatZooId,
  isZooId,
  parseZooId,
  zooEntries,
  type Training,
  type ZooId,
  type ZooEntryFilter,
} from './registry.js';
export {
  DEFAULT_EPOCHS,
  PGD_AT_REL_STEP,
  PGD_AT_STEPS,
  resolveRecipe,
  type AdversarialRecipe,
  type OperatorOptions,
  type RecipeOverrides,
  type TrainingRecipe,
} from './recipe.js';
export { trainModel, TrainingAborted, type TrainOptions, type TrainProgress, type TrainResult } from './train.js';
export { evaluateClean, type CleanMetrics } from './evaluate.js';
export {
  DEFAULT_ZOO_DIR,
  listZoo,
  loadZooModel,
  locateModel,
  modelDir,
  resolveZooDir,
  verifyZooModel,
  type ZooListing,
} from './store.js';
export {
  MANIFEST_FORMAT,
  MANIFEST_JSON,
  MANIFEST_VERSION,
  readManifest,
  type ZooManifest,
} from './manifest.js';
export { CHECKPOINT_FILE, type EpochRecord } from './checkpoint.js';
export { Adam } from './adam.js';
export { AUGMENTATIONS, cropFlipBatch, cropFlipImage, reflectIndex, type Augmentation } from './augment.js';
