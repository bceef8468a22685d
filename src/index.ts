// Public library API of dcnet-robustness.
export { tf } from './tf.js';
export * from './backend.js';
export * from './ops/options.js';
export {
  decoupledConv2d,
  decoupledParts,
  combineParts,
  cosine,
  magnitudeFn,
  angularFn,
  patchNorm,
  filterNorm,
  NORM_EPSILON,
  ACOS_MARGIN,
  type DecoupledParts,
  type Radius,
} from './ops/decoupled.js';
export { DecoupledConv2D, decoupledConv2dLayer, type DecoupledConv2DArgs } from './layers/decoupled-conv2d.js';
export {
  projectWeights,
  WeightProjection,
  weightProjectionCallback,
  decoupledLayers,
} from './layers/weight-projection.js';
export { VERSION } from './version.js';
export { UserError, UsageError } from './errors.js';
export { saveModel, loadModel, fileSaveHandler, fileLoadHandler, ModelFileError } from './io/fs-handler.js';
export * from './data/index.js';
export * from '../models/zoo/index.js';
export * from '../attacks/index.js';
export * from './eval/index.js';
