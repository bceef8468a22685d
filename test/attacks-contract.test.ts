// The attack contract, over every registered attack.
import { describe, expect, it } from 'vitest';
import { listAttacks } from '../attacks/index.js';
import { checkAttackContract, CONTRACT, usableInTraining } from '../attacks/contract-test.js';

// Only what keeps the suite fast; every other parameter is the attack's default.
const FAST: Record<string, Record<string, unknown>> = {
  square: { queries: 100 },
  pgd: { steps: 10, relStepSize: 0.25 },
  'apgd-ce': { steps: 20 },
  'apgd-dlr': { steps: 20 },
  'apgd-t': { steps: 20, targets: 2 },
  'fab-t': { steps: 20, targets: 2 },
  autoattack: { steps: 10, targets: 2, fabSteps: 10, queries: 100 },
};

describe('every registered attack passes the contract', () => {
  for (const def of listAttacks()) {
    it(def.name, () => {
      const checks = checkAttackContract(def.name, { params: FAST[def.name] });
      const failed = checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.detail}`);
      expect(failed).toEqual([]);
      expect(checks.length).toBeGreaterThanOrEqual(7);
      // Attacks usable in training run inside training loops: the kit holds them to no read-back.
      expect(checks.some((c) => c.name === CONTRACT.readback)).toBe(usableInTraining(def));
    });
  }
});
