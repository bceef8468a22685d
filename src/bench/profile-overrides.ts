// Profile overrides for any profile: a JSON merge patch (RFC 7396: objects merge, arrays and
// values replace, null deletes) and `--set dotted.path=value` edits, applied in that order.
// The result is validated like any profile, so a mistyped key is caught by the schema.
import { existsSync, readFileSync } from 'node:fs';
import { ProfileError } from './profile-error.js';

export interface ProfileOverrides {
  /** A merge patch: inline JSON (starting with '{') or a JSON file. */
  patch?: string;
  /** `key=value` edits; the value is JSON when it parses as JSON (1, true, [..]), else a string. */
  set?: string[];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function readPatch(arg: string): unknown {
  const inline = arg.trimStart().startsWith('{');
  if (!inline && !existsSync(arg)) throw new ProfileError(`--patch '${arg}': no such file, and not inline JSON (it must start with '{').`);
  try {
    const patch = JSON.parse(inline ? arg : readFileSync(arg, 'utf8')) as unknown;
    if (!isObject(patch)) throw new Error('a merge patch must be a JSON object');
    return patch;
  } catch (err) {
    throw new ProfileError(`--patch ${inline ? '(inline)' : arg} is not a JSON object: ${(err as Error).message}`);
  }
}

/** Parses `a.b.0.c=value`. */
export function parseSet(arg: string): { path: string[]; value: Json } {
  const eq = arg.indexOf('=');
  const key = eq > 0 ? arg.slice(0, eq) : '';
  const path = key.split('.');
  if (eq <= 0 || path.some((p) => p === '')) {
    throw new ProfileError(`--set '${arg}': expected key=value with a dotted key, e.g. --set train.epochs=1 or --set evaluation.whiteBox.1.params.steps=3.`);
  }
  const text = arg.slice(eq + 1);
  let value: Json;
  try {
    value = JSON.parse(text) as Json;
  } catch {
    value = text;
  }
  return { path, value };
}

function setPath(root: unknown, arg: string): void {
  const { path, value } = parseSet(arg);
  let node = root;
  for (const [i, seg] of path.entries()) {
    const last = i === path.length - 1;
    const where = path.slice(0, i).join('.') || '(top level)';
    if (Array.isArray(node)) {
      const index = Number(seg);
      if (!Number.isInteger(index) || index < 0 || index > node.length) {
        throw new ProfileError(`--set ${path.join('.')}: ${where} is a list of ${node.length}; '${seg}' is not an index 0..${node.length}.`);
      }
      if (last) node[index] = value;
      else node = node[index] ??= {};
    } else if (isObject(node)) {
      if (last) node[seg] = value;
      else node = node[seg] ??= {};
    } else {
      throw new ProfileError(`--set ${path.join('.')}: ${where} is ${JSON.stringify(node)}, not an object or list.`);
    }
  }
}

/** The profile with the overrides applied (the input itself when there are none). */
export function applyOverrides(profile: unknown, o: ProfileOverrides): unknown {
  if (o.patch === undefined && !o.set?.length) return profile;
  let out = structuredClone(profile);
  if (o.patch !== undefined) out = mergePatch(out, readPatch(o.patch));
  for (const s of o.set ?? []) setPath(out, s);
  return out;
}
