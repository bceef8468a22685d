// The one place attacks are registered. Adding an attack: write its module, add it here.
import { apgdCe } from './apgd-ce.js';
import { apgdDlr } from './apgd-dlr.js';
import { apgdT } from './apgd-t.js';
import { autoAttack } from './autoattack.js';
import { bim } from './bim.js';
import { fabT } from './fab-t.js';
import { fgsm } from './fgsm.js';
import { miFgsm } from './mi-fgsm.js';
import { pgd } from './pgd.js';
import { rfgsm } from './rfgsm.js';
import { square } from './square.js';
import { AttackError, type AttackDefinition } from './types.js';

const REGISTRY = new Map<string, AttackDefinition>();

export function registerAttack(def: AttackDefinition): void {
  if (REGISTRY.has(def.name)) throw new AttackError(`An attack named '${def.name}' is already registered.`);
  REGISTRY.set(def.name, def);
}

for (const def of [fgsm, rfgsm, bim, pgd, miFgsm, square, apgdCe, apgdDlr, apgdT, fabT, autoAttack]) registerAttack(def);

export function attackNames(): string[] {
  return [...REGISTRY.keys()];
}

export function listAttacks(): AttackDefinition[] {
  return [...REGISTRY.values()];
}

export function getAttack(name: string): AttackDefinition {
  const def = REGISTRY.get(name.toLowerCase());
  if (!def) throw new AttackError(`Unknown attack '${name}'. Registered attacks: ${attackNames().join(', ')}.`);
  return def;
}
