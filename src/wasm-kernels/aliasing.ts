// Identity and same-type Cast as aliases of their input's data (reference-counted, as the
// cpu backend does) instead of the wasm backend's copies. Every ReLU gradient calls
// cast(step(x), 'float32') on float32 data, and tf.layers passes tensors through Identity:
// each was a full copy of an activation.
import { tf } from '../tf.js';
import { builtInKernel, type TensorInfo } from './wasm-backend.js';

interface AliasingBackend {
  incRef(dataId: object): void;
}

function alias(x: TensorInfo, backend: unknown): TensorInfo {
  (backend as AliasingBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

function identity(args: { inputs: { x: TensorInfo }; backend: unknown }): TensorInfo {
  const { x } = args.inputs;
  // Strings live outside the heap: the backend's own kernel handles them.
  if (x.dtype === 'string') return builtInKernel('Identity')(args as never) as TensorInfo;
  return alias(x, args.backend);
}

function cast(args: { inputs: { x: TensorInfo }; attrs: { dtype: string }; backend: unknown }): TensorInfo {
  const { x } = args.inputs;
  if (x.dtype === args.attrs.dtype && x.dtype !== 'string') return alias(x, args.backend);
  return builtInKernel('Cast')(args as never) as TensorInfo;
}

export const identityConfig: tf.KernelConfig = {
  kernelName: 'Identity',
  backendName: 'wasm',
  kernelFunc: identity as unknown as tf.KernelFunc,
};

export const castConfig: tf.KernelConfig = {
  kernelName: 'Cast',
  backendName: 'wasm',
  kernelFunc: cast as unknown as tf.KernelFunc,
};
