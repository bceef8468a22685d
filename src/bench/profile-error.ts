// A mistake in a benchmark profile or its overrides: printed by the CLI as one line.
import { UserError } from '../errors.js';

export class ProfileError extends UserError {
  override name = 'ProfileError';
}
