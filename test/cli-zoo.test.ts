// The train and zoo commands end to end, in child processes: progress and result output,
// one-line errors, and a run killed with SIGKILL mid-epoch that --resume completes to the
// same weights as an uninterrupted run.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeIdxDataset } from './helpers/datasets.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'dcnet.js');
const BACKEND = process.env.DCNET_TEST_BACKEND ?? 'wasm';
const root = mkdtempSync(join(tmpdir(), 'dcnet-cli-zoo-'));
const data = join(root, 'data');
const zoo = join(root, 'zoo');
afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeAll(() => {
  mkdirSync(data);
  writeIdxDataset(data, { train: 480, test: 40, side: 8, gzip: false, seed: 5, learnable: true });
});

function dcnet(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const ID = 'mnist/small-cnn/standard/standard/s0';
const common = ['--data', data, '--epochs', '3', '--batch', '32', '--backend', BACKEND];
const weightsSha = (dir: string): string => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).files['weights.bin'];

describe('dcnet train and dcnet zoo', () => {
  it('trains with a progress bar and prints the clean test accuracy', () => {
    const r = dcnet('train', '--model', 'mnist/small-cnn/standard/standard', '--zoo', zoo, ...common);
    expect(r.stderr).toMatch(/backend: /);
    expect(r.stderr).toMatch(/epoch 3\/3 \[#+\] 15\/15 {2}loss \d+\.\d+ {2}acc \d+\.\d% {2}\d+ img\/s {2}ETA 00:00/);
    expect(r.stdout).toMatch(/clean test accuracy \d+\.\d\d% \(40 mnist test images\)/);
    expect(r.stdout).toMatch(/images\/s/);
    expect(r.status).toBe(0);
    expect(existsSync(join(zoo, ID, 'manifest.json'))).toBe(true);
  });

  it('zoo list, verify, show and ids', () => {
    const list = dcnet('zoo', 'list', '--zoo', zoo);
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${ID.replace(/\//g, '\\/')}\\s+\\d+\\.\\d\\d%\\s+3 ep\\s+480/40`));
    const verify = dcnet('zoo', 'verify', ID, '--zoo', zoo);
    expect(verify.stdout).toMatch(/^ok mnist\/small-cnn/);
    const show = dcnet('zoo', 'show', join(zoo, ID));
    expect(JSON.parse(show.stdout).id).toBe(ID);
    const ids = dcnet('zoo', 'ids', '--dataset', 'fashion-mnist', '--arch', 'small-cnn', '--training', 'standard');
    expect(ids.stdout.trim().split('\n')).toHaveLength(29);
    expect(dcnet('zoo', 'list', '--zoo', join(root, 'none')).stdout).toMatch(/no models/);
  });

  it('user mistakes: one line, exit code 2, no stack trace', () => {
    const cases: Array<[string[], RegExp]> = [
      [['train', '--model', 'mnist/small-cnn/tanh-cos/standard'], /Invalid model id .*Invalid angular 'cos'/],
      [['train', '--model', ID, '--eps', '0.1'], /only applies to adversarial training/],
      [['train', '--model', ID, '--epochs', 'many'], /Invalid --epochs 'many'/],
      [['train', '--model', ID, '--zoo', zoo, ...common], /already exists.*--force/],
      [['train', '--model', ID, '--data', join(root, 'nowhere'), '--zoo', join(root, 'z2'), '--backend', BACKEND], /Missing data file/],
      [['zoo', 'verify', 'mnist/small-cnn/standard/pgd-at/s0', '--zoo', zoo], /not in the zoo/],
      [['zoo', 'ids', '--training', 'trades'], /Invalid --training value 'trades'/],
    ];
    for (const [args, pattern] of cases) {
      const r = dcnet(...args);
      expect(r.status, args.join(' ')).toBe(2);
      const lines = r.stderr.split('\n').filter((l) => l.startsWith('dcnet: '));
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(pattern);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('Ctrl-C (SIGINT) stops at the next batch with a one-line hint to resume', async () => {
    const out = join(root, 'interrupted');
    const child = spawn(process.execPath, [BIN, 'train', '--model', ID, '--out', out, ...common, '--epochs', '20'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    while (!existsSync(join(out, 'checkpoint.bin'))) await new Promise((r) => setTimeout(r, 2));
    child.kill('SIGINT');
    expect(await exited).toBe(2);
    expect(stderr).toMatch(/dcnet: interrupted\. The last finished epoch is checkpointed: continue with --resume\./);
    expect(existsSync(join(out, 'manifest.json'))).toBe(false);
  });

  it('killed mid-epoch (SIGKILL), then --resume: the same weights as the uninterrupted run', async () => {
    const out = join(root, 'killed');
    const child = spawn(process.execPath, [BIN, 'train', '--model', ID, '--out', out, ...common], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // The first epoch's checkpoint marks that the run is inside epoch 2: kill it there.
    const checkpoint = join(out, 'checkpoint.bin');
    let finished = false;
    void exited.then(() => (finished = true));
    while (!existsSync(checkpoint) && !finished) await new Promise((r) => setTimeout(r, 2));
    child.kill('SIGKILL');
    await exited;
    expect(existsSync(join(out, 'manifest.json'))).toBe(false);
    expect(existsSync(checkpoint)).toBe(true);
    const resumed = dcnet('train', '--model', ID, '--out', out, '--resume', ...common);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resumed after epoch [12]/);
    expect(weightsSha(out)).toBe(weightsSha(join(zoo, ID)));
  });
});
