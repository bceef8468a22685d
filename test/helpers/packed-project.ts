// A temporary project with this package installed from its packed tarball (`npm pack`), the
// way a user gets it: only the files the package publishes, imported by the package name
// through its `exports`. Offline: the tarball is unpacked into node_modules/dcnet-robustness
// and the package's own dependencies are linked from this repository's node_modules.
//
// Needs a built dist/ (`npm test` builds it first). The tarball is made once per test process.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');
const PKG = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  name: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
};

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface PackedProject {
  /** The project folder (its node_modules holds the installed package). */
  dir: string;
  /** The installed package's folder. */
  packageDir: string;
  /** Writes `file` (relative to the project) with `source`, runs it with node in the project. */
  runScript(file: string, source: string, args?: string[]): RunResult;
  /** Runs the package's `bin` entry (e.g. `dcnet`) in the project. */
  runBin(name: string, args: string[]): RunResult;
  /** Removes the project (the shared tarball stays until the process exits). */
  remove(): void;
}

let tarball: string | undefined;

/** `npm pack` of this repository, once per process (scripts skipped: dist/ is already built). */
export function packTarball(): string {
  if (tarball && existsSync(tarball)) return tarball;
  if (!existsSync(join(REPO_ROOT, 'dist', 'src', 'index.js'))) {
    throw new Error('dist/ is not built: run `npm run build` (npm test does) before packing.');
  }
  const out = mkdtempSync(join(tmpdir(), 'dcnet-pack-'));
  const json = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', out], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [{ filename }] = JSON.parse(json) as Array<{ filename: string }>;
  tarball = join(out, filename);
  process.once('exit', () => rmSync(out, { recursive: true, force: true }));
  return tarball;
}

function run(command: string, args: string[], cwd: string): RunResult {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A fresh project (an ES module package) with the packed package installed. */
export function packedProject(): PackedProject {
  const file = packTarball();
  const dir = mkdtempSync(join(tmpdir(), 'dcnet-project-'));
  const modules = join(dir, 'node_modules');
  const packageDir = join(modules, PKG.name);
  mkdirSync(packageDir, { recursive: true });
  execFileSync('tar', ['-xzf', file, '-C', packageDir, '--strip-components=1']);
  // The package's dependencies, as an install would put them beside it; theirs resolve from
  // their real location in this repository.
  for (const dep of Object.keys({ ...PKG.dependencies, ...PKG.optionalDependencies })) {
    const source = join(REPO_ROOT, 'node_modules', dep);
    if (!existsSync(source)) continue; // an optional dependency that did not install
    mkdirSync(dirname(join(modules, dep)), { recursive: true });
    symlinkSync(source, join(modules, dep), 'dir');
  }
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'packed-project', private: true, type: 'module', dependencies: { [PKG.name]: `file:${file}` } }, null, 2),
  );
  return {
    dir,
    packageDir,
    runScript(name, source, args = []) {
      const path = join(dir, name);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, source);
      return run(process.execPath, [path, ...args], dir);
    },
    runBin(name, args) {
      const bin = (JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin[name];
      if (!bin) throw new Error(`the package has no bin '${name}'`);
      return run(process.execPath, [join(packageDir, bin), ...args], dir);
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
