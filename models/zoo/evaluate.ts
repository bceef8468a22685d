// Clean accuracy and loss of a model on a dataset, in inference mode, batch by batch.
import { tf } from '../../src/tf.js';
import type { Tensor2D } from '../../src/tf.js';
import type { Dataset } from '../../src/data/index.js';
import { batchCount, gatherBatch, identityOrder } from './batches.js';
import { crossEntropy } from './step.js';

export interface CleanMetrics {
  accuracy: number;
  loss: number;
  count: number;
  correct: number;
}

export function evaluateClean(
  model: tf.LayersModel,
  data: Dataset,
  batchSize = 256,
  onBatch?: (done: number, total: number) => void,
): CleanMetrics {
  const order = identityOrder(data.count);
  const batches = batchCount(data.count, batchSize);
  let correct = 0;
  let lossSum = 0;
  for (let b = 0; b < batches; b++) {
    const { x, y } = gatherBatch(data, order, b, batchSize);
    const [c, l] = tf.tidy(() => {
      const logits = model.apply(x, { training: false }) as Tensor2D;
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'int32'));
      return [hits, tf.sum(crossEntropy(logits, y, 0))];
    });
    correct += c!.dataSync()[0]!;
    lossSum += l!.dataSync()[0]!;
    tf.dispose([x, y, c!, l!]);
    onBatch?.(b + 1, batches);
  }
  return { accuracy: correct / data.count, loss: lossSum / data.count, count: data.count, correct };
}
