// The README's generated blocks: name -> async (repositoryRoot) => markdown.
// Each generator reads committed artifacts only (never runs a measurement), so that
// `npm run readme` is fast and `test/readme.test.ts` can check the README against them.
// To add one: put `<!-- generated:NAME --><!-- /generated:NAME -->` where it belongs in
// README.md, add NAME here, run `npm run readme` and commit both.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMeasuredHeader } from '../measured-header.mjs';
import { perfSideBySide } from './perf-side-by-side.mjs';

/** A clear error naming the artifact, for a generator whose input is missing or malformed. */
export function artifactError(file, what) {
  return new Error(`${file}: ${what} (regenerate it, see the README block's generator in scripts/readme/blocks.mjs)`);
}

function paperEstimate(root) {
  const file = 'docs/paper-estimate.txt';
  const text = readFileSync(join(root, file), 'utf8');
  const machine = parseMeasuredHeader(text);
  const est = text.match(/^estimate: ([\d.]+) CPU-hours \(training ([\d.]+), attacks ([\d.]+)\)/m);
  const backend = text.match(/^per-image cost on (\S+) /m);
  if (!machine || !est || !backend) throw artifactError(file, 'no "# measured" header, "per-image cost on" or "estimate:" line');
  const { date, cpu, cores, before, after } = machine;
  const [, total, train, attacks] = est;
  const fmt = (h) => Number(h).toLocaleString('en-US');
  return (
    `Estimated cost of the paper profile on this project's development machine (${cpu}, ${cores} cores, ` +
    `${backend[1]} backend, calibrated ${date} at load average ${before}-${after}): ` +
    `**${fmt(total)} CPU-hours** (training ${fmt(train)}, attacks ${fmt(attacks)}); the full output is in ` +
    `[docs/paper-estimate.txt](docs/paper-estimate.txt) (\`npm run paper-estimate\` regenerates it).`
  );
}

// A profile's published run, committed in results/<profile>/ by `dcnet bench --profile P --publish`:
// its models (zoo/<id>/manifest.json), its cells (results.jsonl), its sessions (wall time and
// machine) and its report. Until it is committed, the blocks say so and how to publish it.
async function published(root, profile) {
  const dir = `results/${profile}`;
  if (!existsSync(join(root, dir, 'profile.json'))) return undefined;
  const jsonl = (file) =>
    existsSync(join(root, dir, file))
      ? readFileSync(join(root, dir, file), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l))
      : [];
  // The zoo's own listing (built: npm run build), which also checks each folder's id.
  const { listZoo } = await import(new URL('../../dist/models/zoo/store.js', import.meta.url).href);
  const models = existsSync(join(root, dir, 'zoo')) ? listZoo(join(root, dir, 'zoo')) : [];
  const broken = models.find((m) => m.status !== 'complete');
  if (broken) throw artifactError(`${dir}/zoo/${broken.id}`, broken.error ?? 'unfinished training');
  const manifests = models.map((m) => m.manifest);
  const report = existsSync(join(root, dir, 'report.md')) ? readFileSync(join(root, dir, 'report.md'), 'utf8') : undefined;
  return { dir, manifests, records: jsonl('results.jsonl'), sessions: jsonl('sessions.jsonl'), report };
}

/** The report's "Incomplete run" line without its list of cell ids (the report has them). */
const incompleteLine = (report) => report.match(/^\*\*Incomplete run\*\*: no result yet for \d+ cell\(s\) \([^)]*\)/m);

/** A run started and committed in part (models, cells), whose report is not written yet. */
const inProgress = (run, profile) =>
  `*In progress:* the ${profile} run is committed in part (${run.manifests.length} model(s) in \`${run.dir}/zoo/\`, ` +
  `${run.records.length} finished cell(s) in \`${run.dir}/results.jsonl\`), without a report yet; ` +
  `\`npx dcnet bench --profile ${profile} --publish\` goes on from there.`;

const notPublished = (profile) =>
  `*Not yet published:* the ${profile} profile's models and results are not committed yet. ` +
  `\`npx dcnet bench --profile ${profile} --publish\` trains them into \`results/${profile}/zoo/\`, attacks them and writes ` +
  `the report into \`results/${profile}/\`; commit that folder and run \`npm run readme\`.`;

const pct = (x) => `${(100 * x).toFixed(2)}%`;
const minutes = (s) => (s < 60 ? `${Math.round(s)} s` : `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s`);
const int = (x) => Math.round(x).toLocaleString('en-US');

/** Where and how long: from the run's sessions (a resumed run has several). */
function machineLine(sessions, file) {
  if (!sessions.length) throw artifactError(file, 'no session recorded');
  const m = sessions.find((s) => s.machine)?.machine;
  const where = m ? `${m.cpu}, ${m.cores} cores, Node ${m.node}, 1-minute load average ${sessions.map((s) => s.machine ? `${s.machine.loadAverage[0]}-${s.machine.loadAverage[1]}` : '?').join(', ')}` : 'machine not recorded';
  return { where, wall: sessions.reduce((a, s) => a + s.wallSeconds, 0), jobs: Math.max(...sessions.map((s) => s.jobs)), backend: sessions[0].backend };
}

/** The published models of a profile: clean accuracy, epochs, training cost, from their manifests. */
export async function modelsTable(root, profile) {
  const run = await published(root, profile);
  if (!run || !run.manifests.length) return notPublished(profile);
  // The profile's table order (trainings, then operators), the transfer source last.
  const p = JSON.parse(readFileSync(join(root, run.dir, 'profile.json'), 'utf8'));
  const rank = (m) => [p.trainings.indexOf(m.model.training), p.operators.indexOf(m.model.operator), m.model.seed === p.seed ? 0 : 1];
  const ms = [...run.manifests].sort((a, b) => {
    const [x, y] = [rank(a), rank(b)];
    return x[2] - y[2] || x[0] - y[0] || x[1] - y[1] || a.id.localeCompare(b.id);
  });
  const test = ms[0].metrics.testCount.toLocaleString('en-US');
  const rows = ms.map((m) => {
    const adv = m.recipe.adversarial ? ` (eps ${m.recipe.adversarial.epsilon})` : '';
    return `| \`${m.id}\`${adv} | ${pct(m.metrics.testAccuracy)} | ${m.epochs} | ${int(m.dataset.train.count)} | ${minutes(m.wallTimeSeconds)} | ${int(m.trainImagesPerSecond)} |`;
  });
  const backends = [...new Set(ms.map((m) => m.backend.name))].join(', ');
  const { where, jobs } = machineLine(run.sessions, `${run.dir}/sessions.jsonl`);
  return [
    `The ${profile} profile's models${run.report ? '' : ' trained so far'}, committed in [\`${run.dir}/zoo/\`](${run.dir}/zoo) (${backends} backend, ${jobs} trained at a time on ${where}):`,
    '',
    `| model | clean test accuracy (${test} images) | epochs | training images | training time | images/s |`,
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

/** The published run of a profile: its cost on its machine, and the report's white-box table. */
export async function runSummary(root, profile) {
  const run = await published(root, profile);
  if (!run) return notPublished(profile);
  if (!run.report) return `*No report yet:* the ${profile} run is not finished (its models so far: the models table).`;
  const file = `${run.dir}/sessions.jsonl`;
  const { where, wall, jobs, backend } = machineLine(run.sessions, file);
  const cellTime = (kind) => run.records.filter((r) => r.kind === kind && !(r.result && r.result.reused)).reduce((a, r) => a + r.wallSeconds, 0);
  const train = cellTime('train');
  const attack = cellTime('evaluate');
  const section = run.report.split(/^## /m).find((s) => s.startsWith('White-box robustness'));
  const table = section && section.match(/^\|.*\|$(\n^\|.*\|$)+/m);
  if (!table) throw artifactError(`${run.dir}/report.md`, 'no "## White-box robustness" table');
  const incomplete = incompleteLine(run.report);
  return [
    ...(incomplete ? [`${incomplete[0]}; the run is resumable: \`dcnet bench --profile ${profile} --publish\` goes on`, ''] : []),
    `The published run ([\`${run.dir}/report.md\`](${run.dir}/report.md), with \`results.csv\`, per-model JSON, plots and examples): ` +
      `${minutes(wall)} of wall time with ${jobs} worker threads on ${where} (${backend} backend); ` +
      `its cells took ${minutes(train)} of training and ${minutes(attack)} of attacks (cell wall times summed over the workers). ` +
      `With the committed models, \`dcnet bench --profile ${profile}\` runs only the attack cells.`,
    '',
    'White-box robust accuracy in % (95% Wilson interval), from the report:',
    '',
    table[0],
  ].join('\n');
}

/** The report's answer to the paper, as the report words it (its "What the paper claimed" section). */
export async function paperClaims(root, profile) {
  const run = await published(root, profile);
  if (!run) return notPublished(profile);
  if (!run.report) return inProgress(run, profile);
  const section = run.report.split(/^## /m).find((s) => s.startsWith('What the paper claimed'));
  const paragraph = section && section.split('\n\n')[1];
  if (!paragraph) throw artifactError(`${run.dir}/report.md`, 'no "## What the paper claimed" paragraph');
  const incomplete = incompleteLine(run.report);
  return [`From [\`${run.dir}/report.md\`](${run.dir}/report.md):`, ...(incomplete ? ['', incomplete[0]] : []), '', `> ${paragraph.trim()}`].join('\n');
}

function wasmHeap(root) {
  const file = 'docs/wasm-heap.txt';
  const text = readFileSync(join(root, file), 'utf8');
  const machine = parseMeasuredHeader(text);
  const setting = text.match(/^batch (\d+), (\d+) training images \((\d+) steps?\)/m);
  const rows = [...text.matchAll(/^(\S+\/\S+)\s+(\S+)\s+([\d.]+|-)\s+\d+\s+\d+/gm)];
  if (!machine || !setting || rows.length === 0) throw artifactError(file, 'no "# measured" header, "batch" line or model rows');
  const table = rows.map(([, model, exit, heap]) =>
    `| ${model.replace(/\/lr$/, ', learnable radius').replace('/', ' ')} | ${heap === '-' ? '-' : `${heap} GiB`} | ${exit === '0' ? 'yes' : `no (exit ${exit})`} |`);
  return [
    `Peak wasm heap of \`dcnet train\` at batch ${setting[1]} (${setting[3]} step${setting[3] === '1' ? '' : 's'} on the embedded ` +
      `Fashion-MNIST, then the test accuracy), measured ${machine.date} on ${machine.cpu} with ` +
      `\`node scripts/wasm-heap.mjs --batch ${setting[1]} --train-limit ${setting[2]} --out docs/wasm-heap.txt\` (the heap ` +
      'never shrinks: its size at exit is the peak; at most 4 GiB):',
    '',
    '| model | heap | completed |',
    '| --- | --- | --- |',
    ...table,
  ].join('\n');
}

export const generators = {
  'paper-estimate': paperEstimate,
  'quick-models': (root) => modelsTable(root, 'quick'),
  'quick-results': (root) => runSummary(root, 'quick'),
  'quick-claims': (root) => paperClaims(root, 'quick'),
  'study-models': (root) => modelsTable(root, 'study'),
  'study-results': (root) => runSummary(root, 'study'),
  'study-claims': (root) => paperClaims(root, 'study'),
  'perf-side-by-side': (root) => perfSideBySide(root, artifactError),
  'wasm-heap': wasmHeap,
};
