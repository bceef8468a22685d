// Trains a small TF.js model of your own (not from the zoo), saves it in the layers format and
// attacks it with the toolkit's evaluation engine. Run: node bring-your-own-model.mjs [out-dir]
// Then the same folder works with the CLI:
//   npx dcnet attack --model out-dir --dataset fashion-mnist-embedded --attack fgsm,pgd --eps 0,0.05,0.1
import { tf, initBackend, saveModel, loadModel } from 'dcnet-robustness';
import { loadDataset } from 'dcnet-robustness/data';
import { evaluate } from 'dcnet-robustness/eval';

const out = process.argv[2] ?? 'my-model';
await initBackend(); // the fastest backend that loads

// Pixels in [0, 1]: any normalisation goes inside the model, so attacks work in pixel units.
const train = loadDataset('fashion-mnist-embedded', { split: 'train', limit: 2000 });
const [h, w, c] = train.shape;
const x = tf.tensor4d(train.images, [train.labels.length, h, w, c]);
const y = tf.oneHot(tf.tensor1d(train.labels, 'int32'), train.numClasses);

const model = tf.sequential({
  layers: [
    // Inside the model: centre the pixels (here: (x - 0.5) / 0.5).
    tf.layers.rescaling({ inputShape: [h, w, c], scale: 2, offset: -1 }),
    tf.layers.conv2d({ filters: 8, kernelSize: 3, activation: 'relu' }),
    tf.layers.maxPooling2d({ poolSize: 2 }),
    tf.layers.flatten(),
    // The last layer outputs logits: no softmax (the engine refuses probabilities).
    tf.layers.dense({ units: train.numClasses }),
  ],
});
model.compile({ optimizer: tf.train.adam(3e-3), loss: tf.losses.softmaxCrossEntropy, metrics: ['accuracy'] });
await model.fit(x, y, { epochs: 2, batchSize: 64, verbose: 0 });
tf.dispose([x, y]);

await saveModel(model, out); // model.json + weights.bin
const loaded = await loadModel(out);

const test = loadDataset('fashion-mnist-embedded', { split: 'test', limit: 200 });
const result = await evaluate({
  model: loaded,
  name: out,
  images: test.images,
  labels: test.labels,
  shape: test.shape,
  attacks: [{ name: 'fgsm', epsilons: [0, 0.1] }],
});
const fgsm = result.attacks.find((a) => a.attack === 'fgsm');
console.log(JSON.stringify({ clean: result.clean.accuracy, robust: fgsm.results.map((r) => [r.epsilon, r.robust.accuracy]) }));
