// `dcnet bench` end to end on the tiny profile (--retrain: not its committed models): train two
// tiny models and a transfer source, attack them, write the report; then resume after a kill,
// and shards merged by `dcnet report` equal a single run.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = mkdtempSync(join(tmpdir(), 'dcnet-bench-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const CLI = join(import.meta.dirname, '..', 'bin', 'dcnet.js');

function dcnet(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`dcnet ${args.join(' ')} exited ${r.status}:\n${r.stderr}\n${r.stdout}`);
  return r;
}

function records(runDir: string): Array<{ cellId: string; startedAt: string; result: unknown }> {
  return readdirSync(runDir)
    .filter((f) => f.startsWith('results') && f.endsWith('.jsonl'))
    .flatMap((f) => readFileSync(join(runDir, f), 'utf8').trim().split('\n').filter(Boolean))
    .map((l) => JSON.parse(l));
}

/** The accuracies of a run's per-model results, without timings. */
function accuracies(runDir: string): Record<string, unknown> {
  const dir = join(runDir, 'models');
  return Object.fromEntries(
    readdirSync(dir).map((f) => {
      const m = JSON.parse(readFileSync(join(dir, f), 'utf8'));
      return [f, { clean: m.evaluation.clean, results: m.results.map((r: { attack: string; mode: string; epsilon: number; robust: unknown; conditional: unknown }) => [r.attack, r.mode, r.epsilon, r.robust, r.conditional]), worst: m.worstCase, checks: m.sanity.map((c: { id: string; status: string }) => [c.id, c.status]) }];
    }),
  );
}

const zoo = join(root, 'zoo');
const single = join(root, 'single');

describe('dcnet bench (tiny profile)', () => {
  it('trains, attacks and writes every report file', () => {
    const r = dcnet(['bench', '--profile', 'tiny', '--retrain', '--out', single, '--zoo', zoo, '--jobs', '2', '--no-progress']);
    expect(r.stderr).toMatch(/backend: wasm/);
    expect(r.stderr).toMatch(/5 cells run, 0 already done, 0 failed/);
    for (const f of ['report.md', 'results.csv', 'profile.json', 'examples.png', 'accuracy-vs-eps-white-box-bim.svg', 'accuracy-vs-eps-minimal.svg', 'results.jsonl']) {
      expect(existsSync(join(single, f)), f).toBe(true);
    }
    expect(readdirSync(join(single, 'models'))).toHaveLength(2);
    // The transfer source trains first: every evaluation waits for it.
    const all = records(single);
    const source = all.find((r) => r.cellId === 'train:fashion-mnist-embedded/small-cnn/standard/standard/s1')!;
    for (const r of all) expect(source.startedAt <= r.startedAt, r.cellId).toBe(true);
    // The session says where it ran (published runs show it in the README).
    const session = JSON.parse(readFileSync(join(single, 'sessions.jsonl'), 'utf8').trim());
    expect(session.machine).toMatchObject({ cpu: cpus()[0]!.model.trim(), cores: cpus().length, node: process.version });
    expect(session.machine.loadAverage).toHaveLength(2);
    const md = readFileSync(join(single, 'report.md'), 'utf8');
    expect(md).toContain('| attack | baseline | TanhConv |');
    expect(md).toContain(`| machine | ${cpus()[0]!.model.trim()}, ${cpus().length} cores, Node ${process.version} |`);
    expect(md).toMatch(/\| BIM \| \d+\.\d \(\d+\.\d–\d+\.\d\) \| \d+\.\d/);
    expect(md).toContain('`fashion-mnist-embedded/small-cnn/standard/standard/s1`');
    // FAB-T minimal epsilons: one row per model, median with its bootstrap interval.
    expect(md).toContain('## Minimal epsilon per test point');
    expect(md).toMatch(/\| `fashion-mnist-embedded\/small-cnn\/standard\/standard\/s0` \| \d\.\d{4} \[\d\.\d{4}, \d\.\d{4}\]/);
    // A second run finds every cell done and runs nothing.
    const again = dcnet(['bench', '--profile', 'tiny', '--retrain', '--out', single, '--zoo', zoo, '--no-progress']);
    expect(again.stderr).toMatch(/0 cells run, 5 already done/);
  });

  /** Sends `signal` to a running bench as soon as its first cell's result is written. */
  function signalAfterFirstCell(child: ChildProcess, runDir: string, signal: NodeJS.Signals): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (existsSync(join(runDir, 'results.jsonl')) && records(runDir).length >= 1) {
          clearInterval(timer);
          child.kill(signal);
          resolve();
        }
      }, 100);
      child.on('exit', () => {
        clearInterval(timer);
        reject(new Error(`bench finished before it could be sent ${signal}`));
      });
    });
  }

  it('resumes after a kill without redoing finished cells', async () => {
    const runDir = join(root, 'killed');
    const freshZoo = join(root, 'zoo-killed');
    const child = spawn(process.execPath, [CLI, 'bench', '--profile', 'tiny', '--retrain', '--out', runDir, '--zoo', freshZoo, '--jobs', '1', '--no-progress'], { stdio: 'ignore' });
    await signalAfterFirstCell(child, runDir, 'SIGKILL');
    const before = records(runDir);
    expect(before.length).toBeGreaterThanOrEqual(1);
    expect(before.length).toBeLessThan(5);
    const r = dcnet(['bench', '--profile', 'tiny', '--retrain', '--out', runDir, '--zoo', freshZoo, '--no-progress']);
    expect(r.stderr).toMatch(new RegExp(`${5 - before.length} cells run, ${before.length} already done, 0 failed`));
    const after = records(runDir);
    expect(after.map((x) => x.cellId).sort()).toEqual([...new Set(after.map((x) => x.cellId))].sort());
    expect(after).toHaveLength(5);
    // Finished cells were kept as they were, not redone.
    for (const b of before) expect(after.find((a) => a.cellId === b.cellId)!.startedAt).toBe(b.startedAt);
    // Same seeds, same backend: the killed-and-resumed run equals the uninterrupted one.
    expect(accuracies(runDir)).toEqual(accuracies(single));
  });

  it('a sitting stopped by SIGTERM is recorded in sessions.jsonl as interrupted, with the cells it finished', async () => {
    const runDir = join(root, 'terminated');
    const child = spawn(process.execPath, [CLI, 'bench', '--profile', 'tiny', '--retrain', '--out', runDir, '--zoo', join(root, 'zoo-terminated'), '--jobs', '1', '--no-progress'], { stdio: 'ignore' });
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await signalAfterFirstCell(child, runDir, 'SIGTERM');
    expect(await exit).toBe(143);
    const sessions = readFileSync(join(runDir, 'sessions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({ interrupted: 'SIGTERM', shard: '0/1', jobs: 1 });
    expect(sessions[0].ran).toBe(records(runDir).length);
    expect(sessions[0].wallSeconds).toBeGreaterThan(0);
    // The lock went with it: the run resumes at once.
    const r = dcnet(['bench', '--profile', 'tiny', '--retrain', '--out', runDir, '--zoo', join(root, 'zoo-terminated'), '--no-progress']);
    expect(r.status, r.stderr).toBe(0);
  });

  it('shards merged by dcnet report equal a single run', () => {
    const runDir = join(root, 'sharded');
    dcnet(['bench', '--profile', 'tiny', '--retrain', '--out', runDir, '--zoo', zoo, '--shard', '0/2', '--no-progress']);
    const r1 = spawnSync(process.execPath, [CLI, 'bench', '--profile', 'tiny', '--retrain', '--out', runDir, '--zoo', zoo, '--no-progress'], {
      encoding: 'utf8',
      env: { ...process.env, JOB_COMPLETION_INDEX: '1', DCNET_SHARDS: '2' },
    });
    expect(r1.status, r1.stderr).toBe(0);
    expect(r1.stdout).toMatch(/shard 1\/2 done/);
    expect(readdirSync(runDir).filter((f) => f.startsWith('results.shard-')).sort()).toEqual([
      'results.shard-0-of-2.jsonl',
      'results.shard-1-of-2.jsonl',
    ]);
    const rep = dcnet(['report', '--run', runDir]);
    expect(rep.stdout).toMatch(/2 models/);
    expect(accuracies(runDir)).toEqual(accuracies(single));
  });

  it('refuses to resume a run folder with another profile', () => {
    const r = spawnSync(process.execPath, [CLI, 'bench', '--profile', 'quick', '--out', single, '--zoo', zoo], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/holds results of a different profile/);
  });
});
