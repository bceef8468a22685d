// A mistake in a benchmark profile or its overrides: printed by the CLI as one line.
export class ProfileError extends Error {
  override name = 'ProfileError';
}
