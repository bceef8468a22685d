// `node dist/src/perf/workers.js --workers 2 [perf options]`: the perf cells on the whole
// machine the way `dcnet bench` uses it: one worker thread per core, one TF.js runtime each,
// every worker running the same cells at the same time. Prints `npm run perf -- --json`'s shape
// with the workers' images/s added up (each worker's from its median step, wall clock).
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { runEntry } from '../cli/entry.js';
import { parsePositiveInteger } from '../cli/options.js';
import { UsageError } from '../errors.js';
import type { PerfResult } from './measure.js';
import { buildPerfProgram, runPerf, type PerfOptions } from './program.js';

interface WorkerReply {
  backend?: string;
  results?: PerfResult[];
  error?: string;
}

/** Cell by cell, the sum of the workers' images/s. */
export function addUp(perWorker: PerfResult[][]): PerfResult[] {
  const [first, ...rest] = perWorker;
  return (first ?? []).map((r, i) => ({
    ...r,
    imagesPerSecond: r.imagesPerSecond + rest.reduce((sum, w) => sum + w[i]!.imagesPerSecond, 0),
  }));
}

function runWorker(options: PerfOptions): Promise<{ backend: string; results: PerfResult[] }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(fileURLToPath(import.meta.url), { workerData: options });
    worker.once('message', (m: WorkerReply) => (m.error ? reject(new Error(m.error)) : resolve(m as never)));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`a perf worker exited with code ${code} before reporting`)));
  });
}

async function main(): Promise<void> {
  const program = buildPerfProgram()
    .name('node dist/src/perf/workers.js --')
    .option('--workers <n>', 'worker threads, one TF.js runtime each', parsePositiveInteger('--workers'), 2)
    .exitOverride();
  program.parse(process.argv);
  const o = program.opts<PerfOptions & { workers: number }>();
  // Each worker's CPU time would be the whole process's: only elapsed time means anything here.
  if (o.clock !== 'wall') throw new UsageError(`--clock ${o.clock} cannot time parallel workers: use --clock wall.`);
  const { workers, ...perf } = o;
  const replies = await Promise.all(Array.from({ length: workers }, () => runWorker({ ...perf, json: true })));
  const results = addUp(replies.map((r) => r.results));
  const backend = `${replies[0]!.backend}-${workers}-workers`;
  if (o.json) process.stdout.write(`${JSON.stringify({ backend, workers, results })}\n`);
  else for (const r of results) process.stdout.write(`${r.operator} ${r.step}: ${r.imagesPerSecond.toFixed(0)} images/s (${backend})\n`);
}

if (!isMainThread) {
  const options = workerData as PerfOptions;
  try {
    let backend = '';
    const results = await runPerf(options, (text) => {
      backend = (JSON.parse(text) as { backend: string }).backend;
    });
    parentPort!.postMessage({ backend, results } satisfies WorkerReply);
  } catch (err) {
    parentPort!.postMessage({ error: (err as Error).message } satisfies WorkerReply);
  }
  process.exit(0);
} else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await runEntry('perf workers', main);
}
