// docs/adding-an-attack.md, followed literally: every file and shell block of its tutorial,
// in order, in a new folder with the packed package installed, so the tutorial cannot rot.
// Then the results it promises: the plugin's attack in `dcnet info`, in the attack result,
// and in results.csv and report.md of a bench run whose cells ran in worker threads.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packedProject } from './helpers/packed-project.js';

const DOC = join(import.meta.dirname, '..', 'docs', 'adding-an-attack.md');

interface Block {
  lang: string;
  /** `file=NAME` in the fence's info string: the block is that file's content. */
  file?: string;
  text: string;
}

/** The fenced blocks of the doc's tutorial section (from "## Tutorial" to the next "## "). */
export function tutorialBlocks(markdown: string): Block[] {
  const start = markdown.indexOf('\n## Tutorial');
  if (start < 0) throw new Error('docs/adding-an-attack.md has no "## Tutorial" section');
  const rest = markdown.slice(start + 1);
  const end = rest.indexOf('\n## ', 3);
  const section = end < 0 ? rest : rest.slice(0, end);
  const blocks: Block[] = [];
  for (const m of section.matchAll(/^```(\w+)([^\n]*)\n([\s\S]*?)^```$/gm)) {
    const file = /\bfile=(\S+)/.exec(m[2]!)?.[1];
    blocks.push({ lang: m[1]!, ...(file ? { file } : {}), text: m[3]! });
  }
  return blocks;
}

/**
 * One bash script doing what a reader does: run each shell line, write each file. The only
 * change: `npm install dcnet-robustness` takes the node_modules of a project where the packed
 * tarball of this checkout is installed (offline, see helpers/packed-project.ts).
 */
function tutorialScript(blocks: Block[], installed: string): string {
  const lines = ['set -euo pipefail', 'set -x'];
  for (const b of blocks) {
    if (b.file) lines.push(`cat > ${b.file} <<'DCNET_TUTORIAL_EOF'`, b.text.replace(/\n$/, ''), 'DCNET_TUTORIAL_EOF');
    else if (b.lang === 'sh') {
      lines.push(b.text.replace(/npm install dcnet-robustness\b/g, `ln -s ${installed} node_modules`));
    }
  }
  return lines.join('\n') + '\n';
}

const work = mkdtempSync(join(tmpdir(), 'dcnet-tutorial-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('docs/adding-an-attack.md tutorial', () => {
  const blocks = tutorialBlocks(readFileSync(DOC, 'utf8'));

  it('has the steps the issue asks for', () => {
    const shell = blocks.filter((b) => b.lang === 'sh').map((b) => b.text).join('\n');
    expect(blocks.filter((b) => b.file).map((b) => b.file)).toEqual(['my-attack.js', 'my-attack.test.js', 'my-profile.json']);
    for (const step of ['npm init -y', 'npm install dcnet-robustness', 'npx dcnet check-attack ./my-attack.js', 'npx dcnet info --plugin ./my-attack.js', 'npx dcnet attack --plugin ./my-attack.js', 'npx dcnet bench --profile my-profile.json']) {
      expect(shell).toContain(step);
    }
  });

  // Training, attacks and a bench run: minutes on a loaded machine.
  it('runs as written in a new project with the packed package', { timeout: 15 * 60_000 }, () => {
    const packed = packedProject();
    const script = join(work, 'tutorial.sh');
    writeFileSync(script, tutorialScript(blocks, join(packed.dir, 'node_modules')));
    // The tutorial's zoo is ./zoo of the new project, whatever the environment says.
    const env: NodeJS.ProcessEnv = { ...process.env, npm_config_offline: 'true' }; // npx must never fetch a package
    delete env.DCNET_ZOO;
    const r = spawnSync('bash', [script], { cwd: work, encoding: 'utf8', env, timeout: 15 * 60_000 });
    packed.remove();
    const log = `${r.stdout}\n${r.stderr}`;
    expect(r.status, log.slice(-4000)).toBe(0);

    const project = join(work, 'my-attacks');
    // check-attack: every check of fgsm-rs passed (the command exits 1 otherwise).
    expect(r.stdout).toMatch(/all 8 checks passed/);
    // info --plugin lists the attack with the plugin it came from.
    expect(r.stdout).toMatch(/fgsm-rs +white-box +\[plugin .*my-attack\.js\]/);
    // node --test ran the kit from the testing entry point.
    expect(log).toMatch(/# pass 1\b/);
    // The attack result names the plugin and has the attack's numbers.
    const result = JSON.parse(readFileSync(join(project, 'fgsm-rs.json'), 'utf8'));
    expect(result.plugins[0]).toMatchObject({ name: 'my-attack.js', attacks: ['fgsm-rs'] });
    expect(result.attacks.map((a: { attack: string }) => a.attack)).toEqual(['fgsm', 'fgsm-rs']);
    // The bench: cells ran in worker threads (the only way the bench runs cells), the
    // model from step 5 was reused, the plugin is pinned and its attack is in the outputs.
    const run = join(project, 'reports', 'my-study');
    expect(r.stderr).toMatch(/bench: profile my-study, 2 worker\(s\)/);
    expect(r.stderr).toMatch(/bench: 3 cells run, 0 already done, 0 failed/);
    const trainRecord = readFileSync(join(run, 'results.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((rec) => rec.cellId === 'train:fashion-mnist-embedded/small-cnn/standard/standard/s0');
    expect(trainRecord.result.reused).toBe(true);
    expect(trainRecord.plugins[0].name).toBe('my-attack.js');
    const csv = readFileSync(join(run, 'results.csv'), 'utf8');
    expect(csv.split('\n').filter((l) => /,fgsm-rs,white-box,/.test(l))).toHaveLength(2);
    expect(csv.split('\n').filter((l) => /,fgsm-rs,transfer,/.test(l))).toHaveLength(2);
    const md = readFileSync(join(run, 'report.md'), 'utf8');
    expect(md).toMatch(/\| fgsm-rs \| \d+\.\d \(\d+\.\d–\d+\.\d\) \|/);
    expect(md).toMatch(/\| attack plugins \| my-attack\.js \(attacks fgsm-rs;/);
    expect(existsSync(join(run, 'plugins.json'))).toBe(true);
  });
});
