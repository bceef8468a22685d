// Attack plugins: a module outside this package that exports AttackDefinitions or a
// `register(api)` function. Loaded before any work (CLI, every bench worker, check-attack)
// and recorded by path and sha256, so a result says which code produced it.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tf } from '../src/tf.js';
import { VERSION } from '../src/version.js';
import { iterationParams, stepSizeParams } from './params.js';
import { registerAttacks } from './registry.js';
import { AttackError, type AttackDefinition } from './types.js';

/** What a run folder, a result and a report keep about one plugin. */
export interface PluginRecord {
  /** The package name, or the file name of a plain module. */
  name: string;
  /** The resolved file that was imported. */
  path: string;
  sha256: string;
  /** The attacks it registered. */
  attacks: string[];
}

/** What `register(api)` receives. */
export interface PluginApi {
  registerAttack(def: AttackDefinition): void;
  /** The toolkit's TF.js (the same instance its attacks and models use). */
  tf: typeof tf;
  iterationParams: typeof iterationParams;
  stepSizeParams: typeof stepSizeParams;
  version: string;
}

/** A user's plugin module cannot be used; always one line, before any work. */
export class PluginError extends AttackError {}

/** A path (./x.js, ../x.mjs, /abs/x.js) rather than a package name. */
function isPathSpec(spec: string): boolean {
  return spec.startsWith('.') || isAbsolute(spec) || /\.(m?js|cjs)$/.test(spec);
}

/** The file a plugin spec names; paths are relative to `base` (the cwd, or the profile's folder). */
export function resolvePlugin(spec: string, base: string): { name: string; path: string } {
  if (typeof spec !== 'string' || !spec.trim()) throw new PluginError('A plugin must be a file path or a package name, got an empty string.');
  if (isPathSpec(spec)) {
    const path = resolve(base, spec);
    if (!existsSync(path) || !statSync(path).isFile()) {
      throw new PluginError(`Plugin ${spec}: no such file (${path}). Give the path of a JavaScript module (relative paths start from ${base}).`);
    }
    return { name: basename(path), path };
  }
  try {
    // Package names resolve as Node would from `base` (its node_modules and those above).
    return { name: spec, path: createRequire(join(base, 'noop.js')).resolve(spec) };
  } catch (err) {
    throw new PluginError(
      `Plugin ${spec}: cannot find the package from ${base} (${(err as Error).message.split('\n')[0]}). ` +
        `Install it (npm install ${spec}) or give a file path such as ./${spec}.js.`,
    );
  }
}

function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Exports that claim to be attacks (objects with a `run`), nothing else. */
function exportedDefinitions(mod: Record<string, unknown>): AttackDefinition[] {
  const out = new Set<AttackDefinition>();
  for (const value of Object.values(mod)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (typeof v === 'object' && v !== null && 'run' in v) out.add(v as AttackDefinition);
    }
  }
  return [...out];
}

/** Plugins already loaded in this process, by path (loading twice is a no-op). */
const LOADED = new Map<string, PluginRecord>();

async function loadOne(spec: string, base: string): Promise<PluginRecord> {
  const { name, path } = resolvePlugin(spec, base);
  const sha256 = sha256File(path);
  const previous = LOADED.get(path);
  if (previous) {
    if (previous.sha256 !== sha256) throw new PluginError(`Plugin ${path} changed on disk since it was loaded (sha256 ${previous.sha256.slice(0, 12)}… then, ${sha256.slice(0, 12)}… now).`);
    return previous;
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (err) {
    throw new PluginError(`Plugin ${path} failed to load: ${(err as Error).message.split('\n')[0]}`);
  }
  const defs = exportedDefinitions(mod);
  const register = mod.register ?? (mod.default as Record<string, unknown> | undefined)?.register;
  if (typeof register === 'function') {
    const api: PluginApi = { registerAttack: (def) => void defs.push(def), tf, iterationParams, stepSizeParams, version: VERSION };
    try {
      await register(api);
    } catch (err) {
      throw new PluginError(`Plugin ${path}: register(api) threw: ${(err as Error).message}`);
    }
  }
  if (defs.length === 0) {
    throw new PluginError(
      `Plugin ${path} exports nothing usable: export an attack definition ({ name, norm, needs, iterative, randomized, description, params, run }) ` +
        `or a function register(api) that calls api.registerAttack(...).`,
    );
  }
  try {
    registerAttacks(defs, path);
  } catch (err) {
    // The registry's checks (declarations, name clashes) say what is wrong; say it as a plugin error.
    throw err instanceof AttackError && !(err instanceof PluginError) ? new PluginError(err.message) : err;
  }
  const record: PluginRecord = { name, path, sha256, attacks: [...new Set(defs.map((d) => d.name))] };
  LOADED.set(path, record);
  return record;
}

/** Loads plugins in order; the first unusable one stops everything with one line. */
export async function loadPlugins(specs: readonly string[], base: string = process.cwd()): Promise<PluginRecord[]> {
  const records: PluginRecord[] = [];
  for (const spec of specs) {
    const r = await loadOne(spec, base);
    if (!records.some((x) => x.path === r.path)) records.push(r);
  }
  return records;
}

/**
 * A worker loads the plugins the main process recorded; a file that changed in between
 * (another hash) is refused, so every cell of a run uses the same code.
 */
export async function loadRecordedPlugins(records: readonly PluginRecord[]): Promise<void> {
  for (const r of records) {
    const now = existsSync(r.path) ? sha256File(r.path) : 'missing';
    if (now !== r.sha256) {
      throw new PluginError(`Plugin ${r.path} changed during the run (sha256 ${r.sha256.slice(0, 12)}… at the start, ${now.slice(0, 12)} now): rerun to resume with one version.`);
    }
    await loadOne(r.path, '/');
  }
}

/** The loaded plugin that registered an attack; undefined for a built-in attack. */
export function pluginOfAttack(attack: string): PluginRecord | undefined {
  return [...LOADED.values()].find((r) => r.attacks.includes(attack));
}
