// The training recipe a profile asks of each model, and whether a trained model's manifest
// matches it: shared by reuse from the run's zoo and by the committed (published) models.
import { parseZooId, recipeMismatch, resolveRecipe, type RecipeOverrides, type ZooManifest } from '../../models/zoo/index.js';
import type { BenchProfile } from './profile.js';
import { parseOperatorId, usesRadius } from '../ops/options.js';

/**
 * The recipe settings the profile gives model `id`. The learnable radius goes to the
 * operators that use a radius: the study's own models take `train.learnableRadius`, the
 * ablation's (another architecture) `ablation.learnableRadius` (default: fixed).
 */
export function trainOverrides(profile: BenchProfile, id: string): RecipeOverrides {
  const zid = parseZooId(id);
  const learnable =
    zid.architecture === profile.architecture ? profile.train.learnableRadius : zid.architecture === profile.ablation?.architecture ? profile.ablation.learnableRadius : undefined;
  const radiusOperator = zid.operator !== 'standard' && usesRadius(parseOperatorId(zid.operator));
  return {
    epochs: profile.train.epochs,
    batchSize: profile.train.batch,
    learningRate: profile.train.lr,
    ...(zid.training === 'standard' ? {} : { epsilon: profile.train.eps }),
    ...(profile.train.limit ? { trainLimit: profile.train.limit } : {}),
    ...(learnable && radiusOperator ? { operatorOptions: { learnableRadius: true } } : {}),
  };
}

/** How a trained model's recipe differs from the profile's for that id (epochs included); undefined if it does not. */
export function profileRecipeMismatch(manifest: ZooManifest, profile: BenchProfile, id: string): string | undefined {
  const wanted = resolveRecipe(parseZooId(id), trainOverrides(profile, id));
  return (
    recipeMismatch(manifest.recipe, wanted) ??
    (manifest.recipe.epochs !== wanted.epochs ? `epochs: zoo ${manifest.recipe.epochs}, profile ${wanted.epochs}` : undefined)
  );
}
