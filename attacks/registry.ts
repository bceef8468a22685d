// The one place attacks are registered: the built-in attacks here, and plugins
// (`plugins.ts`) through `registerAttacks`. Every definition is validated on the way in.
import { apgdCe } from './apgd-ce.js';
import { apgdDlr } from './apgd-dlr.js';
import { apgdT } from './apgd-t.js';
import { autoAttack } from './autoattack.js';
import { bim } from './bim.js';
import { validateDefinition } from './definition.js';
import { fabT } from './fab-t.js';
import { fgsm } from './fgsm.js';
import { miFgsm } from './mi-fgsm.js';
import { pgd } from './pgd.js';
import { rfgsm } from './rfgsm.js';
import { square } from './square.js';
import { AttackError, type AttackDefinition } from './types.js';

export const BUILT_IN = 'built-in';

/** Each attack with where it came from: BUILT_IN or a plugin's path. */
const REGISTRY = new Map<string, { def: AttackDefinition; origin: string }>();

const describeOrigin = (origin: string) => (origin === BUILT_IN ? 'the built-in attack' : `the attack of plugin ${origin} named`);

/**
 * Registers several attacks at once, or none: every definition is checked and every name
 * compared with the registry (and the others) before the first is added.
 */
export function registerAttacks(defs: AttackDefinition[], origin: string): void {
  const names = new Map<string, AttackDefinition>();
  for (const def of defs) {
    validateDefinition(def, origin === BUILT_IN ? 'built-in attacks' : `Plugin ${origin}`);
    const taken = REGISTRY.get(def.name);
    if (taken && !(taken.def === def && taken.origin === origin)) {
      throw new AttackError(
        `${origin === BUILT_IN ? 'Built-in' : `Plugin ${origin}:`} attack '${def.name}' clashes with ${describeOrigin(taken.origin)} '${def.name}': give it another name.`,
      );
    }
    if (names.has(def.name) && names.get(def.name) !== def) {
      throw new AttackError(`Plugin ${origin} defines two different attacks named '${def.name}': give them distinct names.`);
    }
    names.set(def.name, def);
  }
  for (const def of names.values()) REGISTRY.set(def.name, { def, origin });
}

/** One attack, e.g. from a script; `origin` names the caller in error messages. */
export function registerAttack(def: AttackDefinition, origin = 'registerAttack()'): void {
  registerAttacks([def], origin);
}

registerAttacks([fgsm, rfgsm, bim, pgd, miFgsm, square, apgdCe, apgdDlr, apgdT, fabT, autoAttack], BUILT_IN);

export function attackNames(): string[] {
  return [...REGISTRY.keys()];
}

export function listAttacks(): AttackDefinition[] {
  return [...REGISTRY.values()].map((e) => e.def);
}

/** BUILT_IN, or the path of the plugin that registered the attack. */
export function attackOrigin(name: string): string {
  return REGISTRY.get(name)?.origin ?? BUILT_IN;
}

export function getAttack(name: string): AttackDefinition {
  const entry = REGISTRY.get(name.toLowerCase());
  if (!entry) {
    throw new AttackError(
      `Unknown attack '${name}'. Registered attacks: ${attackNames().join(', ')}. ` +
        `(An attack from a plugin needs --plugin <module>, or 'plugins' in the profile.)`,
    );
  }
  return entry.def;
}
