// Checks an attack definition's shape before it is registered: built-in attacks and
// plugins from other people's code go through the same gate, so a bad declaration fails
// with one line naming the field, not deep inside a run.
import { checkValue } from './params.js';
import { AttackError, type AttackDefinition } from './types.js';

/** Lower-case words joined by '-': usable in `--attack a,b` and `transfer:<name>`. */
const NAME = /^[a-z0-9]+(?:[-_.][a-z0-9]+)*$/;
const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PARAM_TYPES = ['int', 'number', 'boolean', 'choice'];

function oneOf(where: string, field: string, value: unknown, allowed: readonly unknown[]): void {
  if (!allowed.includes(value)) {
    throw new AttackError(`${where}: '${field}' must be ${allowed.map((a) => JSON.stringify(a)).join(' or ')}, got ${JSON.stringify(value)}.`);
  }
}

function checkParams(where: string, name: string, params: unknown): void {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw new AttackError(`${where}: 'params' must be an object of parameter declarations ({} for none).`);
  }
  for (const [key, spec] of Object.entries(params as Record<string, unknown>)) {
    const at = `${where}: parameter '${key}'`;
    if (!PARAM_NAME.test(key)) throw new AttackError(`${at}: the name must be an identifier (letters, digits, '_').`);
    if (typeof spec !== 'object' || spec === null) throw new AttackError(`${at}: must be an object {type, default?, min?, max?, choices?, help}.`);
    const s = spec as Record<string, unknown>;
    oneOf(at, 'type', s.type, PARAM_TYPES);
    if (typeof s.help !== 'string' || !s.help.trim()) throw new AttackError(`${at}: 'help' must be a non-empty string.`);
    for (const bound of ['min', 'max'] as const) {
      const b = s[bound];
      if (b === undefined) continue;
      if (s.type === 'boolean') throw new AttackError(`${at}: a boolean parameter has no '${bound}'.`);
      if (typeof b !== 'number' || !Number.isFinite(b)) throw new AttackError(`${at}: '${bound}' must be a finite number, got ${JSON.stringify(b)}.`);
    }
    if (s.type === 'choice') {
      const c = s.choices;
      if (!Array.isArray(c) || c.length === 0 || !c.every((v) => typeof v === 'string')) {
        throw new AttackError(`${at}: a choice parameter needs 'choices', a non-empty list of strings.`);
      }
      if (s.min !== undefined || s.max !== undefined) throw new AttackError(`${at}: a choice parameter has no 'min' or 'max'.`);
    } else if (s.choices !== undefined) {
      throw new AttackError(`${at}: only a choice parameter has 'choices'.`);
    }
    if (typeof s.min === 'number' && typeof s.max === 'number' && s.min > s.max) {
      throw new AttackError(`${at}: 'min' ${s.min} is above 'max' ${s.max}.`);
    }
    const unknown = Object.keys(s).filter((k) => !['type', 'default', 'min', 'max', 'choices', 'help'].includes(k));
    if (unknown.length) throw new AttackError(`${at}: unknown field(s) ${unknown.join(', ')}; allowed: type, default, min, max, choices, help.`);
    // The default must itself be a valid value (the message names the attack and parameter).
    if (s.default !== undefined) checkValue(name, key, spec as Parameters<typeof checkValue>[2], s.default);
  }
}

/**
 * Refuses a definition that cannot work: `where` names it in the message (a plugin's file,
 * or the built-in registry).
 */
export function validateDefinition(def: unknown, where: string): asserts def is AttackDefinition {
  if (typeof def !== 'object' || def === null) throw new AttackError(`${where}: an attack definition must be an object.`);
  const d = def as Record<string, unknown>;
  if (typeof d.name !== 'string' || !NAME.test(d.name)) {
    throw new AttackError(
      `${where}: attack name ${JSON.stringify(d.name)} must be lower-case letters and digits joined by '-', '_' or '.' (e.g. 'my-fgsm').`,
    );
  }
  const at = `${where}: attack '${d.name}'`;
  oneOf(at, 'norm', d.norm, ['linf']);
  oneOf(at, 'needs', d.needs, ['gradients', 'outputs']);
  oneOf(at, 'iterative', d.iterative, [true, false]);
  oneOf(at, 'randomized', d.randomized, [true, false]);
  if (typeof d.description !== 'string' || !d.description.trim()) throw new AttackError(`${at}: 'description' must be a non-empty string.`);
  if (typeof d.run !== 'function') throw new AttackError(`${at}: 'run' must be a function run(ctx) returning the adversarial batch.`);
  if (d.validate !== undefined && typeof d.validate !== 'function') throw new AttackError(`${at}: 'validate' must be a function when given.`);
  checkParams(at, d.name, d.params);
}
