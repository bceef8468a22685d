// Attack plugins through the CLI (bin/dcnet.js): check-attack's table and exit code, info
// and attack with --plugin, and a bench run whose worker threads load the plugin, pin it in
// the run folder, and put its attack in results.csv and report.md.
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PLUGIN_BODIES, writeModule, writePlugin } from './helpers/plugin-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'dcnet-cli-plugins-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const CLI = join(import.meta.dirname, '..', 'bin', 'dcnet.js');

function dcnet(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, ...env } });
}

/** Table rows of `dcnet check-attack` as [attack, check, result]. */
const rows = (stdout: string) =>
  stdout
    .split('\n')
    .map((l) => l.split(/ {2,}/))
    .filter((c) => c.length >= 4 && (c[2] === 'pass' || c[2] === 'FAIL'))
    .map((c) => [c[0], c[1], c[2]]);

describe('dcnet check-attack', () => {
  it('passes a correct plugin with exit code 0', () => {
    writePlugin(dir, 'good', 'cli');
    const r = dcnet(['check-attack', './cli-good.mjs', '--backend', 'wasm']);
    expect(r.status, r.stderr).toBe(0);
    const table = rows(r.stdout);
    expect(table.length).toBe(8);
    expect(table.every(([attack, , result]) => attack === 'cli-good' && result === 'pass')).toBe(true);
    expect(r.stdout).toMatch(/all 8 checks passed/);
  });

  const broken: Array<['readback' | 'leak' | 'outside', RegExp]> = [
    ['readback', /^no read-back to JavaScript with early stop off \(attacks usable in training\)$/],
    ['leak', /^no tensor leak across batches$/],
    ['outside', /^eps 0\.03: inside the ball and \[0, 1\], no NaN$/],
  ];
  for (const [kind, property] of broken) {
    it(`fails a plugin that breaks '${kind}', naming the property, with a non-zero exit`, () => {
      writePlugin(dir, kind, 'cli');
      const r = dcnet(['check-attack', `./cli-${kind}.mjs`, '--backend', 'wasm']);
      expect(r.status).toBe(1);
      const failed = rows(r.stdout).filter(([, , result]) => result === 'FAIL');
      expect(failed.some(([, name]) => property.test(name!))).toBe(true);
      expect(r.stdout).toMatch(/checks failed: cli-/);
    });
  }

  it('refuses a missing module in one line before any work', () => {
    const r = dcnet(['check-attack', './missing.mjs']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^dcnet: Plugin \.\/missing\.mjs: no such file/)]);
  });
});

describe('info, bench and attack with a plugin', () => {
  const log = join(dir, 'loads.log');
  // The bench plugin logs the thread that loads it, so the test sees the workers load it.
  const pluginPath = writeModule(
    dir,
    'bench-plugin.mjs',
    `import { appendFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
export function register(api) {
  if (process.env.PLUGIN_LOG) appendFileSync(process.env.PLUGIN_LOG, threadId + '\\n');
  const { tf } = api;
  api.registerAttack({ name: 'half-fgsm', norm: 'linf', needs: 'gradients', iterative: false, randomized: false,
    description: 'FGSM at half the epsilon, twice', params: { scale: { type: 'number', default: 1, min: 0, max: 4, help: 'h' } },
    run(ctx) {
      const eps = ctx.epsilon * ctx.params.scale;
${PLUGIN_BODIES.good}
    } });
}
`,
  );

  it('dcnet info --plugin lists the attack with its plugin', () => {
    const r = dcnet(['info', '--plugin', './bench-plugin.mjs', '--json', '--backend', 'wasm']);
    expect(r.status, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.attacks.find((a: { name: string }) => a.name === 'half-fgsm')).toMatchObject({ needs: 'gradients', origin: pluginPath, params: ['scale'] });
    expect(info.plugins).toEqual([expect.objectContaining({ name: 'bench-plugin.mjs', path: pluginPath, attacks: ['half-fgsm'] })]);
    const text = dcnet(['info', '--plugin', pluginPath, '--backend', 'wasm']);
    expect(text.stdout).toMatch(/half-fgsm +white-box +\[plugin .*bench-plugin\.mjs\] FGSM at half/);
  });

  it('runs a bench profile naming the plugin: workers load it, the run pins it, the report shows it', () => {
    const print = dcnet(['bench', '--print-profile', 'tiny']);
    const profile = JSON.parse(print.stdout);
    profile.name = 'plug';
    profile.operators = ['standard'];
    // Relative to the profile file, not to the current folder.
    profile.plugins = ['../bench-plugin.mjs'];
    profile.evaluation.whiteBox.push({ name: 'half-fgsm', params: { scale: 1 } });
    mkdirSync(join(dir, 'profiles'));
    writeFileSync(join(dir, 'profiles', 'plug.json'), JSON.stringify(profile));
    const run = join(dir, 'run');
    const args = ['bench', '--profile', 'profiles/plug.json', '--out', run, '--zoo', join(dir, 'zoo'), '--jobs', '2', '--no-progress'];
    const r = dcnet(args, { PLUGIN_LOG: log });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/3 cells run, 0 already done, 0 failed/);
    // Loaded by the main thread (0) and by each of the two worker threads.
    const threads = readFileSync(log, 'utf8').trim().split('\n').map(Number);
    expect(threads.filter((t) => t === 0)).toHaveLength(1);
    expect(new Set(threads.filter((t) => t !== 0)).size).toBe(2);

    const csv = readFileSync(join(run, 'results.csv'), 'utf8');
    expect(csv.split('\n').filter((l) => l.includes(',half-fgsm,white-box,'))).toHaveLength(2);
    const md = readFileSync(join(run, 'report.md'), 'utf8');
    expect(md).toMatch(/\| half-fgsm \| \d+\.\d \(\d+\.\d–\d+\.\d\) \|/);
    const sha = JSON.parse(readFileSync(join(run, 'plugins.json'), 'utf8'))[0].sha256;
    expect(md).toContain(`| attack plugins | bench-plugin.mjs (attacks half-fgsm; \`${pluginPath}\`, sha256 \`${sha}\`) |`);
    const records = readFileSync(join(run, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(records.every((rec) => rec.plugins?.[0]?.sha256 === sha)).toBe(true);

    // dcnet attack --plugin on the model the bench trained; the result names the plugin.
    const out = join(dir, 'attack.json');
    const attackArgs = ['attack', '--plugin', './bench-plugin.mjs', '--model', 'fashion-mnist-embedded/small-cnn/standard/standard/s0', '--zoo', join(dir, 'zoo'),
      '--attack', 'half-fgsm,fgsm', '--eps', '0.1', '--n', '64', '--no-checks', '--out', out, '--checkpoint', join(dir, 'ck.jsonl'), '--backend', 'wasm'];
    const a = dcnet(attackArgs);
    expect(a.status, a.stderr).toBe(0);
    const result = JSON.parse(readFileSync(out, 'utf8'));
    expect(result.plugins[0]).toMatchObject({ path: pluginPath, attacks: ['half-fgsm'] });
    const byName = Object.fromEntries(result.attacks.map((x: { attack: string; results: Array<{ robust: { accuracy: number } }> }) => [x.attack, x.results[0]!.robust.accuracy]));
    // The plugin's attack is FGSM (scale 1): the same robust accuracy as the built-in one.
    expect(byName['fgsm']).toEqual(expect.any(Number));
    expect(byName['half-fgsm']).toBe(byName['fgsm']);

    // The same file resumes (nothing left to do); a changed file is refused in one line.
    expect(dcnet(args).stderr).toMatch(/0 cells run, 3 already done/);
    appendFileSync(pluginPath, '// edited\n');
    const changed = dcnet(args);
    expect(changed.status).toBe(2);
    expect(changed.stderr).toMatch(/dcnet: .*run was run with another version of plugin bench-plugin\.mjs: sha256 [0-9a-f]{12}… then, [0-9a-f]{12}… now/);

    // An attack checkpoint made with the old file is refused too: its batches came from other code.
    const stale = dcnet(attackArgs);
    expect(stale.status).toBe(2);
    expect(stale.stderr).toMatch(/Checkpoint .*ck\.jsonl belongs to a different evaluation \(differs in: plugins\)/);
  });
});
