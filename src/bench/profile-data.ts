// The checks of a profile that need its dataset: read before the first cell, so a missing or
// damaged file or an `evaluation.n` beyond the test split stops the run at once.
import { DataError } from '../data/errors.js';
import { datasetSpec, type Split } from '../data/datasets.js';
import { ProfileError } from './profile-error.js';
import type { BenchProfile } from './profile.js';

/** Examples in one split of the profile's dataset (the files are read and checked). */
export function splitSize(profile: BenchProfile, split: Split): number {
  const spec = datasetSpec(profile.dataset);
  const dir = profile.data ?? spec.defaultDir;
  if (dir === undefined) throw new DataError(`The dataset ${profile.dataset} has no default location. ${spec.hint}`);
  return spec.read(dir, split).labels.length;
}

/** Refuses an `evaluation.n` the test split cannot give; returns the test split's size. */
export function checkProfileData(profile: BenchProfile): number {
  const test = splitSize(profile, 'test');
  if (profile.evaluation.n > test) {
    throw new ProfileError(
      `Profile ${profile.name}: evaluation.n is ${profile.evaluation.n} but the ${profile.dataset} test split holds ${test} images: ` +
        `lower it (e.g. --set evaluation.n=${test}).`,
    );
  }
  return test;
}
