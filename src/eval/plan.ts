// What an evaluation will run: validated attack requests, labels, auxiliary check runs.
import { AttackError, checkEpsilon, getAttack, logitsOf, resolveParams, type LogitsFn, type ParamValues } from '../../attacks/index.js';
import type { tf } from '../tf.js';
import type { AttackKind } from './types.js';

export interface AttackRequest {
  /** Registered attack name (fgsm, rfgsm, bim, pgd, mi-fgsm, square). */
  name: string;
  /** Linf epsilons in [0, 1] pixel units. */
  epsilons: number[];
  params?: Record<string, unknown>;
  /** Compute the examples on `source` and evaluate them on the model (black-box transfer). */
  transfer?: boolean;
  /** Transfer from another source: 1 is the first of `extraSources` (default 0: `source`). */
  sourceIndex?: number;
}

export interface ModelRef {
  model?: tf.LayersModel;
  logits?: LogitsFn;
  /** Name used in the result (zoo id or directory). */
  name?: string;
}

export interface Plan {
  label: string;
  attack: string;
  kind: AttackKind;
  iterative: boolean;
  /** Added by the engine for a sanity check, not requested. */
  auxiliary: boolean;
  params: ParamValues;
  /** Distinct, ascending. */
  epsilons: number[];
  /** Transfer only: which source (0: the evaluation's `source`, i: its extraSources[i - 1]). */
  sourceIndex?: number;
}

export function resolveModel(ref: ModelRef, what: string): LogitsFn {
  const m = ref.model ?? ref.logits;
  if (!m) throw new AttackError(`No ${what} given: pass a tf.LayersModel (model) or a logits function (logits).`);
  return logitsOf(m);
}

/** The label of an attack in results: its name and the parameters given, e.g. `pgd(steps=20,restarts=2)`. */
export function attackLabel(name: string, params: Record<string, unknown> | undefined, transferSource?: string): string {
  const given = Object.entries(params ?? {}).map(([k, v]) => `${k}=${v}`);
  const base = given.length ? `${name}(${given.join(',')})` : name;
  return transferSource !== undefined ? `transfer:${base} from ${transferSource}` : base;
}

function planFor(req: AttackRequest, sources: ModelRef[]): Plan {
  const index = req.sourceIndex ?? 0;
  const source = sources[index];
  const sourceName = source?.name ?? (index === 0 ? 'source' : `source ${index}`);
  const hasSource = source !== undefined;
  const def = getAttack(req.name);
  const params = resolveParams(def, req.params);
  if (req.transfer && 'earlyStop' in def.params) {
    // Early stop is judged on the source: examples would stop just across the source's
    // boundary and transfer poorly. Examples made for transfer run every step on every point.
    if (req.params?.earlyStop === true) {
      throw new AttackError(`Transfer attack '${def.name}': earlyStop must stay off (it is judged on the source and weakens transfer); remove earlyStop.`);
    }
    params.earlyStop = false;
  }
  if (!Array.isArray(req.epsilons) || req.epsilons.length === 0) throw new AttackError(`Attack '${def.name}': give at least one epsilon.`);
  req.epsilons.forEach(checkEpsilon);
  if (req.transfer && !hasSource) {
    throw new AttackError(`Attack '${def.name}' is a transfer attack but no source model was given${index > 0 ? ` (source ${index}: pass it in extraSources)` : ''}.`);
  }
  const kind: AttackKind = req.transfer ? 'transfer' : def.needs === 'outputs' ? 'score-based' : 'white-box';
  return {
    label: attackLabel(def.name, req.params, req.transfer ? sourceName : undefined),
    attack: def.name,
    kind,
    iterative: def.iterative,
    auxiliary: false,
    params,
    epsilons: [...new Set(req.epsilons)].sort((a, b) => a - b),
    ...(req.transfer && index > 0 ? { sourceIndex: index } : {}),
  };
}

/** The requested plans, plus an FGSM reference (check 4) where iterative attacks lack one. */
export function buildPlans(attacks: AttackRequest[], sources: Array<ModelRef | undefined> | ModelRef | undefined, withChecks: boolean): Plan[] {
  const list = (Array.isArray(sources) ? sources : [sources]) as ModelRef[];
  const plans = attacks.map((r) => planFor(r, list));
  const labels = plans.map((p) => p.label);
  const dup = labels.find((l, i) => labels.indexOf(l) !== i);
  if (dup) throw new AttackError(`Attack '${dup}' is requested twice with the same settings.`);
  const iterEps = plans.filter((p) => p.kind === 'white-box' && p.iterative).flatMap((p) => p.epsilons.filter((e) => e > 0));
  const fgsmEps = new Set(plans.filter((p) => p.kind === 'white-box' && p.attack === 'fgsm').flatMap((p) => p.epsilons));
  const missing = [...new Set(iterEps)].filter((e) => !fgsmEps.has(e)).sort((a, b) => a - b);
  if (withChecks && missing.length) {
    plans.push({ ...planFor({ name: 'fgsm', epsilons: missing }, []), label: 'fgsm (reference)', auxiliary: true });
  }
  return plans;
}

/** Random-noise draws per epsilon: cheap (forward passes only), enough for a worst case and a mean. */
export const NOISE_DRAWS = 5;

/** Epsilons of the random-noise baseline (check 7 and the noise row): every positive requested epsilon. */
export function noiseEpsilons(plans: Plan[], withChecks: boolean): number[] {
  if (!withChecks) return [];
  const eps = plans.filter((p) => !p.auxiliary).flatMap((p) => p.epsilons);
  return [...new Set(eps)].filter((e) => e > 0).sort((a, b) => a - b);
}
