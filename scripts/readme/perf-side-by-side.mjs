// README block `perf-side-by-side`: the side-by-side measurements against the PyTorch anchor,
// rendered from the artifacts `npm run perf:side-by-side -- ... --save FILE` writes
// (docs/perf/side-by-side.json: small-cnn, every anchor configuration and the whole machine;
// and, where present: side-by-side-quick.json (every operator of the quick profile),
// side-by-side-paper.json (cnn9 and resnet32), and each again with ours running the opt-in
// Winograd kernel, `--with winograd`: side-by-side-winograd.json, -quick-winograd, -paper-winograd).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const SIDE_BY_SIDE_FILES = [
  'docs/perf/side-by-side.json',
  'docs/perf/side-by-side-quick.json',
  'docs/perf/side-by-side-paper.json',
  'docs/perf/side-by-side-winograd.json',
  'docs/perf/side-by-side-quick-winograd.json',
  'docs/perf/side-by-side-paper-winograd.json',
];

const STEP_NAMES = { train: 'train', forward: 'forward', inputGradient: 'input gradient' };
/** The passes of a convolution layer timed alone. */
const PASS_NAMES = { forward: 'forward', inputGradient: 'input gradient', filterGradient: 'filter gradient' };

const int = (v) => Math.round(v).toLocaleString('en-US');
/** Images per second: whole numbers, but a decimal below 100 (the paper networks run a few a second). */
const rate = (v) => (v >= 100 ? int(v) : v.toFixed(1));
const ratio = (c) => `**${c.ratio.toFixed(2)}x** (${c.ratioMin.toFixed(2)}-${c.ratioMax.toFixed(2)})`;

/** "tuned-2" -> "tuned, 2 threads" */
function anchorName(id) {
  const [allocator, threads] = id.split('-');
  return `${allocator}, ${threads} thread${threads === '1' ? '' : 's'}`;
}

function read(root, file, artifactError) {
  let a;
  try {
    a = JSON.parse(readFileSync(join(root, file), 'utf8'));
  } catch (err) {
    throw artifactError(file, `cannot be read (${err.message})`);
  }
  if (!a?.machine || !a?.settings || !Array.isArray(a?.networks) || !Array.isArray(a?.anchors) || a.anchors.length === 0) {
    throw artifactError(file, 'not a side-by-side artifact (machine, settings, anchors, networks)');
  }
  return a;
}

/** The opt-in kernels our runs had (`wasm+winograd`, `wasm+winograd-2-workers`): ", winograd" or "". */
function optIn(n) {
  const kernels = Object.entries(n.backends)
    .filter(([id]) => id.startsWith('ours'))
    .flatMap(([, b]) => b.replace(/-\d+-workers$/, '').split('+').slice(1));
  return [...new Set(kernels)].map((k) => `, ${k}`).join('');
}

/** One table per network: a row per operator and step, a column per comparison. */
function networkTable(n, kind) {
  const comps = n.comparisons.filter((c) => c.kind === kind);
  if (comps.length === 0) return [];
  const oursLabel = (kind === 'one core' ? 'ours, 1 core' : `ours, ${n.backends[comps[0].ours].match(/(\d+)-workers$/)?.[1] ?? '?'} workers`) + optIn(n);
  const header = ['operator', 'step', `${oursLabel} (img/s)`, ...comps.map((c) => `anchor ${anchorName(c.anchor)}`)];
  const rows = comps[0].cells.map((cell, i) => [
    cell.operator,
    STEP_NAMES[cell.step] ?? cell.step,
    rate(cell.ours),
    ...comps.map((c) => `${rate(c.cells[i].anchor)}: ${ratio(c.cells[i])}`),
  ]);
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

/** Across operators, the range of the one-core medians against the 1-thread tuned anchor, per step. */
function medianSpread(n) {
  const comp = n.comparisons.find((c) => c.kind === 'one core' && c.anchor === 'tuned-1');
  if (!comp || new Set(comp.cells.map((c) => c.operator)).size < 2) return undefined;
  const steps = [...new Set(comp.cells.map((c) => c.step))];
  const parts = steps.map((step) => {
    const ratios = comp.cells.filter((c) => c.step === step).map((c) => c.ratio);
    return `${STEP_NAMES[step] ?? step} ${range(ratios, (v) => v.toFixed(2))}x`;
  });
  return `Medians against the tuned 1-thread anchor, lowest to highest over the ${new Set(comp.cells.map((c) => c.operator)).size} operators: ${parts.join(', ')}.`;
}

/** The convolution layers alone (if measured): ms per call and GFLOP/s of each side, the ratio. */
function convolutionTable(n) {
  const comps = n.convolutions ?? [];
  if (comps.length === 0) return [];
  const timing = (flops, ms) => `${ms.toFixed(2)} ms (${(flops / ms / 1e6).toFixed(1)})`;
  const header = ['layer (batch x input : filter)', 'pass', 'ours, 1 core', ...comps.map((c) => `anchor ${anchorName(c.anchor)}`)];
  const rows = comps[0].cells.map((cell, i) => [
    `\`${cell.convolution.replace(/:s1:same$/, '')}\`${cell.layers > 1 ? ` (${cell.layers} layers)` : ''}`,
    PASS_NAMES[cell.pass] ?? cell.pass,
    timing(cell.flops, cell.oursMs),
    ...comps.map((c) => `${timing(c.cells[i].flops, c.cells[i].anchorMs)}: ${ratio(c.cells[i])}`),
  ]);
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

/** The layer with the most FLOPs: how near our passes come to the ceiling, and the anchor's speed on it. */
function largestLayerLine(n, ceiling) {
  const comp = n.convolutions[0];
  const largest = comp.cells.reduce((a, b) => (b.flops > a.flops ? b : a)).convolution;
  const cells = comp.cells.filter((c) => c.convolution === largest);
  const ofCeiling = cells.map((c) => c.flops / c.oursMs / 1e6 / ceiling.registers);
  const anchorSpeed = cells.map((c) => c.oursMs / c.anchorMs);
  return (
    `The largest layer (\`${largest}\`): our three passes at ${range(ofCeiling, (v) => `${Math.round(100 * v)}`)}% of the SIMD ceiling below; ` +
    `the anchor (${anchorName(comp.anchor)}) runs them ${range(anchorSpeed, (v) => v.toFixed(1))}x as fast as ours.`
  );
}

/** Whether the artifact says how many layers each shape has (artifacts before it did not). */
const comps0HaveLayers = (n) => n.convolutions[0].cells.every((c) => Number.isInteger(c.layers));

/**
 * The passes of each layer a step runs (a sequential network whose first layer takes the image):
 * training needs no input gradient of the first layer, the input gradient no filter gradient.
 */
const STEP_PASSES = {
  train: (first) => (first ? ['forward', 'filterGradient'] : ['forward', 'inputGradient', 'filterGradient']),
  inputGradient: () => ['forward', 'inputGradient'],
};

/**
 * What the convolutions' gap is worth in a whole step (standard operator, one core): the
 * layers' fastest calls added up on each side, and the step ours would take with the anchor's.
 */
function stepShareLine(n) {
  const comp = n.convolutions[0];
  const steps = n.comparisons.find((c) => c.kind === 'one core' && c.anchor === comp.anchor);
  const layers = [...new Set(comp.cells.map((c) => c.convolution))];
  const parts = [];
  for (const [step, passes] of Object.entries(STEP_PASSES)) {
    const cell = steps?.cells.find((c) => c.operator === 'standard' && c.step === step);
    if (!cell) continue;
    const cells = comp.cells.filter((c) => passes(c.convolution === layers[0]).includes(c.pass));
    const ours = cells.reduce((t, c) => t + c.layers * c.oursMs, 0);
    const anchor = cells.reduce((t, c) => t + c.layers * c.anchorMs, 0);
    const oursStep = (1000 * n.batch) / cell.ours;
    const anchorStep = (1000 * n.batch) / cell.anchor;
    const swapped = oursStep - ours + anchor;
    parts.push(
      `${STEP_NAMES[step]}: ${ours.toFixed(0)} of our ${oursStep.toFixed(0)} ms per step and ${anchor.toFixed(0)} of the anchor's ${anchorStep.toFixed(0)} ms; ` +
        `with the anchor's convolution times, our step would take about ${swapped.toFixed(0)} ms (${(anchorStep / swapped).toFixed(2)}x the anchor's speed)`,
    );
  }
  if (parts.length === 0) return undefined;
  return (
    `The convolutions' fastest calls in a step of the standard operator (batch ${n.batch}, every layer's passes once, against the medians ` +
    `of the steps above; where our step runs layers again in its backward pass, as resnet32's residual units, ours is more): ${parts.join('; ')}.`
  );
}

/** Our measured SIMD ceiling and the anchor's vector instructions: what bounds each side's convolutions. */
function ceilingLine(a) {
  const capability = [...new Set(a.anchors.map((x) => x.cpuCapability).filter(Boolean))].join(', ') || 'not recorded';
  const c = a.simdCeiling;
  return (
    `GFLOP/s in brackets. Ours: 128-bit wasm SIMD without fused multiply-add, whose ceiling on this core measured ` +
    `${c.registers.toFixed(1)} GFLOP/s (f32x4 multiply + add from registers; ${c.l1Loads.toFixed(1)} with the direct convolution's loads from L1; ` +
    `medians of ${c.measurements} measurements in this run). The anchor: PyTorch's CPU kernels dispatched to ${capability} ` +
    `(its \`torch.__config__.show()\`; oneDNN's convolutions use the same vectors).`
  );
}

/** "lo-hi" of the formatted extremes, or one value where they format the same. */
function range(xs, fmt) {
  const [lo, hi] = [fmt(Math.min(...xs)), fmt(Math.max(...xs))];
  return lo === hi ? lo : `${lo}-${hi}`;
}

/** Whether the allocator setting took effect: the anchor's system time and page faults per step. */
function allocatorLine(n) {
  const parts = Object.entries(n.anchorRusage).map(
    ([id, cells]) =>
      `${anchorName(id)}: ${range(cells.map((c) => c.systemSeconds), (v) => v.toFixed(3))} s system time and ` +
      `${range(cells.map((c) => c.minorFaults), int)} page faults per step`,
  );
  return `The anchor's allocator (range over the cells of each configuration's median per step): ${parts.join('; ')}.`;
}

function render(a, file) {
  const s = a.settings;
  const torch = a.anchors[0].torch;
  const lines = [
    `Measured ${a.date.slice(0, 10)} on ${a.machine.cpu} (${a.machine.cores} cores), Node ${a.machine.node}, ` +
      `against PyTorch ${torch}, load average ${a.loadAverage.before.toFixed(2)} before and ${a.loadAverage.after.toFixed(2)} after; ` +
      `\`${a.command}\`: batch ${s.batch}, medians over ${s.rounds} alternating rounds of ${s.timedSteps} timed steps ` +
      `(${s.clock} clock). Anchor columns: its images/s: the ratio ours/anchor (its range over the rounds; > 1: ours faster). ` +
      `From [${file}](${file}).`,
  ];
  for (const n of a.networks) {
    const withKernels = optIn(n);
    const kernels = withKernels ? ` (ours with the opt-in kernels${withKernels.replace(/^,/, ':')})` : '';
    lines.push('', `**${n.network}**, one core against the anchor${kernels}:`, '', ...networkTable(n, 'one core'));
    const spread = medianSpread(n);
    if (spread) lines.push('', spread);
    const whole = networkTable(n, 'whole machine');
    if (whole.length > 0) lines.push('', `**${n.network}**, the whole machine${kernels}:`, '', ...whole);
    const convs = convolutionTable(n);
    if (convs.length > 0) {
      lines.push('', `**${n.network}**'s convolution layers alone, each pass on its own (one core, ms of the fastest call, medians over the rounds; ratio > 1: ours faster):`, '', ...convs);
      if (a.simdCeiling) lines.push('', largestLayerLine(n, a.simdCeiling));
      const share = comps0HaveLayers(n) ? stepShareLine(n) : undefined;
      if (share) lines.push('', share);
    }
    lines.push('', allocatorLine(n));
  }
  if (a.simdCeiling && a.networks.some((n) => n.convolutions)) lines.push('', ceilingLine(a));
  return lines.join('\n');
}

export function perfSideBySide(root, artifactError) {
  const [first, ...rest] = SIDE_BY_SIDE_FILES;
  const present = [first, ...rest.filter((f) => existsSync(join(root, f)))];
  return present.map((f) => render(read(root, f, artifactError), f)).join('\n\n');
}
