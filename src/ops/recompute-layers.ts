// A functional model's training-mode forward pass that keeps little for the backward pass.
// TF.js keeps, until a whole gradient is done, every tensor an op saved and every intermediate
// gradient. Batch normalisation saves three full-size tensors per layer (x - mean, its square,
// the normalised output), ReLU and the residual add their inputs: about nine activations per
// residual unit of resnet32, then as many gradients, which at batch 128 did not fit the wasm
// backend's 4 GiB heap. Here a residual unit is one recomputed op (it keeps its input; the
// backward pass runs the unit again, one unit at a time), and so is each run of cheap layers
// between two convolutions (BN + ReLU keep the convolution's output only).
import { tf } from '../tf.js';
import type { Tensor } from '../tf.js';
import { withRecomputedGradient } from './recompute.js';

/**
 * Layers that are cheap and deterministic, so running them twice costs little and gives the
 * same values (batch statistics, not moving ones, in training mode). Everything else
 * (convolutions, dense layers, anything random) runs once and keeps what TF.js keeps.
 */
const RECOMPUTED = new Set([
  'BatchNormalization',
  'ReLU',
  'Activation',
  'Add',
  'MaxPooling2D',
  'AveragePooling2D',
  'GlobalAveragePooling2D',
  'Rescaling',
  'Reshape',
  'Flatten',
]);

type Layer = tf.layers.Layer;
type SymbolicTensor = tf.SymbolicTensor;

/** The graph node that calls a layer inside the model (tfjs-layers' Node, fields used here). */
interface LayerNode {
  inputTensors: SymbolicTensor[];
  outputTensors: SymbolicTensor[];
}

/** One step of the plan: layers run in order, as one recomputed op or one by one. */
export interface PlanStep {
  layers: Layer[];
  /** Run as one op whose intermediates are recomputed in the backward pass. */
  recomputed: boolean;
  /** How a recomputed step runs its layers (its own cheap runs recomputed again). */
  inner?: PlanStep[];
  /** Ids of the symbolic tensors the step reads from earlier steps (or the model input). */
  inputs: number[];
  /** Ids of the symbolic tensors later steps (or the model's output) read from it. */
  outputs: number[];
}

/** The node that calls `layer` in this model; undefined when it is called more than once. */
function nodeOf(layer: Layer): LayerNode | undefined {
  const nodes = (layer as unknown as { inboundNodes: LayerNode[] }).inboundNodes;
  return nodes.length === 1 ? nodes[0] : undefined;
}

const cheap = (l: Layer) => RECOMPUTED.has(l.getClassName());

/** The model's layers in topological order, with what each reads and who reads what. */
class LayerGraph {
  readonly layers: Layer[];
  private readonly nodes: LayerNode[];
  private readonly produced = new Map<number, number>(); // symbolic tensor -> layer making it
  private readonly lastRead = new Map<number, number>(); // symbolic tensor -> last layer reading it
  private readonly output: number;

  constructor(layers: Layer[], nodes: LayerNode[], output: number) {
    this.layers = layers;
    this.nodes = nodes;
    this.output = output;
    nodes.forEach((n, i) => n.outputTensors.forEach((t) => this.produced.set(t.id, i)));
    nodes.forEach((n, i) => n.inputTensors.forEach((t) => this.lastRead.set(t.id, i)));
  }

  /** Whether layers [from, to) leave exactly one tensor to the layers after them. */
  isCut(to: number): boolean {
    let live = 0;
    for (let i = 0; i < to; i++) {
      for (const t of this.nodes[i]!.outputTensors) if (t.id === this.output || (this.lastRead.get(t.id) ?? -1) >= to) live++;
    }
    return live === 1;
  }

  /** Layers [from, to) as one step. */
  step(from: number, to: number, recomputed: boolean, inner?: PlanStep[]): PlanStep {
    const inside = (i: number | undefined) => i !== undefined && i >= from && i < to;
    const inputs = new Set<number>();
    const outputs = new Set<number>();
    for (let i = from; i < to; i++) {
      for (const t of this.nodes[i]!.inputTensors) if (!inside(this.produced.get(t.id))) inputs.add(t.id);
      for (const t of this.nodes[i]!.outputTensors) {
        if (t.id === this.output || (this.lastRead.get(t.id) ?? -1) >= to) outputs.add(t.id);
      }
    }
    return { layers: this.layers.slice(from, to), recomputed: recomputed && outputs.size === 1, inner, inputs: [...inputs], outputs: [...outputs] };
  }

  /** Layers [from, to): each run of cheap layers one recomputed step, every other layer its own. */
  cheapRuns(from: number, to: number): PlanStep[] {
    const steps: PlanStep[] = [];
    for (let i = from; i < to; ) {
      let end = i;
      while (end < to && cheap(this.layers[end]!)) end++;
      if (end === i) end = i + 1;
      const run = this.step(i, end, end > i + 1 || cheap(this.layers[i]!));
      // A run that leaves several tensors behind is not one op: its layers run one by one.
      if (run.recomputed || run.layers.length === 1) steps.push(run);
      else for (let j = i; j < end; j++) steps.push(this.step(j, j + 1, false));
      i = end;
    }
    return steps;
  }
}

/**
 * The plan of a training-mode forward pass. The model is cut where a single tensor connects
 * what comes before to what comes after (between residual units, between the layers of a
 * plain chain). A block between two cuts that branches (a residual unit), with the cheap
 * layers right after it, is one recomputed step; inside it, and between single convolutions,
 * each run of cheap layers is one recomputed step; convolutions and other layers run once.
 * Undefined for a model whose layers are shared or nested, or with several inputs or outputs
 * (then `model.apply` is used).
 */
export function trainingPlan(model: tf.LayersModel): PlanStep[] | undefined {
  if (!plans.has(model)) plans.set(model, makePlan(model));
  return plans.get(model);
}

const plans = new WeakMap<tf.LayersModel, PlanStep[] | undefined>();

function makePlan(model: tf.LayersModel): PlanStep[] | undefined {
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  const nodes = layers.map(nodeOf);
  if (nodes.some((n) => n === undefined) || model.inputs.length !== 1 || model.outputs.length !== 1) return undefined;
  const graph = new LayerGraph(layers, nodes as LayerNode[], model.outputs[0]!.id);
  const steps: PlanStep[] = [];
  let chain = 0; // start of the current stretch of single-layer blocks
  const endChain = (at: number) => {
    steps.push(...graph.cheapRuns(chain, at));
    chain = at;
  };
  for (let from = 0, to = 1; to <= layers.length; to++) {
    if (to < layers.length && !graph.isCut(to)) continue;
    if (to - from > 1 && !layers.slice(from, to).every(cheap)) {
      // The cheap layers right after the block (the unit's last ReLU) join it.
      while (to < layers.length && cheap(layers[to]!) && graph.isCut(to + 1)) to++;
      endChain(from);
      steps.push(graph.step(from, to, true, graph.cheapRuns(from, to)));
      chain = to;
    }
    from = to;
  }
  endChain(layers.length);
  return steps;
}

/** Calls the layers in order, as tfjs-layers' executor does in training mode. */
function runLayers(layers: Layer[], values: Map<number, Tensor>): void {
  for (const layer of layers) {
    const node = nodeOf(layer)!;
    const inputs = node.inputTensors.map((t) => values.get(t.id)!);
    const out = layer.apply(inputs, { training: true }) as Tensor | Tensor[];
    const outs = Array.isArray(out) ? out : [out];
    node.outputTensors.forEach((t, i) => values.set(t.id, outs[i]!));
  }
}

/** The trainable (gradient) and state (moving statistics) variables of some layers. */
function variablesOf(layers: Layer[]): { variables: tf.Variable[]; state: tf.Variable[] } {
  const read = (ws: { read(): Tensor }[]) => ws.map((w) => w.read() as tf.Variable);
  return {
    variables: layers.flatMap((l) => read(l.trainableWeights)),
    state: layers.flatMap((l) => read(l.nonTrainableWeights)),
  };
}

/** Runs the steps: plain ones layer by layer, recomputed ones as one op each. */
function runSteps(steps: PlanStep[], values: Map<number, Tensor>): void {
  for (const step of steps) {
    if (!step.recomputed) {
      runLayers(step.layers, values);
      continue;
    }
    const [output] = step.outputs;
    const inner = step.inner ?? [{ ...step, recomputed: false }];
    const run = (...ins: Tensor[]): Tensor => {
      const local = new Map(step.inputs.map((id, i) => [id, ins[i]!]));
      runSteps(inner, local);
      return local.get(output!)!;
    };
    const inputs = step.inputs.map((id) => values.get(id)!);
    values.set(output!, withRecomputedGradient(run, inputs, variablesOf(step.layers)));
  }
}

/**
 * `model.apply(x, { training: true })`, the same values and gradients, with residual units
 * and the cheap layers between convolutions recomputed in the backward pass (see the top of
 * this file). Models the plan cannot follow run as `model.apply`.
 */
export function applyForTraining(model: tf.LayersModel, x: Tensor): Tensor {
  const plan = trainingPlan(model);
  if (!plan) return model.apply(x, { training: true }) as Tensor;
  return tf.tidy(() => {
    const values = new Map<number, Tensor>([[model.inputs[0]!.id, x]]);
    runSteps(plan, values);
    return values.get(model.outputs[0]!.id)!;
  });
}
