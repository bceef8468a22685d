// The training recipe a profile asks of each model, and whether a trained model's manifest
// matches it: shared by reuse from the run's zoo and by the committed (published) models.
import { parseZooId, recipeMismatch, resolveRecipe, type RecipeOverrides, type ZooManifest } from '../../models/zoo/index.js';
import type { BenchProfile } from './profile.js';

export function trainOverrides(profile: BenchProfile, training: string): RecipeOverrides {
  return {
    epochs: profile.train.epochs,
    batchSize: profile.train.batch,
    learningRate: profile.train.lr,
    ...(training === 'standard' ? {} : { epsilon: profile.train.eps }),
    ...(profile.train.limit ? { trainLimit: profile.train.limit } : {}),
  };
}

/** How a trained model's recipe differs from the profile's for that id (epochs included); undefined if it does not. */
export function profileRecipeMismatch(manifest: ZooManifest, profile: BenchProfile, id: string): string | undefined {
  const wanted = resolveRecipe(parseZooId(id), trainOverrides(profile, parseZooId(id).training));
  return (
    recipeMismatch(manifest.recipe, wanted) ??
    (manifest.recipe.epochs !== wanted.epochs ? `epochs: zoo ${manifest.recipe.epochs}, profile ${wanted.epochs}` : undefined)
  );
}
