// Attacks a TF.js graph model (model.json with "format": "graph-model", e.g. from
// tensorflowjs_converter) on a dataset of the toolkit. Run: node attack-graph-model.mjs DIR [dataset]
import { tf, initBackend, fileLoadHandler } from 'dcnet-robustness';
import { loadDataset } from 'dcnet-robustness/data';
import { evaluate } from 'dcnet-robustness/eval';

const [dir, datasetName = 'fashion-mnist-embedded'] = process.argv.slice(2);
await initBackend();

const graph = await tf.loadGraphModel(fileLoadHandler(dir));
// The attacks need a function from a batch of images in [0, 1] to logits [batch, classes].
// If the graph ends in a softmax, take the tensor before it: graph.execute(x, 'name_of_logits').
const logits = (x) => graph.predict(x);

const test = loadDataset(datasetName, { split: 'test', limit: 200 });
const result = await evaluate({
  logits,
  name: dir,
  images: test.images,
  labels: test.labels,
  shape: test.shape,
  attacks: [{ name: 'pgd', epsilons: [0, 0.05, 0.1], params: { steps: 5 } }],
});
const pgd = result.attacks.find((a) => a.attack === 'pgd');
console.log(JSON.stringify({ clean: result.clean.accuracy, robust: pgd.results.map((r) => [r.epsilon, r.robust.accuracy]) }));
