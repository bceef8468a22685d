// The signed-gradient ascent step shared by BIM and PGD.
import { tf } from '../src/tf.js';

export function signStep(stepSize: number) {
  return (xAdv: tf.Tensor4D, grad: tf.Tensor4D) => ({ x: tf.add(xAdv, tf.mul(tf.sign(grad), stepSize)) });
}
